"""Seccomp filters for containers: berth's default profile and user profiles (pure: no I/O).

The result is the OCI runtime-spec `linux.seccomp` object, which runc 1.1 compiles with
libseccomp. The default works like Docker's: anything not on the allowlist fails with EPERM,
so ordinary programs run while the kernel surface an unprivileged container has no business
touching is refused:

- namespaces and mounts (`unshare`, `setns`, `mount`, `pivot_root`, the new mount API, and
  `clone` with a `CLONE_NEW*` flag, checked with an argument mask so fork and threads work;
  `clone3` answers ENOSYS because its flags sit in memory a filter cannot read, and libc then
  falls back to `clone`);
- the kernel keyring (`add_key`, `keyctl`, `request_key`: not namespaced), modules, kexec,
  reboot, swap, accounting, quotas, clock setting, `bpf`, `perf_event_open`, NUMA policy,
  `userfaultfd`, io_uring, `open_by_handle_at`, raw I/O ports and obsolete calls.

Calls that only a capability makes useful (`chroot`, `mount`, `reboot`, `settimeofday`...) are
allowed when the container holds that capability (`CAPABILITY_SYSCALLS`); berth's default set
only includes CAP_SYS_CHROOT of those. `ptrace` and `process_vm_readv/writev` are allowed, as
in Docker on kernels since 4.8: the kernel limits them to the caller's own processes.

`--security-opt seccomp=unconfined` (and `--privileged`) runs without a filter; `seccomp=PATH`
reads a profile in either the OCI `linux.seccomp` shape or Docker's profile format (`archMap`,
per-rule `includes`/`excludes` by capability and architecture; `minKernel` is ignored, every
rule applies). The container record keeps the option the way Docker's inspect shows it
(`seccomp=unconfined` or `seccomp=<compact JSON>`), so restarts use the same filter even if the
file is gone.

Not in scope: AppArmor and SELinux labels (berth applies neither), SCMP_ACT_NOTIFY agents.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from runtime_client.container_errors import InvalidOptionError

__all__ = [
    "CAPABILITY_SYSCALLS",
    "NO_NEW_PRIVILEGES",
    "UNCONFINED",
    "default_profile",
    "no_new_privileges",
    "parse_security_opt",
    "profile_from_json",
    "seccomp_for",
]

UNCONFINED = "unconfined"
NO_NEW_PRIVILEGES = "no-new-privileges"
# Go's strconv.ParseBool, which dockerd uses for no-new-privileges values.
_GO_BOOLEANS = {**dict.fromkeys(("1", "t", "T", "TRUE", "true", "True"), True),
                **dict.fromkeys(("0", "f", "F", "FALSE", "false", "False"), False)}
EPERM = 1
ENOSYS = 38

# CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
# CLONE_NEWNET (linux/sched.h); CLONE_NEWTIME only exists for clone3 and unshare.
CLONE_NAMESPACE_FLAGS = (0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000
                         | 0x20000000 | 0x40000000)
AF_VSOCK = 40  # host <-> guest sockets: nothing a container should reach
# PER_LINUX, PER_LINUX32, UNAME26, UNAME26 | PER_LINUX32, and 0xffffffff (query only).
ALLOWED_PERSONALITIES = (0x0, 0x8, 0x20000, 0x20008, 0xFFFFFFFF)

# uname -m -> (native libseccomp architecture, the other ABIs its kernel runs, Go's GOARCH).
# x32 is left out: kernels rarely build its ABI (Debian's do not), each architecture costs
# libseccomp about 8 ms more when runc compiles the filter at every start, and without it
# libseccomp sends x32 calls to the bad-architecture action, never to the allowlist.
_ARCHES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "x86_64": ("SCMP_ARCH_X86_64", ("SCMP_ARCH_X86",), "amd64"),
    "aarch64": ("SCMP_ARCH_AARCH64", ("SCMP_ARCH_ARM",), "arm64"),
}

_FILES = (
    "access", "chdir", "chmod", "chown", "chown32", "close", "close_range", "copy_file_range",
    "creat", "dup", "dup2", "dup3", "faccessat", "faccessat2", "fadvise64", "fadvise64_64",
    "fallocate", "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat",
    "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fremovexattr",
    "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
    "ftruncate64", "futimesat", "getcwd", "getdents", "getdents64", "getxattr", "ioctl",
    "lchown", "lchown32", "lgetxattr", "link", "linkat", "listxattr", "llistxattr", "_llseek",
    "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64", "memfd_create", "mkdir",
    "mkdirat", "mknod", "mknodat", "newfstatat", "open", "openat", "openat2", "pipe", "pipe2",
    "pread64", "preadv", "preadv2", "pwrite64", "pwritev", "pwritev2", "read", "readahead",
    "readlink", "readlinkat", "readv", "removexattr", "rename", "renameat", "renameat2",
    "rmdir", "sendfile", "sendfile64", "setxattr", "splice", "stat", "stat64", "statfs",
    "statfs64", "statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs", "tee",
    "truncate", "truncate64", "umask", "unlink", "unlinkat", "utime", "utimensat",
    "utimensat_time64", "utimes", "vmsplice", "write", "writev",
)
_EVENTS = (
    "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
    "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "fanotify_mark",
    "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch", "_newselect",
    "poll", "ppoll", "ppoll_time64", "pselect6", "pselect6_time64", "select", "signalfd",
    "signalfd4", "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
    "timerfd_settime64", "io_cancel", "io_destroy", "io_getevents", "io_pgetevents",
    "io_pgetevents_time64", "io_setup", "io_submit",
)
_PROCESSES = (
    "alarm", "arch_prctl", "capget", "capset", "execve", "execveat", "exit", "exit_group",
    "fork", "futex", "futex_time64", "futex_waitv", "get_robust_list", "get_thread_area",
    "getcpu", "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups",
    "getgroups32", "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrandom",
    "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit", "getrusage", "getsid",
    "gettid", "getuid", "getuid32", "ioprio_get", "ioprio_set", "kill", "landlock_add_rule",
    "landlock_create_ruleset", "landlock_restrict_self", "membarrier", "modify_ldt", "nice",
    "pause", "pidfd_open", "pidfd_send_signal", "prctl", "prlimit64", "process_vm_readv",
    "process_vm_writev", "ptrace", "restart_syscall", "rseq", "sched_get_priority_max",
    "sched_get_priority_min", "sched_getaffinity", "sched_getattr", "sched_getparam",
    "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64",
    "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler",
    "sched_yield", "seccomp", "set_robust_list", "set_thread_area", "set_tid_address",
    "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups",
    "setgroups32", "setpgid", "setpriority", "setregid", "setregid32", "setresgid",
    "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit", "setsid",
    "setuid", "setuid32", "sysinfo", "tgkill", "times", "tkill", "ugetrlimit", "uname",
    "vfork", "wait4", "waitid", "waitpid",
)
_MEMORY = (
    "brk", "madvise", "mincore", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect",
    "mremap", "msync", "munlock", "munlockall", "munmap", "pkey_alloc", "pkey_free",
    "pkey_mprotect", "remap_file_pages",
)
_SIGNALS = (
    "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn",
    "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo",
    "sigaction", "sigaltstack", "signal", "sigpending", "sigprocmask", "sigreturn",
    "sigsuspend",
)
# Reading clocks; setting them needs CAP_SYS_TIME (adjtimex with modes=0 only reads).
_TIME = (
    "adjtimex", "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64",
    "clock_nanosleep", "clock_nanosleep_time64", "getitimer", "gettimeofday", "nanosleep",
    "setitimer", "time", "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime",
    "timer_gettime64", "timer_settime", "timer_settime64",
)
# `socket` itself has its own rule (no AF_VSOCK); `socketcall` multiplexes on 32-bit x86.
_NETWORK = (
    "accept", "accept4", "bind", "connect", "getpeername", "getsockname", "getsockopt",
    "listen", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "send",
    "sendmmsg", "sendmsg", "sendto", "setsockopt", "shutdown", "socketcall", "socketpair",
)
# System V and POSIX IPC live in the container's own IPC namespace.
_IPC = (
    "ipc", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
    "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "msgctl",
    "msgget", "msgrcv", "msgsnd", "semctl", "semget", "semop", "semtimedop",
    "semtimedop_time64", "shmat", "shmctl", "shmdt", "shmget",
)
ALLOWED_SYSCALLS = _FILES + _EVENTS + _PROCESSES + _MEMORY + _SIGNALS + _TIME + _NETWORK + _IPC

# Calls the kernel already reserves for a capability: allowed when the container holds it.
CAPABILITY_SYSCALLS: dict[str, tuple[str, ...]] = {
    "CAP_SYS_ADMIN": (
        "bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
        "lookup_dcookie", "mount", "mount_setattr", "move_mount", "name_to_handle_at",
        "open_tree", "perf_event_open", "pivot_root", "quotactl", "quotactl_fd",
        "setdomainname", "sethostname", "setns", "swapoff", "swapon", "syslog", "umount",
        "umount2", "unshare", "vm86", "vm86old",
    ),
    "CAP_BPF": ("bpf",),
    "CAP_PERFMON": ("perf_event_open",),
    "CAP_SYSLOG": ("syslog",),
    "CAP_SYS_BOOT": ("reboot",),
    "CAP_SYS_CHROOT": ("chroot",),
    "CAP_SYS_MODULE": ("delete_module", "finit_module", "init_module"),
    "CAP_SYS_PACCT": ("acct",),
    "CAP_SYS_PTRACE": ("kcmp", "pidfd_getfd", "process_madvise"),
    "CAP_SYS_RAWIO": ("ioperm", "iopl"),
    "CAP_SYS_TIME": ("clock_adjtime", "clock_adjtime64", "clock_settime", "clock_settime64",
                     "settimeofday", "stime"),
    "CAP_SYS_TTY_CONFIG": ("vhangup",),
    "CAP_SYS_NICE": ("get_mempolicy", "mbind", "move_pages", "set_mempolicy",
                     "set_mempolicy_home_node"),
    "CAP_DAC_READ_SEARCH": ("open_by_handle_at",),
}


def _rule(names: Iterable[str], action: str = "SCMP_ACT_ALLOW", *,
          args: Sequence[dict[str, Any]] = (), errno: int | None = None) -> dict[str, Any]:
    rule: dict[str, Any] = {"names": list(names), "action": action}
    if args:
        rule["args"] = list(args)
    if errno is not None:
        rule["errnoRet"] = errno
    return rule


def _arg(index: int, op: str, value: int, value_two: int = 0) -> dict[str, Any]:
    return {"index": index, "value": value, "valueTwo": value_two, "op": op}


def architectures(machine: str) -> list[str]:
    """The libseccomp architectures a filter covers on a host (`uname -m`); [] = native only."""
    native, others, _ = _ARCHES.get(machine, ("", (), ""))
    return [native, *others] if native else []


def default_profile(capabilities: Collection[str], machine: str) -> dict[str, Any]:
    """Berth's default `linux.seccomp` object for a container.

    Args:
        capabilities: the container's bounding set (`CAP_...` names).
        machine: the host's `uname -m` (which ABIs the filter names).

    Returns:
        The OCI runtime-spec seccomp object: EPERM by default, the allowlist, capability-gated
        calls for the capabilities held, and the argument-checked rules.
    """
    caps = set(capabilities)
    gated = sorted({name for cap, names in CAPABILITY_SYSCALLS.items() if cap in caps
                    for name in names})
    rules = [_rule(ALLOWED_SYSCALLS)]
    if gated:
        rules.append(_rule(gated))
    if "CAP_SYS_ADMIN" not in caps:
        rules.append(_rule(["clone"], args=[
            _arg(0, "SCMP_CMP_MASKED_EQ", CLONE_NAMESPACE_FLAGS, 0)]))
        rules.append(_rule(["clone3"], "SCMP_ACT_ERRNO", errno=ENOSYS))
    rules.append(_rule(["socket"], args=[_arg(0, "SCMP_CMP_NE", AF_VSOCK)]))
    rules += [_rule(["personality"], args=[_arg(0, "SCMP_CMP_EQ", p)])
              for p in ALLOWED_PERSONALITIES]
    profile: dict[str, Any] = {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": EPERM}
    arches = architectures(machine)
    if arches:
        profile["architectures"] = arches
    profile["syscalls"] = rules
    return profile


def _bad(message: str) -> InvalidOptionError:
    return InvalidOptionError(f"Decoding seccomp profile failed: {message}")


def _applies(rule: dict[str, Any], caps: set[str], goarch: str) -> bool:
    """Docker's per-rule `includes` / `excludes` (capabilities and Go architecture names)."""
    includes, excludes = rule.get("includes") or {}, rule.get("excludes") or {}
    if not isinstance(includes, dict) or not isinstance(excludes, dict):
        raise _bad("includes/excludes must be objects")
    if not set(includes.get("caps") or ()) <= caps:
        return False
    if includes.get("arches") and goarch not in includes["arches"]:
        return False
    if set(excludes.get("caps") or ()) & caps:
        return False
    return not (excludes.get("arches") and goarch in excludes["arches"])


