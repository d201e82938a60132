"""Web UI sessions: a sign-in with an API key becomes a random token, kept only as a hash.

The browser holds the token (in an HttpOnly cookie), never the API key. Each request looks the
token's hash up joined with its key, so revoking the key, signing out or expiry ends the session
at once. The CSRF token of a session is derived from the session token (an HMAC), so it needs no
storage and cannot be computed by a page that cannot read the cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from mlpilot.errors import Unauthorized
from mlpilot.security.keys import _record, authenticate, hash_key
from mlpilot.security.records import ApiKey
from mlpilot.store import Database
from mlpilot.store.clock import now_ms
from mlpilot.store.schema import api_keys, ui_sessions

__all__ = ["SESSION_TTL_MS", "Session", "csrf_token", "end_session", "open_session", "session_of", "valid_csrf"]

SESSION_TTL_MS = 12 * 3600 * 1000
_TOKEN_BYTES = 32


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in browser: the key it signed in with and when the session ends (epoch ms)."""

    key: ApiKey
    expires_at: int


def open_session(db: Database, presented: str | None, *, ttl_ms: int = SESSION_TTL_MS) -> tuple[Session, str]:
    """Verify an API key and start a session for it; return the session and its token (shown once)."""
    key = authenticate(db, presented)
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    when = now_ms()
    with db.write() as conn:
        key_id = conn.execute(sa.select(api_keys.c.id).where(api_keys.c.prefix == key.prefix)).scalar_one()
        # Expired sessions are swept on sign-in: no scheduler needed, and the table stays small.
        conn.execute(ui_sessions.delete().where(ui_sessions.c.expires_at < when))
        conn.execute(
            ui_sessions.insert().values(
                token_hash=hash_key(token), key_id=key_id, created_at=when, expires_at=when + ttl_ms
            )
        )
    return Session(key, when + ttl_ms), token


def session_of(db: Database, token: str | None) -> Session:
    """The live session ``token`` belongs to, or Unauthorized (unknown, expired, or its key revoked)."""
    if not token or len(token) > 100:
        raise Unauthorized("not signed in", hint="Sign in with an API key at /login.")
    query = (
        sa.select(api_keys, ui_sessions.c.expires_at)
        .select_from(ui_sessions.join(api_keys, api_keys.c.id == ui_sessions.c.key_id))
        .where(ui_sessions.c.token_hash == hash_key(token))
    )
    with db.read() as conn:
        row = conn.execute(query).mappings().first()
    if row is None or row["expires_at"] <= now_ms():
        raise Unauthorized("the session has ended", hint="Sign in again at /login.")
    key = _record(row)
    if not key.active:
        raise Unauthorized(f"the API key {key.name!r} has been revoked", hint="Sign in with another key.")
    return Session(key, row["expires_at"])


def end_session(db: Database, token: str | None) -> None:
    """Sign out: the token stops working everywhere at once."""
    if token:
        with db.write() as conn:
            conn.execute(ui_sessions.delete().where(ui_sessions.c.token_hash == hash_key(token)))


def csrf_token(session_token: str) -> str:
    """The synchronizer token of a session, put in every form of its pages."""
    return hmac.new(session_token.encode(), b"mlpilot-ui-csrf", hashlib.sha256).hexdigest()


def valid_csrf(session_token: str, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(csrf_token(session_token), presented)
