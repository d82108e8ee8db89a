"""Parsing the part of Go's text/template language that `--format` templates use.

Scope: text and actions with `{{-`/`-}}` trimming and comments; pipelines of commands joined
by `|`; fields (`.A.B`), `.`, variables (`$`, `$x`, `$x.A`) with `:=` and `=`; strings, raw
strings, numbers, `true`/`false`/`nil`; parenthesised pipelines with field chains after them;
`if`/`else if`/`else`, `range` (with `$i, $e :=`), `with`, `end`. Not in scope: `define`,
`template`, `block`, `break`/`continue`, character constants.

Errors are worded as Go's: `template: :LINE: MESSAGE`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = [
    "Action", "Bool", "Chain", "Command", "Control", "Dot", "FieldNode", "Identifier", "Nil",
    "Node", "Number", "Pipeline", "StringNode", "SubPipeline", "TemplateParseError", "Text",
    "Variable", "parse",
]


class TemplateParseError(ValueError):
    """The template is not valid (Go's parse errors, same wording)."""


@dataclass(frozen=True)
class Text:
    """Literal text."""

    text: str


@dataclass(frozen=True)
class FieldNode:
    """`.A.B` on dot; `pos` is where Go reports it (the second name of a chain)."""

    names: tuple[str, ...]
    pos: int

    def __str__(self) -> str:
        return "".join(f".{n}" for n in self.names)


@dataclass(frozen=True)
class Variable:
    """`$x.A.B` (`$` alone is the root data)."""

    name: str
    names: tuple[str, ...]
    pos: int

    def __str__(self) -> str:
        return self.name + "".join(f".{n}" for n in self.names)


@dataclass(frozen=True)
class Dot:
    """`.`."""

    pos: int

    def __str__(self) -> str:
        return "."


@dataclass(frozen=True)
class Identifier:
    """A function name."""

    name: str
    pos: int

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class StringNode:
    """A quoted or raw string."""

    value: str
    quoted: str
    pos: int

    def __str__(self) -> str:
        return self.quoted


@dataclass(frozen=True)
class Number:
    """An integer or floating-point constant."""

    value: int | float
    text: str
    pos: int

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Bool:
    """`true` or `false`."""

    value: bool
    pos: int

    def __str__(self) -> str:
        return "true" if self.value else "false"


@dataclass(frozen=True)
class Nil:
    """`nil`."""

    pos: int

    def __str__(self) -> str:
        return "nil"


@dataclass(frozen=True)
class SubPipeline:
    """`(pipeline)`, optionally followed by a field chain."""

    pipeline: Pipeline
    pos: int

    def __str__(self) -> str:
        return f"({self.pipeline})"


@dataclass(frozen=True)
class Chain:
    """A field chain on an operand that is not dot: `(index .X 0).Name`."""

    operand: Node
    names: tuple[str, ...]
    pos: int

    def __str__(self) -> str:
        return str(self.operand) + "".join(f".{n}" for n in self.names)


Node = (FieldNode | Variable | Dot | Identifier | StringNode | Number | Bool | Nil | SubPipeline
        | Chain)


@dataclass(frozen=True)
class Command:
    """Operands: a function with its arguments, or one value."""

    args: tuple[Node, ...]
    pos: int

    def __str__(self) -> str:
        return " ".join(str(a) for a in self.args)


@dataclass(frozen=True)
class Pipeline:
    """`$a, $b := cmd | cmd`."""

    commands: tuple[Command, ...]
    declared: tuple[str, ...] = ()
    assign: bool = False  # `=` rather than `:=`
    pos: int = 0

    def __str__(self) -> str:
        head = f"{', '.join(self.declared)} {'=' if self.assign else ':='} " \
            if self.declared else ""
        return head + " | ".join(str(c) for c in self.commands)


@dataclass(frozen=True)
class Action:
    """`{{pipeline}}`: its value is printed unless it declares variables."""

    pipeline: Pipeline


@dataclass(frozen=True)
class Control:
    """`if`, `range` or `with` with its body and `else` part."""

    kind: str
    pipeline: Pipeline
    body: list[Item] = field(default_factory=list)
    otherwise: list[Item] = field(default_factory=list)


Item = Text | Action | Control

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"[-+]?(?:0[xX][0-9a-fA-F_]+|(?:\d[\d_]*)?\.?\d+(?:[eE][-+]?\d+)?)")
_KEYWORDS = {"if", "else", "end", "range", "with", "define", "template", "block", "break",
             "continue"}


