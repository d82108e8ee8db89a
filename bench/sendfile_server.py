"""Bare file servers for the benchmark's baselines: every GET gets one file.

Run: `python3 bench/sendfile_server.py --port PORT [--flavour sendfile|aiohttp] FILE`.
`sendfile` is a threaded http.server that hands the whole file to os.sendfile: no routing, no
framework, the upper bound a blob pull can approach on this machine. `aiohttp` is a one-route
aiohttp app answering with `web.FileResponse` (sendfile through the event loop), the bound for
a server on Berth's framework. Both answer `/healthz` with 200 for readiness probes.
"""

from __future__ import annotations

import argparse
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def make_handler(path: str) -> type[BaseHTTPRequestHandler]:
    """A request handler class that answers every GET with the file at `path`."""

    class SendfileHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            if self.path == "/healthz":
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            with open(path, "rb") as file:
                size = os.fstat(file.fileno()).st_size
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(size))
                self.end_headers()
                self.wfile.flush()
                offset = 0
                while offset < size:
                    offset += os.sendfile(self.connection.fileno(), file.fileno(), offset,
                                          size - offset)

        def log_message(self, format: str, *args: object) -> None:
            """Stay quiet: the benchmark reads only figures."""

    return SendfileHandler


def serve_aiohttp(port: int, path: str) -> None:
    """Serve `path` with aiohttp's FileResponse until killed."""
    from aiohttp import web

    async def healthz(request: web.Request) -> web.Response:
        return web.Response()

    async def blob(request: web.Request) -> web.FileResponse:
        return web.FileResponse(path)

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/{tail:.*}", blob)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def main() -> None:
    """Serve the file until killed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--flavour", choices=["sendfile", "aiohttp"], default="sendfile")
    parser.add_argument("file")
    args = parser.parse_args()
    if args.flavour == "aiohttp":
        serve_aiohttp(args.port, args.file)
        return
    ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(args.file)).serve_forever()


if __name__ == "__main__":
    main()
