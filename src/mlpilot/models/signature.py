"""Model signatures: the columns a model takes and gives, inferred from its training frame and
its predictions, stored as plain JSON with the model, and checked on every input by ``validate``.

A column is described by a name, one of six portable types, whether it may hold nulls, and — for
categorical columns — its known levels. Types are deliberately coarser than dtypes (``integer``,
not ``int32``) because serving inputs arrive as JSON, where only the kind of value survives.

The checking itself lives in ``mlpilot.models.validation``; its public names are re-exported here
so callers import everything about signatures from one module.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from mlpilot.errors import InvalidInput
from mlpilot.models.validation import (
    COLUMN_TYPES,
    ExtraColumnsWarning,
    Problem,
    SignatureError,
    as_frame,
    validate,
)

__all__ = [
    "COLUMN_TYPES",
    "ColumnSpec",
    "ExtraColumnsWarning",
    "Problem",
    "Signature",
    "SignatureError",
    "infer_signature",
    "validate",
]

# The name of the single output column of a model whose predictions are one-dimensional.
PREDICTION = "prediction"
_SIGNATURE_HINT = 'Write a signature like {"inputs": [{"name": "age", "type": "integer", "nullable": false}]}.'
_COLUMN_KEYS = frozenset({"name", "type", "nullable", "categories"})
# What pandas.api.types.infer_dtype reports for an object column, mapped to a signature type.
# Anything else (bytes, mixed kinds, intervals, nested lists…) has no portable JSON form.
_OBJECT_KINDS = {
    "string": "string",
    "empty": "string",
    "boolean": "boolean",
    "integer": "integer",
    "floating": "float",
    "mixed-integer-float": "float",
    "decimal": "float",
    "datetime": "datetime",
    "datetime64": "datetime",
    "date": "datetime",
}


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One column: ``type`` is one of ``COLUMN_TYPES``; ``categories`` are the known levels of a
    ``category`` column, in the order of the training frame's categorical dtype, and None for any
    other type."""

    name: str
    type: str
    nullable: bool
    categories: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.categories, list):
            object.__setattr__(self, "categories", tuple(self.categories))
        problem = _spec_problem(self.name, self.type, self.nullable, self.categories)
        if problem is not None:
            field, message = problem
            raise InvalidInput(f"invalid column spec: {field} {message}", hint=_SIGNATURE_HINT)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "type": self.type, "nullable": self.nullable}
        if self.categories is not None:
            data["categories"] = list(self.categories)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnSpec:
        return _column_from_dict(data, "column")


@dataclass(frozen=True, slots=True)
class Signature:
    """The input columns a model takes, in order, and the output columns it gives (empty when
    the outputs were not recorded)."""

    inputs: tuple[ColumnSpec, ...]
    outputs: tuple[ColumnSpec, ...] = ()

    def __post_init__(self) -> None:
        # Lists are accepted for convenience but stored as tuples, so signatures stay hashable.
        object.__setattr__(self, "inputs", tuple(self.inputs))
        object.__setattr__(self, "outputs", tuple(self.outputs))
        if not self.inputs:
            raise InvalidInput("a signature needs at least one input column", hint=_SIGNATURE_HINT)
        for side in ("inputs", "outputs"):
            specs: tuple[object, ...] = getattr(self, side)
            for spec in specs:
                if not isinstance(spec, ColumnSpec):
                    raise InvalidInput(f"signature {side} must be ColumnSpec objects, not {type(spec).__name__}")
            duplicates = _duplicates(spec.name for spec in getattr(self, side))
            if duplicates:
                raise InvalidInput(f"signature {side} name a column more than once: {duplicates}")

    def input_names(self) -> list[str]:
        return [spec.name for spec in self.inputs]

    def output_names(self) -> list[str]:
        return [spec.name for spec in self.outputs]

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": [spec.to_dict() for spec in self.inputs],
            "outputs": [spec.to_dict() for spec in self.outputs],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Signature:
        """Read what ``to_dict`` wrote; InvalidInput names the first bad field (e.g. ``inputs[2].type``)."""
        if not isinstance(data, Mapping):
            raise InvalidInput(f"a signature must be a JSON object, not {_kind(data)}", hint=_SIGNATURE_HINT)
        unknown = sorted(str(key) for key in data if key not in ("inputs", "outputs"))
        if unknown:
            raise InvalidInput(f"unknown signature field {unknown[0]!r}", hint=_SIGNATURE_HINT)
        if "inputs" not in data:
            raise InvalidInput("signature field 'inputs' is missing", hint=_SIGNATURE_HINT)
        inputs = _columns_from_list(data["inputs"], "inputs")
        outputs = _columns_from_list(data.get("outputs", []), "outputs")
        return cls(inputs, outputs)


def infer_signature(frame: pd.DataFrame | np.ndarray[Any, Any], output: object | None = None) -> Signature:
    """Describe the columns of a training frame and, when given, of the model's predictions.

    ``frame`` is a DataFrame or a 2-D numpy array (whose columns are named "0", "1", …). ``output``
    is what ``predict`` returned: a 1-D array, list or unnamed Series gives one column named
    "prediction" (a named Series keeps its name); a 2-D array (e.g. class probabilities) gives
    columns "0", "1", …; a DataFrame gives its own columns. Raises InvalidInput for anything else
    or for a column whose values have no portable type.
    """
    inputs = _infer_columns(as_frame(frame, "the training frame"), "the training frame")
    if not inputs:
        raise InvalidInput("the training frame has no columns", hint="Infer the signature from the frame you fit on.")
    outputs = () if output is None else _infer_columns(_output_frame(output), "the model output")
    return Signature(inputs, outputs)


