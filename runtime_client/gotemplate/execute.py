"""Running a parsed template over decoded JSON data, with Go's semantics and error wording.

Docker's CLI runs `inspect` templates on its typed structures first: a nil slice prints `[]`,
a nil map `map[]`, a field the JSON left out (`omitempty`) its zero value. Berth's documents
are JSON-shaped dicts, so `Schema` names those fields; any other missing key fails as in
Docker's fallback on the raw JSON (`map has no entry for key "X"`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from runtime_client.gotemplate.parse import (
    Action,
    Bool,
    Chain,
    Command,
    Control,
    Dot,
    FieldNode,
    Identifier,
    Item,
    Nil,
    Node,
    Number,
    Pipeline,
    StringNode,
    SubPipeline,
    Text,
    Variable,
)
from runtime_client.gotemplate.values import (
    FUNCTIONS,
    FunctionError,
    TypedNil,
    go_string,
    truth,
)

__all__ = ["Schema", "TemplateExecError", "execute"]


class TemplateExecError(ValueError):
    """The template failed on this data (Go's execution errors, same wording)."""


@dataclass(frozen=True)
class Schema:
    """What the typed structures behind the data would print for absent or null fields.

    Args:
        slices: field names that are slices (nil prints `[]`).
        maps: field names that are maps (nil prints `map[]`).
        strings: field names that are strings (absent prints ``).
        pointers: field names that are pointers (nil or absent prints `<nil>`).
        context: for row formats (`ps`, `images`, ...), Docker's context type named in
            "can't evaluate field" errors; '' for documents (`inspect`).
    """

    slices: frozenset[str] = field(default_factory=frozenset)
    maps: frozenset[str] = field(default_factory=frozenset)
    strings: frozenset[str] = field(default_factory=frozenset)
    pointers: frozenset[str] = field(default_factory=frozenset)
    context: str = ""


class _Position:
    def __init__(self, source: str) -> None:
        self.source = source

    def __call__(self, pos: int) -> str:
        line = self.source.count("\n", 0, pos) + 1
        column = pos - (self.source.rfind("\n", 0, pos) + 1)
        return f"{line}:{column}"


class _Run:
    def __init__(self, source: str, data: Any, schema: Schema) -> None:
        self.where = _Position(source)
        self.data = data
        self.schema = schema
        self.variables: list[tuple[str, Any]] = [("$", data)]
        self.out: list[str] = []

    def fail(self, pos: int, node: object, message: str) -> TemplateExecError:
        return TemplateExecError(
            f'template: :{self.where(pos)}: executing "" at <{node}>: {message}')

    def items(self, items: list[Item], dot: Any) -> None:
        for item in items:
            if isinstance(item, Text):
                self.out.append(item.text)
            elif isinstance(item, Action):
                value = self.pipeline(item.pipeline, dot)
                if not item.pipeline.declared:
                    self.out.append(go_string(value))
            else:
                self.control(item, dot)

    def control(self, item: Control, dot: Any) -> None:
        mark = len(self.variables)
        value = self.pipeline(item.pipeline, dot, declare_range=item.kind == "range")
        if item.kind == "range":
            entries = list(self.entries(item, value))
            for key, element in entries:
                if item.pipeline.declared:
                    names = item.pipeline.declared
                    values = (key, element) if len(names) == 2 else (element,)
                    self.variables[mark:] = list(zip(names, values, strict=True))
                self.items(item.body, element)
            if not entries:
                self.items(item.otherwise, dot)
        elif truth(value):
            self.items(item.body, value if item.kind == "with" else dot)
        else:
            self.items(item.otherwise, dot)
        del self.variables[mark:]

    def entries(self, item: Control, value: Any) -> Iterator[tuple[Any, Any]]:
        if isinstance(value, TypedNil) or value is None:
            return
        if isinstance(value, dict):
            for key in sorted(value):
                yield key, value[key]
        elif isinstance(value, list | tuple):
            yield from enumerate(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            yield from ((i, i) for i in range(value))
        else:
            raise self.fail(item.pipeline.pos, item.pipeline,
                            f"range can't iterate over {go_string(value)}")

    def pipeline(self, pipeline: Pipeline, dot: Any, declare_range: bool = False) -> Any:
        value: Any = None
        for index, command in enumerate(pipeline.commands):
            value = self.command(command, dot, value, piped=index > 0)
        if pipeline.declared and not declare_range:
            if pipeline.assign:
                for i in range(len(self.variables) - 1, -1, -1):
                    if self.variables[i][0] == pipeline.declared[0]:
                        self.variables[i] = (pipeline.declared[0], value)
                        break
                else:
                    raise self.fail(pipeline.pos, pipeline,
                                    f"undefined variable: {pipeline.declared[0]}")
            else:
                self.variables.append((pipeline.declared[0], value))
        return value

    def command(self, command: Command, dot: Any, final: Any, piped: bool) -> Any:
        first = command.args[0]
        if isinstance(first, Identifier):
            args = [self.argument(a, dot) for a in command.args[1:]]
            if piped:
                args.append(final)
            try:
                return FUNCTIONS[first.name](*args)
            except FunctionError as exc:
                raise self.fail(command.pos, command,
                                f"error calling {first.name}: {exc}") from None
            except TypeError:
                raise self.fail(command.pos, command,
                                f"wrong number of args for {first.name}: got {len(args)}") \
                    from None
        if len(command.args) > 1 or piped:
            raise self.fail(command.pos, command,
                            f"can't give argument to non-function {first}")
        return self.argument(first, dot)

    def argument(self, node: Node, dot: Any) -> Any:
        if isinstance(node, FieldNode):
            return self.fields(dot, node.names, node)
        if isinstance(node, Variable):
            return self.fields(self.variable(node), node.names, node)
        if isinstance(node, Chain):
            return self.fields(self.argument(node.operand, dot), node.names, node)
        if isinstance(node, Dot):
            return dot
        if isinstance(node, StringNode | Number | Bool):
            return node.value
        if isinstance(node, Nil):
            raise self.fail(node.pos, node, "nil is not a command")
        if isinstance(node, SubPipeline):
            mark = len(self.variables)
            value = self.pipeline(node.pipeline, dot)
            del self.variables[mark:]
            return value
        # A function named as an argument is called without arguments.
        return self.command(Command((node,), node.pos), dot, None, piped=False)

    def variable(self, node: Variable) -> Any:
        for name, value in reversed(self.variables):
            if name == node.name:
                return value
        raise self.fail(node.pos, node, f"undefined variable: {node.name}")

    def fields(self, value: Any, names: tuple[str, ...], node: Any) -> Any:
        for name in names:
            value = self.field(value, name, node)
        return value

    def field(self, value: Any, name: str, node: Any) -> Any:
        schema = self.schema
        if isinstance(value, dict):
            found = value.get(name)
            if found is None:
                if name in schema.slices:
                    return TypedNil("slice")
                if name in schema.maps:
                    return TypedNil("map")
                if name in schema.pointers:
                    return TypedNil("pointer")
                if name not in value:
                    if name in schema.strings:
                        return ""
                    if schema.context and value is self.data:
                        raise self.fail(node.pos, node, f"can't evaluate field {name} in type "
                                                        f"{schema.context}")
                    raise self.fail(node.pos, node, f'map has no entry for key "{name}"')
            return found
        if value is None or isinstance(value, TypedNil):
            raise self.fail(node.pos, node, f"nil pointer evaluating interface {{}}.{name}")
        kind = {str: "string", bool: "bool", int: "int", float: "float64",
                list: "[]interface {}"}.get(type(value), type(value).__name__)
        raise self.fail(node.pos, node, f"can't evaluate field {name} in type {kind}")


def execute(source: str, items: list[Item], data: Any, schema: Schema) -> str:
    """Run parsed `items` (of `source`) over `data`.

    Raises:
        TemplateExecError: with Go's message.
    """
    run = _Run(source, data, schema)
    run.items(items, data)
    return "".join(run.out)
