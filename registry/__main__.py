"""`python -m registry` / `berth-hub`."""

from __future__ import annotations

import sys

from registry.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
