"""MLflow's REST shapes and errors on the platform server, with plain httpx (SQLite and PostgreSQL):
snake_case JSON, epoch milliseconds, ``{"error_code", "message"}`` errors with MLflow's statuses,
its batch limits, keys and scopes, and one store shared with /api/v1."""

from __future__ import annotations

from typing import Any

import httpx

from mlpilot.security.keys import create_key
from mlpilot.store import Database
from tests.conftest import LiveServer

API = "/api/2.0/mlflow"


def _client(server: LiveServer, key: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key or server.admin_key}"}
    return httpx.Client(base_url=server.url, headers=headers, timeout=30)


def _error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["error_code"] == code, body
    assert body["message"]
    return body


def test_tracking_shapes_and_one_store(live_server: LiveServer) -> None:
    with _client(live_server) as http:
        created = http.post(f"{API}/experiments/create", json={"name": "rest", "unknown_field": 1})
        experiment_id = created.json()["experiment_id"]
        assert experiment_id.isdecimal()
        _error(http.post(f"{API}/experiments/create", json={"name": "rest"}), 400, "RESOURCE_ALREADY_EXISTS")
        got = http.get(f"{API}/experiments/get-by-name", params={"experiment_name": "rest"}).json()["experiment"]
        assert got["experiment_id"] == experiment_id and got["lifecycle_stage"] == "active"
        searched = http.post(f"{API}/experiments/search", json={"filter": "name LIKE 're%'"}).json()["experiments"]
        assert [item["name"] for item in searched] == ["rest"]
        _error(http.post(f"{API}/experiments/search", json={"filter": "tags.x = 'y'"}), 400, "INVALID_PARAMETER_VALUE")
        default = http.get(f"{API}/experiments/get", params={"experiment_id": "0"}).json()["experiment"]
        assert default["experiment_id"] == "0" and default["name"] == "Default"

        run = http.post(
            f"{API}/runs/create",
            json={"experiment_id": experiment_id, "run_name": "r1", "tags": [{"key": "mlflow.user", "value": "ann"}]},
        ).json()["run"]
        info = run["info"]
        run_id = info["run_id"]
        assert (info["status"], info["user_id"], info["run_name"]) == ("RUNNING", "ann", "r1")
        assert info["artifact_uri"] == f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts"
        assert isinstance(info["start_time"], int) and info["start_time"] > 1_600_000_000_000
        batch = {
            "run_id": run_id,
            "metrics": [
                {"key": "loss", "value": 0.5 - step / 10, "timestamp": 1_700_000_000_000, "step": step}
                for step in range(3)
            ],
            "params": [{"key": "alpha", "value": "0.1"}],
            "tags": [{"key": "team", "value": "risk"}],
        }
        assert http.post(f"{API}/runs/log-batch", json=batch).json() == {}
        http.post(f"{API}/runs/log-metric", json={"run_id": run_id, "key": "acc", "value": 0.9, "timestamp": 5})
        data = http.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]["data"]
        assert {"key": "loss", "value": 0.3, "timestamp": 1_700_000_000_000, "step": 2} in data["metrics"]
        assert data["params"] == [{"key": "alpha", "value": "0.1"}]
        history = http.get(f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": "loss"}).json()
        assert [point["step"] for point in history["metrics"]] == [0, 1, 2]
        found = http.post(
            f"{API}/runs/search", json={"experiment_ids": [experiment_id], "filter": "metrics.acc > 0.5"}
        ).json()
        assert [item["info"]["run_id"] for item in found["runs"]] == [run_id]
        # MLflow 3's logged models live with their run.
        logged = http.post(
            f"{API}/logged-models",
            json={
                "experiment_id": experiment_id,
                "name": "model",
                "source_run_id": run_id,
                "tags": [{"key": "a", "value": "1"}],
            },
        ).json()["model"]["info"]
        model_id = logged["model_id"]
        assert logged["artifact_uri"] == f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts/model"
        assert logged["status"] == "LOGGED_MODEL_PENDING"
        http.patch(f"{API}/logged-models/{model_id}/tags", json={"tags": [{"key": "b", "value": "2"}]})
        http.delete(f"{API}/logged-models/{model_id}/tags/a")
        ready = http.patch(f"{API}/logged-models/{model_id}", json={"status": "LOGGED_MODEL_READY"}).json()["model"]
        assert ready["info"]["status"] == "LOGGED_MODEL_READY"
        assert ready["info"]["tags"] == [{"key": "b", "value": "2"}]
        searched = http.post(f"{API}/logged-models/search", json={"filter": f"source_run_id = '{run_id}'"}).json()
        assert [item["info"]["model_id"] for item in searched["models"]] == [model_id]
        outputs = http.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]["outputs"]
        assert outputs == {"model_outputs": [{"model_id": model_id, "step": 0}]}
        _error(http.get(f"{API}/logged-models/m-nope"), 404, "RESOURCE_DOES_NOT_EXIST")
        ended = http.post(f"{API}/runs/update", json={"run_id": run_id, "status": "FINISHED"}).json()["run_info"]
        assert ended["status"] == "FINISHED" and ended["end_time"] >= ended["start_time"]
        # The same run through mlpilot's own API: one store, not two.
        ours = http.get(f"/api/v1/runs/{run_id}").json()
        assert ours["params"] == {"alpha": "0.1"} and ours["tags"]["team"] == "risk"
        # The ajax-api prefix answers the same routes.
        assert http.get("/ajax-api/2.0/mlflow/runs/get", params={"run_id": run_id}).status_code == 200


