"""Canary rollouts: a policy checked whole, a judge over a real store and prediction log, and a
watcher that promotes a healthy canary (the alias moves) or rolls a bad one back — end to end with
real traffic to ``mlpilot serve`` over HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from mlpilot.client import Client
from mlpilot.config import load_settings
from mlpilot.deployments import create_deployment, deployment_events, get_deployment, record_feedback, resolve_traffic
from mlpilot.deployments.request_counts import MINUTE_MS, RequestCounts, add_request_counts
from mlpilot.errors import Conflict, InvalidInput
from mlpilot.monitoring import CanaryPolicy, judge_canary, start_canary, watch_canary
from mlpilot.prediction_log import PredictionBatch, PredictionLogWriter, new_prediction_id
from mlpilot.security import keys as key_service
from mlpilot.store.clock import now_ms
from tests.serving.conftest import ServingServer, Store, cancer_frame

DEPLOYMENT = "churn-api"
WINDOW_S = 600.0
# Small enough for a handful of logged rows; every traffic check on, labels only when set.
POLICY = CanaryPolicy(
    window=WINDOW_S, min_requests=20, max_latency_p99_ms=100.0, max_latency_p99_ratio=1.5, min_labelled=20
)


# --- the policy ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("window", 0),
        ("window", float("nan")),
        ("poll_interval", -1.0),
        ("min_requests", 0),
        ("min_requests", 2.5),
        ("min_labelled", True),
        ("max_error_rate", 1.5),
        ("max_error_rate_increase", -0.1),
        ("max_latency_p99_ms", 0.0),
        ("max_latency_p99_ratio", "fast"),
        ("metric_threshold", float("inf")),
        ("max_metric_drop", -0.01),
        ("metric", "happiness"),
        ("require_labels", "yes"),
        ("on_insufficient_data", "shrug"),
        ("max_window", 10.0),
    ],
)
def test_a_bad_policy_value_is_refused_naming_its_field(field: str, value: Any) -> None:
    with pytest.raises(InvalidInput, match=field):
        CanaryPolicy(**{field: value})


def test_a_policy_needs_a_check_and_known_fields() -> None:
    none: dict[str, Any] = dict.fromkeys(
        (
            "max_error_rate",
            "max_error_rate_increase",
            "max_latency_p99_ms",
            "max_latency_p99_ratio",
            "metric_threshold",
            "max_metric_drop",
        )
    )
    with pytest.raises(InvalidInput, match="no check"):
        CanaryPolicy(**none)
    with pytest.raises(InvalidInput, match="'windw'"):
        CanaryPolicy.from_dict({"windw": 60})
    policy = CanaryPolicy.from_dict({"window": 60, "metric": "mae", "metric_threshold": 3.0})
    assert policy.task == "regression" and policy.lower_is_better
    assert CanaryPolicy.from_dict(policy.to_dict()) == policy


# --- the judge, over data written with mlpilot's own writers ----------------------------------------


def _data(rows: int, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray[Any, Any]]:
    frame = pd.DataFrame({"tenure": rng.normal(24, 6, rows), "charges": rng.normal(70, 10, rows)})
    return frame, (frame["tenure"] > 24).astype(int).to_numpy()


class Rollout:
    """Model ``churn`` with version 1 in production and version 2 as the challenger, served by
    ``churn-api`` with a canary; ``traffic`` writes what serving would have logged and counted."""

    def __init__(self, client: Client, root: Path) -> None:
        self.client, self.db, self.root = client, client.db, str(root)
        self.rng = np.random.default_rng(0)
        frame, truth = _data(500, self.rng)
        self.model = LogisticRegression().fit(frame, truth)
        self.example = frame.head(2)
        for alias in ("production", "challenger"):
            self.register(alias)
        create_deployment(self.db, DEPLOYMENT, "churn@production", canary=("challenger", 0.2), actor="test")
        self.since = now_ms()

    def register(self, alias: str | None = None) -> int:
        with self.client.start_run("canary") as run:
            run.log_model(self.model, "model", input_example=self.example)
        version = self.client.register_model(run.id, "model", "churn").version
        if alias is not None:
            self.client.set_alias("churn", alias, version)
        return version

    def traffic(
        self,
        version: int,
        rows: int,
        *,
        errors: int = 0,
        latency: float = 5.0,
        correct: float | None = None,
    ) -> None:
        """``rows`` answered requests of one row each plus ``errors`` failed ones; with ``correct``,
        every row gets a label and that share of them matches the prediction."""
        frame, _ = _data(rows, self.rng)
        predictions = self.model.predict(frame)
        ids = [new_prediction_id() for _ in range(rows)]
        writer = PredictionLogWriter(self.root)
        writer.append(
            DEPLOYMENT,
            PredictionBatch(
                model="churn",
                version=version,
                role="primary" if version == 1 else "canary",
                inputs=frame,
                predictions=predictions,
                prediction_ids=ids,
                request_ids=ids,
                latency_ms=np.full(rows, latency),
                time_ms=self.since + 1_000 + np.arange(rows),
                probabilities=self.model.predict_proba(frame),
                classes=[0, 1],
            ),
        )
        writer.close()
        minute = self.since // MINUTE_MS * MINUTE_MS
        add_request_counts(self.db, {(DEPLOYMENT, version, minute): RequestCounts(rows + errors, errors, 0)})
        if correct is not None:
            right = round(rows * correct)
            labels = [int(p) if i < right else 1 - int(p) for i, p in enumerate(predictions)]
            record_feedback(self.db, DEPLOYMENT, list(zip(ids, labels, strict=True)), known_ids=set, actor="test")

    def judge(self, policy: CanaryPolicy = POLICY, *, after: float = WINDOW_S) -> Any:
        return judge_canary(self.db, self.root, DEPLOYMENT, policy, self.since, self.since + round(after * 1000))


@pytest.fixture
def rollout(store_uri: str, tmp_path: Path, isolated_env: Path) -> Iterator[Rollout]:
    client = Client(store_uri, str(tmp_path / "artifacts"), settings=load_settings(home=tmp_path / "home"))
    yield Rollout(client, tmp_path / "predictions")
    client.close()


def test_a_healthy_canary_waits_for_its_window_then_is_promoted(rollout: Rollout) -> None:
    rollout.traffic(1, 200, errors=1)
    rollout.traffic(2, 50)
    early = rollout.judge(after=60)
    assert early.decision == "wait" and not early.window_over
    assert early.reasons[0] == "the window ends in 540 s"
    verdict = rollout.judge()
    assert verdict.decision == "promote" and verdict.window_over and not verdict.insufficient_data
    canary, primary = verdict.canary, verdict.primary
    assert (canary.version, canary.requests, canary.error_rate, canary.logged_rows) == (2, 50, 0.0, 50)
    assert (primary.version, primary.requests, primary.server_errors, primary.logged_rows) == (1, 201, 1, 200)
    assert canary.latency_p99_ms == pytest.approx(5.0) and canary.labelled_rows == 0
    assert [(c.name, c.status) for c in verdict.checks] == [
        ("error_rate", "pass"),
        ("error_rate_increase", "pass"),
        ("latency_p99_ms", "pass"),
        ("latency_p99_ratio", "pass"),
    ]
    assert verdict.to_dict()["checks"][0]["message"].startswith("error rate: the canary failed 0 of 50")


def test_a_failing_canary_is_rolled_back_before_its_window_ends_naming_each_failed_check(rollout: Rollout) -> None:
    rollout.traffic(1, 200)
    rollout.traffic(2, 40, errors=10, latency=400.0)
    verdict = rollout.judge(after=30)
    assert verdict.decision == "rollback" and not verdict.window_over
    assert {c.name for c in verdict.failed} == {
        "error_rate",
        "error_rate_increase",
        "latency_p99_ms",
        "latency_p99_ratio",
    }
    assert len(verdict.reasons) == 4
    assert "failed 10 of 50 requests (20.0%), beyond the 5.0% allowed" in verdict.reasons[0]
    assert "80.00 times the primary's 5.0 ms" in verdict.reasons[3]


def test_live_accuracy_counts_once_labels_arrive(rollout: Rollout) -> None:
    policy = CanaryPolicy(window=WINDOW_S, min_requests=20, min_labelled=20, metric_threshold=0.8, max_metric_drop=0.05)
    rollout.traffic(1, 100, correct=0.95)
    rollout.traffic(2, 30)
    unlabelled = rollout.judge(policy)
    assert unlabelled.decision == "promote", unlabelled.reasons  # labels may come after the window
    assert [c.status for c in unlabelled.checks][-2:] == ["pending", "pending"]
    required = CanaryPolicy.from_dict({**policy.to_dict(), "require_labels": True})
    assert rollout.judge(required).decision == "rollback" and rollout.judge(required).insufficient_data

    rollout.traffic(2, 40, correct=0.6)
    verdict = rollout.judge(policy)
    assert verdict.decision == "rollback"
    assert (verdict.canary.labelled_rows, verdict.primary.labelled_rows) == (40, 100)
    assert verdict.canary.metric == pytest.approx(0.6) and verdict.primary.metric == pytest.approx(0.95)
    assert [c.name for c in verdict.failed] == ["metric:accuracy", "metric_drop:accuracy"]
    assert "0.35 worse, beyond the 0.05 allowed" in verdict.reasons[1]


def test_too_little_traffic_at_the_windows_end_follows_the_policy(rollout: Rollout) -> None:
    rollout.traffic(1, 200)
    rollout.traffic(2, 5)
    verdict = rollout.judge()
    assert verdict.decision == "rollback" and verdict.insufficient_data
    assert "the canary (version 2) has 5 of the 20 requests needed" in verdict.reasons[0]
    assert verdict.reasons[-1] == "too little data when the window ended: the policy says rollback"
    lenient = CanaryPolicy(window=WINDOW_S, min_requests=20, on_insufficient_data="promote")
    assert rollout.judge(lenient).decision == "promote"


def test_a_max_window_waits_for_enough_data_then_decides(rollout: Rollout) -> None:
    patient = CanaryPolicy(window=WINDOW_S, max_window=2 * WINDOW_S, min_requests=20)
    rollout.traffic(1, 200)
    rollout.traffic(2, 5)
    waiting = rollout.judge(patient)
    assert waiting.decision == "wait" and waiting.window_over and not waiting.insufficient_data
    assert waiting.reasons[-1] == "the window is over; waiting up to 600 s more for enough data"
    given_up = rollout.judge(patient, after=2 * WINDOW_S)
    assert given_up.decision == "rollback" and given_up.insufficient_data
    assert given_up.reasons[-1] == "too little data when the watch ended (1200 s): the policy says rollback"
    rollout.traffic(2, 30)
    assert rollout.judge(patient).decision == "promote"


def test_a_deployment_without_a_canary_has_nothing_to_judge(rollout: Rollout) -> None:
    watched = start_canary(rollout.db, DEPLOYMENT, "churn", "challenger", 0.2, actor="test")
    assert watched.canary is not None  # the same canary again: nothing changes
    with pytest.raises(Conflict, match="serves model 'churn', not 'other'"):
        start_canary(rollout.db, DEPLOYMENT, "other", 2, 0.2, actor="test")
    with pytest.raises(InvalidInput, match="canary weight"):
        start_canary(rollout.db, DEPLOYMENT, "churn", 2, 1.5, actor="test")
    from mlpilot.deployments import update_deployment

    update_deployment(rollout.db, DEPLOYMENT, canary=None, actor="test")
    with pytest.raises(Conflict, match="no canary to judge"):
        rollout.judge()
    with pytest.raises(Conflict, match="no canary to watch"):
        watch_canary(rollout.db, rollout.root, DEPLOYMENT, POLICY, actor="test")
    with pytest.raises(InvalidInput, match="cause"):
        watch_canary(rollout.db, rollout.root, DEPLOYMENT, POLICY, actor="test", cause="whim")
    with pytest.raises(InvalidInput, match="context"):
        watch_canary(rollout.db, rollout.root, DEPLOYMENT, POLICY, actor="test", context={"at": object()})


# --- the watcher, on a clock the test moves ----------------------------------------------------------


class FakeTime:
    """A clock that only moves when the watcher sleeps; what a sleep delivers is up to the test."""

    def __init__(self, start: int) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self.on_sleep: list[Any] = []

    def clock(self) -> int:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += round(seconds * 1000)
        if self.on_sleep:
            self.on_sleep.pop(0)()


def test_the_watcher_promotes_at_the_windows_end_and_moves_the_alias(rollout: Rollout) -> None:
    rollout.traffic(1, 200)
    fake = FakeTime(rollout.since)
    fake.on_sleep = [lambda: rollout.traffic(2, 30)]  # the canary's traffic arrives while watched
    policy = CanaryPolicy.from_dict({**POLICY.to_dict(), "poll_interval": 240})
    outcome = watch_canary(
        rollout.db,
        rollout.root,
        DEPLOYMENT,
        policy,
        actor="pipeline",
        cause="incident",  # e.g. a retraining a monitor's alert started
        context={"pipeline_run": "run-7"},
        sleep=fake.sleep,
        clock=fake.clock,
    )
    assert outcome.action == "promoted" and outcome.polls == 4
    assert fake.sleeps == [240, 240, 120]  # the last sleep ends with the window
    assert outcome.deployment.canary is None
    assert resolve_traffic(rollout.db, DEPLOYMENT).primary == 2
    assert rollout.client.get_model_version("churn", "@production").version == 2
    promoted = deployment_events(rollout.db, DEPLOYMENT, limit=1)[0]
    assert promoted.action == "promoted" and (promoted.details or {})["cause"] == "incident"
    context = (promoted.details or {})["context"]
    assert context["pipeline_run"] == "run-7"
    judged = context["canary_verdict"]
    assert (judged["decision"], judged["canary_version"], judged["primary_version"]) == ("promote", 2, 1)
    assert judged["policy"]["window"] == WINDOW_S and judged["verdict"]["canary"]["requests"] == 30


def test_the_watcher_rolls_a_failing_canary_back_at_once_and_keeps_the_primary(rollout: Rollout) -> None:
    rollout.traffic(1, 200)
    rollout.traffic(2, 30, errors=30)
    fake = FakeTime(rollout.since + 10_000)
    outcome = watch_canary(
        rollout.db,
        rollout.root,
        DEPLOYMENT,
        POLICY,
        actor="pipeline",
        since=rollout.since,
        sleep=fake.sleep,
        clock=fake.clock,
    )
    assert outcome.action == "rolled_back" and outcome.polls == 1 and fake.sleeps == []
    assert outcome.deployment.canary is None and outcome.deployment.pinned_version is None
    assert resolve_traffic(rollout.db, DEPLOYMENT).primary == 1
    assert rollout.client.get_model_version("churn", "@production").version == 1
    events = deployment_events(rollout.db, DEPLOYMENT, limit=2)
    assert [e.action for e in events] == ["canary_cleared", "canary_judged"]
    judged = (events[1].details or {})["context"]["canary_verdict"]
    assert judged["decision"] == "rollback"
    assert judged["reasons"][0].startswith("error rate: the canary failed 30 of 60")


def test_the_watcher_stops_when_another_rollout_replaces_its_canary(rollout: Rollout) -> None:
    third = rollout.register()
    fake = FakeTime(rollout.since)
    fake.on_sleep = [lambda: start_canary(rollout.db, DEPLOYMENT, "churn", third, 0.2, actor="someone")]
    policy = CanaryPolicy.from_dict({**POLICY.to_dict(), "poll_interval": 60})
    with pytest.raises(Conflict, match="changed from version 2 to 3 while it was watched"):
        watch_canary(
            rollout.db,
            rollout.root,
            DEPLOYMENT,
            policy,
            actor="pipeline",
            sleep=fake.sleep,
            clock=fake.clock,
        )
    assert get_deployment(rollout.db, DEPLOYMENT).canary is not None  # left to whoever took over


# --- end to end: mlpilot serve, real requests over HTTP ------------------------------------------------


class FaultyClassifier(LogisticRegression):  # type: ignore[misc]
    """A model bug: predict raises on every row whose mean texture (the second feature) is above 21.5,
    about a quarter of the rows, and none of the input example's."""

    def predict(self, X: Any) -> Any:
        if (np.asarray(X, dtype=float)[:, 1] > 21.5).any():
            raise ValueError("a bug in the new version")
        return super().predict(X)


