"""The MLflow side of the serving benchmark (run by bench/serving.py inside .bench/mlflow-venv).

    .bench/mlflow-venv/bin/python bench/peers/mlflow_serving_model.py ROWS OUTDIR

Trains the benchmark's models (``train`` below, which bench/serving.py imports too, so both sides
run the same code): LogisticRegression(max_iter=5000) and RandomForestClassifier(n_estimators=100,
random_state=0) on ``load_breast_cancer(as_frame=True)`` with spaces in the column names replaced
by underscores. Saves each with ``mlflow.sklearn.save_model(model, OUTDIR/<kind>,
input_example=X.head(5))`` (MLflow's defaults otherwise: skops format, a signature inferred from
the example; the forest also with ``skops_trusted_types=["sklearn.tree._tree.Tree"]``, without
which MLflow 3.17 refuses to save it), for ``mlflow models serve -m OUTDIR/<kind>``. ROWS is the
JSON of request rows that bench/serving.py writes; the local predictions on them are returned for
checking the served ones.

Prints one JSON line on stdout. Needs only the standard library, MLflow and scikit-learn.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

KINDS = ("logreg", "rf")


def train(kind: str) -> tuple[Any, Any]:
    """(fitted model, feature DataFrame); imports nothing but scikit-learn, so either venv can call it."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    features, target = load_breast_cancer(return_X_y=True, as_frame=True)
    features.columns = [str(name).replace(" ", "_") for name in features.columns]
    if kind == "logreg":
        model = LogisticRegression(max_iter=5000)
    else:
        model = RandomForestClassifier(n_estimators=100, random_state=0)
    return model.fit(features, target), features


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    from importlib.metadata import version

    import mlflow.sklearn
    import pandas as pd

    rows = json.loads(Path(argv[0]).read_text())
    outdir = Path(argv[1])
    result: dict[str, Any] = {
        "python": sys.version.split()[0],
        "versions": {
            name: version(name)
            for name in ("mlflow", "scikit-learn", "numpy", "pandas", "uvicorn", "fastapi", "starlette", "skops")
        },
        "models": {},
    }
    for kind in KINDS:
        started = time.perf_counter()
        model, features = train(kind)
        path = outdir / kind
        # MLflow 3.17 saves with skops, which refuses a forest's tree storage unless it is declared trusted.
        trusted = ["sklearn.tree._tree.Tree"] if kind == "rf" else None
        mlflow.sklearn.save_model(model, str(path), input_example=features.head(5), skops_trusted_types=trusted)
        frame = pd.DataFrame(rows["rows"], columns=rows["columns"])
        result["models"][kind] = {
            "path": str(path),
            "setup_s": time.perf_counter() - started,
            "columns_match": list(features.columns) == rows["columns"],
            "predictions": [int(v) for v in model.predict(frame)],
            "files": sorted(p.name for p in path.iterdir()),
        }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
