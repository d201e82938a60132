"""The HTML monitoring report: well-formed, self-contained, escaped, and complete for odd runs."""

from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser
from typing import Any

import pytest

from mlpilot.errors import InvalidInput
from mlpilot.monitoring.report import render_report
from mlpilot.monitoring.svg import fmt, ratio_colour

START = 1_763_800_000_000
HOUR = 3_600_000
EVIL = "<script>alert(1)</script>"
FEATURES = ["age", "plan", "income", EVIL]
VOID = {"meta", "br", "hr", "img", "input", "link", "col", "wbr"}


def _feature(column: str, run: int) -> dict[str, Any]:
    if column == "plan":  # a chi-square test: p-values, not distances
        p_value = 0.3 if run < 3 else 1e-6
        return {
            "column": column,
            "kind": "categorical",
            "method": "chisquare",
            "test": "p_value",
            "statistic": 2.0 + 10 * run,
            "p_value": p_value,
            "p_value_adjusted": None,
            "threshold": 0.05,
            "drifted": p_value < 0.05,
            "verdict": "drift" if p_value < 0.05 else "no_drift",
            "reference_rows": 50_000,
            "current_rows": 1234,
            "message": None,
        }
    statistic = 0.02 + (0.06 * run if column == "age" else 0.0)  # age drifts a little more every run
    return {
        "column": column,
        "kind": "numerical",
        "method": "wasserstein",
        "test": "distance",
        "statistic": statistic,
        "p_value": None,
        "p_value_adjusted": None,
        "threshold": 0.1,
        "drifted": statistic >= 0.1,
        "verdict": "drift" if statistic >= 0.1 else "no_drift",
        "reference_rows": 50_000,
        "current_rows": 1234,
        "message": None,
    }


def _result(run: int, *, status: str = "ok", features: list[str] = FEATURES) -> dict[str, Any]:
    end = START + (run + 1) * HOUR
    rows = [_feature(column, run) for column in features]
    drifted = [row["column"] for row in rows if row["drifted"]]
    share = len(drifted) / len(rows)
    return {
        "monitor": "churn-watch",
        "deployment": "churn-api",
        "model": "churn",
        "version": 3,
        "status": "alert" if drifted and status == "ok" else status,
        "message": None,
        "window": {"spec": "1h", "start": end - HOUR, "end": end, "rows": 1234},
        "reference": {"dataset": "churn-train:2", "rows": 50_000, "task": "classification"},
        "drift": {
            "dataset_drifted": share >= 0.5,
            "share": share,
            "drift_share": 0.5,
            "drifted_columns": drifted,
            "tested": len(rows),
            "correction": None,
            "min_rows": 100,
            "reference_rows": 50_000,
            "current_rows": 1234,
            "features": rows,
        },
        "performance": {
            "labelled_rows": 800,
            "live": {
                "task": "classification",
                "rows": 800,
                "metrics": {"accuracy": 0.91 - 0.01 * run, "f1": 0.89, "roc_auc": 0.95},
                "notes": {},
            },
            "estimated": {
                "rows": 1234,
                "metrics": {"accuracy": 0.92 - 0.01 * run, "precision": None, "f1": 0.9},
                "sampling_error": {"accuracy": 0.008, "precision": None, "f1": 0.01},
                "calibrated": True,
                "assumptions": ["no concept drift"],
                "notes": {},
            },
            "offline": {"accuracy": 0.93},
        },
        "latency_ms": {"p50": 3.1 + run, "p95": 8.0, "p99": 12.5 + 2 * run, "mean": 3.9},
        "conditions": [
            {
                "condition": "drift_share",
                "value": share,
                "threshold": 0.5,
                "breached": share >= 0.5,
                "message": f"{share:.2f} of tested columns drifted (alert at 0.5)",
            }
        ],
        "created_at": end + 123,
    }


def _odd_runs() -> list[dict[str, Any]]:
    thin = _result(4) | {"status": "not_enough_data", "message": "12 rows in the window; 100 needed", "drift": None}
    thin["performance"] = None
    failed = _result(5) | {"status": "error", "message": "reference dataset churn-train:2 is gone", "drift": None}
    failed |= {"performance": None, "latency_ms": None, "conditions": []}
    return [thin, failed]


def _alerts() -> list[dict[str, Any]]:
    base = {"monitor": "churn-watch", "deployment": "churn-api", "threshold": 0.1}
    return [
        base
        | {"id": 1, "condition": "feature_drift:plan", "state": "resolved", "value": 0.02, "message": "plan ok"}
        | {"opened_at": START, "updated_at": START + HOUR, "resolved_at": START + HOUR},
        base
        | {"id": 2, "condition": "feature_drift:age", "state": "open", "value": 0.26, "message": "age drifted"}
        | {"opened_at": START + 2 * HOUR, "updated_at": START + 4 * HOUR, "resolved_at": None},
    ]


