"""Manifest parsing and validation (OCI image-spec manifest.md, image-index.md; Docker schema 2).

`parse_manifest(data, content_type)` turns pushed bytes into a `Manifest` value listing every
descriptor it references, so the hub can check that each one exists before it accepts the push.

Example (an OCI image manifest)::

    {"schemaVersion": 2,
     "mediaType": "application/vnd.oci.image.manifest.v1+json",
     "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": "sha256:...", "size": 7023},
     "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                 "digest": "sha256:...", "size": 32654}]}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from registry.oci import mediatypes as mt
from registry.oci.digest import Digest, DigestError

__all__ = ["Descriptor", "Manifest", "ManifestError", "parse_manifest"]


class ManifestError(ValueError):
    """Pushed bytes are not a valid manifest of any supported type."""


# image-spec descriptor.md: `size` is an int64.
_MAX_SIZE = 2**63 - 1


def _optional_strings(raw: dict[str, Any], names: tuple[str, ...], where: str) -> None:
    for name in names:
        if raw.get(name) is not None and not isinstance(raw[name], str):
            raise ManifestError(f"{where}: {name} must be a string")


def _string_list(raw: Any, where: str) -> None:
    if raw is not None and (
        not isinstance(raw, list) or not all(isinstance(item, str) for item in raw)
    ):
        raise ManifestError(f"{where} must be a list of strings")


def _annotations(raw: Any, where: str) -> dict[str, str] | None:
    """image-spec annotations.md: a map of strings to strings."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise ManifestError(f"{where} must be an object of strings")
    return raw


def _check_platform(raw: Any, where: str) -> None:
    """image-index.md `platform`: an object with string `os` and `architecture`."""
    if not isinstance(raw, dict):
        raise ManifestError(f"{where} must be an object")
    for name in ("os", "architecture"):
        if not isinstance(raw.get(name), str):
            raise ManifestError(f"{where}: {name} must be a string")
    _optional_strings(raw, ("os.version", "variant"), where)
    _string_list(raw.get("os.features"), f"{where}.os.features")
    _string_list(raw.get("features"), f"{where}.features")


@dataclass(frozen=True, slots=True)
class Descriptor:
    """A typed pointer to content (image-spec descriptor.md)."""

    media_type: str
    digest: Digest
    size: int
    artifact_type: str | None = None
    annotations: dict[str, str] | None = None
    platform: dict[str, Any] | None = None

    @classmethod
    def from_dict(cls, raw: Any, where: str) -> Descriptor:
        """Validate every field the hub reads later, so a stored manifest is always usable.

        Raises:
            ManifestError: a field is missing or has the wrong type.
        """
        if not isinstance(raw, dict):
            raise ManifestError(f"{where}: descriptor must be an object")
        media_type = raw.get("mediaType")
        size = raw.get("size")
        if not isinstance(media_type, str) or not media_type:
            raise ManifestError(f"{where}: mediaType is required")
        if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= _MAX_SIZE:
            raise ManifestError(f"{where}: size must be a non-negative 64-bit integer")
        digest_text = raw.get("digest")
        if not isinstance(digest_text, str):
            raise ManifestError(f"{where}: digest must be a string")
        try:
            digest = Digest.parse(digest_text)
        except DigestError as exc:
            raise ManifestError(f"{where}: {exc}") from exc
        _optional_strings(raw, ("artifactType", "data"), where)
        _string_list(raw.get("urls"), f"{where}.urls")
        platform = raw.get("platform")
        if platform is not None:
            _check_platform(platform, f"{where}.platform")
        return cls(
            media_type,
            digest,
            size,
            raw.get("artifactType"),
            _annotations(raw.get("annotations"), f"{where}.annotations"),
            platform,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "mediaType": self.media_type,
            "digest": str(self.digest),
            "size": self.size,
        }
        if self.artifact_type:
            out["artifactType"] = self.artifact_type
        if self.annotations:
            out["annotations"] = self.annotations
        if self.platform:
            out["platform"] = self.platform
        return out


@dataclass(frozen=True, slots=True)
class Manifest:
    """A parsed manifest: what it is and what it points at."""

    media_type: str
    config: Descriptor | None = None
    layers: tuple[Descriptor, ...] = ()
    manifests: tuple[Descriptor, ...] = ()
    subject: Descriptor | None = None
    artifact_type: str | None = None
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def is_index(self) -> bool:
        return self.media_type in mt.INDEX_TYPES

    @property
    def blobs(self) -> tuple[Descriptor, ...]:
        """Blob descriptors (config first, then layers) this manifest references."""
        return ((self.config,) if self.config else ()) + self.layers

    def effective_artifact_type(self) -> str | None:
        """The artifact type the referrers API reports (image-spec manifest.md "artifactType")."""
        if self.artifact_type:
            return self.artifact_type
        if self.config is not None and not self.is_index:
            return self.config.media_type
        return None


def _descriptors(raw: Any, where: str) -> tuple[Descriptor, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ManifestError(f"{where} must be a list")
    return tuple(Descriptor.from_dict(item, f"{where}[{i}]") for i, item in enumerate(raw))


def parse_manifest(data: bytes, content_type: str | None) -> Manifest:
    """Parse and validate manifest bytes.

    Args:
        data: the exact bytes pushed.
        content_type: the request's Content-Type, which must agree with `mediaType` when the
            document carries one.

    Raises:
        ManifestError: malformed JSON, unknown type, or invalid descriptors.
    """
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        # RecursionError: nesting deeper than the decoder's stack (no manifest nests deeply).
        raise ManifestError(f"manifest is not valid JSON: {type(exc).__name__}") from exc
    if not isinstance(doc, dict):
        raise ManifestError("manifest must be a JSON object")
    if doc.get("schemaVersion") != 2 or isinstance(doc.get("schemaVersion"), bool):
        raise ManifestError("schemaVersion must be 2")
    declared = doc.get("mediaType")
    if declared is not None and not isinstance(declared, str):
        raise ManifestError("mediaType must be a string")
    content_type = (content_type or "").split(";")[0].strip() or None
    media_type = declared or content_type
    if media_type is None:
        # OCI allows mediaType to be omitted; infer from the shape.
        media_type = mt.OCI_INDEX if "manifests" in doc else mt.OCI_MANIFEST
    if declared and content_type and declared != content_type and content_type in mt.MANIFEST_TYPES:
        raise ManifestError(f"mediaType {declared!r} does not match Content-Type {content_type!r}")
    if media_type not in mt.MANIFEST_TYPES:
        raise ManifestError(f"unsupported manifest media type {media_type!r}")
    subject = (
        Descriptor.from_dict(doc["subject"], "subject") if doc.get("subject") is not None else None
    )
    annotations = _annotations(doc.get("annotations"), "annotations") or {}
    _optional_strings(doc, ("artifactType",), "manifest")
    artifact_type = doc.get("artifactType")
    if media_type in mt.INDEX_TYPES:
        if not isinstance(doc.get("manifests"), list):
            raise ManifestError("an index needs a manifests list")
        return Manifest(
            media_type,
            manifests=_descriptors(doc["manifests"], "manifests"),
            subject=subject,
            artifact_type=artifact_type,
            annotations=annotations,
        )
    if "config" not in doc:
        raise ManifestError("an image manifest needs a config descriptor")
    if not isinstance(doc.get("layers"), list):
        raise ManifestError("an image manifest needs a layers list")
    return Manifest(
        media_type,
        config=Descriptor.from_dict(doc["config"], "config"),
        layers=_descriptors(doc["layers"], "layers"),
        subject=subject,
        artifact_type=artifact_type,
        annotations=annotations,
    )
