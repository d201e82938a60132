"""search_runs: filter, order and page in SQL, then load only the page's runs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from mlpilot.errors import InvalidInput, NotFound
from mlpilot.store import Database
from mlpilot.store.paging import decode_token, encode_token
from mlpilot.store.schema import runs
from mlpilot.tracking.experiments import resolve_experiment
from mlpilot.tracking.loading import load_runs
from mlpilot.tracking.records import RunPage
from mlpilot.tracking.search_filter import (
    ATTRIBUTES,
    KEYED_TABLES,
    Condition,
    KeyedComparison,
    parse_field,
    parse_filter,
)

__all__ = ["MAX_RESULTS_LIMIT", "search_runs", "token_at"]

MAX_RESULTS_LIMIT = 50_000


def search_runs(
    db: Database,
    experiments: Sequence[str | int] | None = None,
    filter: str | None = None,
    order_by: Sequence[str] | None = None,
    max_results: int = 1000,
    page_token: str | None = None,
) -> RunPage:
    if not 1 <= max_results <= MAX_RESULTS_LIMIT:
        raise InvalidInput(f"max_results must be between 1 and {MAX_RESULTS_LIMIT}, got {max_results}")
    fingerprint = _fingerprint(experiments, filter, order_by)
    offset = _read_token(page_token, fingerprint)
    conditions = parse_filter(filter)
    query = sa.select(runs.c.id).select_from(runs)
    with db.read() as conn:
        if experiments is not None:
            ids = []
            for ref in experiments:
                found = resolve_experiment(conn, ref)
                if found is None:
                    raise NotFound(
                        f"experiment {ref!r} does not exist", hint="List experiments with `mlpilot experiments list`."
                    )
                ids.append(found.id)
            query = query.where(runs.c.experiment_id.in_(ids))
        query, joined = _apply_filter(query, conditions)
        query, ordering = _apply_order(query, order_by or [], joined)
        query = query.order_by(*ordering, runs.c.start_time.desc(), runs.c.id).limit(max_results + 1).offset(offset)
        page_ids = [row[0] for row in conn.execute(query)]
        more = len(page_ids) > max_results
        loaded = load_runs(conn, page_ids[:max_results])
    token = _make_token(offset + max_results, fingerprint) if more else None
    return RunPage(tuple(loaded), token)


def token_at(
    offset: int,
    experiments: Sequence[str | int] | None = None,
    filter: str | None = None,
    order_by: Sequence[str] | None = None,
) -> str | None:
    """The page token of a search that starts at ``offset`` (None for the first page): lets a
    caller jump to page N, as the web UI's pager does, without walking the pages before it."""
    if offset <= 0:
        return None
    return _make_token(offset, _fingerprint(experiments, filter, order_by))


def _apply_filter(
    query: sa.Select[Any], conditions: list[Condition]
) -> tuple[sa.Select[Any], dict[tuple[str, str], Any]]:
    """Top-level comparisons on metrics, params and tags become inner joins on (run, key): the
    planner can then walk the (key, value) index instead of testing every run, which is what
    keeps a filtered, ordered search over many runs in milliseconds."""
    joined: dict[tuple[str, str], Any] = {}
    for condition in conditions:
        if not isinstance(condition, KeyedComparison):
            query = query.where(condition)
            continue
        slot = (condition.field.kind, condition.field.key)
        alias = joined.get(slot)
        if alias is None:
            alias = KEYED_TABLES[condition.field.kind].alias(f"filter_{len(joined)}")
            query = query.join(alias, sa.and_(alias.c.run_id == runs.c.id, alias.c.key == condition.field.key))
            joined[slot] = alias
        query = query.where(condition.on(alias.c.value))
    return query, joined


def _apply_order(
    query: sa.Select[Any], order_by: Sequence[str], joined: dict[tuple[str, str], Any]
) -> tuple[sa.Select[Any], list[Any]]:
    ordering: list[Any] = []
    for position, clause in enumerate(order_by):
        text = clause.strip()
        descending = False
        lowered = text.lower()
        if lowered.endswith(" desc"):
            descending, text = True, text[:-5].rstrip()
        elif lowered.endswith(" asc"):
            text = text[:-4].rstrip()
        field = parse_field(text)
        if field.kind == "attributes":
            column: Any = ATTRIBUTES[field.key.lower()][0]
        elif field.kind in KEYED_TABLES:
            alias = joined.get((field.kind, field.key))
            if alias is None:
                alias = KEYED_TABLES[field.kind].alias(f"order_{position}")
                query = query.outerjoin(alias, sa.and_(alias.c.run_id == runs.c.id, alias.c.key == field.key))
            column = alias.c.value
        else:
            raise InvalidInput(
                f"cannot order by {clause!r}", hint="Order by metrics.*, params.*, tags.* or attributes."
            )
        # Runs without the value (or with NaN) go last in either direction.
        ordering.append((column.desc() if descending else column.asc()).nulls_last())
    return query, ordering


def _fingerprint(experiments: Sequence[str | int] | None, filter: str | None, order_by: Sequence[str] | None) -> str:
    payload = json.dumps([list(map(str, experiments)) if experiments else None, filter, list(order_by or [])])
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class _Position:
    """Where a search page starts. An offset, not a keyset: a search orders by any metric, param or
    tag, and a key would have to carry every ordering value of the previous page's last run."""

    offset: int
    query: str  # the fingerprint of the search it belongs to


def _make_token(offset: int, fingerprint: str) -> str:
    return encode_token(_Position(offset, fingerprint))


def _read_token(token: str | None, fingerprint: str) -> int:
    if not token:
        return 0
    position = decode_token(token, _Position)
    if position.query != fingerprint or position.offset < 0:
        raise InvalidInput(
            "the page token belongs to a different search",
            hint="Use a page token only with the same experiments, filter and order_by.",
        )
    return position.offset