def _translate_rule(rule: Any) -> dict[str, Any]:
    if not isinstance(rule, dict):
        raise _bad("a syscalls entry must be an object")
    names = rule.get("names")
    if rule.get("name"):
        if names:
            raise _bad("use either 'name' or 'names', not both")
        names = [rule["name"]]
    if (not isinstance(names, list) or not names
            or not all(isinstance(n, str) and n for n in names)):
        raise _bad("a syscalls entry needs 'names' (a list of syscall names)")
    action = rule.get("action")
    if not isinstance(action, str) or not action.startswith("SCMP_ACT_"):
        raise _bad(f"bad action {action!r} for {names[0]}")
    out: dict[str, Any] = {"names": names, "action": action}
    args = rule.get("args") or []
    if not isinstance(args, list):
        raise _bad(f"'args' of {names[0]} must be a list")
    for arg in args:
        if not isinstance(arg, dict) or not isinstance(arg.get("op"), str):
            raise _bad(f"each argument condition of {names[0]} needs an 'op'")
    if args:
        out["args"] = [{"index": a.get("index", 0), "value": a.get("value", 0),
                        "valueTwo": a.get("valueTwo", 0), "op": a["op"]} for a in args]
    if rule.get("errnoRet") is not None:
        out["errnoRet"] = rule["errnoRet"]
    return out


