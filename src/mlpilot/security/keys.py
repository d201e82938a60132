"""API keys: created with a secret shown once, stored as a hash, verified in constant time.

A key reads ``mlp_<prefix>_<secret>``: ``mlp_`` marks it as an mlpilot key (secret scanners can
match it), the 8-character prefix identifies it and is safe to show in lists and logs, and the
secret is 256 random bits (``secrets.token_urlsafe(32)``, 43 characters).

Only ``sha256(key)`` is stored. A slow password hash (bcrypt, scrypt, argon2) exists to make
guessing low-entropy passwords expensive; a 256-bit random secret cannot be guessed at any speed,
so a fast hash loses nothing and keeps verification in microseconds (MLflow's PBKDF2 basic auth
costs ~50 ms a request). A server-side pepper would only help if the database leaked without
it, and against 256-bit secrets even that buys nothing — while it would add a secret every replica
must share. GitHub and Stripe tokens are handled the same way.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import logging
import re
import secrets
import string
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, RowMapping

from mlpilot.errors import Conflict, Forbidden, InvalidInput, MlpilotError, NotFound, StoreUnavailable, Unauthorized
from mlpilot.security import audit
from mlpilot.security.records import ApiKey
from mlpilot.security.scopes import Scope, parse_scope, parse_scopes
from mlpilot.store import Database
from mlpilot.store.clock import now_ms
from mlpilot.store.schema import api_keys
from mlpilot.store.upsert import upsert_insert

__all__ = [
    "BOOTSTRAP_KEY_NAME",
    "KEY_MARK",
    "LAST_USED_RESOLUTION_MS",
    "authenticate",
    "check_key_name",
    "create_key",
    "ensure_bootstrap_key",
    "hash_key",
    "list_keys",
    "require_scope",
    "revoke_key",
    "verify_key",
]

log = logging.getLogger(__name__)

KEY_MARK = "mlp_"
BOOTSTRAP_KEY_NAME = "bootstrap-admin"
# last_used_at is recorded to the minute: verification then writes at most once a minute per key
# instead of on every request, which would serialize all traffic on SQLite's single writer.
LAST_USED_RESOLUTION_MS = 60_000

_PREFIX_ALPHABET = string.ascii_lowercase + string.digits  # no '_' or '-', so the parts split cleanly
_PREFIX_CHARS = 8
_SECRET_BYTES = 32
_KEY = re.compile(r"(mlp_[a-z0-9]{8})_[A-Za-z0-9_\-]{43}")
_KEY_LENGTH = len(KEY_MARK) + _PREFIX_CHARS + 1 + 43
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
# Compared against when the prefix is unknown, so that path also pays for one hash comparison.
_NO_HASH = "0" * 64

_KEYS_HINT = "List keys with `mlpilot keys list`."
_INVALID = "the API key is not valid"


def hash_key(key: str) -> str:
    """The stored form of a key: SHA-256 over the whole key, prefix included, as hex."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def check_key_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name) or name.lower().startswith(KEY_MARK):
        raise InvalidInput(
            f"{name!r} is not a valid key name",
            hint="Use up to 100 letters, digits, '_', '-' or '.', starting with a letter or digit "
            f"and not with {KEY_MARK!r} (that marks key prefixes).",
        )
    return name


def _new_key() -> tuple[str, str]:
    prefix = KEY_MARK + "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(_PREFIX_CHARS))
    return prefix, f"{prefix}_{secrets.token_urlsafe(_SECRET_BYTES)}"