def test_errors_limits_and_keys(live_server: LiveServer) -> None:
    with _client(live_server) as http:
        run_id = http.post(f"{API}/runs/create", json={"experiment_id": "0"}).json()["run"]["info"]["run_id"]
        _error(http.get(f"{API}/runs/get", params={"run_id": "f" * 32}), 404, "RESOURCE_DOES_NOT_EXIST")
        _error(
            http.get(f"{API}/experiments/get-by-name", params={"experiment_name": "nope"}),
            404,
            "RESOURCE_DOES_NOT_EXIST",
        )
        _error(http.post(f"{API}/runs/log-metric", json={"run_id": run_id, "key": "x"}), 400, "INVALID_PARAMETER_VALUE")
        _error(
            http.post(f"{API}/runs/log-metric", json={"run_id": run_id, "key": "x", "value": "abc"}),
            400,
            "INVALID_PARAMETER_VALUE",
        )
        _error(
            http.post(f"{API}/runs/log-parameter", json={"run_id": run_id, "key": "p", "value": "v" * 6001}),
            400,
            "INVALID_PARAMETER_VALUE",
        )
        _error(
            http.post(f"{API}/runs/log-parameter", json={"run_id": run_id, "key": "k" * 251, "value": "v"}),
            400,
            "INVALID_PARAMETER_VALUE",
        )
        http.post(f"{API}/runs/log-parameter", json={"run_id": run_id, "key": "p", "value": "1"})
        _error(
            http.post(f"{API}/runs/log-parameter", json={"run_id": run_id, "key": "p", "value": "2"}),
            400,
            "INVALID_PARAMETER_VALUE",
        )
        too_many = {
            "run_id": run_id,
            "metrics": [{"key": "m", "value": 1, "timestamp": 1, "step": i} for i in range(1001)],
        }
        body = _error(http.post(f"{API}/runs/log-batch", json=too_many), 400, "INVALID_PARAMETER_VALUE")
        assert "at most 1000 metrics" in body["message"]
        params = {"run_id": run_id, "params": [{"key": f"p{i}", "value": "1"} for i in range(101)]}
        _error(http.post(f"{API}/runs/log-batch", json=params), 400, "INVALID_PARAMETER_VALUE")
        _error(
            http.post(f"{API}/runs/create", content=b"{not json", headers={"Content-Type": "application/json"}),
            400,
            "MALFORMED_REQUEST",
        )
        _error(http.post(f"{API}/runs/create", json=[1, 2]), 400, "INVALID_PARAMETER_VALUE")
        _error(http.get(f"{API}/no/such/route"), 404, "ENDPOINT_NOT_FOUND")
        _error(http.get("/api/2.0/mlflow-artifacts/artifacts/0/nope"), 400, "INVALID_PARAMETER_VALUE")
        _error(
            http.post(f"{API}/model-versions/create", json={"name": "m", "source": "s3://elsewhere/model"}),
            400,
            "INVALID_PARAMETER_VALUE",
        )
        _error(http.post(f"{API}/logged-models", json={"name": "model"}), 400, "INVALID_PARAMETER_VALUE")
        http.post(f"{API}/runs/update", json={"run_id": run_id, "status": "FINISHED"})
        _error(
            http.post(f"{API}/runs/log-metric", json={"run_id": run_id, "key": "x", "value": 1}),
            400,
            "INVALID_PARAMETER_VALUE",
        )
        _error(
            http.post(f"{API}/runs/update", json={"run_id": run_id, "status": "RUNNING"}),
            400,
            "INVALID_PARAMETER_VALUE",
        )

    anonymous = httpx.post(f"{live_server.url}{API}/runs/create", json={})
    _error(anonymous, 401, "UNAUTHENTICATED")
    assert anonymous.headers["WWW-Authenticate"] == "Bearer"
    _error(
        httpx.get(f"{live_server.url}/api/2.0/mlflow-artifacts/artifacts", params={"path": "x"}), 401, "UNAUTHENTICATED"
    )
    db = Database(live_server.settings.resolved_tracking_uri())
    try:
        _, reader = create_key(db, "reader", "read", actor="test")
    finally:
        db.dispose()
    with _client(live_server, reader) as http:
        assert http.post(f"{API}/runs/search", json={"experiment_ids": ["0"]}).status_code == 200
        _error(http.post(f"{API}/runs/create", json={"experiment_id": "0"}), 403, "PERMISSION_DENIED")
        _error(
            http.put("/api/2.0/mlflow-artifacts/artifacts/0/abc/artifacts/x.txt", content=b"x"),
            403,
            "PERMISSION_DENIED",
        )


