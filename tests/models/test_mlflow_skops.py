"""skops-format MLflow models (MLflow 3's default for scikit-learn and LightGBM's wrappers): the trust
rule, what it accepts and refuses, and the message when skops is not installed."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlpilot.cli.app import main
from mlpilot.errors import InvalidInput
from mlpilot.models.mlflow_format import convert_mlflow_dir
from mlpilot.models.mlflow_skops import refused_types
from mlpilot.models.package import load_model_dir

mlflow = pytest.importorskip("mlflow")
pytest.importorskip("skops")

# Importing mlflow.pyfunc warns about MLflow's own type hints (a coloured UserWarning); nothing else
# mlflow raises is filtered.
pytestmark = pytest.mark.filterwarnings("ignore:.*Any type hint is inferred as AnyType:UserWarning")

# Naming the requirements spares MLflow inferring them in a subprocess (seconds per save).
_REQUIREMENTS = ["mlflow"]


@pytest.fixture(autouse=True)
def _quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("DO_NOT_TRACK", "true")


def _data() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"x1": rng.normal(size=80), "x2": rng.normal(size=80)})
    return frame, (frame["x1"] + 0.5 * frame["x2"] > 0).astype(int).to_numpy()


def test_the_trust_rule_accepts_classes_of_sklearn_numpy_and_scipy_only() -> None:
    reported = [
        "sklearn.tree._tree.Tree",  # skops flags it (a crafted one can crash predict); a class: accepted
        "numpy.random.mtrand.RandomState",
        "scipy.sparse._csr.csr_matrix",
        "collections.OrderedDict",
        "numpy.testing.assert_equal",  # a function of a trusted package: refused
        "builtins.eval",
        "functools.partial",
        "mypackage.features.Custom",
        "sklearn.no_such_module.Thing",
        "lightgbm.sklearn.LGBMClassifier",  # only for a lightgbm model
    ]
    refused = [
        "numpy.testing.assert_equal",
        "builtins.eval",
        "functools.partial",
        "mypackage.features.Custom",
        "sklearn.no_such_module.Thing",
        "lightgbm.sklearn.LGBMClassifier",
    ]
    assert refused_types(reported) == refused
    assert refused_types(reported, ("sklearn", "numpy", "scipy", "lightgbm")) == refused[:-1]


def test_a_forest_loads_and_a_function_is_refused(tmp_path: Path) -> None:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    frame, labels = _data()
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(frame, labels)
    # MLflow itself refuses to save a forest as skops unless told to trust its trees.
    mlflow.sklearn.save_model(
        forest, tmp_path / "forest", skops_trusted_types=["sklearn.tree._tree.Tree"], pip_requirements=_REQUIREMENTS
    )
    convert_mlflow_dir(tmp_path / "forest", tmp_path / "converted")
    loaded = load_model_dir(tmp_path / "converted")
    assert list(loaded.predict(frame.head(8))) == list(forest.predict(frame.head(8)))

    shifted = make_pipeline(FunctionTransformer(functools.partial(np.add, 1.0)), LogisticRegression())
    shifted.fit(frame, labels)
    # The model's own MLmodel lists functools.partial as trusted: mlpilot does not take its word.
    mlflow.sklearn.save_model(
        shifted, tmp_path / "partial", skops_trusted_types=["functools.partial"], pip_requirements=_REQUIREMENTS
    )
    with pytest.raises(InvalidInput, match=r"does not trust: functools\.partial") as refused:
        convert_mlflow_dir(tmp_path / "partial", tmp_path / "never")
    assert "serialization_format='cloudpickle'" in str(refused.value.hint)
    assert not (tmp_path / "never").exists()


def test_without_skops_the_error_says_what_to_install(
    tmp_path: Path, isolated_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sklearn.linear_model import LogisticRegression

    frame, labels = _data()
    mlflow.sklearn.save_model(LogisticRegression().fit(frame, labels), tmp_path / "sk", pip_requirements=_REQUIREMENTS)
    monkeypatch.setenv("MLPILOT_HOME", str(tmp_path / "home"))
    # As if skops were not installed: importing it fails.
    monkeypatch.setitem(sys.modules, "skops", None)
    monkeypatch.setitem(sys.modules, "skops.io", None)
    with pytest.raises(SystemExit) as exited:
        main(["models", "import-mlflow", str(tmp_path / "sk"), "--name", "sk"])
    err = capsys.readouterr().err
    assert exited.value.code == 1, err
    assert "skops is not installed" in err and "pip install 'mlpilot[mlflow]'" in err
    assert "Traceback" not in err
