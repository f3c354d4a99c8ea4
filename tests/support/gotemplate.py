"""A small renderer for the Go-template subset our Helm chart uses, so the tests can render the
chart with its values and inspect the manifests as data (no helm binary on the test machines).

Supported: text and actions with `{{-` / `-}}` trimming, comments, `define` / `include`,
`if` / `else if` / `else`, `with` / `else`, `range` over lists and maps (with `$v :=` or
`$k, $v :=`), variables (`$x := ...`, `$`), pipelines, parenthesised pipelines, and the Sprig and
builtin functions listed in FUNCTIONS. Anything else raises TemplateError, so a template that
starts using more fails loudly here instead of being rendered wrongly.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

import yaml


class TemplateError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Lexing: text and actions, with Go's trim markers applied.

_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.S)


def _split(source: str) -> list[tuple[str, str]]:
    parts: list[tuple[str, str]] = []
    position = 0
    trim_next = False
    for match in _ACTION.finditer(source):
        text = source[position : match.start()]
        if trim_next:
            text = text.lstrip()
        if match.group(1):
            text = text.rstrip()
        if text:
            parts.append(("text", text))
        body = match.group(2).strip()
        if not (body.startswith("/*") and body.endswith("*/")):
            parts.append(("action", body))
        trim_next = bool(match.group(3))
        position = match.end()
    tail = source[position:]
    if trim_next:
        tail = tail.lstrip()
    if tail:
        parts.append(("text", tail))
    return parts


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:\\.|[^"\\])*")
      | (?P<raw>`[^`]*`)
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<field>(?:\.[A-Za-z_]\w*)+|\.)
      | (?P<variable>\$[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*|\$(?:\.[A-Za-z_]\w*)*)
      | (?P<ident>[A-Za-z_]\w*)
      | (?P<punct>:=|[()|,=])
    )""",
    re.X,
)


def _tokens(expression: str) -> list[tuple[str, str]]:
    tokens = []
    position = 0
    expression = expression.strip()
    while position < len(expression):
        match = _TOKEN.match(expression, position)
        if not match or match.end() == position:
            raise TemplateError(f"cannot read {expression[position:]!r} in {{{{ {expression} }}}}")
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


# ---------------------------------------------------------------------------------------------
# Expressions


@dataclass
class Pipeline:
    declare: list[str]  # variable names declared with :=
    assign: bool  # `$x = ...` (re-assignment)
    commands: list[list[Any]]


def _parse_pipeline(tokens: list[tuple[str, str]]) -> Pipeline:
    declare: list[str] = []
    assign = False
    for marker in (":=", "="):
        if ("punct", marker) in tokens:
            at = tokens.index(("punct", marker))
            names = [value for kind, value in tokens[:at] if kind == "variable"]
            if not names or len(names) != len([t for t in tokens[:at] if t != ("punct", ",")]):
                raise TemplateError(f"bad declaration: {tokens}")
            declare, assign, tokens = names, marker == "=", tokens[at + 1 :]
            break
    commands: list[list[Any]] = [[]]
    depth_stack: list[list[list[Any]]] = []
    for kind, value in tokens:
        if (kind, value) == ("punct", "("):
            depth_stack.append(commands)
            commands = [[]]
        elif (kind, value) == ("punct", ")"):
            if not depth_stack:
                raise TemplateError("unbalanced )")
            inner = Pipeline([], False, commands)
            commands = depth_stack.pop()
            commands[-1].append(("pipeline", inner))
        elif (kind, value) == ("punct", "|"):
            commands.append([])
        else:
            commands[-1].append((kind, value))
    if depth_stack:
        raise TemplateError("unbalanced (")
    if any(not command for command in commands):
        raise TemplateError(f"empty command in {tokens}")
    return Pipeline(declare, assign, commands)


# ---------------------------------------------------------------------------------------------
# Parsing: a tree of nodes


@dataclass
class Node:
    kind: str  # text | action | if | range | with
    text: str = ""
    pipeline: Pipeline | None = None
    branches: list[tuple[Pipeline, list[Node]]] = field(default_factory=list)  # if / else if
    body: list[Node] = field(default_factory=list)
    else_body: list[Node] = field(default_factory=list)


_KEYWORD = re.compile(r"^(if|else if|else|end|range|with|define|template|block)\b\s*(.*)$", re.S)


