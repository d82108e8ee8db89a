"""`berth container logs` / `berth logs [-f] [--tail N] [-t] [--since T] [--until T]
[--details]`."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from runtime_client.cli.base import CliContext
from runtime_client.cli.containers_common import fail, open_context
from runtime_client.container_errors import ContainerError
from runtime_client.errors import RuntimeClientError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `logs` flags."""
    parser.add_argument("-f", "--follow", action="store_true", help="follow log output")
    parser.add_argument("-n", "--tail", default="all",
                        help="number of lines to show from the end of the logs")
    parser.add_argument("-t", "--timestamps", action="store_true", help="show timestamps")
    parser.add_argument("--since", help="show logs since a timestamp (e.g. "
                        "2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)")
    parser.add_argument("--until", help="show logs before a timestamp (e.g. "
                        "2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)")
    parser.add_argument("--details", action="store_true",
                        help="show extra details provided to logs")
    parser.add_argument("container", metavar="CONTAINER")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Print a container's output."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.logs import LogsOptions, logs
    from runtime_client.timefilter import parse_log_time
    ctx.stdout.flush()
    try:
        now = datetime.now(UTC)
        since, until = (parse_log_time(flag, value, now) if value else None
                        for flag, value in (("since", args.since), ("until", args.until)))
        opts = LogsOptions(args.container, args.follow, args.tail, args.timestamps, since, until,
                           args.details)
        with open_context(ctx) as c:
            logs(c, opts, ctx.stdout_binary, ctx.stderr.buffer)  # type: ignore[attr-defined]
    except (ContainerError, RuntimeClientError) as exc:
        return fail(ctx, exc)
    return 0
