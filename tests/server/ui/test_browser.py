"""The UI in a real headless Chromium (Debian's, driven by Playwright): pages load without console
errors, charts draw, runs compare, a rollback click moves traffic, a read-only key cannot act."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from mlpilot import deployments as deployment_service
from tests.server.ui.conftest import Filled
from tests.server.ui.test_pages import filled_pages

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    if not shutil.which(CHROMIUM):
        message = f"{CHROMIUM} is not installed (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield launched
        launched.close()


class Session:
    """A signed-in browser tab that records console errors and uncaught exceptions."""

    def __init__(self, browser: sync_api.Browser, url: str, key: str) -> None:
        self.url = url
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("dialog", lambda dialog: dialog.accept())
        self.page.goto(f"{url}/login")
        self.page.fill("input[name=key]", key)
        self.page.click("button:has-text('Sign in')")
        self.page.wait_for_url("**/runs")

    def open(self, path: str) -> sync_api.Page:
        self.page.goto(self.url + path)
        self.page.wait_for_load_state("load")
        return self.page

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def deployer(browser: sync_api.Browser, filled: Filled) -> Iterator[Session]:
    session = Session(browser, filled.url, filled.deployer_key)
    yield session
    session.close()


def test_every_page_loads_without_console_errors_and_draws_its_charts(deployer: Session, filled: Filled) -> None:
    for path in filled_pages(filled):
        page = deployer.open(path)
        charts = page.locator(".chart")
        for index in range(charts.count()):
            # plotly has drawn the figure once its root svg is in the div
            charts.nth(index).locator("svg.main-svg").first.wait_for(timeout=10_000)
        assert deployer.errors == [], (path, deployer.errors)
    assert deployer.open("/models/churn").locator(".lineage svg .node").count() == 4


def test_compare_runs_from_the_table(deployer: Session) -> None:
    page = deployer.open("/runs?experiment=churn")
    button = page.locator("#compare")
    assert button.is_disabled()
    boxes = page.locator("input.pick")
    boxes.nth(0).check()
    boxes.nth(1).check()
    assert button.inner_text() == "Compare 2 runs"
    button.click()
    page.wait_for_url("**/compare?run=*")
    page.locator(".chart svg.main-svg").first.wait_for()
    assert page.locator(".chart").count() == 2  # accuracy and loss, one curve per run
    assert page.locator(".chart").first.locator("g.trace").count() == 2
    assert "params.C" in page.content()
    assert deployer.errors == []


def test_a_rollback_click_moves_traffic(deployer: Session, filled: Filled) -> None:
    assert deployment_service.resolve_traffic(filled.db, "churn-api").primary == 2
    page = deployer.open("/deployments/churn-api")
    page.click("button:has-text('Roll back')")
    page.wait_for_load_state("load")
    traffic = deployment_service.resolve_traffic(filled.db, "churn-api")
    assert (traffic.primary, traffic.pinned, traffic.canary) == (1, True, None)
    assert "v1 · 100" in page.locator(".split").first.inner_text()
    assert deployer.errors == []


def test_a_read_only_key_sees_no_actions_and_cannot_post_them(browser: sync_api.Browser, filled: Filled) -> None:
    reader = Session(browser, filled.url, filled.reader_key)
    try:
        page = reader.open("/deployments/churn-api")
        assert page.locator("form.action").count() == 0
        assert page.locator("button:has-text('Roll back')").count() == 0
        before = deployment_service.resolve_traffic(filled.db, "churn-api")
        csrf = page.locator("input[name=csrf]").first.get_attribute("value")
        forged = page.request.post(
            f"{filled.url}/deployments/churn-api/rollback", form={"csrf": csrf or ""}, headers={"Origin": filled.url}
        )
        assert forged.status == 403
        assert deployment_service.resolve_traffic(filled.db, "churn-api") == before
    finally:
        reader.close()


def test_monitoring_draws_the_drift_heatmap_and_the_accuracy_chart(deployer: Session) -> None:
    page = deployer.open("/monitoring?monitor=churn-watch")
    charts = page.locator(".chart")
    assert charts.count() == 2
    heatmap, accuracy = charts.nth(0), charts.nth(1)
    for figure in (heatmap, accuracy):
        figure.locator("svg.main-svg").first.wait_for(timeout=10_000)
    # One row per feature: the model's two inputs, its prediction and each class's probability.
    rows = heatmap.locator("g.ytick text").evaluate_all("nodes => nodes.map(node => node.textContent)")
    assert sorted(rows) == ["prediction", "proba:0", "proba:1", "x1", "x2"]
    assert heatmap.locator("g.hm image").count() == 1  # plotly paints a heatmap's cells as one image
    names = accuracy.locator("g.legend text.legendtext").evaluate_all("nodes => nodes.map(node => node.textContent)")
    assert {"live accuracy", "estimated accuracy", "offline accuracy"} <= set(names)
    assert accuracy.locator("g.trace.scatter").count() >= 3
    assert deployer.errors == []


def test_an_error_page_keeps_the_navigation(deployer: Session) -> None:
    page = deployer.open("/models/churn?version=abc")
    assert page.locator("header.bar nav a", has_text="Experiments").is_visible()
    assert page.locator("header.bar .who", has_text="deployer").is_visible()
    assert "'version'" in page.locator("main .problem").inner_text()
    # The browser reports the page's own status as a console error; nothing else may fail.
    assert deployer.errors == ["Failed to load resource: the server responded with a status of 400 (Bad Request)"]
    page.click("text=Back to models")
    page.wait_for_url("**/models")


def test_an_unknown_address_is_a_404_page_with_the_navigation(deployer: Session) -> None:
    response = deployer.page.goto(f"{deployer.url}/runs/does-not-exist-page/extra")
    assert response is not None and response.status == 404
    page = deployer.page
    assert page.locator("header.bar nav a", has_text="Runs").is_visible()
    assert "no page at /runs/does-not-exist-page/extra" in page.locator("main .problem").inner_text()
    assert deployer.errors == ["Failed to load resource: the server responded with a status of 404 (Not Found)"]
    page.click("text=Back to runs")
    page.wait_for_url("**/runs")