_MLMODEL = """flavors:
  python_function: {loader_module: mlflow.sklearn, model_path: model.pkl}
  sklearn: {pickled_model: model.pkl, serialization_format: pickle}
signature:
  inputs: '[{"type": "double", "name": "a", "required": true}, {"type": "long", "name": "b", "required": false}]'
  outputs: '[{"type": "long", "required": true}]'
"""


def test_registry_over_rest(live_server: LiveServer) -> None:
    import pickle

    import numpy as np
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit(np.array([[0.0, 1], [1.0, 0], [0.5, 1], [0.2, 0]]), [0, 1, 1, 0])
    with _client(live_server) as http:
        run = http.post(f"{API}/runs/create", json={"experiment_id": "0"}).json()["run"]["info"]
        root = f"/api/2.0/mlflow-artifacts/artifacts/0/{run['run_id']}/artifacts/clf"
        assert http.put(f"{root}/MLmodel", content=_MLMODEL.encode()).status_code == 200
        assert http.put(f"{root}/model.pkl", content=pickle.dumps(model)).status_code == 200
        listed = http.get("/api/2.0/mlflow-artifacts/artifacts", params={"path": f"0/{run['run_id']}/artifacts/clf"})
        assert [item["path"] for item in listed.json()["files"]] == ["MLmodel", "model.pkl"]
        assert http.get(f"{root}/MLmodel").text == _MLMODEL
        http.post(f"{API}/runs/update", json={"run_id": run["run_id"], "status": "FINISHED"})

        created = http.post(f"{API}/registered-models/create", json={"name": "clf", "description": "first"})
        assert created.json()["registered_model"]["name"] == "clf"
        _error(http.post(f"{API}/registered-models/create", json={"name": "clf"}), 400, "RESOURCE_ALREADY_EXISTS")
        _error(http.get(f"{API}/registered-models/get", params={"name": "nope"}), 404, "RESOURCE_DOES_NOT_EXIST")
        # Registered after the run ended, as MLflow clients do.
        version = http.post(
            f"{API}/model-versions/create",
            json={"name": "clf", "source": f"runs:/{run['run_id']}/clf", "run_id": run["run_id"]},
        ).json()["model_version"]
        assert (version["version"], version["status"], version["current_stage"]) == ("1", "READY", "None")
        assert version["source"] == f"mlflow-artifacts:/0/{run['run_id']}/artifacts/clf"
        uri = http.get(f"{API}/model-versions/get-download-uri", params={"name": "clf", "version": "1"}).json()
        assert uri == {"artifact_uri": version["source"]}
        assert (
            http.post(f"{API}/registered-models/alias", json={"name": "clf", "alias": "prod", "version": "1"}).json()
            == {}
        )
        by_alias = http.get(f"{API}/registered-models/alias", params={"name": "clf", "alias": "prod"}).json()
        assert by_alias["model_version"]["aliases"] == ["prod"]
        found = http.get(f"{API}/model-versions/search", params={"filter": "name='clf'"}).json()["model_versions"]
        assert [item["version"] for item in found] == ["1"]
        _error(
            http.post(f"{API}/model-versions/create", json={"name": "clf", "source": f"runs:/{run['run_id']}/nothing"}),
            400,
            "INVALID_PARAMETER_VALUE",
        )
        _error(
            http.get(f"{API}/model-versions/get", params={"name": "clf", "version": "9"}),
            404,
            "RESOURCE_DOES_NOT_EXIST",
        )
        _error(
            http.post(
                f"{API}/model-versions/transition-stage", json={"name": "clf", "version": "1", "stage": "Production"}
            ),
            501,
            "NOT_IMPLEMENTED",
        )
        # The mlpilot side: a real version with the signature translated.
        ours = http.get("/api/v1/models/clf/versions/1").json()
        assert ours["flavor"] == "sklearn" and ours["artifact_path"] == "clf/mlpilot_model"
        assert ours["signature"]["inputs"] == [
            {"name": "a", "type": "float", "nullable": False},
            {"name": "b", "type": "integer", "nullable": True},
        ]
