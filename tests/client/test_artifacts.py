"""Artifacts logged by runs: content-addressed, verified on the way out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import mlpilot
from mlpilot import IntegrityError, InvalidInput, NotFound


def test_log_list_read_and_download(client: mlpilot.Client, tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "plots").mkdir(parents=True)
    (source / "model.txt").write_text("weights")
    (source / "plots" / "roc.txt").write_text("curve")
    with client.start_run("art") as run:
        single = run.log_artifact(source / "model.txt")
        many = run.log_artifacts(source, artifact_path="bundle")
        run.log_dict({"a": 1, "b": [1, 2]}, "config/params.json")
        run.log_dict({"a": 1}, "config/params.yaml")
        run.log_text("hello", "notes.md")
    assert single.path == "model.txt" and single.size == 7
    assert sorted(entry.path for entry in many) == ["bundle/model.txt", "bundle/plots/roc.txt"]
    listed = [entry.path for entry in client.list_artifacts(run.id)]
    assert listed == sorted(listed)
    assert [e.path for e in client.list_artifacts(run.id, "bundle/plots")] == ["bundle/plots/roc.txt"]
    assert json.loads(client.read_artifact(run.id, "config/params.json")) == {"a": 1, "b": [1, 2]}
    assert yaml.safe_load(client.read_artifact(run.id, "config/params.yaml")) == {"a": 1}
    assert client.read_artifact(run.id, "notes.md") == b"hello"

    folder = client.download_artifacts(run.id, "bundle", tmp_path / "out")
    assert (folder / "plots" / "roc.txt").read_text() == "curve"
    file = client.download_artifacts(run.id, "model.txt", tmp_path / "out2")
    assert file.read_text() == "weights"


def test_same_bytes_are_stored_once(client: mlpilot.Client, tmp_path: Path) -> None:
    with client.start_run("art") as run:
        first = run.log_text("same", "a.txt")
        second = run.log_text("same", "b.txt")
    assert first.sha256 == second.sha256
    objects = [p for p in (tmp_path / "artifacts").rglob("*") if p.is_file()]
    assert len(objects) == 1


def test_tampered_artifact_is_refused(client: mlpilot.Client, tmp_path: Path) -> None:
    with client.start_run("art") as run:
        entry = run.log_text("original", "a.txt")
    stored = tmp_path / "artifacts" / "sha256" / entry.sha256[:2] / entry.sha256[2:]
    stored.write_text("changed!")
    with pytest.raises(IntegrityError, match=entry.sha256):
        client.read_artifact(run.id, "a.txt")
    with pytest.raises(IntegrityError):
        client.download_artifacts(run.id, "a.txt", tmp_path / "out")
    assert not (tmp_path / "out" / "a.txt").exists()
    stored.unlink()
    with pytest.raises(NotFound, match="missing"):
        client.read_artifact(run.id, "a.txt")


def test_bad_artifact_inputs(client: mlpilot.Client, tmp_path: Path) -> None:
    with client.start_run("art") as run:
        with pytest.raises(InvalidInput, match="not a file"):
            run.log_artifact(tmp_path / "missing.txt")
        with pytest.raises(InvalidInput, match="not a folder"):
            run.log_artifacts(tmp_path / "missing")
        with pytest.raises(InvalidInput, match="inside the run"):
            run.log_text("x", "../escape.txt")
        with pytest.raises(InvalidInput, match="serialize"):
            run.log_dict({"x": object()}, "bad.yaml")
    with pytest.raises(NotFound, match=r"nope\.txt"):
        client.read_artifact(run.id, "nope.txt")
    with pytest.raises(mlpilot.InactiveRun):
        run.log_text("late", "late.txt")
