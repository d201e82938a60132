"""POST /v1/deployments/{name}/feedback: labels joined to predictions by id; unknown ids are
reported back, never silently dropped."""

from __future__ import annotations

from typing import Any

import pytest

from mlpilot.deployments import read_feedback
from mlpilot.errors import NotFound
from tests.serving.conftest import ServingServer, Store, cancer_frame


def test_labels_for_served_predictions_are_stored_and_unknown_ids_reported(
    store: Store, cancer_model: Any, serve: Any
) -> None:
    server: ServingServer = serve("cancer@production")
    frame, target = cancer_frame()
    with server.http(store.predict_key) as http:
        ids = http.post("/v1/deployments/cancer/predict", json={"instances": frame.head(4).to_dict("records")}).json()[
            "prediction_ids"
        ]
    labels = [{"prediction_id": pid, "label": int(label)} for pid, label in zip(ids, target.head(4), strict=True)]
    labels.append({"prediction_id": "0" * 32, "label": 1})
    with server.http(store.writer_key) as http:
        first = http.post("/v1/deployments/cancer/feedback", json={"labels": labels})
        again = http.post("/v1/deployments/cancer/feedback", json={"labels": labels[:1]})
    assert first.status_code == 200, first.text
    assert first.json() == {"accepted": 4, "updated": 0, "unknown_ids": ["0" * 32]}
    assert again.json() == {"accepted": 0, "updated": 1, "unknown_ids": []}
    stored = read_feedback(store.client.db, "cancer")
    assert sorted(stored["prediction_id"]) == sorted(ids)
    assert dict(zip(stored["prediction_id"], stored["label"], strict=True)) == {
        pid: int(label) for pid, label in zip(ids, target.head(4), strict=True)
    }


def test_bad_feedback_is_refused_whole(store: Store, cancer_model: Any, serve: Any) -> None:
    server: ServingServer = serve("cancer@production")
    bodies: list[Any] = [
        {"labels": []},
        {"rows": []},
        {"labels": [{"prediction_id": "a" * 32}]},
        {"labels": [{"prediction_id": "a" * 32, "label": {"nested": 1}}]},
    ]
    with server.http(store.writer_key) as http:
        for body in bodies:
            response = http.post("/v1/deployments/cancer/feedback", json=body)
            assert response.status_code == 400, response.text
            assert response.json()["error"]["code"] == "INVALID_INPUT"
        assert http.post("/v1/deployments/ghost/feedback", json={"labels": []}).status_code == 404
    with server.http(store.predict_key) as http:
        assert http.post("/v1/deployments/cancer/feedback", json=bodies[0]).status_code == 403
    with pytest.raises(NotFound):  # no label was stored, and the deployment exists only while served
        read_feedback(store.client.db, "cancer")
