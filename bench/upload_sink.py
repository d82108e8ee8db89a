"""A bare upload sink for the write benchmark's ceiling rows: what Berth's stack allows.

Run: `python3 bench/upload_sink.py --port PORT [--store DIR]`. A one-route aiohttp app with
Berth's request buffer that speaks just enough of the upload protocol for `push_monolithic`
and `push_chunked` (POST answers 202 with a Location, PATCH 202, PUT 201) and does for every
body only what any registry must: receive it and hash it (sha256, in a worker thread as Berth
does). With `--store DIR` it also writes each upload to one file there, fsynced before the
final 201, as a durable registry must. No routing, database, auth or checks: the upper bound
of a blob push through aiohttp on this machine, with and without a durable disk write.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import uuid
from pathlib import Path
from typing import Any

from aiohttp import web

READ_BUFFER = 1 << 20  # as Berth's (registry.app.READ_BUFFER)


class Upload:
    """One upload's running digest and, with a store, its open file."""

    def __init__(self, store: Path | None) -> None:
        self.digest = hashlib.sha256()
        self.fd = None if store is None else os.open(
            store / uuid.uuid4().hex, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)

    def write(self, chunk: bytes) -> None:
        view = memoryview(chunk)
        while view and self.fd is not None:
            view = view[os.write(self.fd, view):]

    def finish(self) -> None:
        if self.fd is not None:
            os.fsync(self.fd)
            os.close(self.fd)


def make_app(store: Path | None) -> web.Application:
    uploads: dict[str, Upload] = {}

    async def receive(request: web.Request, upload: Upload) -> None:
        pending: Any = None
        async for chunk in request.content.iter_any():
            if pending is not None:
                await pending
            pending = asyncio.gather(asyncio.to_thread(upload.digest.update, chunk),
                                     asyncio.to_thread(upload.write, chunk))
        if pending is not None:
            await pending

    async def start(request: web.Request) -> web.Response:
        upload_id = uuid.uuid4().hex
        uploads[upload_id] = Upload(store)
        return web.Response(status=202, headers={"Location": f"/upload/{upload_id}"})

    async def patch(request: web.Request) -> web.Response:
        await receive(request, uploads[request.match_info["id"]])
        return web.Response(status=202, headers={"Location": request.path})

    async def put(request: web.Request) -> web.Response:
        upload = uploads.pop(request.match_info["id"])
        await receive(request, upload)
        await asyncio.to_thread(upload.finish)
        wanted = request.query.get("digest", "")
        status = 201 if wanted == "sha256:" + upload.digest.hexdigest() else 400
        return web.Response(status=status)

    async def healthz(request: web.Request) -> web.Response:
        return web.Response()

    app = web.Application(client_max_size=0, handler_args={"read_bufsize": READ_BUFFER})
    app.router.add_get("/v2/", healthz)
    app.router.add_post("/v2/{name:.+}/blobs/uploads/", start)
    app.router.add_patch("/upload/{id}", patch)
    app.router.add_put("/upload/{id}", put)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--store", type=Path, help="write and fsync uploads here")
    args = parser.parse_args()
    web.run_app(make_app(args.store), host="127.0.0.1", port=args.port, access_log=None,
                print=None)


if __name__ == "__main__":
    main()
