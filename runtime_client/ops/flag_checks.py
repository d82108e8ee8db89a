"""Checks of `create`/`run` flags the docker CLI or dockerd refuses before a container exists:
the restart policy, `--add-host`, `--dns`, `--dns-search` and `--mac-address`, with Docker's
messages."""

from __future__ import annotations

import ipaddress
import re

from runtime_client.container_errors import InvalidFlagError, InvalidOptionError

__all__ = [
    "HOST_GATEWAY",
    "check_dns",
    "check_dns_search",
    "check_extra_host",
    "check_mac",
    "check_restart",
]

HOST_GATEWAY = "host-gateway"
RESTART_POLICIES = ("no", "always", "unless-stopped", "on-failure")
# net.ParseMAC's forms: 6, 8 or 20 bytes as pairs joined by ':' or '-', or dotted quads of hex.
_MAC = re.compile(r"^(?:[0-9A-Fa-f]{2}([:-]))(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}"
                  r"(?:(?:\1[0-9A-Fa-f]{2}){2}(?:(?:\1[0-9A-Fa-f]{2}){12})?)?$"
                  r"|^[0-9A-Fa-f]{4}(?:\.[0-9A-Fa-f]{4}){2}(?:(?:\.[0-9A-Fa-f]{4}){1}"
                  r"(?:(?:\.[0-9A-Fa-f]{4}){6})?)?$")

# Labels of letters, digits and inner hyphens, joined by dots (the docker CLI's check).
_DOMAIN = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)*"
                     r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?")


def check_restart(value: str) -> str:
    """`--restart NAME[:COUNT]`, checked as the docker CLI and then dockerd do.

    Raises:
        InvalidOptionError: an unknown policy, a count that is not an integer, is negative,
            or is given to a policy other than on-failure.
    """
    name, sep, count = value.partition(":")
    if sep:
        try:
            retries = int(count)
        except ValueError:
            raise InvalidFlagError("invalid restart policy format: maximum retry count must "
                                   "be an integer") from None
    else:
        retries = 0
    if name not in RESTART_POLICIES and name != "":
        raise InvalidOptionError(f"invalid restart policy '{name}'")
    if retries and name != "on-failure":
        raise InvalidOptionError(
            f"maximum retry count cannot be used with restart policy '{name or 'no'}'")
    if retries < 0:
        raise InvalidOptionError("maximum retry count cannot be negative")
    return value or "no"


def _flag_error(flag: str, value: str, reason: str) -> InvalidFlagError:
    return InvalidFlagError(f'invalid argument "{value}" for "{flag}" flag: {reason}')


def check_extra_host(value: str) -> str:
    """`--add-host NAME:IP` (or `NAME=IP`); IP may be `host-gateway`.

    Raises:
        InvalidFlagError: no separator, or not an IP address.
    """
    separator = "=" if "=" in value else ":"
    name, sep, ip = value.partition(separator)
    if not sep or not name or not ip:
        raise _flag_error("--add-host", value, f'bad format for add-host: "{value}"')
    address = ip.removeprefix("[").removesuffix("]")
    if address != HOST_GATEWAY:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise _flag_error("--add-host", value,
                              f'invalid IP address in add-host: "{ip}"') from None
    return f"{name}:{address}"


def check_dns(value: str) -> str:
    """`--dns IP`.

    Raises:
        InvalidFlagError: not an IP address.
    """
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise _flag_error("--dns", value,
                          f"IP address is not correctly formatted: {value}") from None
    return value


def check_dns_search(value: str) -> str:
    """`--dns-search DOMAIN` ("." for none), without its trailing dot, as the docker CLI keeps it.

    Raises:
        InvalidFlagError: not a domain name.
    """
    if value == ".":
        return value
    domain = value.removesuffix(".")
    if len(domain) > 255 or not _DOMAIN.fullmatch(domain):
        raise _flag_error("--dns-search", value, f"{domain} is not a valid domain")
    return domain


def check_mac(value: str) -> str:
    """`--mac-address` ('' when not given).

    Raises:
        InvalidFlagError: not a MAC address Go's net.ParseMAC reads.
    """
    if value and not _MAC.match(value):
        raise InvalidFlagError(f"{value} is not a valid mac address")
    return value
