"""Check a frame against a model signature, and convert what can be converted without loss.

The serving layer calls ``validate`` on every prediction request, where a frame has one row and
pandas' fixed costs per call and per column outweigh the work itself: the checks read the arrays
pandas stores (no Series per column), and the result is a shallow copy or ``take`` of the input
unless enough columns were converted that one new frame is cheaper. Large frames are checked
with vectorized operations; no Python code runs per row.

Messages name columns, types and counts, never values: inputs may be personal data, and errors
end up in HTTP responses and logs.
"""

from __future__ import annotations

import functools
import importlib
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd
from pandas.api import types as ptypes

from mlpilot.errors import InvalidInput

if TYPE_CHECKING:
    from mlpilot.models.signature import ColumnSpec, Signature

__all__ = ["COLUMN_TYPES", "ExtraColumnsWarning", "Problem", "SignatureError", "as_frame", "validate"]

COLUMN_TYPES = ("integer", "float", "boolean", "string", "category", "datetime")
PROBLEM_KINDS = ("missing", "type", "null", "category", "extra")

# Error messages list this many problems and warnings this many columns; a client sending
# thousands of stray columns must not get (or log) a message thousands of lines long.
_MAX_LISTED = 20
_MAX_NAME = 80
# Up to this many rows, category codes come from a dict lookup per value (about 1 µs) instead of
# Index.get_indexer (about 30 µs of fixed cost); beyond it the vectorized lookup wins.
_SMALL = 32
# From this many converted columns on, the output is built as a new frame (see _assemble).
_REBUILD_FROM = 4
_INT64_BOUND = 2.0**63
_NUMERIC_KINDS = frozenset({"integer", "floating", "mixed-integer-float", "decimal"})
_EXPECTED = {
    "integer": "whole numbers",
    "float": "numbers",
    "boolean": "true/false or 0/1",
    "string": "text",
    "category": "text levels",
    "datetime": "datetimes or ISO 8601 text",
}
# What pandas.api.types.infer_dtype says an object column holds, in words for an error message.
_FOUND = {
    "string": "text",
    "integer": "whole numbers",
    "floating": "numbers",
    "mixed-integer-float": "numbers",
    "decimal": "numbers",
    "boolean": "booleans",
    "datetime": "datetimes",
    "datetime64": "datetimes",
    "date": "dates",
    "bytes": "bytes",
    "mixed": "values of mixed types",
    "mixed-integer": "values of mixed types",
}

_Mask = npt.NDArray[np.bool_]
# A column as pandas stores it: a numpy array or an ExtensionArray. Any, because pandas-stubs
# types the two so differently that every check below would need a cast.
_Values = Any
_OBJECT = np.dtype(object)

# Two pandas internals, each behind a public fallback that gives the same result (the tests check
# both). Boxing a column as a Series costs about 15 µs, so 30 columns alone would use twice the
# 200 µs a 1-row request may take; pd.to_datetime spends about 60 µs on set-up around the very
# parser called here directly (its format="ISO8601" path), which takes 4 µs for one value.
_GET_COLUMN_ARRAY: Callable[[pd.DataFrame, int], Any] | None = getattr(pd.DataFrame, "_get_column_array", None)
try:
    _ARRAY_STRPTIME: Callable[..., tuple[Any, Any]] | None = importlib.import_module(
        "pandas._libs.tslibs.strptime"
    ).array_strptime
