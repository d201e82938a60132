"""Where each field of a declaration file is, so that every refusal names its line and its field.

Plain values (``yaml.safe_load``) forget where they came from; the same text composed into YAML
nodes keeps each one's position, indexed here by the dotted path a refusal names
(``deployments[0].canary.weight``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from mlpilot.errors import InvalidInput

__all__ = ["DeclarationError", "Problem", "Source", "raise_problems"]

_LAST_STEP = re.compile(r"(\.[^.\[\]]+|\[\d+\])$")
_DEPTH = 64  # aliases may nest a document into itself; paths past this are never named in errors
_HINT = "See docs/devops.md (Declarative deployments) for the format."


@dataclass(frozen=True, slots=True)
class Problem:
    """One refusal: the field's dotted path, its line (0 when unknown) and what is wrong."""

    path: str
    line: int
    message: str
    hint: str | None = None

    def text(self, file: str) -> str:
        where = f"{file}:{self.line}" if self.line else file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"

    def to_dict(self) -> dict[str, object]:
        return {"path": self.path, "line": self.line, "message": self.message, "hint": self.hint}


class DeclarationError(InvalidInput):
    """Every problem found in a declaration file; nothing was applied. One problem is one line;
    several are listed one per line under a count, each with its line and field."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems
        lines = [problem.text(file) for problem in problems]
        message = lines[0] if len(lines) == 1 else f"{len(lines)} problems, nothing applied:\n" + "\n".join(lines)
        super().__init__(message, hint=problems[0].hint or _HINT)


@dataclass(frozen=True, slots=True)
class Source:
    """A declaration file as the user named it, and the line of every field in it."""

    file: Path
    lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    @property
    def shown(self) -> str:
        return str(self.file)

    @classmethod
    def read(cls, file: Path) -> tuple[object, Source]:
        """The parsed document and its source. Syntax errors are reported as the project file's
        reader (``projects.spec.read_yaml``) reports them, with their line and column; that reader
        sits in a layer above this one, so the few lines are repeated here rather than imported."""
        try:
            text = file.read_text(encoding="utf-8")
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            document = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            where = getattr(exc, "problem_mark", None)
            line = f" (line {where.line + 1}, column {where.column + 1})" if where is not None else ""
            problem = getattr(exc, "problem", None) or str(exc)
            raise InvalidInput(f"{file} is not valid YAML{line}: {problem}", hint="Fix the YAML syntax.") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(
                f"cannot read {file}: {exc}", hint="Check the file's permissions and encoding."
            ) from None
        lines: dict[str, int] = {}
        if node is not None:
            _index(node, "", lines, 0)
        return document, cls(file, lines)

    def line(self, path: str) -> int:
        """The line of ``path``, else of the nearest field that holds it (0 when none is known)."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = _LAST_STEP.sub("", path)
        return 0

    def problem(self, path: str, message: str, hint: str | None = None) -> Problem:
        return Problem(path, self.line(path), message, hint)


def _index(node: yaml.Node, path: str, lines: dict[str, int], depth: int) -> None:
    if depth > _DEPTH:
        return
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                continue
            child = f"{path}.{key.value}" if path else str(key.value)
            lines.setdefault(child, key.start_mark.line + 1)
            _index(value, child, lines, depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for position, item in enumerate(node.value):
            child = f"{path}[{position}]"
            lines.setdefault(child, item.start_mark.line + 1)
            _index(item, child, lines, depth + 1)


def raise_problems(source: Source, problems: Iterable[Problem]) -> None:
    """Raise every problem at once (ordered by line), or return when there is none."""
    found = sorted(problems, key=lambda problem: problem.line)
    if found:
        raise DeclarationError(source.shown, found)
