"""Dockerfile instructions applied to an image config, for `import --change` (and `commit -c`).

Supported, as Docker allows them there: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD,
STOPSIGNAL, USER, VOLUME, WORKDIR. Pure: a config dict in, a new config dict out.
"""

from __future__ import annotations

import copy
import json
import shlex
from typing import Any

from runtime_client.errors import UsageError

__all__ = ["apply_changes"]


def _json_or_shell(argument: str) -> list[str]:
    """Exec form `["a","b"]`, else shell form wrapped in `/bin/sh -c`."""
    text = argument.strip()
    if text.startswith("["):
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return value
    return ["/bin/sh", "-c", text]


def _pairs(argument: str, instruction: str) -> list[tuple[str, str]]:
    """`K=V K2="V 2"` pairs, or the legacy single `K V` form."""
    words = shlex.split(argument)
    if not words:
        raise UsageError(f"{instruction} requires at least one argument")
    if "=" not in words[0]:
        key, _, value = argument.strip().partition(" ")
        return [(key, value.strip())]
    pairs = []
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise UsageError(f"{instruction} names must be KEY=VALUE, got {word!r}")
        pairs.append((key, value))
    return pairs


def apply_changes(config: dict[str, Any], changes: list[str]) -> dict[str, Any]:
    """Apply each `INSTRUCTION arguments` to `config["config"]`.

    Raises:
        UsageError: an unknown or unsupported instruction, or malformed arguments.
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
            env = [item for item in container.get("Env") or []]
            for key, value in _pairs(argument, name):
                env = [item for item in env if item.split("=", 1)[0] != key]
                env.append(f"{key}={value}")
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
            paths = _json_or_shell(argument) if argument.startswith("[") else argument.split()
            for path in paths:
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
            raise UsageError(f"{instruction} is not a valid change command")
    return result
