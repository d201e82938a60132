#!/usr/bin/env bash
# The loop so far, on the embedded default store: train three candidates as tracked runs, register
# the best as a model version, point `production` at it, trace its lineage and predict with it;
# then read the registry through the platform server with a read-only API key, serve the model,
# and watch it for drift.
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

# The same registry through the platform server: a read-only key, the REST API, the remote client.
key=$("$MLPILOT" keys create "demo-reader-$(date +%s%N)" --scopes read 2>/dev/null)
port=$("$PYTHON" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
"$MLPILOT" server --port "$port" --workers 1 > .mlpilot/demo-server.log 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
MLPILOT_TRACKING_URI="http://127.0.0.1:$port" MLPILOT_API_KEY="$key" "$PYTHON" - <<'PY'
import json, os, time, urllib.request

import mlpilot

url, key = os.environ["MLPILOT_TRACKING_URI"], os.environ["MLPILOT_API_KEY"]
for _ in range(150):  # wait for the server to answer /readyz
    try:
        urllib.request.urlopen(f"{url}/readyz", timeout=1)
        break
    except OSError:
        time.sleep(0.2)
request = urllib.request.Request(f"{url}/api/v1/models/classifier", headers={"Authorization": f"Bearer {key}"})
print("GET /api/v1/models/classifier ->", json.load(urllib.request.urlopen(request))["aliases"])

client = mlpilot.connect()  # http://…, from MLPILOT_TRACKING_URI, with MLPILOT_API_KEY
version = client.get_model_version("classifier", "@production")
print(f"through the server: classifier@production is version {version.version} ({version.flavor})")
try:
    client.set_alias("classifier", "staging", version.version)
except mlpilot.MlpilotError as refused:
    print("a read-only key cannot move an alias:", refused.message)
PY

# Serve it: a stored deployment on the same server (its workers pick it up within half a second),
# a key that may predict and send labels, then the prediction log read back with DuckDB.
"$MLPILOT" deployments create classifier-api --model classifier@production
scorer=$("$MLPILOT" keys create "demo-scorer-$(date +%s%N)" --scopes predict,write 2>/dev/null)
DEMO_URL="http://127.0.0.1:$port" DEMO_KEY="$scorer" "$PYTHON" - <<'PY'
import json, os, time, urllib.error, urllib.request

import mlpilot
from sklearn.datasets import load_breast_cancer

url, key = os.environ["DEMO_URL"], os.environ["DEMO_KEY"]
data = load_breast_cancer(as_frame=True)
rows = data.data.head(3).to_dict(orient="records")


def post(path, body):
    request = urllib.request.Request(
        f"{url}{path}",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    return json.load(urllib.request.urlopen(request))


for _ in range(100):  # until the server's workers have loaded the new deployment
    try:
        answer = post("/v1/deployments/classifier-api/predict", {"instances": rows, "probabilities": True})
        break
    except urllib.error.HTTPError as error:
        if error.code != 404:
            raise
        time.sleep(0.1)
print(f"POST /v1/deployments/classifier-api/predict -> version {answer['version']}: {answer['predictions']}")
labels = [{"prediction_id": pid, "label": int(label)} for pid, label in zip(answer["prediction_ids"], data.target)]
print("POST …/feedback ->", post("/v1/deployments/classifier-api/feedback", {"labels": labels}))
logged = mlpilot.predictions("classifier-api")
print(f"mlpilot.predictions('classifier-api'): {len(logged)} rows")
print(logged[["prediction_id", "version", "prediction", "latency_ms"]].head(3).to_string(index=False))
PY

# Watch it: a monitor compares the last hour of traffic with the data the model was trained on
# (its reference profile, fitted when the version was registered), joins the labels sent back,
# and opens an alert when a third of the columns drift.
"$MLPILOT" monitors create classifier-watch --deployment classifier-api --window 1h --alert-drift-share 0.3
DEMO_URL="http://127.0.0.1:$port" DEMO_KEY="$scorer" "$PYTHON" - <<'PY'
import json, os, time, urllib.request

import mlpilot
from sklearn.datasets import load_breast_cancer

url, key = os.environ["DEMO_URL"], os.environ["DEMO_KEY"]
data = load_breast_cancer(as_frame=True).data
drifted = data.sample(300, random_state=0) * 1.25  # the same tumours, measured on a miscalibrated scanner
for frame in (data, drifted):
    request = urllib.request.Request(
        f"{url}/v1/deployments/classifier-api/predict",
        data=json.dumps({"instances": frame.to_dict(orient="records")}).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    urllib.request.urlopen(request).read()
for _ in range(100):  # the log is flushed every 2 seconds
    if len(mlpilot.predictions("classifier-api")) >= 3 + len(data) + len(drifted):
        break
    time.sleep(0.1)
print(f"sent {len(data)} rows as measured and {len(drifted)} rows scaled by 1.25")
PY
"$MLPILOT" monitors run classifier-watch
"$MLPILOT" monitors report classifier-api --html .mlpilot/monitoring-report.html
"$MLPILOT" export grafana classifier-api -o .mlpilot/grafana-classifier-api.json
