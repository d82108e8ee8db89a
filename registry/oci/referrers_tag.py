"""The referrers tag schema (distribution-spec 1.1, "Referrers Tag Schema"): how clients keep
the referrers of a manifest on a registry without the referrers API.

The referrers of `<alg>:<ref>` are listed by an OCI image index tagged `<alg>-<ref>` (the
algorithm truncated to 32 characters, the encoded part to 64), whose `manifests` are the
referrers' descriptors. A client pushing a referrer there reads that index (none yet: an
empty one), adds the referrer's descriptor unless it is listed, and pushes the index back
under the tag.

Scope: bytes in, bytes out; no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from registry.oci import mediatypes as mt
from registry.oci.digest import Digest
from registry.oci.manifest import Descriptor, ManifestError, parse_manifest

__all__ = ["ReferrersTagError", "fallback_tag", "merged_index"]


class ReferrersTagError(ValueError):
    """The fallback tag names something other than an image index."""


def fallback_tag(subject: Digest) -> str:
    """The tag listing the referrers of `subject`: `<alg>-<ref>`."""
    return f"{subject.algorithm[:32]}-{subject.hex[:64]}"


def merged_index(
    current: bytes | None, media_type: str | None, referrers: Iterable[Descriptor]
) -> bytes | None:
    """The index to push under the fallback tag: `current` (None: there is none yet) with
    every descriptor of `referrers` it does not list yet appended, in order; None when it
    lists them all already (nothing to push). What `current` holds besides is kept as it is.

    Raises:
        ReferrersTagError: `current` is not an OCI image index; the spec wants the client to
            stop there rather than overwrite it.
    """
    document: dict[str, Any] = {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": []}
    listed: set[str] = set()
    if current is not None:
        try:
            parsed = parse_manifest(current, media_type)
        except ManifestError as exc:
            raise ReferrersTagError(f"the fallback tag holds an invalid manifest: {exc}") from exc
        if parsed.media_type != mt.OCI_INDEX:
            raise ReferrersTagError(f"the fallback tag holds a {parsed.media_type}, not an index")
        document = json.loads(current)
        listed = {str(descriptor.digest) for descriptor in parsed.manifests}
    added = []
    for referrer in referrers:
        if str(referrer.digest) not in listed:
            listed.add(str(referrer.digest))
            added.append(referrer.to_dict())
    if not added:
        return None
    document["manifests"] = list(document.get("manifests") or []) + added
    return json.dumps(document, separators=(",", ":")).encode()
