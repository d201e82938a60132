"""``mlpilot monitors``: declare what to watch on a deployment, run it, read results and alerts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mlpilot.cli.context import get_client, get_settings
from mlpilot.cli.render import console, format_ms, format_value, print_json, print_table
from mlpilot.client.local import LocalTransport
from mlpilot.errors import InvalidInput
from mlpilot.projects.spec import read_yaml

if TYPE_CHECKING:
    from mlpilot.monitoring.monitors import Monitor

app = typer.Typer(help="Watch deployments: drift, live and estimated performance, alerts.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
NameArgument = Annotated[str, typer.Argument(help="The monitor.")]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-f", help="A JSON or YAML file with the whole monitor config (see docs/monitoring.md)."),
]


def _read_config(path: Path) -> dict[str, Any]:
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise InvalidInput(f"{path} must hold one object (the monitor config)", hint="See docs/monitoring.md.")
    return data


def _performance(text: str) -> dict[str, Any]:
    metric, _, drop = text.partition(":")
    try:
        return {"metric": metric.strip(), "max_drop": float(drop)}
    except ValueError:
        raise InvalidInput(f"--alert-performance {text!r} is not METRIC:MAX_DROP", hint="e.g. accuracy:0.05") from None


@app.command("create")
def create(
    ctx: typer.Context,
    name: NameArgument,
    deployment: Annotated[str, typer.Option("--deployment", "-d", help="The deployment to watch.")],
    config_file: ConfigOption = None,
    window: Annotated[str | None, typer.Option("--window", help='"1h", "30min", "1d" or "rows:1000".')] = None,
    features: Annotated[
        str | None, typer.Option("--features", help="Comma-separated columns to test (default: all).")
    ] = None,
    method: Annotated[str | None, typer.Option("--method", help="One drift method for every column.")] = None,
    schedule_seconds: Annotated[int | None, typer.Option("--every", help="Seconds between scheduled runs.")] = None,
    alert_share: Annotated[
        float | None, typer.Option("--alert-drift-share", help="Alert when this share of columns drifts.")
    ] = None,
    alert_features: Annotated[
        list[str] | None, typer.Option("--alert-feature", help="Alert when this column drifts (repeatable).")
    ] = None,
    alert_performance: Annotated[
        str | None, typer.Option("--alert-performance", help="METRIC:MAX_DROP below the offline value.")
    ] = None,
    alert_latency: Annotated[float | None, typer.Option("--alert-latency-p99-ms", help="Alert above this.")] = None,
    alert_errors: Annotated[
        float | None, typer.Option("--alert-error-rate", help="Alert above this share of failed (5xx) requests.")
    ] = None,
    webhooks: Annotated[list[str] | None, typer.Option("--webhook", help="POST alerts here (repeatable).")] = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Store it without scheduling it.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Watch DEPLOYMENT. Options fill the config; --config gives it whole (options then override)."""
    config: dict[str, Any] = _read_config(config_file) if config_file is not None else {}
    options = {"window": window, "method": method, "schedule_seconds": schedule_seconds}
    config.update({key: value for key, value in options.items() if value is not None})
    if features is not None:
        config["features"] = [item.strip() for item in features.split(",") if item.strip()]
    if webhooks:
        config["webhooks"] = list(webhooks)
    conditions = dict(config.get("conditions") or {})
    if alert_share is not None:
        conditions["drift_share"] = alert_share
    if alert_features:
        conditions["features"] = list(alert_features)
    if alert_performance is not None:
        conditions["performance"] = _performance(alert_performance)
    if alert_latency is not None:
        conditions["latency_p99_ms"] = alert_latency
    if alert_errors is not None:
        conditions["error_rate"] = alert_errors
    if conditions:
        config["conditions"] = conditions
    created = get_client(ctx).create_monitor(name, deployment, config, enabled=not disabled)
    _show(created, as_json, "created")


