"""evaluate_model on real saved-and-loaded models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.datasets import load_diabetes, load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression

from mlpilot.errors import InvalidInput
from mlpilot.evaluation import evaluate_model
from mlpilot.models import LoadedModel, load_model_dir, save_model


def _saved(model: object, frame: pd.DataFrame, folder: Path) -> LoadedModel:
    save_model(model, folder, input_example=frame.head(3))
    return load_model_dir(folder)


@pytest.fixture
def iris(tmp_path: Path) -> tuple[LoadedModel, pd.DataFrame]:
    data = load_iris(as_frame=True)
    model = LogisticRegression(max_iter=5000).fit(data.data, data.target)
    holdout = data.data.assign(species=data.target, row_id=np.arange(len(data.target)))
    return _saved(model, data.data, tmp_path / "iris"), holdout


def test_classifier_is_scored_on_its_signature_columns(iris: tuple[LoadedModel, pd.DataFrame]) -> None:
    model, holdout = iris
    found = evaluate_model(model, holdout, "species")
    features = holdout.drop(columns=["species", "row_id"])
    assert found.task == "classification" and found.rows == len(holdout)
    proba = model.raw.predict_proba(features)  # type: ignore[attr-defined]
    assert found.metrics["accuracy"] == pytest.approx(skm.accuracy_score(holdout["species"], model.predict(features)))
    assert found.metrics["log_loss"] == pytest.approx(skm.log_loss(holdout["species"], proba))
    assert found.to_dict()["metrics"] == found.metrics and found.to_dict()["task"] == "classification"


def test_unlabelled_rows_are_left_out(iris: tuple[LoadedModel, pd.DataFrame]) -> None:
    model, holdout = iris
    holdout = holdout.astype({"species": "float64"})
    holdout.loc[:9, "species"] = np.nan
    assert evaluate_model(model, holdout, "species").rows == len(holdout) - 10


def test_regressor_is_inferred(tmp_path: Path) -> None:
    data = load_diabetes(as_frame=True)
    model = _saved(LinearRegression().fit(data.data, data.target), data.data, tmp_path / "diabetes")
    found = evaluate_model(model, data.data.assign(label=data.target), "label")
    assert found.task == "regression"
    assert set(found.metrics) == {"mae", "rmse", "mape", "r2"}


def test_bad_input_is_refused(iris: tuple[LoadedModel, pd.DataFrame]) -> None:
    model, holdout = iris
    with pytest.raises(InvalidInput, match="no label column 'nope'"):
        evaluate_model(model, holdout, "nope")
    with pytest.raises(InvalidInput, match="lacks the columns 'petal width"):
        evaluate_model(model, holdout.drop(columns=["petal width (cm)"]), "species")
    with pytest.raises(InvalidInput, match="unknown task"):
        evaluate_model(model, holdout, "species", "ranking")  # type: ignore[arg-type]
