"""Readers for the deployment files: Dockerfile, .dockerignore, nginx config, .env.example, and the
entrypoint's commands (through its dry-run mode)."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"

# ---------------------------------------------------------------------------------------------
# Dockerfile


@dataclass
class Instruction:
    keyword: str
    value: str
    stage: int  # index of the FROM it belongs to (-1 before the first FROM)

    @property
    def json_args(self) -> list[str] | None:
        """The exec form (`["a", "b"]`) as a list, or None for the shell form."""
        text = self.value.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except ValueError:
                return None
        return None


def parse_dockerfile(path: Path) -> list[Instruction]:
    instructions: list[Instruction] = []
    stage = -1
    pending = ""
    for raw_line in path.read_text().splitlines():
        line = raw_line.rstrip()
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if pending and line.lstrip().startswith("#"):
            continue  # comment lines inside a continued instruction are dropped by Docker
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        text = (pending + line).strip()
        pending = ""
        keyword, _, value = text.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        instructions.append(Instruction(keyword, value.strip(), stage))
    if pending:
        raise ValueError("Dockerfile ends inside a continued line")
    return instructions


def stage_bases(instructions: list[Instruction]) -> list[tuple[str, str | None]]:
    """(image, alias) of every FROM, with global ARG defaults substituted."""
    args = global_args(instructions)
    bases = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            words = instruction.value.split()
            image = substitute(words[0], args)
            alias = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            bases.append((image, alias))
    return bases


def global_args(instructions: list[Instruction]) -> dict[str, str]:
    return dict(_arg_default(i.value) for i in instructions if i.keyword == "ARG" and i.stage == -1)


def stage_args(instructions: list[Instruction], stage: int) -> dict[str, str]:
    return dict(_arg_default(i.value) for i in instructions if i.keyword == "ARG" and i.stage == stage)


def _arg_default(value: str) -> tuple[str, str]:
    name, _, default = value.partition("=")
    return name.strip(), default.strip()


def substitute(text: str, variables: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: variables.get(m.group(1) or m.group(2), m.group(0)), text)


def stage_env(instructions: list[Instruction], stage: int) -> dict[str, str]:
    env: dict[str, str] = {}
    variables = stage_args(instructions, stage)
    for instruction in instructions:
        if instruction.keyword == "ENV" and instruction.stage == stage:
            for word in shlex.split(instruction.value):
                name, _, value = word.partition("=")
                env[name] = substitute(value, {**variables, **env})
    return env


def last_stage(instructions: list[Instruction]) -> int:
    return max(i.stage for i in instructions)


def in_stage(instructions: list[Instruction], stage: int, keyword: str) -> list[Instruction]:
    return [i for i in instructions if i.stage == stage and i.keyword == keyword]


# ---------------------------------------------------------------------------------------------
# .dockerignore (Docker's rules: patterns from the context root, `**`, `!` re-includes, last match wins)


def dockerignore_patterns(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.strip().startswith("#")]


def _glob_regex(pattern: str) -> str:
    out = []
    position = 0
    while position < len(pattern):
        if pattern.startswith("**/", position):
            out.append("(?:.*/)?")
            position += 3
        elif pattern.startswith("**", position):
            out.append(".*")
            position += 2
        elif pattern[position] == "*":
            out.append("[^/]*")
            position += 1
        elif pattern[position] == "?":
            out.append("[^/]")
            position += 1
        elif pattern[position] == "[" and "]" in pattern[position:]:
            end = pattern.index("]", position)
            body = pattern[position + 1 : end]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            position = end + 1
        else:
            out.append(re.escape(pattern[position]))
            position += 1
    return "".join(out)


def _pattern_matches(pattern: str, relative_path: str) -> bool:
    return re.fullmatch(_glob_regex(pattern.strip("/")), relative_path) is not None


def is_ignored(relative_path: str, patterns: list[str]) -> bool:
    """Whether the file is left out of the build context: it or one of its parents matches."""
    parts = relative_path.strip("/").split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        body = pattern[1:] if negate else pattern
        if any(_pattern_matches(body, candidate) for candidate in candidates):
            ignored = not negate
    return ignored


# ---------------------------------------------------------------------------------------------
# nginx configuration


@dataclass
class Directive:
    name: str
    args: list[str]
    block: list[Directive] | None = None
    children: list[Directive] = field(default_factory=list)

    def find(self, name: str) -> list[Directive]:
        return [d for d in (self.block or []) if d.name == name]

    def find_one(self, name: str, *args: str) -> Directive:
        found = [d for d in self.find(name) if not args or d.args[: len(args)] == list(args)]
        if len(found) != 1:
            raise AssertionError(f"expected one `{name} {' '.join(args)}`, found {len(found)}")
        return found[0]


def _nginx_tokens(text: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char.isspace():
            position += 1
        elif char == "#":
            newline = text.find("\n", position)
            position = len(text) if newline == -1 else newline
        elif char in "{};":
            tokens.append(char)
            position += 1
        elif char in "\"'":
            end = position + 1
            while end < len(text) and text[end] != char:
                end += 2 if text[end] == "\\" else 1
            tokens.append(text[position + 1 : end])
            position = end + 1
        else:
            end = position
            while end < len(text) and not text[end].isspace() and text[end] not in "{};":
                end += 1
            tokens.append(text[position:end])
            position = end
    return tokens


def parse_nginx(text: str) -> Directive:
    tokens = _nginx_tokens(text)
    position = 0

    def block() -> list[Directive]:
        nonlocal position
        directives: list[Directive] = []
        words: list[str] = []
        while position < len(tokens):
            token = tokens[position]
            position += 1
            if token == ";":
                directives.append(Directive(words[0], words[1:]))
                words = []
            elif token == "{":
                directives.append(Directive(words[0], words[1:], block()))
                words = []
            elif token == "}":
                if words:
                    raise ValueError(f"missing ; after {words}")
                return directives
            else:
                words.append(token)
        if words:
            raise ValueError(f"missing ; after {words}")
        return directives

    return Directive("main", [], block())


def nginx_size(value: str) -> int:
    match = re.fullmatch(r"(\d+)([kKmMgG]?)", value)
    if not match:
        raise ValueError(f"not an nginx size: {value}")
    return int(match.group(1)) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[match.group(2).lower()]


def nginx_seconds(value: str) -> int:
    match = re.fullmatch(r"(\d+)(ms|s|m|h)?", value)
    if not match:
        raise ValueError(f"not an nginx time: {value}")
    number, unit = int(match.group(1)), match.group(2) or "s"
    return {"ms": number // 1000, "s": number, "m": number * 60, "h": number * 3600}[unit]


# ---------------------------------------------------------------------------------------------
# .env.example and compose interpolation


def env_example_keys(path: Path | None = None) -> set[str]:
    """Variables .env.example documents: `NAME=...` lines, and `# NAME=...` for ones left commented
    out because an empty value would override a default."""
    keys = set()
    for line in (path or ROOT / ".env.example").read_text().splitlines():
        match = re.match(r"^(?:# ?)?([A-Z][A-Z0-9_]*)=", line)
        if match:
            keys.add(match.group(1))
    return keys


def env_example_values(path: Path | None = None) -> dict[str, str]:
    """The `NAME=value` lines of .env.example, as a copied .env would hand them to a container."""
    values = {}
    for line in (path or ROOT / ".env.example").read_text().splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            values[match.group(1)] = match.group(2)
    return values


def interpolate(text: str, variables: dict[str, str]) -> str:
    """Compose's interpolation: ${X}, ${X:-default}, ${X-default}, ${X:?error}, ${X?error}, $$."""

    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, operator, argument = match.group("name"), match.group("op") or "", match.group("arg") or ""
        value = variables.get(name)
        if operator in (":-", "-"):
            return argument if value is None or (operator == ":-" and value == "") else value
        if operator in (":?", "?"):
            if value is None or (operator == ":?" and value == ""):
                raise ValueError(f"compose refuses to start: {name}: {argument}")
            return value
        return value or ""

    return re.sub(r"\$\$|\$\{(?P<name>\w+)(?:(?P<op>:-|-|:\?|\?)(?P<arg>[^}]*))?\}", replace, text)


