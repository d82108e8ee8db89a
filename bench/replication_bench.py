"""Benchmark replication: a push rule copying an image from the hub to Distribution beside
`skopeo copy` of an image of the same size, a second run (everything skipped), and the peak
memory of the replicating process.

Run: `.venv-test/bin/python bench/replication_bench.py [--layers 5] [--layer-mib 40]` from the
repository root. It starts a hub (`--no-auth`) and Debian's Distribution (`docker-registry`)
on loopback with temporary data directories, pushes two images of `--layers` random layers of
`--layer-mib` MiB to the hub (no blob in common), then, one run each: `berth-hub replication
run` of a push rule for the first (a process of its own, its start-up included), `skopeo
copy` of the second, and the rule again. It prints seconds, MiB/s and the replicating
process's peak resident memory (GNU time's `%M`) beside that of `replication ls`: blobs
stream through it, so copying adds next to nothing.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import berth  # a sibling module, not a package
from proxy_bench import make_blobs, push_image

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from tests.support.hub import repo_env  # noqa: E402
from tests.support.reference_registry import ReferenceRegistry  # noqa: E402
from tests.support.skopeo import Skopeo  # noqa: E402


def replication(data: Path, *args: str) -> tuple[float, int]:
    """Seconds `berth-hub replication ARGS` took (it must succeed), and its peak RSS in KiB.

    GNU time measures the memory: a child forked from this (large) process would count this
    process's pages in its high-water mark before its exec.
    """
    report = data.parent / "time-report"
    started = time.perf_counter()
    subprocess.run(
        ["/usr/bin/time", "-f", "%M", "-o", str(report),
         sys.executable, "-m", "registry", "replication", *args, "--data", str(data)],
        cwd=REPO_ROOT, env=repo_env(), check=True, capture_output=True, timeout=1800,
    )  # fmt: skip
    return time.perf_counter() - started, int(report.read_text().split()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=5)
    parser.add_argument("--layer-mib", type=int, default=40)
    args = parser.parse_args()
    total_mib = args.layers * args.layer_mib
    with tempfile.TemporaryDirectory(prefix="replication-bench-") as tmp:
        workdir = Path(tmp)
        first = make_blobs(workdir, "first", args.layers, args.layer_mib)
        second = make_blobs(workdir, "second", args.layers, args.layer_mib)
        distribution = ReferenceRegistry(workdir / "distribution").start()
        skopeo = Skopeo(workdir / "skopeo")
        data = workdir / "berth-data"
        try:
            with berth(workdir)() as hub:
                push_image(hub, "bench/first", first)
                push_image(hub, "bench/second", second)
                replication(
                    data, "add", "bench", "--direction", "push",
                    "--url", f"http://{distribution.host}", "--repositories", "bench/first",
                )  # fmt: skip
                idle, idle_kib = replication(data, "ls")  # start-up and imports alone
                cold, cold_kib = replication(data, "run", "bench")
                started = time.perf_counter()
                host = hub.url.removeprefix("http://")
                skopeo.copy(f"docker://{host}/bench/second:v1",
                            f"docker://{distribution.host}/bench/second:v1")  # fmt: skip
                copied = time.perf_counter() - started
                again, _ = replication(data, "run", "bench")
        finally:
            distribution.stop()
    print(f"one image: {args.layers} layers x {args.layer_mib} MiB, hub -> Distribution, "
          "one run each")  # fmt: skip
    print(f"{'copy':<44}{'seconds':>9}{'MiB/s':>9}")
    print(f"{'berth-hub replication run (first)':<44}{cold:>9.3f}{total_mib / cold:>9.1f}")
    print(f"{'skopeo copy':<44}{copied:>9.3f}{total_mib / copied:>9.1f}")
    print(f"{'berth-hub replication run (all skipped)':<44}{again:>9.3f}")
    print(f"{'berth-hub replication ls (start-up alone)':<44}{idle:>9.3f}")
    print(f"peak RSS: {cold_kib / 1024:.0f} MiB for the first run, {idle_kib / 1024:.0f} MiB "
          f"for `ls` (one layer: {args.layer_mib} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
