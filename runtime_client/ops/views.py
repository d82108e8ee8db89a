"""Docker-shaped views of a container record: `ps` rows, `inspect` JSON, port and status text.

Pure functions of the record (and "now"); the CLI renders them with `tables`/`templating`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from runtime_client.humanize import human_duration, parse_time
from runtime_client.layout import Layout
from runtime_client.network.model import network_id
from runtime_client.network.shared import is_container_mode
from runtime_client.runtime.container import Container, PortBinding, Status
from runtime_client.snapshots.overlay import OverlaySnapshotter
from runtime_client.volumes.model import MountPoint, parse_mount_flag


def status_text(container: Container, now: datetime) -> str:
    """`Up 5 seconds`, `Exited (0) 3 seconds ago`, `Created`, `Up 2 minutes (Paused)`."""
    status = container.status
    if status in (Status.RUNNING, Status.PAUSED):
        started = parse_time(container.state.started_at)
        age = human_duration((now - started).total_seconds()) if started else "?"
        return f"Up {age}" + (" (Paused)" if status is Status.PAUSED else "")
    if status is Status.EXITED:
        finished = parse_time(container.state.finished_at)
        ago = human_duration((now - finished).total_seconds()) if finished else "?"
        return f"Exited ({container.state.exit_code}) {ago} ago"
    if status is Status.RESTARTING:
        return "Restarting"
    return status.value.capitalize()


def port_text(ports: list[PortBinding], exposed: list[str]) -> str:
    """The PORTS column: `0.0.0.0:8080->80/tcp, 443/tcp`."""
    parts = [f"{p.host_ip or '0.0.0.0'}:{p.host_port}->{p.container_port}/{p.protocol}"
             for p in ports]
    published = {f"{p.container_port}/{p.protocol}" for p in ports}
    parts += [e for e in exposed if e not in published]
    return ", ".join(parts)


def command_text(container: Container) -> str:
    """`ps`'s COMMAND: dockerd puts arguments that hold a space in single quotes."""
    path, *args = [*container.entrypoint, *container.cmd] or [""]
    cmd = " ".join([path, *(f"'{a}'" if " " in a else a for a in args)])
    return f'"{cmd[:19]}…"' if len(cmd) > 20 else f'"{cmd}"'


def ps_row(container: Container, now: datetime, size: int | None = None) -> dict[str, Any]:
    """A `ps` row with Docker's `--format` field names."""
    running = container.status in (Status.RUNNING, Status.PAUSED)
    return {
        "ID": container.id[:12],
        "Image": container.image,
        "Command": command_text(container),
        "CreatedAt": container.created,
        "RunningFor": human_duration(
            (now - (parse_time(container.created) or now)).total_seconds()) + " ago",
        "Status": status_text(container, now),
        "State": container.status.value,
        "Ports": port_text(container.published_ports if running else [],
                           container.exposed_ports),
        "Names": container.name,
        "Labels": ",".join(f"{k}={v}" for k, v in container.labels.items()),
        "Networks": ",".join(container.networks),
        "Size": size,
    }


def ports_map(container: Container) -> dict[str, Any]:
    """NetworkSettings.Ports: every exposed or published port -> host bindings (or None)."""
    result: dict[str, Any] = {e: None for e in container.exposed_ports}
    for p in container.published_ports:
        key = f"{p.container_port}/{p.protocol}"
        result.setdefault(key, None)
        result[key] = (result[key] or []) + [
            {"HostIp": p.host_ip or "0.0.0.0", "HostPort": str(p.host_port)}]
    return result


def _port_bindings(container: Container) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for p in container.ports:
        result.setdefault(f"{p.container_port}/{p.protocol}", []).append(
            {"HostIp": p.host_ip, "HostPort": str(p.host_port) if p.host_port else ""})
    return result


def _etc_paths(container: Container, cdir: Path) -> dict[str, str]:
    """Where the container's /etc files are: the shared ones of the container whose network
    it joined (none before its first start), as dockerd shows them."""
    etc = Path(container.shared_etc_dir) if is_container_mode(container.network_mode) else cdir
    shown = bool(container.shared_etc_dir) or not is_container_mode(container.network_mode)
    return {key: str(etc / name) if shown else "" for key, name in (
        ("ResolvConfPath", "resolv.conf"), ("HostnamePath", "hostname"), ("HostsPath", "hosts"))}