@dataclass
class _Token:
    kind: str  # text, open, close, field, var, dot, ident, string, number, pipe, lparen,
    #            rparen, declare, assign, comma, keyword, eof
    value: object
    pos: int
    adjacent: bool = False  # no space before it (a field chain continues)


def _line_of(source: str, pos: int) -> int:
    return source.count("\n", 0, pos) + 1


class _Lexer:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens: list[_Token] = []

    def error(self, message: str, pos: int) -> TemplateParseError:
        return TemplateParseError(f"template: :{_line_of(self.source, pos)}: {message}")

    def run(self) -> list[_Token]:
        src, pos = self.source, 0
        trim_next = False
        while pos < len(src):
            start = src.find("{{", pos)
            end_text = len(src) if start < 0 else start
            text = src[pos:end_text]
            if trim_next:
                text = text.lstrip(" \t\r\n")
            if start >= 0 and src[start + 2:start + 4] in ("- ", "-\t", "-\n"):
                text = text.rstrip(" \t\r\n")
            if text:
                self.tokens.append(_Token("text", text, pos))
            if start < 0:
                break
            pos = start + 2
            if src[pos:pos + 2] in ("- ", "-\t", "-\n"):
                pos += 1
            pos, trim_next = self._action(pos)
        self.tokens.append(_Token("eof", None, len(src)))
        return self.tokens

    def _close_at(self, pos: int) -> tuple[bool, int, bool]:
        """Whether the action closes at `pos`: (closed, position after, trims next text)."""
        src = self.source
        for marker, trim in ((" -}}", True), ("\t-}}", True), ("\n-}}", True), ("}}", False)):
            if src.startswith(marker, pos):
                return True, pos + len(marker), trim
        return False, pos, False

    def _action(self, pos: int) -> tuple[int, bool]:
        src = self.source
        stripped = pos
        while stripped < len(src) and src[stripped] in " \t\r\n":
            stripped += 1
        if src.startswith("/*", stripped):
            end = src.find("*/", stripped + 2)
            if end < 0:
                raise self.error("unclosed comment", pos)
            closed, after, trim = self._close_at(end + 2)
            if not closed:
                raise self.error("comment ends before closing delimiter", pos)
            return after, trim
        self.tokens.append(_Token("open", None, pos))
        previous_end = -1
        depth = 0
        while True:
            if pos >= len(src):
                raise self.error("unclosed action", pos)
            closed, after, trim = self._close_at(pos)
            if closed and depth == 0:
                self.tokens.append(_Token("close", None, pos))
                return after, trim
            ch = src[pos]
            adjacent = pos == previous_end
            if ch in " \t\r":
                pos += 1
                continue
            if ch == "\n":
                raise self.error("unclosed action", pos)
            token, end = self._token(pos, ch)
            token.adjacent = adjacent
            if token.kind == "lparen":
                depth += 1
            elif token.kind == "rparen":
                depth -= 1
                if depth < 0:
                    raise self.error("unexpected right paren", pos)
            self.tokens.append(token)
            pos = previous_end = end

    def _token(self, pos: int, ch: str) -> tuple[_Token, int]:
        src = self.source
        simple = {"|": "pipe", "(": "lparen", ")": "rparen", ",": "comma", "=": "assign"}
        if src.startswith(":=", pos):
            return _Token("declare", None, pos), pos + 2
        if ch in simple:
            return _Token(simple[ch], None, pos), pos + 1
        if ch == ".":
            ident = _IDENT.match(src, pos + 1)
            if ident:
                return _Token("field", ident.group(), pos), ident.end()
            if pos + 1 < len(src) and src[pos + 1].isdigit():
                return self._number(pos)
            return _Token("dot", None, pos), pos + 1
        if ch == "$":
            ident = _IDENT.match(src, pos + 1)
            end = ident.end() if ident else pos + 1
            return _Token("var", src[pos:end], pos), end
        if ch == '"':
            end = pos + 1
            while end < len(src) and src[end] != '"':
                end += 2 if src[end] == "\\" else 1
            if end >= len(src):
                raise self.error("unterminated quoted string", pos)
            quoted = src[pos:end + 1]
            try:
                value = json.loads(quoted)
            except ValueError:
                raise self.error(f"invalid syntax: {quoted}", pos) from None
            return _Token("string", (value, quoted), pos), end + 1
        if ch == "`":
            end = src.find("`", pos + 1)
            if end < 0:
                raise self.error("unterminated raw quoted string", pos)
            value = src[pos + 1:end]
            return _Token("string", (value, json.dumps(value)), pos), end + 1
        if ch.isdigit() or (ch in "+-" and pos + 1 < len(src) and
                            (src[pos + 1].isdigit() or src[pos + 1] == ".")):
            return self._number(pos)
        ident = _IDENT.match(src, pos)
        if ident:
            word = ident.group()
            kind = "keyword" if word in _KEYWORDS else "ident"
            return _Token(kind, word, pos), ident.end()
        raise self.error(f"unexpected {json.dumps(ch)} in command", pos)

    def _number(self, pos: int) -> tuple[_Token, int]:
        match = _NUMBER.match(self.source, pos)
        if not match:
            raise self.error("bad number syntax", pos)
        text = match.group()
        try:
            value: int | float = int(text.replace("_", ""), 0)
        except ValueError:
            value = float(text.replace("_", ""))
        return _Token("number", (value, text), pos), match.end()


