"""Long lists: models, datasets and deployments page by name (First page, Next); lists whose
services cannot page cheaply say when they are cut and where the rest is. The page sizes are
lowered here so the shared store's few rows are enough (the server runs in this process)."""

from __future__ import annotations

import html
from collections.abc import Iterator

import httpx
import pytest

from mlpilot import deployments as deployment_service
from mlpilot.server.ui import deployments, experiments, listing, operations
from mlpilot.tracking import experiments as experiment_service
from tests.server.ui.conftest import ODD_DATASET, Filled, sign_in


@pytest.fixture(scope="module")
def reader(filled: Filled) -> Iterator[httpx.Client]:
    with sign_in(filled.url, filled.reader_key) as http:
        yield http


@pytest.fixture
def one_a_page(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listing, "PAGE_SIZE", 1)


def _next_link(text: str) -> str:
    end = text.index('">Next →')
    return html.unescape(text[text.rindex('href="', 0, end) + len('href="') : end])


@pytest.mark.usefixtures("one_a_page")
@pytest.mark.parametrize(
    ("section", "first", "second"),
    [("datasets", "customers", ODD_DATASET), ("deployments", "churn-api", "churn-canary")],
)
def test_a_list_pages_by_name(reader: httpx.Client, section: str, first: str, second: str) -> None:
    front = reader.get(f"/{section}")
    assert front.status_code == 200
    assert html.escape(first, quote=False) in front.text and html.escape(second, quote=False) not in front.text
    assert "First page" not in front.text and "the first 1 by name" in front.text
    link = _next_link(front.text)
    assert link == "?" + str(httpx.QueryParams({"after": first}))
    following = reader.get(f"/{section}{link}")
    assert following.status_code == 200
    assert html.escape(second, quote=False) in following.text
    assert f'title="{first}"' not in following.text  # the first page's row is not repeated
    assert 'href="?">← First page' in following.text and "Next →" not in following.text
    assert f"after “{first}”" in following.text


@pytest.mark.usefixtures("one_a_page")
def test_a_list_that_fills_its_page_exactly_has_no_next(reader: httpx.Client) -> None:
    models = reader.get("/models").text  # one model, one a page
    assert "churn" in models and "Next →" not in models and "First page" not in models
    later = reader.get("/models", params={"after": "a"}).text
    assert "/models/churn" in later and 'href="?">← First page' in later and "Next →" not in later


def test_past_the_end_says_so_and_links_back(reader: httpx.Client) -> None:
    for section, what in (("models", "models"), ("datasets", "datasets"), ("deployments", "deployments")):
        response = reader.get(f"/{section}", params={"after": "zzz"})
        assert response.status_code == 200
        assert f"No {what} after “zzz”" in response.text and 'href="?">Back to the first page' in response.text
        assert " yet." not in response.text  # not the empty store's line


def test_a_short_list_has_no_pager(reader: httpx.Client) -> None:
    for section in ("models", "datasets", "deployments"):
        text = reader.get(f"/{section}").text
        assert 'class="pager"' not in text, section


def test_cut_lists_say_so(reader: httpx.Client, filled: Filled, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "capped" not in reader.get("/monitoring").text
    monkeypatch.setattr(operations, "MAX_ALERTS", 1)  # the fixture's monitor opened two alerts
    text = reader.get("/monitoring").text
    assert "Showing the newest 1 alerts, open and resolved" in text and "mlpilot monitors alerts" in text
    assert text.count('<p class="muted">None.</p>') == 1  # the one alert shown is open or resolved
    # A deployment of its own with two events (created, updated), gone again before other tests
    # list deployments. A list exactly at its cap is whole: the one row read beyond it tells.
    name = "zz-events"
    deployment_service.create_deployment(filled.db, name, "churn@production", actor="test")
    try:
        deployment_service.update_deployment(filled.db, name, config={"max_batch_size": 8}, actor="test")
        assert len(deployment_service.deployment_events(filled.db, name, limit=1000)) == 2
        monkeypatch.setattr(deployments, "MAX_EVENTS", 2)
        assert "Showing the newest" not in reader.get(f"/deployments/{name}").text
        monkeypatch.setattr(deployments, "MAX_EVENTS", 1)
        text = reader.get(f"/deployments/{name}").text
        assert "Showing the newest 1 events" in text and f"mlpilot deployments events {name}" in text
    finally:
        deployment_service.delete_deployment(filled.db, name, actor="test")


def test_the_runs_page_keeps_an_experiment_past_its_selectors_cap(
    reader: httpx.Client, filled: Filled, monkeypatch: pytest.MonkeyPatch
) -> None:
    experiment_service.get_or_create_experiment(filled.db, "zz-unlisted")  # the store has one otherwise
    names = [item.name for item in experiment_service.list_experiments(filled.db, limit=100)]
    assert len(names) >= 2
    monkeypatch.setattr(experiments, "MAX_EXPERIMENTS", 1)
    text = reader.get("/runs", params={"experiment": names[-1]}).text
    chosen = html.escape(names[-1])
    assert f'<option value="{chosen}" selected>{chosen}</option>' in text
    assert text.count("<option") == 3  # all experiments, the one under the cap, the chosen one
    listed = reader.get("/runs", params={"experiment": names[0]}).text
    assert listed.count("<option") == 2 and "selected" in listed
