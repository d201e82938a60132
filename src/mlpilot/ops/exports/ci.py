"""``mlpilot init --ci github|gitlab``: a CI workflow that trains, gates and registers.

The workflow needs no secret in the repository: the store is reached through
``MLPILOT_TRACKING_URI`` (and ``MLPILOT_ARTIFACT_URI``), which the CI system supplies from its
own secret store. The gate compares the new run's model with ``NAME@production`` on held-out
data; on the default branch a model that passes becomes the next registered version, with the
``staging`` alias. Promotion to production stays a deliberate step (a canary, ``mlpilot apply``).
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlpilot.errors import Conflict, InvalidInput
from mlpilot.evaluation import parse_requirements
from mlpilot.ops.exports.render import to_yaml
from mlpilot.registry.versions import check_model_name

__all__ = [
    "CI_FILES",
    "DEFAULT_DATA",
    "DEFAULT_REQUIREMENTS",
    "ci_workflow",
    "prepare_ci_workflow",
    "write_ci_workflow",
]

CI_FILES = {"github": ".github/workflows/mlpilot.yml", "gitlab": ".gitlab-ci.yml"}
DEFAULT_DATA = "holdout.parquet"
# An absolute floor, and never worse than production (skipped for the very first model).
DEFAULT_REQUIREMENTS = ("accuracy>=0.8", "accuracy>=+0.0")
PYTHON = "3.12"
ARTIFACT_PATH = "model"  # where the project's run logs its model: run.log_model(model, "model")

_INSTALL = (
    'if [ -f requirements.txt ]; then pip install -r requirements.txt; fi\npip install "${MLPILOT_PIP_SPEC:-mlpilot}"'
)
# `mlpilot run` ends with "=== Run (ID='…') succeeded ===" on stderr; the id is kept for the next steps.
_TRAIN = """set -o pipefail
mlpilot run . 2>&1 | tee run.log
RUN_ID=$(sed -n "s/^=== Run (ID='\\([^']*\\)') succeeded ===$/\\1/p" run.log | tail -n 1)
test -n "$RUN_ID"
echo "RUN_ID=$RUN_ID" >> "$OUT"
"""
# Exit code 3 (NotFound) means there is no production model yet: the first one is gated on the
# absolute requirements alone. Any other failure (store unreachable: 7) fails the job.
_GATE = """if mlpilot models show "$MODEL_NAME" @production --json > /dev/null; then
  BASELINE="models:/$MODEL_NAME@production"
else
  code=$?
  [ "$code" -eq 3 ] || exit "$code"
  BASELINE=""
fi
mlpilot gate --candidate "runs:/$RUN_ID/{artifact}" ${{BASELINE:+--baseline "$BASELINE"}} \\
  --data "$HOLDOUT_DATA" {requires}
"""
_REGISTER = """mlpilot models register "$RUN_ID" {artifact} "$MODEL_NAME" \\
  --reason "CI: commit $COMMIT" --json > version.json
VERSION=$(python -c 'import json; print(json.load(open("version.json"))["version"])')
mlpilot models alias "$MODEL_NAME" staging "$VERSION" --reason "passed the gate in CI"
"""


def ci_workflow(ci: str, model: str, *, data: str = DEFAULT_DATA, requirements: Sequence[str] = ()) -> str:
    """The workflow file's text for ``ci`` (``github`` or ``gitlab``)."""
    if ci not in CI_FILES:
        raise InvalidInput(f"unknown CI system {ci!r}", hint=f"Use --ci {' or --ci '.join(CI_FILES)}.")
    check_model_name(model)
    requires = list(requirements) or list(DEFAULT_REQUIREMENTS)
    parse_requirements(requires)  # a bad expression is refused now, not in the first CI run
    gate = _GATE.format(artifact=ARTIFACT_PATH, requires=" ".join(f"--require {shlex.quote(r)}" for r in requires))
    register = _REGISTER.format(artifact=ARTIFACT_PATH)
    variables = {"MODEL_NAME": model, "HOLDOUT_DATA": data}
    document = _github(variables, gate, register) if ci == "github" else _gitlab(variables, gate, register)
    header = (
        f"# Written by `mlpilot init --ci {ci}`: train, gate against {model}@production, register.\n"
        "# Set MLPILOT_TRACKING_URI (a secret: it holds the database password) and MLPILOT_ARTIFACT_URI\n"
        f"# in the CI settings. The project must log its model with run.log_model(model, {ARTIFACT_PATH!r}).\n"
    )
    return header + to_yaml(document)


def _github(variables: dict[str, str], gate: str, register: str) -> dict[str, Any]:
    return {
        "name": "mlpilot",
        "on": {"push": {"branches": ["main"]}, "pull_request": {}, "workflow_dispatch": {}},
        "env": {
            "MLPILOT_TRACKING_URI": "${{ secrets.MLPILOT_TRACKING_URI }}",
            "MLPILOT_ARTIFACT_URI": "${{ vars.MLPILOT_ARTIFACT_URI }}",
            **variables,
        },
        "jobs": {
            "model": {
                "runs-on": "ubuntu-latest",
                "steps": [
                    {"uses": "actions/checkout@v4"},
                    {"uses": "actions/setup-python@v5", "with": {"python-version": PYTHON}},
                    {"name": "Install", "run": _INSTALL},
                    {"name": "Train", "run": _TRAIN.replace("$OUT", "$GITHUB_ENV")},
                    {"name": "Gate", "run": gate},
                    {
                        "name": "Register",
                        "if": "github.event_name == 'push' && github.ref == 'refs/heads/main'",
                        "run": register.replace("$COMMIT", "$GITHUB_SHA"),
                    },
                ],
            }
        },
    }


def _gitlab(variables: dict[str, str], gate: str, register: str) -> dict[str, Any]:
    on_default_branch = [{"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"}]
    return {
        "stages": ["train", "gate", "register"],
        # MLPILOT_TRACKING_URI and MLPILOT_ARTIFACT_URI come from the project's CI/CD variables.
        "variables": variables,
        "default": {"image": f"python:{PYTHON}-slim", "before_script": [_INSTALL]},
        "train": {
            "stage": "train",
            "script": [_TRAIN.replace("$OUT", "train.env")],
            # The run id reaches the later jobs as a variable.
            "artifacts": {"reports": {"dotenv": "train.env"}, "paths": ["run.log"]},
        },
        "gate": {"stage": "gate", "script": [gate]},
        "register": {
            "stage": "register",
            "rules": on_default_branch,
            "script": [register.replace("$COMMIT", "$CI_COMMIT_SHA")],
        },
    }


def prepare_ci_workflow(
    directory: Path, ci: str, model: str, *, force: bool = False, **options: Any
) -> tuple[Path, str]:
    """Where the workflow goes and its text, every check done, nothing written yet (so a caller
    that also scaffolds a project can refuse before changing anything)."""
    text = ci_workflow(ci, model, **options)
    target = directory / CI_FILES[ci]
    if target.exists() and not force:
        # An existing workflow is someone's work.
        raise Conflict(f"{target} already exists; not overwriting", hint="Pass --force to replace it.")
    return target, text


def write_ci_workflow(directory: Path, ci: str, model: str, *, force: bool = False, **options: Any) -> Path:
    """Write the workflow under ``directory``, refusing to replace one unless ``force``."""
    target, text = prepare_ci_workflow(directory, ci, model, force=force, **options)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as problem:
        raise InvalidInput(f"cannot write {target}: {problem.strerror}", hint="Check the folder is writable.") from None
    return target
