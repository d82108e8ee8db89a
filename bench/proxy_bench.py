"""Benchmark the pull-through cache: a first pull through a proxy namespace beside a direct pull
from its upstream, and a cached pull beside a pull of the same image pushed to the hub.

Run: `.venv-test/bin/python bench/proxy_bench.py [--layers 5] [--layer-mib 20]` from the
repository root. It starts Debian's Distribution (`docker-registry`) as the upstream and a hub
(`--no-auth`) whose proxy namespace `up` maps to it, both on loopback with temporary data
directories, and pushes an image of `--layers` random layers of `--layer-mib` MiB to each
(`bench/app:v1` upstream, another such image as `mine/app:v1` on the hub). A pull is what a
client does: the manifest by tag, then every blob, three at a time (Docker's default), each
read to its last byte. One run of each, in this order: direct from the upstream, first
through the proxy (cold: the hub fetches, verifies and stores while it streams), through the
proxy again once the hub committed what it fetched (cached), and the pushed image from the
hub. The pushed image is pulled once untimed beforehand, as the proxied one was by the first
pull, so the last two rows both time a second pull of blobs the hub has on disk; write-back
is flushed (`sync`) before every timed pull, so none pays for an earlier one's. It prints
seconds, MiB/s and ratios.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from harness import (  # a sibling module, not a package
    OCI_MANIFEST,
    BenchError,
    Server,
    berth,
    expect,
    request,
    start_upload,
    with_digest,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from tests.support.reference_registry import ReferenceRegistry  # noqa: E402

MIB = 1024 * 1024
PARALLEL_BLOBS = 3  # Docker's max-concurrent-downloads default
STORE_TIMEOUT = 60.0  # seconds the hub may take to commit what the first pull fetched


def make_blobs(workdir: Path, name: str, layers: int,
               layer_mib: int) -> list[tuple[Path, str, int]]:
    """Random layer files and a config: (path, digest, size) each, config last."""
    blobs = []
    for number in range(layers):
        path = workdir / f"{name}-layer-{number}"
        data = os.urandom(layer_mib * MIB)
        path.write_bytes(data)
        blobs.append((path, "sha256:" + hashlib.sha256(data).hexdigest(), len(data)))
    config = json.dumps({"architecture": "amd64", "os": "linux", "comment": name,
                         "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    path = workdir / f"{name}-config"
    path.write_bytes(config)
    blobs.append((path, "sha256:" + hashlib.sha256(config).hexdigest(), len(config)))
    return blobs


def push_image(server: Server, repo: str, blobs: list[tuple[Path, str, int]]) -> None:
    """Push every blob in one PUT each, then the manifest as `v1`."""
    for path, digest, size in blobs:
        response = request(server, "PUT", with_digest(start_upload(server, repo), digest),
                           {"Content-Type": "application/octet-stream"}, body_file=path,
                           count=size)
        expect(response, 201, f"push {digest} to {server.name}")
    *layers, (_, config_digest, config_size) = blobs
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": digest, "size": size} for _, digest, size in layers],
    }).encode()
    response = request(server, "PUT", f"/v2/{repo}/manifests/v1",
                       {"Content-Type": OCI_MANIFEST}, body=manifest)
    expect(response, 201, f"manifest PUT to {server.name}")


def read_blob(server: Server, target: str, size: int) -> None:
    """GET a blob and read its `size` bytes into a reused buffer.

    Raises:
        BenchError: not 200, or the body is short.
    """
    response = request(server, "GET", target)
    if response.status != 200:
        raise BenchError(f"{target} from {server.name}: HTTP {response.status}")
    view = memoryview(bytearray(8 * MIB))
    received = 0
    while n := response.readinto(view):
        received += n
    if received != size:
        raise BenchError(f"{target} from {server.name}: {received} of {size} bytes")


def wait_until_stored(data_dir: Path, blobs: list[tuple[Path, str, int]]) -> None:
    """Wait until the hub committed every blob (its last bytes go out before the commit)."""
    deadline = time.monotonic() + STORE_TIMEOUT
    for _, digest, _ in blobs:
        hexa = digest.removeprefix("sha256:")
        path = data_dir / "storage" / "blobs" / "sha256" / hexa[:2] / hexa / "data"
        while not path.exists():
            if time.monotonic() > deadline:
                raise BenchError(f"the hub did not store {digest}")
            time.sleep(0.05)


def pull_image(server: Server, repo: str) -> float:
    """Seconds to GET `repo:v1`'s manifest and then all of its blobs (after a `sync`)."""
    os.sync()
    started = time.perf_counter()
    response = request(server, "GET", f"/v2/{repo}/manifests/v1", {"Accept": OCI_MANIFEST})
    manifest = json.loads(expect(response, 200, f"manifest GET from {server.name}"))
    descriptors = [manifest["config"], *manifest["layers"]]
    with ThreadPoolExecutor(PARALLEL_BLOBS) as pool:
        list(pool.map(
            lambda d: read_blob(server, f"/v2/{repo}/blobs/{d['digest']}", d["size"]),
            descriptors,
        ))
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=5)
    parser.add_argument("--layer-mib", type=int, default=20)
    args = parser.parse_args()
    total_mib = args.layers * args.layer_mib
    with tempfile.TemporaryDirectory(prefix="proxy-bench-") as tmp:
        workdir = Path(tmp)
        # Two images with no blob in common: the hub stores each blob once, so a shared one
        # would make the first pull through the proxy a cached one.
        proxied = make_blobs(workdir, "proxied", args.layers, args.layer_mib)
        pushed_blobs = make_blobs(workdir, "pushed", args.layers, args.layer_mib)
        distribution = ReferenceRegistry(workdir / "distribution").start()
        try:
            upstream = Server("distribution", f"http://{distribution.host}")
            config = workdir / "berth.toml"
            config.write_text(f'[proxy.namespaces.up]\nurl = "{upstream.url}"\n')
            with berth(workdir, env={"BERTH_CONFIG": str(config)})() as hub:
                push_image(upstream, "bench/app", proxied)
                push_image(hub, "mine/app", pushed_blobs)
                pull_image(hub, "mine/app")  # untimed: the first pull through the proxy's peer
                direct = pull_image(upstream, "bench/app")
                first = pull_image(hub, "up/bench/app")
                wait_until_stored(workdir / "berth-data", proxied)
                cached = pull_image(hub, "up/bench/app")
                pushed = pull_image(hub, "mine/app")
        finally:
            distribution.stop()
    rows = [
        ("direct pull from Distribution", direct, None),
        ("first pull through the proxy", first, direct),
        ("pull of a pushed image from the hub", pushed, None),
        ("cached pull through the proxy", cached, pushed),
    ]
    print(f"one image: {args.layers} layers x {args.layer_mib} MiB, "
          f"{PARALLEL_BLOBS} blobs at a time, one run each")
    print(f"{'pull':<38}{'seconds':>9}{'MiB/s':>9}{'vs. the line above':>20}")
    for name, seconds, baseline in rows:
        ratio = f"{seconds / baseline:.2f}x" if baseline else ""
        print(f"{name:<38}{seconds:>9.3f}{total_mib / seconds:>9.1f}{ratio:>20}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