def inspect(container: Container, layout: Layout, snapshots: OverlaySnapshotter
            ) -> dict[str, Any]:
    """`docker inspect` JSON of a container (Docker's field names)."""
    st = container.state
    status = container.status
    cdir = layout.container_dir(container.id)
    lowers = snapshots.lower_dirs(f"{container.id}-init") if snapshots.exists(
        f"{container.id}-init") else []
    policy, _, retries = container.restart_policy.partition(":")
    networks: dict[str, Any] = {}
    for name, att in container.networks.items():
        networks[name] = {
            "IPAMConfig": {"IPv4Address": att.requested_ip} if att.requested_ip else None,
            "Links": None, "Aliases": att.aliases or None,
            "MacAddress": att.mac_address, "NetworkID": att.network_id or network_id(name),
            "EndpointID": container.id if att.ip_address else "",
            "Gateway": att.gateway, "IPAddress": att.ip_address, "IPPrefixLen": att.prefix_len,
            "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
            "DriverOpts": None,
        }
    primary = container.networks.get("bridge") or next(iter(container.networks.values()), None)
    running = status in (Status.RUNNING, Status.PAUSED)
    # dockerd gives a container in another's namespace no sandbox, ports or networks
    sandboxed = running and not is_container_mode(container.network_mode)
    args = [*container.entrypoint, *container.cmd]
    return {
        "Id": container.id,
        "Created": container.created,
        "Path": args[0] if args else "",
        "Args": args[1:],
        "State": {
            "Status": status.value, "Running": running, "Paused": status is Status.PAUSED,
            "Restarting": status is Status.RESTARTING, "OOMKilled": st.oom_killed,
            "Dead": status is Status.DEAD, "Pid": st.pid, "ExitCode": st.exit_code,
            "Error": st.error, "StartedAt": st.started_at, "FinishedAt": st.finished_at,
        },
        "Image": container.image_id,
        **_etc_paths(container, cdir),
        "LogPath": str(layout.container_log(container.id)),
        "Name": "/" + container.name,
        "RestartCount": container.restart_count,
        "Driver": "overlay",
        "Platform": "linux",
        "MountLabel": "", "ProcessLabel": "", "AppArmorProfile": "",
        "ExecIDs": None,
        "HostConfig": {
            "Binds": container.binds or None,
            "NetworkMode": container.network_mode if container.network_mode != "bridge"
            else "bridge",
            "PortBindings": _port_bindings(container),
            "RestartPolicy": {"Name": policy or "no",
                              "MaximumRetryCount": int(retries or 0)},
            "AutoRemove": container.auto_remove,
            "Dns": container.dns, "DnsOptions": container.dns_options,
            "DnsSearch": container.dns_search, "ExtraHosts": container.extra_hosts or None,
            "PublishAllPorts": container.publish_all,
            "Memory": container.memory, "CpuShares": container.cpu_shares,
            "MemorySwap": container.memory * 2 if container.memory else 0,
            "Runtime": container.runtime,
            "Privileged": container.privileged, "ReadonlyRootfs": container.readonly_rootfs,
            "SecurityOpt": container.security_opt or None,
            "CapAdd": container.cap_add or None, "CapDrop": container.cap_drop or None,
            "PidsLimit": container.pids_limit,
            # dockerd 20.10 with a current CLI shows [] (not null) when no --ulimit was given
            "Ulimits": [dict(u) for u in container.ulimits],
            # dockerd leaves Tmpfs out when no --tmpfs was given
            **({"Tmpfs": dict(container.tmpfs)} if container.tmpfs else {}),
            "ShmSize": container.shm_size,
            "NanoCpus": container.nano_cpus, "CpuQuota": container.cpu_quota,
            "CpuPeriod": container.cpu_period,
            "Devices": [dict(d) for d in container.devices],
            **_host_config_mounts(container),
        },
        "GraphDriver": {
            "Name": "overlay",
            "Data": {
                "LowerDir": ":".join(map(str, lowers)),
                "UpperDir": str(snapshots.upper_dir(container.id)),
                "WorkDir": str(snapshots.root / container.id / "work"),
                "MergedDir": str(layout.rootfs(container.id)),
            },
        },
        "Mounts": [_mount_view(layout, m) for m in container.mounts],
        "Config": {
            "Hostname": container.hostname, "Domainname": "", "User": container.user,
            "AttachStdin": container.open_stdin and container.foreground,
            "AttachStdout": container.foreground, "AttachStderr": container.foreground,
            "ExposedPorts": {e: {} for e in container.exposed_ports} or None,
            "Tty": container.tty, "OpenStdin": container.open_stdin,
            "StdinOnce": container.open_stdin and container.foreground,
            "Env": container.env, "Cmd": container.cmd or None, "Image": container.image,
            "Volumes": _config_volumes(container), "WorkingDir": container.workdir,
            "Entrypoint": container.entrypoint or None, "OnBuild": None,
            "Labels": dict(sorted(container.labels.items())),  # a Go map: sorted keys
            # dockerd keeps Config.MacAddress for an explicit --mac-address only
            **({"MacAddress": container.mac_address} if container.mac_address else {}),
            **_stop_settings(container),
        },
        "NetworkSettings": {
            "Bridge": "", "SandboxID": container.id if sandboxed else "",
            "HairpinMode": False, "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0,
            "Ports": ports_map(container) if sandboxed else {},
            "SandboxKey": f"/run/netns/{layout.netns_name(container.id)}" if sandboxed else "",
            "Gateway": primary.gateway if primary else "",
            "IPAddress": primary.ip_address if primary else "",
            "IPPrefixLen": primary.prefix_len if primary else 0,
            "MacAddress": primary.mac_address if primary else "",
            "Networks": networks,
        },
    }


