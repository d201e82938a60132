"""What the platform server does around MLflow's routes: oversized bodies refused in MLflow's error
shape (413) while /api/v1 keeps its own, one audit entry per write request named like the /api/v1
route doing the same thing, and the deploy scope for moving aliases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mlpilot.security.keys import create_key
from mlpilot.store import Database
from tests.conftest import LiveServer

API = "/api/2.0/mlflow"
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("mlflow-limits")
    live = LiveServer(
        f"sqlite:///{root / 'mlpilot.db'}",
        str(root / "artifacts"),
        root / "home",
        server_max_body_bytes=16_384,
        server_max_upload_bytes=40_000,
        server_rate_limit=0,
        monitor_tick_seconds=0,
        pipeline_tick_seconds=0,
    )
    live.start()
    yield live
    live.stop()


def _key(server: LiveServer, name: str, scopes: str) -> str:
    db = Database(server.settings.resolved_tracking_uri())
    try:
        return create_key(db, name, scopes, actor="test")[1]
    finally:
        db.dispose()


def _http(server: LiveServer, key: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def _run(http: httpx.Client) -> str:
    run_id: str = http.post(f"{API}/runs/create", json={"experiment_id": "0"}).json()["run"]["info"]["run_id"]
    return run_id


def _too_large(response: httpx.Response, limit: str) -> None:
    assert response.status_code == 413, response.text
    body = response.json()
    assert body["error_code"] == "INVALID_PARAMETER_VALUE", body
    assert f"limit of {limit} bytes" in body["message"] and "split the batch" in body["message"]


def test_an_oversized_body_gets_mlflows_error_shape(server: LiveServer) -> None:
    with _http(server, server.admin_key) as http:
        run_id = _run(http)
        batch = {"run_id": run_id, "params": [{"key": f"p{i}", "value": "x" * 200} for i in range(100)]}
        _too_large(http.post(f"{API}/runs/log-batch", json=batch), "16,384")
        _too_large(http.post("/ajax-api/2.0/mlflow/runs/log-batch", json=batch), "16,384")

        def chunks() -> Iterator[bytes]:  # no Content-Length: refused on the bytes received
            yield b'{"run_id": "' + run_id.encode() + b'", "key": "k", "value": "'
            for _ in range(40):
                yield b"y" * 500
            yield b'"}'

        _too_large(
            http.post(f"{API}/runs/log-parameter", content=chunks(), headers={"Content-Type": "application/json"}),
            "16,384",
        )
        # Artifact uploads have the larger upload limit, in the same shape past it.
        assert http.put(f"{ARTIFACTS}/0/{run_id}/artifacts/ok.bin", content=b"z" * 20_000).status_code == 200
        _too_large(http.put(f"{ARTIFACTS}/0/{run_id}/artifacts/big.bin", content=b"z" * 50_000), "40,000")
        stored = http.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]["data"]
        assert stored.get("params", []) == []
        listed = http.get(f"{API}/artifacts/list", params={"run_id": run_id}).json()["files"]
        assert [item["path"] for item in listed] == ["ok.bin"]
        # /api/v1 keeps mlpilot's shape.
        response = http.post(f"/api/v1/runs/{run_id}/params", json={"params": {"a": "x" * 20_000}})
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def _audit(http: httpx.Client, key_name: str) -> list[tuple[str, str]]:
    entries: list[dict[str, Any]] = http.get("/api/v1/audit", params={"limit": 1000}).json()
    return [(entry["action"], entry["target"]) for entry in reversed(entries) if entry["key_name"] == key_name]


def test_one_audit_entry_per_write_request_named_as_on_api_v1(server: LiveServer, tmp_path: Path) -> None:
    writer = _key(server, "trainer", "read,write")
    with _http(server, writer) as mlflow, _http(server, server.admin_key) as admin:
        run_id = _run(mlflow)
        for step in range(3):  # MLflow's log_metric: one request, so one entry, per call
            mlflow.post(f"{API}/runs/log-metric", json={"run_id": run_id, "key": "loss", "value": 1, "step": step})
        points = [{"key": "loss", "value": 0.5, "step": step} for step in range(3, 6)]
        assert mlflow.post(f"/api/v1/runs/{run_id}/metrics", json={"metrics": points}).status_code == 204
        many = [{"key": "acc", "value": 0.1, "timestamp": 1, "step": step} for step in range(200)]
        mlflow.post(f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": many})
        mlflow.post(f"/api/v1/runs/{run_id}/batch", json={"metrics": many[:10]})
        mlflow.post(f"{API}/runs/log-parameter", json={"run_id": run_id, "key": "alpha", "value": "1"})
        mlflow.post(f"{API}/runs/set-tag", json={"run_id": run_id, "key": "team", "value": "risk"})
        mlflow.put(f"{ARTIFACTS}/0/{run_id}/artifacts/notes/a.txt", content=b"hello")
        mlflow.get(f"{API}/runs/get", params={"run_id": run_id})  # a read: no entry
        mlflow.post(f"{API}/runs/update", json={"run_id": run_id, "status": "FINISHED"})
        # Refused writes leave no entry.
        late = mlflow.post(f"{API}/runs/log-parameter", json={"run_id": run_id, "key": "beta", "value": "1"})
        assert late.status_code == 400
        assert "mlflow.start_run() without run_id" in late.json()["message"]
        late_metric = mlflow.post(f"{API}/runs/log-metric", json={"run_id": run_id, "key": "loss", "value": 9})
        assert late_metric.status_code == 400, late_metric.text
        reopened = mlflow.post(f"{API}/runs/update", json={"run_id": run_id, "status": "RUNNING"})
        assert reopened.status_code == 400 and "cannot be resumed" in reopened.json()["message"]
        mlflow.post(f"{API}/runs/set-tag", json={"run_id": run_id, "key": "reviewed", "value": "yes"})

        assert _audit(admin, "trainer") == [
            ("run.create", "/runs"),
            *[("run.log_metrics", f"/runs/{run_id}/metrics")] * 4,
            *[("run.log_batch", f"/runs/{run_id}/batch")] * 2,
            ("run.log_params", f"/runs/{run_id}/params"),
            ("run.set_tags", f"/runs/{run_id}/tags"),
            ("artifact.upload", f"/runs/{run_id}/artifacts/notes/a.txt"),
            ("run.end", f"/runs/{run_id}/end"),
            ("run.set_tags", f"/runs/{run_id}/tags"),
        ]


def test_moving_an_alias_needs_the_deploy_scope_as_on_api_v1(server: LiveServer) -> None:
    body = {"name": "nobody", "alias": "production", "version": "1"}
    with _http(server, _key(server, "writer-only", "read,write")) as http:
        refused = http.post(f"{API}/registered-models/alias", json=body)
        assert refused.status_code == 403 and refused.json()["error_code"] == "PERMISSION_DENIED"
        deleted = http.request("DELETE", f"{API}/registered-models/alias", json=body)
        assert deleted.status_code == 403
    with _http(server, _key(server, "deployer", "read,deploy")) as http:
        missing = http.post(f"{API}/registered-models/alias", json=body)
        assert missing.status_code == 404 and missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
