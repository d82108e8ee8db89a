"""The pure parts of the security and resource flags: capability names and sets (Docker's
rules), `--ulimit` parsing, and what `--privileged`, `--read-only`, `--pids-limit` and the
process settings put in the runtime spec."""

from __future__ import annotations

import pytest

from runtime_client.container_errors import InvalidOptionError
from runtime_client.runtime.capabilities import (
    CAPABILITY_NAMES,
    DEFAULT_CAPABILITIES,
    effective_capabilities,
    names_from_mask,
    normalize_capabilities,
)
from runtime_client.runtime.seccomp import no_new_privileges
from runtime_client.runtime.spec import (
    MASKED_PATHS,
    ContainerSpec,
    ProcessSpec,
    build_spec,
    process_dict,
)
from runtime_client.runtime.ulimits import RLIM_INFINITY, parse_ulimits, spec_rlimits

EVERYTHING = CAPABILITY_NAMES


def test_capability_names_normalise_like_dockers_cli() -> None:
    assert normalize_capabilities(["net_admin", "CAP_SYS_TIME", "Net_Admin"], "CapAdd") == [
        "CAP_NET_ADMIN", "CAP_SYS_TIME"]
    # As Docker's CLI sends them: ALL is kept beside the others, sorted first.
    assert normalize_capabilities(["chown", "all"], "CapDrop") == ["ALL", "CAP_CHOWN"]
    assert normalize_capabilities([], "CapAdd") == []


@pytest.mark.parametrize(("field", "value", "shown"), [
    ("CapAdd", "foo", "CAP_FOO"), ("CapDrop", "CAP_NOPE", "CAP_NOPE"),
    ("CapAdd", " chown", "CAP_ CHOWN"),
])
def test_unknown_capability_is_refused_with_dockers_message(field: str, value: str,
                                                            shown: str) -> None:
    with pytest.raises(InvalidOptionError) as caught:
        normalize_capabilities([value], field)
    assert str(caught.value) == f'invalid {field}: unknown capability: "{shown}"'


def test_effective_set_follows_dockerd() -> None:
    assert effective_capabilities([], [], False, EVERYTHING) == list(DEFAULT_CAPABILITIES)
    dropped = effective_capabilities([], ["CAP_CHOWN"], False, EVERYTHING)
    assert "CAP_CHOWN" not in dropped and len(dropped) == len(DEFAULT_CAPABILITIES) - 1
    added = effective_capabilities(["CAP_NET_ADMIN"], [], False, EVERYTHING)
    assert added == [*DEFAULT_CAPABILITIES, "CAP_NET_ADMIN"]
    # Added and dropped: dockerd drops first, then adds.
    assert "CAP_CHOWN" in effective_capabilities(["CAP_CHOWN"], ["CAP_CHOWN"], False,
                                                 EVERYTHING)
    assert effective_capabilities([], ["ALL"], False, EVERYTHING) == []
    assert effective_capabilities(["CAP_KILL"], ["ALL", "CAP_CHOWN"], False,
                                  EVERYTHING) == ["CAP_KILL"]
    assert effective_capabilities(["ALL"], ["CAP_NET_RAW"], False, EVERYTHING) == [
        c for c in EVERYTHING if c != "CAP_NET_RAW"]
    assert effective_capabilities([], ["ALL"], True, EVERYTHING) == list(EVERYTHING)


def test_all_and_privileged_stop_at_what_the_host_can_grant() -> None:
    host = [c for c in EVERYTHING if c != "CAP_SYS_RESOURCE"]
    assert effective_capabilities([], [], True, host) == host
    assert "CAP_SYS_RESOURCE" not in effective_capabilities(["ALL"], [], False, host)


def test_capability_masks_decode() -> None:
    assert names_from_mask(0xa80425fb) == sorted(DEFAULT_CAPABILITIES,
                                                 key=CAPABILITY_NAMES.index)
    assert names_from_mask(1 << 63 | 1) == ["CAP_CHOWN"]