except (ImportError, AttributeError):
    _ARRAY_STRPTIME = None


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the input: ``kind`` is one of ``PROBLEM_KINDS``; ``message`` names
    the column and its expected type but never the offending values."""

    column: str
    kind: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"column": self.column, "kind": self.kind, "message": self.message}


class SignatureError(InvalidInput):
    """The input does not match the model signature; ``problems`` lists every mismatch found."""

    code: ClassVar[str] = "SIGNATURE_MISMATCH"
    default_hint: ClassVar[str] = (
        "Send every column of the model signature, by name, with values of its type; "
        "columns that do not allow nulls need a value in every row."
    )

    def __init__(self, problems: Sequence[Problem], *, hint: str | None = None) -> None:
        self.problems = tuple(problems)
        listed = "; ".join(problem.message for problem in self.problems[:_MAX_LISTED])
        more = len(self.problems) - _MAX_LISTED
        if more > 0:
            listed += f"; and {more} more"
        count = len(self.problems)
        super().__init__(
            f"the input does not match the model signature ({count} problem{'s' if count != 1 else ''}): {listed}",
            hint=hint,
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # The default would call SignatureError(message), which is not how it is built.
        return (type(self), (self.problems,), {"hint": self.hint})


class ExtraColumnsWarning(UserWarning):
    """Columns that are not in the signature were dropped; ``columns`` names them. Serving can
    filter this category (``warnings.simplefilter("ignore", ExtraColumnsWarning)``)."""

    def __init__(self, columns: Sequence[str]) -> None:
        self.columns = tuple(columns)
        super().__init__(f"dropped columns that are not in the model signature: {_listing(self.columns)}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.columns,))


def as_frame(data: object, what: str) -> pd.DataFrame:
    """A DataFrame as is, or a 2-D numpy array as a DataFrame with columns "0", "1", …"""
    if isinstance(data, pd.DataFrame):
        if isinstance(data.columns, pd.MultiIndex):
            raise InvalidInput(
                f"{what} has multi-level column names",
                hint="Flatten them first, e.g. df.columns = ['_'.join(map(str, c)) for c in df.columns].",
            )
        return data
    if isinstance(data, np.ndarray) and data.ndim == 2:
        return pd.DataFrame(data, columns=[str(position) for position in range(data.shape[1])])
    shape = f" with {data.ndim} dimensions" if isinstance(data, np.ndarray) else ""
    raise InvalidInput(
        f"{what} must be a pandas DataFrame or a 2-D numpy array, not a {type(data).__name__}{shape}",
        hint="Pass the features as a DataFrame with one named column per feature.",
    )


def validate(frame: pd.DataFrame | np.ndarray[Any, Any], signature: Signature, *, strict: bool = False) -> pd.DataFrame:
    """Return the signature's input columns of ``frame``, in signature order, converted where that
    loses nothing; raise SignatureError listing every problem at once.

    Accepted conversions: whole numbers to float; floats with whole values (or NaN) to integer;
    0/1 to boolean; text levels to category; ISO 8601 text and time-zone-aware datetimes to naive
    UTC datetimes. Unknown category levels are kept (appended after the known ones, so the known
    ones keep their codes) unless ``strict``. Columns not in the signature are dropped with an
    ``ExtraColumnsWarning``, or reported as problems when ``strict``. The result may share memory
    with ``frame``: copy it before changing values in place.
    """
    frame = as_frame(frame, "the input")
    labels = frame.columns.tolist()
    names = [label if isinstance(label, str) else str(label) for label in labels]
    positions = {name: position for position, name in enumerate(names)}
    if len(positions) != len(names):
        raise InvalidInput(
            f"the input names a column more than once: {_listing(_repeated(names))}",
            hint="Send each column once.",
        )
    problems: list[Problem] = []
    order: list[int] = []  # input position of each output column
    arrays: list[_Values] = []  # values of each output column
    converted: list[int] = []  # output positions whose values were converted
    for spec in signature.inputs:
        position = positions.get(spec.name)
        if position is None:
            problems.append(Problem(spec.name, "missing", f"column {spec.name!r} ({spec.type}) is missing"))
            continue
        values = _column(frame, position)
        checked = _CHECKS[spec.type](values, spec)
        if checked.values is not None:
            converted.append(len(order))
        order.append(position)
        arrays.append(values if checked.values is None else checked.values)
        problems.extend(_problems(spec, values, checked, strict))
    extras = _extras(names, signature) if len(order) < len(names) else []
    if strict:
        problems.extend(Problem(name, "extra", f"column {_shown(name)} is not in the signature") for name in extras)
    if problems:
        hint = None
        if extras and any(problem.kind == "missing" for problem in problems):
            hint = f"Columns not in the signature were sent ({_listing(extras)}); check their spelling."
        raise SignatureError(problems, hint=hint)
    if extras:
        warnings.warn(ExtraColumnsWarning(extras), stacklevel=2)
    return _assemble(frame, [names[position] for position in order], order, arrays, converted)


def _assemble(
    frame: pd.DataFrame, names: list[str], order: list[int], arrays: list[_Values], converted: list[int]
) -> pd.DataFrame:
    """The output frame, built the cheaper of two ways (equal results)."""
    if len(converted) >= _REBUILD_FROM:
        # Replacing a column in a frame costs about 35 µs (pandas splits the 2-D block holding
        # it); a new frame costs about 200 µs for 30 columns, so from a few conversions on, a new
        # one is cheaper. The object arrays kept here hold only text and nulls, which pandas
        # leaves as they are (it would only turn datetime objects into datetime64).
        result = pd.DataFrame(dict(zip(names, arrays, strict=True)), copy=False)
        result.index = frame.index
        return result
    result = frame.copy(deep=False) if order == list(range(frame.shape[1])) else frame.take(order, axis=1)
    if result.columns.tolist() != names:
        result.columns = pd.Index(names, dtype=object)
    for position in converted:
        result.isetitem(position, arrays[position])
    return result


class _Checked(NamedTuple):
    values: Any = None  # converted values; None keeps the input column as it is
    nulls: _Mask | None = None  # where values are missing; None when the dtype cannot hold nulls
    found: str | None = None  # what the column holds, when that cannot become the signature type
    unknown: int = 0  # how many values are not among the known categories


_KEEP = _Checked()


def _problems(spec: ColumnSpec, values: _Values, checked: _Checked, strict: bool) -> list[Problem]:
    problems = []
    name = spec.name
    if checked.found is not None:
        message = f"column {name!r} must be {spec.type} ({_EXPECTED[spec.type]}) but holds {checked.found}"
        problems.append(Problem(name, "type", message))
    if checked.unknown and strict:
        known = len(spec.categories or ())
        message = f"column {name!r} (category) has {_count(checked.unknown)} outside its {known} known categories"
        problems.append(Problem(name, "category", message))
    if not spec.nullable:
        # A column that failed its type check is looked at as it came, so both problems show at once.
        nulls = checked.nulls if checked.found is None else _isna(np.asarray(values, dtype=object))
        if nulls is not None and nulls.any():
            message = f"column {name!r} ({spec.type}) has {_count(int(nulls.sum()))} missing but does not allow nulls"
            problems.append(Problem(name, "null", message))
    return problems


def _integer(values: _Values, spec: ColumnSpec) -> _Checked:
    dtype = values.dtype
    if isinstance(values, np.ndarray):
        if dtype.kind in "iu":
            return _KEEP
        if dtype.kind == "f":
            return _whole(values)
        if dtype.kind == "O":
            return _integer_from_objects(values)
    elif ptypes.is_integer_dtype(dtype):
        return _Checked(nulls=_ext_nulls(values))
    elif ptypes.is_float_dtype(dtype):
        return _whole(values.to_numpy(dtype=np.float64, na_value=np.nan))
    return _Checked(found=_describe(values))


def _whole(values: npt.NDArray[Any]) -> _Checked:
    """Floats as integers when every present value is whole: JSON writers often send 3.0 for 3,
    and pandas reads a column of integers with a null in it as floats."""
    nulls = np.isnan(values)
    present = values[~nulls]
    if (present != np.trunc(present)).any():
        return _Checked(nulls=nulls, found="numbers with a fractional part")
    if ((present < -_INT64_BOUND) | (present >= _INT64_BOUND)).any():
        return _Checked(nulls=nulls, found="numbers too large for a 64-bit integer")
    if nulls.any():
        return _Checked(pd.arrays.IntegerArray(np.where(nulls, 0, values).astype(np.int64), nulls), nulls)
    return _Checked(values.astype(np.int64), nulls)


def _integer_from_objects(values: npt.NDArray[Any]) -> _Checked:
    kind = ptypes.infer_dtype(values, skipna=True)
    if kind == "empty":
        return _all_null(len(values), "integer")
    if kind == "integer":
        nulls = _isna(values)
        try:
            integers = np.where(nulls, 0, values).astype(np.int64)
        except OverflowError:
            return _Checked(nulls=nulls, found="numbers too large for a 64-bit integer")
        return _Checked(pd.arrays.IntegerArray(integers, nulls) if nulls.any() else integers, nulls)
    if kind in _NUMERIC_KINDS:
        floats = _objects_to_float(values)
        return _whole(floats) if floats is not None else _Checked(found="numbers too large for a 64-bit integer")
    return _Checked(found=_FOUND.get(kind, f"values of kind {kind}"))


def _float(values: _Values, spec: ColumnSpec) -> _Checked:
    dtype = values.dtype
    if isinstance(values, np.ndarray):
        if dtype.kind == "f":
            return _Checked(nulls=np.isnan(values))
        if dtype.kind in "iu":
            return _Checked(values=values.astype(np.float64))
        if dtype.kind == "O":
            kind = ptypes.infer_dtype(values, skipna=True)
            if kind == "empty" or kind in _NUMERIC_KINDS:
                floats = _objects_to_float(values)
                if floats is not None:
                    return _Checked(floats, np.isnan(floats))
                return _Checked(found="numbers too large for a float")
    elif ptypes.is_float_dtype(dtype):
        return _Checked(nulls=_ext_nulls(values))
    elif ptypes.is_integer_dtype(dtype):
        floats = values.to_numpy(dtype=np.float64, na_value=np.nan)
        return _Checked(floats, np.isnan(floats))
    return _Checked(found=_describe(values))


def _boolean(values: _Values, spec: ColumnSpec) -> _Checked:
    dtype = values.dtype
    if isinstance(values, np.ndarray):
        if dtype.kind == "b":
            return _KEEP
        if dtype.kind in "iuf":
            return _zero_one(values.astype(np.float64, copy=False))
        if dtype.kind == "O":
            kind = ptypes.infer_dtype(values, skipna=True)
            if kind == "empty":
                return _all_null(len(values), "boolean")
            if kind == "boolean":
                nulls = _isna(values)
                if nulls.any():
                    return _Checked(pd.arrays.BooleanArray(np.where(nulls, False, values).astype(bool), nulls), nulls)
                return _Checked(values.astype(bool), nulls)
            if kind in _NUMERIC_KINDS:
                floats = _objects_to_float(values)
                if floats is not None:
                    return _zero_one(floats)
    elif isinstance(dtype, pd.BooleanDtype):
        return _Checked(nulls=_ext_nulls(values))
    elif ptypes.is_integer_dtype(dtype) or ptypes.is_float_dtype(dtype):
        return _zero_one(values.to_numpy(dtype=np.float64, na_value=np.nan))
    return _Checked(found=_describe(values))


def _zero_one(values: npt.NDArray[np.float64]) -> _Checked:
    nulls = np.isnan(values)
    ones = values == 1
    if not (ones | (values == 0) | nulls).all():
        return _Checked(nulls=nulls, found="numbers other than 0 and 1")
    if nulls.any():
        return _Checked(pd.arrays.BooleanArray(ones, nulls), nulls)
    return _Checked(ones, nulls)


def _string(values: _Values, spec: ColumnSpec) -> _Checked:
    dtype = values.dtype
    if dtype == _OBJECT:
        kind = ptypes.infer_dtype(values, skipna=True)
        if kind in ("string", "empty"):
            return _Checked(nulls=_isna(values))
        return _Checked(found=_FOUND.get(kind, f"values of kind {kind}"))
    if isinstance(dtype, pd.StringDtype):
        return _Checked(nulls=_ext_nulls(values))
    if isinstance(values, pd.Categorical) and _text_levels(values.categories):
        # The same text, only stored as levels and codes: hand the model plain text as it trained on.
        return _Checked(np.asarray(values, dtype=object), values.codes < 0)
    return _Checked(found=_describe(values))


def _category(values: _Values, spec: ColumnSpec) -> _Checked:
    known = _levels(spec.categories or ())
    if isinstance(values, pd.Categorical):
        # Same levels in the same order: the codes already mean what the model learned.
        # (CategoricalDtype equality ignores the order of unordered levels, hence Index.equals.)
        if values.categories.equals(known.levels):
            return _Checked(nulls=values.codes < 0)
        if not _text_levels(values.categories):
            return _Checked(found="categories that are not text")
        texts = np.asarray(values, dtype=object)
    elif isinstance(values.dtype, pd.StringDtype):
        texts = values.to_numpy(dtype=object)
    elif values.dtype == _OBJECT:
        texts = values
        kind = ptypes.infer_dtype(texts, skipna=True)
        if kind not in ("string", "empty"):
            return _Checked(found=_FOUND.get(kind, f"values of kind {kind}"))
    else:
        return _Checked(found=_describe(values))
    if len(texts) <= _SMALL:
        codes = np.array([known.lookup.get(text, -1) for text in texts], dtype=np.intp)
    else:
        codes = known.levels.get_indexer(pd.Index(texts, dtype=object, copy=False))
    nulls = _isna(texts)
    unknown = (codes < 0) & ~nulls
    count = int(unknown.sum())
    if not count:
        return _Checked(pd.Categorical.from_codes(codes, dtype=known.dtype, validate=False), nulls)
    # Unknown levels go after the known ones, so every known level keeps the code the model
    # learned; the model decides what an unseen level means.
    new = pd.Index(sorted(pd.unique(texts[unknown])), dtype=object)
    codes[unknown] = len(known.levels) + new.get_indexer(pd.Index(texts[unknown], dtype=object))
    categories = pd.CategoricalDtype(known.levels.append(new))
    return _Checked(pd.Categorical.from_codes(codes, dtype=categories, validate=False), nulls, unknown=count)


def _datetime(values: _Values, spec: ColumnSpec) -> _Checked:
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "M":
        return _Checked(nulls=np.isnat(np.asarray(values)))
    if isinstance(dtype, pd.DatetimeTZDtype):
        naive = np.asarray(values.tz_convert("UTC").tz_localize(None))
        return _Checked(naive, np.isnat(naive))
    if dtype == _OBJECT or isinstance(dtype, pd.StringDtype):
        texts = np.asarray(values, dtype=object)
        kind = ptypes.infer_dtype(texts, skipna=True)
        if kind in ("string", "datetime", "datetime64", "date", "empty"):
            nulls = _isna(texts)
            parsed = _parse_iso8601(texts)
            unparsed = int((np.isnat(parsed) & ~nulls).sum())
            if unparsed:
                return _Checked(nulls=nulls, found=f"text that is not an ISO 8601 datetime ({_count(unparsed)})")
            return _Checked(parsed, nulls)
        return _Checked(found=_FOUND.get(kind, f"values of kind {kind}"))
    return _Checked(found=_describe(values))


_CHECKS = {
    "integer": _integer,
    "float": _float,
    "boolean": _boolean,
    "string": _string,
    "category": _category,
    "datetime": _datetime,
}


class _Levels(NamedTuple):
    levels: pd.Index[Any]
    lookup: dict[str, int]
    dtype: pd.CategoricalDtype


@functools.lru_cache(maxsize=1024)
def _levels(categories: tuple[str, ...]) -> _Levels:
    # Built once per set of levels: a signature is validated over and over with the same ones.
    index = pd.Index(categories, dtype=object)
    return _Levels(index, {level: code for code, level in enumerate(categories)}, pd.CategoricalDtype(index))


def _extras(names: list[str], signature: Signature) -> list[str]:
    expected = set(signature.input_names())
    return [name for name in names if name not in expected]


def _isna(values: npt.NDArray[Any]) -> _Mask:
    return pd.isna(values)


def _ext_nulls(values: _Values) -> _Mask:
    return np.asarray(values.isna(), dtype=bool)


def _column(frame: pd.DataFrame, position: int) -> _Values:
    """The array pandas stores for a column: a numpy array or an ExtensionArray (Categorical,
    IntegerArray, DatetimeArray…). Read only: it is the frame's own memory."""
    if _GET_COLUMN_ARRAY is not None:
        values: _Values = _GET_COLUMN_ARRAY(frame, position)
        return values
    array = frame.iloc[:, position].array
    return array.to_numpy() if isinstance(array, pd.arrays.NumpyExtensionArray) else array