def _parse(parts: list[tuple[str, str]], defines: dict[str, list[Node]]) -> list[Node]:
    position = 0

    def block(stop: tuple[str, ...]) -> tuple[list[Node], str, str]:
        nonlocal position
        nodes: list[Node] = []
        while position < len(parts):
            kind, value = parts[position]
            position += 1
            if kind == "text":
                nodes.append(Node("text", text=value))
                continue
            keyword = _KEYWORD.match(value)
            if not keyword:
                nodes.append(Node("action", pipeline=_parse_pipeline(_tokens(value))))
                continue
            word, rest = keyword.group(1), keyword.group(2)
            if word in stop:
                return nodes, word, rest
            if word == "if":
                node = Node("if")
                condition = _parse_pipeline(_tokens(rest))
                while True:
                    body, ended, rest = block(("else if", "else", "end"))
                    node.branches.append((condition, body))
                    if ended == "else if":
                        condition = _parse_pipeline(_tokens(rest))
                        continue
                    if ended == "else":
                        node.else_body, _, _ = block(("end",))
                    break
                nodes.append(node)
            elif word in ("range", "with"):
                node = Node(word, pipeline=_parse_pipeline(_tokens(rest)))
                node.body, ended, _ = block(("else", "end"))
                if ended == "else":
                    node.else_body, _, _ = block(("end",))
                nodes.append(node)
            elif word == "define":
                name = json.loads(rest.strip())
                defines[name], _, _ = block(("end",))
            else:
                raise TemplateError(f"unsupported action {{{{ {value} }}}}")
        if stop:
            raise TemplateError(f"missing {{{{ end }}}} (expected one of {stop})")
        return nodes, "", ""

    nodes, _, _ = block(())
    return nodes


# ---------------------------------------------------------------------------------------------
# Functions (Go builtins and the Sprig ones the chart uses)


def _go_string(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (dict, list)):
        raise TemplateError(f"printing a {type(value).__name__} directly; use toYaml: {value!r}")
    return str(value)


def _printf(fmt: str, *args: Any) -> str:
    values = iter(args)

    def substitute(match: re.Match) -> str:
        verb = match.group(1)
        if verb == "%":
            return "%"
        value = next(values)
        if verb == "q":
            return json.dumps(_go_string(value))
        return _go_string(value)

    return re.sub(r"%([sdvq%])", substitute, fmt)


def _indent(width: int, text: str) -> str:
    pad = " " * width
    return "\n".join(pad + line for line in _go_string(text).split("\n"))


def _to_yaml(value: Any) -> str:
    if value is None:
        return "null"
    return yaml.safe_dump(value, default_flow_style=False, sort_keys=True).rstrip("\n")


def _required(message: str, value: Any) -> Any:
    if value is None or value == "":
        raise TemplateError(f"required: {message}")
    return value


def _index(collection: Any, *keys: Any) -> Any:
    for key in keys:
        collection = collection[key]
    return collection


def _truthy(value: Any) -> bool:
    return bool(value)


FUNCTIONS: dict[str, Any] = {
    "default": lambda fallback, value=None: value if _truthy(value) else fallback,
    "trunc": lambda length, text: _go_string(text)[:length],
    "trimSuffix": lambda suffix, text: text[: -len(suffix)] if suffix and text.endswith(suffix) else text,
    "trimPrefix": lambda prefix, text: text[len(prefix) :] if prefix and text.startswith(prefix) else text,
    "contains": lambda needle, text: needle in text,
    "printf": _printf,
    "print": lambda *args: "".join(_go_string(arg) for arg in args),
    "replace": lambda old, new, text: text.replace(old, new),
    "quote": lambda *args: " ".join(json.dumps(_go_string(arg)) for arg in args if arg is not None),
    "toString": _go_string,
    "toYaml": _to_yaml,
    "indent": _indent,
    "nindent": lambda width, text: "\n" + _indent(width, text),
    "required": _required,
    "sha256sum": lambda text: hashlib.sha256(_go_string(text).encode()).hexdigest(),
    "eq": lambda first, *others: any(first == other for other in others),
    "ne": lambda first, second: first != second,
    "not": lambda value: not _truthy(value),
    "and": lambda *values: next((v for v in values if not _truthy(v)), values[-1]),
    "or": lambda *values: next((v for v in values if _truthy(v)), values[-1]),
    "list": lambda *values: list(values),
    "index": _index,
}


# ---------------------------------------------------------------------------------------------
# Evaluation


class _Scope:
    def __init__(self, parent: _Scope | None = None, **variables: Any):
        self.parent = parent
        self.variables = dict(variables)

    def get(self, name: str) -> Any:
        scope: _Scope | None = self
        while scope is not None:
            if name in scope.variables:
                return scope.variables[name]
            scope = scope.parent
        raise TemplateError(f"undefined variable {name}")

    def set(self, name: str, value: Any) -> None:
        scope: _Scope | None = self
        while scope is not None:
            if name in scope.variables:
                scope.variables[name] = value
                return
            scope = scope.parent
        raise TemplateError(f"assignment to undeclared variable {name}")


