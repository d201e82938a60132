"""The MLflow side of the model loading benchmark (run by bench/model_load.py inside .bench/mlflow-venv).

    .bench/mlflow-venv/bin/python bench/peers/mlflow_model_load.py setup ROWS WORKDIR
    .bench/mlflow-venv/bin/python bench/peers/mlflow_model_load.py sample ROWS [MODEL_URI]
    .bench/mlflow-venv/bin/python bench/peers/mlflow_model_load.py steady ROWS CALLS RELOADS

``MLFLOW_TRACKING_URI`` (a SQLite file) says where the store is; ROWS is the test rows JSON that
bench/model_load.py writes. Each mode prints one JSON line on stdout:

* ``setup`` trains the same Pipeline as the mlpilot side (same code, split and seed), logs it with
  ``mlflow.sklearn.log_model(..., input_example=..., registered_model_name="bench")`` in a run and
  points the alias ``production`` at the new version. It also registers the same model saved with
  ``serialization_format="pickle"`` as ``bench-pickle`` (MLflow 3.17 saves with skops by default);
* ``sample`` times ``import mlflow``, ``mlflow.pyfunc.load_model(MODEL_URI)`` (default
  ``models:/bench@production``) and the first ``predict`` on a 1-row DataFrame, wall and CPU, in
  this fresh process;
* ``steady`` imports scikit-learn, times the first load and RELOADS more loads of
  ``models:/bench@production``, then CALLS 1-row predictions through the ``PyFuncModel`` and
  through the raw scikit-learn Pipeline, interleaved.

Needs only the standard library, MLflow and scikit-learn.
"""

from __future__ import annotations

# The same top-level imports as bench/model_load.py, so that both libraries' imports start from
# the same interpreter state.
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

URI = "models:/bench@production"
SEED = 42


def sample(rows_path: Path, uri: str) -> dict[str, Any]:
    data = json.loads(rows_path.read_text())
    preloaded = len(sys.modules)
    marks = [(time.perf_counter(), time.process_time())]
    import mlflow

    marks.append((time.perf_counter(), time.process_time()))
    after_import = {name: name in sys.modules for name in ("pandas", "numpy", "sklearn", "sqlalchemy", "pyarrow")}
    model = mlflow.pyfunc.load_model(uri)
    marks.append((time.perf_counter(), time.process_time()))
    import pandas as pd

    one = pd.DataFrame(data["rows"][:1], columns=data["columns"])
    marks.append((time.perf_counter(), time.process_time()))
    first = model.predict(one)
    marks.append((time.perf_counter(), time.process_time()))
    everything = model.predict(pd.DataFrame(data["rows"], columns=data["columns"]))
    (w0, c0), (w1, c1), (w2, c2), (w3, c3), (w4, c4) = marks
    return {
        "preloaded_modules": preloaded,
        "imported_by_library": after_import,
        "import_s": {"wall": w1 - w0, "cpu": c1 - c0},
        "load_s": {"wall": w2 - w1, "cpu": c2 - c1},
        "predict_s": {"wall": w4 - w3, "cpu": c4 - c3},
        "first_prediction": [int(v) for v in first],
        "predictions": [int(v) for v in everything],
    }


def steady(rows_path: Path, calls: int, reloads: int) -> dict[str, Any]:
    """In one process: the load with scikit-learn already imported, ``reloads`` more loads, and
    1-row predict latency over ``calls`` calls (PyFuncModel.predict and the raw sklearn Pipeline)."""
    import statistics

    import mlflow
    import mlflow.pyfunc
    import pandas as pd

    data = json.loads(rows_path.read_text())
    start = time.perf_counter()
    import sklearn.linear_model
    import sklearn.pipeline
    import sklearn.preprocessing  # noqa: F401

    sklearn_import_s = time.perf_counter() - start

    # Where does load_model read the model from: a downloaded copy or the store itself?
    downloaded: list[str] = []
    original = mlflow.pyfunc._download_artifact_from_uri

    def recording(*args: Any, **kwargs: Any) -> str:
        path = original(*args, **kwargs)
        downloaded.append(str(path))
        return str(path)

    mlflow.pyfunc._download_artifact_from_uri = recording
    start = time.perf_counter()
    model = mlflow.pyfunc.load_model(URI)
    first_load_s = time.perf_counter() - start
    mlflow.pyfunc._download_artifact_from_uri = original
    reload_s = []
    for _ in range(reloads):
        start = time.perf_counter()
        model = mlflow.pyfunc.load_model(URI)
        reload_s.append(time.perf_counter() - start)

    one = pd.DataFrame(data["rows"][:1], columns=data["columns"])
    raw = model.get_raw_model()
    variants: dict[str, Callable[[], Any]] = {
        "predict": lambda: model.predict(one),
        "raw_sklearn": lambda: raw.predict(one),
    }
    outputs = {name: [int(v) for v in call()] for name, call in variants.items()}  # warm-up, checked below
    assert len({tuple(v) for v in outputs.values()}) == 1, f"variants disagree: {outputs}"
    samples: dict[str, list[int]] = {name: [] for name in variants}
    for _ in range(calls):  # interleaved, so that noise hits every variant alike
        for name, call in variants.items():
            start = time.perf_counter_ns()
            call()
            samples[name].append(time.perf_counter_ns() - start)
    return {
        "calls": calls,
        "prediction": outputs["predict"],
        "loaded_from": downloaded,
        "sklearn_import_s": sklearn_import_s,
        "first_load_after_sklearn_s": first_load_s,
        "reload_s": reload_s,
        "latency_us": {
            name: {
                "median": statistics.median(values) / 1000,
                "mean": statistics.fmean(values) / 1000,
                "p90": statistics.quantiles(values, n=10)[-1] / 1000,
                "min": min(values) / 1000,
            }
            for name, values in samples.items()
        },
    }