def _stop_settings(container: Container) -> dict[str, Any]:
    """Config.StopSignal and Config.StopTimeout: present only when set, as in Docker."""
    settings: dict[str, Any] = {}
    if container.stop_signal:
        settings["StopSignal"] = container.stop_signal
    if container.stop_timeout is not None:
        settings["StopTimeout"] = container.stop_timeout
    return settings


def _mount_view(layout: Layout, m: MountPoint) -> dict[str, Any]:
    """One of inspect's Mounts, with dockerd's defaults: a volume from `-v NAME:` or `--mount`
    without a mode shows mode `z` (not one from `-v DST` or the image), binds show `rprivate`
    propagation."""
    if m.type == "bind":
        return {"Type": "bind", "Source": m.source, "Destination": m.destination,
                "Mode": m.mode, "RW": not m.readonly, "Propagation": "rprivate"}
    given = m.from_flag == "--mount" or (m.from_flag == "-v" and not m.anonymous)
    mode = m.mode or ("z" if given else "")
    return {"Type": "volume", "Name": m.source, "Source": str(layout.volume_data(m.source)),
            "Destination": m.destination, "Driver": "local", "Mode": mode, "RW": not m.readonly,
            "Propagation": ""}


def _host_config_mounts(container: Container) -> dict[str, Any]:
    """HostConfig.Mounts: the --mount values as dockerd keeps them (left out when none)."""
    shown = []
    for flag in container.mount_flags:
        r = parse_mount_flag(flag)
        item: dict[str, Any] = {"Type": r.type, **({"Source": r.source} if r.source else {}),
                                "Target": r.destination}
        if r.readonly:
            item["ReadOnly"] = True
        if not r.copy_up:
            item["VolumeOptions"] = {"NoCopy": True}
        shown.append(item)
    return {"Mounts": shown} if shown else {}


def _config_volumes(container: Container) -> dict[str, Any] | None:
    """Config.Volumes: the image's VOLUMEs and the `-v DST` anonymous volumes."""
    dests = {m.destination: {} for m in container.mounts
             if m.from_flag == "image" or (m.from_flag == "-v" and m.anonymous)}
    return dests or None
