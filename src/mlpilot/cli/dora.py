"""``mlpilot dora``: the DORA software-delivery metrics of the deployments, with their bands."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from mlpilot.cli.context import get_client
from mlpilot.cli.render import console, format_ms, print_json, print_table

__all__ = ["dora"]

_WHEN = "30d, 12h, 2w, 90min before now; an ISO date or time (UTC without an offset); or epoch ms."
_METRICS = (
    ("deployment frequency", "deployment_frequency"),
    ("change lead time", "change_lead_time"),
    ("change fail rate", "change_fail_rate"),
    ("failed deployment recovery time", "failed_deployment_recovery_time"),
    ("deployment rework rate", "deployment_rework_rate"),
)


def dora(
    ctx: typer.Context,
    since: Annotated[str | None, typer.Option("--since", help=f"The window's start: {_WHEN}")] = None,
    until: Annotated[str | None, typer.Option("--until", help=f"The window's end (default now): {_WHEN}")] = None,
    deployment: Annotated[str | None, typer.Option("--deployment", "-d", help="Only this deployment.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """DORA metrics from the platform's own events: deployment frequency, change lead time, change
    fail rate, failed deployment recovery time and deployment rework rate, with their bands."""
    report = get_client(ctx).dora(since=since, until=until, deployment=deployment)
    if as_json:
        print_json(report)
        return
    start = format_ms(report["window_start"]) if report["window_start"] is not None else "the first deployment"
    scope = f"deployment {report['deployment']!r}" if report["deployment"] else "all deployments"
    print_table(
        f"DORA metrics, {scope}, {start} to {format_ms(report['until'])}",
        ["metric", "value", "band"],
        _rows(report["metrics"]),
    )
    by_deployment: dict[str, Any] = report["by_deployment"]
    if len(by_deployment) > 1:
        print_table(
            "By deployment",
            ["deployment", *(label for label, _ in _METRICS)],
            ([name, *(_level(metrics[key]) for _, key in _METRICS)] for name, metrics in by_deployment.items()),
        )
    console.print(
        f"[dim]Bands: DORA {report['bands_year']} performance clusters; see docs/dora.md for how mlpilot places "
        "values on them.[/dim]"
    )


def _rows(metrics: dict[str, Any]) -> list[list[str]]:
    return [[label, _value(key, metrics[key]), _band(metrics[key]["band"])] for label, key in _METRICS]


def _value(key: str, metric: dict[str, Any]) -> str:
    if key == "deployment_frequency":
        text = f"{metric['count']} ({metric['per_day']:.2f}/day, {metric['per_week']:.1f}/week"
        if metric["median_between_ms"] is not None:
            text += f"; median gap {duration(metric['median_between_ms'])}"
        return text + ")"
    if key == "change_lead_time":
        excluded = f", {metric['excluded']} without a commit time" if metric["excluded"] else ""
        if metric["median_ms"] is None:
            return f"- (n=0{excluded})"
        return f"median {duration(metric['median_ms'])}, p90 {duration(metric['p90_ms'])} (n={metric['n']}{excluded})"
    if key == "failed_deployment_recovery_time":
        return "-" if metric["median_ms"] is None else f"median {duration(metric['median_ms'])} (n={metric['n']})"
    count = metric["failed"] if key == "change_fail_rate" else metric["unplanned"]
    return "-" if metric["rate"] is None else f"{metric['rate']:.0%} ({count} of {metric['total']})"


def _band(band: dict[str, Any]) -> str:
    return f"{band['level']}: {band['reason']}" if band["level"] == "n/a" else f"{band['level']} ({band['reason']})"


def _level(metric: dict[str, Any]) -> str:
    return str(metric["band"]["level"])


def duration(ms: float) -> str:
    """A duration in the largest unit that keeps it readable: 45s, 30min, 5.2h, 3.1d."""
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}min"
    if seconds < 86_400:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86_400:.1f}d"
