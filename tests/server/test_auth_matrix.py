"""Who may call what: every route of the live OpenAPI document against every kind of credential.

The routes come from the server's own document, so a new route is covered (and must be classified
below) without touching this file's logic. ``EXPECTED_SCOPE`` is the contract written out by hand:
a route whose scope changes, silently or not, fails here until the table is changed with it.

For every route: no key, a revoked key, a malformed key and a wrong secret behind a real prefix are
401 ``UNAUTHENTICATED`` (and never echo the key); each scope's key is 403 ``PERMISSION_DENIED`` where
it lacks the route's scope and gets past authorization (any status but 401 and 403) where it holds
it. Every error body is the JSON ``{"error": {...}}`` and no body carries a traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from mlpilot.security import Scope
from mlpilot.security.keys import create_key, revoke_key
from mlpilot.security.scopes import grants
from mlpilot.store import Database
from tests.conftest import LiveServer

OPENAPI = "/api/v1/openapi.json"
R, W, D, A = Scope.READ, Scope.WRITE, Scope.DEPLOY, Scope.ADMIN
PUBLIC = None

EXPECTED_SCOPE: dict[tuple[str, str], Scope | None] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    # experiments
    ("GET", "/api/v1/experiments"): R,
    ("POST", "/api/v1/experiments"): W,
    ("GET", "/api/v1/experiments/{ref}"): R,
    # runs
    ("GET", "/api/v1/runs"): R,
    ("POST", "/api/v1/runs"): W,
    ("GET", "/api/v1/runs/{run_id}"): R,
    ("GET", "/api/v1/runs/{run_id}/environment"): R,
    ("POST", "/api/v1/runs/{run_id}/end"): W,
    ("POST", "/api/v1/runs/{run_id}/params"): W,
    ("POST", "/api/v1/runs/{run_id}/tags"): W,
    ("POST", "/api/v1/runs/{run_id}/batch"): W,
    # metrics
    ("GET", "/api/v1/runs/{run_id}/metrics"): R,
    ("POST", "/api/v1/runs/{run_id}/metrics"): W,
    # artifacts
    ("GET", "/api/v1/runs/{run_id}/artifacts"): R,
    ("GET", "/api/v1/runs/{run_id}/artifacts/{path}"): R,
    ("PUT", "/api/v1/runs/{run_id}/artifacts/{path}"): W,
    # datasets
    ("GET", "/api/v1/datasets"): R,
    ("GET", "/api/v1/datasets/diff"): R,
    ("GET", "/api/v1/datasets/{name}/versions"): R,
    ("POST", "/api/v1/datasets/{name}/versions"): W,
    ("GET", "/api/v1/datasets/{name}/versions/{version}"): R,
    ("GET", "/api/v1/datasets/{name}/versions/{version}/runs"): R,
    ("GET", "/api/v1/datasets/{name}/versions/{version}/data"): R,
    # models and versions
    ("GET", "/api/v1/models"): R,
    ("GET", "/api/v1/models/{name}"): R,
    ("PATCH", "/api/v1/models/{name}"): W,
    ("GET", "/api/v1/models/{name}/versions"): R,
    ("POST", "/api/v1/models/{name}/versions"): W,
    ("GET", "/api/v1/models/{name}/versions/{version}"): R,
    ("PATCH", "/api/v1/models/{name}/versions/{version}"): W,
    ("POST", "/api/v1/models/{name}/versions/{version}/archive"): W,
    ("GET", "/api/v1/models/{name}/versions/{version}/lineage"): R,
    ("GET", "/api/v1/models/{name}/compare"): R,
    ("GET", "/api/v1/models/{name}/events"): R,
    # aliases: deploy
    ("PUT", "/api/v1/models/{name}/aliases/{alias}"): D,
    ("DELETE", "/api/v1/models/{name}/aliases/{alias}"): D,
    ("POST", "/api/v1/models/{name}/aliases/{alias}/rollback"): D,
    # keys and audit: admin
    ("GET", "/api/v1/keys"): A,
    ("POST", "/api/v1/keys"): A,
    ("DELETE", "/api/v1/keys/{name}"): A,
    ("GET", "/api/v1/audit"): A,
    # deployments
    ("GET", "/api/v1/deployments"): R,
    ("POST", "/api/v1/deployments"): D,
    ("GET", "/api/v1/deployments/{name}"): R,
    ("PATCH", "/api/v1/deployments/{name}"): D,
    ("DELETE", "/api/v1/deployments/{name}"): D,
    ("GET", "/api/v1/deployments/{name}/traffic"): R,
    ("POST", "/api/v1/deployments/{name}/rollback"): D,
    ("POST", "/api/v1/deployments/{name}/promote"): D,
    ("GET", "/api/v1/deployments/{name}/events"): R,
    # monitors: changing and running them needs deploy, like the deployments they watch
    ("GET", "/api/v1/monitors"): R,
    ("POST", "/api/v1/monitors"): D,
    ("GET", "/api/v1/monitors/{name}"): R,
    ("PATCH", "/api/v1/monitors/{name}"): D,
    ("DELETE", "/api/v1/monitors/{name}"): D,
    ("POST", "/api/v1/monitors/{name}/run"): D,
    ("GET", "/api/v1/monitors/{name}/results"): R,
    ("GET", "/api/v1/alerts"): R,
    # a version's reference profile: fitting it is a write, like registering the version
    ("GET", "/api/v1/models/{name}/versions/{version}/reference"): R,
    ("POST", "/api/v1/models/{name}/versions/{version}/reference"): W,
    # DORA metrics
    ("GET", "/api/v1/dora"): R,
}

# Well-formed values that name nothing: the requests that pass authorization change nothing.
PARAMETER_VALUES = {
    "run_id": "0123456789abcdef0123456789abcdef",
    "ref": "no-such-experiment",
    "name": "no-such-name",
    "version": "1",
    "alias": "champion",
    "path": "model/MLmodel",
    "key": "acc",
    "a": "1",
    "b": "2",
}
ERROR_KEYS = {"code", "message", "hint"}


def documented_scope(method: str, path: str) -> Scope | None:
    """The rule docs/server.md states, which the explicit table must agree with."""
    if not path.startswith("/api/v1/"):
        return PUBLIC
    if path.startswith(("/api/v1/keys", "/api/v1/audit")):
        return A
    if "/aliases/" in path or (path.startswith(("/api/v1/deployments", "/api/v1/monitors")) and method != "GET"):
        return D
    return R if method == "GET" else W


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    url: str
    params: dict[str, str]

    @property
    def label(self) -> str:
        return f"{self.method} {self.template}"


def routes_of(document: dict[str, Any]) -> list[Route]:
    """Every operation of the document, its path and required query parameters filled in."""
    found = []
    for template, operations in document["paths"].items():
        for method, operation in operations.items():
            url, params = template, {}
            for parameter in operation.get("parameters", []):
                value = PARAMETER_VALUES.get(parameter["name"]) or _by_type(parameter.get("schema", {}))
                if parameter["in"] == "path":
                    url = url.replace("{" + parameter["name"] + "}", value)
                elif parameter["in"] == "query" and parameter.get("required"):
                    params[parameter["name"]] = value
            assert "{" not in url, f"a path parameter of {method.upper()} {template} has no value"
            found.append(Route(method.upper(), template, url, params))
    return found


def _by_type(schema: dict[str, Any]) -> str:
    return "1" if schema.get("type") == "integer" else "x"


@dataclass(frozen=True)
class Credentials:
    by_scope: dict[Scope, str]  # one key per scope; admin is the bootstrap key
    revoked: str  # an admin key, revoked
    wrong_secret: str  # a real key's prefix with another secret


@pytest.fixture
def credentials(live_server: LiveServer) -> Credentials:
    db = Database(live_server.settings.resolved_tracking_uri())
    try:
        by_scope = {A: live_server.admin_key}
        for scope in Scope:
            if scope is not A:
                by_scope[scope] = create_key(db, f"only-{scope.value}", [scope], actor="test")[1]
        revoked = create_key(db, "revoked-admin", [A], actor="test")[1]
        revoke_key(db, "revoked-admin", actor="test")
    finally:
        db.dispose()
    real = by_scope[R]
    wrong = real[:13] + ("A" if real[13] != "A" else "B") + real[14:]
    return Credentials(by_scope, revoked, wrong)


def _headers(key: str | None) -> dict[str, str]:
    return {} if key is None else {"Authorization": f"Bearer {key}"}


def _call(http: httpx.Client, route: Route, headers: dict[str, str]) -> httpx.Response:
    return http.request(route.method, route.url, params=route.params, headers=headers)


def _error_of(response: httpx.Response) -> dict[str, Any] | None:
    """The ``error`` object of a JSON error body, or None."""
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else None


def _code(response: httpx.Response) -> str | None:
    error = _error_of(response)
    return None if error is None else error.get("code")


def _body_problems(response: httpx.Response, *secrets: str) -> list[str]:
    """What is wrong with a response body whatever its status: a traceback, an echoed key, an
    error that is not ``{"error": {"code", "message", "hint"}}``."""
    problems = []
    if b"Traceback" in response.content:
        problems.append("a traceback in the body")
    for secret in secrets:
        if secret.encode() in response.content or (len(secret) > 20 and secret[-20:].encode() in response.content):
            problems.append("the key is echoed in the body")
    if response.status_code >= 400:
        error = _error_of(response)
        if error is None or not error.keys() >= ERROR_KEYS:
            problems.append(f"not a JSON error body: {response.content[:200]!r}")
    return problems


def test_every_route_is_classified(live_server: LiveServer) -> None:
    document = httpx.get(live_server.url + OPENAPI, headers=_headers(live_server.admin_key)).json()
    served = {(route.method, route.template) for route in routes_of(document)}
    unclassified = sorted(served - EXPECTED_SCOPE.keys())
    stale = sorted(EXPECTED_SCOPE.keys() - served)
    assert not unclassified, f"routes without an expected scope in EXPECTED_SCOPE: {unclassified}"
    assert not stale, f"EXPECTED_SCOPE lists routes the server no longer has: {stale}"
    disagree = {route: scope for route, scope in EXPECTED_SCOPE.items() if scope is not documented_scope(*route)}
    assert not disagree, f"the table contradicts the documented rule: {disagree}"
    # The document requires the bearer scheme by default, and on exactly the routes that need a key.
    assert document["security"] == [{"ApiKey": []}]
    for method, template in served:
        operation = document["paths"][template][method.lower()]
        needs_key = EXPECTED_SCOPE[(method, template)] is not PUBLIC
        assert bool(operation.get("security")) is needs_key, f"{method} {template}"


def test_every_route_enforces_its_scope(live_server: LiveServer, credentials: Credentials) -> None:
    problems: list[str] = []
    calls = 0
    with httpx.Client(base_url=live_server.url, timeout=30) as http:

        def check(route: Route, who: str, key: str | None, expected: int | None, needed: Scope) -> None:
            """``expected``: 401 or 403, or None for "gets past authorization"."""
            nonlocal calls
            calls += 1
            response = _call(http, route, _headers(key))
            status, code = response.status_code, _code(response)
            found = _body_problems(response, *([key] if key else []))
            if status >= 500:
                found.append(f"{status} {response.text[:200]}")
            elif expected is None and status in (401, 403):
                found.append(f"{status} {code}: expected to get past authorization")
            elif expected == 403 and (status, code) != (403, "PERMISSION_DENIED"):
                found.append(f"{status} {code}: expected 403 PERMISSION_DENIED")
            elif expected == 403 and repr(needed.value) not in response.json()["error"]["message"]:
                found.append(f"the 403 does not name the missing {needed.value!r} scope")
            elif expected == 401 and (status, code) != (401, "UNAUTHENTICATED"):
                found.append(f"{status} {code}: expected 401 UNAUTHENTICATED")
            elif expected == 401 and response.headers.get("WWW-Authenticate") != "Bearer":
                found.append("a 401 without `WWW-Authenticate: Bearer`")
            problems.extend(f"{route.label} with {who}: {problem}" for problem in found)

        for route in routes_of(http.get(OPENAPI, headers=_headers(live_server.admin_key)).json()):
            needed = EXPECTED_SCOPE[(route.method, route.template)]
            if needed is PUBLIC:
                continue
            check(route, "no key", None, 401, needed)
            check(route, "a revoked admin key", credentials.revoked, 401, needed)
            check(route, "a malformed key", "mlp_not-a-key", 401, needed)
            check(route, "a wrong secret", credentials.wrong_secret, 401, needed)
            for scope, key in credentials.by_scope.items():
                check(route, f"the {scope.value} key", key, None if grants([scope], needed) else 403, needed)

    assert calls >= 40 * 9, calls
    assert not problems, f"{len(problems)} of {calls} requests misbehaved:\n" + "\n".join(problems)


def test_public_routes_need_no_key(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as http:
        # The OpenAPI document is not one of them (tests/server/test_docs_page.py).
        assert http.get(OPENAPI).status_code == 401
        for path in ("/healthz", "/readyz"):
            response = http.get(path)
            assert response.status_code == 200, (path, response.text)
            assert response.json()["status"] in ("ok", "ready")
        assert http.get("/docs").status_code == 200


MALFORMED = [
    "not-a-key",
    "mlp_short",
    "mlp_abcdefgh_" + "x" * 42,  # one character short
    "Bearer mlp_" + "a" * 60,
    "mlp_ABCDEFGH_" + "y" * 43,  # the right length, an impossible prefix
]


def test_malformed_keys_are_401_and_never_echoed(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as http:
        for presented in MALFORMED:
            response = http.get("/api/v1/experiments", headers=_headers(presented))
            assert (response.status_code, _code(response)) == (401, "UNAUTHENTICATED"), presented
            assert presented not in response.text and presented[-20:] not in response.text
            assert not _body_problems(response)
            # Health checks ignore credentials, even broken ones.
            assert http.get("/healthz", headers=_headers(presented)).status_code == 200


def test_a_wrong_secret_behind_a_real_prefix_is_401_and_never_echoed(
    live_server: LiveServer, credentials: Credentials
) -> None:
    prefix = credentials.wrong_secret[:12]
    assert re.fullmatch(r"mlp_[a-z0-9]{8}", prefix) and prefix == credentials.by_scope[R][:12]
    response = httpx.get(live_server.url + "/api/v1/experiments", headers=_headers(credentials.wrong_secret))
    assert response.status_code == 401
    assert _code(response) == "UNAUTHENTICATED"
    assert response.json()["error"]["message"] == "the API key is not valid"
    secret = credentials.wrong_secret[13:]
    assert credentials.wrong_secret not in response.text and secret not in response.text
    # The real key behind that prefix still works: a failed guess locks nobody out.
    real = httpx.get(live_server.url + "/api/v1/experiments", headers=_headers(credentials.by_scope[R]))
    assert real.status_code == 200
