"""Contents of the /etc/hosts, /etc/hostname and /etc/resolv.conf berth gives a container (pure)."""

from __future__ import annotations

from collections.abc import Sequence


def hosts_file(hostname: str, addresses: Sequence[str], extra_hosts: Sequence[str],
               names: Sequence[str] = ()) -> str:
    """/etc/hosts as Docker writes it, with `--add-host NAME:IP` entries appended.

    Args:
        hostname: the container's hostname.
        addresses: the container's own IPv4 addresses.
        extra_hosts: `NAME:IP` values from --add-host.
        names: further names of the container itself (its name, network aliases).
    """
    lines = [
        "127.0.0.1\tlocalhost",
        "::1\tlocalhost ip6-localhost ip6-loopback",
        "fe00::0\tip6-localnet",
        "ff00::0\tip6-mcastprefix",
        "ff02::1\tip6-allnodes",
        "ff02::2\tip6-allrouters",
    ]
    for entry in extra_hosts:
        name, _, ip = entry.partition(":")
        lines.append(f"{ip}\t{name}")
    own = " ".join(dict.fromkeys([hostname, *names]))
    for ip in addresses:
        lines.append(f"{ip}\t{own}")
    return "\n".join(lines) + "\n"


def with_host_gateway(extra_hosts: Sequence[str], gateway: str) -> list[str]:
    """`--add-host NAME:host-gateway` entries with the host's gateway address put in."""
    out = []
    for entry in extra_hosts:
        name, _, ip = entry.partition(":")
        out.append(f"{name}:{gateway}" if ip == "host-gateway" else entry)
    return out


def resolv_conf(host_resolv: str, dns_servers: Sequence[str], network_dns: Sequence[str],
                search: Sequence[str] = (), dns_search: Sequence[str] = (),
                dns_options: Sequence[str] = ()) -> str:
    """/etc/resolv.conf: the network's DNS (aardvark) first, then --dns, else the host's.

    As dockerd: --dns-search replaces every search domain (a lone "." leaves none), and
    --dns-option replaces the host's options.

    On a network with DNS its server comes first even with --dns, so peers keep resolving by
    name as with Docker's embedded server (which also forwards other names to --dns; berth
    hands the --dns servers to aardvark-dns for that and lists them after it). Loopback
    nameservers of the host are dropped: they cannot be reached from the container's
    namespace.
    """
    servers = list(dict.fromkeys([*network_dns, *dns_servers]))
    host_search: list[str] = []
    options: list[str] = []
    for line in host_resolv.splitlines():
        fields = line.split()
        if not fields:
            continue
        if fields[0] == "nameserver" and len(fields) > 1 and not servers_locked(dns_servers,
                                                                               network_dns):
            if not fields[1].startswith("127.") and fields[1] != "::1":
                servers.append(fields[1])
        elif fields[0] == "search":
            host_search = fields[1:]
        elif fields[0] == "options":
            options += fields[1:]
    out = []
    all_search = list(search) + host_search
    if dns_search:
        all_search = [] if list(dns_search) == ["."] else list(dns_search)
    if dns_options:
        options = list(dns_options)
    if all_search:
        out.append("search " + " ".join(all_search))
    out += [f"nameserver {s}" for s in servers]
    if options:
        out.append("options " + " ".join(options))
    return "\n".join(out) + "\n"


def servers_locked(dns_servers: Sequence[str], network_dns: Sequence[str]) -> bool:
    """True when the container's nameservers are fixed and the host's are not added."""
    return bool(dns_servers or network_dns)
