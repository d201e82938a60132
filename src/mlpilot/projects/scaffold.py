"""``mlpilot init``: a new project that runs as it is — mlpilot.yaml, train.py, a .gitignore entry."""

from __future__ import annotations

import json
import logging
import string
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from mlpilot.errors import Conflict, InvalidInput
from mlpilot.projects.spec import PROJECT_FILE

__all__ = ["Scaffold", "init_project"]

log = logging.getLogger(__name__)

TRAIN_SCRIPT = "train.py"
# The default home (.mlpilot/, database and artifacts) lands in the folder mlpilot runs from.
_IGNORED = ".mlpilot/"


@dataclass(frozen=True, slots=True)
class Scaffold:
    name: str
    directory: Path
    created: tuple[Path, ...]
    updated: tuple[Path, ...]


def init_project(path: Path | str = ".", *, name: str | None = None) -> Scaffold:
    """Write a runnable example project into ``path`` (created if missing).

    Refuses, changing nothing, when the folder already has a project file or a train.py: those
    are someone's work.
    """
    directory = Path(path).expanduser().resolve()
    if directory.exists() and not directory.is_dir():
        raise InvalidInput(f"{directory} is not a folder", hint="Pass a folder (it is created if missing).")
    project_name = (name if name is not None else directory.name).strip()
    if not project_name:
        raise InvalidInput("the project name is empty", hint="Pass --name NAME.")
    targets = {directory / PROJECT_FILE: "mlpilot.yaml.tmpl", directory / TRAIN_SCRIPT: "train.py.tmpl"}
    existing = [target.name for target in targets if target.exists()]
    if existing:
        raise Conflict(
            f"{directory} already has {' and '.join(existing)}; not overwriting",
            hint="Run `mlpilot run` on it, or choose an empty folder for a new project.",
        )
    values = {
        # A JSON string is a valid YAML scalar and repr() a valid Python literal, whatever the name holds.
        "yaml_name": json.dumps(project_name),
        "python_name": repr(project_name),
    }
    directory.mkdir(parents=True, exist_ok=True)
    for target, template_name in targets.items():
        target.write_text(_render(template_name, values), encoding="utf-8")
        log.info("wrote %s", target)
    gitignore = directory / ".gitignore"
    had_gitignore = gitignore.exists()
    changed = _ensure_ignored(gitignore, _IGNORED)
    created = [*targets, *([gitignore] if changed and not had_gitignore else [])]
    updated = [gitignore] if changed and had_gitignore else []
    return Scaffold(project_name, directory, tuple(created), tuple(updated))


def _render(template_name: str, values: dict[str, str]) -> str:
    text = resources.files("mlpilot.projects").joinpath("templates", template_name).read_text(encoding="utf-8")
    return string.Template(text).substitute(values)


def _ensure_ignored(gitignore: Path, entry: str) -> bool:
    """Add ``entry`` to ``gitignore`` unless a line already ignores it; True when the file changed."""
    text = gitignore.read_text(encoding="utf-8") if gitignore.exists() else ""
    lines = {line.strip() for line in text.splitlines()}
    if entry in lines or entry.rstrip("/") in lines or f"/{entry}" in lines:
        return False
    separator = "" if not text or text.endswith("\n") else "\n"
    gitignore.write_text(f"{text}{separator}{entry}\n", encoding="utf-8")
    return True
