"""`mlpilot predict --engine spark --master local[2]`: the same scored rows as the pandas engine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from mlpilot.cli.app import main
from mlpilot.client import Client
from mlpilot.config import load_settings


def _frame(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"age": rng.integers(18, 90, rows), "income": rng.normal(50, 10, rows)})


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main([*args])
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def test_spark_and_pandas_engines_agree(
    spark: Any, tmp_path: Path, isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    client = Client(f"sqlite:///{home / 'mlpilot.db'}", str(home / "artifacts"), settings=load_settings(home=home))
    try:
        train = _frame(200)
        with client.start_run("churn") as run:
            model = LogisticRegression().fit(train, (train["income"] > 50).astype(int))
            run.log_model(model, "model", input_example=train.head(5))
        client.register_model(run.id, "model", "churn")
        client.set_alias("churn", "production", 1)
    finally:
        client.close()
    _frame(500, seed=1).assign(row=range(500)).to_parquet(tmp_path / "in.parquet")
    common = ("--home", str(home), "predict", "-m", "models:/churn@production", "-i", str(tmp_path / "in.parquet"))
    code, out, err = _run(
        capsys, *common, "-o", str(tmp_path / "spark.parquet"), "--engine", "spark", "--master", "local[2]", "--json"
    )
    assert code == 0, err
    summary = json.loads(out)
    assert (summary["rows"], summary["engine"]) == (500, "spark local[2]")
    assert _run(capsys, *common, "-o", str(tmp_path / "pandas.parquet"))[0] == 0
    with_spark = pd.read_parquet(tmp_path / "spark.parquet").sort_values("row").reset_index(drop=True)
    with_pandas = pd.read_parquet(tmp_path / "pandas.parquet")
    pd.testing.assert_frame_equal(with_spark, with_pandas, check_dtype=False)

    _frame(5).drop(columns=["age"]).to_parquet(tmp_path / "bad.parquet")
    code, _, err = _run(
        capsys, "--home", str(home), "predict", "-m", "models:/churn/1", "-i", str(tmp_path / "bad.parquet"),
        "-o", str(tmp_path / "bad-out"), "--engine", "spark", "--master", "local[2]",
    )  # fmt: skip
    assert code == 2
    assert "column 'age' (integer) is missing" in err
    assert "Traceback" not in err
