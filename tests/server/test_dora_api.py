"""DORA metrics through the platform server (``GET /api/v1/dora``), over plain HTTP, on SQLite and
PostgreSQL: the figures of a real history, the deployment filter, JSON errors for bad input, and
the key it needs."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

import mlpilot
from mlpilot.security.keys import create_key
from mlpilot.store import Database
from tests.conftest import LiveServer
from tests.ops.factories import DEPLOYMENT, seed_history


@pytest.fixture
def reader(live_server: LiveServer) -> Iterator[httpx.Client]:
    """An HTTP client with a key that may only read."""
    db = Database(live_server.settings.resolved_tracking_uri())
    try:
        secret = create_key(db, "reader", ["read"], actor="test")[1]
    finally:
        db.dispose()
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {secret}"}) as http:
        yield http


def test_the_metrics_of_a_history(live_server: LiveServer, reader: httpx.Client) -> None:
    with mlpilot.connect(live_server.url, api_key=live_server.admin_key) as client:
        first, second = seed_history(client)
    response = reader.get("/api/v1/dora", params={"since": "1h"})
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["bands_year"] == 2024 and report["deployment"] is None
    assert [(c["action"], c["version"], c["failed"]) for c in report["changes"]] == [
        ("created", first, False),
        ("promoted", second, True),
        ("rolled_back", first, False),
    ]
    metrics = report["metrics"]
    assert metrics["deployment_frequency"]["count"] == 3
    assert metrics["change_fail_rate"] | {"band": None} == {"failed": 1, "total": 3, "rate": 1 / 3, "band": None}
    assert metrics["change_fail_rate"]["band"]["level"] == "low"  # 33%: nearer low's typical 40% than high's 20%
    assert metrics["deployment_rework_rate"]["unplanned"] == 1
    assert metrics["failed_deployment_recovery_time"]["band"]["level"] == "elite"
    # The runs were made outside a git checkout: no commit time, so no lead time, and it says so.
    assert metrics["change_lead_time"]["excluded"] == 2 and metrics["change_lead_time"]["band"]["level"] == "n/a"
    assert list(report["by_deployment"]) == [DEPLOYMENT]

    only = reader.get("/api/v1/dora", params={"deployment": DEPLOYMENT, "until": "2999-01-01"}).json()
    assert only["deployment"] == DEPLOYMENT and len(only["changes"]) == 3
    past = reader.get("/api/v1/dora", params={"since": "2000-01-01", "until": "2000-01-02"}).json()
    assert past["changes"] == [] and past["metrics"]["deployment_frequency"]["band"]["level"] == "n/a"


@pytest.mark.parametrize(
    ("params", "status", "fragment"),
    [
        ({"since": "yesterday"}, 400, "since"),
        ({"until": "30x"}, 400, "until"),
        ({"since": "2024-05-02", "until": "2024-05-01"}, 400, "after until"),
        ({"since": "12"}, 400, "epoch"),
        ({"deployment": "ghost"}, 404, "ghost"),
    ],
)
def test_bad_input_is_a_json_error(reader: httpx.Client, params: dict[str, str], status: int, fragment: str) -> None:
    response = reader.get("/api/v1/dora", params=params)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert fragment in error["message"] and error["hint"]
    assert "Traceback" not in response.text


def test_a_key_is_needed(live_server: LiveServer) -> None:
    response = httpx.get(f"{live_server.url}/api/v1/dora")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"
