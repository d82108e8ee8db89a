"""Which receiver addresses a webhook may reach (no server-side request forgery).

The `webhook_allowed_targets` setting is a comma-separated allow-list of host names, addresses
and CIDR networks, and the word `public`: any global unicast address that is not one of the
hub's own. The default is `public`, which refuses loopback, link-local, private, shared,
multicast and reserved ranges, so a namespace owner cannot aim the hub at its own network.

A URL is checked when a webhook is created (its name resolved, every address checked) and again
at each delivery: `CheckedResolver` is the delivery connector's resolver, so the connection goes
only to addresses that passed the check, and a name that resolves elsewhere later (DNS
rebinding) is refused then.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from registry.errors import InvalidRequestError

logger = logging.getLogger(__name__)

__all__ = ["AddressPolicy", "CheckedResolver", "ReceiverAddressError", "own_addresses"]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
PUBLIC = "public"
_HOST_NAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?")


class ReceiverAddressError(InvalidRequestError):
    """A webhook URL is malformed or reaches an address the allow-list refuses."""


def own_addresses(listen_host: str) -> frozenset[Address]:
    """The hub's own addresses: the one it listens on, or all of this machine's for `0.0.0.0`."""
    found: set[Address] = set()
    names = [listen_host]
    try:
        if ipaddress.ip_address(listen_host).is_unspecified:
            names = [socket.gethostname(), "localhost"]
    except ValueError:
        pass
    for name in names:
        try:
            for info in socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP):
                found.add(ipaddress.ip_address(str(info[4][0]).split("%")[0]))
        except OSError:
            continue
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """The allow-list: names, networks, and whether any public address will do."""

    hosts: frozenset[str]
    networks: tuple[Network, ...]
    public: bool
    own: frozenset[Address] = frozenset()

    @classmethod
    def parse(cls, setting: str, own: frozenset[Address] = frozenset()) -> AddressPolicy:
        """The policy a `webhook_allowed_targets` value describes.

        Raises:
            ValueError: an entry is neither `public`, a CIDR nor a host name.
        """
        hosts: set[str] = set()
        networks: list[Network] = []
        public = False
        for entry in (part.strip().lower() for part in setting.split(",")):
            if not entry:
                continue
            if entry == PUBLIC:
                public = True
            else:
                try:
                    networks.append(ipaddress.ip_network(entry, strict=False))
                except ValueError:
                    if not _HOST_NAME.fullmatch(entry):
                        message = f"not a host name, address or network: {entry!r}"
                        raise ValueError(message) from None
                    hosts.add(entry.rstrip("."))
        return cls(frozenset(hosts), tuple(networks), public, own)

    def permits(self, host: str, address: Address) -> bool:
        """Whether a connection for `host` may go to `address`."""
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if host.lower().rstrip(".") in self.hosts:
            return True
        if any(address in network for network in self.networks):
            return True
        return (
            self.public
            and address.is_global
            and not address.is_multicast  # global by the registry, yet no unicast receiver
            and address not in self.own
        )

    def split_url(self, url: str) -> tuple[str, int]:
        """The host and port of a receiver URL.

        Raises:
            ReceiverAddressError: not an http(s) URL with a host, or with credentials in it.
        """
        try:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise ReceiverAddressError(f"not a URL: {exc}", field="url") from exc
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ReceiverAddressError(
                "the URL must be http:// or https:// with a host", field="url"
            )
        if parts.username or parts.password:
            raise ReceiverAddressError("the URL may not hold credentials", field="url")
        return parts.hostname, port

    async def check_url(self, url: str) -> None:
        """Resolve the URL's host and refuse it unless every address is allowed.

        Raises:
            ReceiverAddressError: malformed, unresolvable, or an address is refused.
        """
        host, port = self.split_url(url)
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, proto=socket.IPPROTO_TCP
            )
        except OSError as exc:
            raise ReceiverAddressError(f"cannot resolve {host!r}", field="url") from exc
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
            if not self.permits(host, address):
                raise ReceiverAddressError(
                    f"{host!r} resolves to {address}, which webhooks may not reach "
                    "(see the webhook_allowed_targets setting)",
                    field="url",
                    address=str(address),
                )


class CheckedResolver(AbstractResolver):
    """A resolver that answers only addresses the policy permits (checked per connection)."""

    def __init__(self, policy: AddressPolicy, resolver: AbstractResolver | None = None) -> None:
        self._policy = policy
        self._resolver = resolver or ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._resolver.resolve(host, port, family)
        for result in results:
            address = ipaddress.ip_address(result["host"])
            if not self._policy.permits(host, address):
                raise OSError(f"{host} resolves to {address}, which webhooks may not reach")
        return results

    async def close(self) -> None:
        await self._resolver.close()
