"""Score a file (or folder) of rows with Spark and write the scored rows: ``mlpilot predict
--engine spark``. Reading, scoring and writing all run on the executors; the driver only plans."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlpilot.errors import InvalidInput
from mlpilot.spark.scoring import score
from mlpilot.spark.session import get_spark

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from mlpilot.client import Client

__all__ = ["ScoredFiles", "read_rows", "score_files"]


@dataclass(frozen=True, slots=True)
class ScoredFiles:
    rows: int
    output: str
    master: str


def read_rows(spark: SparkSession, path: str) -> DataFrame:
    """Parquet (a file or a folder of parts) or CSV/TSV with a header row."""
    lowered = path.rstrip("/").lower()
    if lowered.endswith((".csv", ".tsv")):
        separator = "\t" if lowered.endswith(".tsv") else ","
        return spark.read.csv(path, header=True, inferSchema=True, sep=separator)
    if lowered.endswith((".parquet", ".pq")) or "." not in lowered.rsplit("/", 1)[-1]:
        return spark.read.parquet(path)
    raise InvalidInput(f"cannot read {path}: Spark reads .parquet, .pq, .csv or .tsv", hint="Convert it to Parquet.")


def score_files(
    input_path: str,
    output_path: str,
    model: str,
    *,
    client: Client | None = None,
    master: str | None = None,
    proba: bool = False,
    overwrite: bool = False,
) -> ScoredFiles:
    spark = get_spark(master)
    scored = score(read_rows(spark, input_path), model, client=client, proba=proba)
    writer = scored.write.mode("overwrite" if overwrite else "errorifexists")
    if output_path.rstrip("/").lower().endswith(".csv"):
        writer.csv(output_path, header=True)
        rows = spark.read.csv(output_path, header=True).count()
    else:
        writer.parquet(output_path)
        # Parquet footers hold the row counts: counting reads no data.
        rows = spark.read.parquet(output_path).count()
    return ScoredFiles(rows, output_path, str(spark.sparkContext.master))
