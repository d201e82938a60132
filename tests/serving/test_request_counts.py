"""Every worker adds its requests and errors per minute to the store, where monitors read error rates."""

from __future__ import annotations

import time
from typing import Any

from mlpilot.deployments.request_counts import read_request_counts
from tests.serving.conftest import ServingServer, Store, cancer_frame


def test_requests_and_errors_reach_the_store_and_unknown_deployments_do_not(
    store: Store, cancer_model: Any, serve: Any
) -> None:
    server: ServingServer = serve("cancer@production")
    frame, _ = cancer_frame()
    started = time.time_ns() // 1_000_000
    with server.http(store.predict_key) as http:
        for start in range(3):
            ok = http.post(
                "/v1/deployments/cancer/predict", json={"instances": frame.iloc[start : start + 2].to_dict("records")}
            )
            assert ok.status_code == 200
        assert http.post("/v1/deployments/cancer/predict", json={"instances": []}).status_code == 400
        assert http.post("/v1/deployments/cancer/predict", json={"instances": [{"nope": 1}]}).status_code == 422
        assert http.post("/v1/deployments/ghost/predict", json={"instances": []}).status_code == 404
    server.stop()  # the last counts are written on the way out
    counts = read_request_counts(store.client.db, "cancer", started - 60_000, started + 120_000)
    assert (counts.requests, counts.server_errors, counts.client_errors) == (5, 0, 2)
    assert counts.error_rate == 0.0
    assert read_request_counts(store.client.db, "ghost", 0, started + 120_000).requests == 0
