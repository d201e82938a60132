"""Signatures: what is inferred from a training frame and from predictions, the JSON form, and
the errors for anything a signature cannot describe. Validation is in test_validation.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlpilot.errors import InvalidInput
from mlpilot.models.signature import ColumnSpec, Signature, infer_signature
from tests.doc_examples import python_blocks, run_example


def every_type_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": np.array([31, 45, 52], dtype=np.int64),
            "small": np.array([1, 2, 3], dtype=np.int8),
            "balance": [10.5, np.nan, 3.25],
            "visits": pd.array([1, None, 3], dtype="Int64"),
            "active": [True, False, True],
            "opted_in": pd.array([True, None, False], dtype="boolean"),
            "city": ["Lyon", None, "Paris"],
            "email": pd.array(["a@x", "b@x", "c@x"], dtype="string"),
            "plan": pd.Categorical(["pro", "basic", "pro"], categories=["basic", "pro", "team"]),
            "joined": pd.to_datetime(["2024-01-01 00:00", None, "2024-03-01 10:30"]),
        }
    )


def test_inference_describes_every_supported_type() -> None:
    signature = infer_signature(every_type_frame())
    assert signature.inputs == (
        ColumnSpec("age", "integer", False),
        ColumnSpec("small", "integer", False),
        ColumnSpec("balance", "float", True),
        ColumnSpec("visits", "integer", True),
        ColumnSpec("active", "boolean", False),
        ColumnSpec("opted_in", "boolean", True),
        ColumnSpec("city", "string", True),
        ColumnSpec("email", "string", False),
        ColumnSpec("plan", "category", False, ("basic", "pro", "team")),
        ColumnSpec("joined", "datetime", True),
    )
    assert signature.outputs == ()
    assert signature.input_names() == list(every_type_frame().columns)


def test_nullability_comes_from_the_data_not_the_dtype() -> None:
    # A float or Int64 column without a single null says the model never saw one.
    frame = pd.DataFrame({"x": [1.0, 2.0], "y": pd.array([1, 2], dtype="Int64"), "z": [None, None]})
    specs = {spec.name: spec for spec in infer_signature(frame).inputs}
    assert (specs["x"].nullable, specs["y"].nullable) == (False, False)
    assert specs["z"] == ColumnSpec("z", "string", True)


def test_object_columns_are_typed_by_their_values() -> None:
    frame = pd.DataFrame(
        {
            "ints": pd.Series([1, None], dtype=object),
            "floats": pd.Series([1, 2.5], dtype=object),
            "flags": pd.Series([True, None], dtype=object),
            "when": pd.Series([pd.Timestamp("2024-01-01"), None], dtype=object),
        }
    )
    types = {spec.name: spec.type for spec in infer_signature(frame).inputs}
    assert types == {"ints": "integer", "floats": "float", "flags": "boolean", "when": "datetime"}


def test_a_2d_array_has_columns_named_by_position() -> None:
    signature = infer_signature(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
    assert signature.input_names() == ["0", "1", "2"]
    assert {spec.type for spec in signature.inputs} == {"float"}


def test_non_string_column_labels_become_strings() -> None:
    assert infer_signature(pd.DataFrame({0: [1], 1: ["a"]})).input_names() == ["0", "1"]


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (np.array([0, 1, 1]), (ColumnSpec("prediction", "integer", False),)),
        ([0.5, 0.25], (ColumnSpec("prediction", "float", False),)),
        (np.array(["yes", "no"], dtype=object), (ColumnSpec("prediction", "string", False),)),
        (pd.Series([1.5, None]), (ColumnSpec("prediction", "float", True),)),
        (pd.Series([True, False], name="churned"), (ColumnSpec("churned", "boolean", False),)),
        (
            np.array([[0.9, 0.1], [0.2, 0.8]]),
            (ColumnSpec("0", "float", False), ColumnSpec("1", "float", False)),
        ),
        (
            pd.DataFrame({"label": ["a", "b"], "score": [0.1, 0.2]}),
            (ColumnSpec("label", "string", False), ColumnSpec("score", "float", False)),
        ),
    ],
    ids=["1d-int", "list", "1d-text", "series", "named-series", "probabilities", "frame"],
)
def test_outputs_are_inferred_from_predictions(output: object, expected: tuple[ColumnSpec, ...]) -> None:
    assert infer_signature(pd.DataFrame({"x": [1, 2]}), output).outputs == expected


@pytest.mark.parametrize(
    ("frame", "fragment"),
    [
        ([{"a": 1}], "must be a pandas DataFrame or a 2-D numpy array, not a list"),
        ({"a": [1]}, "not a dict"),
        (np.array([1, 2]), "with 1 dimensions"),
        (pd.DataFrame(), "has no columns"),
        (pd.DataFrame([[1, 2]], columns=["a", "a"]), "the training frame names a column more than once: 'a'"),
        (pd.DataFrame([[1, 2]], columns=[0, "0"]), "more than once: '0'"),
        (pd.DataFrame([[1]], columns=pd.MultiIndex.from_tuples([("a", "b")])), "multi-level column names"),
        (pd.DataFrame({"mixed": pd.Series([1, "a"], dtype=object)}), "column 'mixed' holds values of no single"),
        (pd.DataFrame({"raw": [b"x"]}), "column 'raw' holds values of no single supported type (bytes)"),
        (pd.DataFrame({"wait": pd.to_timedelta([1], unit="s")}), "column 'wait' has dtype timedelta64[ns]"),
        (pd.DataFrame({"z": [1 + 2j]}), "column 'z' has dtype complex128"),
        (
            pd.DataFrame({"ts": pd.to_datetime(["2024-01-01"]).tz_localize("Europe/Paris")}),
            "column 'ts' holds time-zone-aware datetimes",
        ),
        (
            pd.DataFrame({"grade": pd.Categorical([1, 2])}),
            "column 'grade' is categorical with levels that are not text",
        ),
    ],
    ids=[
        "records",
        "dict",
        "1d-array",
        "no-columns",
        "duplicates",
        "duplicates-after-str",
        "multiindex",
        "mixed",
        "bytes",
        "timedelta",
        "complex",
        "tz-aware",
        "int-levels",
    ],
)
def test_what_a_signature_cannot_describe_is_a_clear_error(frame: object, fragment: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        infer_signature(frame)
    assert fragment in str(caught.value)


def test_outputs_that_are_not_predictions_are_rejected() -> None:
    frame = pd.DataFrame({"x": [1]})
    with pytest.raises(InvalidInput, match="cannot infer output columns from a str"):
        infer_signature(frame, "yes")
    with pytest.raises(InvalidInput, match="has 3 dimensions"):
        infer_signature(frame, np.zeros((1, 2, 2)))


def test_round_trip_through_json() -> None:
    signature = infer_signature(every_type_frame(), np.array([[0.1, 0.9], [0.5, 0.5], [1.0, 0.0]]))
    text = json.dumps(signature.to_dict(), allow_nan=False)
    assert Signature.from_dict(json.loads(text)) == signature
    plan = next(spec for spec in signature.to_dict()["inputs"] if spec["name"] == "plan")
    assert plan == {"name": "plan", "type": "category", "nullable": False, "categories": ["basic", "pro", "team"]}
    assert "categories" not in signature.to_dict()["inputs"][0]


def test_from_dict_accepts_missing_outputs_and_null_categories() -> None:
    signature = Signature.from_dict({"inputs": [{"name": "x", "type": "float", "nullable": True, "categories": None}]})
    assert signature == Signature((ColumnSpec("x", "float", True),))


def test_signatures_are_immutable_and_hashable() -> None:
    signature = Signature([ColumnSpec("x", "category", False, ["a", "b"])])  # type: ignore[arg-type]
    assert signature.inputs[0].categories == ("a", "b")
    assert hash(signature) == hash(Signature((ColumnSpec("x", "category", False, ("a", "b")),)))
    with pytest.raises(AttributeError):
        signature.inputs = ()  # type: ignore[misc]


def column(**changes: Any) -> dict[str, Any]:
    return {"name": "age", "type": "integer", "nullable": False, **changes}


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ([], "a signature must be a JSON object, not a list"),
        ({}, "signature field 'inputs' is missing"),
        ({"inputs": [column()], "version": 2}, "unknown signature field 'version'"),
        ({"inputs": "age"}, "signature field 'inputs' must be a list of columns, not a str"),
        ({"inputs": []}, "a signature needs at least one input column"),
        ({"inputs": [column(), "age"]}, "signature field 'inputs[1]' must be an object, not a str"),
        ({"inputs": [{"type": "integer", "nullable": False}]}, "signature field 'inputs[0].name' is missing"),
        ({"inputs": [column(name="")]}, "'inputs[0].name' must be a non-empty string"),
        ({"inputs": [column(name=3)]}, "'inputs[0].name' must be a non-empty string"),
        ({"inputs": [column(type="int")]}, "'inputs[0].type' must be one of integer, float, boolean, string"),
        ({"inputs": [column(type=None)]}, "'inputs[0].type' must be one of integer, float, boolean, string"),
        ({"inputs": [column(nullable="no")]}, "'inputs[0].nullable' must be true or false, not a str"),
        ({"inputs": [column(nullable=0)]}, "'inputs[0].nullable' must be true or false, not a int"),
        ({"inputs": [column(categories=["a"])]}, "'inputs[0].categories' are only for category columns"),
        ({"inputs": [column(type="category")]}, "'inputs[0].categories' must be a list of strings"),
        ({"inputs": [column(type="category", categories=[1])]}, "'inputs[0].categories' must be a list of strings"),
        ({"inputs": [column(type="category", categories="ab")]}, "'inputs[0].categories' must be a list"),
        ({"inputs": [column(type="category", categories=["a", "a"])]}, "'inputs[0].categories' repeat 'a'"),
        ({"inputs": [column(nulable=True)]}, "unknown signature field 'inputs[0].nulable'"),
        ({"inputs": [column(), column()]}, "signature inputs name a column more than once: 'age'"),
        ({"inputs": [column()], "outputs": [column(), {"name": "p"}]}, "'outputs[1].type' is missing"),
        ({"inputs": [column()], "outputs": None}, "signature field 'outputs' must be a list of columns, not null"),
    ],
)
def test_from_dict_names_the_bad_field(data: Any, fragment: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Signature.from_dict(data)
    assert fragment in str(caught.value)


def test_column_specs_check_themselves() -> None:
    with pytest.raises(InvalidInput, match="invalid column spec: type must be one of"):
        ColumnSpec("x", "number", False)
    with pytest.raises(InvalidInput, match="categories must be a list of strings"):
        ColumnSpec("x", "category", False)
    assert ColumnSpec.from_dict({"name": "x", "type": "string", "nullable": True}) == ColumnSpec("x", "string", True)
    with pytest.raises(InvalidInput, match="signature inputs must be ColumnSpec objects, not dict"):
        Signature(({"name": "x"},))  # type: ignore[arg-type]


def test_python_examples_in_the_signatures_doc_run(tmp_path: Path) -> None:
    blocks = python_blocks("models-signatures.md")
    assert blocks
    run_example("\n".join(blocks), tmp_path, timeout=120)