def split_and_train(seed: int = SEED) -> tuple[Any, Any, Any, Any]:
    """The same code as split_and_train in bench/model_load.py."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    features, target = load_breast_cancer(return_X_y=True, as_frame=True)
    x_train, x_test, y_train, y_test = train_test_split(
        features, target, test_size=0.2, random_state=seed, stratify=target
    )
    model = Pipeline(
        [("scale", StandardScaler()), ("classify", LogisticRegression(max_iter=1000, random_state=seed))]
    ).fit(x_train, y_train)
    return model, x_train, x_test, y_test


def setup(rows_path: Path, workdir: Path) -> dict[str, Any]:
    import sqlite3
    from importlib.metadata import version

    import mlflow
    import mlflow.sklearn
    from mlflow import MlflowClient

    started = time.perf_counter()
    model, x_train, x_test, y_test = split_and_train()
    data = json.loads(rows_path.read_text())
    artifacts = workdir / "mlflow-artifacts"
    client = MlflowClient()
    experiment = client.create_experiment("bench", artifact_location=artifacts.resolve().as_uri())
    with mlflow.start_run(experiment_id=experiment, run_name="breast-cancer"):
        mlflow.log_metric("accuracy", float(model.score(x_test, y_test)))
        info = mlflow.sklearn.log_model(
            model, name="model", input_example=x_train.head(5), registered_model_name="bench"
        )
    client.set_registered_model_alias("bench", "production", str(info.registered_model_version))
    # The same model saved with pickle instead of MLflow's default skops format, registered as
    # bench-pickle: the like-for-like comparison with mlpilot, which pickles scikit-learn models.
    with mlflow.start_run(experiment_id=experiment, run_name="breast-cancer-pickle"):
        pickled = mlflow.sklearn.log_model(
            model,
            name="model",
            input_example=x_train.head(5),
            registered_model_name="bench-pickle",
            serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_PICKLE,
        )
    client.set_registered_model_alias("bench-pickle", "production", str(pickled.registered_model_version))
    model_files = sorted(p for p in artifacts.rglob("*") if p.is_file())
    return {
        "setup_s": time.perf_counter() - started,
        "versions": {
            name: version(name) for name in ("mlflow", "scikit-learn", "numpy", "pandas", "scipy", "sqlalchemy")
        },
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "model_uri": info.model_uri,
        "pickle_model_uri": pickled.model_uri,
        "version": info.registered_model_version,
        "test_rows_match": list(x_test.columns) == data["columns"] and x_test.to_numpy().tolist() == data["rows"],
        "predictions": [int(v) for v in model.predict(x_test)],
        "probabilities": model.predict_proba(x_test)[:, 1].tolist(),
        "artifact_store_bytes": sum(p.stat().st_size for p in model_files),
        "artifact_store_files": [str(p.relative_to(artifacts)) for p in model_files],
    }


def main(argv: list[str]) -> int:
    mode, rows = argv[0], Path(argv[1])
    if mode == "setup":
        result = setup(rows, Path(argv[2]))
    elif mode == "sample":
        result = sample(rows, argv[2] if len(argv) > 2 else URI)
    elif mode == "steady":
        result = steady(rows, int(argv[2]), int(argv[3]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
