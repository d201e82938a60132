"""One call, one transaction: metrics, params and tags of a run written together."""

from __future__ import annotations

from collections.abc import Mapping

from mlpilot.store import Database
from mlpilot.tracking.metrics import Point, append_points
from mlpilot.tracking.runs import clean_params, clean_tags, require_running, write_params, write_tags

__all__ = ["log_batch"]


def log_batch(
    db: Database,
    run_id: str,
    points: list[Point],
    params: Mapping[str, object] | None = None,
    tags: Mapping[str, object] | None = None,
) -> None:
    """All or nothing: a param conflict or an ended run leaves the store unchanged."""
    params_clean = clean_params(params or {})
    tags_clean = clean_tags(tags or {})
    if not (points or params_clean or tags_clean):
        return
    with db.write() as conn:
        require_running(conn, run_id)
        if params_clean:
            write_params(conn, run_id, params_clean)
        if tags_clean:
            write_tags(db, conn, run_id, tags_clean)
        append_points(db, conn, points)
