"""Frozen option values, one per verb: what the CLI parsed, handed to one `ops` function.

Container-side options (issue 6) are added here beside these, one dataclass per verb.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from runtime_client.ops.image_filters import ImageFilter
from runtime_client.ops.prune_filters import PruneFilter

if TYPE_CHECKING:
    from trust.sigs.policy import SignaturePolicy

__all__ = [
    "HistoryOptions",
    "ImageInspectOptions",
    "ImagePruneOptions",
    "ImagesOptions",
    "ImportOptions",
    "LoadOptions",
    "LoginOptions",
    "LogoutOptions",
    "PullOptions",
    "PushOptions",
    "RmiOptions",
    "SaveOptions",
    "SearchOptions",
    "SignOptions",
    "TagOptions",
    "TrustInspectOptions",
    "TrustKeyOptions",
    "TrustRevokeOptions",
    "TrustSignerOptions",
]


@dataclass(frozen=True, slots=True)
class PullOptions:
    """`image pull`."""

    name: str
    all_tags: bool = False
    platform: str | None = None  # "os/arch[/variant]"; None: the host's
    quiet: bool = False
    content_trust: bool = False  # resolve tags through signed trust data
    signature_policy: SignaturePolicy | None = None  # pull only what it counts as signed


@dataclass(frozen=True, slots=True)
class SignOptions:
    """`sign`: sign an image in the registry in cosign's or Notation's format."""

    name: str
    format: str  # "cosign" or "notation"
    key: Path
    certificate: Path | None = None  # Notation: the PEM chain, leaf first
    annotations: tuple[tuple[str, str], ...] = ()  # cosign: signed into the payload
    password: str | None = None  # of an encrypted PKCS#8 key


@dataclass(frozen=True, slots=True)
class PushOptions:
    """`image push`."""

    name: str
    all_tags: bool = False
    quiet: bool = False
    content_trust: bool = False  # sign what is pushed


@dataclass(frozen=True, slots=True)
class ImagesOptions:
    """`image ls`."""

    repository: str | None = None
    all: bool = False
    digests: bool = False
    quiet: bool = False
    format: str | None = None  # "table", "json" or a {{.Field}} template
    no_trunc: bool = False
    filters: ImageFilter = field(default_factory=lambda: ImageFilter({}))


@dataclass(frozen=True, slots=True)
class HistoryOptions:
    """`image history`."""

    name: str
    quiet: bool = False
    human: bool = True  # sizes and dates for people (-H), else bytes and RFC 3339
    no_trunc: bool = False
    format: str | None = None  # "table", "json" or a {{.Field}} template


@dataclass(frozen=True, slots=True)
class ImageInspectOptions:
    """`image inspect`."""

    names: tuple[str, ...]
    format: str | None = None


@dataclass(frozen=True, slots=True)
class TagOptions:
    """`image tag`."""

    source: str
    target: str


@dataclass(frozen=True, slots=True)
class RmiOptions:
    """`image rm`."""

    names: tuple[str, ...]
    force: bool = False


@dataclass(frozen=True, slots=True)
class ImagePruneOptions:
    """`image prune`."""

    all: bool = False
    filters: PruneFilter = field(default_factory=PruneFilter)


@dataclass(frozen=True, slots=True)
class SaveOptions:
    """`image save`."""

    names: tuple[str, ...]
    output: str | None = None  # None: stdout


@dataclass(frozen=True, slots=True)
class LoadOptions:
    """`image load`."""

    input: str | None = None  # None: stdin
    quiet: bool = False


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """`image import`."""

    source: str  # file path, http(s) URL, or "-" for stdin
    reference: str | None = None
    changes: tuple[str, ...] = ()
    message: str | None = None
    platform: str | None = None


@dataclass(frozen=True, slots=True)
class SearchOptions:
    """`search`."""

    term: str
    limit: int = 25
    filters: tuple[str, ...] = ()
    no_trunc: bool = False
    format: str | None = None


@dataclass(frozen=True, slots=True)
class LoginOptions:
    """`login`."""

    server: str | None = None
    username: str | None = None
    password: str | None = None
    password_stdin: bool = False


@dataclass(frozen=True, slots=True)
class LogoutOptions:
    """`logout`."""

    server: str | None = None


@dataclass(frozen=True, slots=True)
class TrustInspectOptions:
    """`trust inspect`."""

    names: tuple[str, ...]
    pretty: bool = False


@dataclass(frozen=True, slots=True)
class TrustRevokeOptions:
    """`trust revoke`."""

    name: str  # NAME[:TAG]; without a tag every signature of the repository goes


@dataclass(frozen=True, slots=True)
class TrustKeyOptions:
    """`trust key generate NAME [--dir DIR]` / `trust key load KEYFILE --name NAME`."""

    name: str
    directory: str | None = None  # where generate writes NAME.pub; None: current directory
    key_file: str | None = None  # load: the PEM private key to import


@dataclass(frozen=True, slots=True)
class TrustSignerOptions:
    """`trust signer add --key PUB NAME REPO...` / `trust signer remove NAME REPO...`."""

    name: str
    repositories: tuple[str, ...]
    key_files: tuple[str, ...] = ()
