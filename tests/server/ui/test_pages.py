"""Every page answers 200 on an empty store and on a filled one; unknown ids give a 404 page and
bad query values a 400 page, both inside the signed-in frame; plotly.js comes from the installed
wheel."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import LiveServer
from tests.server.ui.conftest import ODD_DATASET, Filled, sign_in

EMPTY_PAGES = ["/experiments", "/runs", "/datasets", "/models", "/deployments", "/monitoring", "/pipelines", "/dora"]


def filled_pages(filled: Filled) -> list[str]:
    a, b, c = filled.run_ids
    return [
        *EMPTY_PAGES,
        "/runs?experiment=churn&filter=metrics.accuracy+>+0.5&order=params.C+desc",
        "/runs?order=metrics.loss&page=2",
        f"/runs/{a}",
        f"/compare?run={a}&run={b}&run={c}",
        "/datasets/customers",
        "/datasets/customers?version=1&a=1&b=2",
        "/models/churn",
        "/models/churn?version=1",
        "/deployments/churn-api",
        "/monitoring?monitor=churn-watch",
        f"/pipelines/runs/{filled.pipeline_run}",
    ]


def test_every_page_renders_on_an_empty_store(live_server: LiveServer) -> None:
    with sign_in(live_server.url, live_server.admin_key) as http:
        assert http.get("/").headers["location"] == "/runs"
        for path in EMPTY_PAGES:
            response = http.get(path)
            assert response.status_code == 200, (path, response.text[-500:])
            assert "No " in response.text


def test_every_page_renders_with_data(filled: Filled) -> None:
    with sign_in(filled.url, filled.reader_key) as http:
        for path in filled_pages(filled):
            response = http.get(path)
            assert response.status_code == 200, (path, response.text[-800:])
            assert response.headers["content-type"].startswith("text/html")
            assert "script-src 'self'" in response.headers["content-security-policy"]
        runs = http.get("/runs?experiment=churn&order=params.C+desc").text
        assert runs.index("lr-c10.0") < runs.index("lr-c1.0") < runs.index("lr-c0.1")
        run = http.get(f"/runs/{filled.run_ids[0]}").text
        assert "notes/readme.txt" in run and "customers" in run and 'class="chart"' in run
        model = http.get("/models/churn").text
        assert "<svg" in model and "@production" in model and "lineage" in model.lower()
        dag = http.get(f"/pipelines/runs/{filled.pipeline_run}").text
        assert dag.count('class="node"') == 3 and "cached" in dag and "failed" in dag


def test_artifacts_download_with_the_session(filled: Filled) -> None:
    path = f"/runs/{filled.run_ids[0]}/artifacts/notes/readme.txt"
    with sign_in(filled.url, filled.reader_key) as http:
        response = http.get(path)
        assert response.status_code == 200 and response.text == "C=0.1\n"
        assert "attachment" in response.headers["content-disposition"]
        assert http.get(f"/runs/{filled.run_ids[0]}/artifacts/nope.txt").status_code == 404
    with httpx.Client(base_url=filled.url) as anonymous:
        assert anonymous.get(path).status_code == 303


@pytest.mark.parametrize(
    "path",
    [
        "/runs/0123456789abcdef",
        "/models/nope",
        "/models/churn?version=99",
        "/deployments/nope",
        "/datasets/nope",
        "/pipelines/runs/nope",
        "/monitoring?monitor=nope",
    ],
)
def test_unknown_ids_give_a_404_page(filled: Filled, path: str) -> None:
    with sign_in(filled.url, filled.reader_key) as http:
        response = http.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "not found" in response.text.lower()


def test_bad_input_gives_a_400_page(filled: Filled) -> None:
    with sign_in(filled.url, filled.reader_key) as http:
        bad_filter = http.get("/runs?filter=metrics.accuracy+>>+1")
        assert bad_filter.status_code == 400 and "<table" not in bad_filter.text
        assert http.get("/runs?experiment=nope").status_code == 400
        assert http.get(f"/compare?run={filled.run_ids[0]}").status_code == 400
        assert http.get("/runs?page=0").status_code == 400
        assert http.get("/datasets/customers?a=1&b=9").status_code == 404


def test_the_live_rate_endpoint_and_plotly_from_the_wheel(filled: Filled) -> None:
    with sign_in(filled.url, filled.reader_key) as http:
        rate = http.get("/ui/data/deployments/churn-api/rate").json()
        assert rate["rate"] == pytest.approx(40 / 5) and rate["error_rate"] == pytest.approx(1 / 40)
        assert http.get("/ui/data/deployments/nope/rate").json()["error"]["code"] == "NOT_FOUND"
        page = http.get("/deployments/churn-api").text
        start = page.index('src="/ui/static/plotly-') + 5
        script = http.get(page[start : page.index('"', start)])
        assert script.status_code == 200 and len(script.content) > 1_000_000
        assert "immutable" in script.headers["cache-control"]
        assert "cdn" not in page.lower()


def test_a_dataset_name_with_url_characters_links_to_its_page(filled: Filled) -> None:
    with sign_in(filled.url, filled.reader_key) as http:
        listing = http.get("/datasets").text
        start = listing.index('href="/datasets/team') + len('href="')
        link = listing[start : listing.index('"', start)]
        assert link == "/datasets/team%2Fchurn%3Fv%3D1%23raw%20100%25"
        page = http.get(link)
        assert page.status_code == 200 and f"<h1>{ODD_DATASET} " in page.text


def test_the_runs_table_shows_the_keys_most_runs_have() -> None:
    from mlpilot.server.ui.runs import _MAX_COLUMNS, _columns

    gate = {f"candidate.m{i:02d}": 1.0 for i in range(_MAX_COLUMNS)}
    training = [{"accuracy": 0.9, "loss": 0.1}] * 3
    shown = _columns([gate, *training])
    assert len(shown) == _MAX_COLUMNS and {"accuracy", "loss"} <= set(shown)
    assert shown == sorted(shown)


def test_an_empty_result_says_why_and_how_back(filled: Filled) -> None:
    with sign_in(filled.url, filled.reader_key) as http:
        far = http.get("/runs?experiment=churn&page=500")
        assert far.status_code == 200 and "No runs on page 500" in far.text and "No runs yet" not in far.text
        assert 'href="?experiment=churn&amp;filter=&amp;order=">Back to page 1' in far.text
        none = http.get("/runs", params={"filter": "metrics.accuracy > 5"})
        assert "No runs match <code>metrics.accuracy &gt; 5</code>" in none.text and "Clear the filter" in none.text