def _infer_columns(frame: pd.DataFrame, what: str) -> tuple[ColumnSpec, ...]:
    duplicates = _duplicates(str(name) for name in frame.columns)
    if duplicates:
        raise InvalidInput(f"{what} names a column more than once: {duplicates}", hint="Rename the columns first.")
    specs = []
    for name, series in frame.items():
        kind, categories = _column_type(str(name), series)
        specs.append(ColumnSpec(str(name), kind, bool(series.isna().any()), categories))
    return tuple(specs)


def _output_frame(output: object) -> pd.DataFrame:
    if isinstance(output, pd.DataFrame):
        return as_frame(output, "the model output")
    if isinstance(output, pd.Series):
        name = output.name if isinstance(output.name, str) and output.name else PREDICTION
        return pd.DataFrame({name: output})
    if isinstance(output, np.ndarray | list | tuple):
        array = np.asarray(output)
        if array.ndim == 1:
            return pd.DataFrame({PREDICTION: array})
        if array.ndim == 2:
            return as_frame(array, "the model output")
        raise InvalidInput(
            f"the model output has {array.ndim} dimensions; a signature describes 1-D or 2-D outputs",
            hint="Pass the predictions as a 1-D array, a 2-D array, a Series or a DataFrame.",
        )
    raise InvalidInput(
        f"cannot infer output columns from {_kind(output)}",
        hint="Pass the predictions as a 1-D array, a 2-D array, a Series or a DataFrame.",
    )


def _column_type(name: str, series: pd.Series[Any]) -> tuple[str, tuple[str, ...] | None]:
    """The signature type of one column, from its dtype (or, for object columns, its values)."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        levels = dtype.categories
        if len(levels) and ptypes.infer_dtype(levels, skipna=False) != "string":
            raise InvalidInput(
                f"column {name!r} is categorical with levels that are not text",
                hint=f"Make the levels text, e.g. df[{name!r}] = df[{name!r}].cat.rename_categories(str).",
            )
        return "category", tuple(str(level) for level in levels)
    if ptypes.is_bool_dtype(dtype):
        return "boolean", None
    if ptypes.is_integer_dtype(dtype):
        return "integer", None
    if ptypes.is_float_dtype(dtype):
        return "float", None
    if isinstance(dtype, pd.DatetimeTZDtype):
        raise InvalidInput(
            f"column {name!r} holds time-zone-aware datetimes; signatures describe naive (UTC) datetimes",
            hint=f"Convert them first: df[{name!r}] = df[{name!r}].dt.tz_convert('UTC').dt.tz_localize(None).",
        )
    if ptypes.is_datetime64_dtype(dtype):
        return "datetime", None
    if isinstance(dtype, pd.StringDtype):
        return "string", None
    if dtype == np.dtype(object):
        found = ptypes.infer_dtype(series, skipna=True)
        if found in _OBJECT_KINDS:
            return _OBJECT_KINDS[found], None
        raise InvalidInput(
            f"column {name!r} holds values of no single supported type ({found})",
            hint="Give the column one type: integer, float, boolean, text, categorical or datetime.",
        )
    raise InvalidInput(
        f"column {name!r} has dtype {dtype} that a signature cannot describe",
        hint="Convert it to one of: integer, float, boolean, text, categorical or datetime.",
    )


def _spec_problem(name: object, kind: object, nullable: object, categories: object) -> tuple[str, str] | None:
    """The first thing wrong with a column's fields, as (field, message), or None."""
    if not isinstance(name, str) or not name:
        return "name", "must be a non-empty string"
    if kind not in COLUMN_TYPES:
        shown = repr(kind) if isinstance(kind, str) else _kind(kind)
        return "type", f"must be one of {', '.join(COLUMN_TYPES)}, not {shown}"
    if not isinstance(nullable, bool):
        return "nullable", f"must be true or false, not {_kind(nullable)}"
    if kind != "category":
        if categories is not None:
            return "categories", f"are only for category columns, not {kind}"
        return None
    if not isinstance(categories, tuple) or not all(isinstance(level, str) for level in categories):
        return "categories", "must be a list of strings for a category column"
    duplicates = _duplicates(categories)
    if duplicates:
        return "categories", f"repeat {duplicates}"
    return None


def _columns_from_list(data: object, side: str) -> tuple[ColumnSpec, ...]:
    if not isinstance(data, Sequence) or isinstance(data, str | bytes):
        raise InvalidInput(f"signature field {side!r} must be a list of columns, not {_kind(data)}")
    return tuple(_column_from_dict(item, f"{side}[{index}]") for index, item in enumerate(data))


def _column_from_dict(data: object, where: str) -> ColumnSpec:
    if not isinstance(data, Mapping):
        raise InvalidInput(f"signature field {where!r} must be an object, not {_kind(data)}", hint=_SIGNATURE_HINT)
    unknown = sorted(str(key) for key in data if key not in _COLUMN_KEYS)
    if unknown:
        raise InvalidInput(f"unknown signature field '{where}.{unknown[0]}'", hint=_SIGNATURE_HINT)
    for key in ("name", "type", "nullable"):
        if key not in data:
            raise InvalidInput(f"signature field '{where}.{key}' is missing", hint=_SIGNATURE_HINT)
    categories = data.get("categories")
    if isinstance(categories, list):
        categories = tuple(categories)
    problem = _spec_problem(data["name"], data["type"], data["nullable"], categories)
    if problem is not None:
        field, message = problem
        raise InvalidInput(f"signature field '{where}.{field}' {message}", hint=_SIGNATURE_HINT)
    return ColumnSpec(data["name"], data["type"], data["nullable"], categories)


def _duplicates(names: Any) -> str:
    return ", ".join(repr(name) for name, count in sorted(Counter(names).items()) if count > 1)


def _kind(value: object) -> str:
    return "null" if value is None else f"a {type(value).__name__}"
