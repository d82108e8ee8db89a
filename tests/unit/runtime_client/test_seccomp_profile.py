"""The seccomp profile builder: berth's default filter, user profiles in the OCI shape and in
Docker's format, and the --security-opt values."""

from __future__ import annotations

import json
from typing import Any

import pytest

from runtime_client.container_errors import InvalidOptionError
from runtime_client.runtime.seccomp import (
    CLONE_NAMESPACE_FLAGS,
    default_profile,
    parse_security_opt,
    profile_from_json,
    seccomp_for,
)
from runtime_client.runtime.spec import (
    DEFAULT_CAPABILITIES,
    ContainerSpec,
    ProcessSpec,
    build_spec,
)

CLONE_NEWUSER = 0x10000000


def allowed_unconditionally(profile: dict[str, Any]) -> set[str]:
    return {name for rule in profile["syscalls"] if rule["action"] == "SCMP_ACT_ALLOW"
            and not rule.get("args") for name in rule["names"]}


def rules_for(profile: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [rule for rule in profile["syscalls"] if name in rule["names"]]


def test_default_profile_denies_with_eperm_and_allows_ordinary_calls() -> None:
    profile = default_profile(DEFAULT_CAPABILITIES, "x86_64")
    assert profile["defaultAction"] == "SCMP_ACT_ERRNO"
    assert profile["defaultErrnoRet"] == 1
    assert profile["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"]
    allowed = allowed_unconditionally(profile)
    assert {"read", "openat", "execve", "fork", "wait4", "futex", "mmap", "socketcall",
            "accept4", "epoll_wait", "rt_sigaction", "chroot"} <= allowed
    refused = {"unshare", "setns", "mount", "umount2", "pivot_root", "bpf", "perf_event_open",
               "keyctl", "add_key", "request_key", "init_module", "finit_module", "kexec_load",
               "reboot", "swapon", "settimeofday", "clock_settime", "acct", "open_by_handle_at",
               "userfaultfd", "io_uring_setup", "syslog", "mbind"}
    mentioned = {name for rule in profile["syscalls"] for name in rule["names"]}
    assert not refused & mentioned


def test_clone_is_allowed_only_without_namespace_flags_and_clone3_says_enosys() -> None:
    profile = default_profile(DEFAULT_CAPABILITIES, "x86_64")
    (clone,) = rules_for(profile, "clone")
    assert clone["action"] == "SCMP_ACT_ALLOW"
    (condition,) = clone["args"]
    assert condition["op"] == "SCMP_CMP_MASKED_EQ" and condition["index"] == 0
    assert condition["value"] == CLONE_NAMESPACE_FLAGS and condition["valueTwo"] == 0
    assert CLONE_NAMESPACE_FLAGS & CLONE_NEWUSER
    assert not CLONE_NAMESPACE_FLAGS & 0x00000100  # CLONE_VM: threads still work
    (clone3,) = rules_for(profile, "clone3")
    assert clone3 == {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}


def test_capabilities_unlock_their_calls() -> None:
    without = default_profile(("CAP_CHOWN",), "x86_64")
    assert "chroot" not in allowed_unconditionally(without)
    with_admin = default_profile(("CAP_SYS_ADMIN", "CAP_SYS_TIME"), "x86_64")
    allowed = allowed_unconditionally(with_admin)
    assert {"mount", "unshare", "setns", "clone", "clone3", "settimeofday"} <= allowed
    assert "reboot" not in allowed and "keyctl" not in allowed


def test_other_hosts_get_their_own_architectures() -> None:
    assert default_profile((), "aarch64")["architectures"] == ["SCMP_ARCH_AARCH64",
                                                               "SCMP_ARCH_ARM"]
    assert "architectures" not in default_profile((), "riscv64")


def test_spec_carries_the_filter_only_when_confined() -> None:
    base = {"process": ProcessSpec(("true",), ()), "hostname": "h", "cgroups_path": "/x"}
    assert "seccomp" not in build_spec(ContainerSpec(**base))["linux"]  # type: ignore[arg-type]
    profile = default_profile(DEFAULT_CAPABILITIES, "x86_64")
    spec = build_spec(ContainerSpec(**base, seccomp=profile))  # type: ignore[arg-type]
    assert spec["linux"]["seccomp"] == profile
    json.dumps(spec)


def test_oci_shaped_profile_passes_through() -> None:
    raw = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
           "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
                         "args": [{"index": 1, "value": 2, "op": "SCMP_CMP_EQ"}]}]}
    profile = profile_from_json(json.dumps(raw), DEFAULT_CAPABILITIES, "x86_64")
    assert profile == {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
                       "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO",
                                     "errnoRet": 13, "args": [{"index": 1, "value": 2,
                                                               "valueTwo": 0,
                                                               "op": "SCMP_CMP_EQ"}]}]}


