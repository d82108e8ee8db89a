"""`berth container create` / `berth create` (its flags are shared with `run`)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from runtime_client.cli.base import CliContext, add_verify_flags
from runtime_client.cli.containers_common import fail, open_context, with_pull
from runtime_client.container_errors import ContainerError
from runtime_client.errors import RuntimeClientError

if TYPE_CHECKING:
    from runtime_client.ops.create import CreateOptions
    from runtime_client.signature_policy import Verification


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the flags of `create` (and `run`)."""
    parser.add_argument("-i", "--interactive", action="store_true",
                        help="keep STDIN open even if not attached")
    parser.add_argument("-t", "--tty", action="store_true", help="allocate a pseudo-TTY")
    parser.add_argument("--name", help="assign a name to the container")
    parser.add_argument("--rm", action="store_true", dest="auto_remove",
                        help="automatically remove the container when it exits")
    parser.add_argument("--restart", default="no",
                        help="restart policy: no, always, unless-stopped, on-failure[:N]")
    parser.add_argument("-p", "--publish", action="append", default=[],
                        help="publish a container's port(s) to the host")
    parser.add_argument("-P", "--publish-all", action="store_true",
                        help="publish all exposed ports to random ports")
    parser.add_argument("--expose", action="append", default=[], help="expose a port")
    parser.add_argument("--dns", action="append", default=[], help="set custom DNS servers")
    parser.add_argument("--dns-search", action="append", default=[],
                        help="set custom DNS search domains ('.' for none)")
    parser.add_argument("--dns-option", "--dns-opt", action="append", default=[],
                        dest="dns_option", help="set DNS options")
    parser.add_argument("--mac-address", default="", help="container MAC address")
    parser.add_argument("--add-host", action="append", default=[],
                        help="add a custom host-to-IP mapping (host:ip)")
    parser.add_argument("--net", "--network", dest="network", default="",
                        help="connect a container to a network")
    parser.add_argument("--network-alias", "--alias", action="append", default=[],
                        dest="network_alias", help="add network-scoped alias")
    parser.add_argument("--ip", default="", help="IPv4 address")
    parser.add_argument("-c", "--cpu-shares", type=int, default=0,
                        help="CPU shares (relative weight, default 1024)")
    parser.add_argument("-m", "--memory", default="", help="memory limit")
    parser.add_argument("-v", "--volume", action="append", default=[],
                        help="bind mount a host path or a named volume (SRC:DST[:ro]), or "
                        "make an anonymous volume (DST)")
    parser.add_argument("--mount", action="append", default=[],
                        help="attach a mount: type=volume|bind,source=,target=[,readonly]")
    parser.add_argument("-e", "--env", action="append", default=[],
                        help="set environment variables")
    parser.add_argument("--env-file", action="append", default=[],
                        help="read in a file of environment variables")
    parser.add_argument("-w", "--workdir", default="", help="working directory inside")
    parser.add_argument("--entrypoint", default=None, help="overwrite the default ENTRYPOINT")
    parser.add_argument("-u", "--user", default="", help="username or UID[:group]")
    parser.add_argument("--hostname", default="", help="container host name")
    parser.add_argument("-l", "--label", action="append", default=[], help="set metadata")
    parser.add_argument("--runtime", default="runc", help="OCI runtime (runc or crun)")
    parser.add_argument("--security-opt", action="append", default=[], dest="security_opt",
                        help="security options: seccomp=unconfined, seccomp=PROFILE.json, "
                        "no-new-privileges[:true|false]")
    parser.add_argument("--cap-add", action="append", default=[], dest="cap_add",
                        help="add Linux capabilities (NET_ADMIN, CAP_SYS_TIME, ALL)")
    parser.add_argument("--cap-drop", action="append", default=[], dest="cap_drop",
                        help="drop Linux capabilities (CHOWN, ALL)")
    parser.add_argument("--privileged", action="store_true",
                        help="give extended privileges to this container")
    parser.add_argument("--read-only", action="store_true", dest="read_only",
                        help="mount the container's root filesystem as read only")
    parser.add_argument("--pids-limit", type=int, default=None, dest="pids_limit",
                        help="tune container pids limit (-1 or 0 for unlimited)")
    parser.add_argument("--ulimit", action="append", default=[],
                        help="ulimit options: TYPE=SOFT[:HARD], e.g. nofile=1024:2048")
    parser.add_argument("--tmpfs", action="append", default=[],
                        help="mount a tmpfs directory: PATH[:OPTIONS], e.g. /tmp:size=64m")
    parser.add_argument("--shm-size", default="", dest="shm_size",
                        help="size of /dev/shm (default 64m)")
    parser.add_argument("--cpus", default="", help="number of CPUs, e.g. 1.5")
    parser.add_argument("--cpu-quota", type=int, default=0, dest="cpu_quota",
                        help="limit CPU CFS (Completely Fair Scheduler) quota")
    parser.add_argument("--cpu-period", type=int, default=0, dest="cpu_period",
                        help="limit CPU CFS (Completely Fair Scheduler) period")
    parser.add_argument("--device", action="append", default=[],
                        help="add a host device: HOST[:CONTAINER][:PERMISSIONS]")
    parser.add_argument("--stop-signal", default="", dest="stop_signal",
                        help="signal to stop the container (default SIGTERM)")
    parser.add_argument("--stop-timeout", type=int, default=None, dest="stop_timeout",
                        help="timeout (in seconds) to stop a container")
    add_verify_flags(parser)
    parser.add_argument("image", metavar="IMAGE")
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="COMMAND")


