"""``-P key=value`` arguments: parse, check against an entry point, convert, render into the command.

Everything here runs before a run is created, so a typo in a value never leaves a FAILED run
behind.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from pathlib import Path

from mlpilot.errors import InvalidInput
from mlpilot.projects import template
from mlpilot.projects.spec import EntryPoint, Parameter
from mlpilot.projects.values import ParamType, ParamValue, format_value, parse_text

__all__ = ["parse_assignments", "render_command", "resolve_values"]

_EXAMPLES = {
    ParamType.STR: "some-text",
    ParamType.INT: "3",
    ParamType.FLOAT: "0.5",
    ParamType.BOOL: "true",
    ParamType.PATH: "data/train.csv",
}


def parse_assignments(items: Iterable[str]) -> dict[str, str]:
    """``["C=0.5", "model=forest"]`` → ``{"C": "0.5", "model": "forest"}``; the value may contain ``=``."""
    values: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InvalidInput(f"-P {item!r} is not key=value", hint="Write -P name=value, e.g. -P C=0.5.")
        if key in values and values[key] != value:
            raise InvalidInput(
                f"-P {key} is given twice ({values[key]!r} and {value!r})", hint="Pass each parameter once."
            )
        values[key] = value
    return values


def resolve_values(
    entry: EntryPoint, given: Mapping[str, str], *, project_dir: Path, cwd: Path
) -> dict[str, ParamValue]:
    """Every parameter's typed value: given on the command line, else its default.

    Paths given with -P are relative to ``cwd`` (where the user typed them, so shell completion
    is right); paths in defaults are relative to ``project_dir`` (where the file that names them
    lives). Both come back absolute.
    """
    _check_known(entry, given)
    missing = [param for name, param in entry.parameters.items() if name not in given and param.required]
    if missing:
        listed = ", ".join(f"{param.name!r} ({param.type.value})" for param in missing)
        plural = "s" if len(missing) > 1 else ""
        raise InvalidInput(
            f"no value for required parameter{plural} {listed} of entry point {entry.name!r}",
            hint="Pass " + " ".join(f"-P {param.name}={_EXAMPLES[param.type]}" for param in missing) + ".",
        )
    values: dict[str, ParamValue] = {}
    for name, param in entry.parameters.items():
        if name in given:
            values[name] = _convert(param, given[name], cwd)
        else:
            assert param.default is not None, "missing required parameters were reported above"
            values[name] = _default(param, param.default, project_dir)
    # Only a script entry point gets here with undeclared keys; they stay text.
    values.update({key: text for key, text in given.items() if key not in entry.parameters})
    return values


def render_command(entry: EntryPoint, values: Mapping[str, ParamValue]) -> str:
    """The shell command: placeholders filled with quoted values, then undeclared values as ``--key value``."""
    texts = {key: format_value(value) for key, value in values.items()}
    command = template.render(entry.command, texts)
    extras = [f"--{shlex.quote(key)} {shlex.quote(text)}" for key, text in texts.items() if key not in entry.parameters]
    return " ".join([command, *extras])


def _check_known(entry: EntryPoint, given: Mapping[str, str]) -> None:
    # MLflow appends unknown params to the command; a typo like -P c=1 would then be silently
    # ignored by the script while the default runs. Only a bare script, which declares nothing,
    # takes them.
    if entry.script:
        return
    unknown = [key for key in given if key not in entry.parameters]
    if not unknown:
        return
    declared = ", ".join(entry.parameters) or "none"
    listed = ", ".join(repr(key) for key in unknown)
    raise InvalidInput(
        f"entry point {entry.name!r} has no parameter{'s' if len(unknown) > 1 else ''} {listed}",
        hint=f"Declared parameters: {declared}.",
    )


def _convert(param: Parameter, text: str, cwd: Path) -> ParamValue:
    try:
        value = parse_text(param.type, text)
    except ValueError as exc:
        raise InvalidInput(
            f"parameter {param.name!r} expects {_article(param.type)}, got {text!r} ({exc})",
            hint=f"Pass e.g. -P {param.name}={_EXAMPLES[param.type]}.",
        ) from None
    if param.type is ParamType.PATH:
        return _existing_path(param, str(value), cwd, "the current folder")
    if param.choices is not None and value not in param.choices:
        allowed = ", ".join(format_value(choice) for choice in param.choices)
        raise InvalidInput(
            f"parameter {param.name!r} must be one of {allowed}; got {text!r}",
            hint=f"Pass e.g. -P {param.name}={format_value(param.choices[0])}.",
        )
    return value


def _default(param: Parameter, value: ParamValue, project_dir: Path) -> ParamValue:
    if param.type is ParamType.PATH:
        return _existing_path(param, str(value), project_dir, "the project folder")
    return value


def _existing_path(param: Parameter, text: str, base: Path, base_name: str) -> str:
    path = Path(text).expanduser()
    resolved = (path if path.is_absolute() else base / path).resolve()
    if not resolved.exists():
        raise InvalidInput(
            f"parameter {param.name!r} expects an existing path, got {text!r} (resolved against {base_name} "
            f"to {resolved}, which does not exist)",
            hint="Check the path; relative -P paths start from the current folder, defaults from the project's.",
        )
    return str(resolved)


def _article(kind: ParamType) -> str:
    return {
        ParamType.STR: "a str",
        ParamType.INT: "an int",
        ParamType.FLOAT: "a float",
        ParamType.BOOL: "a bool",
        ParamType.PATH: "a path",
    }[kind]
