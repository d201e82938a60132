"""The content hash of a Spark DataFrame, computed on the executors: only five numbers reach the
driver, whatever the size of the data.

Each row is hashed by Spark (``xxhash64``, a salted ``xxhash64`` and ``hash``, i.e. murmur3, over every column and a
null flag per column, so that a null and a missing column cannot trade places); the row hashes
are combined with operations that ignore order — their count, their sums and their XOR — and
sha256 over those and the schema makes the digest. The same rows in any order and any
partitioning give the same hash. It is a different scheme from the pandas path's ordered hash
(``mlpilot.dataset-hash.v1``), so a frame logged from pandas and from Spark gets two versions.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["SPARK_HASH_SCHEME", "spark_content_hash"]

SPARK_HASH_SCHEME = b"mlpilot.spark-dataset-hash.v1"


def spark_content_hash(df: DataFrame) -> tuple[str, int]:
    """sha256 hex of the multiset of rows and the schema, and the row count."""
    from pyspark.sql import functions as sf

    inputs = []
    for name in df.columns:
        column = sf.col(f"`{name}`")
        inputs += [column, column.isNull()]
    wide = sf.xxhash64(*inputs)
    narrow = sf.hash(*inputs)
    totals = df.agg(
        sf.count(sf.lit(1)).alias("rows"),
        sf.sum(wide.cast("decimal(38,0)")).alias("wide_sum"),
        sf.bit_xor(wide).alias("wide_xor"),
        sf.sum(narrow.cast("decimal(38,0)")).alias("narrow_sum"),
        # A second 64-bit family (a salted xxhash64), so sums colliding by chance in one do not in both.
        sf.sum(sf.xxhash64(sf.lit(SPARK_HASH_SCHEME.decode()), *inputs).cast("decimal(38,0)")).alias("mixed_sum"),
    ).collect()[0]
    digest = hashlib.sha256(SPARK_HASH_SCHEME)
    schema = [[field.name, field.dataType.simpleString()] for field in df.schema.fields]
    digest.update(json.dumps(schema, separators=(",", ":")).encode())
    for key in ("rows", "wide_sum", "wide_xor", "narrow_sum", "mixed_sum"):
        digest.update(f"|{key}={totals[key] if totals[key] is not None else 0}".encode())
    return digest.hexdigest(), int(totals["rows"])
