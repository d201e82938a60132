"""An MLflow project's script, unchanged: it logs with the mlflow client to whatever
MLFLOW_TRACKING_URI and MLFLOW_RUN_ID say."""

import argparse
import csv

import mlflow

parser = argparse.ArgumentParser()
parser.add_argument("--alpha", type=float)
parser.add_argument("--label")
parser.add_argument("--data")
args = parser.parse_args()

with open(args.data) as handle:
    rows = list(csv.DictReader(handle))

with mlflow.start_run():
    mlflow.log_param("rows", len(rows))
    for step, row in enumerate(rows):
        mlflow.log_metric("loss", args.alpha * float(row["y"]), step=step)
    mlflow.set_tag("label", args.label)
    mlflow.log_text("done", "result.txt")
print("trained with alpha", args.alpha)
