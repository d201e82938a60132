"""What every export describes: one deployment, the model version it serves, and where that
version's run says it was trained (Python and pinned packages)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mlpilot.deployments.specs import check_deployment_name
from mlpilot.errors import InvalidInput

__all__ = ["PORT", "ServedModel", "kube_name", "pinned_requirements", "python_minor"]

PORT = 8080  # the container port; `mlpilot serve --port` is given it explicitly
# pip freeze leaves these out too: they are the installer itself, provided by the base image.
_INSTALLER = {"pip", "setuptools", "wheel", "distribute"}
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9][A-Za-z0-9.+!_-]*)$")
_PYTHON = re.compile(r"^(\d+)\.(\d+)(?:\.\d+)?")


@dataclass(frozen=True, slots=True)
class ServedModel:
    """A deployment as the exports see it.

    ``target`` is what ``mlpilot serve`` is told (``churn@production`` follows the alias, so a
    container started later serves whatever version the alias then holds); ``version`` is the
    version it held at export time, whose run's ``python`` and ``packages`` pin the image.
    """

    deployment: str
    model: str
    target: str
    version: int
    run_id: str
    python: str
    packages: tuple[str, ...]
    workers: int | None = None  # the deployment's `workers` option: processes when served on its own

    @classmethod
    def from_records(
        cls,
        deployment: str,
        model: str,
        target: str,
        version: int,
        run_id: str,
        environment: object,
        workers: int | None = None,
    ) -> ServedModel:
        """Checks the recorded environment (a run's ``environment`` JSON) can pin an image."""
        check_deployment_name(deployment)
        hint = "Log the model from a tracked run (mlpilot run, or mlpilot.start_run()), which records its environment."
        if not isinstance(environment, Mapping):
            raise InvalidInput(f"run {run_id} of {model} version {version} recorded no environment to pin", hint=hint)
        python, packages = environment.get("python"), environment.get("packages")
        if not isinstance(python, str) or not isinstance(packages, list) or not packages:
            raise InvalidInput(
                f"run {run_id} of {model} version {version} recorded no Python version or packages", hint=hint
            )
        return cls(deployment, model, target, version, run_id, python, tuple(str(p) for p in packages), workers)

    @property
    def requirements(self) -> list[str]:
        return pinned_requirements(self.packages)


def pinned_requirements(packages: Iterable[str]) -> list[str]:
    """``name==version`` lines, sorted, without the installer's own packages.

    Every line must be an exact pin: a requirement without one would let the image drift from
    the environment the model was trained and checked in.
    """
    lines: dict[str, str] = {}
    for entry in packages:
        match = _PIN.match(entry.strip())
        if match is None:
            raise InvalidInput(
                f"recorded package {entry!r} is not pinned as NAME==VERSION",
                hint="Re-run the training in an environment installed from a package index.",
            )
        name = match.group(1)
        if name.lower() not in _INSTALLER:
            lines[name.lower()] = f"{name}=={match.group(2)}"
    return [lines[key] for key in sorted(lines)]


def python_minor(version: str) -> str:
    """``3.12`` of ``3.12.4``: the official images are tagged by minor version, which gets patches."""
    match = _PYTHON.match(version)
    if match is None:
        raise InvalidInput(f"recorded Python version {version!r} is not MAJOR.MINOR[.PATCH]")
    return f"{match.group(1)}.{match.group(2)}"


def kube_name(deployment: str) -> str:
    """A Kubernetes object name (an RFC 1035 label: lowercase, digits, '-', a letter first, at most
    63 characters) for a deployment name, which may hold '_', '.' and capitals."""
    body = re.sub(r"[^a-z0-9-]+", "-", deployment.lower()).strip("-")
    return f"mlpilot-{body}"[:63].rstrip("-")
