"""Unknown addresses: a browser gets the UI's 404 page in the frame (or, signed out, the sign-in
page, whether or not the thing exists); API clients, scripts and static files keep the JSON 404."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.server.ui.conftest import Filled, framed, sign_in

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}

# (address, the list its page links back to, or None for the start page only)
UNKNOWN_PAGES = [
    ("/nothing-here", None),
    ("/runs/does-not-exist-page/extra", "runs"),
    ("/models/churn/versions/1", "models"),
    ("/deployments/churn-api/extra/more", "deployments"),
    ("/dora/2024", "dora"),
]
# Unknown objects behind real routes: the same 404 frame, from the page's own lookup.
UNKNOWN_OBJECTS = ["/runs/0123456789abcdef", "/models/nope", "/datasets/nope", "/deployments/nope"]


@pytest.fixture(scope="module")
def reader(filled: Filled) -> Iterator[httpx.Client]:
    with sign_in(filled.url, filled.reader_key) as http:
        http.headers.update(BROWSER)
        yield http


@pytest.mark.parametrize(("path", "section"), UNKNOWN_PAGES)
def test_an_unknown_address_is_a_404_page_in_the_frame(reader: httpx.Client, path: str, section: str | None) -> None:
    response = reader.get(path)
    assert response.status_code == 404
    framed(response, "reader")
    text = response.text
    assert '<span class="status">404</span> not found' in text
    assert f"there is no page at {path}" in text and "What to do:" in text
    assert 'href="/">Back to the start' in text
    if section:
        assert f'href="/{section}">Back to' in text
    assert "default-src 'self'" in response.headers["content-security-policy"]


@pytest.mark.parametrize("path", UNKNOWN_OBJECTS)
def test_an_unknown_object_is_a_404_page_in_the_frame(reader: httpx.Client, path: str) -> None:
    response = reader.get(path)
    assert response.status_code == 404
    framed(response, "reader")
    assert "What to do:" in response.text


def test_a_long_unknown_address_is_cut_in_the_message(reader: httpx.Client) -> None:
    response = reader.get("/" + "x" * 5000)
    assert response.status_code == 404
    assert "no page at /" + "x" * 199 + "…" in response.text and "x" * 200 not in response.text


@pytest.mark.parametrize(
    "path",
    [
        *[path for path, _ in UNKNOWN_PAGES],
        *UNKNOWN_OBJECTS,
        "/models/churn",  # exists: the same answer as for what does not
        "/runs",
    ],
)
def test_signed_out_browsers_are_sent_to_sign_in_whether_or_not_it_exists(filled: Filled, path: str) -> None:
    with httpx.Client(base_url=filled.url, headers=BROWSER) as anonymous:
        response = anonymous.get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=%2F")
    assert response.content == b""


def test_api_paths_keep_the_json_404_even_for_a_browser(filled: Filled) -> None:
    key = {"Authorization": f"Bearer {filled.server.admin_key}"}
    with sign_in(filled.url, filled.reader_key) as http:
        http.headers.update(BROWSER)
        for path, headers in [
            ("/api/v1/nothing-here", key),
            ("/api/v1/runs/0123456789abcdef", key),
            ("/api/2.0/mlflow/nothing-here", key),
            ("/ajax-api/2.0/mlflow/nothing-here", key),
            ("/v1/deployments/nope/extra", {}),
            ("/v2/nothing-here", {}),
            ("/ui/static/nope.css", {}),
            ("/ui/static/a/b.js", {}),
            ("/ui/data/nothing-here", {}),
            ("/docs-assets/nope.js", {}),
            ("/metrics/nope", {}),
            ("/healthz/nope", {}),
        ]:
            response = http.get(path, headers=headers)
            assert response.status_code == 404, (path, response.status_code, response.text[:300])
            assert response.headers["content-type"].startswith("application/json"), (path, response.text[:300])
            assert "error" in response.json() or "error_code" in response.json(), path


def test_programs_and_other_methods_keep_json(filled: Filled) -> None:
    with sign_in(filled.url, filled.reader_key) as http:
        # httpx, like curl, accepts */*: a program reads this answer, not a person.
        plain = http.get("/nothing-here")
        assert plain.status_code == 404 and plain.json()["error"]["code"] == "NOT_FOUND"
        posted = http.post("/nothing-here", headers=BROWSER)
        assert posted.status_code == 404 and posted.json()["error"]["code"] == "NOT_FOUND"
        # A wrong method on a real address is still 405, not a 404 page.
        wrong = http.get("/deployments/churn-api/rollback", headers=BROWSER)
        assert wrong.status_code == 405 and wrong.headers["content-type"].startswith("application/json")
