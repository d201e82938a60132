"""The MLflow-client logging workload of bench/mlflow_compat.py, run against whatever
MLFLOW_TRACKING_URI (and MLFLOW_TRACKING_TOKEN) name: the same code for both servers.

    MLFLOW_TRACKING_URI=http://127.0.0.1:5000 python bench/peers/mlflow_client_workload.py --runs 20 --out x.json

Per run: start_run, 10 params (one log_params call = one log-batch), --metrics single
``log_metric`` calls with steps, one ``log_batch`` of --batch metrics, 3 tags, one small artifact,
end_run. Prints nothing on stdout but what MLflow prints; the timings go to --out as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import mlflow
from mlflow.entities import Metric


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--metrics", type=int, default=100)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    client = mlflow.MlflowClient()
    experiment = mlflow.set_experiment(f"compat-{os.getpid()}")
    phases: dict[str, float] = {"create_run": 0.0, "params": 0.0, "log_metric": 0.0, "log_batch": 0.0}
    phases.update({"tags": 0.0, "artifact": 0.0, "end_run": 0.0})
    scratch = Path(tempfile.mkdtemp())
    artifact = scratch / "summary.json"
    artifact.write_text(json.dumps({"rows": list(range(200))}))
    started = time.perf_counter()
    run_ids = []
    for index in range(args.runs):
        mark = time.perf_counter()
        run = client.create_run(experiment.experiment_id, run_name=f"run-{index}")
        run_id = run.info.run_id
        run_ids.append(run_id)
        now = time.perf_counter()
        phases["create_run"] += now - mark
        mark = now
        client.log_batch(run_id, params=[mlflow.entities.Param(f"p{i}", str(i * 0.1)) for i in range(10)])
        now = time.perf_counter()
        phases["params"] += now - mark
        mark = now
        for step in range(args.metrics):
            client.log_metric(run_id, "loss", 1.0 / (step + 1), step=step)
        now = time.perf_counter()
        phases["log_metric"] += now - mark
        mark = now
        stamp = int(time.time() * 1000)
        client.log_batch(run_id, metrics=[Metric("acc", i / args.batch, stamp, i) for i in range(args.batch)])
        now = time.perf_counter()
        phases["log_batch"] += now - mark
        mark = now
        for key in ("team", "stage", "owner"):
            client.set_tag(run_id, key, f"{key}-value")
        now = time.perf_counter()
        phases["tags"] += now - mark
        mark = now
        client.log_artifact(run_id, str(artifact), "reports")
        now = time.perf_counter()
        phases["artifact"] += now - mark
        mark = now
        client.set_terminated(run_id)
        phases["end_run"] += time.perf_counter() - mark
    total = time.perf_counter() - started
    check = client.get_run(run_ids[-1])
    history = client.get_metric_history(run_ids[-1], "loss")
    assert len(history) == args.metrics and len(check.data.params) == 10, "the workload did not land"
    Path(args.out).write_text(
        json.dumps(
            {"total_s": total, "phases_s": phases, "runs": args.runs, "metrics": args.metrics, "batch": args.batch}
        )
    )


if __name__ == "__main__":
    main()
