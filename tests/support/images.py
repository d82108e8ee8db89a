"""Build small test images without any network, from Debian's busybox-static.

The single-platform image has three gzip layers:

1. `/bin/busybox` (from the host's busybox-static package) with applet symlinks
   (`sh`, `ls`, `cat`, `echo`, `httpd`, ...) and the usual top-level directories;
2. `/etc/passwd`, `/etc/group` and `/etc/berth-release`;
3. `/data/hello.txt`, 256 KiB of pseudo-random `/data/random.bin` and `/etc/berth-platform`.

Its config says linux/amd64 and `Cmd ["sh"]`. The multi-architecture variant is an OCI image
index over a linux/amd64 and a linux/arm64 image; the arm64 one shares layers 1 and 2 (its
busybox is the host's amd64 one, so it only serves to be pushed and pulled, never run).

Everything is deterministic: fixed timestamps and owners in tars, no name or time in gzip
headers, canonical JSON. The results are written as an OCI image layout directory (for
`skopeo copy oci:DIR:TAG ...`) and as a `docker save`-style archive (for `docker load`).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from registry.oci import mediatypes

__all__ = [
    "BUSYBOX",
    "DOCKER_ARCHIVE_TAG",
    "BuiltImage",
    "BuiltIndex",
    "Layer",
    "OciLayout",
    "build_image",
    "build_multiarch_index",
    "canonical_json",
    "pseudo_random",
    "sha256_digest",
    "write_docker_archive",
    "write_oci_layout",
]

BUSYBOX = Path("/bin/busybox")
# The name `docker load` gives the image in the archive the `docker_archive` fixture writes.
DOCKER_ARCHIVE_TAG = "berth-test/busybox:v1"

# 2024-01-01T00:00:00Z: the time stamped on every file and history entry.
EPOCH = 1704067200
CREATED = "2024-01-01T00:00:00Z"
APPLETS = ("sh", "ls", "cat", "echo", "env", "httpd", "wget", "sleep", "true", "false", "id",
           "mkdir", "rm", "cp", "mv", "ps", "printf", "sha256sum", "test", "uname", "hostname",
           "grep", "sed", "head", "tail", "wc", "nc", "ip", "ping", "top", "kill", "touch")
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PLATFORMS = {"amd64": {"architecture": "amd64", "os": "linux"},
             "arm64": {"architecture": "arm64", "os": "linux", "variant": "v8"}}


def sha256_digest(data: bytes) -> str:
    """`sha256:<hex>` of `data`."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical_json(value: Any) -> bytes:
    """Compact JSON with sorted keys: the same value always gives the same bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Layer:
    """One filesystem layer: its tar, the gzip of it, and their digests."""

    tar: bytes
    gzipped: bytes
    created_by: str

    @property
    def diff_id(self) -> str:
        """Digest of the uncompressed tar (what image configs list in `rootfs.diff_ids`)."""
        return sha256_digest(self.tar)

    @property
    def digest(self) -> str:
        """Digest of the gzip blob (what manifests reference)."""
        return sha256_digest(self.gzipped)

    def descriptor(self) -> dict[str, Any]:
        """The OCI descriptor of the gzip blob."""
        return {"mediaType": mediatypes.OCI_LAYER_GZIP, "digest": self.digest,
                "size": len(self.gzipped)}


@dataclass(frozen=True)
class BuiltImage:
    """A single-platform image: layers, config and OCI manifest bytes."""

    architecture: str
    layers: tuple[Layer, ...]
    config: bytes
    manifest: bytes

    @property
    def config_digest(self) -> str:
        """Digest of the config blob (docker's image ID)."""
        return sha256_digest(self.config)

    @property
    def manifest_digest(self) -> str:
        """Digest of the manifest."""
        return sha256_digest(self.manifest)

    def blobs(self) -> dict[str, bytes]:
        """Every blob the manifest references, by digest."""
        blobs = {layer.digest: layer.gzipped for layer in self.layers}
        blobs[self.config_digest] = self.config
        return blobs


@dataclass(frozen=True)
class BuiltIndex:
    """An OCI image index over several `BuiltImage`s."""

    images: tuple[BuiltImage, ...]
    index: bytes

    @property
    def digest(self) -> str:
        """Digest of the index."""
        return sha256_digest(self.index)


@dataclass(frozen=True)
class OciLayout:
    """An OCI image layout directory on disk and what it holds."""

    path: Path
    tag: str
    root_digest: str
    blobs: dict[str, bytes] = field(repr=False)

    @property
    def reference(self) -> str:
        """The skopeo/containers-image name of the tagged root: `oci:PATH:TAG`."""
        return f"oci:{self.path}:{self.tag}"


def _tar(entries: list[tarfile.TarInfo], contents: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for info in entries:
            info.mtime = EPOCH
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            data = contents.get(info.name)
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def _dir(name: str, mode: int = 0o755) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode = tarfile.DIRTYPE, mode
    return info


def _file(name: str, data: bytes, contents: dict[str, bytes], mode: int = 0o644) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    contents[name] = data
    return info


def _symlink(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = tarfile.SYMTYPE, target, 0o777
    return info


def _layer(entries: list[tarfile.TarInfo], contents: dict[str, bytes], created_by: str) -> Layer:
    tar = _tar(entries, contents)
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=6) as gz:
        gz.write(tar)
    return Layer(tar=tar, gzipped=buffer.getvalue(), created_by=created_by)


def _busybox_layer() -> Layer:
    contents: dict[str, bytes] = {}
    entries = [_dir(name) for name in ("bin", "dev", "etc", "proc", "sys", "usr", "var")]
    entries += [_dir("root", 0o700), _dir("tmp", 0o1777)]
    entries.append(_file("bin/busybox", BUSYBOX.read_bytes(), contents, 0o755))
    entries += [_symlink(f"bin/{applet}", "busybox") for applet in APPLETS]
    return _layer(entries, contents, "berth-test: busybox-static and applet links")


def _etc_layer() -> Layer:
    contents: dict[str, bytes] = {}
    entries = [
        _dir("etc"),
        _file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"
              b"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n", contents),
        _file("etc/group", b"root:x:0:\nnogroup:x:65534:\n", contents),
        _file("etc/berth-release", b"NAME=berth-test\nVERSION=1\n", contents),
    ]
    return _layer(entries, contents, "berth-test: /etc files")


def pseudo_random(size: int, seed: bytes) -> bytes:
    """`size` deterministic, incompressible bytes derived from `seed` (a sha256 chain)."""
    out = bytearray()
    block = seed
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:size])