def _record(row: RowMapping) -> ApiKey:
    return ApiKey(
        name=row["name"],
        prefix=row["prefix"],
        scopes=parse_scopes(row["scopes"]),
        created_by=row["created_by"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )


def _name_taken(conn: Connection, name: str) -> bool:
    return conn.execute(sa.select(api_keys.c.id).where(api_keys.c.name == name)).first() is not None


def _duplicate(name: str) -> Conflict:
    return Conflict(
        f"an API key named {name!r} already exists",
        hint="Names are kept after revocation so the audit log stays unambiguous; pick another name.",
    )


def create_key(
    db: Database,
    name: str,
    scopes: str | Iterable[Scope | str],
    *,
    actor: str,
    actor_key: str | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; return its record and its secret, which exists nowhere else afterwards.

    ``actor`` is the person or process asking, ``actor_key`` the name of the key it authenticated
    with (None on the local transport); both go to the audit log with the new key's name.
    """
    check_key_name(name)
    granted = parse_scopes(scopes)
    for _attempt in range(3):
        prefix, secret = _new_key()
        when = now_ms()
        try:
            with db.write() as conn:
                if _name_taken(conn, name):
                    raise _duplicate(name)
                conn.execute(
                    api_keys.insert().values(
                        name=name,
                        prefix=prefix,
                        hash=hash_key(secret),
                        scopes=[scope.value for scope in granted],
                        created_by=actor,
                        created_at=when,
                    )
                )
                audit.record(conn, key_name=actor_key, actor=actor, action="key.create", target=name, when=when)
        except sa_exc.IntegrityError:
            # PostgreSQL: a concurrent create took the name between our check and insert, or (about
            # once in 10^12 keys) the random prefix collided, which another draw fixes.
            with db.read() as conn:
                if _name_taken(conn, name):
                    raise _duplicate(name) from None
            continue
        log.info("created API key %r (%s) with scopes %s", name, prefix, ",".join(granted))
        return ApiKey(name, prefix, granted, actor, when), secret
    raise MlpilotError("could not draw an unused key prefix in three attempts")


def list_keys(db: Database, *, limit: int | None = None, after: tuple[int, str] | None = None) -> list[ApiKey]:
    """Every key, revoked ones included, oldest first (by creation time, then name); with ``after``
    (a creation time and name), only those after it; at most ``limit``."""
    query = sa.select(api_keys).order_by(api_keys.c.created_at, api_keys.c.name).limit(limit)
    if after is not None:
        query = query.where(sa.tuple_(api_keys.c.created_at, api_keys.c.name) > sa.tuple_(*after))
    with db.read() as conn:
        return [_record(row) for row in conn.execute(query).mappings()]


def _shown(handle: str) -> str:
    # Someone may paste a whole key (or a mangled one) to revoke it: never repeat more than its prefix.
    return handle[: len(KEY_MARK) + _PREFIX_CHARS] + "…" if handle.startswith(KEY_MARK) else handle


def revoke_key(db: Database, name_or_prefix: str, *, actor: str, actor_key: str | None = None) -> ApiKey:
    """Revoke a key by name, prefix or the full key; it stays listed (and named in the audit log)."""
    if not isinstance(name_or_prefix, str) or not name_or_prefix.strip():
        raise InvalidInput("give the name or prefix of the key to revoke", hint=_KEYS_HINT)
    handle = name_or_prefix.strip()
    full = _KEY.fullmatch(handle)
    if full is not None:
        handle = full.group(1)
    when = now_ms()
    with db.write() as conn:
        row = (
            conn.execute(sa.select(api_keys).where(sa.or_(api_keys.c.name == handle, api_keys.c.prefix == handle)))
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound(f"no API key is named or prefixed {_shown(handle)!r}", hint=_KEYS_HINT)
        if row["revoked_at"] is not None:
            raise Conflict(f"the API key {row['name']!r} is already revoked", hint=_KEYS_HINT)
        conn.execute(api_keys.update().where(api_keys.c.id == row["id"]).values(revoked_at=when))
        audit.record(conn, key_name=actor_key, actor=actor, action="key.revoke", target=row["name"], when=when)
        key = _record(row)
    log.info("revoked API key %r (%s)", key.name, key.prefix)
    return dataclasses.replace(key, revoked_at=when)


def _parse(presented: object) -> tuple[str, str]:
    """The key and its prefix, or Unauthorized; never says more about the input than its shape."""
    key = presented.strip() if isinstance(presented, str) else presented
    if key is None or key == "":
        raise Unauthorized("no API key was presented")
    # The length test first: the pattern never runs on oversized input.
    if not isinstance(key, str) or len(key) != _KEY_LENGTH or (found := _KEY.fullmatch(key)) is None:
        raise Unauthorized(
            "the API key is malformed",
            hint=f"An mlpilot key is {_KEY_LENGTH} characters starting with {KEY_MARK!r}; "
            "send it whole as `Authorization: Bearer <key>`.",
        )
    return key, found.group(1)


def verify_key(db: Database, presented: str | None, needed: Scope | str) -> ApiKey:
    """The key's record if ``presented`` is a valid, unrevoked key holding ``needed``.

    Raises Unauthorized (missing, malformed, unknown, wrong secret or revoked: the messages never
    repeat the key) or Forbidden (valid but without the scope). Records the use, to the minute.
    """
    required = parse_scope(needed)
    key = authenticate(db, presented)
    require_scope(key, required)
    return key


def authenticate(db: Database, presented: str | None) -> ApiKey:
    """Who ``presented`` is: a valid, unrevoked key's record, or Unauthorized (see verify_key)."""
    key_text, prefix = _parse(presented)
    with db.read() as conn:
        row = conn.execute(sa.select(api_keys).where(api_keys.c.prefix == prefix)).mappings().first()
    # Constant-time comparison of the hashes: how long it takes says nothing about how much of a
    # guess was right. (Whether a prefix exists is not secret: prefixes are shown in listings.)
    matches = hmac.compare_digest(hash_key(key_text), row["hash"] if row is not None else _NO_HASH)
    if row is None or not matches:
        raise Unauthorized(_INVALID, hint="Check that the key was copied whole; ask an admin for a new one.")
    key = _record(row)
    if not key.active:
        raise Unauthorized(f"the API key {key.name!r} has been revoked", hint="Ask an admin for a new key.")
    return dataclasses.replace(key, last_used_at=_touch(db, row["id"], key.last_used_at))


def require_scope(key: ApiKey, required: Scope) -> None:
    """Forbidden, naming the missing scope and the held ones, unless ``key`` may do ``required``."""
    if not key.allows(required):
        held = ", ".join(scope.value for scope in key.scopes)
        raise Forbidden(
            f"the API key {key.name!r} lacks the {required.value!r} scope (it holds: {held})",
            hint=f"Use a key with the {required.value!r} scope (`mlpilot keys create NAME --scopes {required.value}`).",
        )


def _touch(db: Database, key_id: int, last_used: int | None) -> int | None:
    when = now_ms()
    if last_used is not None and when - last_used < LAST_USED_RESOLUTION_MS:
        return last_used
    try:
        with db.write() as conn:
            conn.execute(
                api_keys.update()
                .where(
                    api_keys.c.id == key_id,
                    sa.or_(
                        api_keys.c.last_used_at.is_(None),
                        api_keys.c.last_used_at < when - LAST_USED_RESOLUTION_MS,
                    ),
                )
                .values(last_used_at=when)
            )
    except StoreUnavailable:
        # Bookkeeping, not security: a busy database must not turn a valid key away.
        log.warning("could not record the use of an API key; the database is busy", exc_info=True)
        return last_used
    return when


def ensure_bootstrap_key(db: Database, *, actor: str) -> str | None:
    """On a store with no keys at all, create the admin key ``bootstrap-admin`` and return its secret.

    Returns None when any key exists (revoked ones count, so revoking everything never re-opens the
    bootstrap). Safe when several servers start at once: SQLite's writer lock serializes the check
    and the insert, and on PostgreSQL the unique name makes every racer but one insert nothing.
    """
    prefix, secret = _new_key()
    when = now_ms()
    with db.write() as conn:
        if conn.execute(sa.select(sa.func.count()).select_from(api_keys)).scalar_one():
            return None
        inserted = conn.execute(
            upsert_insert(db.dialect, api_keys)
            .values(
                name=BOOTSTRAP_KEY_NAME,
                prefix=prefix,
                hash=hash_key(secret),
                scopes=[Scope.ADMIN.value],
                created_by=actor,
                created_at=when,
            )
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(api_keys.c.id)
        ).first()
        if inserted is None:
            return None
        audit.record(conn, key_name=None, actor=actor, action="key.create", target=BOOTSTRAP_KEY_NAME, when=when)
    log.info("created the bootstrap admin key %s", prefix)
    return secret
