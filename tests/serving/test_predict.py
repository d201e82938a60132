"""POST /v1/deployments/{name}/predict: every accepted body format, and answers equal to the
model's own predictions in process."""

from __future__ import annotations

from typing import Any

import numpy as np

from tests.serving.conftest import ServingServer, Store, cancer_frame


def _rows(count: int, start: int = 0) -> list[dict[str, Any]]:
    frame, _ = cancer_frame()
    records: list[dict[str, Any]] = frame.iloc[start : start + count].to_dict(orient="records")
    return records


def test_instances_give_the_models_predictions_with_ids_and_version(
    store: Store, cancer_model: Any, serve: Any
) -> None:
    server: ServingServer = serve("cancer@production")
    rows = _rows(7)
    with server.http(store.predict_key) as http:
        response = http.post("/v1/deployments/cancer/predict", json={"instances": rows, "probabilities": True})
    assert response.status_code == 200, response.text
    body = response.json()
    frame, _ = cancer_frame()
    assert body["predictions"] == cancer_model.predict(frame.head(7)).tolist()
    np.testing.assert_allclose(body["probabilities"], cancer_model.predict_proba(frame.head(7)), rtol=1e-9)
    assert body["classes"] == [0, 1]
    assert body["version"] == 1 and body["deployment"] == "cancer" and body["model"] == "cancer"
    assert len(body["prediction_ids"]) == 7 and len(set(body["prediction_ids"])) == 7
    assert response.headers["X-Request-ID"] == body["request_id"]
    assert response.headers["X-Model-Version"] == "1"


def test_every_body_format_gives_the_same_answer(store: Store, cancer_model: Any, serve: Any) -> None:
    server: ServingServer = serve("cancer@production")
    frame, _ = cancer_frame()
    head = frame.head(4)
    expected = cancer_model.predict(head).tolist()
    split = head.to_dict(orient="split")
    bodies: list[dict[str, Any]] = [
        {"json": {"instances": _rows(4)}},
        {"json": {"dataframe_records": _rows(4)}},
        {"json": {"dataframe_split": {"columns": split["columns"], "data": split["data"]}}},
        {"json": {"inputs": head.to_dict(orient="list")}},
        {"content": head.to_csv(index=False), "headers": {"Content-Type": "text/csv"}},
    ]
    with server.http(store.predict_key) as http:
        for body in bodies:
            response = http.post("/v1/deployments/cancer/predict", **body)
            assert response.status_code == 200, (body.keys(), response.text)
            assert response.json()["predictions"] == expected


def test_extra_columns_are_ignored_and_named(store: Store, cancer_model: Any, serve: Any) -> None:
    server: ServingServer = serve("cancer@production")
    rows = [{**row, "customer_id": 17} for row in _rows(2)]
    with server.http(store.predict_key) as http:
        body = http.post("/v1/deployments/cancer/predict", json={"instances": rows}).json()
    assert body["ignored_columns"] == ["customer_id"]
    assert len(body["predictions"]) == 2


def test_integer_values_in_float_columns_are_accepted(store: Store, cancer_model: Any, serve: Any) -> None:
    server: ServingServer = serve("cancer@production")
    rows = [{name: round(value) for name, value in row.items()} for row in _rows(3)]
    with server.http(store.predict_key) as http:
        response = http.post("/v1/deployments/cancer/predict", json={"instances": rows})
    assert response.status_code == 200, response.text
    assert len(response.json()["predictions"]) == 3
