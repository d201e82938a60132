"""Every bad request gets its status and a JSON error with a request id, names what is wrong
(columns and reasons, never the values sent), and leaves the server serving."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from tests.models.custom_model import FragileModel
from tests.serving.conftest import ServingServer, Store, cancer_frame

PREDICT = "/v1/deployments/cancer/predict"


def _row() -> dict[str, Any]:
    frame, _ = cancer_frame()
    row: dict[str, Any] = frame.iloc[0].to_dict()
    return row


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    assert error["request_id"] == response.headers["X-Request-ID"]
    assert "Traceback" not in response.text
    return error


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON array, not an object"),
        (b'{"instances": []}', "no rows"),
        (b'{"rows": [{"a": 1}]}', "exactly one of"),
        (b'{"instances": [{"a": 1}], "dataframe_records": [{"a": 1}]}', "exactly one of"),
        (b'{"instances": [1, 2]}', "list of objects"),
        (b'{"dataframe_split": {"columns": ["a", "b"], "data": [[1]]}}', "row 0 has 1 values for 2 columns"),
        (b'{"inputs": {"a": [1, 2], "b": [1]}}', "same number of values"),
        (b'{"instances": [{"a": 1}], "probabilities": "yes"}', '"probabilities" must be'),
    ],
)
def test_malformed_bodies_are_400(store: Store, cancer_model: Any, serve: Any, body: bytes, fragment: str) -> None:
    server: ServingServer = serve("cancer@production")
    with server.http(store.predict_key) as http:
        response = http.post(PREDICT, content=body, headers={"Content-Type": "application/json"})
    assert fragment in _error(response, 400, "INVALID_INPUT")["message"]


def test_signature_problems_are_422_naming_every_column_but_no_value(
    store: Store, cancer_model: Any, serve: Any
) -> None:
    server: ServingServer = serve("cancer@production")
    row = _row()
    del row["mean_radius"]
    row["mean_texture"] = "SECRET-VALUE-123"
    row["mean_area"] = None
    with server.http(store.predict_key) as http:
        response = http.post(PREDICT, json={"instances": [row]})
    error = _error(response, 422, "SIGNATURE_MISMATCH")
    problems = {(problem["column"], problem["kind"]) for problem in error["details"]}
    assert problems == {("mean_radius", "missing"), ("mean_texture", "type"), ("mean_area", "null")}
    assert "SECRET-VALUE-123" not in response.text


def test_csv_with_an_empty_cell_in_a_column_that_forbids_nulls_is_422(
    store: Store, cancer_model: Any, serve: Any
) -> None:
    server: ServingServer = serve("cancer@production")
    frame, _ = cancer_frame()
    head = frame.head(2).astype(object)
    head.iloc[1, 3] = None
    with server.http(store.predict_key) as http:
        response = http.post(PREDICT, content=head.to_csv(index=False), headers={"Content-Type": "text/csv"})
    error = _error(response, 422, "SIGNATURE_MISMATCH")
    assert error["details"][0]["column"] == frame.columns[3]


def test_unknown_deployment_is_404_and_keys_are_required(store: Store, cancer_model: Any, serve: Any) -> None:
    server: ServingServer = serve("cancer@production")
    with server.http(store.predict_key) as http:
        _error(http.post("/v1/deployments/nope/predict", json={"instances": [_row()]}), 404, "NOT_FOUND")
    with server.http(None) as http:
        response = http.post(PREDICT, json={"instances": [_row()]})
        _error(response, 401, "UNAUTHENTICATED")
        assert response.headers["WWW-Authenticate"] == "Bearer"
    with server.http("mlp_abcdefgh_" + "x" * 43) as http:
        _error(http.post(PREDICT, json={"instances": [_row()]}), 401, "UNAUTHENTICATED")
    with server.http(store.read_key) as http:
        _error(http.post(PREDICT, json={"instances": [_row()]}), 403, "PERMISSION_DENIED")


def test_revoked_key_stops_working_within_the_cache_time(store: Store, cancer_model: Any, serve: Any) -> None:
    from mlpilot.security import keys as key_service

    server: ServingServer = serve("cancer@production", serve_key_cache_seconds=0.3)
    with server.http(store.predict_key) as http:
        assert http.post(PREDICT, json={"instances": [_row()]}).status_code == 200
        key_service.revoke_key(store.client.db, "predict-key", actor="test")
        import time

        time.sleep(0.5)
        _error(http.post(PREDICT, json={"instances": [_row()]}), 401, "UNAUTHENTICATED")


def test_body_and_row_limits_are_413(store: Store, cancer_model: Any, serve: Any) -> None:
    server: ServingServer = serve("cancer@production", serve_max_rows=3, serve_max_body_bytes=50_000)
    with server.http(store.predict_key) as http:
        error = _error(http.post(PREDICT, json={"instances": [_row()] * 4}), 413, "PAYLOAD_TOO_LARGE")
        assert "at most 3" in error["message"]
        _error(http.post(PREDICT, content=b'{"instances": [' + b" " * 60_000 + b"]}"), 413, "PAYLOAD_TOO_LARGE")
        csv = "a,b\n" + "1,2\n" * 4
        _error(http.post(PREDICT, content=csv, headers={"Content-Type": "text/csv"}), 413, "PAYLOAD_TOO_LARGE")
        assert http.post(PREDICT, json={"instances": [_row()] * 3}).status_code == 200


def test_probabilities_from_a_model_without_them_is_400(store: Store, serve: Any) -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    store.register(FragileModel(), frame, "fragile")
    server: ServingServer = serve("fragile@production")
    with server.http(store.predict_key) as http:
        response = http.post("/v1/deployments/fragile/predict", json={"instances": [{"x": 1.0}], "probabilities": True})
    assert "gives no probabilities" in _error(response, 400, "INVALID_INPUT")["message"]


def test_a_model_that_raises_gives_a_500_without_its_traceback(store: Store, serve: Any) -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    store.register(FragileModel(), frame, "fragile")
    server: ServingServer = serve("fragile@production")
    with server.http(store.predict_key) as http:
        response = http.post("/v1/deployments/fragile/predict", json={"instances": [{"x": -1.0}]})
        error = _error(response, 500, "MODEL_ERROR")
        assert "secret internal detail" not in response.text
        assert "version 1 of model 'fragile'" in error["message"]
        assert http.post("/v1/deployments/fragile/predict", json={"instances": [{"x": 2.0}]}).json()["predictions"] == [
            4.0
        ]