def interpolated_names(text: str) -> set[str]:
    """Variables a compose file interpolates: ${NAME}, ${NAME:-x}, ${NAME:?x}, $NAME (not $$NAME)."""
    names = set()
    for match in re.finditer(r"(?<!\$)\$(?:\{([A-Za-z_]\w*)[^}]*\}|([A-Za-z_]\w*))", text):
        names.add(match.group(1) or match.group(2))
    return names


# ---------------------------------------------------------------------------------------------
# The entrypoint, asked what it would run


def entrypoint_commands(*args: str, env: dict[str, str] | None = None) -> list[list[str]]:
    """The commands docker/entrypoint.sh runs for these arguments (from its dry-run mode)."""
    result = subprocess.run(
        ["sh", str(ENTRYPOINT), *args],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **(env or {}), "ENTRYPOINT_DRY_RUN": "1"},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return [shlex.split(line) for line in result.stdout.splitlines() if line.strip()]


def option_value(command: list[str], *names: str) -> str | None:
    """The last value given to an option (`--port 8000` or `--port=8000`), as click and celery read it."""
    value = None
    for position, word in enumerate(command):
        for name in names:
            if word == name and position + 1 < len(command):
                value = command[position + 1]
            elif word.startswith(name + "="):
                value = word.split("=", 1)[1]
    return value
