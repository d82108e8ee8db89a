"""`berth container inspect [-f FORMAT] CONTAINER...`, also `berth inspect NAME...`, which
(like Docker's) falls back to images for names that are not containers."""

from __future__ import annotations

import argparse
from typing import Any

from runtime_client.cli.base import CliContext
from runtime_client.cli.containers_common import open_context, print_documents
from runtime_client.container_errors import ContainerError
from runtime_client.errors import RuntimeClientError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `inspect` flags."""
    parser.add_argument("-f", "--format", help="a Go-style template")
    parser.add_argument("containers", nargs="+", metavar="CONTAINER")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Print Docker's inspect JSON (or the template) for each container."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.inspect import inspect
    found = []
    status = 0
    with open_context(ctx) as c:
        for ref in args.containers:
            try:
                found.append(inspect(c, ref))
            except (ContainerError, RuntimeClientError):
                image = _image_document(ctx, ref)
                if image is None:
                    ctx.stderr.write(f"Error: No such object: {ref}\n")
                    status = 1
                else:
                    found.append(image)
    print_documents(ctx, args.format, found)
    return status


def _image_document(ctx: CliContext, ref: str) -> dict[str, Any] | None:
    """`image inspect`'s document for `ref`, or None when no image has that name."""
    from runtime_client.cli.base import stores_of
    from runtime_client.ops.image_inspect import inspect_document

    with stores_of(ctx) as stores:
        try:
            image = stores.images.resolve(ref)
        except RuntimeClientError:
            return None
        size = stores.images.unpacked_sizes([image])[image.id]
        return inspect_document(image, stores.images.default_registry, size)
