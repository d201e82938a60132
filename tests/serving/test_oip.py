"""The Open Inference Protocol (KServe V2): health, metadata and inference, by column or matrix."""

from __future__ import annotations

from typing import Any

import numpy as np

from tests.serving.conftest import ServingServer, Store, cancer_frame


def test_health_and_metadata(store: Store, cancer_model: Any, serve: Any) -> None:
    server: ServingServer = serve("cancer@production")
    with server.http(None) as anonymous:
        assert anonymous.get("/v2/health/live").status_code == 200
        assert anonymous.get("/v2/health/ready").json()["ready"] is True
        assert anonymous.get("/readyz").status_code == 200
        assert anonymous.get("/v2/models/cancer").status_code == 401
    with server.http(store.read_key) as http:
        assert http.get("/v2").json()["name"] == "mlpilot"
        metadata = http.get("/v2/models/cancer").json()
        assert metadata["versions"] == ["1"] and metadata["platform"] == "mlpilot-sklearn"
        assert metadata["inputs"][0] == {"name": "mean_radius", "datatype": "FP64", "shape": [-1]}
        assert len(metadata["inputs"]) == 30
        assert http.get("/v2/models/cancer/versions/1").status_code == 200
        assert http.get("/v2/models/cancer/ready").json() == {"name": "cancer", "ready": True}
        missing = http.get("/v2/models/cancer/versions/9")
        assert missing.status_code == 404 and "not being served" in missing.json()["error"]


def test_infer_by_columns_and_by_matrix(store: Store, cancer_model: Any, serve: Any) -> None:
    server: ServingServer = serve("cancer@production")
    frame, _ = cancer_frame()
    head = frame.head(3)
    by_column = {
        "id": "req-1",
        "inputs": [
            {"name": name, "shape": [3], "datatype": "FP64", "data": head[name].tolist()} for name in head.columns
        ],
        "outputs": [{"name": "predict"}, {"name": "predict_proba"}],
    }
    by_matrix = {"inputs": [{"name": "x", "shape": [3, 30], "datatype": "FP64", "data": head.to_numpy().tolist()}]}
    with server.http(store.predict_key) as http:
        first = http.post("/v2/models/cancer/infer", json=by_column).json()
        second = http.post("/v2/models/cancer/versions/1/infer", json=by_matrix).json()
    assert first["id"] == "req-1" and first["model_name"] == "cancer" and first["model_version"] == "1"
    predict, proba = first["outputs"]
    assert predict == {
        "name": "predict",
        "shape": [3],
        "datatype": "INT64",
        "data": cancer_model.predict(head).tolist(),
    }
    assert proba["shape"] == [3, 2]
    np.testing.assert_allclose(np.reshape(proba["data"], (3, 2)), cancer_model.predict_proba(head), rtol=1e-9)
    assert [output["name"] for output in second["outputs"]] == ["predict"]
    assert second["outputs"][0]["data"] == predict["data"]


def test_bad_infer_requests_use_the_protocols_error_shape(store: Store, cancer_model: Any, serve: Any) -> None:
    server: ServingServer = serve("cancer@production")
    bad = [
        {"inputs": []},
        {"inputs": [{"name": "x", "shape": [2, 30], "datatype": "FP64", "data": [1.0] * 59}]},
        {"inputs": [{"name": "x", "shape": [2, 7], "datatype": "FP64", "data": [1.0] * 14}]},
        {
            "inputs": [{"name": "mean_radius", "shape": [1], "datatype": "FP64", "data": [1.0]}],
            "outputs": [{"name": "z"}],
        },
    ]
    with server.http(store.predict_key) as http:
        for body in bad:
            response = http.post("/v2/models/cancer/infer", json=body)
            assert response.status_code == 400, response.text
            assert isinstance(response.json()["error"], str)
        partial = http.post(
            "/v2/models/cancer/infer",
            json={"inputs": [{"name": "mean_radius", "shape": [1], "datatype": "FP64", "data": [1.0]}]},
        )
        assert partial.status_code == 422
        assert {problem["kind"] for problem in partial.json()["details"]} == {"missing"}
        assert http.post("/v2/models/nope/infer", json=bad[1]).status_code == 404
