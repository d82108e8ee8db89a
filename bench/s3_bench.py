"""Blob push and pull MiB/s on S3 (a moto server on loopback), redirect on and off, beside the
filesystem driver.

Run: `python3 bench/s3_bench.py [--size-mib 64] [--runs 3]` from the repository root. It starts
a moto S3 server (`python -m moto.server`) and three hubs (`python3 -m registry serve
--no-auth`, each with SQLite in a temporary directory): filesystem storage, S3 storage, and S3
storage with `BERTH_S3_REDIRECT=true` (blob GETs answered with 307 to a presigned URL, which
the client follows to moto). For each it measures, as the median of `--runs`:

- chunked push: POST a session, 8 MiB PATCHes with Content-Range, PUT with `?digest=`;
- monolithic push: one `POST ?digest=` with the whole blob (Content-Length known);
- pull: GET the blob (following redirects), reading it all.

moto keeps objects in its own Python process, so S3 figures here measure the hub's S3 path
against a slow object store, not AWS. The raw row is boto3 straight to moto (put/get one
object) for scale. Everything is stopped at the end; nothing leaves loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import REPO_ROOT, free_port, running  # a sibling module, not a package

from tests.support.s3server import S3Server

CHUNK = 8 << 20  # bytes per PATCH


def hub_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BERTH_")}
    env.update(PYTHONPATH=str(REPO_ROOT), BERTH_LOG_LEVEL="WARNING", **extra)
    return env


async def push(base: str, repo: str, data: bytes, digest: str) -> float:
    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        async with session.post(f"{base}/v2/{repo}/blobs/uploads/") as resp:
            assert resp.status == 202, await resp.text()
            location = resp.headers["Location"]
        for offset in range(0, len(data), CHUNK):
            piece = data[offset:offset + CHUNK]
            headers = {"Content-Range": f"{offset}-{offset + len(piece) - 1}",
                       "Content-Type": "application/octet-stream"}
            async with session.patch(f"{base}{location}", data=piece, headers=headers) as resp:
                assert resp.status == 202, await resp.text()
                location = resp.headers["Location"]
        separator = "&" if "?" in location else "?"
        async with session.put(f"{base}{location}{separator}digest={digest}") as resp:
            assert resp.status == 201, await resp.text()
        return time.perf_counter() - started


async def push_monolithic(base: str, repo: str, data: bytes, digest: str) -> float:
    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        url = f"{base}/v2/{repo}/blobs/uploads/?digest={digest}"
        async with session.post(url, data=data) as resp:
            assert resp.status == 201, await resp.text()
        return time.perf_counter() - started


async def pull(base: str, repo: str, digest: str, size: int) -> float:
    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        async with session.get(f"{base}/v2/{repo}/blobs/{digest}") as resp:
            assert resp.status == 200, await resp.text()
            received = 0
            async for chunk in resp.content.iter_chunked(1 << 20):
                received += len(chunk)
        assert received == size
        return time.perf_counter() - started


def measure(base: str, data: bytes, runs: int) -> tuple[float, float, float]:
    mib = len(data) / (1 << 20)
    pushes, monolithic, pulls = [], [], []
    for run in range(runs):
        blob = data[:-8] + run.to_bytes(8, "big")  # a new digest each run
        digest = "sha256:" + hashlib.sha256(blob).hexdigest()
        pushes.append(mib / asyncio.run(push(base, "bench/blob", blob, digest)))
        pulls.append(mib / asyncio.run(pull(base, "bench/blob", digest, len(blob))))
        blob = data[:-8] + (run + runs).to_bytes(8, "big")
        digest = "sha256:" + hashlib.sha256(blob).hexdigest()
        monolithic.append(mib / asyncio.run(push_monolithic(base, "bench/blob", blob, digest)))
    return (
        statistics.median(pushes), statistics.median(monolithic), statistics.median(pulls)
    )


def raw_moto(
    moto: S3Server, bucket: str, data: bytes, runs: int
) -> tuple[float, float, float]:
    client = moto.client()
    mib = len(data) / (1 << 20)
    puts, gets = [], []
    for run in range(runs):
        started = time.perf_counter()
        client.put_object(Bucket=bucket, Key=f"raw/{run}", Body=data)
        puts.append(mib / (time.perf_counter() - started))
        started = time.perf_counter()
        client.get_object(Bucket=bucket, Key=f"raw/{run}")["Body"].read()
        gets.append(mib / (time.perf_counter() - started))
    put = statistics.median(puts)
    return put, put, statistics.median(gets)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=64, help="blob size (MiB)")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    args = parser.parse_args()
    data = os.urandom(args.size_mib << 20)
    results: dict[str, tuple[float, float, float]] = {}
    with tempfile.TemporaryDirectory(prefix="berth-s3-bench-") as tmp:
        work = Path(tmp)
        moto = S3Server(work / "moto.log").start()
        try:
            setups = {
                "filesystem": {},
                "s3 (stream)": {"BERTH_STORAGE": "s3://bench-stream/hub"},
                "s3 (redirect)": {"BERTH_STORAGE": "s3://bench-redirect/hub",
                                  "BERTH_S3_REDIRECT": "true"},
            }
            for bucket in ("bench-stream", "bench-redirect", "bench-raw"):
                moto.client().create_bucket(Bucket=bucket)
            for label, extra in setups.items():
                port = free_port()
                env = hub_env({**moto.env(), **extra})
                command = [sys.executable, "-m", "registry", "serve", "--no-auth", "--listen",
                           f"127.0.0.1:{port}", "--data", str(work / label.split()[0] / label)]
                base = f"http://127.0.0.1:{port}"
                with running(label, command, base, "/v2/", work / f"{port}.log", env):
                    results[label] = measure(base, data, args.runs)
            results["moto raw (boto3)"] = raw_moto(moto, "bench-raw", data, args.runs)
        finally:
            moto.stop()
    print(f"blob {args.size_mib} MiB, median of {args.runs} runs, MiB/s")
    print(f"{'storage':<20} {'push (8 MiB chunks)':>20} {'push (monolithic)':>18} {'pull':>10}")
    for label, (push_rate, mono_rate, pull_rate) in results.items():
        print(f"{label:<20} {push_rate:>20.1f} {mono_rate:>18.1f} {pull_rate:>10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