def test_docker_format_profile_is_translated_for_this_host_and_capabilities() -> None:
    raw = {
        "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
        "archMap": [
            {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]},
            {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]},
        ],
        "syscalls": [
            {"name": "read", "action": "SCMP_ACT_ALLOW", "comment": "singular form"},
            {"names": ["chroot"], "action": "SCMP_ACT_ALLOW",
             "includes": {"caps": ["CAP_SYS_CHROOT"]}},
            {"names": ["mount"], "action": "SCMP_ACT_ALLOW",
             "includes": {"caps": ["CAP_SYS_ADMIN"]}},
            {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW",
             "includes": {"arches": ["amd64"]}},
            {"names": ["sync_file_range2"], "action": "SCMP_ACT_ALLOW",
             "includes": {"arches": ["arm64"]}},
            {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
             "excludes": {"caps": ["CAP_SYS_CHROOT"]}},
        ],
    }
    profile = profile_from_json(json.dumps(raw), DEFAULT_CAPABILITIES, "x86_64")
    assert profile["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"]
    assert profile["defaultErrnoRet"] == 1
    assert [rule["names"] for rule in profile["syscalls"]] == [["read"], ["chroot"],
                                                               ["arch_prctl"]]


@pytest.mark.parametrize("text", [
    "not json", "[]", '{"syscalls": []}', '{"defaultAction": "ALLOW"}',
    '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"action": "SCMP_ACT_ERRNO"}]}',
    '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["x"], "action": "nope"}]}',
    '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": {}}',
])
def test_malformed_profiles_are_refused(text: str) -> None:
    with pytest.raises(InvalidOptionError, match="Decoding seccomp profile failed"):
        profile_from_json(text, DEFAULT_CAPABILITIES, "x86_64")


def test_security_opt_values() -> None:
    assert parse_security_opt("seccomp=unconfined") == ("seccomp", "unconfined")
    assert parse_security_opt("seccomp:/p.json") == ("seccomp", "/p.json")
    assert parse_security_opt('seccomp={"a":"b=c"}') == ("seccomp", '{"a":"b=c"}')
    assert parse_security_opt("apparmor=unconfined") == ("apparmor", "unconfined")
    # dockerd records label=disable for --privileged; berth applies no SELinux labels anyway.
    assert parse_security_opt("label=disable") == ("label", "disable")
    assert parse_security_opt("no-new-privileges") == ("no-new-privileges", "true")
    assert parse_security_opt("no-new-privileges:false") == ("no-new-privileges", "false")
    assert parse_security_opt("no-new-privileges=TRUE") == ("no-new-privileges", "true")
    for bad in ("seccomp", "seccomp=", "apparmor=docker-default", "label=user:x", "nonsense",
                "no-new-privileges:maybe", "no-new-privileges="):
        with pytest.raises(InvalidOptionError, match="invalid --security-opt"):
            parse_security_opt(bad)


def test_stored_options_choose_the_filter() -> None:
    default = default_profile(DEFAULT_CAPABILITIES, "x86_64")
    assert seccomp_for([], DEFAULT_CAPABILITIES, "x86_64") == default
    assert seccomp_for(["apparmor=unconfined"], DEFAULT_CAPABILITIES, "x86_64") == default
    assert seccomp_for(["seccomp=unconfined"], DEFAULT_CAPABILITIES, "x86_64") is None
    stored = 'seccomp={"defaultAction":"SCMP_ACT_LOG"}'
    assert seccomp_for([stored], DEFAULT_CAPABILITIES, "x86_64") == {
        "defaultAction": "SCMP_ACT_LOG", "syscalls": []}
