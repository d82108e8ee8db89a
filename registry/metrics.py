"""A small Prometheus text-format registry of counters for this process."""

from __future__ import annotations

from collections import defaultdict

__all__ = ["Metrics"]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    """Counters keyed by name and label values; rendered in the exposition format 0.0.4."""

    def __init__(self) -> None:
        self._help: dict[str, str] = {}
        self._counters: dict[str, dict[tuple[tuple[str, str], ...], float]] = defaultdict(
            lambda: defaultdict(float)
        )

    def describe(self, name: str, help_text: str) -> None:
        self._help[name] = help_text

    def inc(self, name: str, value: float = 1.0, **labels: str) -> None:
        self._counters[name][tuple(sorted(labels.items()))] += value

    def render(self) -> str:
        lines: list[str] = []
        for name in sorted(self._counters):
            lines.append(f"# HELP {name} {self._help.get(name, name)}")
            lines.append(f"# TYPE {name} counter")
            for labels, value in sorted(self._counters[name].items()):
                label_text = ",".join(f'{key}="{_escape(val)}"' for key, val in labels)
                lines.append(
                    f"{name}{{{label_text}}} {value:g}" if label_text else f"{name} {value:g}"
                )
        return "\n".join(lines) + "\n"
