"""Turn run ids into full Run records with a fixed number of queries, whatever the page size."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlpilot.store.schema import (
    dataset_versions,
    datasets,
    experiments,
    latest_metrics,
    params,
    run_inputs,
    run_tags,
    runs,
)
from mlpilot.tracking.records import DatasetInput, Run, RunStatus

__all__ = ["load_runs"]


_IDS: sa.BindParameter[list[str]] = sa.bindparam("ids", expanding=True)

# Built once: constructing and coercing SQLAlchemy statements costs more than running these
# indexed queries, and prebuilt statements keep their compiled form cached.
_RUNS = (
    sa.select(runs, experiments.c.name.label("experiment_name"))
    .join(experiments, experiments.c.id == runs.c.experiment_id)
    .where(runs.c.id.in_(_IDS))
)
_PARAMS = sa.select(params.c.run_id, params.c.key, params.c.value).where(params.c.run_id.in_(_IDS))
_TAGS = sa.select(run_tags.c.run_id, run_tags.c.key, run_tags.c.value).where(run_tags.c.run_id.in_(_IDS))
_METRICS = sa.select(latest_metrics.c.run_id, latest_metrics.c.key, latest_metrics.c.value).where(
    latest_metrics.c.run_id.in_(_IDS)
)
_INPUTS = (
    sa.select(
        run_inputs.c.run_id,
        datasets.c.name,
        dataset_versions.c.version,
        run_inputs.c.role,
        dataset_versions.c.content_hash,
    )
    .join(dataset_versions, dataset_versions.c.id == run_inputs.c.dataset_version_id)
    .join(datasets, datasets.c.id == dataset_versions.c.dataset_id)
    .where(run_inputs.c.run_id.in_(_IDS))
    .order_by(run_inputs.c.created_at)
)


def load_runs(conn: Connection, ids: Sequence[str]) -> list[Run]:
    """Runs in the order of ``ids``; unknown ids are skipped."""
    if not ids:
        return []
    bind = {"ids": list(ids)}
    by_id = {row["id"]: row for row in conn.execute(_RUNS, bind).mappings()}
    if not by_id:
        return []

    param_map: dict[str, dict[str, str]] = defaultdict(dict)
    for run_id, key, value in conn.execute(_PARAMS, bind):
        param_map[run_id][key] = value
    tag_map: dict[str, dict[str, str]] = defaultdict(dict)
    for run_id, key, value in conn.execute(_TAGS, bind):
        tag_map[run_id][key] = value
    metric_map: dict[str, dict[str, float]] = defaultdict(dict)
    for run_id, key, value in conn.execute(_METRICS, bind):
        metric_map[run_id][key] = math.nan if value is None else float(value)
    input_map: dict[str, list[DatasetInput]] = defaultdict(list)
    for run_id, name, version, role, content_hash in conn.execute(_INPUTS, bind):
        input_map[run_id].append(DatasetInput(name, version, role, content_hash))

    result = []
    for run_id in ids:
        row = by_id.get(run_id)
        if row is None:
            continue
        result.append(
            Run(
                id=row["id"],
                experiment_id=row["experiment_id"],
                experiment_name=row["experiment_name"],
                name=row["name"],
                status=RunStatus(row["status"]),
                start_time=row["start_time"],
                end_time=row["end_time"],
                user=row["user"],
                parent_run_id=row["parent_run_id"],
                entry_point=row["entry_point"],
                git_commit=row["git_commit"],
                git_dirty=row["git_dirty"],
                git_diff_hash=row["git_diff_hash"],
                git_committed_at=row["git_committed_at"],
                environment_hash=row["environment_hash"],
                params=param_map.get(run_id, {}),
                metrics=metric_map.get(run_id, {}),
                tags=tag_map.get(run_id, {}),
                inputs=tuple(input_map.get(run_id, ())),
            )
        )
    return result
