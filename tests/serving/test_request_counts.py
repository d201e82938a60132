"""Every worker adds its requests and errors per minute and served version to the store, where
monitors read error rates and a canary's verdict tells its errors from the primary's."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from mlpilot import deployments as deployment_service
from mlpilot.deployments.request_counts import RequestCounts, add_request_counts, read_request_counts
from tests.serving.conftest import ServingServer, Store, cancer_frame

MINUTE = 1_790_000_040_000 // 60_000 * 60_000  # a fixed minute keeps the sums exact


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
    db = store.client.db
    since, until = started - 60_000, started + 120_000
    counts = read_request_counts(db, "cancer", since, until)
    assert (counts.requests, counts.server_errors, counts.client_errors) == (5, 0, 2)
    assert counts.error_rate == 0.0
    assert read_request_counts(db, "ghost", 0, started + 120_000).requests == 0
    # An empty body is refused before a version is chosen; a row the signature refuses is the version's.
    assert read_request_counts(db, "cancer", since, until, version=1) == RequestCounts(4, 0, 1)
    assert read_request_counts(db, "cancer", since, until, version=0) == RequestCounts(1, 0, 1)


def test_counts_add_up_per_version_and_minute_and_sum_over_versions(store: Store) -> None:
    db = store.client.db
    add_request_counts(db, {("api", 1, MINUTE): RequestCounts(10, 1, 0), ("api", 2, MINUTE): RequestCounts(5, 2, 1)})
    add_request_counts(db, {("api", 2, MINUTE): RequestCounts(5, 0, 0)})  # a second worker's minute adds up
    add_request_counts(db, {("api", 2, MINUTE + 60_000): RequestCounts(7, 0, 0)})
    add_request_counts(db, {("api", MINUTE): RequestCounts(3, 0, 3)})  # no version given: not known, 0
    assert read_request_counts(db, "api", MINUTE, MINUTE + 60_000, version=2) == RequestCounts(10, 2, 1)
    assert read_request_counts(db, "api", MINUTE, MINUTE + 120_000, version=2) == RequestCounts(17, 2, 1)
    assert read_request_counts(db, "api", MINUTE, MINUTE + 60_000, version=0) == RequestCounts(3, 0, 3)
    assert read_request_counts(db, "api", MINUTE, MINUTE + 60_000, version=3) == RequestCounts()
    assert read_request_counts(db, "api", MINUTE, MINUTE + 120_000) == RequestCounts(30, 3, 4)


class BrokenClassifier(LogisticRegression):  # type: ignore[misc]
    """A model bug: predict raises on rows whose mean texture (the second feature) is above 21.5."""

    def predict(self, X: Any) -> Any:
        if (np.asarray(X, dtype=float)[:, 1] > 21.5).any():
            raise ValueError("a bug in this version")
        return super().predict(X)


def test_a_failing_canary_counts_its_errors_under_its_own_version(store: Store, serve: Any) -> None:
    frame, target = cancer_frame()
    store.register(LogisticRegression(max_iter=5000).fit(frame, target), frame, "cancer")
    store.register(BrokenClassifier(max_iter=5000).fit(frame, target), frame, "cancer", alias="challenger")
    deployment_service.create_deployment(
        store.client.db, "churn-api", "cancer@production", canary=("challenger", 0.5), actor="test"
    )
    server: ServingServer = serve(None)
    started = time.time_ns() // 1_000_000
    answered: dict[int, int] = {1: 0, 2: 0}
    failed = 0
    rows = frame.to_dict("records")
    with server.http(store.predict_key) as http:
        for position in range(120):
            response = http.post(
                "/v1/deployments/churn-api/predict",
                json={"instances": [rows[position]]},
                headers={"X-Routing-Key": f"customer-{position}"},
            )
            if response.status_code == 500:
                failed += 1
            else:
                assert response.status_code == 200, response.text
                answered[response.json()["version"]] += 1
    server.stop()
    assert failed and answered[1] and answered[2], (failed, answered)
    db, since, until = store.client.db, started - 60_000, started + 120_000
    assert read_request_counts(db, "churn-api", since, until, version=1) == RequestCounts(answered[1], 0, 0)
    assert read_request_counts(db, "churn-api", since, until, version=2) == RequestCounts(
        answered[2] + failed, failed, 0
    )
    assert read_request_counts(db, "churn-api", since, until) == RequestCounts(120, failed, 0)
