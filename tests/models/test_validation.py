"""validate: conversions that lose nothing, every problem reported at once without echoing
values, extra columns, strict categories, and the round trip with infer_signature."""

from __future__ import annotations

import datetime as dt
import json
import pickle
import string
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlpilot.errors import InvalidInput
from mlpilot.models import validation
from mlpilot.models.signature import (
    ColumnSpec,
    ExtraColumnsWarning,
    Problem,
    Signature,
    SignatureError,
    infer_signature,
    validate,
)

SECRET = "SECRET-123"

CHURN = Signature(
    (
        ColumnSpec("age", "integer", False),
        ColumnSpec("balance", "float", False),
        ColumnSpec("active", "boolean", False),
        ColumnSpec("city", "string", True),
        ColumnSpec("plan", "category", False, ("basic", "pro", "team")),
        ColumnSpec("joined", "datetime", False),
    )
)


def churn_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": np.array([31, 45], dtype=np.int64),
            "balance": [10.5, 3.0],
            "active": [True, False],
            "city": ["Lyon", None],
            "plan": pd.Categorical(["pro", "basic"], categories=["basic", "pro", "team"]),
            "joined": pd.to_datetime(["2024-01-01 00:00", "2024-03-01 10:30"]),
        }
    )


def problems_of(frame: pd.DataFrame, signature: Signature = CHURN, *, strict: bool = False) -> SignatureError:
    with pytest.raises(SignatureError) as caught:
        validate(frame, signature, strict=strict)
    return caught.value


def test_a_frame_that_matches_comes_back_equal_and_is_not_changed() -> None:
    frame = churn_frame()
    before = frame.copy()
    result = validate(frame, CHURN)
    pd.testing.assert_frame_equal(result, frame)
    assert result is not frame
    pd.testing.assert_frame_equal(frame, before)


def test_columns_are_reordered_and_whole_numbers_become_floats() -> None:
    frame = churn_frame()[["joined", "plan", "city", "active", "balance", "age"]].assign(balance=[10, 3])
    frame.index = pd.Index([7, 9])
    result = validate(frame, CHURN)
    assert result.columns.tolist() == CHURN.input_names()
    assert result["balance"].dtype == np.float64
    assert result["balance"].tolist() == [10.0, 3.0]
    assert result.index.tolist() == [7, 9]
    assert frame["balance"].dtype == np.int64  # the input is left alone


def test_json_records_are_converted_to_the_training_types() -> None:
    # What pandas builds from a JSON request: text for levels and datetimes, numbers as they came.
    records = [
        {"joined": "2024-01-01T02:00:00+02:00", "plan": "pro", "city": None, "active": 1, "balance": 10, "age": 31.0},
        {"joined": "2024-03-01T10:30:00Z", "plan": "basic", "city": "Lyon", "active": 0, "balance": 3, "age": 45.0},
    ]
    result = validate(pd.DataFrame(records), CHURN)
    expected = churn_frame()
    expected["city"] = [None, "Lyon"]
    expected["balance"] = [10.0, 3.0]
    expected["joined"] = pd.to_datetime(["2024-01-01 00:00", "2024-03-01 10:30"])
    pd.testing.assert_frame_equal(result, expected)


