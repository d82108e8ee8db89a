"""The container record and its lifecycle state machine.

States (Docker's names) and the transitions berth allows:

```
            start                pause
  created ---------> running  ---------> paused
     |                |  ^  \\  <--------- |
     |   process exit |  |   \\  unpause    | kill / stop
     |                v  |    \\            v
     |              exited <----------------+
     |                |  ^ (restart policy: exited -> restarting -> running)
     +------> removing <+   (running/paused only with force, after a kill)
```

`transition(container, event)` is the only place that changes `state.status`; an event that
is not allowed from the current state raises `InvalidStateError` with Docker's message.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from runtime_client.container_errors import ContainerError, InvalidStateError
from runtime_client.volumes.model import MountPoint, parse_volume_flag


class Status(StrEnum):
    """Docker's container states."""

    CREATED = "created"
    RUNNING = "running"
    PAUSED = "paused"
    RESTARTING = "restarting"
    EXITED = "exited"
    REMOVING = "removing"
    DEAD = "dead"


class Event(StrEnum):
    """What can happen to a container."""

    START = "start"
    PAUSE = "pause"
    UNPAUSE = "unpause"
    EXIT = "exit"
    RESTART = "restart"
    REMOVE = "remove"
    FORCE_REMOVE = "force-remove"


_TRANSITIONS: dict[tuple[Status, Event], Status] = {
    (Status.CREATED, Event.START): Status.RUNNING,
    (Status.EXITED, Event.START): Status.RUNNING,
    (Status.RESTARTING, Event.START): Status.RUNNING,
    (Status.RUNNING, Event.PAUSE): Status.PAUSED,
    (Status.PAUSED, Event.UNPAUSE): Status.RUNNING,
    (Status.RUNNING, Event.EXIT): Status.EXITED,
    (Status.PAUSED, Event.EXIT): Status.EXITED,
    (Status.CREATED, Event.EXIT): Status.EXITED,
    (Status.EXITED, Event.RESTART): Status.RESTARTING,
    (Status.CREATED, Event.REMOVE): Status.REMOVING,
    (Status.EXITED, Event.REMOVE): Status.REMOVING,
    (Status.DEAD, Event.REMOVE): Status.REMOVING,
    (Status.CREATED, Event.FORCE_REMOVE): Status.REMOVING,
    (Status.EXITED, Event.FORCE_REMOVE): Status.REMOVING,
    (Status.DEAD, Event.FORCE_REMOVE): Status.REMOVING,
    (Status.RESTARTING, Event.FORCE_REMOVE): Status.REMOVING,
    (Status.RESTARTING, Event.EXIT): Status.EXITED,
}


@dataclass
class NetworkAttachment:
    """One network a container is (or will be) connected to."""

    aliases: list[str] = field(default_factory=list)
    requested_ip: str = ""
    requested_mac: str = ""
    ip_address: str = ""
    prefix_len: int = 0
    gateway: str = ""
    mac_address: str = ""
    network_id: str = ""
    interface: str = ""


@dataclass
class PortBinding:
    """A published port: container port/proto -> host IP and port (0 = pick a free one)."""

    container_port: int
    protocol: str = "tcp"
    host_ip: str = ""
    host_port: int = 0


@dataclass
class State:
    """Docker's `State` object."""

    status: str = Status.CREATED.value
    pid: int = 0
    exit_code: int = 0
    oom_killed: bool = False
    error: str = ""
    started_at: str = "0001-01-01T00:00:00Z"
    finished_at: str = "0001-01-01T00:00:00Z"


