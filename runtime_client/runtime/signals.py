"""Signal names as Docker takes them (`--stop-signal`, an image's STOPSIGNAL) (pure).

Docker accepts a number, or a name with or without `SIG` in any case (`SIGUSR1`, `usr1`,
`RTMIN+3`), and keeps the text as typed; the runtime is given the number.
"""

from __future__ import annotations

import signal

from runtime_client.container_errors import InvalidOptionError

__all__ = ["DEFAULT_STOP_SIGNAL", "parse_signal"]

DEFAULT_STOP_SIGNAL = "SIGTERM"
_MAX_SIGNAL = int(signal.SIGRTMAX)


def _by_name(name: str) -> int | None:
    for base, sign in (("RTMIN+", 1), ("RTMAX-", -1)):
        if name.startswith(base) and name[len(base):].isdigit():
            number = int(signal.SIGRTMIN if sign > 0 else signal.SIGRTMAX)
            number += sign * int(name[len(base):])
            return number if signal.SIGRTMIN <= number <= signal.SIGRTMAX else None
    member = signal.Signals.__members__.get("SIG" + name)
    return int(member) if member is not None else None


def parse_signal(text: str) -> int:
    """The signal number of `text`.

    Raises:
        InvalidOptionError: an unknown name, or a number outside 1..SIGRTMAX
            (`Invalid signal: X`, Docker's wording).
    """
    if text.isdigit():
        number: int | None = int(text)
        if not 1 <= int(text) <= _MAX_SIGNAL:
            number = None
    else:
        number = _by_name(text.upper().removeprefix("SIG"))
    if number is None:
        raise InvalidOptionError(f"Invalid signal: {text}")
    return number
