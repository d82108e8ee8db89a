"""Go's view of template data: printing (`fmt`'s `%v`), truth, and the functions `--format`
templates call (Go's built-ins and the docker CLI's `json`, `join`, `split`, `title`, `lower`,
`upper`, `pad`, `truncate`)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["FUNCTIONS", "FunctionError", "TypedNil", "go_string", "truth"]


class FunctionError(ValueError):
    """A function refused its arguments (Go: `error calling NAME: ...`)."""


@dataclass(frozen=True)
class TypedNil:
    """A nil slice, map or pointer of Docker's typed structures: `%v` prints `[]`, `map[]` or
    `<nil>`, `json` prints `null` (JSON null alone cannot say which it was)."""

    kind: str  # "slice" | "map" | "pointer"


def go_string(value: Any, top: bool = True) -> str:
    """`fmt.Sprint(value)` for decoded JSON values, as a template action prints them."""
    if value is None:
        return "<no value>" if top else "<nil>"
    if isinstance(value, TypedNil):
        return {"slice": "[]", "map": "map[]"}.get(value.kind, "<nil>")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, list | tuple):
        return "[" + " ".join(go_string(v, top=False) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_string(value[k], top=False)}"
                                 for k in sorted(value)) + "]"
    return str(value)


def _go_float(value: float) -> str:
    """strconv's shortest 'g' form with Go's exponent threshold (21 digits)."""
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    if "e" in text and 1e-4 <= abs(value) < 1e21:
        return format(Decimal(text), "f")
    return text


def truth(value: Any) -> bool:
    """Go's template truth: false, 0, nil and empty strings, slices and maps are false."""
    if isinstance(value, TypedNil) or value is None:
        return False
    if isinstance(value, bool | int | float | str | list | tuple | dict):
        return bool(value)
    return True


def plain(value: Any) -> Any:
    """The value with typed nils as JSON null (for `json`)."""
    if isinstance(value, TypedNil):
        return None
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _go_type(value: Any) -> str:
    if value is None:
        return "<nil>"
    if isinstance(value, TypedNil):
        return "[]string" if value.kind == "slice" else "map[string]string"
    return {bool: "bool", int: "int", float: "float64", str: "string", list: "[]interface {}",
            dict: "map[string]interface {}"}.get(type(value), type(value).__name__)


def _json(value: Any) -> str:
    # The docker CLI's json: encoding/json without HTML escaping, no trailing newline.
    return json.dumps(plain(value), ensure_ascii=False, separators=(",", ":"))


def _strings(value: Any) -> list[str]:
    if isinstance(value, TypedNil):
        return []
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise FunctionError(f"wrong type for value; expected []string; got {_go_type(value)}")
    return list(value)


def _join(value: Any, sep: Any) -> str:
    return str(sep).join(_strings(value))


def _split(text: Any, sep: Any) -> list[str]:
    if not isinstance(text, str):
        raise FunctionError(f"wrong type for value; expected string; got {_go_type(text)}")
    return text.split(sep) if sep else list(text)


def _len(value: Any) -> int:
    if isinstance(value, TypedNil):
        return 0
    if isinstance(value, str | list | tuple | dict):
        return len(value)
    if value is None:
        raise FunctionError("len of nil pointer")
    raise FunctionError(f"len of type {_go_type(value)}")


def _index(item: Any, *keys: Any) -> Any:
    for key in keys:
        if item is None:
            raise FunctionError("index of untyped nil")
        if isinstance(item, TypedNil):
            if item.kind == "map":
                item = None
                continue
            raise FunctionError(f"index out of range: {key}")
        if isinstance(item, list | tuple | str):
            if not isinstance(key, int) or isinstance(key, bool):
                raise FunctionError(f"cannot index slice/array with type {_go_type(key)}")
            if not 0 <= key < len(item):
                raise FunctionError(f"index out of range: {key}")
            item = item[key]
        elif isinstance(item, dict):
            item = item.get(key)
        else:
            raise FunctionError(f"can't index item of type {_go_type(item)}")
    return item


