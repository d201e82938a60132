"""``mlpilot gate``: evaluate a candidate (and its baseline) on held-out data and pass or fail it.

Exit codes: 0 the gate passed, 1 it failed (the report or ``--json`` says why), and the usual
error codes for bad input (2), an unknown model or alias (3) or a model that raised (9). An
unexpected internal error also exits 1, but prints ``error:`` on stderr and no report.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.markup import escape
from rich.table import Table

from mlpilot.cli.context import get_client
from mlpilot.cli.render import console, format_value, print_json
from mlpilot.errors import InvalidInput
from mlpilot.evaluation import (
    CLASSIFICATION_METRICS,
    REGRESSION_METRICS,
    Check,
    GateDecision,
    parse_requirements,
    refuse_unknown_metrics,
    summarize,
)
from mlpilot.evaluation import gate as judge

if TYPE_CHECKING:
    import pandas as pd

    from mlpilot.evaluation import Evaluation, Task
    from mlpilot.models.loaded import LoadedModel

__all__ = ["DEFAULT_LABEL", "gate"]

DEFAULT_LABEL = "label"
_STYLE = {"passed": "green", "failed": "red", "skipped": "yellow"}
_PRODUCED = {"classification": CLASSIFICATION_METRICS, "regression": REGRESSION_METRICS}


def gate(
    ctx: typer.Context,
    candidate: Annotated[
        str, typer.Option("--candidate", "-c", help="The model to judge: models:/NAME/VERSION, models:/NAME@ALIAS…")
    ],
    data: Annotated[Path, typer.Option("--data", "-d", help="Held-out data with labels: .parquet or .csv.")],
    require: Annotated[
        list[str] | None,
        typer.Option(
            "--require",
            "-r",
            help="Repeatable: 'accuracy>=0.85' (value), 'accuracy>=+0.01' (vs baseline), 'rmse<=-5%' (relative).",
        ),
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option("--baseline", "-b", help="The champion, e.g. models:/NAME@production; omit for a first model."),
    ] = None,
    label: Annotated[
        str | None,
        typer.Option(
            "--label", "-l", help="The label column; default 'label', else the one column the model does not read."
        ),
    ] = None,
    task: Annotated[
        str | None, typer.Option("--task", help="classification or regression; inferred from the model when omitted.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the decision as JSON.")] = False,
) -> None:
    """Evaluate CANDIDATE (and BASELINE) on the same data; exit 0 if every requirement holds, 1 if not."""
    requirements = parse_requirements(require or [])
    refuse_unknown_metrics(requirements)
    if task is not None and task not in _PRODUCED:
        raise InvalidInput(f"unknown task {task!r}", hint="Use --task classification or --task regression.")

    # scikit-learn loads when a gate runs, not with every mlpilot command.
    from mlpilot.data.frames import read_frame
    from mlpilot.evaluation.evaluate import evaluate_model

    loaded = read_frame(data)
    client = get_client(ctx)
    candidate_model = client.load_model(candidate)
    baseline_model = client.load_model(baseline) if baseline is not None else None
    column = _label(label, loaded.frame, candidate_model)
    scored = evaluate_model(candidate_model, loaded.frame, column, cast("Task | None", task))
    refuse_unknown_metrics(requirements, scored.task)
    # The baseline is scored as the same task so that both sides have the same metric names.
    base = evaluate_model(baseline_model, loaded.frame, column, scored.task) if baseline_model is not None else None
    decision = judge(
        scored.metrics,
        None if base is None else base.metrics,
        requirements,
        candidate_notes=scored.notes,
        baseline_notes=None if base is None else base.notes,
    )
    if as_json:
        print_json(_as_dict(decision, candidate, scored, baseline, base, loaded.source or str(data), column))
    else:
        _report(decision, candidate, scored, baseline, base)
    raise typer.Exit(0 if decision.passed else 1)


def _label(given: str | None, frame: pd.DataFrame, model: LoadedModel) -> str:
    if given is not None:
        return given
    if DEFAULT_LABEL in frame.columns:
        return DEFAULT_LABEL
    if model.signature is not None:
        inputs = set(model.signature.input_names())
        extra = [str(column) for column in frame.columns if column not in inputs]
        if len(extra) == 1:
            return extra[0]
        if extra:
            raise InvalidInput(
                f"cannot tell the label column: the data has {len(extra)} columns the model does not read "
                f"({', '.join(map(repr, extra))})",
                hint="Name it with --label.",
            )
    raise InvalidInput(f"the data has no {DEFAULT_LABEL!r} column", hint="Name the label column with --label.")


def _side(uri: str | None, evaluation: Evaluation | None) -> dict[str, Any] | None:
    if uri is None or evaluation is None:
        return None
    return {"uri": uri, **{key: value for key, value in evaluation.to_dict().items() if key != "model"}}


def _as_dict(
    decision: GateDecision,
    candidate: str,
    scored: Evaluation,
    baseline: str | None,
    base: Evaluation | None,
    source: str,
    label: str,
) -> dict[str, Any]:
    return {
        "passed": decision.passed,
        "verdict": "BLESSED" if decision.passed else "NOT_BLESSED",
        "data": {"path": source, "label": label, "task": scored.task},
        "candidate": _side(candidate, scored),
        "baseline": _side(baseline, base),
        "decision": decision.to_dict(),
    }


def _row(check: Check | None, metric: str, scored: Evaluation, base: Evaluation | None) -> list[str]:
    value = scored.metrics.get(metric)
    other = None if base is None else base.metrics.get(metric)
    delta = value - other if value is not None and other is not None else None
    cells = [metric, format_value(value), format_value(other), "-" if delta is None else f"{delta:+.6g}"]
    if check is None:
        return [escape(cell) for cell in cells] + ["-", "-"]
    status = check.status
    return [escape(cell) for cell in cells] + [escape(check.expression), f"[{_STYLE[status]}]{status.upper()}[/]"]


def _report(
    decision: GateDecision, candidate: str, scored: Evaluation, baseline: str | None, base: Evaluation | None
) -> None:
    against = f" vs {baseline}" if baseline else " (no baseline)"
    table = Table(title=escape(f"Gate: {candidate}{against} on {scored.rows} rows"), title_justify="left")
    for column in ("metric", "candidate", "baseline", "delta", "requirement", "result"):
        table.add_column(column, no_wrap=True)
    for check in decision.checks:
        table.add_row(*_row(check, check.metric, scored, base))
    required = {check.metric for check in decision.checks}
    for metric in _PRODUCED[scored.task]:
        if metric not in required and (metric in scored.metrics or (base is not None and metric in base.metrics)):
            table.add_row(*_row(None, metric, scored, base))
    console.print(table)
    for metric, note in scored.notes.items():
        if metric not in scored.metrics and metric != "rows":
            console.print(f"[dim]{escape(metric)}: {escape(note)}[/dim]")
    colour = "green" if decision.passed else "red"
    console.print(f"[bold {colour}]{escape(summarize(decision).splitlines()[0])}[/]")
    for reason in decision.reasons:
        console.print(f"  - {escape(reason)}")
