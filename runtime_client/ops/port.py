"""`berth port CONTAINER [PRIVATE_PORT[/PROTO]]`."""

from __future__ import annotations

from runtime_client.container_errors import InvalidStateError
from runtime_client.ops.context import Context
from runtime_client.runtime.container import Status


def port(ctx: Context, ref: str, private: str | None = None) -> list[str]:
    """Lines as Docker prints them: `80/tcp -> 0.0.0.0:8080` (or `0.0.0.0:8080` for one port).

    Raises:
        NoSuchContainerError, InvalidStateError: no public port published for `private`.
    """
    container = ctx.containers.find(ref)
    running = container.status in (Status.RUNNING, Status.PAUSED)
    bindings = sorted(container.published_ports if running else [],
                      key=lambda p: (p.container_port, p.protocol))
    if private is None:
        return [f"{p.container_port}/{p.protocol} -> {p.host_ip or '0.0.0.0'}:{p.host_port}"
                for p in bindings]
    number, _, proto = private.partition("/")
    proto = proto or "tcp"
    lines = [f"{p.host_ip or '0.0.0.0'}:{p.host_port}" for p in bindings
             if str(p.container_port) == number and p.protocol == proto]
    if not lines:
        raise InvalidStateError(f"No public port '{number}/{proto}' published for {ref}")
    return lines