@pytest.mark.parametrize(
    ("spec", "values", "expected"),
    [
        (ColumnSpec("x", "integer", True), [1.0, None], pd.array([1, None], dtype="Int64")),
        (ColumnSpec("x", "integer", True), pd.Series([1, None], dtype=object), pd.array([1, None], dtype="Int64")),
        (
            ColumnSpec("x", "integer", True),
            pd.Series([None, None], dtype=object),
            pd.array([None, None], dtype="Int64"),
        ),
        (ColumnSpec("x", "integer", False), pd.array([1.0, 2.0], dtype="Float64"), np.array([1, 2])),
        (ColumnSpec("x", "integer", False), pd.Series([2, 3.0], dtype=object), np.array([2, 3])),
        (ColumnSpec("x", "float", True), pd.array([1, None], dtype="Int64"), np.array([1.0, np.nan])),
        (ColumnSpec("x", "float", True), pd.Series([1, None], dtype=object), np.array([1.0, np.nan])),
        (ColumnSpec("x", "float", False), np.array([1, 2], dtype=np.uint8), np.array([1.0, 2.0])),
        (ColumnSpec("x", "boolean", False), [1, 0], np.array([True, False])),
        (ColumnSpec("x", "boolean", True), [1.0, None], pd.array([True, None], dtype="boolean")),
        (ColumnSpec("x", "boolean", True), [True, None], pd.array([True, None], dtype="boolean")),
        (ColumnSpec("x", "boolean", False), pd.Series([True, False], dtype=object), np.array([True, False])),
        (
            ColumnSpec("x", "boolean", True),
            pd.array([0, None], dtype="Int64"),
            pd.array([False, None], dtype="boolean"),
        ),
        (ColumnSpec("x", "string", True), pd.Categorical(["a", None]), np.array(["a", np.nan], dtype=object)),
        (
            ColumnSpec("x", "category", True, ("b", "a")),
            pd.Categorical(["a", None, "b"], categories=["a", "b"]),
            pd.Categorical(["a", None, "b"], categories=["b", "a"]),
        ),
        (
            ColumnSpec("x", "category", False, ("a", "b")),
            pd.array(["b", "a"], dtype="string"),
            pd.Categorical(["b", "a"], categories=["a", "b"]),
        ),
        (
            ColumnSpec("x", "datetime", True),
            pd.to_datetime(["2024-01-01 12:00", None]).tz_localize("Europe/Paris"),
            pd.to_datetime(["2024-01-01 11:00", None]),
        ),
        (
            ColumnSpec("x", "datetime", False),
            pd.Series([dt.date(2024, 1, 2), dt.datetime(2024, 1, 3, 4, 5)], dtype=object),
            pd.to_datetime(["2024-01-02 00:00", "2024-01-03 04:05"]),
        ),
    ],
)
def test_safe_conversions(spec: ColumnSpec, values: Any, expected: Any) -> None:
    result = validate(pd.DataFrame({"x": values}), Signature((spec,)))
    pd.testing.assert_series_equal(result["x"], pd.Series(expected, name="x"))


def test_every_problem_is_reported_at_once_without_echoing_values() -> None:
    frame = pd.DataFrame(
        {
            "age": [SECRET, "40"],  # text in an integer column, even if it looks like a number
            "balance": [1.5, None],  # null where none is allowed
            "active": [2, 0],  # a number other than 0/1
            "plan": [SECRET, "pro"],  # unknown level (strict)
            "joined": [SECRET, "2024-01-01"],  # not a datetime
            SECRET: [1, 2],  # an extra column (strict)
        }
    )
    error = problems_of(frame, strict=True)
    assert [(problem.column, problem.kind) for problem in error.problems] == [
        ("age", "type"),
        ("balance", "null"),
        ("active", "type"),
        ("city", "missing"),
        ("plan", "category"),
        ("joined", "type"),
        (SECRET, "extra"),
    ]
    text = str(error)
    for name in ("'age'", "'balance'", "'active'", "'city'", "'plan'", "'joined'"):
        assert name in text
    assert "(7 problems)" in text
    assert "column 'age' must be integer (whole numbers) but holds text" in text
    assert "column 'balance' (float) has 1 value missing but does not allow nulls" in text
    assert "column 'active' must be boolean (true/false or 0/1) but holds numbers other than 0 and 1" in text
    assert "column 'city' (string) is missing" in text
    assert "column 'plan' (category) has 1 value outside its 3 known categories" in text
    assert "column 'joined' must be datetime (datetimes or ISO 8601 text) but holds text that is not an" in text
    # The extra column's name is reported (it is the problem) but no value ever is.
    assert text.count(SECRET) == 2  # the extra problem and the hint that lists extra columns
    values_free = [problem for problem in error.problems if problem.kind != "extra"]
    assert all(SECRET not in problem.message for problem in values_free)
    assert error.http_status == 400
    assert isinstance(error, InvalidInput)
    assert error.to_dict()["error_code"] == "SIGNATURE_MISMATCH"


