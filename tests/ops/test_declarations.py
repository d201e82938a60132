"""The ``deployments:`` section read into records, and every kind of bad input refused with its
line and field: in the file itself, and against a real store (SQLite and PostgreSQL) with real
registered scikit-learn models."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mlpilot.deployments import Canary, Shadow, Target
from mlpilot.deployments.specs import UNSET
from mlpilot.errors import InvalidInput
from mlpilot.ops.declarations import load_declarations
from mlpilot.ops.declared_lines import DeclarationError
from mlpilot.ops.plan import make_plan
from mlpilot.store import Database
from tests.ops.declared_fixtures import GOOD, seeded, write

__all__ = ["seeded"]  # a fixture, imported for pytest


def _refused(tmp_path: Path, text: str) -> DeclarationError:
    with pytest.raises(DeclarationError) as caught:
        load_declarations(write(tmp_path, text))
    return caught.value


def test_a_full_entry_is_read_into_records(tmp_path: Path) -> None:
    declared = load_declarations(write(tmp_path, GOOD))
    assert declared.project == "churn"
    (entry,) = declared.deployments
    assert (entry.name, entry.model, entry.target) == ("churn-api", "churn", Target(alias="production"))
    assert entry.canary == Canary(Target(alias="challenger"), 0.1)
    assert entry.shadow == Shadow(Target(version=3), 0.5)
    assert entry.config == {"max_batch_size": 32}
    (monitor,) = entry.monitors
    assert monitor.name == "churn-drift" and monitor.config.conditions.drift_share == 0.3
    assert monitor.config.webhooks == ("https://hooks.example.com/mlpilot",)
    alert, schedule = entry.retrain
    assert (alert.pipeline, alert.kind, alert.source, dict(alert.params)) == (
        "churn-retrain",
        "alert",
        "churn-drift",
        {"candidates": 3},
    )
    assert (schedule.kind, schedule.source) == ("schedule", "0 3 * * 1")


def test_left_out_splits_are_unset_and_null_clears(tmp_path: Path) -> None:
    text = "deployments:\n  - {name: a, model: churn/2, shadow: null}\n"
    (entry,) = load_declarations(write(tmp_path, text)).deployments
    assert entry.canary is UNSET and entry.shadow is None and entry.target == Target(version=2)


@pytest.mark.parametrize(
    ("body", "line", "field", "words"),
    [
        # a bad threshold value and a threshold that is not a number
        ("conditions: {drift_share: 1.5}", 7, "deployments[0].monitors[0].conditions.drift_share", "outside"),
        ('conditions: {error_rate: "> 0.05"}', 7, "deployments[0].monitors[0].conditions.error_rate", "number"),
        ("conditions: {latency: 3}", 7, "deployments[0].monitors[0].conditions.latency", "unknown condition"),
        ("window: forever", 7, "deployments[0].monitors[0].window", "forever"),
        ("webhooks: [ftp://x]", 7, "deployments[0].monitors[0].webhooks[0]", "ftp"),
        ("webhook_secret: s3cret", 7, "deployments[0].monitors[0].webhook_secret", "git"),
        ("enabled: maybe", 7, "deployments[0].monitors[0].enabled", "true or false"),
    ],
)
def test_a_bad_monitor_is_refused_at_its_field(tmp_path: Path, body: str, line: int, field: str, words: str) -> None:
    text = f"""\
        name: churn
        deployments:
          - name: churn-api
            model: churn@production
            monitors:
              - name: churn-drift
                {body}
        """
    refused = _refused(tmp_path, textwrap.dedent(text))
    (problem,) = refused.problems
    assert (problem.line, problem.path) == (line, field)
    assert words in problem.message
    assert refused.message.startswith(f"{tmp_path / 'mlpilot.yaml'}:{line}: {field}: ")


@pytest.mark.parametrize(
    ("entry", "field", "words"),
    [
        ("model: churn@@x", "deployments[0].model", "model_ref"),
        ("model: churn", "deployments[0].model", "names no version"),
        ("model: 5", "deployments[0].model", "must be a string"),
        (
            "model: churn@production\n    canary: {alias: challenger, weight: 2}",
            "deployments[0].canary.weight",
            "0 and 1",
        ),
        (
            "model: churn@production\n    canary: {alias: challenger, weight: yes}",
            "deployments[0].canary.weight",
            "True",
        ),
        ("model: churn@production\n    canary: {alias: x, version: 2, weight: 0.1}", "deployments[0].canary", "one of"),
        ("model: churn@production\n    canary: {alias: production, weight: 0.1}", "deployments[0].canary", "primary"),
        ("model: churn@production\n    canary: {model: other@x, weight: 0.1}", "deployments[0].canary.model", "other"),
        ("model: churn@production\n    shadow: {version: two, share: 0.5}", "deployments[0].shadow.version", "number"),
        ("model: churn@production\n    shadow: {version: 2, share: 0}", "deployments[0].shadow.share", "above 0"),
        ("model: churn@production\n    max_batch_size: 0", "deployments[0].max_batch_size", "1 to 10000"),
        ("model: churn@production\n    workers: 0", "deployments[0].workers", "1 to 64"),
        ("model: churn@production\n    replicas: 4", "deployments[0].replicas", "not a known key"),
        ("model: churn@production\n    monitors: {name: m}", "deployments[0].monitors", "must be a list"),
        (
            "model: churn@production\n    retrain: [{pipeline: p, on: cron, cron: '0 3 * * *'}]",
            "deployments[0].retrain[0].on",
            "one of",
        ),
        (
            "model: churn@production\n    retrain: [{pipeline: p, on: schedule}]",
            "deployments[0].retrain[0].cron",
            "missing",
        ),
        (
            "model: churn@production\n    retrain: [{pipeline: p, on: schedule, cron: '61 * * * *'}]",
            "deployments[0].retrain[0].cron",
            "not valid",
        ),
        (
            "model: churn@production\n    retrain: [{pipeline: p, on: alert, monitor: m, cron: '0 * * * *'}]",
            "deployments[0].retrain[0].cron",
            "does not go with",
        ),
        (
            "model: churn@production\n    retrain: [{pipeline: 'a b', on: dataset, dataset: d}]",
            "deployments[0].retrain[0].pipeline",
            "not valid",
        ),
    ],
)
def test_a_bad_entry_is_refused_at_its_field(tmp_path: Path, entry: str, field: str, words: str) -> None:
    refused = _refused(tmp_path, f"name: churn\ndeployments:\n  - name: churn-api\n    {entry}\n")
    (problem,) = refused.problems
    assert problem.path == field and words in problem.message, problem
    assert problem.line == (5 if "\n" in entry else 4)


def test_duplicate_names_are_refused_on_the_second_with_the_first_line(tmp_path: Path) -> None:
    text = """\
        deployments:
          - name: a
            model: churn@production
            monitors: [{name: m}]
          - name: a
            model: churn/1
            monitors: [{name: m}]
        """
    refused = _refused(tmp_path, textwrap.dedent(text))
    assert [(p.line, p.path) for p in refused.problems] == [
        (5, "deployments[1].name"),
        (7, "deployments[1].monitors[0].name"),
    ]
    assert "first declared on line 2" in refused.problems[0].message
    assert refused.message.startswith("2 problems, nothing applied:\n")


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    text = """\
        deployments:
          - {name: a, model: churn@production, workers: 200}
          - {name: b, model: churn/1, monitors: [{name: m, window: never}]}
          - name: c
        """
    refused = _refused(tmp_path, textwrap.dedent(text))
    assert [(p.line, p.path) for p in refused.problems] == [
        (2, "deployments[0].workers"),
        (3, "deployments[1].monitors[0].window"),
        (4, "deployments[2].model"),
    ]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("name: x\n", "has no `deployments:`"),
        ("deployments: {a: 1}\n", "must be a list"),
        ("- 1\n", "must be a mapping"),
        ("deployments:\n  - name: [x\n", "not valid YAML (line 3, column 1)"),
        ("deployments:\n  - 42\n", "deployments[0]: must be a mapping"),
        ("name: 3\ndeployments: []\n", "name: must be a non-empty string"),
    ],
)
def test_wrong_types_and_syntax_are_refused(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(InvalidInput, match=None) as caught:
        load_declarations(write(tmp_path, text))
    assert words in caught.value.message


def test_a_missing_file_is_refused_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_declarations(tmp_path / "nope.yaml")
    assert "does not exist" in caught.value.message and "-f" in caught.value.hint


# Against the store: what only the store can tell --------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "field", "words"),
    [
        ("model: churnx@production", "deployments[0].model", "registered model 'churnx' does not exist"),
        ("model: churn@nope", "deployments[0].model", "no alias 'nope'"),
        ("model: churn/9", "deployments[0].model", "no version 9"),
        (
            "model: churn@production\n    canary: {alias: ghost, weight: 0.1}",
            "deployments[0].canary",
            "no alias 'ghost'",
        ),
        (
            "model: churn@production\n    retrain: [{pipeline: nopipe, on: dataset, dataset: d}]",
            "deployments[0].retrain[0].pipeline",
            "pipeline 'nopipe' does not exist",
        ),
        (
            "model: churn@production\n    retrain: [{pipeline: churn-retrain, on: alert, monitor: ghost}]",
            "deployments[0].retrain[0].monitor",
            "neither declared",
        ),
    ],
)
def test_what_the_store_lacks_is_refused_at_its_field(
    db: Database, seeded: None, tmp_path: Path, entry: str, field: str, words: str
) -> None:
    declared = load_declarations(write(tmp_path, f"name: churn\ndeployments:\n  - name: churn-api\n    {entry}\n"))
    with pytest.raises(DeclarationError) as caught:
        make_plan(db, declared)
    (problem,) = caught.value.problems
    assert problem.path == field and words in problem.message
    assert problem.line == (5 if "\n" in entry else 4)
    if "pipeline '" in words:
        assert "mlpilot pipelines register" in caught.value.hint


def test_the_documented_example_is_the_example_file_and_it_loads() -> None:
    example = Path(__file__).parents[2] / "examples" / "declarative" / "mlpilot.yaml"
    declared = load_declarations(example)
    assert [entry.name for entry in declared.deployments] == ["churn-api", "churn-batch"]
    assert [trigger.kind for trigger in declared.deployments[0].retrain] == ["alert", "schedule", "dataset"]
    body = "".join(line for line in example.read_text().splitlines(keepends=True) if not line.startswith("#"))
    page = (Path(__file__).parents[2] / "docs" / "devops.md").read_text()
    assert f"```yaml\n{body}```" in page
