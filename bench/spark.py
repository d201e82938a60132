"""Spark local[2] against the pandas engine: batch scoring and profiling of N rows.

Both engines do the same work end to end: scoring reads a Parquet file, scores it with one
scikit-learn logistic regression (8 numeric features) and writes the scored rows as Parquet;
profiling reads the file and computes mlpilot's dataset profile. Sizes run from small to
``--rows`` (default 10 million), so the table shows where Spark starts to win. The Spark session
is started once, before any timing (its start-up is reported separately).

    .venv/bin/python bench/spark.py                 # 100k, 1M, 10M rows (several minutes)
    .venv/bin/python bench/spark.py --rows 1000000  # 100k and 1M only
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sklearn.linear_model import LogisticRegression

from mlpilot.data.profile import build_profile
from mlpilot.models import load_model_dir, save_model
from mlpilot.models.batch import score_frame

FEATURES = [f"f{i}" for i in range(8)]
RESULTS = Path(__file__).parent / "results"


def write_rows(path: Path, rows: int, seed: int = 0) -> None:
    """Rows in row groups of one million, written without holding them all in memory."""
    rng = np.random.default_rng(seed)
    writer: pq.ParquetWriter | None = None
    done = 0
    while done < rows:
        chunk = min(1_000_000, rows - done)
        table = pa.table({name: rng.normal(0, 1, chunk) for name in FEATURES} | {"id": np.arange(done, done + chunk)})
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
        done += chunk
    assert writer is not None
    writer.close()


def timed(action: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="the largest size (default 10 million)")
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args()
    sizes = sorted({size for size in (100_000, 1_000_000, 10_000_000) if size < args.rows} | {args.rows})

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    import mlpilot.spark

    work = Path(tempfile.mkdtemp(prefix="mlpilot-bench-spark-"))
    try:
        rng = np.random.default_rng(1)
        train = pd.DataFrame({name: rng.normal(0, 1, 5000) for name in FEATURES})
        label = (train["f0"] + train["f1"] > 0).astype(int)
        save_model(LogisticRegression().fit(train, label), work / "model", input_example=train.head(5))
        model = load_model_dir(work / "model")

        start_up, spark = timed(
            lambda: (
                SparkSession.builder.master(args.master)
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.memory", "4g")
                .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                .getOrCreate()
            )
        )
        spark.sparkContext.setLogLevel("ERROR")
        results: list[dict[str, Any]] = []
        for rows in sizes:
            source = work / f"rows-{rows}.parquet"
            write_rows(source, rows)

            def pandas_score(source: Path = source, rows: int = rows) -> None:
                scored = score_frame(model, pd.read_parquet(source))
                scored.to_parquet(work / f"pandas-out-{rows}.parquet", index=False)

            def spark_score(source: Path = source, rows: int = rows) -> None:
                scored = mlpilot.spark.score(spark.read.parquet(str(source)), model)
                scored.write.mode("overwrite").parquet(str(work / f"spark-out-{rows}"))

            def pandas_profile(source: Path = source) -> None:
                build_profile(pd.read_parquet(source))

            def spark_profile(source: Path = source) -> None:
                mlpilot.spark.profile(spark.read.parquet(str(source)))

            for task, pandas_side, spark_side in (
                ("score", pandas_score, spark_score),
                ("profile", pandas_profile, spark_profile),
            ):
                pandas_seconds, _ = timed(pandas_side)
                spark_seconds, _ = timed(spark_side)
                row = {
                    "task": task,
                    "rows": rows,
                    "pandas_seconds": round(pandas_seconds, 3),
                    "spark_seconds": round(spark_seconds, 3),
                    "pandas_rows_per_s": round(rows / pandas_seconds),
                    "spark_rows_per_s": round(rows / spark_seconds),
                    "faster": "spark" if spark_seconds < pandas_seconds else "pandas",
                }
                results.append(row)
                print(
                    f"{task:8s} {rows:>11,} rows  pandas {rows / pandas_seconds:>12,.0f} rows/s  "
                    f"spark {args.master} {rows / spark_seconds:>12,.0f} rows/s  ({row['faster']} faster)",
                    flush=True,
                )
            source.unlink()
        spark.stop()
        report = {
            "benchmark": "spark",
            "date": dt.date.today().isoformat(),
            "master": args.master,
            "spark_start_up_seconds": round(start_up, 2),
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_average": os.getloadavg()},
            "results": results,
        }
        RESULTS.mkdir(exist_ok=True)
        out = RESULTS / f"spark-{report['date']}.json"
        out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"Spark start-up {start_up:.1f} s (not in the figures); results in {out}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
