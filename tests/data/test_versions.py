"""The dataset version service against real SQLite and PostgreSQL stores."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from mlpilot.artifacts import ContentStore
from mlpilot.data import parse_ref
from mlpilot.data.hashing import content_hash
from mlpilot.data.versions import (
    get_version,
    link_to_run,
    list_datasets,
    list_versions,
    load_frame,
    log_dataset,
    runs_using,
)
from mlpilot.errors import IntegrityError, InvalidInput, LimitExceeded, NotFound
from mlpilot.store import Database


def stored_objects(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file() and not path.name.startswith(".tmp-"))


def test_first_log_creates_version_one(db: Database, content: ContentStore, frame: pd.DataFrame) -> None:
    version = log_dataset(db, content, frame, "churn")
    assert (version.dataset, version.version, version.rows, version.source) == ("churn", 1, len(frame), None)
    assert version.content_hash == content_hash(frame)
    assert [field["name"] for field in version.schema["fields"]] == list(frame.columns)
    assert version.profile["fields"]["plan"]["distinct"] == 3
    assert content.exists(version.storage_sha256)
    assert version.size > 0
    assert version.created_at > 0
    assert get_version(db, "churn") == version
    json.dumps(version.to_dict(), allow_nan=False)


def test_same_content_in_any_form_is_the_same_version(
    db: Database, content: ContentStore, frame: pd.DataFrame, tmp_path: Path
) -> None:
    first = log_dataset(db, content, frame, "churn")
    objects = stored_objects(tmp_path / "artifacts")
    frame.to_parquet(tmp_path / "churn.parquet")
    for again in (frame.copy(), pa.Table.from_pandas(frame), tmp_path / "churn.parquet"):
        assert log_dataset(db, content, again, "churn") == first
    assert stored_objects(tmp_path / "artifacts") == objects
    assert [v.version for v in list_versions(db, "churn")] == [1]


def test_new_content_gets_the_next_version(db: Database, content: ContentStore, frame: pd.DataFrame) -> None:
    first = log_dataset(db, content, frame, "churn")
    second = log_dataset(db, content, frame.iloc[:100], "churn")
    third = log_dataset(db, content, frame.assign(extra=1), "churn")
    assert [first.version, second.version, third.version] == [1, 2, 3]
    assert len({first.id, second.id, third.id}) == 3
    assert list_versions(db, "churn") == [first, second, third]
    assert get_version(db, "churn") == third
    assert get_version(db, "churn", 2) == second
    assert log_dataset(db, content, frame, "churn") == first  # old content still maps to its version


def test_versions_are_numbered_per_dataset(db: Database, content: ContentStore, frame: pd.DataFrame) -> None:
    log_dataset(db, content, frame.iloc[:10], "train")
    log_dataset(db, content, frame.iloc[:20], "train")
    test = log_dataset(db, content, frame.iloc[:10], "test")
    assert test.version == 1
    assert test.storage_sha256 == get_version(db, "train", 1).storage_sha256  # one stored copy
    assert [s.to_dict() | {"created_at": 0} for s in list_datasets(db)] == [
        {"name": "test", "latest_version": 1, "versions": 1, "created_at": 0},
        {"name": "train", "latest_version": 2, "versions": 2, "created_at": 0},
    ]


def test_list_datasets_is_empty_on_a_new_store(db: Database) -> None:
    assert list_datasets(db) == []


def test_files_record_their_resolved_path(
    db: Database, content: ContentStore, frame: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame.drop(columns=["signup"]).to_csv(tmp_path / "churn.csv", index=False)
    monkeypatch.chdir(tmp_path)
    version = log_dataset(db, content, "churn.csv", "churn")
    assert version.source == str(tmp_path.resolve() / "churn.csv")
    assert version.rows == len(frame)


def test_load_frame_returns_the_logged_data(db: Database, content: ContentStore, frame: pd.DataFrame) -> None:
    version = log_dataset(db, content, frame.set_index("age"), "churn")
    loaded = load_frame(content, version)
    pd.testing.assert_frame_equal(loaded, frame)
    assert content_hash(loaded) == version.content_hash


def test_load_frame_refuses_tampered_bytes(
    sqlite_db: Database, content: ContentStore, frame: pd.DataFrame, tmp_path: Path
) -> None:
    version = log_dataset(sqlite_db, content, frame, "churn")
    stored = tmp_path / "artifacts" / ContentStore.key(version.storage_sha256)
    stored.write_bytes(stored.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(IntegrityError):
        load_frame(content, version)


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("make_data", "message"),
    [
        pytest.param(lambda tmp: [1, 2, 3], "cannot log a builtins.list", id="list"),
        pytest.param(lambda tmp: {"a": [1]}, "cannot log a builtins.dict", id="dict"),
        pytest.param(lambda tmp: 42, "cannot log a builtins.int", id="int"),
        pytest.param(lambda tmp: tmp / "missing.csv", "does not exist", id="missing-file"),
        pytest.param(lambda tmp: tmp, "is not a file", id="directory"),
        pytest.param(lambda tmp: write(tmp / "data.txt", "a\n1\n"), "extension '.txt'", id="unknown-extension"),
        pytest.param(lambda tmp: write(tmp / "data", "a\n1\n"), "extension '(none)'", id="no-extension"),
        pytest.param(lambda tmp: write(tmp / "bad.csv", "a,b\n1,2\n3,4,5\n"), "cannot parse CSV", id="ragged-csv"),
        pytest.param(lambda tmp: write(tmp / "empty.csv", ""), "is empty", id="empty-csv"),
        pytest.param(lambda tmp: write(tmp / "fake.parquet", "not parquet"), "cannot read Parquet", id="bad-parquet"),
        pytest.param(lambda tmp: pd.DataFrame({"a": [1], "": [2]}), "empty name", id="empty-column-name"),
        pytest.param(lambda tmp: pd.DataFrame([[1, 2]], columns=["a", "a"]), "duplicate column", id="duplicates"),
        pytest.param(lambda tmp: pd.DataFrame([[1, 2]], columns=[1, "1"]), "duplicate column", id="dup-after-str"),
        pytest.param(
            lambda tmp: pa.table({"a": [1], "b": [2]}).rename_columns(["x", "x"]), "duplicate", id="arrow-dup"
        ),
        pytest.param(lambda tmp: pd.DataFrame(index=range(3)), "no columns", id="no-columns"),
        pytest.param(lambda tmp: pd.DataFrame({"v": [1, "x"]}), "cannot store the data as Parquet", id="mixed-types"),
        pytest.param(
            lambda tmp: pd.DataFrame({"a": [1]}, index=pd.Index([0], name="a")),
            "same name as a column",
            id="index-clash",
        ),
        pytest.param(
            lambda tmp: pd.DataFrame([[1]], columns=pd.MultiIndex.from_tuples([("a", "b")])),
            "multi-level",
            id="multiindex-columns",
        ),
    ],
)
def test_bad_data_is_invalid_input_and_stores_nothing(
    sqlite_db: Database,
    content: ContentStore,
    tmp_path: Path,
    make_data: Callable[[Path], object],
    message: str,
) -> None:
    with pytest.raises(InvalidInput) as caught:
        log_dataset(sqlite_db, content, make_data(tmp_path), "churn")
    assert message in caught.value.message
    assert caught.value.hint
    assert list_datasets(sqlite_db) == []


@pytest.mark.parametrize("name", ["", "   ", " churn", "churn:2", "churn@latest", "tab\there", None, 3], ids=repr)
def test_bad_names_are_invalid_input(
    sqlite_db: Database, content: ContentStore, frame: pd.DataFrame, name: object
) -> None:
    with pytest.raises(InvalidInput):
        log_dataset(sqlite_db, content, frame, name)  # type: ignore[arg-type]


def test_name_length_limit(sqlite_db: Database, content: ContentStore, frame: pd.DataFrame) -> None:
    assert log_dataset(sqlite_db, content, frame, "d" * 250).dataset == "d" * 250
    with pytest.raises(LimitExceeded, match="251 characters"):
        log_dataset(sqlite_db, content, frame, "d" * 251)


def test_unknown_dataset_and_version_are_not_found(db: Database, content: ContentStore, frame: pd.DataFrame) -> None:
    log_dataset(db, content, frame, "churn")
    with pytest.raises(NotFound, match="dataset 'nope' does not exist"):
        get_version(db, "nope")
    with pytest.raises(NotFound, match="dataset 'nope' does not exist"):
        get_version(db, "nope", 1)
    with pytest.raises(NotFound, match="'churn' has no version 7; its latest is 1"):
        get_version(db, "churn", 7)
    with pytest.raises(NotFound, match="dataset 'nope' does not exist"):
        list_versions(db, "nope")


@pytest.mark.parametrize("version", [0, -1, True, "2", 1.0])
def test_bad_version_numbers_are_invalid_input(sqlite_db: Database, version: object) -> None:
    with pytest.raises(InvalidInput, match="positive integer"):
        get_version(sqlite_db, "churn", version)  # type: ignore[arg-type]


def test_link_to_run_records_each_role_once(
    db: Database, content: ContentStore, frame: pd.DataFrame, make_run: Callable[[], str]
) -> None:
    train = log_dataset(db, content, frame.iloc[:150], "churn")
    test = log_dataset(db, content, frame.iloc[150:], "churn")
    run_a, run_b = make_run(), make_run()
    link_to_run(db, run_a, train.id, "train")
    link_to_run(db, run_a, train.id, "train")  # repeating is harmless
    link_to_run(db, run_a, test.id, "test")
    link_to_run(db, run_b, train.id, "train")
    link_to_run(db, run_b, train.id, "reference")
    assert sorted(runs_using(db, train.id)) == sorted([(run_a, "train"), (run_b, "train"), (run_b, "reference")])
    assert runs_using(db, test.id) == [(run_a, "test")]


def test_link_to_run_rejects_bad_roles_and_unknown_ids(
    db: Database, content: ContentStore, frame: pd.DataFrame, make_run: Callable[[], str]
) -> None:
    version = log_dataset(db, content, frame, "churn")
    run_id = make_run()
    for role in ("", "  ", None):
        with pytest.raises(InvalidInput, match="role"):
            link_to_run(db, run_id, version.id, role)  # type: ignore[arg-type]
    with pytest.raises(LimitExceeded):
        link_to_run(db, run_id, version.id, "r" * 65)
    link_to_run(db, run_id, version.id, "r" * 64)
    with pytest.raises(NotFound, match="run 'no-such-run' does not exist"):
        link_to_run(db, "no-such-run", version.id, "train")
    with pytest.raises(NotFound, match="dataset version id 999"):
        link_to_run(db, run_id, 999, "train")
    assert runs_using(db, version.id) == [(run_id, "r" * 64)]


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("churn", ("churn", None)),
        ("churn:3", ("churn", 3)),
        ("churn:latest", ("churn", None)),
        ("churn@latest", ("churn", None)),
        (" churn:12 ", ("churn", 12)),
    ],
)
def test_parse_ref(ref: str, expected: tuple[str, int | None]) -> None:
    assert parse_ref(ref) == expected


@pytest.mark.parametrize(
    "ref", ["", "churn:", "churn:0", "churn:-1", "churn:v2", "churn@prod", ":3", "@latest", "a:1:2"]
)
def test_parse_ref_rejects_malformed_references(ref: str) -> None:
    with pytest.raises(InvalidInput):
        parse_ref(ref)
