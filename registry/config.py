"""Settings from a TOML file, `BERTH_*` environment variables and command-line flags.

Precedence, lowest first: `Settings` defaults, the configuration file (`--config FILE` or
`BERTH_CONFIG`), environment variables, flags. Every `Settings` field can be set in all three
places: in the file by its name (`gc_grace = 600`) or, for prefixed names, in a table
(`[s3] region = "eu-west-1"` is `s3_region`); in the environment as `BERTH_<NAME>`
(`BERTH_S3_REGION`). A few names are shorter for history's sake: `listen` (HOST:PORT),
`data` / `BERTH_DATA`, `storage` / `BERTH_STORAGE`, `database` for `database_url`.

`check_settings` looks for mistakes that would otherwise surface only once the hub runs
(a storage URL nothing understands, an unreachable bucket or database, a schema behind,
missing TLS files); `berth-hub config check` prints them.
"""

from __future__ import annotations

import difflib
import logging
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from registry.proxy.config import parse_namespaces
from registry.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["ConfigError", "Problem", "load_settings", "setting_names"]

# Short spellings, in files and in the environment, for some fields.
_ALIASES = {"data": "data_dir", "storage": "storage_url", "database": "database_url"}
_ENV_ALIASES = {"BERTH_DATA": "data_dir", "BERTH_STORAGE": "storage_url"}
# Handled by Settings.from_env itself (it splits HOST:PORT).
_PASSTHROUGH = {"listen"}
_NOT_SETTINGS = {"extra"}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(ValueError):
    """The configuration has mistakes; `problems` lists them."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Problem:
    """One mistake: where it is (a file key, a variable, a flag) and what is wrong."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def _field_types() -> dict[str, Any]:
    hints = typing.get_type_hints(Settings)
    return {f.name: hints[f.name] for f in fields(Settings) if f.name not in _NOT_SETTINGS}


def setting_names() -> list[str]:
    """Every setting a file or the environment may set."""
    return sorted([*_field_types(), *_PASSTHROUGH])


def _base_type(annotation: Any) -> Any:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        return options[0] if len(options) == 1 else str
    return annotation


def _convert(name: str, value: Any, annotation: Any) -> Any:
    """A file or environment value as the field's type.

    Raises:
        ValueError: it does not convert.
    """
    kind = _base_type(annotation)
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(f"{name} wants true or false, got {value!r}")
    if kind is int and not isinstance(value, bool):
        return int(value)
    if kind is float and not isinstance(value, bool):
        return float(value)
    if kind is Path:
        return Path(str(value))
    if kind is str:
        if not isinstance(value, str):
            raise ValueError(f"{name} wants a string, got {value!r}")
        return value
    raise ValueError(f"{name} cannot be set from configuration")


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}_"))
        else:
            flat[name] = value
    return flat


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _from_file(path: Path, problems: list[Problem]) -> dict[str, Any]:
    try:
        document = tomllib.loads(path.read_text())
    except OSError as exc:
        problems.append(Problem(str(path), f"cannot read: {exc.strerror or exc}"))
        return {}
    except tomllib.TOMLDecodeError as exc:
        problems.append(Problem(str(path), f"not valid TOML: {exc}"))
        return {}
    types_ = _field_types()
    values: dict[str, Any] = {}
    namespaces = _pop_proxy_namespaces(document)
    if namespaces is not None:
        try:
            values["proxy_namespaces"] = parse_namespaces(namespaces)
        except ValueError as exc:
            problems.append(Problem(str(path), str(exc)))
    for key, value in _flatten(document).items():
        name = _ALIASES.get(key, key)
        where = f"{path}: {key}"
        if name in _PASSTHROUGH:
            values[name] = str(value)
        elif name not in types_:
            problems.append(Problem(where, "unknown setting" + _suggest(name, setting_names())))
        else:
            try:
                values[name] = _convert(key, value, types_[name])
            except (TypeError, ValueError) as exc:
                problems.append(Problem(where, str(exc)))
    return values


def _pop_proxy_namespaces(document: dict[str, Any]) -> Any:
    """`[proxy.namespaces]`, taken out of the document: a table of tables, not flat settings."""
    proxy = document.get("proxy")
    if isinstance(proxy, dict) and "namespaces" in proxy:
        return proxy.pop("namespaces")
    return None


def _from_env(env: Mapping[str, str], problems: list[Problem]) -> dict[str, Any]:
    types_ = _field_types()
    by_variable = {f"BERTH_{name.upper()}": name for name in types_}
    by_variable.update(_ENV_ALIASES)
    values: dict[str, Any] = {}
    for variable, text in env.items():
        name = by_variable.get(variable)
        if name is None:
            continue
        try:
            values[name] = _convert(variable, text, types_[name])
        except (TypeError, ValueError) as exc:
            problems.append(Problem(variable, str(exc)))
    return values


def load_settings(
    config_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Settings from the file (if any), the environment and explicit overrides (flags).

    Args:
        config_file: a TOML file; when None, `BERTH_CONFIG` names one (or none).
        env: the environment (default `os.environ`).
        **overrides: flag values; None means "not given".

    Raises:
        ConfigError: the file or a variable has mistakes.
    """
    env = os.environ if env is None else env
    problems: list[Problem] = []
    if config_file is None and env.get("BERTH_CONFIG"):
        config_file = Path(env["BERTH_CONFIG"])
    values = _from_file(config_file, problems) if config_file is not None else {}
    values.update(_from_env(env, problems))
    if "BERTH_LISTEN" in env:
        values["listen"] = env["BERTH_LISTEN"]
    values.update({k: v for k, v in overrides.items() if v is not None})
    if problems:
        raise ConfigError(problems)
    try:
        return Settings.from_env(env, **values)
    except (TypeError, ValueError) as exc:
        raise ConfigError([Problem("settings", str(exc))]) from exc
