"""`python -m runtime_client`: the `berth` command line."""

from __future__ import annotations

import os
import sys

from runtime_client.cli.main import main as _cli_main

__all__ = ["main"]


def main() -> None:
    """Run `berth` with `sys.argv` and exit with its status (the `berth` console script).

    The process ends with `os._exit` once the output is flushed: every command has closed
    what it opened by then, and tearing the interpreter down would only free memory, which
    costs a short command like `berth run --rm` about a tenth of its time.
    """
    code = _cli_main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):
            code = code or 1
    os._exit(code)


if __name__ == "__main__":
    main()
