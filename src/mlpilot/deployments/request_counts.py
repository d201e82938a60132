"""Requests and errors per deployment, served version and minute: what a monitor's error rate and a
canary's verdict are computed from.

Serving workers add their counts every few seconds (an upsert that adds, so any number of workers
and replicas can write the same minute); monitors sum the minutes of a window, over every version
or over one. Version 0 holds the requests refused before a version was chosen (bad key, bad body,
an unready deployment), so every request is counted once, under exactly one version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from mlpilot.store import Database
from mlpilot.store.schema import request_counts
from mlpilot.store.upsert import upsert_insert

__all__ = [
    "MINUTE_MS",
    "UNKNOWN_VERSION",
    "CountKey",
    "RequestCounts",
    "add_request_counts",
    "read_request_counts",
    "request_series",
]

MINUTE_MS = 60_000
UNKNOWN_VERSION = 0
# (deployment, served version, minute start in epoch ms).
CountKey = tuple[str, int, int]


@dataclass(frozen=True, slots=True)
class RequestCounts:
    requests: int = 0
    server_errors: int = 0  # 5xx: the deployment failed the caller
    client_errors: int = 0  # 4xx: the caller sent something wrong (a rise may still mean a broken client)

    def __add__(self, other: RequestCounts) -> RequestCounts:
        return RequestCounts(
            self.requests + other.requests,
            self.server_errors + other.server_errors,
            self.client_errors + other.client_errors,
        )

    @property
    def error_rate(self) -> float | None:
        return self.server_errors / self.requests if self.requests else None

    def to_dict(self) -> dict[str, float | int | None]:
        return {
            "requests": self.requests,
            "server_errors": self.server_errors,
            "client_errors": self.client_errors,
            "error_rate": self.error_rate,
        }


def _with_version(key: CountKey | tuple[str, int]) -> CountKey:
    if len(key) == 2:
        deployment, minute = key
        return deployment, UNKNOWN_VERSION, minute
    return key


def add_request_counts(
    db: Database, counts: Mapping[CountKey, RequestCounts] | Mapping[tuple[str, int], RequestCounts]
) -> None:
    """Add ``counts`` to what is stored. Keys are (deployment, version, minute start in epoch ms);
    a (deployment, minute) key counts under version 0, not known."""
    if not counts:
        return
    # One order for every writer, so concurrent upserts of the same minutes cannot deadlock.
    keyed = sorted((_with_version(key), added) for key, added in counts.items())
    with db.write() as conn:
        for (deployment, version, minute), added in keyed:
            insert = upsert_insert(db.dialect, request_counts).values(
                deployment=deployment,
                version=version,
                minute=minute,
                requests=added.requests,
                server_errors=added.server_errors,
                client_errors=added.client_errors,
            )
            conn.execute(
                insert.on_conflict_do_update(
                    index_elements=["deployment", "version", "minute"],
                    set_={
                        "requests": request_counts.c.requests + insert.excluded.requests,
                        "server_errors": request_counts.c.server_errors + insert.excluded.server_errors,
                        "client_errors": request_counts.c.client_errors + insert.excluded.client_errors,
                    },
                )
            )


def read_request_counts(
    db: Database, deployment: str, since: int, until: int, version: int | None = None
) -> RequestCounts:
    """The sums over the minutes that start in ``since <= minute < until``: of ``version`` only
    (0 for the requests refused before a version was chosen), or of every version when None."""
    query = sa.select(
        sa.func.coalesce(sa.func.sum(request_counts.c.requests), 0),
        sa.func.coalesce(sa.func.sum(request_counts.c.server_errors), 0),
        sa.func.coalesce(sa.func.sum(request_counts.c.client_errors), 0),
    ).where(
        request_counts.c.deployment == deployment,
        request_counts.c.minute >= since,
        request_counts.c.minute < until,
    )
    if version is not None:
        query = query.where(request_counts.c.version == version)
    with db.read() as conn:
        row = conn.execute(query).one()
    return RequestCounts(int(row[0]), int(row[1]), int(row[2]))


def request_series(db: Database, deployment: str, since: int, until: int) -> list[tuple[int, RequestCounts]]:
    """Per minute (start in epoch ms, oldest first) over every version: the web UI's rate charts.
    Minutes without requests are absent."""
    query = (
        sa.select(
            request_counts.c.minute,
            sa.func.sum(request_counts.c.requests),
            sa.func.sum(request_counts.c.server_errors),
            sa.func.sum(request_counts.c.client_errors),
        )
        .where(
            request_counts.c.deployment == deployment,
            request_counts.c.minute >= since,
            request_counts.c.minute < until,
        )
        .group_by(request_counts.c.minute)
        .order_by(request_counts.c.minute)
    )
    with db.read() as conn:
        return [(int(row[0]), RequestCounts(int(row[1]), int(row[2]), int(row[3]))) for row in conn.execute(query)]
