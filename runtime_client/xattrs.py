"""Extended attributes as tar PAX records (`SCHILY.xattr.NAME`), the OCI layer convention."""

from __future__ import annotations

import os
from pathlib import Path

XATTR_PAX_PREFIX = "SCHILY.xattr."
# overlayfs bookkeeping in an upper directory (opaque, origin, impure, redirect, ...).
OVERLAY_XATTR_PREFIX = "trusted.overlay."


def pax_records(path: Path) -> dict[str, str]:
    """PAX records for the extended attributes of `path` (not followed if a symlink).

    overlayfs's own attributes are left out. Values are raw bytes (`security.capability` is
    binary); tarfile writes a surrogate-escaped string back as the original bytes.
    """
    records = {}
    for name in sorted(os.listxattr(path, follow_symlinks=False)):
        if name.startswith(OVERLAY_XATTR_PREFIX):
            continue
        value = os.getxattr(path, name, follow_symlinks=False)
        records[XATTR_PAX_PREFIX + name] = value.decode("utf-8", "surrogateescape")
    return records
