"""`berth-hub tls dev-cert`: a local CA and a certificate for 127.0.0.1/localhost in one line."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from registry.cli.common import settings_from_args
from registry.tlscerts import make_dev_certificates


def register(parser: argparse.ArgumentParser, add_common: Callable) -> None:
    actions = parser.add_subparsers(dest="tls_command", required=True)
    dev = actions.add_parser(
        "dev-cert", help="make a development CA and a server certificate for loopback"
    )
    add_common(dev)
    dev.add_argument("--out", help="directory for the PEM files (default <data>/tls)")
    dev.add_argument(
        "--host", action="append", default=[], help="another host name or address (repeatable)"
    )
    dev.set_defaults(func=run_dev_cert)


def run_dev_cert(args: argparse.Namespace) -> int:
    out = Path(args.out) if args.out else settings_from_args(args).data_dir / "tls"
    files = make_dev_certificates(out, args.host)
    print(f"CA certificate (give it to clients): {files.ca_cert}")
    print(f"serve with: berth-hub serve --tls-cert {files.cert} --tls-key {files.key}")
    return 0
