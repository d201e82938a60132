"""DORA metrics through the client, on both transports and both stores: the same report for the
same history, moments given as text or epoch ms, and the same errors."""

from __future__ import annotations

import pytest

from mlpilot.client import Client
from mlpilot.errors import InvalidInput, NotFound
from mlpilot.store.clock import now_ms
from tests.ops.factories import DEPLOYMENT, seed_history


def test_the_report_of_a_history(client: Client) -> None:
    before = now_ms()
    first, second = seed_history(client)
    report = client.dora(since="1h")
    assert [(c["deployment"], c["version"], c["cause"]) for c in report["changes"]] == [
        (DEPLOYMENT, first, "planned"),
        (DEPLOYMENT, second, "planned"),
        (DEPLOYMENT, first, "rollback"),
    ]
    assert report["metrics"]["change_fail_rate"]["failed"] == 1
    assert report["bands_year"] == 2024
    # Epoch ms and text name the same window; a window before the history is empty.
    assert len(client.dora(since=before - 1, until=now_ms() + 60_000, deployment=DEPLOYMENT)["changes"]) == 3
    assert client.dora(until=before - 60_000)["changes"] == []


def test_bad_input(client: Client) -> None:
    with pytest.raises(InvalidInput, match="since"):
        client.dora(since="last tuesday")
    with pytest.raises(InvalidInput, match="until"):
        client.dora(until=-5)
    with pytest.raises(InvalidInput, match="after until"):
        client.dora(since="2024-05-02", until="2024-05-01")
    with pytest.raises(NotFound, match="ghost"):
        client.dora(deployment="ghost")


def test_an_empty_store(client: Client) -> None:
    report = client.dora()
    assert report["changes"] == [] and report["window_start"] is None
    assert {metric["band"]["level"] for metric in report["metrics"].values()} == {"n/a"}
