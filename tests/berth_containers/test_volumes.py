"""Volumes with real containers (root only): named volumes keep data across containers,
an empty volume gets the image's files (copy-up), anonymous volumes go with `rm -v` and
`run --rm`, a used volume cannot be removed, `volume prune` asks and spares named volumes."""

from __future__ import annotations

import json

import pytest

from tests.support.berth_cli import BerthCli

pytestmark = [pytest.mark.root, pytest.mark.slow]


def _mounts(berth: BerthCli, container: str) -> list[dict[str, object]]:
    return json.loads(berth("inspect", "--format", "{{json .Mounts}}", container).stdout)


def test_named_volume_keeps_data_and_is_refused_while_used(clean: BerthCli, image: str) -> None:
    assert clean("volume", "create", "--label", "team=a", "keep").stdout == "keep\n"
    clean("run", "--name", "writer", "-v", "keep:/store", image, "sh", "-c",
         "echo kept > /store/f")
    # A stopped container still uses it: refused, with dockerd's message.
    refused = clean("volume", "rm", "keep", check=False)
    writer = clean("inspect", "-f", "{{.Id}}", "writer").stdout.strip()
    assert refused.returncode == 1
    assert refused.stderr == (f"Error response from daemon: remove keep: volume is in use - "
                              f"[{writer}]\n")
    read = clean("run", "--rm", "--mount", "type=volume,source=keep,target=/r,readonly",
                image, "sh", "-c", "cat /r/f; touch /r/g 2>/dev/null || echo read-only")
    assert read.stdout == "kept\nread-only\n"
    # `rm -v` and `--rm` never remove a named volume.
    clean("rm", "-v", "writer")
    info = json.loads(clean("volume", "inspect", "keep").stdout)
    assert list(info[0]) == ["CreatedAt", "Driver", "Labels", "Mountpoint", "Name", "Options",
                             "Scope"]
    assert info[0]["Labels"] == {"team": "a"} and info[0]["Mountpoint"] == str(
        clean.root / "volumes" / "keep" / "_data")
    assert (clean.root / "volumes" / "keep" / "_data" / "f").read_text() == "kept\n"
    assert clean("volume", "rm", "keep").stdout == "keep\n"
    missing = clean("volume", "rm", "keep", check=False)
    assert (missing.returncode, missing.stderr) == (
        1, "Error response from daemon: get keep: no such volume\n")
    assert clean("volume", "rm", "-f", "keep").returncode == 0


def test_new_volume_gets_the_image_files_once(clean: BerthCli, image: str) -> None:
    # -v NAME:/data on the image's /data (hello.txt, random.bin) creates and fills the volume.
    out = clean("run", "--rm", "-v", "seeded:/data", image, "sh", "-c",
               "ls /data; echo mine > /data/hello.txt; rm /data/random.bin").stdout
    assert out.split() == ["hello.txt", "random.bin"]
    # Not empty any more: no second copy, the user's changes stay.
    again = clean("run", "--rm", "-v", "seeded:/data", image, "sh", "-c",
                 "ls /data; cat /data/hello.txt").stdout
    assert again.split() == ["hello.txt", "mine"]
    # Mounted where the image has nothing, or with nocopy: empty.
    assert clean("run", "--rm", "-v", "fresh:/elsewhere", image, "ls", "-A",
                "/elsewhere").stdout == ""
    assert clean("run", "--rm", "--mount", "type=volume,source=plain,target=/data,"
                "volume-nocopy", image, "ls", "-A", "/data").stdout == ""


def test_anonymous_volumes_go_with_rm_v_and_run_rm(clean: BerthCli, image: str) -> None:
    before = set(clean("volume", "ls", "-q").stdout.split())
    clean("run", "--rm", "-v", "/scratch", "-v", "named-too:/n", image, "sh", "-c",
         "echo x > /scratch/x; echo y > /n/y")
    assert set(clean("volume", "ls", "-q").stdout.split()) == before | {"named-too"}
    clean("run", "--name", "anon", "-v", "/scratch", "--mount", "type=volume,target=/m",
         image, "sh", "-c", "echo x > /scratch/x")
    mounts = _mounts(clean, "anon")
    names = [str(m["Name"]) for m in mounts]
    assert [len(n) for n in names] == [64, 64] and all(int(n, 16) >= 0 for n in names)
    assert [(m["Type"], m["Destination"], m["Driver"], m["RW"], m["Mode"]) for m in mounts] == [
        ("volume", "/scratch", "local", True, ""), ("volume", "/m", "local", True, "z")]
    assert mounts[0]["Source"] == str(clean.root / "volumes" / names[0] / "_data")
    labels = clean("volume", "inspect", "-f", "{{json .Labels}}", names[0]).stdout
    assert labels == '{"com.docker.volume.anonymous":""}\n'
    clean("rm", "anon")  # without -v the anonymous volumes stay
    assert set(names) <= set(clean("volume", "ls", "-q").stdout.split())
    # Resolved once, at create: a restart finds the same anonymous volume.
    first = clean("run", "--name", "anon2", "-v", "/scratch", image, "sh", "-c",
                  "cat /scratch/x 2>/dev/null; echo again > /scratch/x").stdout
    assert first == ""
    assert clean("start", "-a", "anon2").stdout == "again\n"
    name2 = str(_mounts(clean, "anon2")[0]["Name"])
    clean("rm", "-v", "anon2")
    assert name2 not in clean("volume", "ls", "-q").stdout
    clean("volume", "rm", *names)