class _Checker(HTMLParser):
    """Collects start tags and checks every non-void element is closed in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: Counter[str] = Counter()
        self.cells = 0
        self.svg_depth = 0
        self.cells_in_svg: list[int] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        if tag == "svg":
            self.cells_in_svg.append(0)
        if tag == "g" and ("class", "cell") in attrs:
            self.cells_in_svg[-1] += 1
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _Checker:
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert checker.errors == []
    assert checker.stack == []
    return checker


def _no_urls(page: str) -> None:
    assert "http://" not in page
    assert "https://" not in page
    assert not re.search(r"<script\b", page, re.IGNORECASE)
    assert not re.search(r"\b(src|href)\s*=", page, re.IGNORECASE)


def test_a_full_report_is_well_formed_self_contained_and_has_every_chart() -> None:
    runs = [_result(i) for i in range(4)] + _odd_runs()
    page = render_report("churn-api", list(reversed(runs)), _alerts(), generated_at_ms=START + 9 * HOUR)
    parsed = _parse(page)
    _no_urls(page)
    assert page.startswith("<!DOCTYPE html>")
    for tag in ("html", "head", "body", "main", "header", "style"):
        assert parsed.tags[tag] == 1, tag
    # heatmap, drift share, model quality, latency
    assert parsed.tags["svg"] == 4
    assert parsed.cells_in_svg[0] == len(FEATURES) * len(runs)
    assert sum(parsed.cells_in_svg[1:]) == 0
    text = " ".join(parsed.text)
    assert "Generated 2025-11-22 17:26:40 UTC" in text
    assert "model churn version 3" in text
    assert "reference dataset churn-train:2 is gone" in text  # the latest run failed: say why
    assert "From the run of" in text  # so the feature table shows the latest run that has drift results


def test_user_text_is_escaped_everywhere() -> None:
    runs = [_result(i) for i in range(3)]
    alerts = [_alerts()[1] | {"message": EVIL, "condition": f"feature_drift:{EVIL}"}]
    page = render_report(EVIL, runs, alerts, title=f"Report {EVIL}")
    assert EVIL not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    parsed = _parse(page)
    assert parsed.tags["script"] == 0
    assert EVIL in " ".join(parsed.text)  # shown to the reader as text
    _no_urls(page)


def test_urls_the_user_supplied_are_shown_as_text_only() -> None:
    runs = [_result(0) | {"status": "error", "message": "cannot read https://example.com/ref.parquet", "drift": None}]
    page = render_report("churn-api", runs)
    assert page.count("https://") == 1
    assert "cannot read https://example.com/ref.parquet" in page
    assert "href" not in page and "src=" not in page


def test_no_results_yet() -> None:
    page = render_report("churn-api", [], generated_at_ms=START)
    parsed = _parse(page)
    _no_urls(page)
    assert "no monitor results for this deployment yet" in page
    assert parsed.tags["svg"] == 0
    assert "No alerts." in page


def test_runs_with_only_failures_still_render() -> None:
    page = render_report("churn-api", _odd_runs(), _alerts())
    parsed = _parse(page)
    assert "No run has a drift result yet" in page
    assert "No run has live or estimated performance yet" in page
    assert parsed.tags["svg"] == 2  # drift share and latency charts, empty but present
    assert "no data yet" in page


def test_summary_shows_the_latest_run_side_by_side() -> None:
    page = render_report("churn-api", [_result(0), _result(3)])
    text = " ".join(_parse(page).text)
    assert "0.5 of 4 tested columns (alert at 0.5) — dataset drifted" in text
    assert "Drifted columns age, plan" in text
    assert "6.1 / 18.5 ms" in text  # p50 / p99 of the later run
    assert "0.89 ± 0.024" in text  # estimated accuracy and its 3-sigma band
    assert "0.93" in text  # offline accuracy
    # the open alert sorts before the resolved one
    page = render_report("churn-api", [_result(0)], _alerts())
    assert page.index("age drifted") < page.index("plan ok")


def test_odd_field_types_do_not_break_the_page() -> None:
    run = _result(1) | {"status": "<b>new</b>", "window": {"end": 1e30, "spec": None}, "conditions": "none"}
    run["drift"] = {"features": "age", "drifted_columns": "age", "share": float("nan")}
    run["performance"] = {"live": ["accuracy"], "estimated": {"metrics": {"accuracy": "high"}}}
    page = render_report("churn-api", [run, _result(0)], [{"state": None}])
    _parse(page)
    assert "&lt;b&gt;new&lt;/b&gt;" in page
    assert 'class="badge unknown"' in page


def test_a_regression_monitor_charts_its_first_live_metric() -> None:
    run = _result(0)
    run["performance"] = {"labelled_rows": 50, "live": {"metrics": {"mae": 1.5, "rmse": 2.0}}, "offline": {"mae": 1.2}}
    page = render_report("churn-api", [run])
    assert "Model quality: mae" in page
    assert "offline 1.2" in page


def test_p_value_features_colour_by_log_ratio() -> None:
    page = render_report("churn-api", [_result(0), _result(3)])
    # plan at p=1e-6 and alpha 0.05: -log10 ratio 4.6, beyond the dark end of the scale
    assert f'fill="{ratio_colour(2.0)}"' in page
    assert ratio_colour(None) != ratio_colour(0.0)


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "—"), (0.123456, "0.123"), (12.5, "12.5"), (50_000, "50,000"), (1234.5, "1,234"), (1e-6, "1.00e-06")],
)
def test_numbers_read_easily(value: float | None, text: str) -> None:
    assert fmt(value) == text


def test_bad_input_is_refused() -> None:
    with pytest.raises(InvalidInput):
        render_report("", [])
    with pytest.raises(InvalidInput):
        render_report("churn-api", [["not", "a", "mapping"]])  # type: ignore[list-item]