@app.command("list")
def list_(
    ctx: typer.Context,
    deployment: Annotated[str | None, typer.Option("--deployment", "-d", help="Only this deployment's.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Every monitor, with its window, schedule and last run."""
    found = get_client(ctx).list_monitors(deployment=deployment)
    if as_json:
        print_json([monitor.to_dict() for monitor in found])
        return
    print_table(
        "Monitors",
        ["name", "deployment", "window", "every", "enabled", "last run"],
        (
            [
                m.name,
                m.deployment,
                m.config.window.text,
                f"{m.config.schedule_seconds}s",
                m.enabled,
                format_ms(m.last_run_at),
            ]
            for m in found
        ),
    )


@app.command("show")
def show(ctx: typer.Context, name: NameArgument, as_json: JsonFlag = False) -> None:
    """A monitor's config, its latest result and its open alerts."""
    client = get_client(ctx)
    monitor = client.get_monitor(name)
    latest = client.monitor_results(name, limit=1)
    open_alerts = client.alerts(monitor=name, state="open")
    if as_json:
        print_json({"monitor": monitor.to_dict(), "latest": latest[0] if latest else None, "alerts": open_alerts})
        return
    _show(monitor, False, None)
    if latest:
        _summary(latest[0])
    _alerts_table(open_alerts, "Open alerts")


@app.command("update")
def update(
    ctx: typer.Context,
    name: NameArgument,
    config_file: ConfigOption = None,
    enable: Annotated[bool | None, typer.Option("--enable/--disable", help="Schedule it, or stop doing so.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Replace the config (--config) and/or switch scheduling on or off."""
    if config_file is None and enable is None:
        raise InvalidInput("nothing to change", hint="Give --config FILE, --enable or --disable.")
    client = get_client(ctx)
    if config_file is not None:
        changed = client.update_monitor(name, config=_read_config(config_file), enabled=enable)
    else:
        changed = client.update_monitor(name, enabled=enable)
    _show(changed, as_json, "updated")


@app.command("delete")
def delete(ctx: typer.Context, name: NameArgument) -> None:
    """Delete a monitor with its results and alerts."""
    get_client(ctx).delete_monitor(name)
    console.print(f"deleted monitor {name!r}")


def _run_monitor(ctx: typer.Context, name: str) -> dict[str, Any]:
    client, settings = get_client(ctx), get_settings(ctx)
    transport = client.transport
    # A server runs monitors with its own engine setting; on a local store the CLI hands the
    # monitoring service the reader its settings name.
    from mlpilot.spark.monitor_engine import monitor_log_reader  # loads the monitoring stack: not at start-up

    reader = monitor_log_reader(settings)
    if reader is None or not isinstance(transport, LocalTransport):
        return client.run_monitor(name)
    from mlpilot.monitoring.runner import run_monitor

    done = run_monitor(
        transport.db,
        transport.content,
        name,
        predictions_root=transport.predictions_uri,
        cache_root=transport.model_cache,
        reader=reader,
    )
    return done.to_dict()


@app.command("run")
def run(
    ctx: typer.Context,
    name: NameArgument,
    fail_on_alert: Annotated[
        bool, typer.Option("--fail-on-alert", help="Exit 1 when a condition holds (for CI and cron).")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Evaluate the latest window now: store the result, open or resolve alerts, call webhooks."""
    outcome = _run_monitor(ctx, name)
    result = outcome["result"]
    if as_json:
        print_json(outcome)
    else:
        _summary(result)
        for key, verb in (("opened", "opened"), ("resolved", "resolved")):
            for alert in outcome.get(key, []):
                console.print(f"alert {verb}: {alert['condition']}: {alert['message']}")
        for delivery in outcome.get("deliveries", []):
            if not delivery.get("delivered"):
                console.print(f"[yellow]webhook not delivered: {delivery.get('error')}[/yellow]")
    if fail_on_alert and result.get("status") == "alert":
        raise typer.Exit(1)


@app.command("results")
def results(
    ctx: typer.Context,
    name: NameArgument,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="How many, newest first.")] = 20,
    as_json: JsonFlag = False,
) -> None:
    """The monitor's latest results, newest first."""
    found = get_client(ctx).monitor_results(name, limit=limit)
    if as_json:
        print_json(found)
        return
    print_table(
        f"Results of {name}",
        ["when", "status", "rows", "drift share", "drifted", "live accuracy", "estimated accuracy", "p99 ms"],
        ([format_ms(r.get("created_at")), r.get("status"), *_row_figures(r)] for r in found),
    )


@app.command("alerts")
def alerts(
    ctx: typer.Context,
    monitor: Annotated[str | None, typer.Option("--monitor", "-m", help="Only this monitor's.")] = None,
    deployment: Annotated[str | None, typer.Option("--deployment", "-d", help="Only this deployment's.")] = None,
    state: Annotated[str | None, typer.Option("--state", help="open or resolved.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Alerts, newest first."""
    found = get_client(ctx).alerts(monitor=monitor, deployment=deployment, state=state)
    if as_json:
        print_json(found)
        return
    _alerts_table(found, "Alerts")


@app.command("report")
def report(
    ctx: typer.Context,
    deployment: Annotated[str, typer.Argument(help="The deployment to report on.")],
    html: Annotated[Path, typer.Option("--html", help="Write the self-contained HTML report here.")],
    monitor: Annotated[str | None, typer.Option("--monitor", "-m", help="Its monitor (default: the first).")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="Results to chart, newest.")] = 48,
) -> None:
    """A self-contained HTML report (charts inline, nothing fetched) of a deployment's monitoring."""
    client = get_client(ctx)
    if monitor is None:
        watching = client.list_monitors(deployment=deployment)
        if not watching:
            raise InvalidInput(
                f"no monitor watches deployment {deployment!r}",
                hint=f"Create one with `mlpilot monitors create NAME --deployment {deployment}`.",
            )
        monitor = watching[0].name
    from mlpilot.monitoring.report import render_report  # pandas comes with monitoring: load it when used

    found = list(reversed(client.monitor_results(monitor, limit=limit)))
    page = render_report(deployment, found, client.alerts(monitor=monitor))
    try:
        html.write_text(page, encoding="utf-8")
    except OSError as problem:
        raise InvalidInput(f"cannot write {html}: {problem.strerror}", hint="Check the folder exists.") from None
    console.print(f"wrote {html} ({len(found)} results of monitor {monitor!r})")


@app.command("reference")
def reference(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="NAME/VERSION or NAME@ALIAS.")],
    fit: Annotated[bool, typer.Option("--fit", help="Fit it now from the run's training dataset.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """A model version's reference profile: what its monitors compare live data with."""
    client = get_client(ctx)
    found = client.fit_reference(model) if fit else client.get_reference(model)
    if as_json:
        print_json(found)
        return
    console.print(
        f"reference of {found['model']}/{found['version']}: {found.get('dataset') or 'given data'}, "
        f"{found['rows']} rows, task {found.get('task') or 'unknown'}"
    )
    print_table(
        None,
        ["column", "kind", "count", "nulls", "distinct", "mean", "std"],
        (
            [
                name,
                c.get("kind"),
                c.get("count"),
                c.get("nulls"),
                c.get("distinct", len(c.get("counts") or {})),
                format_value(c.get("mean")),
                format_value(c.get("std")),
            ]
            for name, c in found["columns"].items()
        ),
    )


def _row_figures(result: dict[str, Any]) -> list[Any]:
    drift = result.get("drift") or {}
    performance = result.get("performance") or {}
    live = ((performance.get("live") or {}).get("metrics") or {}).get("accuracy")
    estimated = ((performance.get("estimated") or {}).get("metrics") or {}).get("accuracy")
    latency = (result.get("latency_ms") or {}).get("p99")
    return [
        (result.get("window") or {}).get("rows"),
        format_value(drift.get("share")),
        ", ".join(drift.get("drifted_columns") or []),
        format_value(live),
        format_value(estimated),
        format_value(latency),
    ]


def _summary(result: dict[str, Any]) -> None:
    window = result.get("window") or {}
    console.print(
        f"{result.get('monitor')}: {result.get('status')} over {window.get('spec')} ending "
        f"{format_ms(window.get('end'))} ({window.get('rows', 0)} rows)"
        + (f" - {result['message']}" if result.get("message") else "")
    )
    drift = result.get("drift")
    if drift:
        print_table(
            "Drift",
            ["column", "method", "statistic", "p-value", "threshold", "verdict", "note"],
            (
                [
                    f["column"],
                    f.get("method"),
                    format_value(f.get("statistic")),
                    format_value(f.get("p_value")),
                    format_value(f.get("threshold")),
                    f.get("verdict"),
                    f.get("message") or "",
                ]
                for f in drift.get("features", [])
            ),
        )
    performance = result.get("performance") or {}
    rows = []
    for source in ("live", "estimated"):
        for metric, value in ((performance.get(source) or {}).get("metrics") or {}).items():
            rows.append([source, metric, format_value(value)])
    rows.extend(
        ["offline", metric, format_value(value)] for metric, value in (performance.get("offline") or {}).items()
    )
    if rows:
        print_table("Performance", ["source", "metric", "value"], rows)
    if result.get("conditions"):
        print_table(
            "Conditions",
            ["condition", "value", "threshold", "holds", "message"],
            (
                [
                    c["condition"],
                    format_value(c.get("value")),
                    format_value(c.get("threshold")),
                    c["breached"],
                    c["message"],
                ]
                for c in result["conditions"]
            ),
        )


def _alerts_table(found: list[dict[str, Any]], title: str) -> None:
    print_table(
        title,
        ["id", "monitor", "condition", "state", "opened", "resolved", "message"],
        (
            [
                a["id"],
                a["monitor"],
                a["condition"],
                a["state"],
                format_ms(a["opened_at"]),
                format_ms(a.get("resolved_at")),
                a["message"],
            ]
            for a in found
        ),
    )


def _show(monitor: Monitor, as_json: bool, verb: str | None) -> None:
    if as_json:
        print_json(monitor.to_dict())
        return
    if verb is not None:
        console.print(f"{verb} monitor {monitor.name!r} on deployment {monitor.deployment!r}")
    print_table(
        None,
        ["field", "value"],
        [
            ["name", monitor.name],
            ["deployment", monitor.deployment],
            ["enabled", monitor.enabled],
            ["last run", format_ms(monitor.last_run_at)],
            ["config", json.dumps(monitor.config.to_dict(secrets=False), sort_keys=True)],
        ],
    )
