"""CBPE estimates what the realized metrics turn out to be, within its own sampling error."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mlpilot.errors import InvalidInput
from mlpilot.monitoring.cbpe import ASSUMPTIONS, CBPE, METRICS, EstimatedPerformance
from mlpilot.monitoring.performance import classification_performance

ROWS = 20_000


def _binary(rng: np.random.Generator, rows: int, a: float = 2.0, b: float = 2.0, power: float = 1.0):
    """A model whose true positive probability is q but which reports q**power (1: perfectly calibrated)."""
    q = rng.beta(a, b, rows)
    y = rng.binomial(1, q)
    p = q**power
    return pd.DataFrame({0: 1 - p, 1: p}), y


def _realized(proba: pd.DataFrame, y: np.ndarray) -> dict[str, float | None]:
    return classification_performance(y, (proba[1] >= 0.5).astype(int), proba).metrics


def _assert_close(estimate: EstimatedPerformance, realized: dict[str, float | None], names=METRICS) -> None:
    for name in names:
        value, truth, error = estimate.metrics[name], realized[name], estimate.sampling_error[name]
        assert value is not None and truth is not None and error is not None, name
        assert 0 < error < 0.02, name
        assert abs(value - truth) <= 3 * error, (name, value, truth, error)
        assert abs(value - truth) <= 0.02, (name, value, truth)


def test_calibrated_binary_model_is_estimated_within_its_sampling_error() -> None:
    rng = np.random.default_rng(1)
    estimator = CBPE.fit(*_binary(rng, ROWS))
    window, labels = _binary(rng, ROWS)
    estimate = estimator.estimate(window)
    assert estimate.rows == ROWS
    assert estimate.assumptions == ASSUMPTIONS
    assert "calibration" in estimate.notes
    _assert_close(estimate, _realized(window, labels))


def test_overconfident_model_gets_calibrated() -> None:
    rng = np.random.default_rng(12)
    estimator = CBPE.fit(*_binary(rng, ROWS, a=3, b=2, power=3))
    window, labels = _binary(rng, ROWS, a=3, b=2, power=3)
    estimate = estimator.estimate(window)
    assert estimate.calibrated
    assert estimate.notes["calibration"].startswith("Calibrated:")
    _assert_close(estimate, _realized(window, labels))
    # Without calibration the same probabilities say something quite wrong.
    raw = CBPE.fit(*_binary(rng, ROWS, a=3, b=2, power=3), calibrate=False).estimate(window)
    assert not raw.calibrated
    assert abs(raw.metrics["accuracy"] - _realized(window, labels)["accuracy"]) > 0.05


def test_multiclass_accuracy_estimate() -> None:
    rng = np.random.default_rng(13)
    names = np.array(["bird", "cat", "dog"])

    def draw(rows: int) -> tuple[pd.DataFrame, np.ndarray]:
        proba = rng.dirichlet([1.0, 1.5, 2.0], rows)
        labels = names[(rng.random(rows)[:, None] > proba.cumsum(axis=1)).sum(axis=1)]
        return pd.DataFrame(proba, columns=list(names)), labels

    estimator = CBPE.fit(*draw(ROWS))
    window, labels = draw(ROWS)
    estimate = estimator.estimate(window)
    realized = classification_performance(labels, names[window.to_numpy().argmax(axis=1)], window).metrics
    _assert_close(estimate, realized)
    assert "Macro average over 3 classes" in estimate.notes["average"]


def test_expected_counts_by_hand() -> None:
    reference = pd.DataFrame({0: [0.1, 0.4, 0.7, 0.8, 0.3, 0.6], 1: [0.9, 0.6, 0.3, 0.2, 0.7, 0.4]})
    estimator = CBPE.fit(reference, [1, 0, 0, 1, 1, 0], calibrate=False)
    p = np.array([0.9, 0.6, 0.3, 0.2])
    estimate = estimator.estimate(pd.DataFrame({0: 1 - p, 1: p}))
    # predicted [1, 1, 0, 0]: E[TP] = 1.5, E[FP] = 0.5, E[FN] = 0.5, E[TN] = 1.5
    for name in ("accuracy", "precision", "recall", "f1"):
        assert estimate.metrics[name] == pytest.approx(0.75, abs=1e-12)
    # expected ROC points (0, 0), (.05, .45), (.25, .75), (.6, .9), (1, 1)
    assert estimate.metrics["roc_auc"] == pytest.approx(0.8, abs=1e-12)
    assert not estimate.calibrated and "caller" in estimate.notes["calibration"]


def test_estimate_on_the_reference_is_close_to_the_realized_reference() -> None:
    rng = np.random.default_rng(14)
    reference, labels = _binary(rng, 5_000, power=2)
    estimate = CBPE.fit(reference, labels).estimate(reference)
    realized = _realized(reference, labels)
    for name in METRICS:
        assert estimate.metrics[name] == pytest.approx(realized[name], abs=0.01), name


@pytest.mark.parametrize("calibrate", [None, False])
def test_round_trip_through_json_gives_identical_estimates(calibrate: bool | None) -> None:
    rng = np.random.default_rng(15)
    estimator = CBPE.fit(*_binary(rng, 3_000, power=2), calibrate=calibrate)
    stored = json.dumps(estimator.to_dict(), allow_nan=False)
    restored = CBPE.from_dict(json.loads(stored))
    window, _ = _binary(rng, 1_000, power=2)
    assert restored.estimate(window) == estimator.estimate(window)
    assert restored.to_dict() == estimator.to_dict()
    assert json.loads(json.dumps(estimator.estimate(window).to_dict(), allow_nan=False))["rows"] == 1_000


def test_multiclass_round_trip_and_string_columns() -> None:
    rng = np.random.default_rng(16)
    proba = rng.dirichlet([1.0, 1.0, 1.0], 2_000)
    labels = (rng.random(2_000)[:, None] > proba.cumsum(axis=1)).sum(axis=1)
    estimator = CBPE.fit(pd.DataFrame(proba, columns=["0", "1", "2"]), labels)
    restored = CBPE.from_dict(json.loads(json.dumps(estimator.to_dict())))
    window = pd.DataFrame(proba[:500, [2, 0, 1]], columns=[2, 0, 1])  # other order, integer names
    assert restored.estimate(window) == estimator.estimate(window)
    assert estimator.estimate(window).metrics["accuracy"] == pytest.approx(
        estimator.estimate(pd.DataFrame(proba[:500], columns=["0", "1", "2"])).metrics["accuracy"], abs=1e-12
    )


def test_empty_window_has_no_metrics() -> None:
    rng = np.random.default_rng(17)
    estimator = CBPE.fit(*_binary(rng, 1_000))
    estimate = estimator.estimate(pd.DataFrame({0: [], 1: []}, dtype=float))
    assert estimate.rows == 0
    assert estimate.metrics == dict.fromkeys(METRICS) and estimate.sampling_error == dict.fromkeys(METRICS)
    assert "Empty window" in estimate.notes["rows"]


def test_near_perfect_reference_is_not_calibrated() -> None:
    p = np.r_[np.linspace(0.01, 0.3, 200), np.linspace(0.7, 0.99, 200)]
    y = np.r_[np.zeros(200, dtype=int), np.ones(200, dtype=int)]
    estimator = CBPE.fit(pd.DataFrame({"no": 1 - p, "yes": p}), np.where(y == 1, "yes", "no"))
    estimate = estimator.estimate(pd.DataFrame({"yes": p, "no": 1 - p}))
    assert not estimate.calibrated and "ROC AUC" in estimate.notes["calibration"]


def test_positive_label_chooses_the_class() -> None:
    rng = np.random.default_rng(18)
    reference, labels = _binary(rng, 2_000)
    window, _ = _binary(rng, 2_000)
    as_one = CBPE.fit(reference, labels).estimate(window)
    as_zero = CBPE.fit(reference, labels, positive_label=0).estimate(window)
    assert as_zero.metrics["accuracy"] == pytest.approx(as_one.metrics["accuracy"], abs=1e-9)
    assert as_zero.metrics["precision"] != pytest.approx(as_one.metrics["precision"], abs=1e-3)


def test_bad_inputs_are_rejected_with_a_readable_message() -> None:
    rng = np.random.default_rng(19)
    reference, labels = _binary(rng, 500)
    estimator = CBPE.fit(reference, labels)
    with pytest.raises(InvalidInput, match=r"missing \[1\], extra \['maybe'\]"):
        estimator.estimate(pd.DataFrame({0: [0.5], "maybe": [0.5]}))
    with pytest.raises(InvalidInput, match=r"outside \[0, 1\]"):
        estimator.estimate(pd.DataFrame({0: [1.2], 1: [-0.2]}))
    with pytest.raises(InvalidInput, match="do not sum to 1"):
        estimator.estimate(pd.DataFrame({0: [0.5, 0.2], 1: [0.5, 0.5]}))
    with pytest.raises(InvalidInput, match="missing values"):
        estimator.estimate(pd.DataFrame({0: [np.nan], 1: [0.5]}))
    with pytest.raises(InvalidInput, match="DataFrame"):
        estimator.estimate(np.array([[0.5, 0.5]]))  # type: ignore[arg-type]
    # rounding off by less than 1e-3 is fine
    assert estimator.estimate(pd.DataFrame({0: [0.3004], 1: [0.7]})).rows == 1


def test_bad_references_are_rejected() -> None:
    proba = pd.DataFrame({0: [0.2, 0.6, 0.3], 1: [0.8, 0.4, 0.7]})
    with pytest.raises(InvalidInput, match=r"hold 1 of the 2 classes") as raised:
        CBPE.fit(proba, [1, 1, 1])
    assert "every class" in raised.value.message
    with pytest.raises(InvalidInput, match=r"no probability column: \[2\]"):
        CBPE.fit(proba, [0, 1, 2])
    with pytest.raises(InvalidInput, match="3 rows but y_true has 2"):
        CBPE.fit(proba, [0, 1])
    with pytest.raises(InvalidInput, match="not a class"):
        CBPE.fit(proba, [0, 1, 1], positive_label="yes")
    with pytest.raises(InvalidInput, match="at least two"):
        CBPE.fit(pd.DataFrame({1: [1.0, 1.0]}), [1, 1])
    with pytest.raises(InvalidInput, match="not a stored CBPE"):
        CBPE.from_dict({"classes": [0, 1]})
    stored = CBPE.fit(proba, [0, 1, 1], calibrate=False).to_dict()
    with pytest.raises(InvalidInput, match="malformed"):
        CBPE.from_dict({**stored, "spread": None})
    with pytest.raises(InvalidInput, match="inconsistent"):
        CBPE.from_dict({**stored, "spread": [{"precision": 0.5}]})
