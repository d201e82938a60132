"""`mlpilot predict` with the pandas engine, run in-process against a real store."""

from __future__ import annotations

import json
from pathlib import Path

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


@pytest.fixture
def home(tmp_path: Path, isolated_env: Path) -> Path:
    home = tmp_path / "home"
    client = Client(f"sqlite:///{home / 'mlpilot.db'}", str(home / "artifacts"), settings=load_settings(home=home))
    try:
        frame = _frame(200)
        with client.start_run("churn") as run:
            model = LogisticRegression().fit(frame, (frame["income"] > 50).astype(int))
            run.log_model(model, "model", input_example=frame.head(5))
        client.register_model(run.id, "model", "churn")
        client.set_alias("churn", "production", 1)
    finally:
        client.close()
    return home


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main([*args])
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def test_scores_a_parquet_file(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    frame = _frame(50, seed=1).assign(customer_id=range(50))
    frame.to_parquet(tmp_path / "in.parquet")
    out = tmp_path / "out.parquet"
    code, stdout, _ = _run(
        capsys, "--home", str(home), "predict", "-m", "models:/churn@production",
        "--input", str(tmp_path / "in.parquet"), "--output", str(out), "--proba", "--json",
    )  # fmt: skip
    assert code == 0
    summary = json.loads(stdout)
    assert (summary["rows"], summary["engine"]) == (50, "pandas")
    scored = pd.read_parquet(out)
    assert list(scored.columns) == ["age", "income", "customer_id", "prediction", "proba_0", "proba_1"]
    client = Client(settings=load_settings(home=home))
    try:
        expected = client.load_model("models:/churn@production").predict(frame[["age", "income"]])
    finally:
        client.close()
    assert scored["prediction"].tolist() == expected.tolist()


def test_csv_in_and_out(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _frame(10).to_csv(tmp_path / "in.csv", index=False)
    code, stdout, _ = _run(
        capsys, "--home", str(home), "predict", "-m", "models:/churn/1",
        "-i", str(tmp_path / "in.csv"), "-o", str(tmp_path / "out.csv"),
    )  # fmt: skip
    assert code == 0
    assert "scored 10 rows" in stdout
    assert len(pd.read_csv(tmp_path / "out.csv")) == 10


def test_bad_input_gives_one_line_and_the_error_code(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _frame(10).drop(columns=["income"]).to_parquet(tmp_path / "in.parquet")
    base = ("--home", str(home), "predict", "-m", "models:/churn@production", "-i", str(tmp_path / "in.parquet"))
    code, _, err = _run(capsys, *base, "-o", str(tmp_path / "out.parquet"))
    assert code == 2
    assert "column 'income' (float) is missing" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out.parquet").exists()

    code, _, err = _run(capsys, *base, "-o", str(tmp_path / "o.parquet"), "--engine", "dask")
    assert (code, "unknown engine 'dask'" in err) == (2, True)
    code, _, err = _run(capsys, *base, "-o", str(tmp_path / "o.parquet"), "--master", "local[2]")
    assert (code, "--master applies to the Spark engine only" in err) == (2, True)
    (tmp_path / "exists.parquet").write_bytes(b"")
    code, _, err = _run(capsys, *base, "-o", str(tmp_path / "exists.parquet"))
    assert (code, "already exists" in err) == (4, True)
    code, _, err = _run(capsys, *base[:-1], str(tmp_path / "absent.parquet"), "-o", str(tmp_path / "o.parquet"))
    assert code == 2
    code, _, err = _run(
        capsys, "--home", str(home), "predict", "-m", "models:/nope@production",
        "-i", str(tmp_path / "in.parquet"), "-o", str(tmp_path / "o.parquet"),
    )  # fmt: skip
    assert code == 3
