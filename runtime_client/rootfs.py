"""Reading and writing inside a container's root file system without escaping it.

`scoped_path` resolves a container path the way the kernel would inside the container (so
`/etc/passwd -> /host/file` stays under the root), component by component, never following a
symlink on the host. `lookup_user` implements `-u name|uid[:group|gid]` from the container's
/etc/passwd and /etc/group.
"""

from __future__ import annotations

import os
import posixpath
import stat
from dataclasses import dataclass
from pathlib import Path

from runtime_client.container_errors import ContainerError, InvalidOptionError

_MAX_LINKS = 40


def scoped_path(root: Path, path: str) -> Path:
    """The host path of container path `path` under `root`, symlinks resolved inside `root`.

    The final component is resolved too when it is a symlink. Missing components are kept
    as they are (the result may not exist).

    Raises:
        ContainerError: too many levels of symbolic links.
    """
    pending = [p for p in path.split("/") if p]
    resolved: list[str] = []
    links = 0
    while pending:
        part = pending.pop(0)
        if part == ".":
            continue
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = root.joinpath(*resolved, part)
        try:
            st = os.lstat(candidate)
        except (FileNotFoundError, NotADirectoryError):
            resolved.append(part)
            continue
        if stat.S_ISLNK(st.st_mode):
            links += 1
            if links > _MAX_LINKS:
                raise ContainerError(f"too many levels of symbolic links: {path}")
            target = os.readlink(candidate)
            if target.startswith("/"):
                resolved = []
            pending = [p for p in target.split("/") if p] + pending
            continue
        resolved.append(part)
    return root.joinpath(*resolved)


def scoped_parent(root: Path, path: str) -> Path:
    """Like `scoped_path`, but the last component itself is not followed if it is a link."""
    norm = posixpath.normpath("/" + path)
    parent, name = posixpath.split(norm)
    if not name:
        return root
    return scoped_path(root, parent) / name


@dataclass(frozen=True)
class ResolvedUser:
    """Numeric identity of a process in the container."""

    uid: int
    gid: int
    additional_gids: tuple[int, ...] = ()
    home: str = "/"


def _read_db(root: Path, path: str) -> list[list[str]]:
    try:
        text = scoped_path(root, path).read_text(errors="replace")
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return []
    return [line.split(":") for line in text.splitlines() if line and not line.startswith("#")]


def lookup_user(root: Path, spec: str) -> ResolvedUser:
    """Resolve Docker's `-u` value against the container's /etc/passwd and /etc/group.

    Raises:
        InvalidOptionError: a name that the container does not know.
    """
    user, _, group = (spec or "0").partition(":")
    passwd = _read_db(root, "/etc/passwd")
    groups = _read_db(root, "/etc/group")
    uid: int | None = None
    gid: int | None = None
    home = "/"
    name = ""
    for entry in passwd:
        if len(entry) >= 6 and (entry[0] == user or entry[2] == user):
            name, uid, gid, home = entry[0], int(entry[2]), int(entry[3]), entry[5] or "/"
            break
    if uid is None:
        if not user.isdigit():
            raise InvalidOptionError(
                f"unable to find user {user}: no matching entries in passwd file")
        uid, gid = int(user), 0
    if group:
        for entry in groups:
            if len(entry) >= 3 and (entry[0] == group or entry[2] == group):
                gid = int(entry[2])
                break
        else:
            if not group.isdigit():
                raise InvalidOptionError(
                    f"unable to find group {group}: no matching entries in group file")
            gid = int(group)
    extra = tuple(int(e[2]) for e in groups
                  if len(e) >= 4 and name and name in e[3].split(",") and e[2].isdigit())
    return ResolvedUser(uid, gid if gid is not None else 0, extra, home)
