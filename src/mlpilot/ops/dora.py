"""DORA's five software-delivery metrics, computed from the platform's own audit trails.

* **Deployment frequency**: deployments in the window, per day and week, and the median time
  between them. A deployment is a change of the version a deployment serves as primary (see
  ``mlpilot.ops.history``), whether by creating, updating, promoting, rolling back, or moving an
  alias the deployment follows.
* **Change lead time**: from the committer time of the git commit the version's training run
  recorded to the first time a deployment served that version. Re-serving an older version (a
  rollback) is no new change and has no lead time; versions without a commit time are left out
  and counted in ``excluded``.
* **Change fail rate**: the share of deployments replaced by a rollback or an unplanned fix (a
  deployment whose cause is ``incident`` or ``hotfix``). Failures are judged with everything known
  when the report is made, so a deployment near the window's end still counts as failed when its
  rollback came later.
* **Failed deployment recovery time**: from a failed deployment to the rollback or fix that
  replaced it.
* **Deployment rework rate**: the share of deployments that were unplanned (rollbacks, hot fixes,
  deployments an incident caused, retrainings drift forced).

Each comes with its DORA 2024 band (``mlpilot.ops.bands``), or "n/a" and why.
"""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence

import sqlalchemy as sa

from mlpilot.errors import InvalidInput, NotFound
from mlpilot.ops.bands import (
    BANDS_YEAR,
    DAY_MS,
    change_fail_band,
    frequency_band,
    lead_time_band,
    no_data,
    recovery_band,
    rework_band,
)
from mlpilot.ops.history import Change, commit_times, load_changes
from mlpilot.ops.records import (
    AssessedChange,
    ChangeFailRate,
    ChangeLeadTime,
    DeploymentFrequency,
    DoraMetrics,
    DoraReport,
    RecoveryTime,
    ReworkRate,
)
from mlpilot.store import Database
from mlpilot.store.clock import now_ms
from mlpilot.store.schema import deployment_events

__all__ = ["assess", "dora_metrics", "metrics_of"]

_NONE_IN_WINDOW = "no deployments in the window"


def dora_metrics(
    db: Database,
    *,
    since: int | None = None,
    until: int | None = None,
    deployment: str | None = None,
    now: int | None = None,
) -> DoraReport:
    """The DORA metrics of every deployment (or ``deployment``) between ``since`` and ``until``
    (epoch ms, both included; None: from the first deployment, up to ``now``)."""
    moment = now_ms() if now is None else _instant(now, "now")
    start = None if since is None else _instant(since, "since")
    end = moment if until is None else _instant(until, "until")
    if start is not None and start > end:
        raise InvalidInput(f"since ({start}) is after until ({end})", hint="Give a since before until.")
    with db.read() as conn:
        if deployment is not None and _never_existed(conn, deployment):
            raise NotFound(
                f"deployment {deployment!r} does not exist and has no history",
                hint="List deployments with `mlpilot deployments list`.",
            )
        changes = load_changes(conn, deployment)
        committed = commit_times(conn, {(change.model, change.version) for change in changes})
    return assess(changes, committed, since=start, until=end, now=moment, deployment=deployment)


def _instant(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"{name} must be epoch milliseconds (a whole number of at least 0), got {value!r}")
    return value


def _never_existed(conn: sa.Connection, name: str) -> bool:
    found = conn.execute(sa.select(deployment_events.c.id).where(deployment_events.c.deployment == name).limit(1))
    return found.first() is None


def assess(
    changes: Sequence[Change],
    committed: Mapping[tuple[str, int], int | None],
    *,
    since: int | None,
    until: int,
    now: int,
    deployment: str | None = None,
) -> DoraReport:
    """The report over ``changes`` (every deployment's whole history, oldest first): the ones in
    the window are measured, the rest say which versions are new and which deployments failed."""
    assessed = _assessed(changes, committed, now)
    inside = [item for item in assessed if (since is None or item.at >= since) and item.at <= until]
    start = since if since is not None else (inside[0].at if inside else None)
    grouped: dict[str, list[AssessedChange]] = defaultdict(list)
    for item in inside:
        grouped[item.change.deployment].append(item)
    # Rates count the time that has passed: a window ending next year is not a year long yet.
    end = min(until, now)
    return DoraReport(
        since=since,
        until=until,
        window_start=start,
        generated_at=now,
        deployment=deployment,
        bands_year=BANDS_YEAR,
        metrics=metrics_of(inside, start, end),
        by_deployment={name: metrics_of(items, start, end) for name, items in sorted(grouped.items())},
        changes=tuple(inside),
    )