class _Parser:
    def __init__(self, source: str, tokens: list[_Token],
                 is_function: Callable[[str], bool]) -> None:
        self.source = source
        self.tokens = tokens
        self.index = 0
        self.is_function = is_function

    def error(self, message: str, pos: int) -> TemplateParseError:
        return TemplateParseError(f"template: :{_line_of(self.source, pos)}: {message}")

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def items(self, stop: tuple[str, ...] = ()) -> tuple[list[Item], str]:
        """Items up to `{{end}}`/`{{else}}` (when `stop` names them) or the end."""
        out: list[Item] = []
        while True:
            token = self.take()
            if token.kind == "eof":
                if stop:
                    raise self.error("unexpected EOF", token.pos)
                return out, "eof"
            if token.kind == "text":
                out.append(Text(str(token.value)))
                continue
            word = self.peek()
            if word.kind == "keyword":
                if word.value in ("end", "else"):
                    if word.value not in stop:
                        raise self.error(f"unexpected {{{{{word.value}}}}}", word.pos)
                    self.take()
                    if word.value == "end":
                        self.expect_close()
                    return out, str(word.value)
                if word.value in ("if", "range", "with"):
                    self.take()
                    out.append(self.control(str(word.value)))
                    continue
                raise self.error(f"{word.value} is not supported in --format templates",
                                 word.pos)
            pipeline = self.pipeline(word.pos)
            self.expect_close()
            out.append(Action(pipeline))

    def expect_close(self) -> None:
        token = self.take()
        if token.kind != "close":
            raise self.error(f"unexpected {self.describe(token)} in command", token.pos)

    def describe(self, token: _Token) -> str:
        if token.kind == "string":
            return str(token.value[1])  # type: ignore[index]
        if token.value is None:
            return {"rparen": '")"', "lparen": '"("', "pipe": '"|"', "comma": '","',
                    "declare": '":="', "assign": '"="', "eof": "EOF"}.get(token.kind,
                                                                         token.kind)
        return f"<{token.value}>"

    def control(self, kind: str) -> Control:
        pipeline = self.pipeline(self.peek().pos, allow_two=kind == "range")
        self.expect_close()
        body, ended = self.items(("end", "else"))
        otherwise: list[Item] = []
        if ended == "else":
            after = self.peek()
            if after.kind == "keyword" and after.value == "if" and kind == "if":
                self.take()
                otherwise = [self.control("if")]
            else:
                self.expect_close()
                otherwise, _ = self.items(("end",))
        return Control(kind, pipeline, body, otherwise)

    def pipeline(self, pos: int, allow_two: bool = False) -> Pipeline:
        declared: list[str] = []
        assign = False
        mark = self.index
        if self.peek().kind == "var":
            names = [str(self.take().value)]
            if allow_two and self.peek().kind == "comma":
                self.take()
                if self.peek().kind == "var":
                    names.append(str(self.take().value))
            if self.peek().kind in ("declare", "assign"):
                assign = self.take().kind == "assign"
                declared = names
            else:
                self.index = mark
        commands = []
        while True:
            commands.append(self.command())
            if self.peek().kind != "pipe":
                break
            self.take()
        if not commands[0].args:
            raise self.error("missing value for command", pos)
        return Pipeline(tuple(commands), tuple(declared), assign, pos)

    def command(self) -> Command:
        args: list[Node] = []
        pos = self.peek().pos
        while self.peek().kind not in ("close", "pipe", "rparen", "eof"):
            token = self.peek()
            if token.kind in ("declare", "assign", "comma", "keyword"):
                raise self.error(f"unexpected {self.describe(token)} in command", token.pos)
            args.append(self.operand())
        if not args:
            raise self.error("missing value for command", pos)
        return Command(tuple(args), pos)

    def operand(self) -> Node:
        token = self.take()
        node: Node
        if token.kind == "field":
            names = [str(token.value)]
            second = None
            while self.peek().kind == "field" and self.peek().adjacent:
                chained = self.take()
                second = chained.pos if second is None else second
                names.append(str(chained.value))
            return FieldNode(tuple(names), second if second is not None else token.pos)
        if token.kind == "var":
            names = []
            while self.peek().kind == "field" and self.peek().adjacent:
                names.append(str(self.take().value))
            return Variable(str(token.value), tuple(names), token.pos)
        if token.kind == "dot":
            node = Dot(token.pos)
        elif token.kind == "string":
            value, quoted = token.value  # type: ignore[misc]
            node = StringNode(value, quoted, token.pos)
        elif token.kind == "number":
            value, text = token.value  # type: ignore[misc]
            node = Number(value, text, token.pos)
        elif token.kind == "ident":
            name = str(token.value)
            if name in ("true", "false"):
                node = Bool(name == "true", token.pos)
            elif name == "nil":
                node = Nil(token.pos)
            elif not self.is_function(name):
                raise self.error(f'function "{name}" not defined', token.pos)
            else:
                node = Identifier(name, token.pos)
        elif token.kind == "lparen":
            inner = self.pipeline(token.pos)
            closing = self.take()
            if closing.kind != "rparen":
                raise self.error("unclosed left paren", token.pos)
            node = SubPipeline(inner, token.pos)
        else:
            raise self.error(f"unexpected {self.describe(token)} in operand", token.pos)
        names = []
        chain_pos = None
        while self.peek().kind == "field" and self.peek().adjacent:
            chained = self.take()
            chain_pos = chained.pos if chain_pos is None else chain_pos
            names.append(str(chained.value))
        if names:
            return Chain(node, tuple(names), chain_pos or token.pos)
        return node


def parse(source: str, is_function: Callable[[str], bool]) -> list[Item]:
    """Parse `source` into items.

    Args:
        source: the template text.
        is_function: whether a name is a defined function.

    Raises:
        TemplateParseError: with Go's message.
    """
    tokens = _Lexer(source).run()
    items, _ = _Parser(source, tokens, is_function).items()
    return items