@pytest.fixture
def store(tmp_path: Path, isolated_env: Path) -> Iterator[Store]:
    home = tmp_path / "home"
    client = Client(f"sqlite:///{tmp_path / 'mlpilot.db'}", str(home / "artifacts"), settings=load_settings(home=home))
    secrets = {
        scope: key_service.create_key(client.db, f"{scope}-key", [scope], actor="test")[1]
        for scope in ("predict", "read", "write", "deploy")
    }
    yield Store(home, client, secrets["predict"], secrets["read"], secrets["write"], secrets["deploy"])
    client.close()


class Traffic:
    """Requests to the deployment from a thread, one row each, until stopped; versions seen by status."""

    def __init__(self, server: ServingServer, key: str) -> None:
        frame, _ = cancer_frame()
        self.rows = frame.sample(frac=1.0, random_state=0).to_dict("records")
        self.http = server.http(key)
        self.seen: list[tuple[int, int | None]] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._send, daemon=True)

    def _send(self) -> None:
        position = 0
        while not self.stopping.is_set():
            row = self.rows[position % len(self.rows)]
            response = self.http.post(f"/v1/deployments/{DEPLOYMENT}/predict", json={"instances": [row]})
            version = response.json().get("version") if response.status_code == 200 else None
            self.seen.append((response.status_code, version))
            position += 1
            time.sleep(0.005)

    def __enter__(self) -> Traffic:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=30)
        self.http.close()