def options_from(args: argparse.Namespace, detach: bool) -> CreateOptions:
    """The frozen options of `create`/`run` from parsed arguments."""
    from runtime_client.ops.create import CreateOptions

    return CreateOptions(
        image=args.image, command=tuple(args.command), name=args.name, tty=args.tty,
        interactive=args.interactive, detach=detach, auto_remove=args.auto_remove,
        restart=args.restart, publish=tuple(args.publish), publish_all=args.publish_all,
        expose=tuple(args.expose), dns=tuple(args.dns),
        dns_search=tuple(args.dns_search), dns_options=tuple(args.dns_option),
        mac_address=args.mac_address,
        add_host=tuple(args.add_host), network=args.network,
        network_aliases=tuple(args.network_alias), ip=args.ip, cpu_shares=args.cpu_shares,
        memory=args.memory, volumes=tuple(args.volume), mounts=tuple(args.mount),
        env=tuple(args.env),
        env_files=tuple(args.env_file), workdir=args.workdir, entrypoint=args.entrypoint,
        user=args.user, hostname=args.hostname, labels=tuple(args.label),
        runtime=args.runtime, security_opt=tuple(args.security_opt),
        cap_add=tuple(args.cap_add), cap_drop=tuple(args.cap_drop), privileged=args.privileged,
        read_only=args.read_only, pids_limit=args.pids_limit, ulimits=tuple(args.ulimit),
        tmpfs=tuple(args.tmpfs), shm_size=args.shm_size, cpus=args.cpus,
        cpu_quota=args.cpu_quota, cpu_period=args.cpu_period, devices=tuple(args.device),
        stop_signal=args.stop_signal, stop_timeout=args.stop_timeout)


def verification_of(args: argparse.Namespace, ctx: CliContext) -> Verification:
    """What `--verify`, `--policy` and Docker Content Trust ask of the image."""
    from runtime_client.config import content_trust_enabled
    from runtime_client.signature_policy import resolve_verification
    return resolve_verification(ctx.config, ctx.env, args.verify, args.policy,
                                content_trust_enabled(ctx.env, None))


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Create a container and print its ID."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.create import create
    try:
        verification = verification_of(args, ctx)
        with open_context(ctx) as c:
            opts = options_from(args, detach=True)
            container = with_pull(ctx, opts.image, lambda: create(c, opts), verification)
    except (ContainerError, RuntimeClientError) as exc:
        return fail(ctx, exc, "create")
    ctx.stdout.write(container.id + "\n")
    return 0
