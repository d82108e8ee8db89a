"""`python -m runtime_client`: the `berth` command line."""

from __future__ import annotations

import sys

from runtime_client.cli.main import main as _cli_main

__all__ = ["main"]


def main() -> None:
    """Run `berth` with `sys.argv` and exit with its status (the `berth` console script)."""
    sys.exit(_cli_main())


if __name__ == "__main__":
    main()
