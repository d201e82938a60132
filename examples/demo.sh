#!/usr/bin/env bash
# The loop so far, on the embedded default store: train three candidates as tracked runs, register
# the best as a model version, point `production` at it, trace its lineage and predict with it.
set -euo pipefail
cd "$(dirname "$0")/.."
MLPILOT="${MLPILOT:-.venv/bin/mlpilot}"
PYTHON="${PYTHON:-.venv/bin/python}"

"$MLPILOT" run examples/classifier -e classifier -P model=logreg -P C=0.5
"$MLPILOT" run examples/classifier -e classifier -P model=forest
"$MLPILOT" run examples/classifier -e classifier -P model=boosting

"$MLPILOT" runs list -e classifier -o "metrics.roc_auc DESC" -n 5
best=$("$MLPILOT" runs list -e classifier -f "status = 'FINISHED'" -o "metrics.roc_auc DESC" -n 1 --json \
  | "$PYTHON" -c "import json, sys; print(json.load(sys.stdin)['runs'][0]['id'])")

version=$("$MLPILOT" models register "$best" model classifier --reason "best roc_auc of the demo" --json \
  | "$PYTHON" -c "import json, sys; print(json.load(sys.stdin)['version'])")
"$MLPILOT" models alias classifier production "$version" --reason "demo release"
"$MLPILOT" models lineage classifier "@production"
"$MLPILOT" datasets list

"$PYTHON" - <<'PY'
import mlpilot
from sklearn.datasets import load_breast_cancer

model = mlpilot.load_model("models:/classifier@production")
rows = load_breast_cancer(as_frame=True).data.head(3)
print("models:/classifier@production predicts", model.predict(rows).tolist(), "for the first three rows")
PY