def test_ulimits_parse_like_docker() -> None:
    assert parse_ulimits(["nofile=1024:2048", "nproc=10", "core=-1", "nofile=20:30"]) == [
        {"Name": "core", "Soft": -1, "Hard": -1},
        {"Name": "nofile", "Soft": 20, "Hard": 30},
        {"Name": "nproc", "Soft": 10, "Hard": 10},
    ]
    assert spec_rlimits([{"Name": "core", "Soft": -1, "Hard": -1}]) == [
        {"type": "RLIMIT_CORE", "soft": RLIM_INFINITY, "hard": RLIM_INFINITY}]


@pytest.mark.parametrize(("value", "reason"), [
    ("nofile", "invalid ulimit argument: nofile"),
    ("foo=1", "invalid ulimit type: foo"),
    ("nofile=a", 'parsing "a": invalid syntax'),
    ("nofile=300:200", "ulimit soft limit must be less than or equal to hard limit: 300 > 200"),
    ("nofile=1:2:3", "too many limit value arguments - 1:2:3"),
])
def test_bad_ulimits_are_refused(value: str, reason: str) -> None:
    with pytest.raises(InvalidOptionError) as caught:
        parse_ulimits([value])
    assert str(caught.value).startswith(f'invalid argument "{value}" for "--ulimit" flag: ')
    assert reason in str(caught.value)


def test_no_new_privileges_last_option_wins() -> None:
    assert not no_new_privileges([])
    assert no_new_privileges(["seccomp=unconfined", "no-new-privileges"])
    assert not no_new_privileges(["no-new-privileges", "no-new-privileges:false"])


def test_process_carries_capabilities_no_new_privs_and_rlimits() -> None:
    proc = ProcessSpec(("true",), (), capabilities=("CAP_KILL",), no_new_privileges=True,
                       rlimits=({"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200},
                                {"type": "RLIMIT_NPROC", "soft": 5, "hard": 5}))
    raw = process_dict(proc)
    assert raw["capabilities"] == {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"],
                                   "permitted": ["CAP_KILL"]}
    assert raw["noNewPrivileges"] is True
    assert raw["rlimits"] == [{"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200},
                              {"type": "RLIMIT_NPROC", "soft": 5, "hard": 5}]
    # Without --ulimit nofile the default open-files limit stays.
    default = process_dict(ProcessSpec(("true",), (), nofile_hard_limit=4096))
    assert default["rlimits"] == [{"type": "RLIMIT_NOFILE", "hard": 4096, "soft": 4096}]


def _spec(**changes: object) -> dict[str, object]:
    return build_spec(ContainerSpec(process=ProcessSpec(("true",), ()), hostname="h",
                                    cgroups_path="/x", **changes))  # type: ignore[arg-type]


def test_default_spec_is_confined() -> None:
    spec = _spec()
    linux = spec["linux"]
    assert spec["root"] == {"path": "rootfs", "readonly": False}  # type: ignore[index]
    assert linux["maskedPaths"] == list(MASKED_PATHS)  # type: ignore[index]
    assert linux["resources"]["devices"] == [{"allow": False,  # type: ignore[index]
                                              "access": "rwm"}]
    assert "pids" not in linux["resources"]  # type: ignore[index]
    sysfs = next(m for m in spec["mounts"] if m["destination"] == "/sys")  # type: ignore[attr-defined]
    assert "ro" in sysfs["options"]


def test_privileged_read_only_and_pids_in_the_spec() -> None:
    device = {"path": "/dev/loop0", "type": "b", "major": 7, "minor": 0, "fileMode": 0o660,
              "uid": 0, "gid": 6}
    spec = _spec(privileged=True, readonly_rootfs=True, pids_limit=5, devices=[device])
    linux = spec["linux"]
    assert spec["root"] == {"path": "rootfs", "readonly": True}  # type: ignore[index]
    assert linux["maskedPaths"] == [] and linux["readonlyPaths"] == []  # type: ignore[index]
    assert linux["resources"]["devices"] == [{"allow": True,  # type: ignore[index]
                                              "access": "rwm"}]
    assert linux["resources"]["pids"] == {"limit": 5}  # type: ignore[index]
    assert linux["devices"] == [device]  # type: ignore[index]
    for target in ("/sys", "/sys/fs/cgroup"):
        mount = next(m for m in spec["mounts"]  # type: ignore[attr-defined]
                     if m["destination"] == target)
        assert "ro" not in mount["options"], target
