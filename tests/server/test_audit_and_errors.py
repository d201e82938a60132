"""Every write through the server is audited (who, what, where; never the payload), and every
error is a JSON body with the right status and no traceback."""

from __future__ import annotations

import httpx
import pytest

import mlpilot
from mlpilot.errors import InvalidRequest, NotFound, Unauthorized
from tests.conftest import LiveServer


def test_writes_are_audited_with_the_key_and_without_payloads(live_server: LiveServer) -> None:
    with mlpilot.connect(live_server.url, api_key=live_server.admin_key) as admin:
        _, secret = admin.create_api_key("trainer", "read,write")
    with mlpilot.connect(live_server.url, api_key=secret) as client:
        with client.start_run("audited") as run:
            run.log_params({"password_like": "s3cret-value"})
            run.log_metric("acc", 0.5)
        client.get_run(run.id)
        client.search_runs("audited")
    with mlpilot.connect(live_server.url, api_key=live_server.admin_key) as admin:
        entries = admin.audit_log(limit=100)
    mine = [entry for entry in entries if entry.key_name == "trainer"]
    actions = {entry.action for entry in mine}
    assert {"experiment.create", "run.create", "run.log_params", "run.log_metrics", "run.end"} <= actions
    assert all(entry.actor == "key:trainer" for entry in mine)
    # One entry per write request: committed with the change, never again on its own.
    assert [entry.target for entry in mine if entry.action == "run.log_params"] == [f"/runs/{run.id}/params"]
    assert len([entry for entry in mine if entry.action == "run.create"]) == 1
    # Reads are not audited, and no entry carries a value that was sent.
    assert not any(entry.action.startswith(("get", "search", "list")) for entry in mine)
    assert not any("s3cret" in entry.target for entry in entries)
    # The key creation itself is audited once, by the service, with the admin key's name.
    created = [entry for entry in entries if entry.action == "key.create" and entry.target == "trainer"]
    assert len(created) == 1 and created[0].key_name == "bootstrap-admin"


def test_a_failed_write_is_not_audited(live_server: LiveServer) -> None:
    with mlpilot.connect(live_server.url, api_key=live_server.admin_key) as client:
        run = client.create_run("audited")
        client.log_params(run.id, {"a": 1})
        before = len(client.audit_log(limit=1000))
        with pytest.raises(mlpilot.Conflict):
            client.log_params(run.id, {"a": 2})  # params are write-once
        assert len(client.audit_log(limit=1000)) == before
        client.end_run(run.id)
        before = len(client.audit_log(limit=1000))
        late = httpx.post(
            f"{live_server.url}/api/v1/runs/{run.id}/metrics",
            json={"metrics": [{"key": "loss", "value": 0.5, "step": 1}]},
            headers={"Authorization": f"Bearer {live_server.admin_key}"},
        )
        assert late.status_code == 409, late.text
        assert "has ended" in late.json()["error"]["message"]
        assert len(client.audit_log(limit=1000)) == before
        assert client.get_metric_history(run.id, "loss") == []


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("GET", "/api/v1/nothing-here", None, 404, "NOT_FOUND"),
        ("DELETE", "/api/v1/experiments", None, 405, "METHOD_NOT_ALLOWED"),
        ("POST", "/api/v1/experiments", b"not json", 422, "INVALID_REQUEST"),
        ("POST", "/api/v1/experiments", b'{"name": 5, "extra": 1}', 422, "INVALID_REQUEST"),
        ("POST", "/api/v1/experiments", b'{"name": ""}', 400, "INVALID_INPUT"),
        ("GET", "/api/v1/runs/nope", None, 404, "NOT_FOUND"),
        ("GET", "/api/v1/runs?filter=metrics.acc%20%3E%3E%201", None, 400, "INVALID_INPUT"),
        ("GET", "/api/v1/runs?max_results=0", None, 422, "INVALID_REQUEST"),
        ("GET", "/api/v1/models/churn/versions/banana", None, 400, "INVALID_INPUT"),
    ],
)
def test_errors_are_json_with_the_right_status(
    live_server: LiveServer, method: str, path: str, body: bytes | None, status: int, code: str
) -> None:
    response = httpx.request(
        method,
        live_server.url + path,
        content=body,
        headers={"Authorization": f"Bearer {live_server.admin_key}", "Content-Type": "application/json"},
    )
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"] and "Traceback" not in response.text


def test_the_remote_client_raises_what_the_local_one_would(live_server: LiveServer) -> None:
    with mlpilot.connect(live_server.url, api_key=live_server.admin_key) as client:
        with pytest.raises(NotFound, match="does not exist"):
            client.get_run("0" * 32)
        with pytest.raises(InvalidRequest):
            client.audit_log(limit=0)
    with mlpilot.connect(live_server.url) as anonymous:
        with pytest.raises(Unauthorized, match="no API key") as missing:
            anonymous.list_experiments()
        assert "MLPILOT_API_KEY" in missing.value.hint


def test_health_and_docs_need_no_key(live_server: LiveServer) -> None:
    assert httpx.get(f"{live_server.url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{live_server.url}/readyz").json() == {"status": "ready"}
    # The page needs no key; the document it reads does (tests/server/test_docs_page.py).
    spec = httpx.get(
        f"{live_server.url}/api/v1/openapi.json", headers={"Authorization": f"Bearer {live_server.admin_key}"}
    ).json()
    assert spec["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    docs = httpx.get(f"{live_server.url}/docs").text
    assert "/docs-assets/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
    assert httpx.get(f"{live_server.url}/docs-assets/swagger-ui-bundle.js").status_code == 200


def test_keys_are_checked_before_the_body_is_read(live_server: LiveServer) -> None:
    url = f"{live_server.url}/api/v1/experiments"
    for headers in ({}, {"Authorization": "Bearer mlp_nope"}, {"Authorization": f"Basic {live_server.admin_key}"}):
        # A malformed (or oversized) body from an unauthenticated caller is a 401, never a 422 or 413:
        # who is not let in learns nothing about the schema or the limits.
        for body in (b"not json", b"{" + b" " * (17 * 1024 * 1024) + b"}"):
            response = httpx.post(url, content=body, headers={**headers, "Content-Type": "application/json"})
            assert response.status_code == 401, response.text
            assert response.json()["error"]["code"] == "UNAUTHENTICATED"
            assert response.headers["WWW-Authenticate"] == "Bearer"
    # An unknown route under the API is a 401 to a stranger, a 404 to a key holder.
    assert httpx.get(f"{live_server.url}/api/v1/nothing").status_code == 401
