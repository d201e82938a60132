"""Canary rollouts: judge a deployment's canary against its primary, and promote or roll it back.

``start_canary`` sends a share of a deployment's traffic to a version; ``judge_canary`` compares
the two versions once, over the requests since the canary started; ``watch_canary`` judges every
``poll_interval`` until there is a verdict, then acts on it:

- a check that fails (with enough data behind it) rolls the canary back at once, before the window
  ends: a canary that already fails callers should not keep failing them;
- once the window is over and every required check passed, the canary is promoted;
- a canary with too little data at the window's end gets ``policy.on_insufficient_data``
  (rollback by default: what was not shown to be safe is not promoted).

Rolling a canary back removes it (every request goes to the primary again); the primary itself is
not touched, and the verdict is a ``canary_judged`` event recorded just before the canary's
``canary_cleared``. Promoting it is ``promote_deployment``: the followed alias (``production``)
moves to the canary's version, and the verdict goes into the ``promoted`` event's context. Either
way ``details["context"]["canary_verdict"]`` holds the decision, its reasons, every check, both
versions' figures and the policy.

Traffic comes from the request counts (per served version and minute, so a window's first minute
counts whole), latency and live metrics from the prediction log and the labels given as feedback.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from mlpilot.deployments import (
    Deployment,
    get_deployment,
    promote_deployment,
    read_feedback,
    resolve_traffic,
    update_deployment,
)
from mlpilot.deployments.events import record_event
from mlpilot.deployments.request_counts import MINUTE_MS, read_request_counts
from mlpilot.deployments.rollout import check_cause
from mlpilot.errors import Conflict, InvalidInput
from mlpilot.monitoring.canary_checks import PENDING, CanaryCheck, VersionStats, policy_checks, version_stats
from mlpilot.monitoring.canary_policy import CanaryPolicy
from mlpilot.prediction_log import read_predictions
from mlpilot.store import Database
from mlpilot.store.clock import now_ms

__all__ = [
    "CanaryCheck",
    "CanaryOutcome",
    "CanaryPolicy",
    "CanaryVerdict",
    "VersionStats",
    "judge_canary",
    "start_canary",
    "watch_canary",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CanaryVerdict:
    """One judgement of a deployment's canary over ``since <= time < until`` (epoch ms).

    ``decision`` is "promote", "rollback" or "wait"; ``reasons`` say why, one sentence each (every
    failed check for a rollback). ``insufficient_data`` marks a decision the policy's
    ``on_insufficient_data`` made because some required check never got enough data.
    """

    deployment: str
    model: str
    decision: str
    reasons: tuple[str, ...]
    canary: VersionStats
    primary: VersionStats
    checks: tuple[CanaryCheck, ...]
    since: int
    until: int
    window_over: bool
    insufficient_data: bool

    @property
    def failed(self) -> list[CanaryCheck]:
        return [check for check in self.checks if check.status == "fail"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "deployment": self.deployment,
            "model": self.model,
            "decision": self.decision,
            "reasons": list(self.reasons),
            "canary": self.canary.to_dict(),
            "primary": self.primary.to_dict(),
            "checks": [check.to_dict() for check in self.checks],
            "since": self.since,
            "until": self.until,
            "window_over": self.window_over,
            "insufficient_data": self.insufficient_data,
        }


@dataclass(frozen=True, slots=True)
class CanaryOutcome:
    """What ``watch_canary`` did: ``action`` is "promoted" or "rolled_back", ``deployment`` the
    deployment after it, ``verdict`` the judgement acted on, ``polls`` how many judgements it took."""

    action: str
    verdict: CanaryVerdict
    deployment: Deployment
    polls: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "verdict": self.verdict.to_dict(),
            "deployment": self.deployment.to_dict(),
            "polls": self.polls,
        }


def start_canary(
    db: Database, deployment: str, model: str, version_or_alias: int | str, weight: float, *, actor: str
) -> Deployment:
    """Send ``weight`` (0 < weight < 1) of ``deployment``'s requests to ``model``'s version or alias;
    the change is the deployment's ``canary_set`` event. Setting the canary it already has changes
    nothing and records nothing."""
    current = get_deployment(db, deployment)
    if current.model != model:
        raise Conflict(
            f"deployment {deployment!r} serves model {current.model!r}, not {model!r}",
            hint=f"A canary is another version of {current.model!r}; {model!r} needs its own deployment.",
        )
    return update_deployment(db, deployment, canary=(version_or_alias, weight), actor=actor)


def _window_rows(predictions_root: str, deployment: str, since: int, until: int) -> pd.DataFrame:
    rows = read_predictions(predictions_root, deployment, since=since, until=until)
    # A shadow answers requests the primary already answered; its rows are no one's traffic.
    return rows[rows["role"] != "shadow"]


def judge_canary(
    db: Database,
    predictions_root: str,
    deployment: str,
    policy: CanaryPolicy,
    since: int,
    now: int,
) -> CanaryVerdict:
    """Judge ``deployment``'s canary against its primary over ``since <= time < now`` (epoch ms).

    Conflict when the deployment has no canary, or its canary serves the primary's own version.
    """
    for name, value in (("since", since), ("now", now)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"{name} must be epoch milliseconds (an int), got {value!r}")
    traffic = resolve_traffic(db, deployment)
    if traffic.canary is None:
        raise Conflict(
            f"deployment {deployment!r} has no canary to judge",
            hint="Start one first: start_canary(db, deployment, model, version_or_alias, weight, actor=...).",
        )
    canary_version = traffic.canary[0]
    if canary_version == traffic.primary:
        raise Conflict(
            f"deployment {deployment!r} serves version {canary_version} as both primary and canary",
            hint="Point the canary at the version to try out, or remove it.",
        )
    rows = _window_rows(predictions_root, deployment, since, now)
    labels = read_feedback(db, deployment, since=since)
    first_minute = since // MINUTE_MS * MINUTE_MS
    sides = {}
    for role, version in (("canary", canary_version), ("primary", traffic.primary)):
        counts = read_request_counts(db, deployment, first_minute, now, version=version)
        sides[role] = version_stats(version, role, counts, rows[rows["version"] == version], labels, policy)
    checks = policy_checks(policy, sides["canary"], sides["primary"])
    window_over = now - since >= policy.window_ms
    decision, reasons, insufficient = _decide(policy, checks, now - since)
    return CanaryVerdict(
        deployment=deployment,
        model=traffic.model,
        decision=decision,
        reasons=tuple(reasons),
        canary=sides["canary"],
        primary=sides["primary"],
        checks=tuple(checks),
        since=since,
        until=now,
        window_over=window_over,
        insufficient_data=insufficient,
    )


def _decide(policy: CanaryPolicy, checks: list[CanaryCheck], elapsed_ms: int) -> tuple[str, list[str], bool]:
    failed = [check.message for check in checks if check.status == "fail"]
    if failed:
        return "rollback", failed, False
    pending = [check.message for check in checks if check.status == PENDING and check.required]
    if elapsed_ms < policy.window_ms:
        return "wait", [f"the window ends in {(policy.window_ms - elapsed_ms) / 1000:.0f} s", *pending], False
    if pending and elapsed_ms < policy.max_window_ms:
        left = (policy.max_window_ms - elapsed_ms) / 1000
        return "wait", [*pending, f"the window is over; waiting up to {left:.0f} s more for enough data"], False
    if pending:
        choice = policy.on_insufficient_data
        ended = "the window ended" if policy.max_window is None else f"the watch ended ({policy.max_window:g} s)"
        return choice, [*pending, f"too little data when {ended}: the policy says {choice}"], True
    return "promote", [check.message for check in checks], False


def watch_canary(
    db: Database,
    predictions_root: str,
    deployment: str,
    policy: CanaryPolicy,
    *,
    actor: str,
    since: int | None = None,
    cause: str | None = None,
    context: Mapping[str, Any] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], int] = now_ms,
) -> CanaryOutcome:
    """Judge the canary every ``policy.poll_interval`` seconds until a verdict, then act on it.

    The window starts at ``since`` (epoch ms; default: now, as this is called). ``clock`` gives
    epoch ms and ``sleep`` waits seconds. ``cause`` is the promotion's (see ``promote_deployment``;
    None: planned) and ``context`` (e.g. a pipeline run id) is stored beside the verdict in the
    ``promoted`` or ``canary_judged`` event. Conflict when the deployment's canary changes while
    it is watched (another rollout took over): nothing is promoted or rolled back then.
    """
    # Both are refused now rather than after a whole window of watching.
    if cause is not None:
        check_cause(cause)
    _check_context(context)
    start = clock() if since is None else since
    watched = resolve_traffic(db, deployment).canary
    if watched is None:
        raise Conflict(
            f"deployment {deployment!r} has no canary to watch",
            hint="Start one first: start_canary(db, deployment, model, version_or_alias, weight, actor=...).",
        )
    polls = 0
    while True:
        now = clock()
        verdict = judge_canary(db, predictions_root, deployment, policy, start, now)
        polls += 1
        _same_canary(deployment, watched[0], verdict.canary.version)
        if verdict.decision != "wait":
            break
        log.info("canary of %s: wait (%s)", deployment, "; ".join(verdict.reasons))
        deadline = start + (policy.window_ms if now - start < policy.window_ms else policy.max_window_ms)
        sleep(max(0.0, min(policy.poll_interval, (deadline - now) / 1000)))
    return _act(db, deployment, policy, verdict, actor=actor, polls=polls, cause=cause, context=context)


def _check_context(context: Mapping[str, Any] | None) -> None:
    if context is None:
        return
    try:
        json.dumps(dict(context), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            f"context must be a mapping of JSON values: {exc}", hint='For example {"pipeline_run": "…"}.'
        ) from exc


def _same_canary(deployment: str, watched: int, now: int) -> None:
    if now != watched:
        raise Conflict(
            f"the canary of deployment {deployment!r} changed from version {watched} to {now} while it was watched",
            hint="Watch the new canary from its start; the old one's verdict no longer applies.",
        )


def _act(
    db: Database,
    deployment: str,
    policy: CanaryPolicy,
    verdict: CanaryVerdict,
    *,
    actor: str,
    polls: int,
    cause: str | None,
    context: Mapping[str, Any] | None,
) -> CanaryOutcome:
    traffic = resolve_traffic(db, deployment)
    _same_canary(deployment, verdict.canary.version, traffic.canary[0] if traffic.canary else 0)
    record = {**(context or {}), "canary_verdict": _record(verdict, policy, polls)}
    level = logging.INFO if verdict.decision == "promote" else logging.WARNING
    log.log(level, "canary of %s: %s (%s)", deployment, verdict.decision, "; ".join(verdict.reasons))
    if verdict.decision == "promote":
        # The verdict rides in the promotion's own event, committed with the alias move.
        promoted = promote_deployment(db, deployment, actor=actor, cause=cause, context=record)
        return CanaryOutcome("promoted", verdict, promoted, polls)
    # Recorded before acting, so the trail says why even when removing the canary is then refused;
    # under "context", as in a promotion's event, so both outcomes are read the same way.
    with db.write() as conn:
        record_event(conn, deployment, "canary_judged", actor, now_ms(), context=record)
    # Only the canary goes: the primary served well all along (rollback_deployment would step it back).
    cleared = update_deployment(db, deployment, canary=None, actor=actor)
    return CanaryOutcome("rolled_back", verdict, cleared, polls)


def _record(verdict: CanaryVerdict, policy: CanaryPolicy, polls: int) -> dict[str, Any]:
    """What the event keeps of a verdict: the decision first, then everything it was based on."""
    return {
        "decision": verdict.decision,
        "canary_version": verdict.canary.version,
        "primary_version": verdict.primary.version,
        "reasons": list(verdict.reasons),
        "verdict": verdict.to_dict(),
        "policy": policy.to_dict(),
        "polls": polls,
    }
