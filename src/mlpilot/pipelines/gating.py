"""The ready-made "evaluate and gate" step: candidates and the champion scored on the same
held-out data, the best candidate judged by the gate, the decision and its reasons recorded.

Never cached: the champion it compares with is whatever the alias points at when it runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from mlpilot.client import fluent
from mlpilot.errors import InvalidInput, NotFound
from mlpilot.evaluation import (
    CLASSIFICATION_METRICS,
    REGRESSION_METRICS,
    evaluate_model,
    gate,
    is_lower_better,
    parse_requirements,
    refuse_unknown_metrics,
)
from mlpilot.pipelines.step import Step
from mlpilot.pipelines.values import ModelOutput

__all__ = ["evaluate_and_gate"]


def _select_metric(select_by: str | None, requirements: Sequence[Any], task: str) -> str:
    if select_by:
        return select_by
    parsed = parse_requirements(list(requirements))
    if parsed:
        return parsed[0].metric
    return "accuracy" if task == "classification" else "rmse"


def _score(metrics: dict[str, float], metric: str) -> float:
    value = metrics.get(metric)
    if value is None:
        return float("inf")  # a candidate without the metric ranks last
    return value if is_lower_better(metric) else -value


def _evaluate_and_gate(
    candidates: list[ModelOutput] | ModelOutput,
    holdout: pd.DataFrame,
    label: str,
    model: str,
    champion: str = "production",
    requirements: list[Any] | None = None,
    select_by: str | None = None,
    task: str | None = None,
) -> dict[str, Any]:
    """Score every candidate and ``models:/MODEL@CHAMPION`` on ``holdout``; gate the best."""
    pool = candidates if isinstance(candidates, list) else [candidates]
    if not pool:
        raise InvalidInput("the gate got no candidate model")
    rules = list(requirements or [])
    refuse_unknown_metrics(parse_requirements(rules), task)  # before anything is scored
    client = fluent.get_client()
    scored = []
    for index, candidate in enumerate(pool):
        evaluation = evaluate_model(candidate.load(), holdout, label, task)  # type: ignore[arg-type]
        scored.append((index, candidate, evaluation))
    resolved_task = scored[0][2].task
    refuse_unknown_metrics(parse_requirements(rules), resolved_task)  # e.g. rmse asked of a classifier
    metric = _select_metric(select_by, rules, resolved_task)
    index, best, best_eval = min(scored, key=lambda item: _score(item[2].metrics, metric))
    try:
        version = client.get_model_version(model, f"@{champion}")
    except NotFound:
        version = None
    champion_eval = None
    if version is not None:
        champion_eval = evaluate_model(client.load_model(f"models:/{model}/{version.version}"), holdout, label, task)  # type: ignore[arg-type]
    decision = gate(
        best_eval.metrics,
        None if champion_eval is None else champion_eval.metrics,
        rules,
        candidate_notes=best_eval.notes,
        baseline_notes=None if champion_eval is None else champion_eval.notes,
    )
    fluent.log_metrics({f"candidate.{key}": value for key, value in best_eval.metrics.items()})
    if champion_eval is not None:
        fluent.log_metrics({f"champion.{key}": value for key, value in champion_eval.metrics.items()})
    fluent.set_tags({"gate.verdict": "BLESSED" if decision.passed else "NOT_BLESSED", "gate.selected_by": metric})
    return {
        **decision.to_dict(),
        "model": model,
        "champion_alias": champion,
        "selected_by": metric,
        "holdout_rows": best_eval.rows,
        "candidate": {
            "index": index,
            "uri": best.uri,
            "run_id": best.run_id,
            "artifact_path": best.artifact_path,
            "params": best.params,
            "metrics": best_eval.metrics,
        },
        "candidates": [{"index": i, "params": c.params, "metrics": e.metrics, "notes": e.notes} for i, c, e in scored],
        "champion": None
        if version is None or champion_eval is None
        else {"version": version.version, "metrics": champion_eval.metrics, "notes": champion_eval.notes},
    }


def _check(params: Mapping[str, Any]) -> None:
    """While composing: a bad requirement or a metric evaluation never produces is refused before
    anything runs."""
    task = params.get("task")
    if task is not None and task not in ("classification", "regression"):
        raise InvalidInput(f"gate task {task!r} is not 'classification' or 'regression'")
    refuse_unknown_metrics(parse_requirements(list(params.get("requirements") or [])), task)
    select_by = params.get("select_by")
    known = (*CLASSIFICATION_METRICS, *REGRESSION_METRICS)
    if select_by is not None and select_by not in known:
        raise InvalidInput(
            f"gate select_by {select_by!r} is not a metric evaluation produces", hint=f"Use one of: {', '.join(known)}."
        )


evaluate_and_gate = Step(_evaluate_and_gate, name="gate", cache=False, check=_check)
