"""Benchmark `berth pull` beside `docker pull` of the same image from our hub, on this machine.

Run: `python3 bench/client_pull_bench.py [--runs N] [--layers 5] [--layer-mib 20]` from the
repository root (as root: it may start a private dockerd). It starts a hub
(`python3 -m registry serve --no-auth`) on a free loopback port with a temporary data
directory, builds an image of `--layers` gzip layers each holding `--layer-mib` MiB of random
data, pushes it with `berth push`, then times cold pulls: each `berth pull` into an empty
`--root`, each `docker pull` after `docker rmi` of the image. It prints the wall time of
every run and the medians.

What each pull does differs: `docker pull` downloads, verifies and unpacks the layers into its
storage driver; `berth pull` downloads and verifies them into its content store (unpacking
happens when a container is created). Both download with 3 parallel layer transfers.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from registry.oci import mediatypes  # noqa: E402
from registry.oci.digest import Digest  # noqa: E402
from runtime_client.content.store import ContentStore  # noqa: E402
from runtime_client.images.store import ImageStore, Layer  # noqa: E402
from tests.support.dockerd import DockerDaemon, docker_cli  # noqa: E402
from tests.support.hub import HubProcess, repo_env  # noqa: E402

MIB = 1024 * 1024


def build_image(root: Path, name: str, layers: int, layer_mib: int) -> str:
    """Create the test image directly in a berth store; returns its ID."""
    content = ContentStore(root)
    images = ImageStore(root, content, "docker.io")
    made = []
    for n in range(layers):
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            data = os.urandom(layer_mib * MIB)
            info = tarfile.TarInfo(f"layer-{n}.bin")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        tar = buffer.getvalue()
        blob = gzip.compress(tar, compresslevel=1, mtime=0)
        digest = content.put(blob)
        made.append(Layer(digest, mediatypes.DOCKER_LAYER, len(blob), Digest.of(tar)))
    config = json.dumps({
        "architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
        "config": {"Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": [str(layer.diff_id) for layer in made]},
    }).encode()
    image = images.create(config, made, tags=[name], config_media_type=mediatypes.DOCKER_CONFIG)
    images.close()
    return str(image.id)


def berth(root: Path, *args: str) -> float:
    """Run `berth --root ROOT ARGS...`; returns its wall time in seconds."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "runtime_client", "--root", str(root), *args],
                   env=repo_env(), check=True, capture_output=True, cwd=REPO_ROOT)
    return time.perf_counter() - start


def docker_pull(daemon: DockerDaemon, name: str) -> float:
    """`docker rmi` then a timed `docker pull`."""
    daemon.run("rmi", name, check=False)
    start = time.perf_counter()
    daemon.run("pull", name)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="cold pulls per client")
    parser.add_argument("--layers", type=int, default=5)
    parser.add_argument("--layer-mib", type=int, default=20)
    args = parser.parse_args()
    if docker_cli() is None:
        print("docker CLI not found", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="berth-pull-bench-") as tmp:
        work = Path(tmp)
        hub = HubProcess(work / "hub-data", work / "hub.log").start()
        daemon = DockerDaemon.existing() or DockerDaemon.start()
        try:
            name = f"{hub.host}/bench/layers:{args.layers}x{args.layer_mib}"
            build_image(work / "source", name, args.layers, args.layer_mib)
            push_time = berth(work / "source", "push", name)
            berth_times, docker_times = [], []
            for run in range(args.runs):
                docker_times.append(docker_pull(daemon, name))
                berth_times.append(berth(work / f"pull-{run}", "pull", name))
            daemon.run("rmi", name, check=False)
        finally:
            daemon.stop()
            hub.stop()
    total = args.layers * args.layer_mib
    print(f"image: {args.layers} layers x {args.layer_mib} MiB random data ({total} MiB), "
          f"hub on loopback; berth push took {push_time:.2f} s")
    print(f"{'client':<14}" + "".join(f"run {n + 1:<6}" for n in range(args.runs))
          + "median    MiB/s")
    for label, times in (("berth pull", berth_times), ("docker pull", docker_times)):
        median = statistics.median(times)
        print(f"{label:<14}" + "".join(f"{t:<10.2f}" for t in times)
              + f"{median:<10.2f}{total / median:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