def _parse_iso8601(texts: npt.NDArray[Any]) -> npt.NDArray[np.datetime64]:
    """ISO 8601 text (and datetime objects) as naive UTC datetime64[ns]; NaT where it does not parse.
    Text without an offset is taken as UTC, like everything else that becomes naive here."""
    if _ARRAY_STRPTIME is not None:
        parsed: npt.NDArray[np.datetime64] = _ARRAY_STRPTIME(texts, "ISO8601", utc=True, errors="coerce")[0]
        return parsed
    index = pd.DatetimeIndex(pd.to_datetime(texts, errors="coerce", utc=True, format="ISO8601"))
    return index.tz_localize(None).to_numpy()


def _all_null(length: int, kind: Literal["integer", "boolean"]) -> _Checked:
    nulls = np.ones(length, dtype=bool)
    if kind == "boolean":
        return _Checked(pd.arrays.BooleanArray(np.zeros(length, dtype=bool), nulls), nulls)
    return _Checked(pd.arrays.IntegerArray(np.zeros(length, dtype=np.int64), nulls), nulls)


def _objects_to_float(values: npt.NDArray[Any]) -> npt.NDArray[np.float64] | None:
    """Numbers held as Python objects (with None for null) as floats; None if one overflows."""
    nulls = _isna(values)
    floats = np.full(len(values), np.nan)
    try:
        floats[~nulls] = values[~nulls].astype(np.float64)
    except OverflowError:
        return None
    return floats


