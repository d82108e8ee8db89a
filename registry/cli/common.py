"""What the command groups share: `Settings` from parsed arguments, logging, tables."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from registry.config import load_settings
from registry.settings import Settings


def settings_from_args(args: argparse.Namespace, **extra: Any) -> Settings:
    """Settings from `--config`/`BERTH_CONFIG`, the environment and the flags.

    Raises:
        ConfigError: the configuration has mistakes.
    """
    overrides: dict[str, Any] = {
        "data_dir": Path(args.data) if getattr(args, "data", None) else None,
        "database_url": getattr(args, "database", None),
        "storage_url": getattr(args, "storage", None),
    }
    overrides.update(extra)
    config = getattr(args, "config", None)
    return load_settings(Path(config) if config else None, **overrides)


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print rows under headers, each column as wide as its widest cell (three spaces apart)."""
    cells = [list(map(str, headers)), *([str(cell) for cell in row] for row in rows)]
    widths = [max(len(line[column]) for line in cells) for column in range(len(headers))]
    for line in cells:
        padded = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        print("   ".join(padded).rstrip())
