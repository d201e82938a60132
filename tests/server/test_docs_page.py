"""The OpenAPI document needs a key; /docs is a page without data that asks for one.

The document describes every route, so like every route it is for key holders only (any scope).
/docs itself needs no key: it is a static form that keeps the key in the tab's sessionStorage and
starts Swagger UI, whose files (and the page's own script) come from /docs-assets, never a CDN.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from mlpilot.security.keys import create_key
from mlpilot.store import Database
from tests.conftest import LiveServer

OPENAPI = "/api/v1/openapi.json"
ASSETS = "/docs-assets/"


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def narrow_keys(live_server: LiveServer) -> dict[str, str]:
    """A key of each narrow scope, and a revoked one."""
    db = Database(live_server.settings.resolved_tracking_uri())
    try:
        keys = {scope: create_key(db, f"only-{scope}", [scope], actor="test")[1] for scope in ("read", "predict")}
    finally:
        db.dispose()
    return keys


def test_the_openapi_document_needs_a_key_of_any_scope(live_server: LiveServer, narrow_keys: dict[str, str]) -> None:
    with httpx.Client(base_url=live_server.url) as http:
        for headers in ({}, _bearer("mlp_not-a-key"), {"Authorization": f"Basic {live_server.admin_key}"}):
            refused = http.get(OPENAPI, headers=headers)
            assert refused.status_code == 401, refused.text
            assert refused.headers["content-type"] == "application/json"
            assert refused.json()["error"]["code"] == "UNAUTHENTICATED"
            assert refused.headers["WWW-Authenticate"] == "Bearer"
            assert "paths" not in refused.text
        for key in narrow_keys.values():
            document = http.get(OPENAPI, headers=_bearer(key))
            assert document.status_code == 200, document.text
            assert document.json()["openapi"].startswith("3.")


def test_the_document_declares_the_bearer_scheme_and_requires_it(live_server: LiveServer) -> None:
    document = httpx.get(live_server.url + OPENAPI, headers=_bearer(live_server.admin_key)).json()
    assert document["components"]["securitySchemes"]["ApiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": document["components"]["securitySchemes"]["ApiKey"]["description"],
    }
    assert document["security"] == [{"ApiKey": []}]
    # The health checks opt out explicitly; every API route states the requirement itself too.
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            expected = [] if path in ("/healthz", "/readyz") else [{"ApiKey": []}]
            assert operation["security"] == expected, (method, path)


class _Page(HTMLParser):
    """What a page loads and runs: script sources, inline scripts, links, event-handler attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.inline_scripts = 0
        self.links: list[str] = []
        self.handlers: list[str] = []
        self.inputs: list[dict[str, str | None]] = []
        self.forms: list[dict[str, str | None]] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.handlers += [name for name in found if name.startswith("on")]
        if tag == "script":
            if found.get("src"):
                self.scripts.append(str(found["src"]))
            else:
                self._in_script = True
        elif tag == "link":
            self.links.append(str(found.get("href")))
        elif tag == "input":
            self.inputs.append(found)
        elif tag == "form":
            self.forms.append(found)

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts += 1


def test_docs_is_a_key_form_that_loads_only_local_assets(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as http:
        response = http.get("/docs")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        html = response.text
        page = _Page()
        page.feed(html)

        # Scripts and styles from /docs-assets only, no inline script, no event-handler attributes,
        # and no URL of another host anywhere in the page.
        assert page.scripts == [f"{ASSETS}swagger-ui-bundle.js", f"{ASSETS}mlpilot-docs.js"]
        assert page.links and all(link.startswith(ASSETS) for link in page.links), page.links
        assert page.inline_scripts == 0 and page.handlers == []
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]", html, re.IGNORECASE), "an external URL"
        assert "cdn" not in html.lower()
        # The key is asked for in a password field that has no name, so no submission can carry it.
        [field] = page.inputs
        assert field["type"] == "password" and "name" not in field
        assert len(page.forms) == 1
        # The page takes a secret: only its own scripts run, it talks only to this server, it is never framed.
        policy = response.headers["Content-Security-Policy"]
        for directive in ("script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "form-action 'none'"):
            assert directive in policy
        # It holds no data of the API: the document is fetched with the key, by the script.
        assert "/api/v1/openapi.json" in html and '"paths"' not in html

        # Every asset the page loads is served to anyone: vendor and package files, no data.
        for asset in [*page.scripts, *page.links]:
            assert http.get(asset).status_code == 200, asset
        script = http.get(f"{ASSETS}mlpilot-docs.js").text

    # The script keeps the key in sessionStorage only and adds it to every request to this server.
    assert "window.sessionStorage.setItem" in script
    assert not re.search(r"localStorage\s*[.\[]|document\.cookie|location\.(search|hash)\s*=", script)
    assert "requestInterceptor" in script and '"Bearer " + key' in script
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]", script, re.IGNORECASE)


def test_the_docs_files_are_package_data() -> None:
    """The page and its assets ship in the wheel: pyproject's package-data names them."""
    import tomllib

    import mlpilot.apidocs

    root = Path(mlpilot.apidocs.__file__).parent
    patterns = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["mlpilot"]
    shipped = {path for pattern in patterns for path in root.parent.glob(pattern)}
    for name in ("static/docs.html", "static/assets/mlpilot-docs.js", "static/assets/mlpilot-docs.css"):
        assert root / name in shipped, name