def _text_levels(levels: pd.Index[Any]) -> bool:
    return len(levels) == 0 or ptypes.infer_dtype(levels, skipna=False) == "string"


def _describe(values: _Values) -> str:
    """What a column holds, in words, from its dtype (or inferred kind): never its values."""
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "categories"
    if ptypes.is_bool_dtype(dtype):
        return "booleans"
    if ptypes.is_integer_dtype(dtype):
        return "whole numbers"
    if ptypes.is_float_dtype(dtype):
        return "numbers"
    if ptypes.is_datetime64_any_dtype(dtype):
        return "datetimes"
    if isinstance(dtype, pd.StringDtype):
        return "text"
    if ptypes.is_timedelta64_dtype(dtype):
        return "durations"
    if dtype == _OBJECT:
        kind = ptypes.infer_dtype(values, skipna=True)
        return _FOUND.get(kind, f"values of kind {kind}")
    return f"values of dtype {dtype}"


def _count(number: int) -> str:
    return f"{number} value{'s' if number != 1 else ''}"


def _repeated(names: list[str]) -> list[str]:
    return [name for name, count in Counter(names).items() if count > 1]


def _shown(name: str) -> str:
    """A column name from the caller, quoted and cut short: names are data the caller controls."""
    return repr(name if len(name) <= _MAX_NAME else name[:_MAX_NAME] + "…")


def _listing(names: Sequence[str]) -> str:
    shown = ", ".join(_shown(name) for name in names[:_MAX_LISTED])
    more = len(names) - _MAX_LISTED
    return f"{shown} and {more} more" if more > 0 else shown
