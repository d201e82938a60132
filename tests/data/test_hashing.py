"""The content hash: equal data, equal hash, whatever form it arrives in; any change, a new hash."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames, range_indexes

from mlpilot.data.frames import from_parquet_bytes, read_frame, to_parquet_bytes
from mlpilot.data.hashing import content_hash
from tests.data.factories import every_kind_frame


def digest(data: object) -> str:
    return content_hash(read_frame(data).frame)


def test_hash_is_a_sha256_hex_and_deterministic(frame: pd.DataFrame) -> None:
    first = digest(frame)
    assert len(first) == 64
    assert int(first, 16) >= 0
    assert digest(frame.copy()) == first


def test_hash_is_pinned_for_a_tiny_frame() -> None:
    # If this changes, every stored dataset would get a new version on its next log: bump
    # HASH_SCHEME deliberately (e.g. when pandas changes hash_pandas_object), never by accident.
    tiny = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", None], "c": [0.5, np.nan, 2.0]})
    assert digest(tiny) == "5512bfe94deebb72f8bc51ae6a143373cd06ab2a1aaf6bfe27fe06fe58fbad18"


def test_dataframe_arrow_table_and_parquet_file_hash_alike(tmp_path: Path) -> None:
    frame = every_kind_frame()
    expected = digest(frame)
    table = pa.Table.from_pandas(frame)
    assert digest(table) == expected
    pq.write_table(table, tmp_path / "written_by_arrow.parquet")
    assert digest(tmp_path / "written_by_arrow.parquet") == expected
    frame.to_parquet(tmp_path / "written_by_pandas.parquet")
    assert digest(str(tmp_path / "written_by_pandas.parquet")) == expected
    assert digest(from_parquet_bytes(to_parquet_bytes(read_frame(frame).frame))) == expected


def test_csv_written_from_a_frame_hashes_like_the_frame(tmp_path: Path, frame: pd.DataFrame) -> None:
    plain = frame.drop(columns=["signup"])  # CSV has no datetime type; the rest round-trips exactly
    plain.to_csv(tmp_path / "data.csv", index=False)
    plain.to_csv(tmp_path / "data.csv.gz", index=False)
    assert digest(tmp_path / "data.csv") == digest(plain)
    assert digest(tmp_path / "data.csv.gz") == digest(plain)


def test_unnamed_index_is_ignored_and_named_index_is_data(frame: pd.DataFrame) -> None:
    shuffled_labels = frame.set_axis(np.arange(len(frame)) * 7 + 3, axis=0)
    assert digest(shuffled_labels) == digest(frame)
    by_age = frame.set_index("age")
    assert read_frame(by_age).frame.columns[0] == "age"
    assert digest(by_age) == digest(frame)
    indexed_table = pa.Table.from_pandas(shuffled_labels)  # stores the labels as __index_level_0__
    assert digest(indexed_table) == digest(frame)


def test_filtered_frame_hashes_like_the_same_rows_built_fresh(frame: pd.DataFrame) -> None:
    filtered = frame[frame["age"] > 50]
    fresh = pd.DataFrame({name: filtered[name].to_list() for name in filtered.columns})
    fresh = fresh.astype(filtered.dtypes.to_dict())
    assert digest(filtered) == digest(fresh)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda f: f.assign(age=f["age"].where(f.index != 5, -1)), id="one-value"),
        pytest.param(lambda f: f[list(reversed(f.columns))], id="column-order"),
        pytest.param(lambda f: f.rename(columns={"age": "years"}), id="column-name"),
        pytest.param(lambda f: f.astype({"age": "float64"}), id="dtype-same-values"),
        pytest.param(lambda f: f.iloc[::-1], id="row-order"),
        pytest.param(lambda f: f.iloc[:-1], id="one-row-fewer"),
        pytest.param(lambda f: pd.concat([f, f.iloc[:1]]), id="one-row-more"),
        pytest.param(lambda f: f.assign(plan=f["plan"].astype("category")), id="text-to-category"),
        pytest.param(lambda f: f.assign(extra=0), id="extra-column"),
    ],
)
def test_any_change_gives_a_new_hash(frame: pd.DataFrame, change: object) -> None:
    assert callable(change)
    assert digest(change(frame)) != digest(frame)


def test_column_boundaries_are_unambiguous() -> None:
    assert digest(pd.DataFrame({"ab": [1], "c": [2]})) != digest(pd.DataFrame({"a": [1], "bc": [2]}))


def test_text_and_bytes_with_equal_characters_differ() -> None:
    assert digest(pd.DataFrame({"v": ["a", "b"]})) != digest(pd.DataFrame({"v": [b"a", b"b"]}))


def test_mixed_object_values_keep_their_type() -> None:
    assert digest(pd.DataFrame({"v": [1, "x"]})) != digest(pd.DataFrame({"v": ["1", "x"]}))


def test_every_missing_value_hashes_alike_and_unlike_text() -> None:
    assert digest(pd.DataFrame({"v": ["a", None]})) == digest(pd.DataFrame({"v": ["a", np.nan]}))
    assert digest(pd.DataFrame({"v": ["a", None]})) != digest(pd.DataFrame({"v": ["a", "None"]}))
    assert digest(pd.DataFrame({"v": ["a", None]})) != digest(pd.DataFrame({"v": ["a", "nan"]}))
    # NaN has many bit patterns (0/0 usually sets the sign bit); all of them are just "missing".
    negative_nan = np.frombuffer(np.uint64(0xFFF8000000000000).tobytes(), dtype=np.float64)[0]
    assert digest(pd.DataFrame({"v": [1.0, negative_nan]})) == digest(pd.DataFrame({"v": [1.0, np.nan]}))


def test_empty_frame_with_columns_has_a_hash() -> None:
    empty = pd.DataFrame({"a": pd.Series([], dtype="int64")})
    assert digest(empty) != digest(pd.DataFrame({"a": [0]}))


@settings(max_examples=40, deadline=None)
@given(
    data_frames(
        columns=[
            column("i", dtype="int64"),
            column("f", dtype="float64"),
            column("s", elements=st.one_of(st.none(), st.text(max_size=8))),
        ],
        index=range_indexes(max_size=30),
    )
)
def test_parquet_round_trip_keeps_the_hash(generated: pd.DataFrame) -> None:
    normalized = read_frame(generated).frame
    assert content_hash(from_parquet_bytes(to_parquet_bytes(normalized))) == content_hash(normalized)
