"""Property-based fuzzing of the whole HTTP API against its own OpenAPI document (schemathesis).

Every operation of the live server's document gets a bounded number of generated requests, valid
(positive) and invalid (negative), sent with the admin key to a server whose store already holds
an experiment, RUNNING and ended runs with params, metrics, an artifact and a dataset, and a
registered model with two versions and an alias. Generated path parameters, query parameters and
JSON body fields are often swapped for those seeded names (all at once, or each on its own), so the
fuzzer reaches the handlers' happy paths and not only their 404s; the test checks that it does.
Every response must:

* not be a server error (5xx), nor a traceback, nor a 401/403 for the admin key;
* have a status code the document declares for the operation;
* have a declared content type and a body that validates against the declared schema.

Operations are driven one by one with Hypothesis through ``APIOperation.as_strategy`` rather than
``schemathesis.pytest.from_fixture``: that loader reads ``Node._nodeid``, which pytest 9.2 removed.
Failures of all operations are collected, then reported together.
"""

from __future__ import annotations

import io
import os
import time
from dataclasses import dataclass
from typing import Any

import hypothesis.strategies as st
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sklearn.linear_model import LogisticRegression

import mlpilot
from mlpilot.security.keys import BOOTSTRAP_KEY_NAME
from tests.conftest import LiveServer