def profile_from_json(text: str, capabilities: Collection[str], machine: str
                      ) -> dict[str, Any]:
    """A user's profile (OCI `linux.seccomp` shape or Docker's format) as `linux.seccomp`.

    Args:
        text: the profile file's JSON.
        capabilities: the container's capabilities (for Docker's `includes`/`excludes`).
        machine: the host's `uname -m` (for Docker's `archMap` and per-rule arches).

    Raises:
        InvalidOptionError: not JSON, or not a profile.
    """
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise _bad(str(exc)) from None
    if not isinstance(raw, dict):
        raise _bad("the profile must be a JSON object")
    action = raw.get("defaultAction")
    if not isinstance(action, str) or not action.startswith("SCMP_ACT_"):
        raise _bad("'defaultAction' must be an SCMP_ACT_... action")
    profile: dict[str, Any] = {"defaultAction": action}
    for key in ("defaultErrnoRet", "flags", "listenerPath", "listenerMetadata"):
        if raw.get(key) is not None:
            profile[key] = raw[key]
    native, _, goarch = _ARCHES.get(machine, ("", (), machine))
    arches, arch_map = raw.get("architectures", []), raw.get("archMap", [])
    if not isinstance(arches, list) or not isinstance(arch_map, list):
        raise _bad("'architectures' and 'archMap' must be lists")
    for entry in arch_map:
        if isinstance(entry, dict) and entry.get("architecture") == native:
            arches = [native, *(entry.get("subArchitectures") or [])]
    if arches:
        profile["architectures"] = arches
    caps = set(capabilities)
    rules = raw.get("syscalls", [])
    if not isinstance(rules, list):
        raise _bad("'syscalls' must be a list")
    profile["syscalls"] = [_translate_rule(r) for r in rules
                           if _applies(r if isinstance(r, dict) else {}, caps, goarch)]
    return profile


