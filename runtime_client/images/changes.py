"""Dockerfile instructions applied to an image config: `import --change` and `commit --change`.

Supported, as Docker allows them there: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD,
STOPSIGNAL, USER, VOLUME, WORKDIR. Arguments follow the Dockerfile's forms: CMD and ENTRYPOINT
take a JSON array of strings (exec form) or anything else (shell form, run by `/bin/sh -c`);
VOLUME takes a JSON array or whitespace-separated paths; ENV and LABEL take `K=V` pairs or
the legacy `K V` form. Pure: a config dict in, a new config dict out.
"""

from __future__ import annotations

import copy
import json
import shlex
from typing import Any

from runtime_client.errors import UsageError

__all__ = ["InvalidChangeError", "apply_changes"]


class InvalidChangeError(UsageError):
    """A `--change` instruction is unknown, not allowed there, or malformed."""

    # Docker checks changes in the daemon, so `commit` shows "Error response from daemon:".
    daemon_style = True


def _json_strings(text: str) -> list[str] | None:
    """A JSON array of strings, else None (the Dockerfile's test for the exec form)."""
    if not text.startswith("["):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    return None


def _json_or_shell(argument: str) -> list[str]:
    """Exec form `["a","b"]`, else shell form wrapped in `/bin/sh -c`."""
    exec_form = _json_strings(argument)
    return ["/bin/sh", "-c", argument] if exec_form is None else exec_form


def _pairs(argument: str, instruction: str) -> list[tuple[str, str]]:
    """`K=V K2="V 2"` pairs, or the legacy single `K V` form."""
    words = shlex.split(argument)
    if not words:
        raise InvalidChangeError(f"{instruction} requires at least one argument")
    if "=" not in words[0]:
        key, _, value = argument.partition(" ")
        return [(key, value.strip())]
    pairs = []
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise InvalidChangeError(f"{instruction} names must be KEY=VALUE, got {word!r}")
        pairs.append((key, value))
    return pairs


def _set_env(env: list[str], key: str, value: str) -> list[str]:
    """`env` with `key` set: replaced where it stands (as Docker does), else appended."""
    entry = f"{key}={value}"
    for i, item in enumerate(env):
        if item.split("=", 1)[0] == key:
            return [*env[:i], entry, *env[i + 1:]]
    return [*env, entry]


def apply_changes(config: dict[str, Any], changes: list[str]) -> dict[str, Any]:
    """Apply each `INSTRUCTION arguments` to `config["config"]`.

    Args:
        config: an image config (left untouched).
        changes: the `--change` values, in order.

    Returns:
        A copy of `config` with the instructions applied.

    Raises:
        InvalidChangeError: an unknown or unsupported instruction, or malformed arguments.
    """
    result = copy.deepcopy(config)
    container = result.setdefault("config", {})
    for change in changes:
        instruction, _, argument = change.strip().partition(" ")
        name = instruction.upper()
        argument = argument.strip()
        if name == "CMD":
            container["Cmd"] = _json_or_shell(argument)
        elif name == "ENTRYPOINT":
            container["Entrypoint"] = _json_or_shell(argument)
        elif name == "ENV":
            env = list(container.get("Env") or [])
            for key, value in _pairs(argument, name):
                env = _set_env(env, key, value)
            container["Env"] = env
        elif name == "LABEL":
            labels = dict(container.get("Labels") or {})
            labels.update(_pairs(argument, name))
            container["Labels"] = labels
        elif name == "EXPOSE":
            ports = dict(container.get("ExposedPorts") or {})
            for port in argument.split():
                ports[port if "/" in port else f"{port}/tcp"] = {}
            container["ExposedPorts"] = ports
        elif name == "VOLUME":
            volumes = dict(container.get("Volumes") or {})
            paths = _json_strings(argument)
            for path in argument.split() if paths is None else paths:
                volumes[path] = {}
            container["Volumes"] = volumes
        elif name == "USER":
            container["User"] = argument
        elif name == "WORKDIR":
            container["WorkingDir"] = argument
        elif name == "STOPSIGNAL":
            container["StopSignal"] = argument
        elif name == "ONBUILD":
            container["OnBuild"] = [*(container.get("OnBuild") or []), argument]
        else:
            raise InvalidChangeError(f"{instruction} is not a valid change command")
    return result
