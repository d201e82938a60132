"""`mlpilot keys`, run as a real command."""

from __future__ import annotations

from pathlib import Path

from mlpilot.security import Scope
from mlpilot.security.keys import verify_key
from mlpilot.store import Database
from tests.cli.conftest import CliRunner


def test_create_list_revoke_and_audit(mlpilot_cli: CliRunner, tmp_path: Path) -> None:
    created = mlpilot_cli("keys", "create", "ci", "--scopes", "read,write")
    secret = created.out.strip()
    assert created.out == secret + "\n"  # stdout is the secret alone, ready for $(...)
    assert secret.startswith("mlp_") and len(secret) == 56
    assert "cannot be shown again" in created.err and "read, write" in created.err

    as_json = mlpilot_cli("keys", "create", "deployer", "-s", "deploy", "--json").json()
    assert as_json["key"]["name"] == "deployer" and as_json["key"]["scopes"] == ["deploy"]
    assert as_json["secret"].startswith(as_json["key"]["prefix"] + "_")

    db = Database(f"sqlite:///{tmp_path / 'home' / 'mlpilot.db'}")
    try:
        assert verify_key(db, secret, Scope.WRITE).name == "ci"
        assert verify_key(db, as_json["secret"], Scope.DEPLOY).name == "deployer"
    finally:
        db.dispose()

    listed = mlpilot_cli("keys", "list", "--json")
    assert secret not in listed.out and as_json["secret"] not in listed.out
    rows = listed.json()
    assert [row["name"] for row in rows] == ["ci", "deployer"]
    assert all("secret" not in row and "hash" not in row for row in rows)
    assert rows[0]["last_used_at"] is not None and rows[0]["scopes"] == ["read", "write"]
    table = mlpilot_cli("keys", "list").out
    assert "ci" in table and rows[0]["prefix"] in table and secret not in table

    assert f"revoked API key 'ci' ({rows[0]['prefix']})" in mlpilot_cli("keys", "revoke", "ci").out
    revoked = mlpilot_cli("keys", "revoke", as_json["key"]["prefix"], "--json").json()
    assert revoked["name"] == "deployer" and revoked["active"] is False

    audit = mlpilot_cli("keys", "audit", "--json").json()
    assert [(e["action"], e["target"]) for e in audit] == [
        ("key.revoke", "deployer"),
        ("key.revoke", "ci"),
        ("key.create", "deployer"),
        ("key.create", "ci"),
    ]
    assert len(mlpilot_cli("keys", "audit", "-n", "1", "--json").json()) == 1
    assert "key.create" in mlpilot_cli("keys", "audit").out
    assert secret not in mlpilot_cli("keys", "audit").out


def test_bad_input_gives_one_line_and_an_exit_code(mlpilot_cli: CliRunner) -> None:
    mlpilot_cli("keys", "create", "taken", "--scopes", "read")
    mlpilot_cli("keys", "create", "gone", "--scopes", "read")
    mlpilot_cli("keys", "revoke", "gone")
    cases = [
        (("keys", "create", "x", "--scopes", "read,wrte"), 2, "unknown scope 'wrte'"),
        (("keys", "create", "x", "--scopes", ""), 2, "at least one"),
        (("keys", "create", "x"), 2, "--scopes"),
        (("keys", "create", "bad name", "--scopes", "read"), 2, "not a valid key name"),
        (("keys", "create", "taken", "--scopes", "admin"), 4, "already exists"),
        (("keys", "revoke", "ghost"), 3, "ghost"),
        (("keys", "revoke", "gone"), 4, "already revoked"),
        (("keys", "audit", "-n", "0"), 2, "limit"),
        (("keys", "frobnicate"), 2, "No such command"),
    ]
    for args, code, fragment in cases:
        result = mlpilot_cli(*args, check=False)
        assert result.code == code, (args, result.err)
        assert fragment in result.err, (args, result.err)
        assert "Traceback" not in result.err
    unknown = mlpilot_cli("keys", "create", "x", "--scopes", "read,root", check=False)
    assert "read, write, predict, deploy, admin" in unknown.err
