"""Turning parsed arguments into `Settings`, shared by the command groups."""

from __future__ import annotations

import argparse
import logging
import sys
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
