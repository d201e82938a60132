"""Turn what a user hands to ``log_dataset`` into one normalized pandas DataFrame, and move
frames to and from the Parquet bytes the artifact store keeps."""

from __future__ import annotations

import io
import os
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from mlpilot.errors import InvalidInput

__all__ = ["LoadedFrame", "from_parquet_bytes", "normalize_frame", "read_frame", "to_parquet_bytes"]

_PARQUET_SUFFIXES = (".parquet", ".pq")
_CSV_SUFFIXES = {".csv": ",", ".tsv": "\t"}
# pandas infers these from the name, so "data.csv.gz" reads like "data.csv".
_COMPRESSION_SUFFIXES = (".gz", ".bz2", ".zip", ".xz", ".zst")
_ACCEPTED = "a pandas DataFrame, a pyarrow Table, or a path to a .parquet, .pq, .csv or .tsv file"


@dataclass(frozen=True, slots=True)
class LoadedFrame:
    """A normalized frame and where it came from (the resolved file path, or None in memory)."""

    frame: pd.DataFrame
    source: str | None


def read_frame(data: object) -> LoadedFrame:
    """Accept a DataFrame, a pyarrow Table or a Parquet/CSV/TSV path; raise InvalidInput otherwise."""
    if isinstance(data, pd.DataFrame):
        return LoadedFrame(normalize_frame(data), None)
    if isinstance(data, pa.Table):
        return LoadedFrame(normalize_frame(_arrow_to_pandas(data, "the pyarrow Table")), None)
    if isinstance(data, str | os.PathLike):
        path = _existing_file(Path(os.fspath(data)))
        return LoadedFrame(normalize_frame(_read_file(path)), str(path))
    raise InvalidInput(
        f"cannot log a {type(data).__module__}.{type(data).__qualname__} as a dataset",
        hint=f"Pass {_ACCEPTED}.",
    )


def normalize_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Give every frame the same shape whatever its origin, so equal data hashes equally.

    Named index levels carry data (``set_index("customer_id")``) and become columns; unnamed ones
    are row labels left over from filtering or concatenation and are dropped. Column names become
    strings because Parquet stores them as strings."""
    if isinstance(frame.columns, pd.MultiIndex):
        raise InvalidInput(
            "the frame has multi-level column names",
            hint="Flatten them first, e.g. df.columns = ['_'.join(map(str, c)) for c in df.columns].",
        )
    named_levels = [name for name in frame.index.names if name is not None]
    clashing = [name for name in named_levels if name in frame.columns]
    if clashing:
        raise InvalidInput(
            f"the index level {clashing[0]!r} has the same name as a column",
            hint="Rename the index level or the column, or drop the index with df.reset_index(drop=True).",
        )
    out = frame.reset_index(level=named_levels) if named_levels else frame.copy(deep=False)
    out.index = pd.RangeIndex(len(out))
    out.columns = pd.Index([str(name) for name in out.columns], dtype=object)
    _check_columns(list(out.columns))
    return out


def _check_columns(names: list[str]) -> None:
    if not names:
        raise InvalidInput("the data has no columns", hint="Log a frame with at least one column.")
    if any(not name.strip() for name in names):
        raise InvalidInput(
            "the data has a column with an empty name",
            hint="Give every column a name, e.g. df = df.rename(columns={'': 'value'}).",
        )
    duplicates = sorted(name for name, count in Counter(names).items() if count > 1)
    if duplicates:
        raise InvalidInput(
            f"the data has duplicate column names: {', '.join(repr(name) for name in duplicates)}",
            hint="Rename the columns so each name appears once.",
        )


def _existing_file(path: Path) -> Path:
    resolved = path.expanduser().resolve()
    if not resolved.exists():
        raise InvalidInput(f"dataset file {str(path)!r} does not exist", hint="Check the path and try again.")
    if not resolved.is_file():
        raise InvalidInput(
            f"dataset path {str(path)!r} is not a file",
            hint="Pass one .parquet or .csv file; read a folder of files with pandas or pyarrow and pass the frame.",
        )
    return resolved


def _read_file(path: Path) -> pd.DataFrame:
    suffix = _format_suffix(path)
    if suffix in _PARQUET_SUFFIXES:
        try:
            table = pq.read_table(path)
        except (pa.ArrowException, OSError) as exc:
            raise InvalidInput(
                f"cannot read Parquet file {str(path)!r}: {exc}",
                hint="Check that the file is complete and really Parquet.",
            ) from exc
        return _arrow_to_pandas(table, f"Parquet file {str(path)!r}")
    if suffix in _CSV_SUFFIXES:
        return _read_csv(path, _CSV_SUFFIXES[suffix])
    raise InvalidInput(
        f"cannot tell the format of {str(path)!r} from its extension {suffix or '(none)'!r}",
        hint="Name the file .parquet, .pq, .csv or .tsv (optionally compressed, e.g. .csv.gz).",
    )


def _format_suffix(path: Path) -> str:
    suffixes = [suffix.lower() for suffix in path.suffixes]
    if len(suffixes) >= 2 and suffixes[-1] in _COMPRESSION_SUFFIXES:
        return suffixes[-2]
    return suffixes[-1] if suffixes else ""


def _read_csv(path: Path, separator: str) -> pd.DataFrame:
    try:
        # low_memory=False reads each column in one pass, so types do not depend on chunking
        # and pandas does not warn about mixed types.
        return pd.read_csv(path, sep=separator, low_memory=False)
    except pd.errors.EmptyDataError as exc:
        raise InvalidInput(f"CSV file {str(path)!r} is empty", hint="Write a header line and rows first.") from exc
    except (pd.errors.ParserError, ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise InvalidInput(
            f"cannot parse CSV file {str(path)!r}: {str(exc).strip()}",
            hint="Check that every row has as many fields as the header and that the file is UTF-8.",
        ) from exc


def _arrow_to_pandas(table: pa.Table, what: str) -> pd.DataFrame:
    # Checked before conversion because pandas would silently keep or mangle the duplicates.
    _check_columns(list(table.column_names))
    try:
        frame: pd.DataFrame = table.to_pandas()
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise InvalidInput(
            f"cannot convert {what} to a pandas DataFrame: {exc}",
            hint="Cast unsupported column types (e.g. extension types) to standard Arrow types first.",
        ) from exc
    return frame


def to_parquet_bytes(frame: pd.DataFrame) -> bytes:
    """Serialize a normalized frame; InvalidInput if a column cannot be stored (e.g. mixed types)."""
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise InvalidInput(
            f"cannot store the data as Parquet: {exc}",
            hint="Give each column values of one type, e.g. df[col] = df[col].astype(str).",
        ) from exc
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def from_parquet_bytes(data: bytes) -> pd.DataFrame:
    """The frame in Parquet bytes; InvalidInput when they are not Parquet (e.g. an upload's body)."""
    try:
        table = pq.read_table(io.BytesIO(data))
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InvalidInput(
            f"the data is not a readable Parquet file: {exc}", hint="Send the dataset as Parquet bytes."
        ) from exc
    return _arrow_to_pandas(table, "the Parquet data")
