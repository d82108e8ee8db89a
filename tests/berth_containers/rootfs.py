"""Build small image layers for berth tests from Debian's busybox-static (no network needed)."""

from __future__ import annotations

import gzip
import hashlib
import io
import subprocess
import tarfile
from dataclasses import dataclass

BUSYBOX = "/bin/busybox"


@dataclass(frozen=True)
class Layer:
    """A gzip layer blob with its diff ID (sha256 of the uncompressed tar)."""

    blob: bytes
    diff_id: str


def _info(name: str, kind: bytes, mode: int, **extra: object) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.mtime = 1_700_000_000
    for key, value in extra.items():
        setattr(info, key, value)
    return info


def make_layer(entries: list[tuple[tarfile.TarInfo, bytes | None]], gz: bool = True) -> Layer:
    """A layer tar from (TarInfo, data) pairs."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in entries:
            if data is not None:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    plain = raw.getvalue()
    diff_id = "sha256:" + hashlib.sha256(plain).hexdigest()
    return Layer(gzip.compress(plain, mtime=0) if gz else plain, diff_id)


def file(
    name: str, data: bytes, mode: int = 0o644, **extra: object
) -> tuple[tarfile.TarInfo, bytes]:
    return _info(name, tarfile.REGTYPE, mode, **extra), data


def directory(name: str, mode: int = 0o755, **extra: object) -> tuple[tarfile.TarInfo, None]:
    return _info(name, tarfile.DIRTYPE, mode, **extra), None


def symlink(name: str, target: str) -> tuple[tarfile.TarInfo, None]:
    return _info(name, tarfile.SYMTYPE, 0o777, linkname=target), None


def hardlink(name: str, target: str) -> tuple[tarfile.TarInfo, None]:
    return _info(name, tarfile.LNKTYPE, 0o644, linkname=target), None


def busybox_layer() -> Layer:
    """A root file system: busybox, its applet links, /etc/passwd and group, a web root."""
    applets = subprocess.run([BUSYBOX, "--list-full"], capture_output=True, text=True,
                             check=True).stdout.split()
    with open(BUSYBOX, "rb") as f:
        binary = f.read()
    entries: list[tuple[tarfile.TarInfo, bytes | None]] = []
    dirs = {"bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "tmp", "root", "var",
            "var/www", "home", "dev", "proc", "sys"}
    for d in sorted(dirs):
        entries.append(directory(d, 0o1777 if d == "tmp" else 0o755))
    entries.append(file("bin/busybox", binary, 0o755))
    for applet in applets:
        if applet != "bin/busybox":
            entries.append(symlink(applet, "/bin/busybox"))
    entries.append(file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"
                        b"nobody:x:65534:65534:nobody:/home:/bin/false\n"
                        b"www:x:33:33:www:/var/www:/bin/false\n"))
    entries.append(file("etc/group", b"root:x:0:\nwww:x:33:\nnogroup:x:65534:\n"))
    entries.append(file("var/www/index.html", b"hello from berth\n"))
    return make_layer(entries)