def _data_layer(platform: str) -> Layer:
    contents: dict[str, bytes] = {}
    entries = [
        _dir("data"),
        _file("data/hello.txt", b"hello from berth\n", contents),
        _file("data/random.bin", pseudo_random(256 * 1024, b"berth-test-data"), contents),
        _dir("etc"),
        _file("etc/berth-platform", f"linux/{platform}\n".encode(), contents),
    ]
    return _layer(entries, contents, f"berth-test: data files for linux/{platform}")


def build_image(architecture: str = "amd64", base: tuple[Layer, ...] | None = None) -> BuiltImage:
    """Build the three-layer busybox test image for one platform.

    Args:
        architecture: `amd64` or `arm64` (the config and the data layer say which).
        base: the busybox and /etc layers to reuse (built when None).

    Returns:
        The image with its OCI manifest.
    """
    base = base or (_busybox_layer(), _etc_layer())
    layers = (*base, _data_layer(architecture))
    config = canonical_json({
        **PLATFORMS[architecture],
        "created": CREATED,
        "config": {"Env": [PATH_ENV], "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]},
        "history": [{"created": CREATED, "created_by": layer.created_by} for layer in layers],
    })
    manifest = canonical_json({
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_MANIFEST,
        "config": {"mediaType": mediatypes.OCI_CONFIG, "digest": sha256_digest(config),
                   "size": len(config)},
        "layers": [layer.descriptor() for layer in layers],
    })
    return BuiltImage(architecture, layers, config, manifest)


def build_multiarch_index(amd64: BuiltImage) -> BuiltIndex:
    """An OCI image index over `amd64` and an arm64 image sharing its first two layers."""
    arm64 = build_image("arm64", base=amd64.layers[:2])
    images = (amd64, arm64)
    index = canonical_json({
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_INDEX,
        "manifests": [
            {"mediaType": mediatypes.OCI_MANIFEST, "digest": image.manifest_digest,
             "size": len(image.manifest), "platform": PLATFORMS[image.architecture]}
            for image in images
        ],
    })
    return BuiltIndex(images, index)


def write_oci_layout(path: Path, tag: str, root: BuiltImage | BuiltIndex) -> OciLayout:
    """Write `root` (an image or an index and its images) as an OCI image layout at `path`."""
    blobs: dict[str, bytes] = {}
    if isinstance(root, BuiltIndex):
        for image in root.images:
            blobs.update(image.blobs())
            blobs[image.manifest_digest] = image.manifest
        root_bytes, media_type = root.index, mediatypes.OCI_INDEX
    else:
        blobs.update(root.blobs())
        root_bytes, media_type = root.manifest, mediatypes.OCI_MANIFEST
    root_digest = sha256_digest(root_bytes)
    blobs[root_digest] = root_bytes
    blob_dir = path / "blobs" / "sha256"
    blob_dir.mkdir(parents=True, exist_ok=True)
    for digest, data in blobs.items():
        (blob_dir / digest.removeprefix("sha256:")).write_bytes(data)
    (path / "oci-layout").write_bytes(canonical_json({"imageLayoutVersion": "1.0.0"}))
    (path / "index.json").write_bytes(canonical_json({
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_INDEX,
        "manifests": [{"mediaType": media_type, "digest": root_digest, "size": len(root_bytes),
                       "annotations": {"org.opencontainers.image.ref.name": tag}}],
    }))
    return OciLayout(path=path, tag=tag, root_digest=root_digest, blobs=blobs)


def write_docker_archive(path: Path, image: BuiltImage, repo_tag: str | None) -> Path:
    """Write `image` as a `docker save`-style archive (manifest.json, config, layer tars);
    without `repo_tag` the image loads untagged (dangling), as `docker save ID` writes it."""
    members: dict[str, bytes] = {}
    config_name = image.config_digest.removeprefix("sha256:") + ".json"
    members[config_name] = image.config
    layer_names = []
    for layer in image.layers:
        name = layer.diff_id.removeprefix("sha256:") + "/layer.tar"
        members[name] = layer.tar
        layer_names.append(name)
    members["manifest.json"] = canonical_json(
        [{"Config": config_name, "RepoTags": [repo_tag] if repo_tag else None,
          "Layers": layer_names}])
    contents: dict[str, bytes] = {}
    entries: list[tarfile.TarInfo] = []
    for name, data in members.items():
        if "/" in name:
            entries.append(_dir(name.split("/")[0]))
        entries.append(_file(name, data, contents))
    path.write_bytes(_tar(entries, contents))
    return path