def parse_security_opt(option: str) -> tuple[str, str]:
    """Split one `--security-opt` value into (key, value), as Docker accepts it.

    `seccomp=...` and the older `seccomp:...` are understood; so are `no-new-privileges`
    (alone, or `=`/`:` with a Go-style boolean, returned as "true"/"false"),
    `apparmor=unconfined` and `label=disable` (berth applies neither AppArmor nor SELinux, so
    those change nothing).

    Raises:
        InvalidOptionError: any other option.
    """
    if option == NO_NEW_PRIVILEGES:
        return NO_NEW_PRIVILEGES, "true"
    for key in ("seccomp", "apparmor", "label", NO_NEW_PRIVILEGES):
        for sep in ("=", ":"):
            if option.startswith(key + sep) and option[len(key) + 1:]:
                value = option[len(key) + 1:]
                if key == "seccomp" or (key == "apparmor" and value == UNCONFINED) or (
                        key == "label" and value == "disable"):
                    return key, value
                if key == NO_NEW_PRIVILEGES and value in _GO_BOOLEANS:
                    return key, str(_GO_BOOLEANS[value]).lower()
    raise InvalidOptionError(f'invalid --security-opt: "{option}" (berth knows '
                             "seccomp=unconfined, seccomp=PROFILE.json, "
                             "no-new-privileges[:true|false], apparmor=unconfined and "
                             "label=disable)")


def no_new_privileges(security_opt: Sequence[str]) -> bool:
    """Whether the options ask for `no_new_privs` (the last no-new-privileges option wins)."""
    wanted = False
    for option in security_opt:
        key, value = parse_security_opt(option)
        if key == NO_NEW_PRIVILEGES:
            wanted = value == "true"
    return wanted


def seccomp_for(security_opt: Sequence[str], capabilities: Collection[str], machine: str
                ) -> dict[str, Any] | None:
    """The `linux.seccomp` object for a container's stored security options.

    Args:
        security_opt: the record's options (`seccomp=unconfined`, `seccomp=<profile JSON>`).
        capabilities: the container's capabilities.
        machine: the host's `uname -m`.

    Returns:
        None for `seccomp=unconfined`, the stored profile, or berth's default profile.
    """
    for option in security_opt:
        key, value = parse_security_opt(option)
        if key != "seccomp":
            continue
        if value == UNCONFINED:
            return None
        return profile_from_json(value, capabilities, machine)
    return default_profile(capabilities, machine)