def test_a_secret_value_never_appears_in_any_message() -> None:
    frame = pd.DataFrame(
        {
            "age": [SECRET],
            "balance": [SECRET],
            "active": [SECRET],
            "city": [5],
            "plan": [SECRET],
            "joined": [SECRET],
        }
    )
    for strict in (False, True):
        error = problems_of(frame, strict=strict)
        assert {problem.kind for problem in error.problems} == ({"type", "category"} if strict else {"type"})
        assert SECRET not in str(error)
        assert SECRET not in json.dumps([problem.to_dict() for problem in error.problems])
        assert SECRET not in repr(error.problems)


def test_a_column_with_a_type_problem_also_reports_its_nulls() -> None:
    error = problems_of(churn_frame().assign(age=["x", None]))
    assert [(problem.column, problem.kind) for problem in error.problems] == [("age", "type"), ("age", "null")]


@pytest.mark.parametrize(
    ("spec", "values", "found"),
    [
        (ColumnSpec("x", "integer", False), [1.5, 2.0], "numbers with a fractional part"),
        (ColumnSpec("x", "integer", False), [1e19], "numbers too large for a 64-bit integer"),
        (ColumnSpec("x", "integer", False), [np.inf], "numbers too large for a 64-bit integer"),
        (ColumnSpec("x", "integer", False), pd.Series([2**70], dtype=object), "numbers too large for a 64-bit"),
        (ColumnSpec("x", "integer", False), [True], "booleans"),
        (ColumnSpec("x", "integer", False), ["12"], "text"),
        (ColumnSpec("x", "float", False), ["1.5"], "text"),
        (ColumnSpec("x", "float", False), [True, False], "booleans"),
        (ColumnSpec("x", "float", False), pd.Series([10**400], dtype=object), "numbers too large for a float"),
        (ColumnSpec("x", "float", False), pd.to_datetime(["2024-01-01"]), "datetimes"),
        (ColumnSpec("x", "boolean", False), ["true"], "text"),
        (ColumnSpec("x", "boolean", False), pd.Categorical([True]), "categories"),
        (ColumnSpec("x", "string", False), [1, 2], "whole numbers"),
        (ColumnSpec("x", "string", False), pd.Series(["a", 1], dtype=object), "values of mixed types"),
        (ColumnSpec("x", "string", False), pd.to_timedelta([1], unit="s"), "durations"),
        (ColumnSpec("x", "category", False, ("1",)), [1], "whole numbers"),
        (ColumnSpec("x", "category", False, ("1",)), pd.Categorical([1]), "categories that are not text"),
        (ColumnSpec("x", "category", False, ("a",)), [b"a"], "bytes"),
        (ColumnSpec("x", "category", False, ("a",)), [0.5], "numbers"),
        (ColumnSpec("x", "datetime", False), [1_700_000_000], "whole numbers"),
        (ColumnSpec("x", "datetime", False), ["01/02/2024"], "text that is not an ISO 8601 datetime (1 value)"),
        (ColumnSpec("x", "datetime", False), [True], "booleans"),
    ],
)
def test_type_problems_say_what_the_column_holds(spec: ColumnSpec, values: Any, found: str) -> None:
    error = problems_of(pd.DataFrame({"x": values}), Signature((spec,)))
    [problem] = error.problems
    assert problem.kind == "type"
    assert problem.message.startswith(f"column 'x' must be {spec.type} (")
    assert f"but holds {found}" in problem.message


def test_nulls_are_counted_only_where_not_allowed() -> None:
    signature = Signature((ColumnSpec("a", "float", False), ColumnSpec("b", "float", True)))
    error = problems_of(pd.DataFrame({"a": [None, 1.0, None], "b": [None, None, None]}), signature)
    assert [problem.message for problem in error.problems] == [
        "column 'a' (float) has 2 values missing but does not allow nulls"
    ]


