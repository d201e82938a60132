"""The registry against SQLite and PostgreSQL: versions, aliases, events, rollback, archive, lineage."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlpilot.client import Client
from mlpilot.errors import Conflict, IntegrityError, InvalidInput, NotFound
from mlpilot.registry import VersionStatus

Logged = Callable[..., str]


def test_register_numbers_versions_and_records_the_artifact_hash(client: Client, logged: Logged) -> None:
    first = client.register_model(logged(0.5), "model", "churn", description="baseline", tags={"team": "risk"})
    second = client.register_model(logged(1.0), "model", "churn")
    assert (first.version, second.version) == (1, 2)
    assert first.uri == "models:/churn/1"
    assert first.flavor == "sklearn"
    assert len(first.sha256) == 64 and first.sha256 != second.sha256
    assert first.metrics["acc"] > 0.5
    # The metric was buffered when the model was logged; the descriptor must still carry it.
    assert client.load_model(first.uri).descriptor.metrics["acc"] == first.metrics["acc"]
    assert first.signature is not None and first.signature["inputs"][0]["name"] == "mean radius"
    assert first.description == "baseline" and first.tags == {"team": "risk"}
    assert first.status is VersionStatus.READY
    model = client.get_registered_model("churn")
    assert model.latest_version == 2
    assert [v.version for v in client.list_model_versions("churn")] == [1, 2]
    assert [m.name for m in client.list_registered_models()] == ["churn"]


def test_load_by_every_uri_form_gives_the_same_predictions(
    client: Client, logged: Logged, breast_cancer: tuple[pd.DataFrame, pd.Series]
) -> None:
    run_id = logged(0.5)
    client.register_model(run_id, "model", "churn")
    client.set_alias("churn", "production", 1)
    frame = breast_cancer[0].tail(20)
    expected = client.load_model(f"runs:/{run_id}/model").predict(frame)
    for uri in ("models:/churn/1", "models:/churn@production", "models:/churn/latest"):
        loaded = client.load_model(uri)
        np.testing.assert_array_equal(loaded.predict(frame), expected)
        assert loaded.predict_proba(frame).shape == (20, 2)


def test_aliases_move_and_every_move_is_an_event(client: Client, logged: Logged) -> None:
    for c in (0.1, 0.2, 0.3):
        client.register_model(logged(c), "model", "churn")
    client.set_alias("churn", "production", 1, reason="first release")
    client.set_alias("churn", "production", 2, reason="better auc")
    client.set_alias("churn", "staging", 3)
    assert client.get_model_version("churn", "@production").version == 2
    assert client.get_registered_model("churn").aliases == {"production": 2, "staging": 3}
    assert client.get_model_version("churn", 3).aliases == ("staging",)
    client.delete_alias("churn", "staging")
    with pytest.raises(NotFound, match="staging"):
        client.get_model_version("churn", "@staging")
    events = client.model_events("churn")
    moves = [(e.action, e.alias, e.from_version, e.version, e.reason) for e in events if e.alias]
    assert moves == [
        ("alias_set", "production", None, 1, "first release"),
        ("alias_set", "production", 1, 2, "better auc"),
        ("alias_set", "staging", None, 3, None),
        ("alias_deleted", "staging", 3, None, None),
    ]
    assert all(e.actor and e.created_at > 0 for e in events)
    assert [e.action for e in events][:3] == ["registered"] * 3


def test_rollback_steps_back_through_the_alias_history(client: Client, logged: Logged) -> None:
    for c in (0.1, 0.2, 0.3):
        client.register_model(logged(c), "model", "churn")
    with pytest.raises(Conflict, match="no previous holder"):
        client.rollback("churn", "production")
    for version in (1, 2, 3):
        client.set_alias("churn", "production", version)
    assert client.rollback("churn", "production", reason="v3 regressed").version == 2
    assert client.rollback("churn", "production").version == 1
    with pytest.raises(Conflict, match="no previous holder"):
        client.rollback("churn", "production")
    assert client.get_model_version("churn", "@production").version == 1
    last = client.model_events("churn")[-1]
    assert (last.action, last.from_version, last.version) == ("alias_rollback", 2, 1)


def test_archive_skips_latest_and_refuses_alias_holders(client: Client, logged: Logged) -> None:
    for c in (0.1, 0.2):
        client.register_model(logged(c), "model", "churn")
    client.set_alias("churn", "production", 2)
    with pytest.raises(Conflict, match="production"):
        client.archive_model_version("churn", 2)
    client.set_alias("churn", "production", 1)
    archived = client.archive_model_version("churn", 2, reason="leaky feature")
    assert archived.status is VersionStatus.ARCHIVED
    assert client.get_model_version("churn", "latest").version == 1
    assert client.get_model_version("churn", 2).version == 2  # still readable by number
    with pytest.raises(Conflict, match="archived"):
        client.set_alias("churn", "staging", 2)
    with pytest.raises(Conflict, match="already archived"):
        client.archive_model_version("churn", 2)
    assert [v.version for v in client.list_model_versions("churn", include_archived=False)] == [1]


def test_lineage_and_compare(client: Client, logged: Logged) -> None:
    client.register_model(logged(0.1), "model", "churn")
    client.register_model(logged(2.0), "model", "churn")
    lineage = client.model_lineage("churn", 1).to_dict()
    assert lineage["run"]["params"] == {"C": "0.1"}
    assert lineage["datasets"][0]["dataset"] == "cancer" and lineage["datasets"][0]["role"] == "train"
    assert "git_commit" in lineage["run"] and "git_dirty" in lineage["run"]
    compared = client.compare_model_versions("churn", 1, 2).to_dict()
    assert compared["params"] == {"C": {"a": "0.1", "b": "2.0"}}
    assert compared["datasets"] == {}  # same training data, same dataset version
    assert compared["signature"] == {}
    assert compared["same_artifact"] is False


def test_descriptions_and_tags(client: Client, logged: Logged) -> None:
    client.register_model(logged(), "model", "churn")
    client.set_model_description("churn", "Predicts churn")
    client.set_model_description("churn", "first", version=1)
    client.set_model_tags("churn", {"owner": "risk"})
    client.set_model_tags("churn", {"approved": "yes"}, version=1)
    model = client.get_registered_model("churn")
    assert model.description == "Predicts churn" and model.tags == {"owner": "risk"}
    version = client.get_model_version("churn", 1)
    assert version.description == "first" and version.tags == {"approved": "yes"}


def test_bad_input_names_the_thing_and_changes_nothing(client: Client, logged: Logged) -> None:
    run_id = logged()
    client.register_model(run_id, "model", "churn")
    before = client.model_events("churn")
    with pytest.raises(NotFound, match="no version 7"):
        client.set_alias("churn", "production", 7)
    with pytest.raises(NotFound, match="no model at 'nothing-here'"):
        client.register_model(run_id, "nothing-here", "churn")
    client.register_model(run_id, "model", "churn")
    with pytest.raises(NotFound, match="ghost"):
        client.get_registered_model("ghost")
    with pytest.raises(InvalidInput, match="alias"):
        client.set_alias("churn", "latest", 1)
    with pytest.raises(InvalidInput, match="model name"):
        client.register_model(run_id, "model", "bad/name")
    with pytest.raises(NotFound, match="does not exist"):
        client.register_model("0" * 32, "model", "churn")
    with pytest.raises(InvalidInput, match="URI"):
        client.load_model("churn@production")
    with pytest.raises(NotFound, match="no alias 'prod'"):
        client.load_model("models:/churn@prod")
    with pytest.raises(NotFound, match="no model at 'nothing'"):
        client.load_model(f"runs:/{run_id}/nothing")
    with pytest.raises(NotFound, match="'ghost-run' does not exist"):
        client.load_model("runs:/ghost-run/model")
    after = client.model_events("churn")
    # Only the successful second registration above was recorded.
    assert len(after) == len(before) + 1
    assert [v.version for v in client.list_model_versions("churn")] == [1, 2]
    assert client.get_registered_model("churn").aliases == {}


def test_a_tampered_model_is_refused(client: Client, logged: Logged, tmp_path: Path) -> None:
    run_id = logged()
    version = client.register_model(run_id, "model", "churn")
    entries = client.list_artifacts(run_id, "model")
    stored = next(e for e in entries if not e.path.endswith(".json"))
    blob = tmp_path / "artifacts" / "sha256" / stored.sha256[:2] / stored.sha256[2:]
    blob.write_bytes(blob.read_bytes()[:-1] + b"\x00")
    with pytest.raises(IntegrityError):
        client.load_model(version.uri)


def test_a_tampered_cached_copy_is_refused(client: Client, logged: Logged, tmp_path: Path) -> None:
    version = client.register_model(logged(), "model", "churn")
    client.load_model(version.uri)
    cached = tmp_path / "home" / "cache" / "models" / version.sha256
    model_file = next(p for p in cached.rglob("*") if p.is_file() and p.suffix != ".json")
    model_file.write_bytes(model_file.read_bytes() + b"tampered")
    with pytest.raises(IntegrityError):
        client.load_model(version.uri)
