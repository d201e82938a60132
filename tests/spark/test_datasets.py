"""Dataset versions from Spark DataFrames: hashed and written by the executors, deduplicated by
content in any row order, profiled like pandas versions, and read back by Spark and by pandas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mlpilot.spark
from mlpilot.client import Client
from mlpilot.config import load_settings
from mlpilot.data.profile import build_profile
from mlpilot.errors import IntegrityError, InvalidInput
from mlpilot.spark.hashing import spark_content_hash


def _frame(rows: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    plan = rng.choice(["basic", "pro"], rows).astype(object)
    plan[:3] = None
    return pd.DataFrame({"age": rng.integers(18, 90, rows), "income": rng.normal(50, 10, rows), "plan": plan})


@pytest.fixture
def client(tmp_path: Path) -> Any:
    home = tmp_path / "home"
    client = Client(f"sqlite:///{home / 'mlpilot.db'}", str(home / "artifacts"), settings=load_settings(home=home))
    yield client
    client.close()


def test_the_hash_ignores_row_order_and_partitions_but_not_content(spark: Any) -> None:
    frame = _frame()
    first, rows = spark_content_hash(spark.createDataFrame(frame).repartition(3))
    shuffled, _ = spark_content_hash(spark.createDataFrame(frame.sample(frac=1.0, random_state=1)).coalesce(1))
    assert (first, rows) == (shuffled, 300)
    changed = frame.copy()
    changed.loc[10, "income"] += 1e-9
    assert spark_content_hash(spark.createDataFrame(changed))[0] != first
    # A null and a value trading columns must not collide.
    swapped = pd.DataFrame({"a": [None, 5.0], "b": [5.0, None]})
    assert (
        spark_content_hash(spark.createDataFrame(swapped))[0]
        != spark_content_hash(spark.createDataFrame(swapped.iloc[:, ::-1].set_axis(["a", "b"], axis=1).iloc[[0]]))[0]
    )


def test_log_and_load_a_version(spark: Any, client: Client) -> None:
    frame = _frame()
    df = spark.createDataFrame(frame).repartition(2)
    with client.start_run("prep") as run:
        version = mlpilot.spark.log_dataset(df, "churn", client=client, run_id=run.id, role="train")
    assert (version.version, version.rows) == (1, 300)
    assert version.source is not None and "spark-datasets/churn/" in version.source
    again = mlpilot.spark.log_dataset(spark.createDataFrame(frame.iloc[::-1]), "churn", client=client)
    assert again.id == version.id
    assert client.dataset_runs("churn", 1) == [(run.id, "train")]
    # The stored profile has the pandas profile's fields and values.
    expected = build_profile(frame)
    assert version.profile["fields"]["plan"] == expected["fields"]["plan"]
    assert version.profile["fields"]["age"]["histogram"] == expected["fields"]["age"]["histogram"]
    assert [f["name"] for f in version.schema["fields"]] == ["age", "income", "plan"]
    back = mlpilot.spark.load_dataset("churn", client=client, spark=spark).toPandas()
    key = ["age", "income"]
    pd.testing.assert_frame_equal(
        back.sort_values(key).reset_index(drop=True), frame.sort_values(key).reset_index(drop=True)
    )
    in_pandas = client.load_dataset("churn", 1)
    assert sorted(in_pandas["income"]) == sorted(frame["income"])


def test_a_pandas_version_loads_into_spark(spark: Any, client: Client) -> None:
    frame = _frame(20)
    client.register_dataset(frame, "small")
    back = mlpilot.spark.load_dataset("small", 1, client=client, spark=spark).toPandas()
    assert back["income"].tolist() == frame["income"].tolist()


def test_a_changed_folder_is_refused(spark: Any, client: Client) -> None:
    version = mlpilot.spark.log_dataset(spark.createDataFrame(_frame(30)), "gone", client=client)
    assert version.source is not None
    for part in Path(version.source.removeprefix("file:")).glob("*.parquet"):
        part.unlink()
    with pytest.raises(IntegrityError, match="no longer holds the parts"):
        client.load_dataset("gone", 1)


def test_bad_input(spark: Any, client: Client) -> None:
    with pytest.raises(InvalidInput, match="takes a Spark DataFrame"):
        mlpilot.spark.log_dataset(_frame(3), "x", client=client)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="contains a character"):
        mlpilot.spark.log_dataset(spark.createDataFrame(_frame(3)), "a:b", client=client)
