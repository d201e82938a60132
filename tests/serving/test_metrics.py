"""/metrics in Prometheus format: requests by deployment, version and status; latency; in-flight;
batch sizes; predicted classes; process CPU and memory. Behind a key like every other route."""

from __future__ import annotations

import signal
import time
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from mlpilot.serving.metrics import METRIC_NAMES
from tests.serving.conftest import ServeProcess, ServingServer, Store, cancer_frame


def _samples(text: str) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append(sample)
    return found


def test_metrics_count_requests_latency_batches_and_classes(store: Store, cancer_model: Any, serve: Any) -> None:
    server: ServingServer = serve("cancer@production")
    frame, _ = cancer_frame()
    with server.http(store.predict_key) as http:
        for start in range(5):
            http.post(
                "/v1/deployments/cancer/predict", json={"instances": frame.iloc[start : start + 2].to_dict("records")}
            )
        http.post("/v1/deployments/cancer/predict", json={"instances": []})
        http.post("/v1/deployments/ghost/predict", json={"instances": []})
    with server.http(None) as anonymous:
        assert anonymous.get("/metrics").status_code == 401
    with server.http(store.read_key) as http:
        response = http.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)
    requests = {
        (s.labels["deployment"], s.labels["version"], s.labels["status"]): s.value
        for s in samples["mlpilot_requests_total"]
    }
    assert requests[("cancer", "1", "200")] == 5
    assert requests[("cancer", "", "400")] == 1
    assert requests[("unknown", "", "404")] == 1, "unknown names share one label: no unbounded series"
    latency_count = {s.labels["deployment"]: s.value for s in samples["mlpilot_request_duration_seconds_count"]}
    assert latency_count["cancer"] == 6
    assert sum(s.value for s in samples["mlpilot_batch_size_sum"]) == 10
    classes = {s.labels["class"]: s.value for s in samples["mlpilot_predictions_total"]}
    sent = [value for start in range(5) for value in cancer_model.predict(frame.iloc[start : start + 2]).tolist()]
    assert classes == {str(label): float(sent.count(label)) for label in set(sent)}
    assert [s.value for s in samples["mlpilot_requests_in_flight"]] == [0.0, 0.0]
    assert samples["mlpilot_process_cpu_seconds_total"][0].value > 0
    assert samples["mlpilot_process_resident_memory_bytes"][0].value > 10_000_000
    assert samples["mlpilot_traffic_weight"][0].labels == {"deployment": "cancer", "version": "1", "role": "primary"}
    exposed = set(samples)
    for name in METRIC_NAMES.values():
        assert any(sample.startswith(name) for sample in exposed) or name == "mlpilot_prediction_value", name


def test_metrics_count_the_prediction_logs_rows_and_flushes(store: Store, cancer_model: Any, serve: Any) -> None:
    server: ServingServer = serve("cancer@production")
    frame, _ = cancer_frame()
    with server.http(store.predict_key) as http:
        for start in range(0, 12, 3):
            http.post(
                "/v1/deployments/cancer/predict", json={"instances": frame.iloc[start : start + 3].to_dict("records")}
            )
    deadline = time.monotonic() + 10
    with server.http(store.read_key) as http:
        while True:  # the log flushes every 0.2 s here
            samples = _samples(http.get("/metrics").text)
            written = {s.labels["outcome"]: s.value for s in samples.get("mlpilot_prediction_log_rows_total", [])}
            if written.get("written") == 12 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    assert written == {"written": 12, "dropped": 0}
    assert samples["mlpilot_prediction_log_flush_seconds_count"][0].value >= 1
    assert samples["mlpilot_prediction_log_flush_seconds_sum"][0].value > 0
    assert samples["mlpilot_prediction_log_cpu_seconds_total"][0].value > 0


@pytest.mark.slow
def test_several_workers_report_one_sum(store: Store, cancer_model: Any) -> None:
    server = ServeProcess(store, workers=2)
    frame, _ = cancer_frame()
    row = frame.head(1).to_dict(orient="records")
    sent, pids = 0, set()
    try:
        # A fresh connection per request, so the kernel hands them to either worker; rounds until
        # both have answered (a kept-alive connection would stay with one worker throughout).
        for _ in range(20):
            for _ in range(20):
                response = httpx.post(
                    f"{server.url}/v1/deployments/cancer/predict",
                    json={"instances": row},
                    headers={"Authorization": f"Bearer {store.predict_key}"},
                )
                assert response.status_code == 200
                sent += 1
            with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {store.read_key}"}) as http:
                samples = _samples(http.get("/metrics").text)
            pids = {s.labels["pid"] for s in samples["mlpilot_process_cpu_seconds_total"]}
            if len(pids) >= 2:
                break
    finally:
        server.kill(signal.SIGTERM)
    ok = [s.value for s in samples["mlpilot_requests_total"] if s.labels["status"] == "200"]
    assert sum(ok) == sent, "every worker's requests are counted, whichever worker answers"
    assert len(pids) >= 2
