"""The monitoring page over real monitor results (calm and drifted windows run through
mlpilot's monitor runner): windows, drift shares, open and resolved alerts, latency."""

from __future__ import annotations

import re

from tests.server.ui.conftest import WINDOW_SHIFTS, Filled, sign_in


def test_the_monitor_ran_over_calm_and_drifted_windows(filled: Filled) -> None:
    assert len(filled.windows) == len(WINDOW_SHIFTS)
    drifted = [status for status, shift in zip(filled.windows, WINDOW_SHIFTS, strict=True) if shift]
    calm = [status for status, shift in zip(filled.windows, WINDOW_SHIFTS, strict=True) if not shift]
    assert set(drifted) == {"alert"} and set(calm) == {"ok"}


def test_the_page_lists_windows_and_alerts(filled: Filled) -> None:
    with sign_in(filled.url, filled.reader_key) as http:
        text = http.get("/monitoring?monitor=churn-watch").text
    windows = text[text.index("<h2>Windows</h2>") : text.index("<h2>Open alerts</h2>")]
    assert windows.count("<tr><td>2026-") == len(WINDOW_SHIFTS)
    assert windows.count('class="badge s-alert"') == 2 and windows.count('class="badge s-ok"') == 2
    assert re.search(r'<td class="num">0\.[0-9]+</td>', windows)  # drift shares
    opened = text[text.index("<h2>Open alerts</h2>") : text.index("<h2>Resolved alerts</h2>")]
    resolved = text[text.index("<h2>Resolved alerts</h2>") :]
    for section in (opened, resolved):
        assert "feature_drift:x1" in section and "drift_share" in section and "churn-watch" in section
    assert opened.count('class="badge s-open"') == 2 and resolved.count('class="badge s-resolved"') == 2
    # Both charts have data: the heatmap's features and the live accuracy series are in the figures.
    figures = re.findall(r'data-figure="([^"]+)"', text)
    assert len(figures) == 2
    assert "heatmap" in figures[0] and "proba:1" in figures[0]
    assert "live accuracy" in figures[1] and "estimated accuracy" in figures[1] and "offline accuracy" in figures[1]


def test_deployment_pages_show_the_monitor_latency(filled: Filled) -> None:
    with sign_in(filled.url, filled.reader_key) as http:
        listing = http.get("/deployments").text
        page = http.get("/deployments/churn-api").text
    assert '<td class="num">6</td>' in listing  # p50 and p99 of the logged 6 ms
    assert "Latency (ms) per monitor window" in page
