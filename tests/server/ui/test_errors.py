"""Error pages keep the frame: a refused action, an unknown id or a bad query value answers an
HTML page with the navigation bar of whoever is signed in, its status, and what to do instead.
Never FastAPI's 422 JSON, never a 500, never a traceback."""

from __future__ import annotations

import httpx
import pytest

from tests.server.ui.conftest import Filled, csrf_of, framed, sign_in

# (path, status, words the message must hold): every query and path value each page reads, badly.
BAD_VALUES = [
    ("/runs?page=abc", 400, "'page'"),
    ("/runs?page=-1", 400, "'page'"),
    ("/runs?page=0", 400, "'page'"),
    ("/runs?page=1.5", 400, "'page'"),
    ("/runs?page=100001", 400, "'page'"),
    ("/runs?order=bogus", 400, "bogus"),
    ("/runs?order=metrics.loss+sideways", 400, "sideways"),
    ("/runs?filter=metrics.accuracy+>>+1", 400, "filter"),
    ("/runs?filter=" + "x" * 5000, 400, ""),
    ("/runs?experiment=nope", 400, "nope"),
    ("/runs?experiment=%00", 400, ""),
    ("/runs/%20", 404, "not found"),
    ("/runs/" + "f" * 400, 404, "not found"),
    ("/compare", 400, "between 2 and"),
    ("/compare?run=a&run=b", 404, "'a'"),
    ("/compare?" + "&".join(f"run=r{i}" for i in range(11)), 400, "between 2 and"),
    ("/models/churn?version=abc", 400, "'version'"),
    ("/models/churn?version=-1", 400, "-1"),
    ("/models/churn?version=0", 400, "'version'"),
    ("/models/churn?version=99999999999999999999", 400, "'version'"),
    ("/models/churn?version=99", 404, "99"),
    ("/datasets/customers?version=abc", 400, "'version'"),
    ("/datasets/customers?version=0", 400, "'version'"),
    ("/datasets/customers?a=1&b=99999999999999999999", 400, "out of range"),
    ("/datasets/customers?version=7", 404, "7"),
    ("/datasets/customers?a=abc&b=1", 400, "abc"),
    ("/datasets/customers?a=1&b=9", 404, "9"),
    ("/datasets/%25", 404, "not found"),
    ("/deployments/" + "d" * 300, 404, "not found"),
    ("/monitoring?monitor=nope", 404, "nope"),
    ("/pipelines/runs/nope", 404, "nope"),
    ("/models?after=" + "x" * 1001, 400, "'after'"),
    ("/datasets?after=%00", 400, "'after'"),
    ("/deployments?after=%00", 400, "'after'"),
]


@pytest.fixture(scope="module")
def reader(filled: Filled) -> httpx.Client:
    with sign_in(filled.url, filled.reader_key) as http:
        yield http


@pytest.mark.parametrize(("path", "status", "needle"), BAD_VALUES, ids=[path[:60] for path, _, _ in BAD_VALUES])
def test_bad_values_give_an_html_error_in_the_frame(reader: httpx.Client, path: str, status: int, needle: str) -> None:
    response = reader.get(path)
    assert response.status_code == status, (path, response.text[-600:])
    framed(response, "reader")
    assert needle.lower() in response.text.lower().replace("&#39;", "'")


def test_a_bad_query_value_names_the_parameter_and_what_to_use(reader: httpx.Client) -> None:
    text = reader.get("/runs?page=abc").text
    assert '<span class="status">400</span>' in text
    assert "the query parameter &#39;page&#39; = &#39;abc&#39; is not valid" in text
    assert "What to do:" in text and "whole page number from 1" in text
    assert 'href="/runs">Back to runs' in text
    version = reader.get("/models/churn?version=abc").text
    assert "versions table" in version and 'href="/models">Back to models' in version


def test_an_unknown_id_keeps_the_frame_and_links_back(reader: httpx.Client) -> None:
    response = reader.get("/models/nope")
    assert response.status_code == 404
    framed(response, "reader")
    assert "model &#39;nope&#39;" in response.text or "nope" in response.text
    assert "What to do:" in response.text and 'href="/models">Back to models' in response.text


def test_a_refused_action_keeps_the_frame(filled: Filled) -> None:
    with sign_in(filled.url, filled.reader_key) as http:
        csrf = csrf_of(http, "/deployments/churn-canary")
        refused = http.post("/deployments/churn-canary/rollback", data={"csrf": csrf})
        assert refused.status_code == 403
        framed(refused, "reader")
        assert "deploy" in refused.text and "What to do:" in refused.text
    with sign_in(filled.url, filled.deployer_key) as http:
        csrf = csrf_of(http, "/deployments/churn-canary")
        bad = http.post("/deployments/nope/rollback", data={"csrf": csrf})
        assert bad.status_code == 404
        framed(bad, "deployer")


def test_data_endpoints_keep_json_errors(reader: httpx.Client) -> None:
    missing = reader.get("/ui/data/deployments/nope/rate")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"
    with httpx.Client(base_url=str(reader.base_url)) as anonymous:
        assert anonymous.get("/ui/data/deployments/churn-api/rate").json()["error"]["code"] == "UNAUTHENTICATED"


def test_an_error_without_a_session_offers_to_sign_in(filled: Filled) -> None:
    with httpx.Client(base_url=filled.url, headers={"Origin": filled.url}) as anonymous:
        response = anonymous.post("/deployments/churn-api/rollback", data={"csrf": "x"})
        assert response.status_code == 401
        assert 'href="/login">Sign in' in response.text and "Sign out" not in response.text