def _served_versions(http: httpx.Client, count: int) -> set[int]:
    row = cancer_frame()[0].head(1).to_dict("records")
    seen = set()
    for _ in range(count):
        response = http.post(f"/v1/deployments/{DEPLOYMENT}/predict", json={"instances": row})
        assert response.status_code == 200, response.text
        seen.add(response.json()["version"])
    return seen


def _serve_with_canary(store: Store, challenger: LogisticRegression) -> ServingServer:
    frame, target = cancer_frame()
    store.register(LogisticRegression(max_iter=5000).fit(frame, target), frame, "cancer")
    store.register(challenger.fit(frame, target), frame, "cancer", alias="challenger")
    create_deployment(store.client.db, DEPLOYMENT, "cancer@production", actor="test")
    server = ServingServer(store.settings(serve_model=None)).start()
    start_canary(store.client.db, DEPLOYMENT, "cancer", "challenger", 0.5, actor="pipeline")
    deadline = time.monotonic() + 10
    with server.http(store.predict_key) as http:
        while _served_versions(http, 10) != {1, 2}:  # the workers picked the canary up
            assert time.monotonic() < deadline, "the canary never took traffic"
    return server


@pytest.mark.slow
def test_a_healthy_canary_under_real_traffic_is_promoted(store: Store) -> None:
    server = _serve_with_canary(store, LogisticRegression(max_iter=5000))
    db = store.client.db
    policy = CanaryPolicy(window=7, poll_interval=0.5, min_requests=20, max_latency_p99_ms=2_000)
    try:
        with Traffic(server, store.predict_key) as traffic:
            outcome = watch_canary(db, server.settings.resolved_predictions_uri(), DEPLOYMENT, policy, actor="pipeline")
        assert {status for status, _ in traffic.seen} == {200}
        assert outcome.action == "promoted", outcome.verdict.reasons
        assert outcome.verdict.canary.requests >= 20 and outcome.verdict.canary.error_rate == 0.0
        assert store.client.get_model_version("cancer", "@production").version == 2
        deadline = time.monotonic() + 10
        with server.http(store.predict_key) as http:
            while _served_versions(http, 10) != {2}:  # every request now goes to the new version
                assert time.monotonic() < deadline, "the promotion never reached serving"
    finally:
        server.stop()
    events = deployment_events(db, DEPLOYMENT, limit=2)
    assert [e.action for e in events] == ["promoted", "canary_set"]
    assert (events[0].details or {})["context"]["canary_verdict"]["decision"] == "promote"


