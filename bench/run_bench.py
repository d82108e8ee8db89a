"""`berth run --rm IMG true` wall time beside `docker run --rm IMG true` on this machine.

Run as root from the repository root: `python3 bench/run_bench.py [--runs N]`. It installs
berth as a user would (`pip install .` into a new virtual environment, so the `berth` console
script runs with compiled bytecode and nothing on the path but its dependencies), builds the
busybox test image (tests/support/images.py), loads it into Docker from a `docker save`
archive and into berth by pushing it to a throwaway hub and pulling it, then times with
hyperfine:

- berth, default `bridge` network (netavark: namespace, veth, bridge, addresses) and --net none;
- docker, a bridge network and --net none.

Docker is the running daemon when `docker info` answers, else a private dockerd started with
`--bridge=none --iptables=false` (then the bridge case uses a user-defined bridge network
`berth-bench` made for the run). Everything it starts is stopped and removed at the end. The
commands are timed in interleaved rounds; the table gives the median, mean ± stddev and
minimum seconds per run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from tests.support.dockerd import DockerDaemon  # noqa: E402
from tests.support.hub import HubProcess, repo_env  # noqa: E402
from tests.support.images import (  # noqa: E402
    DOCKER_ARCHIVE_TAG,
    build_image,
    write_docker_archive,
    write_oci_layout,
)

BENCH_NET = "berth-bench"
BENCH_SUBNET = "10.89.202.0/24"


def install_berth(venv: Path) -> Path:
    """`pip install` this checkout into a new virtual environment; the `berth` script's path."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", str(REPO_ROOT)],
                   env=env, check=True, stdout=sys.stderr)
    return venv / "bin" / "berth"


def hyperfine(commands: dict[str, str], runs: int, rounds: int, env: dict[str, str],
              workdir: Path) -> dict[str, list[float]]:
    """Wall times (seconds) of each command: `rounds` hyperfine rounds of `runs` runs each,
    so that a noisy stretch on the machine falls on every command alike."""
    export = workdir / "hyperfine.json"
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(rounds):
        argv = ["hyperfine", "--warmup", "1", "--runs", str(runs), "--export-json",
                str(export), "--style", "basic"]
        for name, command in commands.items():
            argv += ["-n", name, command]
        subprocess.run(argv, env=env, check=True, stdout=sys.stderr)
        for result in json.loads(export.read_text())["results"]:
            times[result["command"]] += result["times"]
    return times


def main() -> int:
    """Build, load, time, print, clean up."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="runs per command per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("run as root: berth needs mounts, namespaces and cgroups", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="berth-run-bench-"))
    root = workdir / "berth-root"
    env = {k: v for k, v in repo_env().items() if k != "PYTHONPATH"}
    berth = f"{install_berth(workdir / 'venv')} --root {root}"
    image = build_image("amd64")
    hub = HubProcess(workdir / "hub-data", workdir / "hub.log")
    docker = DockerDaemon.existing()
    private = docker is None
    docker_net = "bridge"
    try:
        hub.start()
        layout = write_oci_layout(workdir / "layout", "v1", image)
        ref = f"{hub.host}/berth-test/busybox:v1"
        subprocess.run(["skopeo", "copy", "--dest-tls-verify=false", "--dest-no-creds",
                        layout.reference, f"docker://{ref}"], check=True,
                       capture_output=True)
        subprocess.run([*berth.split(), "pull", ref], env=env, check=True,
                       capture_output=True)
        if docker is None:
            docker = DockerDaemon.start()
        docker.run("load", "-i", str(write_docker_archive(workdir / "image.tar", image,
                                                          DOCKER_ARCHIVE_TAG)))
        if private:
            docker.run("network", "create", "--subnet", BENCH_SUBNET, BENCH_NET)
            docker_net = BENCH_NET
        docker_cli = shutil.which("docker")
        docker_env = {**env, **docker.env()}
        commands = {
            "berth bridge": f"{berth} run --rm {ref} true",
            "berth --net none": f"{berth} run --rm --net none {ref} true",
            "docker bridge": f"{docker_cli} run --rm --net {docker_net} {DOCKER_ARCHIVE_TAG} true",
            "docker --net none": f"{docker_cli} run --rm --net none {DOCKER_ARCHIVE_TAG} true",
        }
        times = hyperfine(commands, args.runs, args.rounds, docker_env, workdir)
        total = args.runs * args.rounds
        print(f"\n`run --rm IMG true`, {total} runs each in {args.rounds} interleaved rounds: "
              "median (mean ± stddev, min), seconds")
        print(f"{'':10}{'bridge':>34}{'--net none':>34}")
        for tool in ("berth", "docker"):
            cells = [times[f"{tool} bridge"], times[f"{tool} --net none"]]
            print(f"{tool:10}" + "".join(
                f"{statistics.median(t):>10.3f} ({statistics.mean(t):.3f} ± "
                f"{statistics.stdev(t):.3f}, {min(t):.3f})" for t in cells))
        where = f"private dockerd, user bridge {BENCH_NET}" if private else "running daemon"
        print(f"(docker: {where})")
        return 0
    finally:
        if docker is not None:
            if private:
                docker.run("network", "rm", BENCH_NET, check=False)
            docker.run("rmi", DOCKER_ARCHIVE_TAG, check=False)
            if docker.started_here:
                docker.stop()
        subprocess.run([*berth.split(), "system", "prune", "-a", "-f"], env=env,
                       capture_output=True, check=False)
        hub.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
