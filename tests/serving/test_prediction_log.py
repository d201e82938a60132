"""Every row in and out is logged: read back with mlpilot.prediction_log; nothing lost on SIGTERM,
at most the flush interval on kill -9 (a real `mlpilot serve` process)."""

from __future__ import annotations

import signal
import time
from typing import Any

import pytest

from tests.serving.conftest import ServeProcess, ServingServer, Store, cancer_frame


def test_predictions_are_logged_with_inputs_outputs_and_ids(store: Store, cancer_model: Any, serve: Any) -> None:
    server: ServingServer = serve("cancer@production")
    frame, _ = cancer_frame()
    with server.http(store.predict_key) as http:
        body = http.post(
            "/v1/deployments/cancer/predict", json={"instances": frame.head(3).to_dict(orient="records")}
        ).json()
    server.stop()  # shutting down flushes the log
    logged = store.client.predictions("cancer")
    assert logged["prediction_id"].tolist() == body["prediction_ids"], "the log keeps the order rows were served in"
    assert logged["request_id"].unique().tolist() == [body["request_id"]]
    assert logged["prediction"].tolist() == body["predictions"]
    assert (logged["version"] == 1).all() and (logged["role"] == "primary").all()
    assert (logged["latency_ms"] > 0).all()
    assert logged["input:mean_radius"].tolist() == frame["mean_radius"].head(3).tolist()
    assert {"proba:0", "proba:1"} <= set(logged.columns)
    assert store.client.predictions("cancer", since="2999-01-01").empty


def test_logged_probabilities_are_the_models_whether_or_not_a_request_asked(
    store: Store, cancer_model: Any, serve: Any
) -> None:
    # Unasked probabilities are computed for the log when it flushes, in one call for many requests.
    server: ServingServer = serve("cancer@production")
    frame, _ = cancer_frame()
    records = frame.head(12).to_dict(orient="records")
    ids: list[str] = []
    with server.http(store.predict_key) as http:
        for start in range(0, 12, 3):
            body = {"instances": records[start : start + 3], "probabilities": start == 6}
            ids += http.post("/v1/deployments/cancer/predict", json=body).json()["prediction_ids"]
    server.stop()
    logged = store.client.predictions("cancer").set_index("prediction_id").loc[ids]
    expected = cancer_model.predict_proba(frame.head(12))
    assert logged["proba:0"].tolist() == pytest.approx(expected[:, 0].tolist(), rel=1e-9, abs=1e-12)
    assert logged["proba:1"].tolist() == pytest.approx(expected[:, 1].tolist(), rel=1e-9, abs=1e-12)
    assert logged["prediction"].tolist() == cancer_model.predict(frame.head(12)).tolist()


def test_no_log_setting_writes_nothing(store: Store, cancer_model: Any, serve: Any) -> None:
    server: ServingServer = serve("cancer@production", serve_log_predictions=False)
    frame, _ = cancer_frame()
    with server.http(store.predict_key) as http:
        assert http.post(
            "/v1/deployments/cancer/predict", json={"instances": frame.head(2).to_dict("records")}
        ).is_success
    server.stop()
    assert store.client.predictions("cancer").empty


@pytest.mark.slow
def test_sigterm_loses_nothing(store: Store, cancer_model: Any) -> None:
    server = ServeProcess(store, flush_seconds=60.0)  # nothing is flushed by time during the test
    ids = server.predict_many(store.predict_key, 50)
    server.kill(signal.SIGTERM)
    assert server.process.returncode in (0, -signal.SIGTERM)  # uvicorn re-raises the signal after a clean shutdown
    assert sorted(store.client.predictions("cancer")["prediction_id"]) == sorted(ids)


@pytest.mark.slow
def test_kill_9_loses_at_most_the_flush_interval(store: Store, cancer_model: Any) -> None:
    flush = 0.5
    server = ServeProcess(store, flush_seconds=flush)
    early = server.predict_many(store.predict_key, 30)
    time.sleep(flush * 3)  # the early rows are past at least one flush
    late = server.predict_many(store.predict_key, 5)
    server.kill(signal.SIGKILL)
    logged = set(store.client.predictions("cancer")["prediction_id"])
    assert set(early) <= logged
    assert logged <= set(early) | set(late)
