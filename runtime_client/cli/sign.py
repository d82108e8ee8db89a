"""`berth sign`: sign an image in cosign's or Notation's format (or Docker Content Trust).

    berth sign --format cosign --key cosign.key [-a KEY=VALUE] IMAGE
    berth sign --format notation --key notation.key --cert notation.crt IMAGE
    berth sign --format dct IMAGE:TAG            (as `berth trust sign`)
    berth sign --format cosign|notation --generate-key PREFIX

An encrypted PKCS#8 key's password is read from `$BERTH_SIGN_PASSWORD`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
from pathlib import Path

from runtime_client.cli.base import CliContext, progress_for, stores_of
from runtime_client.errors import UsageError
from runtime_client.options import PushOptions, SignOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `sign` arguments."""
    parser.add_argument("--format", choices=("cosign", "notation", "dct"), default="cosign",
                        help="signature format (default cosign)")
    parser.add_argument("--key", type=Path, help="PEM PKCS#8 private key")
    parser.add_argument("--cert", type=Path,
                        help="Notation: PEM certificate chain of the key, leaf first")
    parser.add_argument("-a", "--annotation", action="append", default=[],
                        help="cosign: KEY=VALUE signed into the payload")
    parser.add_argument("--generate-key", type=Path, metavar="PREFIX",
                        help="write a new key pair (PREFIX.key, and PREFIX.pub or PREFIX.crt)")
    parser.add_argument("--subject", help="common name of a generated Notation certificate")
    parser.add_argument("name", metavar="IMAGE", nargs="?")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Sign an image, or generate a key pair."""
    # Imported here: argv parsing loads every verb module, each command needs only its own.
    from runtime_client.ops import sign as ops

    now = dt.datetime.now(dt.UTC)
    password = ctx.env.get("BERTH_SIGN_PASSWORD") or None
    if args.generate_key is not None:
        if args.format == "dct":
            raise UsageError("Docker Content Trust keys: use `berth trust key generate`")
        for path in ops.generate_keys(args.generate_key, args.format, now, password,
                                      args.subject):
            ctx.stdout.write(f"{path}\n")
        return 0
    if args.name is None:
        raise UsageError("sign needs an IMAGE")
    if args.format == "dct":
        from runtime_client.ops.push import push
        with stores_of(ctx) as stores:
            asyncio.run(push(stores, ctx.config, PushOptions(args.name, content_trust=True),
                             ctx.stdout, progress_for(ctx), ctx.env))
        return 0
    if args.key is None:
        raise UsageError(f"{args.format} signing needs --key")
    annotations = []
    for item in args.annotation:
        name, eq, value = item.partition("=")
        if not eq or not name:
            raise UsageError(f"annotation {item!r} is not KEY=VALUE")
        annotations.append((name, value))
    opts = SignOptions(args.name, args.format, args.key, args.cert, tuple(annotations), password)
    ref, digest, signature = asyncio.run(ops.sign(ctx.config, opts, now))
    ctx.stdout.write(f"Signed {ref}@{digest} ({args.format}): {signature}\n")
    return 0
