"""Spark column types seen through mlpilot's eyes: which signature types a Spark column can hold,
the Spark type of a signature output, and the pandas dtype a column arrives as in pandas."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlpilot.models.signature import Problem, Signature, SignatureError

if TYPE_CHECKING:
    from pyspark.sql.types import DataType, StructType

__all__ = ["check_columns", "output_type", "pandas_dtype"]

_INTEGRAL = ("ByteType", "ShortType", "IntegerType", "LongType")
_FRACTIONAL = ("FloatType", "DoubleType", "DecimalType")
_NUMERIC = _INTEGRAL + _FRACTIONAL
_TEMPORAL = ("TimestampType", "TimestampNTZType", "DateType")
# Which Spark types each signature type accepts; the values themselves are checked (and converted
# without loss) by the pandas validation inside each task, as the serving path does.
_ACCEPTS = {
    "integer": _NUMERIC,
    "float": _NUMERIC,
    "boolean": ("BooleanType", *_NUMERIC),
    "string": ("StringType", "VarcharType", "CharType"),
    "category": ("StringType", "VarcharType", "CharType"),
    "datetime": (*_TEMPORAL, "StringType"),
}


def _kind(data_type: DataType) -> str:
    return type(data_type).__name__


def check_columns(schema: StructType, signature: Signature) -> None:
    """Raise SignatureError for signature columns the Spark frame lacks or cannot hold, before any
    task runs: on a cluster a mismatch would otherwise surface as a failed task per partition."""
    fields = {field.name: field for field in schema.fields}
    problems: list[Problem] = []
    for spec in signature.inputs:
        field = fields.get(spec.name)
        if field is None:
            problems.append(Problem(spec.name, "missing", f"column {spec.name!r} ({spec.type}) is missing"))
        elif _kind(field.dataType) not in _ACCEPTS[spec.type]:
            problems.append(
                Problem(
                    spec.name,
                    "type",
                    f"column {spec.name!r} should hold {spec.type} values but the Spark column is "
                    f"{field.dataType.simpleString()}",
                )
            )
    if problems:
        raise SignatureError(problems)


def output_type(signature_type: str | None) -> DataType:
    """The Spark type of a prediction column of the given signature type (double when unknown)."""
    from pyspark.sql import types as st

    if signature_type == "integer":
        return st.LongType()
    if signature_type == "boolean":
        return st.BooleanType()
    if signature_type in ("string", "category"):
        return st.StringType()
    if signature_type == "datetime":
        return st.TimestampType()
    return st.DoubleType()


def pandas_dtype(data_type: DataType, nullable: bool) -> str:
    """The pandas dtype a Spark column of this type has after ``toPandas`` (Arrow enabled)."""
    kind = _kind(data_type)
    if kind in _INTEGRAL:
        bits = {"ByteType": 8, "ShortType": 16, "IntegerType": 32, "LongType": 64}[kind]
        # Arrow hands integral columns that may hold nulls to pandas as floats.
        return "float64" if nullable else f"int{bits}"
    if kind == "FloatType":
        return "float32"
    if kind in ("DoubleType", "DecimalType"):
        return "float64"
    if kind == "BooleanType":
        return "object" if nullable else "bool"
    if kind in ("TimestampType", "TimestampNTZType"):
        return "datetime64[ns]"
    return "object"
