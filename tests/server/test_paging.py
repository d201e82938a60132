"""Every listing route pages: ``max_results`` (capped by the server) and an opaque ``page_token``.

A server whose cap is 3 holds seven of everything. Walking each listing page by page gives
disjoint pages that together are the whole listing, in its documented order; a token that is not
the listing's own is a 400 JSON error, never a 500; ``max_results`` above the cap is the cap (as run
search always did) and below 1 a 422; and the remote client follows the tokens to the end, so its
lists are complete.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import mlpilot
from mlpilot.data import versions as dataset_service
from mlpilot.registry import versions as model_service
from mlpilot.security import keys as key_service
from mlpilot.store import Database
from mlpilot.store.paging import encode_token
from mlpilot.tracking import experiments as experiment_service
from tests.conftest import LiveServer
from tests.models.factories import iris

CAP = 3
COUNT = 7
MODEL = "model-a"
DATASET = "dataset-a"


@dataclass(frozen=True)
class Listing:
    """A listing route, the field of its records, what identifies and orders a record, and the
    type of its page key (what its tokens hold: another listing's token of the same type is a
    valid, if meaningless, position)."""

    path: str
    field: str
    identity: Callable[[dict[str, Any]], Any]
    order: Callable[[dict[str, Any]], Any]
    key: str
    params: tuple[tuple[str, str], ...] = ()


def _version(record: dict[str, Any]) -> int:
    return int(record["version"])


LISTINGS = [
    Listing("/api/v1/experiments", "experiments", lambda e: e["name"], lambda e: e["id"], "int"),
    Listing("/api/v1/models", "models", lambda m: m["name"], lambda m: m["name"], "str"),
    Listing(f"/api/v1/models/{MODEL}/versions", "versions", _version, _version, "int"),
    Listing(
        f"/api/v1/models/{MODEL}/versions", "versions", _version, _version, "int", (("include_archived", "false"),)
    ),
    Listing("/api/v1/datasets", "datasets", lambda d: d["name"], lambda d: d["name"], "str"),
    Listing(f"/api/v1/datasets/{DATASET}/versions", "versions", _version, _version, "int"),
    Listing("/api/v1/keys", "keys", lambda k: k["name"], lambda k: (k["created_at"], k["name"]), "(int, str)"),
]


def _label(listing: Listing) -> str:
    return listing.path + "".join(f"?{name}={value}" for name, value in listing.params)


@pytest.fixture
def paged_server(store_uri: str, tmp_path: Path, isolated_env: Path) -> Iterator[LiveServer]:
    """A server with a page cap of 3 and seven of everything: experiments, models, versions of one
    model (one archived), datasets, versions of one dataset, and keys; and two runs."""
    server = LiveServer(
        store_uri, str(tmp_path / "artifacts"), tmp_path / "home", server_max_results=CAP, server_rate_limit=0
    )
    server.start()
    frame, target = iris()
    model: Any = LogisticRegression(max_iter=500).fit(frame, target)
    with mlpilot.connect(server.url, api_key=server.admin_key) as client:
        for index in range(COUNT):
            client.create_experiment(f"experiment-{index}")
        run = client.create_run("experiment-0")
        client.log_model(run.id, model, "model")
        for _ in range(COUNT):
            client.register_model(run.id, "model", MODEL)
        for index in range(1, COUNT):  # names that sort the same under any collation
            client.register_model(run.id, "model", f"model-{chr(ord('a') + index)}")
        client.archive_model_version(MODEL, 2)
        for index in range(COUNT):
            client.register_dataset(pd.DataFrame({"x": range(index + 1)}), DATASET)
        for index in range(1, COUNT):
            client.register_dataset(pd.DataFrame({"x": [index]}), f"dataset-{chr(ord('a') + index)}")
        for index in range(COUNT - 1):  # and the bootstrap key makes seven
            client.create_api_key(f"key-{index}", "read")
        client.end_run(run.id)
        client.end_run(client.create_run("experiment-1").id)  # two runs: run search has a second page too
    yield server
    server.stop()


def _http(server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.admin_key}"}, timeout=30)


def _walk(http: httpx.Client, listing: Listing, token: str | None = None, **params: Any) -> list[list[dict[str, Any]]]:
    """The pages of ``listing`` from the one ``token`` names (the first, when None) to the last."""
    pages: list[list[dict[str, Any]]] = []
    while True:
        response = http.get(listing.path, params={**dict(listing.params), **params, "page_token": token})
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {listing.field, "next_page_token"}, body
        pages.append(body[listing.field])
        token = body["next_page_token"]
        if token is None:
            return pages
        assert len(pages) <= COUNT, "the pages never end"


def _everything(server: LiveServer, listing: Listing) -> list[Any]:
    """The identities of the whole listing, from the service in one unpaged call."""
    db = Database(server.settings.resolved_tracking_uri())
    try:
        if listing.field == "experiments":
            return [e.name for e in experiment_service.list_experiments(db)]
        if listing.field == "models":
            return [m.name for m in model_service.list_models(db)]
        if listing.field == "datasets":
            return [d.name for d in dataset_service.list_datasets(db)]
        if listing.field == "keys":
            return [k.name for k in key_service.list_keys(db)]
        if listing.path.startswith("/api/v1/models/"):
            archived = dict(listing.params).get("include_archived") != "false"
            return [v.version for v in model_service.list_versions(db, MODEL, include_archived=archived)]
        return [v.version for v in dataset_service.list_versions(db, DATASET)]
    finally:
        db.dispose()


def test_pages_are_disjoint_complete_and_in_order(paged_server: LiveServer) -> None:
    with _http(paged_server) as http:
        for listing in LISTINGS:
            expected = _everything(paged_server, listing)
            assert len(expected) >= COUNT - 1, (_label(listing), expected)  # more than two pages' worth
            for size in (1, 2, CAP):
                pages = _walk(http, listing, max_results=size)
                assert all(len(page) == size for page in pages[:-1]), (_label(listing), size, pages)
                assert 0 < len(pages[-1]) <= size, (_label(listing), size)
                records = [record for page in pages for record in page]
                seen = [listing.identity(record) for record in records]
                assert seen == expected, (_label(listing), size)  # complete, each once, in the service's order
                orders = [listing.order(record) for record in records]
                assert orders == sorted(orders) and len(set(orders)) == len(orders), _label(listing)
    assert _everything(paged_server, LISTINGS[3]) == [1, 3, 4, 5, 6, 7]  # the archived version is left out


def test_max_results_above_the_cap_is_the_cap_and_below_one_is_422(paged_server: LiveServer) -> None:
    with _http(paged_server) as http:
        for listing in LISTINGS:
            for params in ({}, {"max_results": CAP + 1}, {"max_results": 10**6}):
                body = http.get(listing.path, params={**dict(listing.params), **params}).json()
                assert len(body[listing.field]) == CAP and body["next_page_token"], (_label(listing), params)
            for bad in ("0", "-1", "many"):
                response = http.get(listing.path, params={**dict(listing.params), "max_results": bad})
                assert response.status_code == 422, (_label(listing), bad, response.text)
                assert response.json()["error"]["code"] == "INVALID_REQUEST"


def _raw_token(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


BAD_TOKENS = [
    "not a token",
    "%%%",
    "bm90IGpzb24",  # base64 of "not json"
    _raw_token('{"offset": 3}'),
    encode_token(None),
    encode_token([1, 2, 3]),
    encode_token(True),
    encode_token(1.5),
    encode_token(2**70),  # beyond a 64-bit column
    encode_token("a\x00b"),  # text no database stores
    _raw_token('"\\ud800"'),  # a lone surrogate
    encode_token([2**70, "x"]),
]


def test_a_token_that_is_not_the_listings_own_is_a_400_json_error(paged_server: LiveServer) -> None:
    with _http(paged_server) as http:
        issued = [
            (listing, http.get(listing.path, params=dict(listing.params)).json()["next_page_token"])
            for listing in LISTINGS
        ]
        search_token = http.get("/api/v1/runs", params={"max_results": 1}).json()["next_page_token"]
        assert search_token and all(token for _, token in issued)
        for listing in LISTINGS:
            # Tokens of run search and of listings keyed by another type (a name where a number goes …).
            foreign = [token for other, token in issued if other.key != listing.key]
            for token in [*BAD_TOKENS, search_token, *foreign]:
                response = http.get(listing.path, params={**dict(listing.params), "page_token": token})
                assert response.status_code == 400, (_label(listing), token, response.text)
                error = response.json()["error"]
                assert error["code"] == "INVALID_INPUT", error
                assert "page token" in error["message"] and "next_page_token" in error["hint"], error
                assert "Traceback" not in response.text
        # And a listing token is no search token.
        response = http.get("/api/v1/runs", params={"page_token": issued[0][1]})
        assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_INPUT"


def test_an_empty_token_is_the_first_page(paged_server: LiveServer) -> None:
    with _http(paged_server) as http:
        for listing in LISTINGS:
            first = http.get(listing.path, params=dict(listing.params)).json()
            again = http.get(listing.path, params={**dict(listing.params), "page_token": ""}).json()
            assert first == again, _label(listing)


def test_a_page_token_resumes_after_its_key_while_the_listing_grows(paged_server: LiveServer) -> None:
    with _http(paged_server) as http, mlpilot.connect(paged_server.url, api_key=paged_server.admin_key) as client:
        first = http.get("/api/v1/experiments").json()
        # Created between two pages: a keyset token neither repeats nor skips anything.
        client.create_experiment("experiment-late")
        rest = _walk(http, LISTINGS[0], first["next_page_token"])
    names = [e["name"] for e in first["experiments"]] + [e["name"] for page in rest for e in page]
    assert names == [*(f"experiment-{index}" for index in range(COUNT)), "experiment-late"]


def test_the_remote_client_follows_the_tokens_to_complete_lists(paged_server: LiveServer) -> None:
    with mlpilot.connect(paged_server.url, api_key=paged_server.admin_key) as client:
        listed = {
            "experiments": [e.name for e in client.list_experiments()],
            "models": [m.name for m in client.list_registered_models()],
            "model versions": [v.version for v in client.list_model_versions(MODEL)],
            "ready model versions": [v.version for v in client.list_model_versions(MODEL, include_archived=False)],
            "datasets": [d.name for d in client.list_datasets()],
            "dataset versions": [v.version for v in client.list_dataset_versions(DATASET)],
            "keys": [k.name for k in client.list_api_keys()],
        }
    assert listed == {
        "experiments": [f"experiment-{index}" for index in range(COUNT)],
        "models": [f"model-{chr(ord('a') + index)}" for index in range(COUNT)],
        "model versions": list(range(1, COUNT + 1)),
        "ready model versions": [1, 3, 4, 5, 6, 7],
        "datasets": [f"dataset-{chr(ord('a') + index)}" for index in range(COUNT)],
        "dataset versions": list(range(1, COUNT + 1)),
        "keys": ["bootstrap-admin", *(f"key-{index}" for index in range(COUNT - 1))],
    }