@pytest.mark.slow
def test_a_canary_failing_real_requests_is_rolled_back_automatically(store: Store) -> None:
    server = _serve_with_canary(store, FaultyClassifier(max_iter=5000))
    db = store.client.db
    policy = CanaryPolicy(window=120, poll_interval=0.5, min_requests=20)
    started = time.monotonic()
    try:
        with Traffic(server, store.predict_key) as traffic:
            outcome = watch_canary(db, server.settings.resolved_predictions_uri(), DEPLOYMENT, policy, actor="pipeline")
        assert outcome.action == "rolled_back", outcome.verdict.reasons
        assert time.monotonic() - started < 60, "a failing canary is rolled back before its window ends"
        assert 500 in {status for status, _ in traffic.seen}
        failed = {check.name for check in outcome.verdict.failed}
        assert {"error_rate", "error_rate_increase"} <= failed
        assert outcome.verdict.primary.server_errors == 0 and outcome.verdict.canary.server_errors > 0
        assert store.client.get_model_version("cancer", "@production").version == 1
        deadline = time.monotonic() + 10
        with server.http(store.predict_key) as http:
            while _served_versions(http, 10) != {1}:  # the canary's share is back on the primary
                assert time.monotonic() < deadline, "the rollback never reached serving"
    finally:
        server.stop()
    actions = [e.action for e in deployment_events(db, DEPLOYMENT, limit=3)]
    assert actions == ["canary_cleared", "canary_judged", "canary_set"]
