"""A small subset of Go templates for `--format`: `{{.Field}}`, `{{.A.B}}`, `{{json .X}}`.

Scope: what scripts use with Docker's `--format` on one record at a time. No pipelines,
conditionals or ranges; an unknown field renders as `<no value>` like Go's templates.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["render"]

_ACTION = re.compile(r"\{\{\s*(json\s+)?\.([A-Za-z0-9_.]*)\s*\}\}")


def _lookup(data: Any, path: str) -> Any:
    value = data
    for part in filter(None, path.split(".")):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def render(template: str, data: dict[str, Any]) -> str:
    """Render `template` against `data` (a dict with Docker's field names)."""

    def replace(match: re.Match[str]) -> str:
        value = _lookup(data, match.group(2))
        if match.group(1):
            return json.dumps(value, separators=(",", ":"))
        if value is None:
            return "<no value>"
        if isinstance(value, (dict, list)):
            return json.dumps(value, separators=(",", ":"))
        if isinstance(value, bool):
            return str(value).lower()
        return str(value)

    return _ACTION.sub(replace, template.replace("\\t", "\t").replace("\\n", "\n"))
