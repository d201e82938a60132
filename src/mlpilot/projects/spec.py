"""``mlpilot.yaml``: read and validate a project file into frozen records.

    name: classifier
    entry_points:
      main:
        command: "python train.py --model {model} --C {C}"
        parameters:
          model: {type: str, default: logreg}
          C: {type: float, default: 1.0, description: Inverse regularisation strength}
          data: path            # a bare type: required, no default

Everything is checked on load — types, defaults against their type, and every ``{placeholder}``
against the declared parameters — so a typo fails before a run is created, with the file and the
field named in the message.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from mlpilot.errors import InvalidInput
from mlpilot.projects import template
from mlpilot.projects.values import ParamType, ParamValue, parse_text, parse_type

__all__ = [
    "PROJECT_FILE",
    "SCRIPT_RUNNERS",
    "EntryPoint",
    "Parameter",
    "ProjectSpec",
    "is_script_name",
    "load_project",
    "read_yaml",
]

PROJECT_FILE = "mlpilot.yaml"
# An undeclared entry point named like a script runs that file with this interpreter.
SCRIPT_RUNNERS = {".py": "python", ".sh": "bash"}

# `deployments` is read by `mlpilot plan`/`apply` (mlpilot.ops.declarations), not by the project runner.
_TOP_KEYS = ("name", "description", "entry_points", "deployments")
_ENTRY_KEYS = ("command", "parameters", "description")
_PARAM_KEYS = ("type", "default", "description", "choices")
_TYPE_NAMES = ", ".join(kind.value for kind in ParamType)
# MLproject keys people bring along; say why they are refused instead of silently ignoring them.
_MLFLOW_ENVIRONMENTS = {
    key: f"mlpilot runs the command in the Python environment mlpilot itself runs in; remove {key!r}."
    for key in ("conda_env", "python_env", "docker_env")
}
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    type: ParamType
    default: ParamValue | None = None
    description: str | None = None
    # The only values allowed, when given; checked before a run is created.
    choices: tuple[ParamValue, ...] | None = None

    @property
    def required(self) -> bool:
        return self.default is None


@dataclass(frozen=True, slots=True)
class EntryPoint:
    name: str
    command: str
    parameters: Mapping[str, Parameter] = field(default_factory=dict)
    description: str | None = None
    # A script entry point (an undeclared ``*.py``/``*.sh``) declares nothing and takes any -P,
    # passed on as ``--key value``.
    script: bool = False


@dataclass(frozen=True, slots=True)
class ProjectSpec:
    name: str
    directory: Path
    entry_points: Mapping[str, EntryPoint]
    file: Path | None = None
    description: str | None = None

    def entry_point(self, name: str) -> EntryPoint:
        """The declared entry point ``name``, or a script file of that name in the project."""
        declared = self.entry_points.get(name)
        if declared is not None:
            return declared
        if is_script_name(name):
            script = self.directory / name
            if script.is_file():
                runner = SCRIPT_RUNNERS[Path(name).suffix]
                return EntryPoint(name, f"{runner} {template.escape(shlex.quote(name))}", script=True)
            raise InvalidInput(
                f"entry point {name!r} is not declared and {script} is not a file",
                hint="Name a script that exists in the project folder, or a declared entry point.",
            )
        known = ", ".join(sorted(self.entry_points)) or "none"
        raise InvalidInput(
            f"project {self.name!r} has no entry point {name!r}",
            hint=f"Declared entry points: {known}. A .py or .sh file in the project can also be run by name.",
        )


def is_script_name(name: str) -> bool:
    return Path(name).suffix in SCRIPT_RUNNERS


def load_project(path: Path | str, *, require_file: bool = True) -> ProjectSpec:
    """Read the project at ``path`` (its folder, or its project file).

    With ``require_file=False`` a folder without ``mlpilot.yaml`` is a project with no declared
    entry points, named after the folder, whose scripts can still be run by name.
    """
    given = Path(path).expanduser()
    if not given.exists():
        raise InvalidInput(f"project path {given} does not exist", hint="Pass the folder that holds mlpilot.yaml.")
    file = given if given.is_file() else given / PROJECT_FILE
    directory = file.parent.resolve()
    if not file.is_file() and given.is_dir():
        from mlpilot.projects.mlproject import find_mlproject, load_mlproject  # reads this module's records

        mlproject = find_mlproject(given)
        if mlproject is not None:
            return load_mlproject(mlproject)
    if not file.is_file():
        if not require_file:
            return ProjectSpec(directory.name, directory, {})
        raise InvalidInput(
            f"{directory} has no {PROJECT_FILE}",
            hint=f"Create one with `mlpilot init {given}`, or run a script directly: --entry-point train.py.",
        )
    return _Reader(file.resolve()).project(read_yaml(file), directory)


def read_yaml(file: Path) -> object:
    """The parsed document (JSON is YAML too); InvalidInput naming the line and column of a syntax error."""
    try:
        return yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1}, column {where.column + 1})" if where is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InvalidInput(f"{file} is not valid YAML{line}: {problem}", hint="Fix the YAML syntax.") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {file}: {exc}", hint="Check the file's permissions and encoding.") from exc


class _Reader:
    """Validates one parsed document; every error names the file and the field's dotted path."""

    def __init__(self, file: Path) -> None:
        self.file = file

    def fail(self, where: str, problem: str, hint: str | None = None) -> InvalidInput:
        return InvalidInput(f"{self.file}: {where}: {problem}", hint=hint or "See docs/projects.md for the format.")

    def project(self, document: object, directory: Path) -> ProjectSpec:
        if document is None:
            raise InvalidInput(f"{self.file} is empty", hint="Declare at least `entry_points:`; see `mlpilot init`.")
        mapping = self.mapping(document, "top level", _TOP_KEYS)
        name = mapping.get("name", directory.name)
        if not isinstance(name, str) or not name.strip():
            raise self.fail("name", "must be a non-empty string")
        raw_entries = mapping.get("entry_points")
        if raw_entries is None:
            raise self.fail(
                "entry_points", "is missing", "Declare at least one, e.g. main: {command: python train.py}."
            )
        entries = self.mapping(raw_entries, "entry_points", None)
        if not entries:
            raise self.fail("entry_points", "declares no entry point")
        entry_points = {str(key): self.entry_point(str(key), value) for key, value in entries.items()}
        return ProjectSpec(
            name.strip(), directory, entry_points, self.file, self.text(mapping.get("description"), "description")
        )

    def entry_point(self, name: str, raw: object) -> EntryPoint:
        where = f"entry_points.{name}"
        mapping = self.mapping(raw, where, _ENTRY_KEYS)
        command = mapping.get("command")
        if not isinstance(command, str) or not command.strip():
            raise self.fail(f"{where}.command", "is missing" if command is None else "must be a non-empty string")
        raw_params = mapping.get("parameters")
        declared = self.mapping(raw_params, f"{where}.parameters", None) if raw_params is not None else {}
        parameters = {
            str(key): self.parameter(str(key), value, f"{where}.parameters") for key, value in declared.items()
        }
        try:
            used = template.placeholders(command)
        except ValueError as exc:
            raise self.fail(f"{where}.command", str(exc)) from None
        undeclared = sorted(set(used) - set(parameters))
        if undeclared:
            raise self.fail(
                f"{where}.command",
                f"uses undeclared parameter{'s' if len(undeclared) > 1 else ''} "
                + ", ".join(f"{{{item}}}" for item in undeclared),
                f"Declare it under {where}.parameters, or write a literal brace as '{{{{' or '}}}}'.",
            )
        return EntryPoint(
            name, command.strip(), parameters, self.text(mapping.get("description"), f"{where}.description")
        )

    def parameter(self, name: str, raw: object, parent: str) -> Parameter:
        where = f"{parent}.{name}"
        if not name or name[0].isdigit() or not set(name) <= _NAME_CHARS:
            raise self.fail(where, "a parameter name uses letters, digits, '_', '-' and '.', and starts with no digit")
        if isinstance(raw, str):
            # The short form `C: float` declares a required parameter of that type.
            return Parameter(name, self.type_of(raw, where, short_form=True))
        mapping = self.mapping(raw, where, _PARAM_KEYS)
        default = mapping.get("default")
        kind = self.type_of(mapping["type"], f"{where}.type") if "type" in mapping else _inferred_type(default)
        description = self.text(mapping.get("description"), f"{where}.description")
        choices = self.choices(kind, mapping.get("choices"), f"{where}.choices")
        value = self.value(kind, default, f"{where}.default")
        if choices is not None and value is not None and value not in choices:
            raise self.fail(f"{where}.default", f"{default!r} is not one of the choices {_listed(choices)}")
        return Parameter(name, kind, value, description, choices)

    def choices(self, kind: ParamType, raw: object, where: str) -> tuple[ParamValue, ...] | None:
        if raw is None:
            return None
        if kind is ParamType.PATH:
            raise self.fail(where, "a path parameter cannot have choices")
        if not isinstance(raw, list) or not raw:
            raise self.fail(where, "must be a non-empty list")
        values = []
        for index, item in enumerate(raw):
            value = self.value(kind, item, f"{where}[{index}]")
            if value is None:
                raise self.fail(f"{where}[{index}]", "cannot be empty")
            values.append(value)
        return tuple(values)

    def type_of(self, raw: object, where: str, *, short_form: bool = False) -> ParamType:
        kind = parse_type(raw)
        if kind is None:
            # In the short form `model: logreg` the author more likely meant a default than a type.
            extra = f" To give a default instead, write {{default: {raw}}}." if short_form else ""
            raise self.fail(where, f"unknown type {raw!r}", f"Use one of: {_TYPE_NAMES}.{extra}")
        return kind

    def value(self, kind: ParamType, value: object, where: str) -> ParamValue | None:
        """A default or choice converted to ``kind``; YAML has already typed it, so check both forms."""
        if value is None:
            return None
        if isinstance(value, str):
            try:
                return parse_text(kind, value)
            except ValueError as exc:
                raise self.fail(where, f"{value!r} is not a valid {kind.value} ({exc})") from None
        if isinstance(value, bool):
            if kind is ParamType.BOOL:
                return value
        elif isinstance(value, int) and kind is ParamType.BOOL and value in (0, 1):
            return bool(value)
        elif isinstance(value, int | float) and kind in (ParamType.FLOAT, ParamType.STR):
            return float(value) if kind is ParamType.FLOAT else str(value)
        elif isinstance(value, int) and kind is ParamType.INT:
            return value
        raise self.fail(
            where,
            f"{value!r} ({type(value).__name__}) is not a valid {kind.value}",
            "Quote the value in YAML to pass it as text." if kind in (ParamType.STR, ParamType.PATH) else None,
        )

    def mapping(self, value: object, where: str, allowed: tuple[str, ...] | None) -> dict[object, object]:
        if not isinstance(value, dict):
            raise self.fail(where, f"must be a mapping, got {type(value).__name__}")
        if allowed is not None:
            unknown = sorted(str(key) for key in value if key not in allowed)
            if unknown:
                hint = _MLFLOW_ENVIRONMENTS.get(unknown[0], f"Known keys: {', '.join(allowed)}.")
                raise self.fail(where, f"unknown key {unknown[0]!r}", hint)
        return value

    def text(self, value: object, where: str) -> str | None:
        if value is None or isinstance(value, str):
            return value
        raise self.fail(where, "must be a string")


def _listed(choices: tuple[ParamValue, ...]) -> str:
    return ", ".join(str(choice) for choice in choices)


def _inferred_type(default: object) -> ParamType:
    """With no ``type:``, a YAML-typed default says what the parameter is; otherwise it is text."""
    if isinstance(default, bool):
        return ParamType.BOOL
    if isinstance(default, int):
        return ParamType.INT
    if isinstance(default, float):
        return ParamType.FLOAT
    return ParamType.STR
