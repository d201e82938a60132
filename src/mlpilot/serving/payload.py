"""Prediction request bodies: what the client sent, decoded just enough to count its rows.

The event loop only parses JSON and checks the shape; building the DataFrame happens with the
prediction, in the model's thread (``Payload.frame``), so the loop stays free while it is built.

Accepted, as ``POST /v1/deployments/{name}/predict``:

- ``{"instances": [{column: value, …}, …]}`` (one object per row),
- MLflow's ``{"dataframe_records": [...]}`` (the same) and ``{"dataframe_split": {"columns": [...],
  "data": [[...], …]}}``, and ``{"inputs": {column: [values…], …}}`` (one list per column),
- CSV with a header row (``Content-Type: text/csv``),

plus ``"probabilities": true`` to ask for class probabilities.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson
import pandas as pd

from mlpilot.errors import InvalidInput, PayloadTooLarge

__all__ = ["FORMATS", "Payload", "decode_json", "decode_predict_body", "payload_from_columns"]

FORMATS = ("instances", "dataframe_records", "dataframe_split", "inputs")
_OPTIONS = frozenset({"probabilities"})
_FORMAT_HINT = (
    'Send {"instances": [{"column": value, ...}, ...]}, {"dataframe_split": {"columns": [...], "data": [[...]]}}, '
    '{"dataframe_records": [...]}, {"inputs": {"column": [values...]}} or CSV with a header row.'
)

Kind = Literal["records", "columns", "split", "csv"]


@dataclass(frozen=True, slots=True)
class Payload:
    """One request's rows, in the form they arrived. ``columns`` is the set of column names (None
    for CSV until it is read): requests with the same set can share one DataFrame."""

    kind: Kind
    data: Any
    rows: int
    columns: frozenset[str] | None

    def frame(self) -> pd.DataFrame:
        """The rows as a DataFrame (InvalidInput if they do not form a table)."""
        try:
            if self.kind == "records":
                return pd.DataFrame.from_records(self.data)
            if self.kind == "columns":
                return pd.DataFrame(self.data)
            if self.kind == "split":
                columns, data = self.data
                return pd.DataFrame(data, columns=columns)
            return pd.read_csv(io.BytesIO(self.data))
        except InvalidInput:
            raise
        except (ValueError, TypeError, pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"the rows do not form a table: {_reason(exc)}", hint=_FORMAT_HINT) from exc


def decode_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(
            f"the request body is not valid JSON ({exc.msg} at position {exc.pos})",
            hint="Send a JSON object with Content-Type: application/json.",
        ) from None


def decode_predict_body(body: bytes, content_type: str, max_rows: int) -> tuple[Payload, bool]:
    """The rows of a predict request and whether it asks for probabilities."""
    media = content_type.partition(";")[0].strip().lower()
    if media in ("text/csv", "application/csv"):
        return _csv(body, max_rows), False
    # curl sends form encoding unless told otherwise; its body is still the JSON the user typed.
    if media not in ("application/json", "", "application/x-www-form-urlencoded"):
        raise InvalidInput(
            f"cannot read a {media!r} body", hint="Send JSON (application/json) or CSV (text/csv) with a header row."
        )
    document = decode_json(body)
    if not isinstance(document, dict):
        raise InvalidInput(f"the request body is a JSON {_json_kind(document)}, not an object", hint=_FORMAT_HINT)
    given = [name for name in FORMATS if name in document]
    unknown = sorted(set(document) - set(FORMATS) - _OPTIONS)
    if len(given) != 1 or unknown:
        found = ", ".join(repr(name) for name in (*given, *unknown)) or "none"
        raise InvalidInput(
            f"the body must have exactly one of {', '.join(FORMATS)} (found: {found})", hint=_FORMAT_HINT
        )
    probabilities = document.get("probabilities", False)
    if not isinstance(probabilities, bool):
        raise InvalidInput('"probabilities" must be true or false')
    fmt = given[0]
    value = document[fmt]
    if fmt in ("instances", "dataframe_records"):
        payload = _records(value, fmt)
    elif fmt == "dataframe_split":
        payload = _split(value)
    else:
        payload = _columns(value) if isinstance(value, dict) else _records(value, fmt)
    _check_rows(payload.rows, max_rows)
    return payload, probabilities


def payload_from_columns(columns: Mapping[str, list[Any]], max_rows: int) -> Payload:
    """One list per column (the Open Inference Protocol's tabular form)."""
    payload = _columns(dict(columns))
    _check_rows(payload.rows, max_rows)
    return payload


def _records(value: object, fmt: str) -> Payload:
    if not isinstance(value, list):
        raise InvalidInput(f'"{fmt}" must be a list of objects, one per row', hint=_FORMAT_HINT)
    _require_rows(len(value))
    first = value[0]
    if not isinstance(first, dict):
        raise InvalidInput(
            f'"{fmt}" must be a list of objects, one per row (row 0 is a JSON {_json_kind(first)})',
            hint=_FORMAT_HINT,
        )
    names = first.keys()
    columns: set[str] | None = None
    for position, row in enumerate(value):
        if not isinstance(row, dict):
            raise InvalidInput(
                f'"{fmt}" must be a list of objects, one per row (row {position} is a JSON {_json_kind(row)})',
                hint=_FORMAT_HINT,
            )
        if row.keys() != names:  # rare: only then is the union worth building
            columns = (columns or set(names)) | row.keys()
    return Payload("records", value, len(value), frozenset(columns if columns is not None else names))


def _columns(value: dict[str, Any]) -> Payload:
    lengths = set()
    for name, values in value.items():
        if not isinstance(values, list):
            raise InvalidInput(f'"inputs" must map each column to a list of values ({name!r} does not)')
        lengths.add(len(values))
    if len(lengths) > 1:
        raise InvalidInput('every column of "inputs" must have the same number of values', hint=_FORMAT_HINT)
    rows = lengths.pop() if lengths else 0
    _require_rows(rows)
    return Payload("columns", value, rows, frozenset(value))


def _split(value: object) -> Payload:
    if not isinstance(value, dict) or not isinstance(value.get("columns"), list) or "data" not in value:
        raise InvalidInput('"dataframe_split" must be an object with "columns" and "data"', hint=_FORMAT_HINT)
    columns, data = value["columns"], value["data"]
    if not isinstance(data, list) or not all(isinstance(row, list) for row in data):
        raise InvalidInput('"dataframe_split" "data" must be a list of rows, each a list of values')
    if not all(isinstance(name, str) for name in columns):
        raise InvalidInput('"dataframe_split" "columns" must be a list of column names (text)')
    _require_rows(len(data))
    width = len(columns)
    for position, row in enumerate(data):
        if len(row) != width:
            raise InvalidInput(
                f'"dataframe_split" row {position} has {len(row)} values for {width} columns',
                hint='Give every row one value per column, in the order of "columns".',
            )
    if len(set(columns)) != width:
        raise InvalidInput('"dataframe_split" names a column more than once', hint="Send each column once.")
    return Payload("split", (columns, data), len(data), frozenset(columns))


def _csv(body: bytes, max_rows: int) -> Payload:
    # Rows are lines after the header; a quoted field with a line break makes this an upper
    # bound, which only makes the row limit stricter.
    lines = body.count(b"\n") + (0 if body.endswith(b"\n") else 1) - 1
    _require_rows(max(lines, 0))
    _check_rows(lines, max_rows)
    return Payload("csv", body, lines, None)


def _require_rows(rows: int) -> None:
    if rows == 0:
        raise InvalidInput("the request has no rows", hint="Send at least one row to predict.")


def _check_rows(rows: int, max_rows: int) -> None:
    if rows > max_rows:
        raise PayloadTooLarge(
            f"the request has {rows} rows; one request may carry at most {max_rows}",
            hint="Split the rows over several requests, or use batch scoring (`mlpilot predict`).",
        )


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "null" if value is None else "object"


def _reason(exc: BaseException) -> str:
    # pandas' messages describe shapes and names, not values; keep the first line only.
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