@dataclass
class Container:
    """Everything berth keeps about one container (stored as container.json)."""

    id: str
    name: str
    created: str
    image: str  # the reference the user typed
    image_id: str
    snapshot_parent: str | None  # the image's top chain ID
    cmd: list[str] = field(default_factory=list)
    entrypoint: list[str] = field(default_factory=list)
    env: list[str] = field(default_factory=list)
    workdir: str = ""
    user: str = ""
    hostname: str = ""
    tty: bool = False
    open_stdin: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    exposed_ports: list[str] = field(default_factory=list)  # "80/tcp"
    binds: list[str] = field(default_factory=list)  # -v SRC:DST values as typed (HostConfig)
    # every bind and volume, resolved at create (anonymous volumes named), in flag order
    mounts: list[MountPoint] = field(default_factory=list)
    mount_flags: list[str] = field(default_factory=list)  # --mount values as typed
    ports: list[PortBinding] = field(default_factory=list)
    published_ports: list[PortBinding] = field(default_factory=list)  # while running
    publish_all: bool = False
    network_mode: str = "bridge"
    networks: dict[str, NetworkAttachment] = field(default_factory=dict)
    # --network container:: the directory of the /etc files it shares, set at its first start
    shared_etc_dir: str = ""
    dns: list[str] = field(default_factory=list)
    dns_search: list[str] = field(default_factory=list)  # replaces the host's; "." for none
    dns_options: list[str] = field(default_factory=list)  # replaces the host's
    extra_hosts: list[str] = field(default_factory=list)
    mac_address: str = ""
    memory: int = 0  # bytes, 0 = unlimited
    cpu_shares: int = 0  # 0 = the default (1024)
    restart_policy: str = "no"  # no | always | unless-stopped | on-failure[:N]
    auto_remove: bool = False
    runtime: str = "runc"
    # --security-opt as Docker's inspect shows it: "seccomp=unconfined", "seccomp=<JSON>",
    # "no-new-privileges"; --privileged adds "label=disable" as dockerd does
    security_opt: list[str] = field(default_factory=list)
    cap_add: list[str] = field(default_factory=list)  # normalised: "CAP_NET_ADMIN", "ALL"
    cap_drop: list[str] = field(default_factory=list)
    privileged: bool = False
    readonly_rootfs: bool = False
    pids_limit: int | None = None  # None: unlimited (Docker stores <= 0 as unset)
    ulimits: list[dict[str, Any]] = field(default_factory=list)  # [{"Name", "Soft", "Hard"}]
    tmpfs: dict[str, str] = field(default_factory=dict)  # --tmpfs: path -> options as typed
    shm_size: int = 64 << 20  # bytes
    nano_cpus: int = 0  # --cpus * 10^9
    cpu_quota: int = 0  # microseconds per period, 0 = unset
    cpu_period: int = 0  # microseconds, 0 = unset
    # --device as inspect shows it: [{"PathOnHost", "PathInContainer", "CgroupPermissions"}]
    devices: list[dict[str, str]] = field(default_factory=list)
    stop_signal: str = ""  # as typed (or the image's STOPSIGNAL); "" = SIGTERM
    stop_timeout: int | None = None  # seconds; None = stop's default, negative = no limit
    state: State = field(default_factory=State)
    restart_count: int = 0
    stopped_by_user: bool = False
    foreground: bool = False  # a `run` without -d is waiting for the exit code
    image_config: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> Status:
        return Status(self.state.status)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Container:
        raw = dict(raw)
        raw["state"] = State(**raw.get("state", {}))
        raw["networks"] = {k: NetworkAttachment(**v) for k, v in raw.get("networks", {}).items()}
        raw["ports"] = [PortBinding(**p) for p in raw.get("ports", [])]
        raw["published_ports"] = [PortBinding(**p) for p in raw.get("published_ports", [])]
        if "mounts" in raw:
            raw["mounts"] = [MountPoint(**m) for m in raw["mounts"]]
        else:  # a record from before mounts were resolved at create: its SRC:DST binds
            raw["mounts"] = _legacy_mounts(raw.get("binds", ()))
        return cls(**raw)


def _legacy_mounts(binds: list[str]) -> list[MountPoint]:
    """The mounts of an old record's `-v SRC:DST` values (older berth did not check them: one
    it cannot read now is left out rather than making the record unreadable)."""
    mounts = []
    for bind in binds:
        try:
            r = parse_volume_flag(bind)
        except ContainerError:
            continue
        if r.source:
            mounts.append(MountPoint(r.type, r.source, r.destination, r.readonly, r.mode))
    return mounts


def not_running_error(ref: str) -> InvalidStateError:
    """Docker's error for commands that need a running container."""
    return InvalidStateError(f"Container {ref} is not running")


def transition(container: Container, event: Event) -> Status:
    """Apply `event` to the container's state and return the new state.

    Raises:
        InvalidStateError: the event is not allowed in the current state (Docker's text).
    """
    current = container.status
    new = _TRANSITIONS.get((current, event))
    if new is None:
        if event is Event.REMOVE and current in (Status.RUNNING, Status.PAUSED):
            raise InvalidStateError(
                f"You cannot remove a {current.value} container {container.id}. Stop the "
                "container before attempting removal or force remove")
        if event is Event.UNPAUSE:
            raise InvalidStateError(f"Container {container.id} is not paused")
        if event is Event.PAUSE and current is Status.PAUSED:
            raise InvalidStateError(f"Container {container.id} is already paused")
        if event in (Event.PAUSE, Event.EXIT):
            raise not_running_error(container.id)
        raise InvalidStateError(
            f"cannot {event.value} container {container.id} in state {current.value}")
    container.state.status = new.value
    return new
