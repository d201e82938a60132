"""The model folder: its descriptor, its sha256, and the errors for folders that cannot be loaded."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import numpy as np
import pytest

import mlpilot
from mlpilot.errors import IntegrityError, InvalidInput, NotFound
from mlpilot.models import (
    DESCRIPTOR_FILE,
    FORMAT_VERSION,
    Descriptor,
    Signature,
    SignatureError,
    infer_signature,
    load_model_dir,
    model_sha256,
    read_descriptor,
    save_model,
    tree_hash_from_entries,
)
from mlpilot.models.hashing import tree_entries
from tests.models.custom_model import ThresholdModel
from tests.models.factories import iris, logistic, mixed_pipeline


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, str]:
    """A saved logistic regression and the sha256 recorded for it."""
    model, frame = logistic()
    folder = tmp_path / "model"
    save_model(model, folder, input_example=frame, metrics={"auc": 0.97, "loss": 0.12}, run_id="r" * 32)
    return folder, model_sha256(folder)


def rewrite_descriptor(folder: Path, **changes: object) -> None:
    path = folder / DESCRIPTOR_FILE
    data = json.loads(path.read_text())
    for key, value in changes.items():
        if value is None and key.startswith("drop_"):
            data.pop(key.removeprefix("drop_"))
        else:
            data[key] = value
    path.write_text(json.dumps(data))


# the descriptor -----------------------------------------------------------------------------------


def test_descriptor_records_flavor_versions_signature_example_and_metrics(saved: tuple[Path, str]) -> None:
    folder, _ = saved
    descriptor = read_descriptor(folder)
    assert descriptor.format_version == FORMAT_VERSION
    assert descriptor.flavor == "sklearn"
    assert descriptor.loader == "mlpilot.models.flavors.sklearn"
    assert descriptor.model_files == ("model.pkl",)
    assert descriptor.python == platform.python_version()
    assert descriptor.packages["mlpilot"] == mlpilot.__version__
    assert {"numpy", "pandas", "scikit-learn"} <= set(descriptor.packages)
    assert "xgboost" not in descriptor.packages
    assert descriptor.metrics == {"auc": 0.97, "loss": 0.12}
    assert descriptor.run_id == "r" * 32
    assert descriptor.created_at > 1_600_000_000_000
    assert descriptor.input_example is not None and len(descriptor.input_example) == 5
    assert list(descriptor.input_example[0])[:2] == ["mean radius", "mean texture"]
    assert descriptor.signature is not None
    assert Signature.from_dict(descriptor.signature).to_dict() == descriptor.signature
    assert sorted(p.name for p in folder.iterdir()) == [DESCRIPTOR_FILE, "model.pkl"]


def test_descriptor_json_has_a_stable_field_order(saved: tuple[Path, str]) -> None:
    folder, _ = saved
    data = json.loads((folder / DESCRIPTOR_FILE).read_text())
    assert list(data) == [
        "format_version",
        "flavor",
        "loader",
        "model_files",
        "python",
        "packages",
        "signature",
        "input_example",
        "metrics",
        "run_id",
        "created_at",
    ]
    assert list(data["packages"]) == sorted(data["packages"])
    assert Descriptor.from_dict(data).to_json() == (folder / DESCRIPTOR_FILE).read_text()


def test_input_example_records_are_plain_json(tmp_path: Path) -> None:
    model, frame = mixed_pipeline()
    example = frame.head(8).copy()
    example.loc[example.index[0], "sepal width (cm)"] = np.nan
    # With a signature given, the example is only stored, not predicted on (the pipeline refuses NaN).
    descriptor = save_model(model, tmp_path / "m", input_example=example, signature=infer_signature(example))
    assert descriptor.input_example is not None
    assert len(descriptor.input_example) == 5
    assert descriptor.input_example[0]["sepal width (cm)"] is None
    assert descriptor.input_example[0]["petal size"] == "small"


def test_no_example_no_signature(tmp_path: Path) -> None:
    model, frame = logistic()
    descriptor = save_model(model, tmp_path / "m")
    assert descriptor.signature is None and descriptor.input_example is None
    loaded = load_model_dir(tmp_path / "m")
    assert loaded.signature is None
    np.testing.assert_array_equal(loaded.predict(frame), model.predict(frame))


def test_a_given_signature_is_kept(tmp_path: Path) -> None:
    model, frame = logistic()
    signature = infer_signature(frame)
    descriptor = save_model(model, tmp_path / "m", signature=signature)
    assert descriptor.signature == signature.to_dict()
    assert descriptor.input_example is None


def test_a_signature_may_be_given_as_a_dict(tmp_path: Path) -> None:
    model, frame = logistic()
    as_dict = infer_signature(frame).to_dict()
    assert save_model(model, tmp_path / "a", signature=as_dict).signature == as_dict
    with pytest.raises(InvalidInput, match="signature"):
        save_model(model, tmp_path / "b", signature={"columns": []})
    assert not (tmp_path / "b").exists()  # checked before anything is written


def test_an_invalid_stored_signature_names_the_model(saved: tuple[Path, str]) -> None:
    folder, _ = saved
    rewrite_descriptor(folder, signature={"inputs": "age"})
    with pytest.raises(InvalidInput, match=r"signature in the descriptor of models:/x/1 is invalid"):
        load_model_dir(folder, name="models:/x/1")


def test_non_finite_metrics_are_left_out(tmp_path: Path) -> None:
    model, _ = logistic()
    descriptor = save_model(model, tmp_path / "m", metrics={"ok": 1, "bad": float("nan"), "inf": float("inf")})
    assert descriptor.metrics == {"ok": 1.0}


# the sha256 ---------------------------------------------------------------------------------------


def test_model_sha256_is_deterministic_and_ignores_mtimes(saved: tuple[Path, str]) -> None:
    folder, sha = saved
    for path in folder.iterdir():
        path.touch()
    assert model_sha256(folder) == sha
    assert len(sha) == 64


def test_tree_hash_from_entries_matches_the_folder_hash(saved: tuple[Path, str]) -> None:
    folder, sha = saved
    entries = tree_entries(folder)
    assert tree_hash_from_entries(entries) == sha
    assert tree_hash_from_entries(reversed(entries)) == sha
    run_relative = [(f"models/churn/{path}", digest) for path, digest in entries]
    assert tree_hash_from_entries(run_relative, prefix="models/churn") == sha


def test_tree_hash_refuses_bad_entries() -> None:
    digest = "a" * 64
    with pytest.raises(InvalidInput, match="not inside"):
        tree_hash_from_entries([("other/model.pkl", digest)], prefix="model")
    with pytest.raises(InvalidInput, match="twice"):
        tree_hash_from_entries([("model.pkl", digest), ("model.pkl", digest)])
    with pytest.raises(InvalidInput, match="not a clean relative path"):
        tree_hash_from_entries([("../model.pkl", digest)])
    with pytest.raises(InvalidInput, match="sha256"):
        tree_hash_from_entries([("model.pkl", "xyz")])
    with pytest.raises(InvalidInput, match="at least one file"):
        tree_hash_from_entries([])


# tampering ----------------------------------------------------------------------------------------


def test_changing_one_byte_of_the_model_file_is_refused(saved: tuple[Path, str]) -> None:
    folder, sha = saved
    payload = bytearray((folder / "model.pkl").read_bytes())
    payload[len(payload) // 2] ^= 0x01
    (folder / "model.pkl").write_bytes(bytes(payload))
    with pytest.raises(IntegrityError, match=r"does not match the sha256 recorded") as caught:
        load_model_dir(folder, expected_sha256=sha, name="models:/churn/3")
    assert "models:/churn/3" in caught.value.message
    assert "runs code" in caught.value.hint


def test_editing_the_descriptor_is_refused(saved: tuple[Path, str]) -> None:
    folder, sha = saved
    rewrite_descriptor(folder, run_id="someone-else")
    with pytest.raises(IntegrityError):
        load_model_dir(folder, expected_sha256=sha)


def test_a_deleted_model_file_is_refused(saved: tuple[Path, str]) -> None:
    folder, sha = saved
    (folder / "model.pkl").unlink()
    with pytest.raises(IntegrityError):
        load_model_dir(folder, expected_sha256=sha)
    with pytest.raises(IntegrityError, match=r"incomplete: model.pkl"):
        load_model_dir(folder)


def test_an_added_file_is_refused(saved: tuple[Path, str]) -> None:
    folder, sha = saved
    (folder / "extra.py").write_text("import os\n")
    with pytest.raises(IntegrityError):
        load_model_dir(folder, expected_sha256=sha)


def test_the_matching_hash_loads(saved: tuple[Path, str]) -> None:
    folder, sha = saved
    assert load_model_dir(folder, expected_sha256=sha.upper()).flavor == "sklearn"


# folders that are not (loadable) models -----------------------------------------------------------


def test_a_descriptor_from_a_newer_format_is_refused(saved: tuple[Path, str]) -> None:
    folder, _ = saved
    rewrite_descriptor(folder, format_version=FORMAT_VERSION + 1, flavor="onnx", drop_loader=None)
    with pytest.raises(InvalidInput, match="newer mlpilot") as caught:
        load_model_dir(folder)
    assert "Upgrade mlpilot" in caught.value.hint


def test_an_unknown_flavor_is_named(saved: tuple[Path, str]) -> None:
    folder, _ = saved
    rewrite_descriptor(folder, flavor="onnx")
    with pytest.raises(InvalidInput, match=r"unknown flavor 'onnx'.*lightgbm, python, sklearn, sparkml, xgboost"):
        load_model_dir(folder)


def test_a_folder_without_a_descriptor_is_not_a_model(tmp_path: Path) -> None:
    (tmp_path / "model.pkl").write_bytes(b"not a model")
    with pytest.raises(InvalidInput, match=f"is not an mlpilot model: it has no {DESCRIPTOR_FILE}"):
        load_model_dir(tmp_path)
    with pytest.raises(NotFound):
        load_model_dir(tmp_path / "missing")


def test_broken_descriptors_name_the_problem(saved: tuple[Path, str]) -> None:
    folder, _ = saved
    (folder / DESCRIPTOR_FILE).write_text("{not json")
    with pytest.raises(InvalidInput, match="not valid JSON"):
        read_descriptor(folder)
    (folder / DESCRIPTOR_FILE).write_text(json.dumps({"format_version": 1, "flavor": "sklearn"}))
    with pytest.raises(InvalidInput, match=r"missing the field.*loader"):
        read_descriptor(folder)
    (folder / DESCRIPTOR_FILE).write_text("[1, 2]")
    with pytest.raises(InvalidInput, match="JSON object"):
        read_descriptor(folder)


def test_model_files_must_stay_inside_the_folder(saved: tuple[Path, str]) -> None:
    folder, _ = saved
    rewrite_descriptor(folder, model_files=["../../etc/passwd"])
    with pytest.raises(InvalidInput, match="invalid model_files"):
        read_descriptor(folder)


# saving -------------------------------------------------------------------------------------------


def test_an_object_without_predict_cannot_be_packaged(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"cannot package a builtins.dict: it has no predict method"):
        save_model({"weights": [1, 2]}, tmp_path / "m")
    from sklearn.preprocessing import StandardScaler

    frame, _ = iris()
    with pytest.raises(InvalidInput, match="StandardScaler: it has no predict method"):
        save_model(StandardScaler().fit(frame), tmp_path / "m")


def test_saving_refuses_a_non_empty_folder(saved: tuple[Path, str]) -> None:
    folder, _ = saved
    model, _ = logistic()
    with pytest.raises(InvalidInput, match="not an empty folder"):
        save_model(model, folder)


def test_an_explicit_flavor_must_fit_the_model(tmp_path: Path) -> None:
    model, frame = logistic()
    with pytest.raises(InvalidInput, match="unknown model flavor 'onnx'"):
        save_model(model, tmp_path / "a", flavor="onnx")
    with pytest.raises(InvalidInput, match="xgboost flavor cannot save"):
        save_model(model, tmp_path / "b", flavor="xgboost")
    # Any model with predict may be saved as a plain Python object instead.
    assert save_model(model, tmp_path / "c", flavor="python").flavor == "python"
    np.testing.assert_array_equal(load_model_dir(tmp_path / "c").predict(frame), model.predict(frame))


def test_a_predict_failing_on_the_example_is_reported_and_leaves_nothing(tmp_path: Path) -> None:
    frame, _ = iris()
    with pytest.raises(InvalidInput, match="predict failed on the input example: KeyError"):
        save_model(ThresholdModel("no such column", 1.0), tmp_path / "m", input_example=frame)
    assert not (tmp_path / "m").exists() or not any((tmp_path / "m").iterdir())


# predicting ---------------------------------------------------------------------------------------


def test_predict_validates_against_the_signature(saved: tuple[Path, str]) -> None:
    folder, sha = saved
    loaded = load_model_dir(folder, expected_sha256=sha)
    _, frame = logistic()
    with pytest.raises(SignatureError):
        loaded.predict(frame.drop(columns=["mean radius"]))
    with pytest.raises(InvalidInput, match="list of records is empty"):
        loaded.predict([])
    with pytest.raises(InvalidInput, match="cannot read model input from a str"):
        loaded.predict("mean radius")  # type: ignore[arg-type]


def test_predict_accepts_records(saved: tuple[Path, str]) -> None:
    folder, sha = saved
    loaded = load_model_dir(folder, expected_sha256=sha)
    model, frame = logistic()
    records = frame.head(3).to_dict(orient="records")
    np.testing.assert_array_equal(loaded.predict(records), model.predict(frame.head(3)))
    # Rows built from records sit differently in memory, which can move the last bits of a dot product.
    np.testing.assert_allclose(loaded.predict_proba(records), model.predict_proba(frame.head(3)), rtol=1e-12)
    assert repr(loaded).startswith("LoadedModel(flavor='sklearn'")
