"""`berth volume create [NAME] [--label k=v] [--driver local] [-o KEY=VALUE]`."""

from __future__ import annotations

from dataclasses import dataclass

from runtime_client.container_errors import InvalidOptionError
from runtime_client.ops.context import Context
from runtime_client.volumes.model import Volume, check_volume_name


@dataclass(frozen=True)
class VolumeCreateOptions:
    """Options of `volume create` as typed (an empty name: an anonymous volume)."""

    name: str = ""
    driver: str = "local"
    labels: tuple[str, ...] = ()
    options: tuple[str, ...] = ()


def _pairs(values: tuple[str, ...], what: str, need_value: bool) -> dict[str, str]:
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not key or (need_value and not sep):
            raise InvalidOptionError(f'invalid argument "{item}" for "{what}" flag: '
                                     "bad format of key=value")
        out[key] = value
    return out


def volume_create(ctx: Context, opts: VolumeCreateOptions) -> Volume:
    """Create (or, for an existing name, return) a volume.

    Raises:
        VolumeError: a bad name, another driver, or an unknown local option.
        InvalidOptionError: a malformed `--label` or `--opt`.
    """
    if opts.name:
        check_volume_name(opts.name)
    # None when not given: dockerd shows null then (the docker CLI sends no empty maps).
    labels = _pairs(opts.labels, "--label", need_value=False) or None
    options = _pairs(opts.options, "--opt", need_value=True) or None
    with ctx.volumes.locked():
        return ctx.volumes.create(opts.name, opts.driver, labels, options)
