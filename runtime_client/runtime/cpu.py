"""`--cpus`, `--cpu-quota` and `--cpu-period`: Docker's checks and the CFS values (pure).

`--cpus N` is stored as inspect's `NanoCpus` (N * 10^9) and applied as a CFS quota over
Docker's fixed 100 ms period; `--cpu-quota`/`--cpu-period` are stored and applied as given.
Docker refuses mixing the two forms, and periods or quotas below 1 ms.
"""

from __future__ import annotations

from dataclasses import dataclass

from runtime_client.container_errors import InvalidOptionError

__all__ = ["CpuLimits", "check_cpu_limits", "parse_cpus"]

NANO = 10**9
DEFAULT_PERIOD = 100_000  # microseconds: what --cpus uses
MIN_CFS = 1_000  # microseconds
MAX_PERIOD = 1_000_000
MIN_NANO_CPUS = NANO // 100  # 0.01 CPU: the lowest that gives a quota of at least 1 ms


@dataclass(frozen=True)
class CpuLimits:
    """What the record keeps (inspect's names; 0 = unset)."""

    nano_cpus: int = 0
    cpu_quota: int = 0  # microseconds per period; negative = unlimited
    cpu_period: int = 0  # microseconds

    def cfs(self) -> tuple[int, int] | None:
        """The (quota, period) to apply, or None for no CFS limit."""
        if self.nano_cpus:
            return self.nano_cpus * DEFAULT_PERIOD // NANO, DEFAULT_PERIOD
        if self.cpu_quota > 0 or self.cpu_period > 0:
            return (self.cpu_quota if self.cpu_quota > 0 else -1,
                    self.cpu_period or DEFAULT_PERIOD)
        return None


def parse_cpus(value: str) -> int:
    """`--cpus` as nano CPUs ('' -> 0).

    Raises:
        InvalidOptionError: not a number, or more precise than a nano CPU (Docker's wording).
    """
    if not value:
        return 0
    # Imported here: it pulls in `decimal`, and every `run` would pay for it.
    from fractions import Fraction

    try:
        cpus = Fraction(value.strip())
    except (ValueError, ZeroDivisionError):
        raise InvalidOptionError(f'invalid argument "{value}" for "--cpus" flag: failed to '
                                 f"parse {value} as a rational number") from None
    nano = cpus * NANO
    if nano.denominator != 1:
        raise InvalidOptionError(f'invalid argument "{value}" for "--cpus" flag: value is '
                                 "too precise")
    return int(nano)


def check_cpu_limits(limits: CpuLimits, host_cpus: int) -> None:
    """Docker's checks of the CPU flags against each other and this host's CPU count.

    Raises:
        InvalidOptionError: Docker's message for the first rule broken.
    """
    if limits.nano_cpus and limits.cpu_quota:
        raise InvalidOptionError("Conflicting options: Nano CPUs and CPU Quota cannot both "
                                 "be set")
    if limits.nano_cpus and limits.cpu_period:
        raise InvalidOptionError("Conflicting options: Nano CPUs and CPU Period cannot both "
                                 "be set")
    # Docker lets 0 < --cpus < 0.01 through and runc then fails; its own range says 0.01.
    if limits.nano_cpus and not MIN_NANO_CPUS <= limits.nano_cpus <= host_cpus * NANO:
        raise InvalidOptionError(f"Range of CPUs is from 0.01 to {host_cpus}.00, as there "
                                 f"are only {host_cpus} CPUs available")
    if limits.cpu_period and not MIN_CFS <= limits.cpu_period <= MAX_PERIOD:
        raise InvalidOptionError("CPU cfs period can not be less than 1ms (i.e. 1000) or "
                                 "larger than 1s (i.e. 1000000)")
    if 0 < limits.cpu_quota < MIN_CFS:
        raise InvalidOptionError("CPU cfs quota can not be less than 1ms (i.e. 1000)")