def test_null_kinds_of_every_type_are_caught() -> None:
    specs = [
        ColumnSpec("i", "integer", False),
        ColumnSpec("n", "integer", False),
        ColumnSpec("b", "boolean", False),
        ColumnSpec("s", "string", False),
        ColumnSpec("t", "string", False),
        ColumnSpec("c", "category", False, ("a",)),
        ColumnSpec("d", "datetime", False),
    ]
    frame = pd.DataFrame(
        {
            "i": [1.0, np.nan],
            "n": pd.array([1, None], dtype="Int64"),
            "b": pd.array([True, None], dtype="boolean"),
            "s": ["a", None],
            "t": pd.array(["a", None], dtype="string"),
            "c": pd.Categorical(["a", None]),
            "d": pd.to_datetime(["2024-01-01", None]),
        }
    )
    error = problems_of(frame, Signature(tuple(specs)))
    assert [(problem.column, problem.kind) for problem in error.problems] == [(spec.name, "null") for spec in specs]


def test_extra_columns_are_dropped_with_a_warning_naming_them() -> None:
    frame = churn_frame().assign(customer_id=[SECRET, "x"], note=["a", "b"])
    with pytest.warns(ExtraColumnsWarning) as record:
        result = validate(frame, CHURN)
    assert result.columns.tolist() == CHURN.input_names()
    [warning] = record
    assert isinstance(warning.message, ExtraColumnsWarning)
    assert warning.message.columns == ("customer_id", "note")
    assert str(warning.message) == "dropped columns that are not in the model signature: 'customer_id', 'note'"
    assert issubclass(ExtraColumnsWarning, UserWarning)


def test_the_warning_can_be_filtered_by_category() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExtraColumnsWarning)
        validate(churn_frame().assign(extra=1), CHURN)


def test_strict_makes_extra_columns_problems() -> None:
    error = problems_of(churn_frame().assign(extra=1), strict=True)
    assert error.problems == (Problem("extra", "extra", "column 'extra' is not in the signature"),)


def test_a_misspelled_column_is_pointed_out_in_the_hint() -> None:
    error = problems_of(churn_frame().rename(columns={"balance": "balence"}))
    assert [problem.kind for problem in error.problems] == ["missing"]
    assert error.hint == "Columns not in the signature were sent ('balence'); check their spelling."


def test_many_and_long_column_names_are_cut_short() -> None:
    extras = {f"{'x' * 200}{index}": [1, 2] for index in range(30)}
    frame = churn_frame().assign(**extras)
    with pytest.warns(ExtraColumnsWarning) as record:
        validate(frame, CHURN)
    message = str(record[0].message)
    assert message.endswith("and 10 more")
    assert len(message) < 2500
    error = problems_of(frame, strict=True)
    assert len(error.problems) == 30
    assert str(error).count("is not in the signature") == 20
    assert "; and 10 more" in str(error)


def test_unknown_categories_are_kept_after_the_known_ones_unless_strict() -> None:
    signature = Signature((ColumnSpec("plan", "category", False, ("basic", "pro")),))
    frame = pd.DataFrame({"plan": ["pro", "zeta", "basic", "alpha", "zeta"]})
    result = validate(frame, signature)
    assert result["plan"].tolist() == ["pro", "zeta", "basic", "alpha", "zeta"]
    assert result["plan"].cat.categories.tolist() == ["basic", "pro", "alpha", "zeta"]
    assert result["plan"].cat.codes.tolist() == [1, 3, 0, 2, 3]  # known levels keep their codes
    error = problems_of(frame, signature, strict=True)
    assert error.problems == (
        Problem("plan", "category", "column 'plan' (category) has 3 values outside its 2 known categories"),
    )


def test_categoricals_with_other_levels_are_recoded_to_the_known_order() -> None:
    signature = Signature((ColumnSpec("plan", "category", True, ("basic", "pro")),))
    frame = pd.DataFrame({"plan": pd.Categorical(["pro", None, "new"], categories=["new", "pro", "unused"])})
    result = validate(frame, signature)
    assert result["plan"].cat.categories.tolist() == ["basic", "pro", "new"]
    assert result["plan"].cat.codes.tolist() == [1, -1, 2]
    assert problems_of(frame, signature, strict=True).problems[0].kind == "category"