def _title(text: Any) -> str:
    return re.sub(r"(^|\s)(\S)", lambda m: m.group(1) + m.group(2).upper(), str(text))


def _pad(text: Any, before: Any, after: Any) -> str:
    return " " * int(before) + go_string(text) + " " * int(after)


def _truncate(text: Any, length: Any) -> str:
    value = go_string(text)
    return value[:int(length)] if len(value) > int(length) else value


_VERB = re.compile(r"%([-+# 0]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])")


def _printf(fmt: Any, *args: Any) -> str:
    values = list(args)

    def one(match: re.Match[str]) -> str:
        flags, width, precision, verb = match.groups()
        if verb == "%":
            return "%"
        if not values:
            return f"%!{verb}(MISSING)"
        value = values.pop(0)
        if verb in "vs":
            text = go_string(value, top=False) if value is not None else "<nil>"
        elif verb == "q":
            text = json.dumps(go_string(value, top=False))
        elif verb == "d" and isinstance(value, int):
            text = str(value)
        elif verb == "t" and isinstance(value, bool):
            text = go_string(value)
        elif verb in "xX" and isinstance(value, int | str):
            text = format(value, verb) if isinstance(value, int) else value.encode().hex()
            text = text.upper() if verb == "X" else text
        elif verb in "fFeEg" and isinstance(value, int | float):
            text = f"%{'.' + precision if precision else ''}{verb}" % value
        else:
            text = f"%!{verb}({_go_type(value)}={go_string(value, top=False)})"
        if precision and verb in "sv":
            text = text[:int(precision)]
        if width:
            text = text.ljust(int(width)) if "-" in flags else text.rjust(int(width))
        return text

    out = _VERB.sub(one, str(fmt))
    if values:
        out += "%!(EXTRA " + ", ".join(f"{_go_type(v)}={go_string(v, top=False)}"
                                       for v in values) + ")"
    return out


def _print(*args: Any) -> str:
    # fmt.Sprint puts spaces between operands when neither is a string.
    out = ""
    for i, arg in enumerate(args):
        if i and not isinstance(arg, str) and not isinstance(args[i - 1], str):
            out += " "
        out += go_string(arg, top=False)
    return out


def _println(*args: Any) -> str:
    return " ".join(go_string(a, top=False) for a in args) + "\n"


def _compare(name: str, test: Callable[[Any, Any], bool]) -> Callable[..., bool]:
    def compare(a: Any, b: Any) -> bool:
        if isinstance(a, bool) != isinstance(b, bool) or isinstance(a, str) != isinstance(b, str):
            raise FunctionError("incompatible types for comparison")
        return test(a, b)
    compare.__name__ = name
    return compare


def _eq(a: Any, *others: Any) -> bool:
    if not others:
        raise FunctionError("missing argument for comparison")
    return any(plain(a) == plain(b) for b in others)


def _and(*args: Any) -> Any:
    for arg in args:
        if not truth(arg):
            return arg
    return args[-1]


def _or(*args: Any) -> Any:
    for arg in args:
        if truth(arg):
            return arg
    return args[-1]


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "and": _and, "or": _or, "not": lambda v: not truth(v), "len": _len, "index": _index,
    "print": _print, "printf": _printf, "println": _println,
    "eq": _eq, "ne": lambda a, b: not _eq(a, b),
    "lt": _compare("lt", lambda a, b: a < b), "le": _compare("le", lambda a, b: a <= b),
    "gt": _compare("gt", lambda a, b: a > b), "ge": _compare("ge", lambda a, b: a >= b),
    "json": _json, "join": _join, "split": _split, "title": _title,
    "lower": lambda s: go_string(s).lower(), "upper": lambda s: go_string(s).upper(),
    "pad": _pad, "truncate": _truncate,
}
