"""Seccomp in berth containers (root only): the default filter refuses namespace creation and
leaves ordinary programs alone; `--security-opt seccomp=unconfined` and custom profiles."""

from __future__ import annotations

import json
import platform
import struct
from pathlib import Path

import pytest

from tests.support.berth_cli import BerthCli

pytestmark = [pytest.mark.root, pytest.mark.slow]

# busybox's unshare(1) creating a user namespace: no capability needed, only seccomp stops it.
UNSHARE_USER = ("busybox", "unshare", "-U", "true")


def i386_hello(path: Path) -> None:
    """Write a static 32-bit x86 program that prints "ok" with int 0x80 write(2) and exit(2)."""
    base, code_offset, message = 0x08048000, 52 + 32, b"ok\n"

    def code(message_address: int) -> bytes:
        return (b"\xb8" + struct.pack("<I", 4) + b"\xbb" + struct.pack("<I", 1)  # write(1,
                + b"\xb9" + struct.pack("<I", message_address)  # message,
                + b"\xba" + struct.pack("<I", len(message)) + b"\xcd\x80"  # len)
                + b"\xb8" + struct.pack("<I", 1) + b"\x31\xdb\xcd\x80")  # exit(0)

    body = code(base + code_offset + len(code(0))) + message
    size = code_offset + len(body)
    header = b"\x7fELF\x01\x01\x01" + bytes(9) + struct.pack(
        "<HHIIIIIHHHHHH", 2, 3, 1, base + code_offset, 52, 0, 0, 52, 32, 1, 0, 0, 0)
    program_header = struct.pack("<IIIIIIII", 1, 0, base, base, size, size, 5, 0x1000)
    path.write_bytes(header + program_header + body)
    path.chmod(0o755)


def seccomp_mode(berth: BerthCli, image: str, *options: str) -> str:
    """The `Seccomp:` line of /proc/self/status inside a container (0 off, 2 filtering)."""
    out = berth("run", "--rm", "--net", "none", *options, image, "grep", "^Seccomp:",
                "/proc/self/status").stdout
    return out.split()[1]


def test_default_filter_denies_unshare_and_unconfined_allows_it(clean: BerthCli,
                                                                 image: str) -> None:
    assert seccomp_mode(clean, image) == "2"
    denied = clean("run", "--rm", "--net", "none", image, *UNSHARE_USER, check=False)
    assert denied.returncode == 1
    assert "Operation not permitted" in denied.stderr

    assert seccomp_mode(clean, image, "--security-opt", "seccomp=unconfined") == "0"
    allowed = clean("run", "--rm", "--net", "none", "--security-opt", "seccomp=unconfined",
                    image, *UNSHARE_USER, check=False)
    assert allowed.returncode == 0, allowed.stderr


def test_exec_runs_under_the_containers_filter(clean: BerthCli, image: str) -> None:
    clean("run", "-d", "--name", "filtered", "--net", "none", image, "sleep", "60")
    denied = clean("exec", "filtered", *UNSHARE_USER, check=False)
    assert denied.returncode == 1
    assert "Operation not permitted" in denied.stderr


def test_ordinary_programs_work_under_the_default_filter(clean: BerthCli, image: str) -> None:
    script = ("set -e; mkdir -p /tmp/a/b; echo hi > /tmp/a/b/f; mv /tmp/a/b/f /tmp/g; cat /tmp/g;"
              " ps -o pid,comm | grep -q ps; busybox chroot / true; sleep 0.1 & wait;"
              " busybox nproc >/dev/null; busybox date >/dev/null; busybox ln -s /tmp/g /tmp/l;"
              " rm -r /tmp/a /tmp/l; id -u")
    result = clean("run", "--rm", "--net", "none", image, "sh", "-c", script)
    assert result.stdout == "hi\n0\n"


@pytest.mark.skipif(platform.machine() != "x86_64", reason="the i386 ABI exists on x86_64 only")
def test_the_default_filter_covers_32_bit_x86_programs(clean: BerthCli, image: str,
                                                       host_dir: Path) -> None:
    i386_hello(host_dir / "hello32")
    result = clean("run", "--rm", "--net", "none", "-v", f"{host_dir}:/i386:ro", image,
                   "/i386/hello32", check=False)
    assert (result.returncode, result.stdout) == (0, "ok\n"), result.stderr


def test_custom_profile_survives_a_restart_without_its_file(clean: BerthCli, image: str,
                                                            tmp_path: Path) -> None:
    profile = tmp_path / "no-mkdir.json"
    profile.write_text(json.dumps({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}],
    }))
    result = clean("run", "--name", "nomkdir", "--net", "none", "--security-opt",
                   f"seccomp={profile}", image, "sh", "-c", "touch /ok && mkdir /x",
                   check=False)
    assert result.returncode == 1
    assert "Operation not permitted" in result.stderr
    inspected = json.loads(clean("inspect", "nomkdir").stdout)[0]
    (option,) = inspected["HostConfig"]["SecurityOpt"]
    assert json.loads(option.removeprefix("seccomp="))["defaultAction"] == "SCMP_ACT_ALLOW"

    profile.unlink()
    again = clean("start", "-a", "nomkdir", check=False)
    assert again.returncode == 1
    assert "Operation not permitted" in again.stderr


def test_docker_format_profile_with_arch_map_and_capability_rules(clean: BerthCli, image: str,
                                                                  tmp_path: Path) -> None:
    profile = tmp_path / "docker-style.json"
    profile.write_text(json.dumps({
        "defaultAction": "SCMP_ACT_ALLOW",
        "archMap": [{"architecture": "SCMP_ARCH_X86_64",
                     "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
                    {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
        "syscalls": [
            {"name": "rmdir", "action": "SCMP_ACT_ERRNO"},
            # Applies only to containers holding CAP_SYS_ADMIN, which berth's do not.
            {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
             "includes": {"caps": ["CAP_SYS_ADMIN"]}},
        ],
    }))
    result = clean("run", "--rm", "--net", "none", "--security-opt", f"seccomp:{profile}",
                   image, "sh", "-c", "mkdir /d && busybox rmdir /d", check=False)
    assert result.returncode == 1
    assert "rmdir" in result.stderr and "Operation not permitted" in result.stderr


def test_bad_security_options_are_refused(clean: BerthCli, image: str,
                                          tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    result = clean("run", "--rm", "--security-opt", f"seccomp={missing}", image, "true",
                   check=False)
    assert result.returncode == 125
    assert f"opening seccomp profile ({missing}) failed" in result.stderr
    broken = tmp_path / "broken.json"
    broken.write_text('{"syscalls": []}')
    result = clean("create", "--security-opt", f"seccomp={broken}", image, "true", check=False)
    assert result.returncode == 125
    assert "defaultAction" in result.stderr
    result = clean("create", "--security-opt", "label=foo", image, "true", check=False)
    assert result.returncode == 125
    assert "invalid --security-opt" in result.stderr
    assert clean("ps", "-aq").stdout == ""