@pytest.mark.parametrize("rows", [1, 5, 200, 5000])
def test_large_and_small_frames_give_the_same_categories(rows: int) -> None:
    # Small frames look levels up one by one, large ones with a vectorized lookup.
    signature = Signature((ColumnSpec("c", "category", True, ("a", "b", "c")),))
    pattern = ["b", None, "zz", "a", "c", "yy", "zz"]
    values = (pattern * (rows // len(pattern) + 1))[:rows]
    result = validate(pd.DataFrame({"c": values}), signature)["c"]
    expected = pd.Series(pd.Categorical(values, categories=["a", "b", "c", *sorted({"zz", "yy"} & set(values))]))
    pd.testing.assert_series_equal(result, expected, check_names=False)


def test_many_conversions_and_few_give_the_same_frame() -> None:
    # From a few converted columns on the result is built anew instead of column by column.
    records = [{"joined": "2024-01-01", "plan": "pro", "city": "Lyon", "active": 1, "balance": 10, "age": 31}]
    few = validate(pd.DataFrame(records).assign(joined=pd.Timestamp("2024-01-01").as_unit("ns")), CHURN)
    many = validate(pd.DataFrame(records), CHURN)
    pd.testing.assert_frame_equal(few, many)
    assert many.dtypes.tolist() == [np.int64, np.float64, bool, object, CHURN_PLAN_DTYPE, np.dtype("<M8[ns]")]


CHURN_PLAN_DTYPE = pd.CategoricalDtype(["basic", "pro", "team"])


def test_numpy_arrays_and_non_string_labels_are_matched_by_position_names() -> None:
    signature = infer_signature(np.array([[1.0, 2.0]]))
    result = validate(np.array([[3, 4]]), signature)
    assert result.columns.tolist() == ["0", "1"]
    assert result.dtypes.tolist() == [np.float64, np.float64]
    labelled = validate(pd.DataFrame({1: [4.0], 0: [3.0]}), signature)
    assert labelled.columns.tolist() == ["0", "1"]
    assert labelled.iloc[0].tolist() == [3.0, 4.0]


@pytest.mark.parametrize(
    ("frame", "fragment"),
    [
        ([{"age": 1}], "the input must be a pandas DataFrame or a 2-D numpy array, not a list"),
        (np.array([1.0]), "with 1 dimensions"),
        (pd.DataFrame([[1, 2]], columns=["age", "age"]), "the input names a column more than once: 'age'"),
        (pd.DataFrame([[1]], columns=pd.MultiIndex.from_tuples([("a", "b")])), "multi-level column names"),
    ],
)
def test_input_that_is_not_a_frame_is_a_clear_error(frame: Any, fragment: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate(frame, CHURN)
    assert not isinstance(caught.value, SignatureError)
    assert fragment in str(caught.value)


def test_errors_and_warnings_survive_pickling() -> None:
    error = problems_of(churn_frame().drop(columns="age"))
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.problems, copy.hint, str(copy)) == (error.problems, error.hint, str(error))
    warning = pickle.loads(pickle.dumps(ExtraColumnsWarning(["a"])))
    assert (warning.columns, str(warning)) == (("a",), str(ExtraColumnsWarning(["a"])))


def test_the_public_fallbacks_give_the_same_results(monkeypatch: pytest.MonkeyPatch) -> None:
    # validate reads column arrays and parses ISO 8601 through two pandas internals when they
    # exist; without them it must behave the same.
    frames = [
        churn_frame(),
        pd.DataFrame(
            [{"joined": "2024-01-01T02:00:00+02:00", "plan": "x", "city": "L", "active": 1, "balance": 1, "age": 2}]
        ),
        pd.DataFrame({"joined": ["2024-01-01", None, "2024-02-30", "2024-01-05 10:00"], "plan": ["pro"] * 4}),
    ]

    def outcome(frame: pd.DataFrame) -> object:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ExtraColumnsWarning)
                return validate(frame, CHURN)
        except SignatureError as error:
            return error.problems

    fast = [outcome(frame) for frame in frames]
    monkeypatch.setattr(validation, "_GET_COLUMN_ARRAY", None)
    monkeypatch.setattr(validation, "_ARRAY_STRPTIME", None)
    slow = [outcome(frame) for frame in frames]
    for one, other in zip(fast, slow, strict=True):
        if isinstance(one, pd.DataFrame):
            assert isinstance(other, pd.DataFrame)
            pd.testing.assert_frame_equal(one, other)
        else:
            assert one == other


# --- properties -----------------------------------------------------------------------------

TEXT = st.text(alphabet=string.ascii_letters + string.digits + " éü-", max_size=8)
DATETIMES = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1))


