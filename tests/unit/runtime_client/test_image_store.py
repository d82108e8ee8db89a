"""The local image store: resolve by name / ID / prefix, tags, removal and shared layers."""

from __future__ import annotations

import gzip
import io
import json
import multiprocessing
import tarfile

import pytest

from registry.oci.digest import Digest
from runtime_client.content.store import ContentStore
from runtime_client.errors import ContentError, NoSuchImageError
from runtime_client.images.store import ImageStore, Layer

REGISTRY = "registry.test:5000"


def make_image(content: ContentStore, *layer_data: bytes) -> tuple[bytes, list[Layer]]:
    layers = []
    for data in layer_data:
        digest = content.put(data)
        layers.append(Layer(digest, "application/vnd.oci.image.layer.v1.tar", len(data), digest))
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "created": "2024-01-02T03:04:05Z",
            "config": {"Cmd": ["sh"]},
            "rootfs": {"type": "layers", "diff_ids": [str(layer.diff_id) for layer in layers]},
        }
    ).encode()
    return config, layers


@pytest.fixture
def stores(tmp_path):
    content = ContentStore(tmp_path)
    images = ImageStore(tmp_path, content, REGISTRY)
    yield content, images
    images.close()


def test_create_and_resolve(stores):
    content, images = stores
    config, layers = make_image(content, b"base", b"top")
    image = images.create(config, layers, tags=[f"{REGISTRY}/team/app:1"])
    assert image.id == Digest.of(config)
    assert image.config["config"]["Cmd"] == ["sh"]
    assert [layer.digest for layer in image.layers] == [layer.digest for layer in layers]
    for name in ("team/app:1", f"{REGISTRY}/team/app:1", str(image.id), image.id.hex,
                 image.id.hex[:8], f"sha256:{image.id.hex[:10]}"):
        assert images.resolve(name).id == image.id, name
    with pytest.raises(NoSuchImageError, match="No such image: team/app:latest"):
        images.resolve("team/app")
    # The manifest built for a local image is in the content store and lists the layers.
    manifest = json.loads(content.read(image.manifest_digest))
    assert [d["digest"] for d in manifest["layers"]] == [str(layer.digest) for layer in layers]


def test_config_must_match_layers(stores):
    content, images = stores
    config, layers = make_image(content, b"a")
    with pytest.raises(ContentError):
        images.create(config, [])
    content.delete(layers[0].digest)
    with pytest.raises(ContentError):
        images.create(config, layers)


def test_shared_layers_stay_until_unused(stores):
    content, images = stores
    config_a, layers_a = make_image(content, b"shared", b"only-a")
    config_b, layers_b = make_image(content, b"shared", b"only-b")
    a = images.create(config_a, layers_a, tags=[f"{REGISTRY}/a:latest"])
    b = images.create(config_b, layers_b, tags=[f"{REGISTRY}/b:latest"])
    freed = images.remove(a.id)
    assert layers_a[1].digest in freed and layers_a[0].digest not in freed
    assert content.exists(layers_b[0].digest)
    assert images.resolve("b").id == b.id
    freed = images.remove(b.id)
    assert layers_b[0].digest in freed
    assert list(content.walk()) == []


def test_tags_move_and_untag(stores):
    content, images = stores
    a = images.create(*make_image(content, b"1"), tags=[f"{REGISTRY}/app:latest"])
    b = images.create(*make_image(content, b"2"), tags=[f"{REGISTRY}/app:latest"])
    assert images.resolve("app").id == b.id
    assert images.get(a.id).repo_tags == ()
    images.tag(a.id, f"{REGISTRY}/app:old")
    assert images.untag(f"{REGISTRY}/app:old") == a.id
    assert images.untag(f"{REGISTRY}/app:old") is None


def test_leased_blobs_survive_garbage_collection(stores):
    content, images = stores
    kept = content.put(b"in flight")
    orphan = content.put(b"orphan")
    with images.lease() as lease:
        lease.add(kept)
        assert images.collect_garbage() == [orphan]
        assert content.exists(kept)
    assert images.collect_garbage() == [kept]


def _create_many(root: str, start: int) -> None:
    from pathlib import Path

    content = ContentStore(Path(root))
    images = ImageStore(Path(root), content, REGISTRY)
    for i in range(start, start + 15):
        config, layers = make_image(content, b"shared", f"layer-{i}".encode())
        images.create(config, layers, tags=[f"{REGISTRY}/app:{i}"])
    images.close()


def test_two_processes_write_at_once(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_create_many, args=(str(tmp_path), n)) for n in (0, 100)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    content = ContentStore(tmp_path)
    images = ImageStore(tmp_path, content, REGISTRY)
    assert len(images.list()) == 30
    images.close()


def _tar(*members: tuple[str, bytes | str]) -> bytes:
    """A layer tar: (name, bytes) regular files and (name, "target") symlinks."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, body in members:
            info = tarfile.TarInfo(name)
            if isinstance(body, str):
                info.type, info.linkname = tarfile.SYMTYPE, body
                tar.addfile(info)
            else:
                info.size = len(body)
                tar.addfile(info, io.BytesIO(body))
        hard = tarfile.TarInfo("bin/again")
        hard.type, hard.linkname = tarfile.LNKTYPE, members[0][0]
        tar.addfile(hard)
    return gzip.compress(out.getvalue())


def test_unpacked_sizes_count_files_and_links_once_and_are_remembered(stores):
    content, images = stores
    base = _tar(("bin/tool", b"x" * 1000), ("bin/link", "tool"))
    app = _tar(("app/data", b"y" * 250))
    config, layers = make_image(content, base, app)
    image = images.create(config, layers, tags=[f"{REGISTRY}/sized:1"])
    # A hard link adds nothing; a symlink its target's length; compressed bytes do not count.
    assert images.layer_sizes(image) == [1000 + len("tool"), 250]
    assert images.unpacked_sizes([image]) == {image.id: 1254}
    # Recorded once asked: the sizes no longer need the blobs.
    for layer in layers:
        content.delete(layer.digest)
    assert images.unpacked_sizes([image]) == {image.id: 1254}


def test_a_layer_that_is_no_readable_tar_counts_its_blob(stores):
    content, images = stores
    config, layers = make_image(content, b"\x28\xb5\x2f\xfd not a tar the library reads")
    image = images.create(config, layers, tags=[f"{REGISTRY}/zstd:1"])
    assert images.layer_sizes(image) == [layers[0].size]
