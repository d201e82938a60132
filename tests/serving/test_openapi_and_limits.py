"""The per-deployment OpenAPI document (from the model signature) and its docs page; every
prediction route's scope; per-key rate limits."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.routing import Route

from tests.serving.conftest import ServingServer, Store, cancer_frame

# Every route of the prediction API and the scope it needs (None: public).
ROUTES: list[tuple[str, str, str | None]] = [
    ("GET", "/healthz", None),
    ("GET", "/readyz", None),
    ("GET", "/v2/health/live", None),
    ("GET", "/v2/health/ready", None),
    ("GET", "/docs", None),
    ("GET", "/v1/deployments/cancer/docs", None),
    ("GET", "/openapi.json", "read"),
    ("GET", "/metrics", "read"),
    ("GET", "/v1/deployments", "read"),
    ("GET", "/v1/deployments/cancer", "read"),
    ("GET", "/v1/deployments/cancer/openapi.json", "read"),
    ("GET", "/v2", "read"),
    ("GET", "/v2/models/cancer", "read"),
    ("GET", "/v2/models/cancer/versions/1", "read"),
    ("GET", "/v2/models/cancer/ready", "read"),
    ("GET", "/v2/models/cancer/versions/1/ready", "read"),
    ("POST", "/v1/deployments/cancer/predict", "predict"),
    ("POST", "/v2/models/cancer/infer", "predict"),
    ("POST", "/v2/models/cancer/versions/1/infer", "predict"),
    ("POST", "/v1/deployments/cancer/feedback", "write"),
]


def test_every_route_enforces_its_scope(store: Store, cancer_model: Any, serve: Any) -> None:
    server: ServingServer = serve("cancer@production")
    keys = {"read": store.read_key, "predict": store.predict_key, "write": store.writer_key, "deploy": store.deploy_key}
    # The table is complete: every route the app has is in it.
    served = {
        (method, route.path.replace("{name}", "cancer").replace("{version:int}", "1"))
        for route in server.app.routes
        if isinstance(route, Route)
        for method in (route.methods or set()) - {"HEAD"}
    }
    assert served == {(method, path) for method, path, _ in ROUTES}
    for method, path, scope in ROUTES:
        with server.http(None) as anonymous:
            response = anonymous.request(method, path, json={})
            if scope is None:
                assert response.status_code == 200, (path, response.text)
                continue
            assert response.status_code == 401, (method, path)
        for held, key in keys.items():
            with server.http(key) as http:
                status = http.request(method, path, json={}).status_code
            if held == scope:
                assert status not in (401, 403), (method, path, held, status)
            else:
                assert status == 403, (method, path, held, status)


def test_the_document_shows_the_signature_and_the_docs_page_loads_offline(
    store: Store, cancer_model: Any, serve: Any
) -> None:
    server: ServingServer = serve("cancer@production")
    with server.http(store.read_key) as http:
        document = http.get("/openapi.json").json()
        assert http.get("/v1/deployments/cancer/openapi.json").json() == document
    row = document["components"]["schemas"]["Row"]
    frame, _ = cancer_frame()
    assert list(row["properties"]) == list(frame.columns)
    assert row["properties"]["mean_radius"] == {"type": "number"}
    assert set(row["required"]) == set(frame.columns)
    assert "/v1/deployments/cancer/predict" in document["paths"]
    with server.http(None) as anonymous:
        page = anonymous.get("/docs")
        assert "/openapi.json" in page.text and "https://" not in page.text
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]
        assert anonymous.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
        assert "/v1/deployments/cancer/openapi.json" in anonymous.get("/v1/deployments/cancer/docs").text


@pytest.mark.parametrize("rate", [2.0])
def test_a_keys_rate_limit_answers_429_with_retry_after(
    store: Store, cancer_model: Any, serve: Any, rate: float
) -> None:
    server: ServingServer = serve("cancer@production", serve_rate_limit=rate, serve_rate_burst=3)
    row = cancer_frame()[0].head(1).to_dict("records")
    with server.http(store.predict_key) as http:
        statuses = [http.post("/v1/deployments/cancer/predict", json={"instances": row}) for _ in range(5)]
    assert [response.status_code for response in statuses[:3]] == [200, 200, 200]
    limited = statuses[-1]
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "RATE_LIMITED"
    assert int(limited.headers["Retry-After"]) >= 1