def _walk(value: Any, names: list[str]) -> Any:
    for name in names:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise TemplateError(f"cannot read field {name} of {type(value).__name__}")
        value = value.get(name)
    return value


class Renderer:
    def __init__(self, templates: dict[str, str], context: dict[str, Any]):
        """templates: path as Helm names it (`<chart>/templates/<file>`) -> source, helpers included."""
        self.sources = templates
        self.context = context
        self.defines: dict[str, list[Node]] = {}
        self.trees = {name: _parse(_split(source), self.defines) for name, source in templates.items()}
        self.functions = {**FUNCTIONS, "include": self._include}

    def render(self, name: str) -> str:
        return self._run(self.trees[name], self.context, _Scope(None, **{"$": self.context}))

    def _include(self, name: str, data: Any) -> str:
        # A define, or a whole template file by its path (`include (print .Template.BasePath "/x.yaml") .`).
        tree = self.defines.get(name) or self.trees.get(name)
        if tree is None:
            raise TemplateError(f"include of undefined template {name!r}")
        return self._run(tree, data, _Scope(None, **{"$": data}))

    def _run(self, nodes: list[Node], dot: Any, scope: _Scope) -> str:
        out: list[str] = []
        for node in nodes:
            if node.kind == "text":
                out.append(node.text)
            elif node.kind == "action":
                value = self._pipeline(node.pipeline, dot, scope)
                if not node.pipeline.declare:
                    out.append(_go_string(value))
            elif node.kind == "if":
                for condition, body in node.branches:
                    if _truthy(self._pipeline(condition, dot, _Scope(scope))):
                        out.append(self._run(body, dot, _Scope(scope)))
                        break
                else:
                    out.append(self._run(node.else_body, dot, _Scope(scope)))
            elif node.kind == "with":
                inner = _Scope(scope)
                value = self._pipeline(node.pipeline, dot, inner)
                if _truthy(value):
                    out.append(self._run(node.body, value, inner))
                else:
                    out.append(self._run(node.else_body, dot, _Scope(scope)))
            elif node.kind == "range":
                out.append(self._range(node, dot, scope))
        return "".join(out)

    def _range(self, node: Node, dot: Any, scope: _Scope) -> str:
        pipeline = Pipeline([], False, node.pipeline.commands)
        collection = self._pipeline(pipeline, dot, scope)
        if isinstance(collection, dict):
            items = [(key, collection[key]) for key in sorted(collection)]
        elif isinstance(collection, list):
            items = list(enumerate(collection))
        elif collection is None:
            items = []
        else:
            raise TemplateError(f"range over {type(collection).__name__}")
        if not items:
            return self._run(node.else_body, dot, _Scope(scope))
        out = []
        names = node.pipeline.declare
        for key, value in items:
            inner = _Scope(scope)
            if len(names) == 1:
                inner.variables[names[0]] = value
            elif len(names) == 2:
                inner.variables[names[0]], inner.variables[names[1]] = key, value
            out.append(self._run(node.body, value, inner))
        return "".join(out)

    def _pipeline(self, pipeline: Pipeline, dot: Any, scope: _Scope) -> Any:
        value: Any = None
        for position, command in enumerate(pipeline.commands):
            piped = [value] if position else []
            value = self._command(command, dot, scope, piped)
        for name in pipeline.declare:
            if pipeline.assign:
                scope.set(name, value)
            else:
                scope.variables[name] = value
        return value

    def _command(self, command: list[Any], dot: Any, scope: _Scope, piped: list[Any]) -> Any:
        head_kind, head = command[0]
        if head_kind == "ident" and head not in ("true", "false", "nil"):
            function = self.functions.get(head)
            if function is None:
                raise TemplateError(f"unknown function {head!r}")
            args = [self._operand(operand, dot, scope) for operand in command[1:]] + piped
            try:
                return function(*args)
            except TemplateError:
                raise
            except Exception as exc:
                raise TemplateError(f"{head}{tuple(args)!r}: {exc}") from exc
        if len(command) > 1 or piped:
            raise TemplateError(f"cannot call a non-function: {command}")
        return self._operand(command[0], dot, scope)

    def _operand(self, operand: tuple[str, Any], dot: Any, scope: _Scope) -> Any:
        kind, value = operand
        if kind == "string":
            return json.loads(value)
        if kind == "raw":
            return value[1:-1]
        if kind == "number":
            return float(value) if "." in value else int(value)
        if kind == "field":
            return dot if value == "." else _walk(dot, value[1:].split("."))
        if kind == "variable":
            name, *fields = value.split(".")
            return _walk(scope.get(name), fields)
        if kind == "ident":
            return {"true": True, "false": False, "nil": None}[value]
        if kind == "pipeline":
            return self._pipeline(value, dot, scope)
        raise TemplateError(f"unexpected {kind} {value!r}")
