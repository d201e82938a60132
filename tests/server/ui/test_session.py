"""Sign-in, the session cookie, CSRF and scopes, over real HTTP against a live server."""

from __future__ import annotations

import httpx

from mlpilot import deployments as deployment_service
from mlpilot.security.keys import create_key, revoke_key
from tests.server.ui.conftest import Filled, csrf_of, sign_in


def test_pages_redirect_to_login_and_data_answers_401(filled: Filled) -> None:
    with httpx.Client(base_url=filled.url) as http:
        page = http.get("/runs?filter=x")
        assert page.status_code == 303
        assert page.headers["location"] == "/login?next=%2Fruns%3Ffilter%3Dx"
        data = http.get("/ui/data/deployments/churn-api/rate")
        assert data.status_code == 401
        assert data.json()["error"]["code"] == "UNAUTHENTICATED"
        assert http.get("/login").status_code == 200


def test_sign_in_sets_a_strict_http_only_cookie_that_is_not_the_key(filled: Filled) -> None:
    with httpx.Client(base_url=filled.url, headers={"Origin": filled.url}) as http:
        response = http.post("/login", data={"key": filled.reader_key, "next": "/models"})
        assert response.status_code == 303 and response.headers["location"] == "/models"
        cookie = response.headers["set-cookie"]
        flags = {part.strip().lower() for part in cookie.split(";")}
        assert {"httponly", "samesite=strict", "path=/"} <= flags
        assert "secure" not in flags  # plain http on loopback; https requests get Secure
        assert filled.reader_key not in cookie
        assert http.get("/models").status_code == 200


def test_bad_keys_and_foreign_origins_do_not_sign_in(filled: Filled) -> None:
    with httpx.Client(base_url=filled.url, headers={"Origin": filled.url}) as http:
        wrong = http.post("/login", data={"key": "mlp_nope"})
        assert wrong.status_code == 401 and "malformed" in wrong.text and "set-cookie" not in wrong.headers
        no_read = http.post("/login", data={"key": filled.predict_key})
        assert no_read.status_code == 403 and "set-cookie" not in no_read.headers
    with httpx.Client(base_url=filled.url, headers={"Origin": "http://evil.example"}) as http:
        assert http.post("/login", data={"key": filled.reader_key}).status_code == 403
    with httpx.Client(base_url=filled.url) as http:  # neither Origin nor Referer
        assert http.post("/login", data={"key": filled.reader_key}).status_code == 403


def test_next_never_leaves_the_server(filled: Filled) -> None:
    with httpx.Client(base_url=filled.url, headers={"Origin": filled.url}) as http:
        for target in ("//evil.example/x", "https://evil.example", "/\\evil"):
            response = http.post("/login", data={"key": filled.reader_key, "next": target})
            assert response.headers["location"] == "/"


def test_sign_out_and_revocation_end_the_session(filled: Filled) -> None:
    with sign_in(filled.url, filled.reader_key) as http:
        csrf = csrf_of(http, "/models")
        assert http.post("/logout", data={"csrf": "wrong"}).status_code == 403
        assert http.post("/logout", data={"csrf": csrf}).status_code == 303
        assert http.get("/models").status_code == 303
    _, secret = create_key(filled.db, "short-lived", "read", actor="test")
    with sign_in(filled.url, secret) as http:
        assert http.get("/models").status_code == 200
        revoke_key(filled.db, "short-lived", actor="test")
        assert http.get("/models").status_code == 303


def test_actions_need_deploy_csrf_and_our_origin(filled: Filled) -> None:
    before = deployment_service.resolve_traffic(filled.db, "churn-canary")
    with sign_in(filled.url, filled.reader_key) as http:
        page = http.get("/deployments/churn-canary").text
        assert "Roll back" not in page and "Promote" not in page
        csrf = csrf_of(http, "/deployments/churn-canary")
        forged = http.post("/deployments/churn-canary/promote", data={"csrf": csrf})
        assert forged.status_code == 403 and "deploy" in forged.text
    with sign_in(filled.url, filled.deployer_key) as http:
        csrf = csrf_of(http, "/deployments/churn-canary")
        assert http.post("/deployments/churn-canary/promote", data={}).status_code == 403
        assert http.post("/deployments/churn-canary/promote", data={"csrf": "0" * 64}).status_code == 403
        foreign = http.post(
            "/deployments/churn-canary/promote", data={"csrf": csrf}, headers={"Origin": "http://evil.example"}
        )
        assert foreign.status_code == 403
        bad_weight = http.post("/deployments/churn-canary/traffic", data={"csrf": csrf, "weight": "lots"})
        assert bad_weight.status_code == 400
        assert deployment_service.resolve_traffic(filled.db, "churn-canary") == before
        moved = http.post("/deployments/churn-canary/traffic", data={"csrf": csrf, "weight": "0.5"})
        assert moved.status_code == 303
        assert deployment_service.resolve_traffic(filled.db, "churn-canary").canary == (2, 0.5)
        promoted = http.post("/deployments/churn-canary/promote", data={"csrf": csrf})
        assert promoted.status_code == 303
        after = deployment_service.resolve_traffic(filled.db, "churn-canary")
        assert (after.primary, after.canary) == (2, None)
        no_canary = http.post("/deployments/churn-canary/traffic", data={"csrf": csrf, "weight": "0.5"})
        assert no_canary.status_code == 400
    events = deployment_service.deployment_events(filled.db, "churn-canary")
    assert events[0].actor == "key:deployer"


def test_another_sessions_csrf_token_is_refused(filled: Filled) -> None:
    with sign_in(filled.url, filled.deployer_key) as first, sign_in(filled.url, filled.deployer_key) as second:
        stolen = csrf_of(first, "/deployments/churn-api")
        assert second.post("/deployments/churn-api/rollback", data={"csrf": stolen}).status_code == 403


def test_an_oversized_form_is_413_and_changes_nothing(filled: Filled) -> None:
    before = deployment_service.resolve_traffic(filled.db, "churn-api")
    with sign_in(filled.url, filled.deployer_key) as http:
        csrf = csrf_of(http, "/deployments/churn-api")
        huge = http.post("/deployments/churn-api/traffic", data={"csrf": csrf, "weight": "0.5", "pad": "x" * 70_000})
        assert huge.status_code == 413 and "over the 65536" in huge.text
        login = http.post("/login", data={"key": "k" * 70_000})
        assert login.status_code == 413
    assert deployment_service.resolve_traffic(filled.db, "churn-api") == before
