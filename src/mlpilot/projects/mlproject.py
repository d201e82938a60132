"""MLflow's ``MLproject`` files, read into the same project records as ``mlpilot.yaml``.

    name: tutorial
    python_env: python_env.yaml
    entry_points:
      main:
        parameters:
          alpha: {type: float, default: 0.5}
          data: path
        command: "python train.py --alpha {alpha} --data {data}"

Parameter types map onto mlpilot's: ``string`` and ``uri`` are text, ``float`` a number, ``path``
an existing local path (made absolute). Commands are rendered with shell-quoted values, as MLflow
does. ``python_env`` and ``conda_env`` are not built: the command runs in the current environment
(noted in the log and in the run's ``mlpilot.project.environment`` tag); ``docker_env`` is refused,
as running outside the container would not be the same project.
"""

from __future__ import annotations

import logging
from pathlib import Path

from mlpilot.errors import InvalidInput
from mlpilot.projects import template
from mlpilot.projects.spec import EntryPoint, Parameter, ProjectSpec, read_yaml
from mlpilot.projects.values import ParamType, ParamValue, parse_text

__all__ = ["MLPROJECT_FILE", "find_mlproject", "load_mlproject"]

log = logging.getLogger(__name__)

MLPROJECT_FILE = "MLproject"
_TYPES = {"string": ParamType.STR, "uri": ParamType.STR, "float": ParamType.FLOAT, "path": ParamType.PATH}
_TOP_KEYS = ("name", "entry_points", "python_env", "conda_env", "docker_env", "databricks_spark_job")
_LOCAL_ENVIRONMENTS = ("python_env", "conda_env")


def find_mlproject(directory: Path) -> Path | None:
    """The folder's ``MLproject`` file, matched case-insensitively as MLflow does."""
    if not directory.is_dir():
        return None
    return next((item for item in sorted(directory.iterdir()) if item.name.lower() == "mlproject"), None)


def load_mlproject(file: Path) -> ProjectSpec:
    document = read_yaml(file)
    if not isinstance(document, dict):
        raise _fail(file, "top level", "must be a mapping")
    unknown = sorted(str(key) for key in document if key not in _TOP_KEYS)
    if unknown:
        raise _fail(file, "top level", f"unknown key {unknown[0]!r}")
    if "docker_env" in document:
        raise _fail(
            file,
            "docker_env",
            "is not supported: mlpilot runs the command in the current environment, not in a container",
            "Remove docker_env to run the project in this environment, or build the image yourself.",
        )
    for key in _LOCAL_ENVIRONMENTS:
        if key in document:
            log.warning("%s: %s is not built; the project runs in the current Python environment", file, key)
    directory = file.parent.resolve()
    name = document.get("name") or directory.name
    raw_entries = document.get("entry_points")
    if not isinstance(raw_entries, dict) or not raw_entries:
        raise _fail(file, "entry_points", "must declare at least one entry point")
    entries = {str(key): _entry_point(file, str(key), value) for key, value in raw_entries.items()}
    return ProjectSpec(str(name), directory, entries, file.resolve())


def _entry_point(file: Path, name: str, raw: object) -> EntryPoint:
    where = f"entry_points.{name}"
    if not isinstance(raw, dict):
        raise _fail(file, where, "must be a mapping")
    command = raw.get("command")
    if not isinstance(command, str) or not command.strip():
        raise _fail(file, f"{where}.command", "must be a non-empty string")
    declared = raw.get("parameters") or {}
    if not isinstance(declared, dict):
        raise _fail(file, f"{where}.parameters", "must be a mapping")
    parameters = {
        str(key): _parameter(file, f"{where}.parameters.{key}", str(key), value) for key, value in declared.items()
    }
    try:
        used = template.placeholders(command)
    except ValueError as exc:
        raise _fail(file, f"{where}.command", str(exc)) from None
    undeclared = sorted(set(used) - set(parameters))
    if undeclared:
        raise _fail(file, f"{where}.command", "uses undeclared parameters " + ", ".join(undeclared))
    return EntryPoint(name, command.strip(), parameters)


def _parameter(file: Path, where: str, name: str, raw: object) -> Parameter:
    if isinstance(raw, str):
        return Parameter(name, _type(file, where, raw))
    if not isinstance(raw, dict):
        raise _fail(file, where, "must be a type name or a mapping with 'type' and 'default'")
    kind = _type(file, f"{where}.type", raw.get("type", "string"))
    default = raw.get("default")
    value: ParamValue | None = None
    if default is not None:
        try:
            value = parse_text(kind, str(default))
        except ValueError as exc:
            raise _fail(file, f"{where}.default", f"{default!r} is not a valid {kind.value} ({exc})") from None
    return Parameter(name, kind, value)


def _type(file: Path, where: str, raw: object) -> ParamType:
    kind = _TYPES.get(str(raw).strip().lower())
    if kind is None:
        raise _fail(file, where, f"unknown type {raw!r}", "MLproject types are string, float, path and uri.")
    return kind


def _fail(file: Path, where: str, problem: str, hint: str | None = None) -> InvalidInput:
    return InvalidInput(f"{file}: {where}: {problem}", hint=hint or "See docs/mlflow.md#mlproject-files.")
