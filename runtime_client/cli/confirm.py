"""Docker's confirmation prompt for commands that delete (`prune`), answered on stdin."""

from __future__ import annotations

from runtime_client.cli.base import CliContext

__all__ = ["confirmed"]


def confirmed(ctx: CliContext, warning: str) -> bool:
    """Print `warning` and Docker's question; True only for the answer `y` (any case).

    As with the docker CLI, the prompt goes to stdout without a newline, and an empty or
    closed stdin means no.
    """
    ctx.stdout.write(f"{warning}\nAre you sure you want to continue? [y/N] ")
    ctx.stdout.flush()
    answer = ctx.stdin.readline().decode(errors="replace")
    return answer.strip().lower() == "y"
