"""Train one classifier on scikit-learn's breast-cancer data and track it with mlpilot.

Run it through mlpilot (see mlpilot.yaml), or directly: ``python train.py --model forest``.
Per-step metrics show how the test scores evolve as trees are added (forest, boosting); final
metrics, both datasets, a confusion matrix and the fitted model are logged with the run.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, log_loss, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mlpilot

TARGET = "target"
STEPS = 10  # points on each per-step curve
Model = BaseEstimator


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["logreg", "forest", "boosting"], default="logreg")
    parser.add_argument("--C", type=float, default=1.0)
    parser.add_argument("--n-estimators", type=int, default=100)
    parser.add_argument("--learning-rate", type=float, default=0.1)
    parser.add_argument("--test-size", type=float, default=0.25)
    parser.add_argument("--seed", type=int, default=42)
    return parser.parse_args()


def scores(y_true: pd.Series, probability: np.ndarray) -> dict[str, float]:
    """Test metrics from the predicted probability of the positive class (benign = 1)."""
    predicted = (probability >= 0.5).astype(int)
    return {
        "accuracy": accuracy_score(y_true, predicted),
        "f1": f1_score(y_true, predicted),
        "roc_auc": roc_auc_score(y_true, probability),
        "log_loss": log_loss(y_true, probability, labels=[0, 1]),
    }


History = list[tuple[int, np.ndarray]]  # (step, test probability of the positive class)


def fit_logreg(args: argparse.Namespace, x: pd.DataFrame, y: pd.Series, _x_test: pd.DataFrame) -> tuple[Model, History]:
    model = make_pipeline(StandardScaler(), LogisticRegression(C=args.C, max_iter=1000))
    return model.fit(x, y), []  # one fit, so no curve: only the final metrics


def fit_forest(args: argparse.Namespace, x: pd.DataFrame, y: pd.Series, x_test: pd.DataFrame) -> tuple[Model, History]:
    # warm_start keeps the trees already grown, so each step pays only for its new ones.
    model = RandomForestClassifier(warm_start=True, random_state=args.seed, n_jobs=1)
    history: History = []
    for step in range(1, STEPS + 1):
        model.set_params(n_estimators=max(1, args.n_estimators * step // STEPS))
        model.fit(x, y)
        history.append((model.n_estimators, model.predict_proba(x_test)[:, 1]))
    return model, history


def fit_boosting(
    args: argparse.Namespace, x: pd.DataFrame, y: pd.Series, x_test: pd.DataFrame
) -> tuple[Model, History]:
    model = GradientBoostingClassifier(
        n_estimators=args.n_estimators, learning_rate=args.learning_rate, random_state=args.seed
    )
    model.fit(x, y)
    # staged_predict_proba replays the fitted ensemble one stage at a time, without refitting.
    every = max(1, args.n_estimators // STEPS)
    history = [
        (stage, probability[:, 1])
        for stage, probability in enumerate(model.staged_predict_proba(x_test), start=1)
        if stage % every == 0 or stage == args.n_estimators
    ]
    return model, history


TRAINERS = {"logreg": fit_logreg, "forest": fit_forest, "boosting": fit_boosting}


def main() -> None:
    args = parse_args()
    data = load_breast_cancer(as_frame=True)
    train, test = train_test_split(data.frame, test_size=args.test_size, random_state=args.seed, stratify=data.target)
    x_train, y_train = train.drop(columns=TARGET), train[TARGET]
    x_test, y_test = test.drop(columns=TARGET), test[TARGET]

    # Under `mlpilot run` this attaches to the run it created; run directly, it starts one.
    with mlpilot.start_run(experiment="classifier") as run:
        run.log_params(vars(args))
        run.log_dataset(train, name="breast-cancer-train", role="train")
        run.log_dataset(test, name="breast-cancer-test", role="test")

        model, history = TRAINERS[args.model](args, x_train, y_train, x_test)
        for step, step_probability in history:
            curve = scores(y_test, step_probability)
            run.log_metrics({f"test_{key}": value for key, value in curve.items()}, step=step)

        probability = model.predict_proba(x_test)[:, 1]
        final = scores(y_test, probability)
        final["train_accuracy"] = accuracy_score(y_train, model.predict(x_train))
        run.log_metrics(final)
        matrix = confusion_matrix(y_test, (probability >= 0.5).astype(int), labels=[0, 1])
        run.log_dict(
            {"labels": list(data.target_names), "rows": "true", "columns": "predicted", "matrix": matrix.tolist()},
            "confusion_matrix.json",
        )
        if hasattr(model, "feature_importances_"):
            ranked = sorted(zip(x_train.columns, model.feature_importances_, strict=True), key=lambda kv: -kv[1])
            run.log_dict({name: float(weight) for name, weight in ranked}, "feature_importances.json")
        # Packaged with its signature (inferred from these rows) so it can be registered and served.
        run.log_model(model, "model", input_example=x_train.head(5))

        summary = " ".join(f"{key}={value:.4f}" for key, value in final.items())
        print(f"{args.model}: {summary}")


if __name__ == "__main__":
    main()