def test_image_volume_is_anonymous_and_seeded(clean: BerthCli, image: str) -> None:
    clean("create", "--name", "base", image, "true")
    clean("commit", "-c", "VOLUME /data", "base", "berth-test/with-volume:v1")
    try:
        clean("run", "--name", "from-image", "berth-test/with-volume:v1", "sh", "-c",
             "cat /data/hello.txt")
        assert clean("logs", "from-image").stdout == "hello from berth\n"
        mount = _mounts(clean, "from-image")[0]
        assert (mount["Destination"], len(str(mount["Name"]))) == ("/data", 64)
        volumes = clean("inspect", "-f", "{{json .Config.Volumes}}", "from-image").stdout
        assert volumes == '{"/data":{}}\n'
        # A user mount on the same path replaces the image's volume.
        out = clean("run", "--rm", "-v", "mine:/data", "berth-test/with-volume:v1", "sh", "-c",
                   "ls /data").stdout
        assert out.split() == ["hello.txt", "random.bin"]
        clean("rm", "-v", "from-image")
        assert mount["Name"] not in clean("volume", "ls", "-q").stdout
    finally:
        clean("rm", "-f", "base", "from-image", check=False)
        clean("rmi", "berth-test/with-volume:v1", check=False)


def test_volume_prune_asks_and_spares_named_volumes(clean: BerthCli, image: str) -> None:
    clean("volume", "create", "named-unused")
    clean("volume", "create", "--label", "keep=yes", "labelled")
    anonymous = clean("volume", "create").stdout.strip()
    clean("run", "--name", "user", "-v", "/held", image, "true")
    held = str(_mounts(clean, "user")[0]["Name"])
    asked = clean("volume", "prune", input=b"n\n")
    assert asked.stdout == ("WARNING! This will remove anonymous local volumes not used by at "
                            "least one container.\nAre you sure you want to continue? [y/N] ")
    assert anonymous in clean("volume", "ls", "-q").stdout
    pruned = clean("volume", "prune", input=b"y\n").stdout
    assert pruned.endswith(f"Deleted Volumes:\n{anonymous}\n\nTotal reclaimed space: 0B\n")
    left = set(clean("volume", "ls", "-q").stdout.split())
    assert {"named-unused", "labelled", held} <= left and anonymous not in left
    all_asked = clean("volume", "prune", "-a", input=b"").stdout
    assert all_asked.startswith("WARNING! This will remove all local volumes not used by at "
                                "least one container.\n")
    pruned = clean("volume", "prune", "-a", "-f", "--filter", "label!=keep").stdout
    assert pruned == "Deleted Volumes:\nnamed-unused\n\nTotal reclaimed space: 0B\n"
    assert clean("volume", "prune", "-af").stdout == ("Deleted Volumes:\nlabelled\n\n"
                                                     "Total reclaimed space: 0B\n")
    assert clean("volume", "ls", "-q").stdout == f"{held}\n"  # still used by `user`


def test_volume_ls_filters_and_formats(clean: BerthCli, image: str) -> None:
    clean("volume", "create", "--label", "tier=web", "ls-web")
    clean("volume", "create", "ls-idle")
    clean("create", "--name", "holder", "-v", "ls-web:/w", image, "true")
    table = clean("volume", "ls", "--filter", "name=ls-").stdout
    assert table.splitlines() == ["DRIVER    VOLUME NAME", "local     ls-idle",
                                  "local     ls-web"]
    assert clean("volume", "ls", "-q", "-f", "dangling=true", "-f", "name=ls-").stdout == \
        "ls-idle\n"
    assert clean("volume", "ls", "-q", "-f", "dangling=false").stdout == "ls-web\n"
    shown = clean("volume", "ls", "--filter", "label=tier=web", "--format",
                 "{{.Name}} {{.Driver}} {{.Scope}} {{.Labels}}").stdout
    assert shown == "ls-web local local tier=web\n"
    bad = clean("volume", "ls", "--filter", "colour=red", check=False)
    assert (bad.returncode, bad.stderr) == (1, "Error response from daemon: Invalid filter "
                                               "'colour'\n")


def test_volume_with_driver_options_is_mounted(clean: BerthCli, image: str) -> None:
    clean("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=2m",
         "ramvol")
    out = clean("run", "--rm", "-v", "ramvol:/r", image, "sh", "-c",
               "echo hi > /r/f; df -k /r | tail -1").stdout
    assert out.split()[1] == "2048"
    other = clean("volume", "create", "-d", "nfs", "elsewhere", check=False)
    assert other.returncode == 1 and 'plugin "nfs" not found' in other.stderr


def test_system_df_and_prune_count_volumes(clean: BerthCli, image: str) -> None:
    clean("run", "--name", "anon-user", "-v", "/a", "-v", "df-named:/n", image, "sh", "-c",
         "echo 12345 > /a/f")
    row = next(line for line in clean("system", "df").stdout.splitlines()
               if line.startswith("Local Volumes"))
    assert row.split()[2:4] == ["2", "2"]
    clean("rm", "anon-user")
    pruned = clean("system", "prune", "-f", "--volumes").stdout
    assert "Deleted Volumes:\n" in pruned
    assert clean("volume", "ls", "-q").stdout == "df-named\n"  # Docker 23+: named ones stay