@st.composite
def columns(draw: st.DrawFn, rows: int, json_safe: bool) -> pd.Series[Any]:
    kinds = ["int", "float", "bool", "text", "category", "datetime"]
    if not json_safe:
        kinds += ["Int64", "boolean", "string", "float32", "int8"]
    kind = draw(st.sampled_from(kinds))

    def values(element: st.SearchStrategy[Any], nulls: bool) -> list[Any]:
        return draw(st.lists(st.none() | element if nulls else element, min_size=rows, max_size=rows))

    nullable = not json_safe and draw(st.booleans())
    if kind == "int":
        return pd.Series(values(st.integers(-(2**63), 2**63 - 1), False), dtype=np.int64)
    if kind == "int8":
        return pd.Series(values(st.integers(-128, 127), False), dtype=np.int8)
    if kind == "float":
        return pd.Series(values(st.floats(allow_nan=not json_safe, allow_infinity=not json_safe), False), dtype=float)
    if kind == "float32":
        return pd.Series(values(st.floats(width=32), False), dtype=np.float32)
    if kind == "bool":
        return pd.Series(values(st.booleans(), False), dtype=bool)
    if kind == "Int64":
        return pd.Series(values(st.integers(-(2**63), 2**63 - 1), True), dtype="Int64")
    if kind == "boolean":
        return pd.Series(values(st.booleans(), True), dtype="boolean")
    if kind == "text":
        return pd.Series(values(TEXT, nullable), dtype=object)
    if kind == "string":
        return pd.Series(values(TEXT, True), dtype="string")
    if kind == "datetime":
        return pd.Series(pd.to_datetime(values(DATETIMES, nullable)), dtype="datetime64[ns]")
    levels = draw(st.lists(TEXT, min_size=1, max_size=5, unique=True))
    return pd.Series(pd.Categorical(values(st.sampled_from(levels), nullable), categories=levels))


@st.composite
def frames(draw: st.DrawFn, json_safe: bool = False) -> pd.DataFrame:
    rows = draw(st.integers(1 if json_safe else 0, 40))
    width = draw(st.integers(1, 6))
    return pd.DataFrame({f"c{index}": draw(columns(rows, json_safe)) for index in range(width)})


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames(), st.booleans())
def test_a_training_frame_validates_against_its_own_signature_unchanged(frame: pd.DataFrame, strict: bool) -> None:
    signature = Signature.from_dict(json.loads(json.dumps(infer_signature(frame).to_dict())))
    pd.testing.assert_frame_equal(validate(frame, signature, strict=strict), frame)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames(json_safe=True), st.randoms(use_true_random=False))
def test_rows_sent_as_json_come_back_as_the_training_frame(frame: pd.DataFrame, random: Any) -> None:
    # What serving does: rows as JSON records, in any key order, read back with pandas.
    rows = frame.to_dict(orient="records")
    records = json.loads(json.dumps(rows, default=lambda value: value.isoformat()))
    for index, record in enumerate(records):
        items = list(record.items())
        random.shuffle(items)
        records[index] = dict(items)
    result = validate(pd.DataFrame(records), infer_signature(frame))
    pd.testing.assert_frame_equal(result, frame, check_exact=False, rtol=1e-14)


def test_replacing_columns_of_the_result_leaves_the_input_alone() -> None:
    frame = churn_frame()
    result = validate(frame, CHURN)
    result["balance"] = [0.0, 0.0]
    result.isetitem(0, np.array([1, 1]))
    result["new"] = 1
    pd.testing.assert_frame_equal(frame, churn_frame())
