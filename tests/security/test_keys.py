"""API keys and the audit log, on SQLite and on PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from mlpilot.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from mlpilot.security import ApiKey, Scope
from mlpilot.security.audit import list_audit, record
from mlpilot.security.keys import (
    BOOTSTRAP_KEY_NAME,
    create_key,
    ensure_bootstrap_key,
    hash_key,
    list_keys,
    revoke_key,
    verify_key,
)
from mlpilot.store import Database, ensure_schema
from mlpilot.store.clock import now_ms
from mlpilot.store.schema import api_keys, audit_log
from tests.doc_examples import python_blocks, run_example


@pytest.fixture
def db(store_uri: str) -> Iterator[Database]:
    database = Database(store_uri)
    ensure_schema(database)
    yield database
    database.dispose()


def stored_text(db: Database) -> str:
    """Every value of the key and audit tables, as one string to search."""
    with db.read() as conn:
        rows = [*conn.execute(sa.select(api_keys)), *conn.execute(sa.select(audit_log))]
    return "\n".join(repr(tuple(row)) for row in rows)


def stored_bytes(db: Database) -> bytes:
    """On SQLite, the raw database files (WAL included); on PostgreSQL, the table contents."""
    path = db.sqlite_path
    if path is None:
        return stored_text(db).encode()
    files = [path, path.with_name(path.name + "-wal")]
    return b"".join(file.read_bytes() for file in files if file.exists())


def test_the_secret_is_returned_once_and_only_its_hash_is_stored(db: Database) -> None:
    key, secret = create_key(db, "ci", "read,write", actor="alice")
    assert key == ApiKey("ci", key.prefix, (Scope.READ, Scope.WRITE), "alice", key.created_at)
    assert key.active and key.last_used_at is None
    assert secret.startswith(key.prefix + "_") and len(key.prefix) == 12 and len(secret) == 56
    body = secret.removeprefix(key.prefix + "_")
    assert len(body) == 43

    raw = stored_bytes(db)
    assert secret.encode() not in raw and body.encode() not in raw
    assert key.prefix.encode() in raw
    with db.read() as conn:
        stored_hash = conn.execute(sa.select(api_keys.c.hash)).scalar_one()
    assert stored_hash == hash_key(secret) and stored_hash != secret and body not in stored_hash

    assert "secret" not in key.to_dict() and "hash" not in key.to_dict()
    assert [k.name for k in list_keys(db)] == ["ci"]
    assert secret not in repr(list_keys(db))


def test_two_keys_never_share_a_secret_or_prefix(db: Database) -> None:
    made = [create_key(db, f"k{i}", "read", actor="t") for i in range(5)]
    assert len({key.prefix for key, _ in made}) == 5 and len({secret for _, secret in made}) == 5


def test_verify_with_the_right_scope_records_the_use(db: Database) -> None:
    _, secret = create_key(db, "app", ["predict"], actor="t")
    before = now_ms()
    key = verify_key(db, secret, Scope.PREDICT)
    assert key.name == "app" and key.last_used_at is not None and key.last_used_at >= before
    assert list_keys(db)[0].last_used_at == key.last_used_at
    assert verify_key(db, f"  {secret}\n", "predict").name == "app"  # header whitespace is forgiven


def test_last_use_is_written_at_most_once_a_minute(db: Database) -> None:
    _, secret = create_key(db, "busy", "read", actor="t")
    first = verify_key(db, secret, Scope.READ).last_used_at
    assert first is not None
    time.sleep(0.01)
    assert verify_key(db, secret, Scope.READ).last_used_at == first
    assert list_keys(db)[0].last_used_at == first

    long_ago = first - 120_000
    with db.write() as conn:
        conn.execute(api_keys.update().values(last_used_at=long_ago))
    again = verify_key(db, secret, Scope.READ).last_used_at
    assert again is not None and again >= first
    assert list_keys(db)[0].last_used_at == again


def test_a_missing_scope_is_forbidden_and_named(db: Database) -> None:
    _, secret = create_key(db, "reader", "read", actor="t")
    with pytest.raises(Forbidden) as caught:
        verify_key(db, secret, Scope.DEPLOY)
    assert "'deploy'" in caught.value.message and "reader" in caught.value.message
    assert "--scopes deploy" in caught.value.hint
    assert secret not in str(caught.value)
    # Authenticated, though not allowed: the use is still recorded.
    assert list_keys(db)[0].last_used_at is not None


def test_admin_passes_every_scope(db: Database) -> None:
    _, secret = create_key(db, "root", "admin", actor="t")
    for scope in Scope:
        assert verify_key(db, secret, scope).name == "root"


def test_revoked_keys_stop_working_and_stay_listed(db: Database) -> None:
    key, secret = create_key(db, "old", "read", actor="alice")
    revoked = revoke_key(db, "old", actor="bob")
    assert revoked.revoked_at is not None and not revoked.active and revoked.prefix == key.prefix
    with pytest.raises(Unauthorized, match="revoked") as caught:
        verify_key(db, secret, Scope.READ)
    assert secret not in str(caught.value)
    assert not list_keys(db)[0].active
    with pytest.raises(Conflict, match="already revoked"):
        revoke_key(db, "old", actor="bob")
    with pytest.raises(Conflict, match="already exists"):
        create_key(db, "old", "read", actor="alice")  # names are not reused


def test_revoke_by_prefix_or_by_the_whole_key(db: Database) -> None:
    first, _ = create_key(db, "by-prefix", "read", actor="t")
    _, second_secret = create_key(db, "by-key", "read", actor="t")
    assert revoke_key(db, first.prefix, actor="t").name == "by-prefix"
    assert revoke_key(db, second_secret, actor="t").name == "by-key"
    unknown = "mlp_zzzzzzzz_" + "A" * 43
    with pytest.raises(NotFound) as missing:
        revoke_key(db, unknown, actor="t")
    assert unknown not in str(missing.value) and "mlp_zzzzzzzz" in missing.value.message
    with pytest.raises(NotFound, match="ghost"):
        revoke_key(db, "ghost", actor="t")
    with pytest.raises(InvalidInput):
        revoke_key(db, " ", actor="t")


@pytest.mark.parametrize(
    "presented",
    [
        None,
        "",
        "   ",
        "not-a-key",
        "mlp_abcdefgh_short",
        "mlp_ABCDEFGH_" + "a" * 43,  # upper-case prefix: not a shape we issue
        "xyz_abcdefgh_" + "a" * 43,
        "mlp_abcdefgh_" + "a" * 43 + "extra",
        "mlp_abcdefgh_" + "a" * 10_000,
        "mlp_abcdefgh_" + "ä" * 43,
    ],
)
def test_missing_malformed_and_unknown_keys_are_unauthorized(db: Database, presented: str | None) -> None:
    create_key(db, "someone", "admin", actor="t")
    with pytest.raises(Unauthorized) as caught:
        verify_key(db, presented, Scope.READ)
    if presented and presented.strip():
        assert presented.strip() not in str(caught.value)
        assert presented.strip() not in repr(caught.value.to_dict())


def test_a_wrong_secret_for_a_known_prefix_is_unauthorized(db: Database) -> None:
    key, secret = create_key(db, "target", "admin", actor="t")
    forged = f"{key.prefix}_{'B' * 43}"
    assert forged != secret
    with pytest.raises(Unauthorized, match="not valid") as caught:
        verify_key(db, forged, Scope.READ)
    assert forged not in str(caught.value) and "target" not in caught.value.message
    unknown = "mlp_00000000_" + secret[-43:]
    with pytest.raises(Unauthorized, match="not valid") as other:
        verify_key(db, unknown, Scope.READ)
    assert secret[-43:] not in str(other.value)
    assert list_keys(db)[0].last_used_at is None


def test_bad_names_and_scopes_are_invalid_input(db: Database) -> None:
    for name in ["", " x", "has space", "mlp_looks_like_a_key", "a" * 101, "-dash"]:
        with pytest.raises(InvalidInput, match="not a valid key name"):
            create_key(db, name, "read", actor="t")
    with pytest.raises(InvalidInput) as caught:
        create_key(db, "fine", "read,superuser", actor="t")
    assert "'superuser'" in caught.value.message and "read, write, predict, deploy, admin" in caught.value.hint
    with pytest.raises(InvalidInput):
        verify_key(db, "whatever", "sudo")
    assert list_keys(db) == []


def test_duplicate_names_conflict(db: Database) -> None:
    create_key(db, "dup", "read", actor="t")
    with pytest.raises(Conflict, match="'dup' already exists"):
        create_key(db, "dup", "admin", actor="t")
    assert len(list_keys(db)) == 1


def test_key_operations_are_audited_without_secrets(db: Database) -> None:
    _, secret = create_key(db, "audited", "read", actor="alice")
    revoke_key(db, "audited", actor="bob")
    entries = list_audit(db)
    assert [(e.action, e.target, e.actor, e.key_name) for e in entries] == [
        ("key.revoke", "audited", "bob", None),
        ("key.create", "audited", "alice", None),
    ]
    assert entries[0].created_at >= entries[1].created_at
    assert secret not in stored_text(db) and secret[-43:] not in stored_text(db)
    create_key(db, "by-server", "read", actor="api", actor_key="bootstrap-admin")
    assert list_audit(db, limit=1)[0].key_name == "bootstrap-admin"


def test_audit_record_joins_the_callers_transaction_and_filters(db: Database) -> None:
    record(db, key_name="ci", actor="alice", action="model.alias", target="models:/churn@production")
    with pytest.raises(RuntimeError), db.write() as conn:
        record(conn, key_name="ci", actor="alice", action="run.create", target="exp/1")
        raise RuntimeError("the change failed, so its audit row goes too")
    entries = list_audit(db)
    assert [e.action for e in entries] == ["model.alias"]
    assert entries[0].to_dict()["target"] == "models:/churn@production"

    record(db, key_name=None, actor="x" * 300, action="data.log", target="t" * 1000, when=now_ms() + 60_000)
    newest = list_audit(db, limit=1)[0]
    assert len(newest.target) == 500 and newest.target.endswith("…") and len(newest.actor) == 250
    assert [e.action for e in list_audit(db, since=now_ms() + 1000)] == ["data.log"]
    assert len(list_audit(db, limit=2)) == 2

    for bad in ["", "Key.Create", "key create", "key.", "x" * 65]:
        with pytest.raises(InvalidInput, match="audit action"):
            record(db, key_name=None, actor="a", action=bad, target="t")
    for limit in [0, -1, 10_001, True]:
        with pytest.raises(InvalidInput, match="limit"):
            list_audit(db, limit=limit)


def test_bootstrap_creates_one_admin_key_only_on_an_empty_store(db: Database) -> None:
    secret = ensure_bootstrap_key(db, actor="server")
    assert secret is not None
    key = verify_key(db, secret, Scope.ADMIN)
    assert key.name == BOOTSTRAP_KEY_NAME and key.scopes == (Scope.ADMIN,) and key.created_by == "server"
    assert ensure_bootstrap_key(db, actor="server") is None
    revoke_key(db, BOOTSTRAP_KEY_NAME, actor="t")
    assert ensure_bootstrap_key(db, actor="server") is None  # revoking everything does not re-open it
    assert [e.action for e in list_audit(db)] == ["key.revoke", "key.create"]


def test_no_bootstrap_when_a_key_exists(db: Database) -> None:
    create_key(db, "first", "read", actor="t")
    assert ensure_bootstrap_key(db, actor="server") is None
    assert [k.name for k in list_keys(db)] == ["first"]


BOOTSTRAP = textwrap.dedent(
    """
    import sys, time
    from mlpilot.store import Database
    from mlpilot.security.keys import ensure_bootstrap_key
    uri, start = sys.argv[1], float(sys.argv[2])
    db = Database(uri)
    with db.read():  # connect now, so that connecting does not stagger the processes below
        pass
    time.sleep(max(0.0, start - time.time()))  # every process reaches the check at the same moment
    print(ensure_bootstrap_key(db, actor="server") or "-", flush=True)
    db.dispose()
    """
)


@pytest.mark.slow
def test_servers_starting_together_create_exactly_one_bootstrap_key(db: Database, tmp_path: Path) -> None:
    script = tmp_path / "bootstrap.py"
    script.write_text(BOOTSTRAP)
    start = str(time.time() + 3)
    processes = [
        subprocess.Popen(
            [sys.executable, str(script), db.uri, start], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        outputs.append(out.strip())
    secrets_shown = [out for out in outputs if out != "-"]
    assert len(secrets_shown) == 1, outputs
    assert [k.name for k in list_keys(db)] == [BOOTSTRAP_KEY_NAME]
    assert verify_key(db, secrets_shown[0], Scope.ADMIN).name == BOOTSTRAP_KEY_NAME
    assert [e.action for e in list_audit(db)] == ["key.create"]


def test_the_python_example_in_the_security_doc_runs(isolated_env: Path) -> None:
    blocks = python_blocks("security.md")
    assert len(blocks) == 1
    out = run_example(blocks[0], isolated_env)
    assert "ci-pipeline mlp_" in out
    assert "lacks the 'deploy' scope" in out
    assert "key.revoke ci-pipeline" in out