# Per operation and per mode (positive, negative). A fixed seed keeps CI reproducible; set
# MLPILOT_FUZZ_SEED and MLPILOT_FUZZ_EXAMPLES to explore further locally.
MAX_EXAMPLES = int(os.environ.get("MLPILOT_FUZZ_EXAMPLES", "15"))
SEED = int(os.environ.get("MLPILOT_FUZZ_SEED", "20261122"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
PARQUET = "application/vnd.apache.parquet"


MODEL = "churn"
DATASET = "customers"
EXPERIMENT = "churn-experiment"
ALIAS = "champion"
ARTIFACT = "notes/summary.txt"
METRIC = "acc"
DEPLOYMENT = "churn-api"
MONITOR = "watch"


@dataclass(frozen=True)
class Seeded:
    """What the seeded store holds: the names and ids the fuzzer aims requests at."""

    server: LiveServer
    experiment_id: int
    run_id: str  # RUNNING, with params, metrics, an artifact, a dataset and a model
    ended_run_id: str
    spare_run_id: str  # RUNNING and empty, for the fuzzer to end


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def seeded(live_server: LiveServer) -> Seeded:
    """An experiment; a RUNNING run with params, metrics, an artifact, a dataset and a model, which
    is registered twice with an alias moved once; an ended run; a spare RUNNING run."""
    from tests.models.factories import cancer

    frame, target = cancer()
    frame, target = frame.head(120), target.head(120)
    with mlpilot.connect(live_server.url, api_key=live_server.admin_key) as client:
        experiment = client.create_experiment(EXPERIMENT, description="seeded for the fuzzer")
        ended = client.create_run(experiment.id, name="ended")
        client.log_metric(ended.id, METRIC, 0.5)
        client.end_run(ended.id)
        run = client.create_run(experiment.id, name="seeded", tags={"team": "growth"})
        client.log_params(run.id, {"C": 1.0, "penalty": "l2"})
        for step, value in enumerate((0.71, 0.83, 0.9)):
            client.log_metric(run.id, METRIC, value, step=step)
        client.log_text(run.id, "a seeded artifact\n", ARTIFACT)
        client.log_dataset(run.id, frame, DATASET, role="train")
        client.register_dataset(frame.head(60), DATASET)
        model: Any = LogisticRegression(max_iter=2000).fit(frame, target)
        client.log_model(run.id, model, "model", input_example=frame.head(3))
        client.register_model(run.id, "model", MODEL, description="seeded")
        client.register_model(run.id, "model", MODEL)
        client.set_alias(MODEL, ALIAS, 1)
        client.set_alias(MODEL, ALIAS, 2)
        spare = client.create_run(experiment.id, name="spare")
        client.create_deployment(DEPLOYMENT, f"{MODEL}@{ALIAS}")
        client.create_monitor(MONITOR, DEPLOYMENT, {"window": "1h"})
        client.flush()
    return Seeded(live_server, experiment.id, run_id=run.id, ended_run_id=ended.id, spare_run_id=spare.id)


def _parquet_sample() -> bytes:
    import pandas as pd

    buffer = io.BytesIO()
    pd.DataFrame({"x": [1, 2, 3], "label": ["a", "b", "a"]}).to_parquet(buffer)
    return buffer.getvalue()


def _options(seeded: Seeded, path: str, name: str) -> list[Any]:
    """What the seeded store holds for parameter (or body field) ``name`` of the operation at ``path``."""
    datasets, models = "/datasets" in path, "/models/" in path
    if name == "run_id":
        # Ending a run is fuzzed on a run of its own: the others stay RUNNING for the rest of the fuzz.
        return [seeded.spare_run_id, seeded.ended_run_id] if path.endswith("/end") else [seeded.run_id]
    if name == "name":  # never /keys/{name}: the fuzzer must not aim at real keys
        if "/deployments" in path:
            return [DEPLOYMENT]
        if "/monitors" in path:
            return [MONITOR]
        return [DATASET] if datasets else [MODEL] if models else []
    if name == "version":
        return ["1", "2", "latest"] if datasets else ["1", "2", f"@{ALIAS}"]  # as ints where ints are wanted
    if name in ("a", "b"):
        return [f"{DATASET}:1", f"{DATASET}:latest"] if datasets else ["1", "2", f"@{ALIAS}"]
    return {
        "ref": [EXPERIMENT, str(seeded.experiment_id)],
        "experiment_id": [[seeded.experiment_id]] if path == "/api/v1/runs" else [seeded.experiment_id],
        "experiment": [[EXPERIMENT]],
        "alias": [ALIAS, "challenger"],
        "path": [ARTIFACT, "model/MLmodel"],
        "prefix": ["model", "notes/"],
        "artifact_path": ["model"],
        "key": [METRIC],
        "deployment": [DEPLOYMENT],
        "monitor": [MONITOR],
    }.get(name, [])


def _aim(seeded: Seeded, path: str, generated: Any) -> st.SearchStrategy[Any]:
    """The generated values; or all of them that name something swapped for seeded ones; or each
    swapped or not independently. Only dictionaries are aimed (bodies may be anything)."""
    if not isinstance(generated, dict) or not generated:
        return st.just(generated)
    every: dict[str, Any] = {}
    each: dict[str, st.SearchStrategy[Any]] = {}
    for name, value in generated.items():
        options = _options(seeded, path, name)
        if isinstance(value, int) and not isinstance(value, bool):  # e.g. PATCH …/versions/{version}
            options = [int(option) for option in options if str(option).isdecimal()]
        every[name] = st.sampled_from(options) if options else st.just(value)
        each[name] = st.one_of(st.just(value), every[name])
    return st.one_of(st.just(generated), st.fixed_dictionaries(every), st.fixed_dictionaries(each))


def _load_schema(server: LiveServer) -> Any:
    config = schemathesis.Config.from_dict({"generation": {"database": "none", "with-security-parameters": False}})
    # The document needs a key like the rest of the API.
    return schemathesis.openapi.from_url(
        f"{server.url}/api/v1/openapi.json", config=config, headers=auth(server.admin_key), timeout=30
    )


def _aimed_schema(seeded: Seeded) -> Any:
    server = seeded.server
    schema = _load_schema(server)
    admin_handles = {BOOTSTRAP_KEY_NAME, server.admin_key[:12]}  # its name and its prefix (mlp_xxxxxxxx)

    @schema.hook("flatmap_path_parameters")
    def aim_path(context: Any, parameters: dict[str, Any] | None) -> st.SearchStrategy[Any]:
        return _aim(seeded, context.operation.path, parameters)

    @schema.hook("flatmap_query")
    def aim_query(context: Any, query: dict[str, Any] | None) -> st.SearchStrategy[Any]:
        return _aim(seeded, context.operation.path, query)

    @schema.hook("flatmap_body")
    def aim_body(context: Any, body: Any) -> st.SearchStrategy[Any]:
        return _aim(seeded, context.operation.path, body)

    @schema.hook("filter_path_parameters")
    def spare_the_admin_key(context: Any, parameters: dict[str, Any] | None) -> bool:
        # Responses of GET /keys could lead a fuzzer to revoke the key it is fuzzing with.
        return not (context.operation.path.endswith("/keys/{name}") and (parameters or {}).get("name") in admin_handles)

    return schema


# Dataset uploads are Parquet: mostly arbitrary bytes, sometimes a real file (a new or the same version).
schemathesis.openapi.media_type(PARQUET, st.one_of(st.just(_parquet_sample()), st.binary(max_size=256)))


@pytest.mark.slow
@pytest.mark.parametrize("store_uri", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_every_operation_conforms_to_the_schema(seeded: Seeded) -> None:
    schema = _aimed_schema(seeded)
    session = requests.Session()
    headers = auth(seeded.server.admin_key)
    failures: list[str] = []
    tested: list[str] = []
    statuses: dict[str, set[int]] = {}
    started = time.monotonic()

    for result in schema.get_all_operations():
        operation = result.ok()  # an Err (a definition schemathesis cannot use) fails the test here
        tested.append(operation.label)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=MAX_EXAMPLES,
                deadline=None,
                database=None,
                phases=[Phase.explicit, Phase.generate],  # no shrinking: the server's state moves on
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            )
            @seed(SEED)
            @given(case=operation.as_strategy(generation_mode=mode))
            def fuzz(case: schemathesis.Case) -> None:
                response = case.call_and_validate(session=session, headers=headers, checks=CHECKS)
                statuses.setdefault(case.operation.label, set()).add(response.status_code)
                # The admin key stays valid through the run and holds every scope.
                assert response.status_code not in (401, 403), response.text
                assert b"Traceback" not in response.content

            try:
                fuzz()
            except Unsatisfiable:
                # Nothing in this operation can be made invalid (every string is a valid path segment).
                assert mode is GenerationMode.NEGATIVE, operation.label
            except (Exception, FailureGroup) as exc:  # FailureGroup is a BaseExceptionGroup
                failures.append(f"{operation.label} ({mode.value}):\n{exc}")

    session.close()
    assert len(tested) >= 40, tested
    # Aimed at the seeded store, most operations succeed at least once: the fuzz gets past the 404s.
    missed = [label for label in tested if not any(200 <= status < 300 for status in statuses.get(label, ()))]
    assert len(missed) <= len(tested) // 4, f"operations that never succeeded: {missed}"
    assert not failures, f"{len(failures)} failing operations after {time.monotonic() - started:.0f} s:\n\n" + (
        "\n\n".join(failures)
    )


# Bugs the fuzzer found outside the server package (reported, not fixed here). Strict: once fixed,
# these pass, fail as XPASS, and their marker goes.


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/api/v1/experiments/{ref}", {"path_parameters": {"ref": "³"}}),
        ("GET", "/api/v1/runs", {"query": {"experiment": ["³"]}}),
        ("POST", "/api/v1/experiments", {"body": {"name": "³"}}),
    ],
)
@pytest.mark.parametrize("store_uri", ["sqlite"], indirect=True)
def test_a_digit_that_is_not_a_number_is_not_a_server_error(
    live_server: LiveServer, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    case = _load_schema(live_server)[path][method].Case(**kwargs)
    case.call_and_validate(headers=auth(live_server.admin_key), checks=CHECKS)


@pytest.mark.parametrize("store_uri", ["sqlite"], indirect=True)
def test_non_finite_metric_values_conform_to_the_schema(live_server: LiveServer) -> None:
    with mlpilot.connect(live_server.url, api_key=live_server.admin_key) as client:
        run = client.create_run("non-finite")
        client.log_metric(run.id, "loss", float("nan"))
        client.flush()
    operation = _load_schema(live_server)["/api/v1/runs/{run_id}/metrics"]["GET"]
    case = operation.Case(path_parameters={"run_id": run.id}, query={"key": "loss"})
    case.call_and_validate(headers=auth(live_server.admin_key), checks=CHECKS)
