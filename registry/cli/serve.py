"""`berth-hub serve`: run the hub."""

from __future__ import annotations

import argparse
import errno
import logging
import os
import ssl
import sys
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from registry.api.accesslog import install_stream_sink
from registry.app import create_app
from registry.auth.keyseal import SigningKeyError
from registry.cli.common import settings_from_args, setup_logging
from registry.cli.workers import add_workers
from registry.datadir import prepare_data_dir
from registry.db.migrate import SchemaBehindError

logger = logging.getLogger(__name__)


def register(parser: argparse.ArgumentParser, add_common: Callable) -> None:
    add_common(parser)
    parser.add_argument(
        "--listen", help="HOST:PORT to listen on (env BERTH_LISTEN; default 127.0.0.1:5000)"
    )
    parser.add_argument("--tls-cert", help="PEM certificate chain for https (env BERTH_TLS_CERT)")
    parser.add_argument("--tls-key", help="PEM private key for https (env BERTH_TLS_KEY)")
    parser.add_argument(
        "--no-auth", action="store_true", help="run an open registry (env BERTH_AUTH=none)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        help="processes serving the same address through SO_REUSEPORT (env BERTH_WORKERS)",
    )
    parser.set_defaults(func=run)


def _ssl_context(cert: Path | None, key: Path | None) -> ssl.SSLContext | None:
    if cert is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(
        args,
        listen=args.listen,
        tls_cert=Path(args.tls_cert) if args.tls_cert else None,
        tls_key=Path(args.tls_key) if args.tls_key else None,
        auth_enabled=False if args.no_auth else None,
        workers=args.workers,
    )
    setup_logging(settings.log_level)
    install_stream_sink(sys.stderr)  # where setup_logging sends every line
    prepare_data_dir(settings)
    scheme = "https" if settings.tls_cert else "http"
    print(
        f"berth-hub serving on {scheme}://{settings.listen_host}:{settings.listen_port} "
        f"(data in {settings.data_dir})",
        file=sys.stderr,
        flush=True,
    )
    try:
        app = create_app(settings)
        if settings.workers > 1:
            add_workers(app, settings.workers - 1)
        # The default asyncio loop on purpose: its sendfile makes blob pulls zero-copy.
        web.run_app(
            app,
            host=settings.listen_host,
            port=settings.listen_port,
            ssl_context=_ssl_context(settings.tls_cert, settings.tls_key),
            access_log=None,
            print=None,
            reuse_port=True,
        )
    except (SchemaBehindError, SigningKeyError) as exc:
        print(f"berth-hub: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
            raise
        print(f"berth-hub: cannot listen on {settings.listen_host}:{settings.listen_port}: "
              f"{os.strerror(exc.errno)}", file=sys.stderr)
        return 2
    return 0

