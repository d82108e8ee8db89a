"""Server time of the web interface's heaviest pages, beside Berth's JSON tag lists.

Run: `python3 bench/web_bench.py` from the repository root (`--image-mib 1024` by default;
`--rounds N`). It starts one open hub (`--no-auth`) with an empty data directory on a free
loopback port and pushes:

- `bench/tags`: one small image under 2,000 tags;
- `bench/layers:50`: an image of 50 small gzip layers with a history step each;
- `bench/big:1`: a 1 GiB image (two layers: a directory of 10,000 empty files, then one file of
  incompressible bytes), stored gzip-compressed as pushed.

Then it requests, one at a time, the repository page (first page of 25 tags, sorted by push
time), the Hub API's JSON tag list of the same repository (every tag described), the OCI tag
list, the tag page of the 50-layer image, and the file browser's first page of the
10,000-entry directory (the first visit streams every layer of the 1 GiB image; later ones,
here its second page, read the cached layer index). Server time is the
`duration_ms` the hub's own access log records for each request (matched by `X-Request-Id`);
the table prints its median and 90th percentile per page.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import statistics
import sys
import tarfile
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # a sibling module, not a package
    OCI_MANIFEST,
    Server,
    berth,
    expect,
    prepare_small_image,
    push_small,
    request,
    start_upload,
    with_digest,
)

GZIP_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"


def _tar_gz(entries: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz, tarfile.open(
        fileobj=gz, mode="w"
    ) as archive:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _push_image(server: Server, repo: str, tag: str, layers: list[tuple[str, int]],
                history: list[str]) -> None:
    """Push a config and the manifest over layers already pushed as (digest, size)."""
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["sh"], "Env": ["PATH=/usr/bin"]},
        "history": [{"created_by": step} for step in history],
    }).encode()
    config_digest = push_small(server, repo, config)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config)},
        "layers": [{"mediaType": GZIP_LAYER, "digest": d, "size": s} for d, s in layers],
    }).encode()
    expect(request(server, "PUT", f"/v2/{repo}/manifests/{tag}",
                   {"Content-Type": OCI_MANIFEST}, body=manifest), 201, "manifest PUT")


def push_layered(server: Server, count: int) -> None:
    layers = []
    for number in range(count):
        data = _tar_gz([(f"layer{number}/file.txt", f"layer {number}\n".encode())])
        layers.append((push_small(server, "bench/layers", data), len(data)))
    _push_image(server, "bench/layers", str(count), layers,
                [f"RUN step {number} of the bench image" for number in range(count)])


class _RandomReader(io.RawIOBase):
    """`size` incompressible bytes, made as they are read (nothing held but one chunk)."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        count = min(len(buffer), self.left, 1 << 20)
        buffer[:count] = os.urandom(count)
        self.left -= count
        return count


def _big_layer(path: Path, size: int) -> tuple[str, int]:
    with (
        path.open("wb") as out,
        gzip.GzipFile(fileobj=out, mode="wb", mtime=0, compresslevel=1) as gz,
        tarfile.open(fileobj=gz, mode="w") as archive,
    ):
        info = tarfile.TarInfo("data/random.bin")
        info.size = size
        archive.addfile(info, io.BufferedReader(_RandomReader(size), 1 << 20))
    digest = hashlib.sha256()
    with path.open("rb") as data:
        while chunk := data.read(1 << 20):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest(), path.stat().st_size


def push_big(server: Server, workdir: Path, mib: int, entries: int) -> None:
    listing = _tar_gz([("big/dir/", b"")] + [(f"big/dir/f{n:05}", b"") for n in range(entries)])
    small = (push_small(server, "bench/big", listing), len(listing))
    path = workdir / "big-layer.tar.gz"
    digest, size = _big_layer(path, mib * 1024 * 1024)
    location = with_digest(start_upload(server, "bench/big"), digest)
    expect(request(server, "PUT", location, {"Content-Type": "application/octet-stream"},
                   body_file=path, count=size), 201, "big blob PUT")
    path.unlink()
    _push_image(server, "bench/big", "1", [small, (digest, size)],
                [f"ADD {entries} empty files", f"ADD {mib} MiB of random bytes"])


def server_times(server: Server, log: Path, target: str, rounds: int) -> list[float]:
    """Milliseconds the hub's access log records for `rounds` GETs of `target`."""
    ids = []
    for _ in range(rounds):
        request_id = uuid.uuid4().hex
        expect(request(server, "GET", target, {"X-Request-Id": request_id}), 200, target)
        ids.append(request_id)
    wanted, times = set(ids), []
    for line in log.read_text(errors="replace").splitlines():
        _, marker, text = line.partition(" registry.access ")
        if marker:
            record = json.loads(text)
            if record.get("request_id") in wanted:
                times.append(float(record["duration_ms"]))
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20, help="requests per page (default 20)")
    parser.add_argument("--file-rounds", type=int, default=3,
                        help="file browser requests after the first (default 3)")
    parser.add_argument("--image-mib", type=int, default=1024, help="big image size (MiB)")
    parser.add_argument("--entries", type=int, default=10_000, help="files in the big directory")
    parser.add_argument("--tags", type=int, default=2000, help="tags of bench/tags")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="berth-web-bench-") as tmp:
        workdir = Path(tmp)
        with berth(workdir)() as server:
            print(f"pushing {args.tags} tags, a 50-layer image and a {args.image_mib} MiB image",
                  file=sys.stderr)
            prepare_small_image(server, "bench/tags", args.tags - 1)
            push_layered(server, 50)
            push_big(server, workdir, args.image_mib, args.entries)
            log = workdir / "berth.log"
            cases = [
                (f"repository page, {args.tags:,} tags (first 25)", "/r/bench/tags",
                 args.rounds),
                (f"JSON tag list, Hub API (all {args.tags:,})",
                 "/api/v1/repositories/bench/tags/tags", args.rounds),
                ("JSON tag list, OCI /v2/.../tags/list", "/v2/bench/tags/tags/list", args.rounds),
                ("tag page, 50 layers", "/r/bench/layers/-/tags/50", args.rounds),
                (f"file browser, {args.entries:,} entries, {args.image_mib} MiB image (first 100)",
                 "/r/bench/big/-/tags/1/files?path=/big/dir", 1),
                ("file browser, the same image again (layer index cached)",
                 "/r/bench/big/-/tags/1/files?path=/big/dir&page=2", args.file_rounds),
            ]
            print(f"{'page':<64} {'median ms':>10} {'p90 ms':>10}")
            for label, target, rounds in cases:
                times = sorted(server_times(server, log, target, rounds))
                p90 = times[min(len(times) - 1, int(len(times) * 0.9))]
                print(f"{label:<64} {statistics.median(times):>10.1f} {p90:>10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
