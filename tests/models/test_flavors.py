"""Each flavor round-trips: the loaded model predicts exactly what the original did."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlpilot.errors import InvalidInput
from mlpilot.models import LoadedModel, flavor_for, load_model_dir, model_sha256, save_model
from mlpilot.models.flavors.lightgbm import LightGBMModel
from tests.models.custom_model import ListModel, ThresholdModel
from tests.models.factories import cancer, iris, logistic, mixed, mixed_pipeline, require_extra

REPO = Path(__file__).resolve().parents[2]


def round_trip(model: object, frame: pd.DataFrame, folder: Path) -> LoadedModel:
    save_model(model, folder, input_example=frame)
    return load_model_dir(folder, expected_sha256=model_sha256(folder))


def assert_same_predictions(model: object, loaded: LoadedModel, frame: pd.DataFrame) -> None:
    np.testing.assert_array_equal(np.asarray(loaded.predict(frame)), np.asarray(model.predict(frame)))
    if hasattr(model, "predict_proba"):
        assert loaded.has_predict_proba
        np.testing.assert_array_equal(loaded.predict_proba(frame), model.predict_proba(frame))
    else:
        assert not loaded.has_predict_proba


# scikit-learn -------------------------------------------------------------------------------------


def test_logistic_regression_round_trips(tmp_path: Path) -> None:
    model, frame = logistic()
    loaded = round_trip(model, frame, tmp_path / "m")
    assert loaded.flavor == "sklearn"
    assert type(loaded.raw) is type(model)
    assert loaded.descriptor.model_files == ("model.pkl",)
    assert_same_predictions(model, loaded, frame)


def test_pipeline_with_column_transformer_round_trips_on_a_mixed_frame(tmp_path: Path) -> None:
    model, frame = mixed_pipeline()
    loaded = round_trip(model, frame, tmp_path / "m")
    assert loaded.flavor == "sklearn"
    assert_same_predictions(model, loaded, frame)
    assert set(loaded.predict(frame.head(3))) <= {"setosa", "versicolor", "virginica"}
    # Records in, same answer: the signature turns them into the frame the pipeline expects.
    records = frame.head(4).to_dict(orient="records")
    np.testing.assert_array_equal(loaded.predict(records), model.predict(frame.head(4)))


def test_a_regressor_has_no_predict_proba(tmp_path: Path) -> None:
    from sklearn.linear_model import Ridge

    frame, target = cancer()
    loaded = round_trip(Ridge().fit(frame, target), frame, tmp_path / "m")
    assert not loaded.has_predict_proba
    with pytest.raises(InvalidInput, match="has no predict_proba"):
        loaded.predict_proba(frame)


def test_an_unfitted_estimator_is_refused(tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(InvalidInput, match="not fitted"):
        save_model(LogisticRegression(), tmp_path / "m")


# the generic Python flavor ------------------------------------------------------------------------


def test_custom_class_round_trips_and_loads_in_a_fresh_process(tmp_path: Path) -> None:
    frame, _ = cancer()
    model = ThresholdModel("mean radius", 14.0)
    loaded = round_trip(model, frame, tmp_path / "m")
    assert loaded.flavor == "python"
    assert_same_predictions(model, loaded, frame)

    script = (
        "import json, sys\n"
        "from mlpilot.models import load_model_dir, model_sha256\n"
        "from sklearn.datasets import load_breast_cancer\n"
        "frame = load_breast_cancer(as_frame=True).frame.drop(columns='target')\n"
        "m = load_model_dir(sys.argv[1], expected_sha256=sys.argv[2])\n"
        "print(json.dumps({'flavor': m.flavor, 'cls': type(m.raw).__module__, 'y': m.predict(frame).tolist()}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script, str(tmp_path / "m"), model_sha256(tmp_path / "m")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["flavor"] == "python"
    assert result["cls"] == "tests.models.custom_model"
    assert result["y"] == model.predict(frame).tolist()


def test_a_list_returned_by_predict_becomes_an_array(tmp_path: Path) -> None:
    frame, _ = iris()
    loaded = round_trip(ListModel(), frame, tmp_path / "m")
    prediction = loaded.predict(frame)
    assert isinstance(prediction, np.ndarray)
    assert prediction.tolist() == ListModel().predict(frame)
    assert not loaded.has_predict_proba


def test_a_class_defined_in_main_is_refused(tmp_path: Path) -> None:
    main_class = type("Scripted", (), {"predict": lambda self, frame: frame, "__module__": "__main__"})
    with pytest.raises(InvalidInput, match="defined in __main__"):
        save_model(main_class(), tmp_path / "m")
    assert not (tmp_path / "m").exists() or not any((tmp_path / "m").iterdir())


def test_saving_a_sklearn_model_imports_neither_xgboost_nor_lightgbm(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from sklearn.datasets import load_iris\n"
        "from sklearn.tree import DecisionTreeClassifier\n"
        "from mlpilot.models import load_model_dir, save_model\n"
        "x, y = load_iris(return_X_y=True, as_frame=True)\n"
        "save_model(DecisionTreeClassifier().fit(x, y), sys.argv[1], input_example=x)\n"
        "load_model_dir(sys.argv[1]).predict(x)\n"
        "print(sorted({'xgboost', 'lightgbm'} & set(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "m")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# XGBoost ------------------------------------------------------------------------------------------


def test_xgboost_classifier_round_trips_natively(tmp_path: Path) -> None:
    xgb = require_extra("xgboost")
    frame, target = iris()
    model = xgb.XGBClassifier(n_estimators=20, max_depth=3).fit(frame, target)
    assert flavor_for(model).name == "xgboost"
    loaded = round_trip(model, frame, tmp_path / "m")
    assert loaded.flavor == "xgboost"
    assert type(loaded.raw) is xgb.XGBClassifier
    assert set(loaded.descriptor.model_files) == {"model.json", "model_info.json"}
    assert "xgboost" in loaded.descriptor.packages
    assert_same_predictions(model, loaded, frame)


def test_xgboost_regressor_round_trips(tmp_path: Path) -> None:
    xgb = require_extra("xgboost")
    frame, target = cancer()
    model = xgb.XGBRegressor(n_estimators=10).fit(frame, target)
    loaded = round_trip(model, frame, tmp_path / "m")
    assert_same_predictions(model, loaded, frame)


def test_xgboost_booster_round_trips(tmp_path: Path) -> None:
    xgb = require_extra("xgboost")
    frame, target = cancer()
    booster = xgb.train({"objective": "binary:logistic"}, xgb.DMatrix(frame, label=target), num_boost_round=10)
    loaded = round_trip(booster, frame, tmp_path / "m")
    assert isinstance(loaded.raw, xgb.Booster)
    np.testing.assert_array_equal(loaded.predict(frame), booster.predict(xgb.DMatrix(frame)))
    assert not loaded.has_predict_proba


# LightGBM -----------------------------------------------------------------------------------------


def test_lightgbm_classifier_with_string_labels_round_trips(tmp_path: Path) -> None:
    lgb = require_extra("lightgbm")
    frame, labels = mixed()
    frame = frame.drop(columns="petal size")
    model = lgb.LGBMClassifier(n_estimators=20, verbose=-1).fit(frame, labels)
    assert flavor_for(model).name == "lightgbm"
    loaded = round_trip(model, frame, tmp_path / "m")
    assert loaded.flavor == "lightgbm"
    assert isinstance(loaded.raw, LightGBMModel)
    assert isinstance(loaded.raw.booster, lgb.Booster)
    assert set(loaded.descriptor.model_files) == {"model.txt", "model_info.json"}
    assert_same_predictions(model, loaded, frame)


def test_lightgbm_binary_classifier_probabilities_match(tmp_path: Path) -> None:
    lgb = require_extra("lightgbm")
    frame, target = cancer()
    model = lgb.LGBMClassifier(n_estimators=20, verbose=-1).fit(frame, target)
    loaded = round_trip(model, frame, tmp_path / "m")
    assert_same_predictions(model, loaded, frame)
    assert loaded.predict_proba(frame).shape == (len(frame), 2)


def test_lightgbm_regressor_and_booster_round_trip(tmp_path: Path) -> None:
    lgb = require_extra("lightgbm")
    frame, target = cancer()
    regressor = lgb.LGBMRegressor(n_estimators=10, verbose=-1).fit(frame, target)
    loaded = round_trip(regressor, frame, tmp_path / "regressor")
    assert_same_predictions(regressor, loaded, frame)

    booster = lgb.train({"objective": "binary", "verbose": -1}, lgb.Dataset(frame, label=target), num_boost_round=10)
    loaded = round_trip(booster, frame, tmp_path / "booster")
    np.testing.assert_array_equal(loaded.predict(frame), booster.predict(frame))
    assert not loaded.has_predict_proba
