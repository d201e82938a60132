"""A monitoring report for one deployment as a single self-contained HTML page.

The page is meant to be mailed, attached to a ticket or archived next to a model version, so it
carries everything inline: CSS in a ``<style>`` element and charts as SVG drawn here, with no
script and no URL. It reads the stored monitor results as plain mappings (the JSON the monitor
store keeps), tolerating any missing part, because old runs and failed runs are part of the story.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from mlpilot.errors import InvalidInput
from mlpilot.monitoring.drift import DEFAULT_DRIFT_SHARE
from mlpilot.monitoring.svg import NO_VALUE, Cell, Rule, Series, fmt, fmt_time, heatmap, line_chart
from mlpilot.store.clock import now_ms

__all__ = ["render_report"]

_STATUSES = ("ok", "alert", "not_enough_data", "error")
_VERDICTS = ("drift", "no_drift", "not_enough_data", "missing", "error")
_BLUE, _ORANGE, _GREY, _RED, _PURPLE = "#2563eb", "#d97706", "#4b5563", "#dc2626", "#7c3aed"
_CSS = """
:root{--fg:#1f2937;--muted:#6b7280;--line:#e5e7eb;--ok:#047857;--alert:#b91c1c;--wait:#6b7280;--error:#7c3aed}
*{box-sizing:border-box}
body{margin:0;background:#f9fafb;color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:1080px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 6px}h2{font-size:16px;margin:0 0 12px}
.meta{color:var(--muted);margin:2px 0}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:16px 20px;margin:16px 0;overflow-x:auto}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600;font-size:12px;text-transform:uppercase;letter-spacing:.03em}
td.num{text-align:right;white-space:nowrap}
table.pairs th{width:14em}
tr.hot td{background:#fef2f2}
.badge{display:inline-block;padding:1px 9px;border-radius:999px;font-size:12px;font-weight:600;color:#fff}
.badge{background:var(--wait)}
.badge.ok,.badge.no_drift,.badge.resolved{background:var(--ok)}
.badge.alert,.badge.drift,.badge.open{background:var(--alert)}
.badge.error,.badge.missing{background:var(--error)}
.notice{border-left:4px solid var(--wait);background:#f3f4f6;padding:8px 12px;margin:12px 0}
.notice.error{border-color:var(--error);background:#f5f3ff}
.note{color:var(--muted);font-size:12px}
svg{display:block;max-width:100%;height:auto}
svg text{font:11px system-ui,sans-serif;fill:#4b5563}
"""


def render_report(
    deployment: str,
    results: Sequence[Mapping[str, Any]],
    alerts: Sequence[Mapping[str, Any]] = (),
    *,
    title: str | None = None,
    generated_at_ms: int | None = None,
) -> str:
    """The HTML page for ``deployment``'s monitor ``results`` (any order) and ``alerts``."""
    if not isinstance(deployment, str) or not deployment.strip():
        raise InvalidInput("deployment must be a non-empty string")
    for what, items in (("result", results), ("alert", alerts)):
        if isinstance(items, (str, bytes, Mapping)) or any(not isinstance(item, Mapping) for item in items):
            raise InvalidInput(f"each {what} must be a mapping (one stored monitor {what}), in a list")
    runs = sorted(results, key=_run_time)
    heading = title if title is not None else f"Monitoring report · {deployment}"
    generated = now_ms() if generated_at_ms is None else generated_at_ms
    body = [_header(heading, deployment, runs[-1] if runs else None, generated)]
    if not runs:
        body.append(
            "<section><h2>No results</h2><p>There are no monitor results for this deployment yet.</p></section>"
        )
    else:
        latest = runs[-1]
        body += [_summary(latest), _drift_heatmap(runs), _drift_share_chart(runs), _quality_chart(runs)]
        body += [_latency_chart(runs), _feature_table(runs)]
    body.append(_alerts_table(alerts))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(heading)}</title><style>{_CSS}</style></head>\n"
        "<body><main>\n" + "\n".join(body) + "\n</main></body></html>\n"
    )


def _get(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _seq(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else []


def _f(value: Any) -> str:
    return fmt(_num(value))


def _text(value: Any) -> str:
    return NO_VALUE if value is None or value == "" else escape(str(value))


def _run_time(run: Mapping[str, Any]) -> float:
    return _num(_get(run, "window", "end")) or _num(run.get("created_at")) or 0.0


def _badge(value: Any, known: Sequence[str]) -> str:
    kind = value if value in known else "unknown"  # the class name never carries user text
    return f'<span class="badge {kind}">{_text(value)}</span>'


def _table(headers: Sequence[str], rows: Sequence[tuple[Sequence[str], bool]], numeric: set[int]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    lines = []
    for cells, hot in rows:
        tds = "".join(f"<td{' class=num' if i in numeric else ''}>{cell}</td>" for i, cell in enumerate(cells))
        lines.append(f"<tr{' class=hot' if hot else ''}>{tds}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(lines)}</tbody></table>"


def _header(heading: str, deployment: str, latest: Mapping[str, Any] | None, generated: int) -> str:
    lines = [f"<header><h1>{escape(heading)}</h1>", f'<p class="meta">Deployment <strong>{escape(deployment)}</strong>']
    if latest is not None:
        model, version = latest.get("model"), latest.get("version")
        lines.append(f" · model {_text(model)} version {_text(version)} · monitor {_text(latest.get('monitor'))}")
        window = latest.get("window")
        lines.append(
            f" · window {_text(_get(window, 'spec'))} ({fmt_time(_num(_get(window, 'start')))} → "
            f"{fmt_time(_num(_get(window, 'end')))}, {_f(_get(window, 'rows'))} rows)"
        )
    lines.append(f'</p><p class="meta">Generated {fmt_time(generated)}')
    if latest is not None:
        lines.append(f" · latest run {_badge(latest.get('status'), _STATUSES)}")
    lines.append("</p></header>")
    return "".join(lines)


def _summary(latest: Mapping[str, Any]) -> str:
    parts = ["<section><h2>Latest run</h2>"]
    status, message = latest.get("status"), latest.get("message")
    if status in ("error", "not_enough_data") or message:
        kind = "error" if status == "error" else "wait"
        parts.append(f'<p class="notice {kind}">{_badge(status, _STATUSES)} {_text(message)}</p>')
    drift, latency = latest.get("drift"), latest.get("latency_ms")
    drifted = _seq(_get(drift, "drifted_columns"))
    breached = [c for c in _seq(latest.get("conditions")) if isinstance(c, Mapping) and c.get("breached")]
    rows = [
        ("Reference", f"{_text(_get(latest, 'reference', 'dataset'))} ({_f(_get(latest, 'reference', 'rows'))} rows)"),
        ("Dataset drift share", _share_text(drift)),
        ("Drifted columns", ", ".join(escape(str(c)) for c in drifted) if drifted else "none"),
        ("Latency p50 / p99", f"{_f(_get(latency, 'p50'))} / {_f(_get(latency, 'p99'))} ms" if latency else NO_VALUE),
        ("Labelled rows", _f(_get(latest, "performance", "labelled_rows"))),
        ("Breached conditions", "<br>".join(_text(c.get("message") or c.get("condition")) for c in breached) or "none"),
    ]
    pairs = "".join(f"<tr><th>{escape(key)}</th><td>{value}</td></tr>" for key, value in rows)
    parts.append(f'<table class="pairs"><tbody>{pairs}</tbody></table>')
    parts.append(_metrics_table(_get(latest, "performance")))
    parts.append("</section>")
    return "".join(parts)


def _share_text(drift: Any) -> str:
    if not isinstance(drift, Mapping):
        return "no drift result"
    share, limit, tested = _num(drift.get("share")), _num(drift.get("drift_share")), drift.get("tested")
    drifted = drift.get("dataset_drifted")
    verdict = " — dataset drifted" if drifted is True else " — not drifted" if drifted is False else ""
    return f"{fmt(share)} of {_f(tested)} tested columns (alert at {fmt(limit)}){verdict}"


def _metrics_table(performance: Any) -> str:
    live, estimated = _map(_get(performance, "live", "metrics")), _map(_get(performance, "estimated", "metrics"))
    errors, offline = _map(_get(performance, "estimated", "sampling_error")), _map(_get(performance, "offline"))
    names = list(dict.fromkeys([*live, *estimated, *offline]))
    if not names:
        return '<p class="note">No performance figures: no labels joined and no estimate in this run.</p>'
    rows = []
    for name in names:
        est, se = _num(_get(estimated, name)), _num(_get(errors, name))
        band = f" ± {fmt(3 * se)}" if est is not None and se is not None else ""
        cells = (_text(name), _f(_get(live, name)), fmt(est) + band, _f(_get(offline, name)))
        rows.append((cells, False))
    return _table(("metric", "live", "estimated (± 3 SE)", "offline"), rows, {1, 2, 3})


def _ratio(feature: Mapping[str, Any]) -> float | None:
    """The statistic relative to its threshold: above 1 is past the threshold, for both kinds of test."""
    if feature.get("verdict") not in ("drift", "no_drift"):
        return None
    threshold = _num(feature.get("threshold"))
    adjusted = _num(feature.get("p_value_adjusted"))
    p_value = adjusted if adjusted is not None else _num(feature.get("p_value"))
    if feature.get("test") == "p_value" or (feature.get("test") is None and p_value is not None):
        if p_value is None or threshold is None or not 0 < threshold < 1:
            return None
        return -math.log10(max(p_value, 1e-300)) / -math.log10(threshold)
    statistic = _num(feature.get("statistic"))
    if statistic is None or threshold is None:
        return None
    return statistic / threshold if threshold > 0 else (math.inf if statistic > 0 else 0.0)


def _features(run: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    found = _seq(_get(run, "drift", "features"))
    return {str(f.get("column")): f for f in found if isinstance(f, Mapping)}


def _drift_heatmap(runs: Sequence[Mapping[str, Any]]) -> str:
    per_run = [_features(run) for run in runs]
    # The latest run's order first, so the rows read like the per-feature table below.
    names = list(dict.fromkeys(name for features in reversed(per_run) for name in features))
    if not names:
        return "<section><h2>Drift by feature</h2><p>No run has a drift result yet.</p></section>"
    cells = []
    for name in names:
        row = []
        for run, features in zip(runs, per_run, strict=True):
            when = fmt_time(_run_time(run))
            feature = features.get(name)
            if feature is None:
                row.append(Cell(None, False, f"{name} · {when} · not tested ({run.get('status') or 'no result'})"))
                continue
            statistic = f"{feature.get('method') or 'statistic'} {_f(feature.get('statistic'))}"
            extra = f" · p {_f(feature.get('p_value'))}" if feature.get("p_value") is not None else ""
            message = f": {feature['message']}" if feature.get("message") else ""
            verdict = f"{feature.get('verdict') or 'no verdict'}{message}"
            hover = f"{name} · {when} · {statistic}{extra} (threshold {_f(feature.get('threshold'))}) · {verdict}"
            row.append(Cell(_ratio(feature), feature.get("drifted") is True, hover))
        cells.append(row)
    chart = heatmap("Drift by feature over runs", names, [_run_time(run) for run in runs], cells)
    note = (
        '<p class="note">Colour: statistic ÷ threshold for distances, '
        "&minus;log10(p) ÷ &minus;log10(threshold) for tests; "
        "a dot marks a drifted column. Hover a cell for its figures.</p>"
    )
    return f"<section><h2>Drift by feature</h2>{chart}{note}</section>"


def _drift_share_chart(runs: Sequence[Mapping[str, Any]]) -> str:
    points = [(_run_time(run), _num(_get(run, "drift", "share"))) for run in runs]
    limits = [_num(_get(run, "drift", "drift_share")) for run in runs]
    limit = next((value for value in reversed(limits) if value is not None), DEFAULT_DRIFT_SHARE)
    chart = line_chart(
        "Dataset drift share",
        [Series("drift share", points, _BLUE)],
        rules=[Rule(f"alert at {fmt(limit)}", limit, _RED)],
        y_min=0.0,
        y_max=1.0,
    )
    return f"<section><h2>Dataset drift share</h2>{chart}</section>"


def _quality_metric(runs: Sequence[Mapping[str, Any]]) -> str | None:
    for part in ("live", "estimated"):
        available = [
            name
            for run in reversed(runs)
            for name, value in _map(_get(run, "performance", part, "metrics")).items()
            if _num(value) is not None
        ]
        if available:
            return "accuracy" if "accuracy" in available else available[0]
    return None


def _quality_chart(runs: Sequence[Mapping[str, Any]]) -> str:
    metric = _quality_metric(runs)
    if metric is None:
        return "<section><h2>Model quality</h2><p>No run has live or estimated performance yet.</p></section>"
    live, estimated, band = [], [], []
    for run in runs:
        x, performance = _run_time(run), _get(run, "performance")
        live.append((x, _num(_get(performance, "live", "metrics", metric))))
        value = _num(_get(performance, "estimated", "metrics", metric))
        error = _num(_get(performance, "estimated", "sampling_error", metric))
        estimated.append((x, value))
        if value is not None and error is not None:
            band.append((x, value - 3 * error, value + 3 * error))
    offline = [_num(_get(run, "performance", "offline", metric)) for run in runs]
    reference = next((value for value in reversed(offline) if value is not None), None)
    rules = [] if reference is None else [Rule(f"offline {fmt(reference)}", reference, _GREY)]
    series = [
        Series(f"live {metric}", live, _BLUE),
        Series(f"estimated {metric} ± 3 SE", estimated, _ORANGE, True, band),
    ]
    chart = line_chart(f"{metric}: live, estimated and offline", series, rules=rules)
    return f"<section><h2>Model quality: {escape(metric)}</h2>{chart}</section>"


def _latency_chart(runs: Sequence[Mapping[str, Any]]) -> str:
    series = [
        Series(name, [(_run_time(run), _num(_get(run, "latency_ms", name))) for run in runs], colour)
        for name, colour in (("p50", _BLUE), ("p99", _PURPLE))
    ]
    chart = line_chart("Latency (ms)", series, unit=" ms", y_min=0.0)
    return f"<section><h2>Latency</h2>{chart}</section>"


def _feature_table(runs: Sequence[Mapping[str, Any]]) -> str:
    chosen = next((run for run in reversed(runs) if _features(run)), None)
    if chosen is None:
        return "<section><h2>Features</h2><p>No run has per-feature drift results yet.</p></section>"
    note = (
        ""
        if chosen is runs[-1]
        else f'<p class="note">From the run of {fmt_time(_run_time(chosen))}, the latest with drift results.</p>'
    )
    rows = []
    for feature in _features(chosen).values():
        p_value, adjusted = _num(feature.get("p_value")), _num(feature.get("p_value_adjusted"))
        p_text = fmt(p_value) + (f" (adjusted {fmt(adjusted)})" if adjusted is not None and adjusted != p_value else "")
        cells = (
            _text(feature.get("column")),
            _text(feature.get("kind")),
            _text(feature.get("method")),
            _f(feature.get("statistic")),
            p_text,
            _f(feature.get("threshold")),
            _badge(feature.get("verdict"), _VERDICTS),
            _text(feature.get("message")),
        )
        rows.append((cells, feature.get("drifted") is True))
    headers = ("column", "kind", "method", "statistic", "p-value", "threshold", "verdict", "message")
    return f"<section><h2>Features</h2>{note}{_table(headers, rows, {3, 4, 5})}</section>"


def _alerts_table(alerts: Sequence[Mapping[str, Any]]) -> str:
    if not alerts:
        return "<section><h2>Alerts</h2><p>No alerts.</p></section>"
    ordered = sorted(alerts, key=lambda a: (a.get("state") != "open", -(_num(a.get("updated_at")) or 0.0)))
    rows = []
    for alert in ordered:
        cells = (
            _badge(alert.get("state"), ("open", "resolved")),
            _text(alert.get("condition")),
            _text(alert.get("monitor")),
            _f(alert.get("value")),
            _f(alert.get("threshold")),
            _text(alert.get("message")),
            fmt_time(_num(alert.get("opened_at"))),
            fmt_time(_num(alert.get("resolved_at"))),
        )
        rows.append((cells, alert.get("state") == "open"))
    headers = ("state", "condition", "monitor", "value", "threshold", "message", "opened", "resolved")
    return f"<section><h2>Alerts</h2>{_table(headers, rows, {3, 4})}</section>"
