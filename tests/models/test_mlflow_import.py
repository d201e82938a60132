"""``mlpilot models import-mlflow``: MLflow model directories (sklearn in skops, MLflow's default,
xgboost, lightgbm, python_function) into the registry, with their signatures, and clear errors for
bad input. Cloudpickle and LightGBM's skops wrappers are in tests/scenarios/test_mlflow_client.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlpilot.cli.app import main

mlflow = pytest.importorskip("mlflow")

# Importing mlflow.pyfunc warns about MLflow's own type hints (a coloured UserWarning); nothing else
# mlflow raises is filtered.
pytestmark = pytest.mark.filterwarnings("ignore:.*Any type hint is inferred as AnyType:UserWarning")

# Naming the requirements spares MLflow inferring them in a subprocess (seconds per save); mlpilot
# does not read them.
_REQUIREMENTS = ["mlflow"]


@pytest.fixture
def store(tmp_path: Path, isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("DO_NOT_TRACK", "true")
    monkeypatch.setenv("MLPILOT_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _data() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x1": rng.normal(size=120), "x2": rng.normal(size=120)})
    return frame, (frame["x1"] - frame["x2"] > 0).astype(int).to_numpy()


def _cli(*args: str) -> int:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    code = exited.value.code
    return int(code) if isinstance(code, int) else 0


def _load(name: str) -> Any:
    import mlpilot

    client = mlpilot.connect()
    try:
        return client.load_model(f"models:/{name}/latest")
    finally:
        client.close()


def test_sklearn_model_with_signature(store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mlflow.models import infer_signature
    from sklearn.linear_model import LogisticRegression

    frame, labels = _data()
    model = LogisticRegression().fit(frame, labels)
    folder = tmp_path / "sk"
    mlflow.sklearn.save_model(
        model, folder, signature=infer_signature(frame, model.predict(frame)), pip_requirements=_REQUIREMENTS
    )
    assert (folder / "model.skops").is_file()  # MLflow 3's default format
    assert _cli("models", "import-mlflow", str(folder), "--name", "sk", "--alias", "production", "--json") == 0
    version = json.loads(capsys.readouterr().out)
    assert version["flavor"] == "sklearn" and version["aliases"] == ["production"]
    assert [column["name"] for column in version["signature"]["inputs"]] == ["x1", "x2"]
    assert version["signature"]["inputs"][0]["type"] == "float"
    loaded = _load("sk")
    assert list(loaded.predict(frame.head(5))) == list(model.predict(frame.head(5)))


def test_xgboost_and_lightgbm(store: Path, tmp_path: Path) -> None:
    import lightgbm
    import xgboost

    frame, labels = _data()
    boosted = xgboost.XGBClassifier(n_estimators=5).fit(frame, labels)
    mlflow.xgboost.save_model(boosted, tmp_path / "xgb", pip_requirements=_REQUIREMENTS)
    light = lightgbm.LGBMClassifier(n_estimators=5, verbose=-1).fit(frame, labels)
    mlflow.lightgbm.save_model(light.booster_, tmp_path / "lgb", pip_requirements=_REQUIREMENTS)
    assert _cli("models", "import-mlflow", str(tmp_path / "xgb"), "--name", "xgb") == 0
    assert _cli("models", "import-mlflow", str(tmp_path / "lgb"), "--name", "lgb") == 0
    assert list(_load("xgb").predict(frame.head(5))) == list(boosted.predict(frame.head(5)))
    assert np.allclose(_load("lgb").predict(frame.head(5)), light.booster_.predict(frame.head(5)))


def test_python_function_model(store: Path, tmp_path: Path) -> None:
    from tests.models.mlflow_pymodel import Doubler  # imported here: importing mlflow.pyfunc is slow

    frame, _ = _data()
    mlflow.pyfunc.save_model(tmp_path / "py", python_model=Doubler(), pip_requirements=_REQUIREMENTS)
    assert _cli("models", "import-mlflow", str(tmp_path / "py"), "--name", "doubler") == 0
    assert list(_load("doubler").predict(frame.head(3))) == list(frame["x1"].head(3) * 2)


@pytest.mark.parametrize(
    ("setup", "fragment"),
    [
        ("missing", "is not a folder"),
        ("empty", "no MLmodel file"),
        ("broken", "not valid YAML"),
        ("noflavors", "no 'flavors'"),
        ("torch", "none of which mlpilot imports"),
        ("nofile", "model.pkl is missing"),
        ("noskops", "model.skops is missing"),
        ("badskops", "is not a readable skops file"),
    ],
)
def test_bad_directories_fail_with_one_line(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], setup: str, fragment: str
) -> None:
    folder = tmp_path / "bad"
    if setup != "missing":
        folder.mkdir()
    text = {
        "broken": "flavors: [unclosed",
        "noflavors": "run_id: abc\n",
        "torch": "flavors:\n  pytorch: {model_data: data}\n  python_function: {loader_module: mlflow.pytorch}\n",
        "nofile": "flavors:\n  sklearn: {pickled_model: model.pkl, serialization_format: cloudpickle}\n",
        "noskops": "flavors:\n  sklearn: {pickled_model: model.skops, serialization_format: skops}\n",
        "badskops": "flavors:\n  sklearn: {pickled_model: model.skops, serialization_format: skops}\n",
    }.get(setup)
    if text is not None:
        (folder / "MLmodel").write_text(text)
    if setup == "badskops":
        (folder / "model.skops").write_bytes(b"not a zip archive")
    code = _cli("models", "import-mlflow", str(folder), "--name", "bad")
    err = capsys.readouterr().err
    assert code in (2, 3), err
    assert fragment in err
    assert "Traceback" not in err
