"""Ground-truth labels for served predictions, joined later to the prediction logs by prediction id.

A batch is checked whole before anything is stored: one malformed label refuses the batch, and
labels for ids that no served prediction has are reported back, never stored (they could never be
joined, and would hide a client sending the wrong ids).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlpilot.deployments.records import FeedbackResult
from mlpilot.deployments.stored import LIST_HINT, find_row
from mlpilot.errors import InvalidInput, NotFound
from mlpilot.store import Database
from mlpilot.store.clock import now_ms
from mlpilot.store.schema import feedback
from mlpilot.store.upsert import upsert_insert

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MAX_LABELS", "MAX_LABEL_CHARS", "Label", "read_feedback", "record_feedback"]

MAX_LABELS = 10_000
MAX_LABEL_CHARS = 1_000
Label = bool | int | float | str

_PREDICTION_ID = re.compile(r"^[A-Za-z0-9_\-]{1,32}$")
# Bound parameters per statement stay far below SQLite's and PostgreSQL's limits.
_CHUNK = 1_000
_SHOWN = 20


def _is_label(value: object) -> bool:
    if isinstance(value, bool | int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)  # JSON has no NaN or infinity
    return isinstance(value, str) and len(value) <= MAX_LABEL_CHARS


def _positions(bad: list[int]) -> str:
    shown = ", ".join(str(i) for i in bad[:_SHOWN])
    return shown + (f" and {len(bad) - _SHOWN} more" if len(bad) > _SHOWN else "")


def _check(labels: Sequence[tuple[str, object]]) -> list[tuple[str, Label]]:
    """The pairs, each checked, or InvalidInput naming the bad positions (never the values)."""
    if not isinstance(labels, Sequence) or isinstance(labels, str | bytes):
        raise InvalidInput(f"labels must be a list of (prediction_id, label) pairs, got {type(labels).__name__}")
    if len(labels) > MAX_LABELS:
        raise InvalidInput(
            f"labels holds {len(labels)} items; at most {MAX_LABELS:,} are accepted per call",
            hint=f"Split the labels into batches of {MAX_LABELS:,} or fewer.",
        )
    bad_items: list[int] = []
    bad_ids: list[int] = []
    bad_labels: list[int] = []
    clean: list[tuple[str, Label]] = []
    for position, item in enumerate(labels):
        if not isinstance(item, tuple | list) or len(item) != 2:
            bad_items.append(position)
            continue
        prediction_id, label = item
        if not isinstance(prediction_id, str) or not _PREDICTION_ID.match(prediction_id):
            bad_ids.append(position)
        elif not _is_label(label):
            bad_labels.append(position)
        else:
            clean.append((prediction_id, label))  # type: ignore[arg-type]  # _is_label checked the type
    problems = [
        f"labels at positions {_positions(found)} {what}"
        for found, what in (
            (bad_items, "are not (prediction_id, label) pairs"),
            (bad_ids, "have a prediction_id that is not 1 to 32 letters, digits, '_' or '-'"),
            (bad_labels, f"have a label that is not a number, a bool or a string of at most {MAX_LABEL_CHARS} chars"),
        )
        if found
    ]
    if problems:
        raise InvalidInput(
            "; ".join(problems) + "; nothing was stored",
            hint="Labels are JSON scalars: numbers (not NaN or infinity), strings or booleans.",
        )
    return clean


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _require(conn: Connection, deployment: str) -> None:
    if find_row(conn, deployment) is None:
        raise NotFound(f"deployment {deployment!r} does not exist", hint=LIST_HINT)


def record_feedback(
    db: Database,
    deployment: str,
    labels: Sequence[tuple[str, object]],
    *,
    known_ids: Callable[[Sequence[str]], set[str]],
    actor: str,
    registered: bool = True,
) -> FeedbackResult:
    """Store a label per ``(prediction_id, label)``; a second label for a prediction replaces the first.

    ``known_ids`` gets the distinct ids and returns those the deployment actually served (it reads
    the prediction logs, which are not in this database); only those labels are stored. ``registered``
    False is for a deployment that exists only while `mlpilot serve` runs (not in this database).
    """
    pairs = _check(labels)
    if registered:
        with db.read() as conn:
            _require(conn, deployment)
    latest = dict(pairs)  # a later label of the same batch wins, as a later batch's would
    ids = list(latest)
    known = known_ids(ids) if ids else set()
    unknown = [i for i in ids if i not in known]
    stored = [i for i in ids if i in known]
    repeats = Counter(i for i, _ in pairs if i in known).total() - len(stored)
    when = now_ms()
    with db.write() as conn:
        if registered:
            _require(conn, deployment)
        existing = 0
        for chunk in _chunks(stored):
            existing += len(
                conn.execute(
                    sa.select(feedback.c.id).where(
                        feedback.c.deployment == deployment, feedback.c.prediction_id.in_(chunk)
                    )
                ).all()
            )
        if stored:
            insert = upsert_insert(db.dialect, feedback)
            upsert = insert.on_conflict_do_update(
                index_elements=["deployment", "prediction_id"],
                set_={column: insert.excluded[column] for column in ("label", "actor", "created_at")},
            )
            common = {"deployment": deployment, "actor": actor, "created_at": when}
            conn.execute(upsert, [{**common, "prediction_id": i, "label": latest[i]} for i in stored])
    return FeedbackResult(accepted=len(stored) - existing, updated=existing + repeats, unknown_ids=unknown)


def read_feedback(db: Database, deployment: str, *, since: int | None = None, until: int | None = None) -> pd.DataFrame:
    """The labels of ``deployment`` given in ``since <= created_at < until`` (epoch ms), oldest first.

    Columns: prediction_id, label, created_at. Feedback outlives its deployment, so a deleted
    deployment's labels stay readable; NotFound only when the name has neither.
    """
    import pandas as pd

    query = sa.select(feedback.c.prediction_id, feedback.c.label, feedback.c.created_at).where(
        feedback.c.deployment == deployment
    )
    if since is not None:
        query = query.where(feedback.c.created_at >= since)
    if until is not None:
        query = query.where(feedback.c.created_at < until)
    with db.read() as conn:
        rows = conn.execute(query.order_by(feedback.c.created_at, feedback.c.id)).all()
        if not rows and find_row(conn, deployment) is None:
            any_label = conn.execute(sa.select(feedback.c.id).where(feedback.c.deployment == deployment).limit(1))
            if any_label.first() is None:
                raise NotFound(f"deployment {deployment!r} does not exist and has no feedback", hint=LIST_HINT)
    frame = pd.DataFrame(
        {
            "prediction_id": pd.Series([row[0] for row in rows], dtype="object"),
            "label": pd.Series([row[1] for row in rows], dtype="object"),
            "created_at": pd.Series([row[2] for row in rows], dtype="int64"),
        }
    )
    return frame