def _assessed(
    changes: Sequence[Change], committed: Mapping[tuple[str, int], int | None], now: int
) -> list[AssessedChange]:
    ordered = sorted(changes, key=lambda change: (change.at, change.deployment))
    following: dict[int, Change] = {}
    last: dict[str, int] = {}
    for position, change in enumerate(ordered):
        if change.deployment in last:
            following[last[change.deployment]] = change
        last[change.deployment] = position
    served: set[tuple[str, str, int]] = set()
    result = []
    for position, change in enumerate(ordered):
        key = (change.deployment, change.model, change.version)
        new, commit = key not in served, committed.get((change.model, change.version))
        served.add(key)
        replaced = following.get(position)
        # Failed: what replaced it remediated (rollback, hotfix, incident; not drift) and replaced
        # this very version (a deployment deleted and created again starts from nothing).
        failed = (
            replaced is not None
            and replaced.remediates
            and replaced.from_version == change.version
            and replaced.at <= now
        )
        result.append(
            AssessedChange(
                change=change,
                committed_at=commit,
                new_version=new,
                lead_time_ms=max(0, change.at - commit) if new and commit is not None else None,
                failed=failed,
                recovery_ms=replaced.at - change.at if failed and replaced is not None else None,
            )
        )
    return result


def metrics_of(items: Sequence[AssessedChange], start: int | None, end: int) -> DoraMetrics:
    """The five metrics of ``items`` (deployments in a window from ``start`` to ``end``)."""
    total = len(items)
    failed = [item for item in items if item.failed]
    unplanned = sum(1 for item in items if item.change.unplanned)
    return DoraMetrics(
        deployment_frequency=_frequency(items, start, end),
        change_lead_time=_lead_time(items),
        change_fail_rate=ChangeFailRate(
            failed=len(failed),
            total=total,
            rate=len(failed) / total if total else None,
            band=change_fail_band(len(failed) / total) if total else no_data(_NONE_IN_WINDOW),
        ),
        failed_deployment_recovery_time=_recovery(failed, total),
        deployment_rework_rate=ReworkRate(
            unplanned=unplanned,
            total=total,
            rate=unplanned / total if total else None,
            band=rework_band() if total else no_data(_NONE_IN_WINDOW),
        ),
    )


def _frequency(items: Sequence[AssessedChange], start: int | None, end: int) -> DeploymentFrequency:
    # A window shorter than a day counts as a day: two deployments in a minute are not 2,880 a day.
    days = max((end - start) / DAY_MS, 1.0) if start is not None else 1.0
    per_day = len(items) / days
    times = sorted(item.at for item in items)
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    return DeploymentFrequency(
        count=len(items),
        days=days,
        per_day=per_day,
        per_week=per_day * 7,
        median_between_ms=float(statistics.median(gaps)) if gaps else None,
        band=frequency_band(per_day) if items else no_data(_NONE_IN_WINDOW),
    )


def _lead_time(items: Sequence[AssessedChange]) -> ChangeLeadTime:
    new = [item for item in items if item.new_version]
    times = [float(item.lead_time_ms) for item in new if item.lead_time_ms is not None]
    excluded = sum(1 for item in new if item.committed_at is None)
    if not times:
        why = "no deployment of a new version in the window"
        if excluded:
            why = f"no commit time for any of the {excluded} new versions deployed (their runs recorded none)"
        return ChangeLeadTime(None, None, 0, excluded, no_data(why))
    median = float(statistics.median(times))
    return ChangeLeadTime(median, _quantile(times, 0.9), len(times), excluded, lead_time_band(median))


def _recovery(failed: Sequence[AssessedChange], total: int) -> RecoveryTime:
    times = [float(item.recovery_ms) for item in failed if item.recovery_ms is not None]
    if not times:
        return RecoveryTime(None, 0, no_data("no failed deployments in the window" if total else _NONE_IN_WINDOW))
    median = float(statistics.median(times))
    return RecoveryTime(median, len(times), recovery_band(median))


def _quantile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
