"""Web UI sessions: a hashed token per sign-in, ended by sign-out, expiry or revoking the key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from mlpilot.errors import Unauthorized
from mlpilot.security.keys import create_key, hash_key, revoke_key
from mlpilot.security.sessions import csrf_token, end_session, open_session, session_of, valid_csrf
from mlpilot.store import Database, ensure_schema
from mlpilot.store.schema import ui_sessions


@pytest.fixture
def db(store_uri: str) -> Iterator[Database]:
    opened = Database(store_uri)
    ensure_schema(opened)
    yield opened
    opened.dispose()


def test_a_session_is_stored_only_as_a_hash_and_names_its_key(db: Database) -> None:
    _, secret = create_key(db, "alice", "read", actor="test")
    session, token = open_session(db, secret)
    assert session.key.name == "alice" and token != secret
    with db.read() as conn:
        stored = conn.execute(sa.select(ui_sessions.c.token_hash)).scalars().all()
    assert stored == [hash_key(token)]
    assert session_of(db, token).key.name == "alice"


@pytest.mark.parametrize("presented", [None, "", "mlp_short", "x" * 500])
def test_bad_keys_and_tokens_are_refused(db: Database, presented: str | None) -> None:
    with pytest.raises(Unauthorized):
        open_session(db, presented)
    with pytest.raises(Unauthorized):
        session_of(db, presented)


def test_sign_out_expiry_and_revocation_end_sessions(db: Database) -> None:
    _, secret = create_key(db, "bob", "read,deploy", actor="test")
    _, ended = open_session(db, secret)
    end_session(db, ended)
    with pytest.raises(Unauthorized, match="ended"):
        session_of(db, ended)
    _, expired = open_session(db, secret, ttl_ms=0)
    with pytest.raises(Unauthorized, match="ended"):
        session_of(db, expired)
    _, live = open_session(db, secret)
    revoke_key(db, "bob", actor="test")
    with pytest.raises(Unauthorized, match="revoked"):
        session_of(db, live)
    with pytest.raises(Unauthorized, match="revoked"):
        open_session(db, secret)


def test_the_csrf_token_belongs_to_its_session() -> None:
    assert valid_csrf("token-a", csrf_token("token-a"))
    assert not valid_csrf("token-b", csrf_token("token-a"))
    assert not valid_csrf("token-a", None)
    assert not valid_csrf("token-a", "")
