"""Domain records of dataset versioning: immutable, plain, JSON-safe data."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CategoryChange",
    "DatasetDiff",
    "DatasetSummary",
    "DatasetVersion",
    "DtypeChange",
    "StatChange",
    "json_safe",
]


def json_safe(value: Any) -> Any:
    """Copy ``value`` with every NaN or infinity replaced by None, since JSON has neither and
    PostgreSQL rejects them; the profile code already avoids them, this guards stored rows."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [json_safe(item) for item in value]
    return value


@dataclass(frozen=True, slots=True)
class DatasetVersion:
    """One immutable version of a named dataset. ``content_hash`` identifies the data itself;
    ``storage_sha256`` names the Parquet copy in the artifact store. Times are epoch ms."""

    id: int
    dataset: str
    version: int
    content_hash: str
    rows: int
    schema: dict[str, Any]
    profile: dict[str, Any]
    storage_sha256: str
    size: int
    source: str | None
    created_at: int

    @property
    def ref(self) -> str:
        return f"{self.dataset}:{self.version}"

    @property
    def columns(self) -> list[str]:
        return [field["name"] for field in self.schema.get("fields", [])]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "dataset": self.dataset,
            "version": self.version,
            "content_hash": self.content_hash,
            "rows": self.rows,
            "schema": json_safe(self.schema),
            "profile": json_safe(self.profile),
            "storage_sha256": self.storage_sha256,
            "size": self.size,
            "source": self.source,
            "created_at": self.created_at,
        }


@dataclass(frozen=True, slots=True)
class DatasetSummary:
    name: str
    latest_version: int
    versions: int
    created_at: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "latest_version": self.latest_version,
            "versions": self.versions,
            "created_at": self.created_at,
        }


@dataclass(frozen=True, slots=True)
class DtypeChange:
    column: str
    before: str
    after: str

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "before": self.before, "after": self.after}


@dataclass(frozen=True, slots=True)
class StatChange:
    """One statistic of one column in both versions; None where a side has no value."""

    column: str
    stat: str
    before: float | None
    after: float | None

    @property
    def delta(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return _finite_or_none(self.after - self.before)

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "stat": self.stat,
            "before": _finite_or_none(self.before),
            "after": _finite_or_none(self.after),
            "delta": self.delta,
        }


@dataclass(frozen=True, slots=True)
class CategoryChange:
    """How a categorical column moved: its distinct count, null share and most frequent values.

    ``new_values`` are frequent values of the newer version that were not frequent before;
    ``missing_values`` the reverse. Both compare the stored top-k lists, not every value."""

    column: str
    distinct_before: int | None
    distinct_after: int | None
    null_share_before: float | None
    null_share_after: float | None
    new_values: tuple[str, ...]
    missing_values: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "distinct_before": self.distinct_before,
            "distinct_after": self.distinct_after,
            "null_share_before": _finite_or_none(self.null_share_before),
            "null_share_after": _finite_or_none(self.null_share_after),
            "new_values": list(self.new_values),
            "missing_values": list(self.missing_values),
        }


@dataclass(frozen=True, slots=True)
class DatasetDiff:
    """Schema and profile changes from version ``before`` to version ``after``."""

    before: str
    after: str
    same_content: bool
    rows_before: int
    rows_after: int
    columns_added: tuple[str, ...]
    columns_removed: tuple[str, ...]
    dtype_changes: tuple[DtypeChange, ...]
    numeric_changes: tuple[StatChange, ...]
    category_changes: tuple[CategoryChange, ...]

    @property
    def schema_changed(self) -> bool:
        return bool(self.columns_added or self.columns_removed or self.dtype_changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "before": self.before,
            "after": self.after,
            "same_content": self.same_content,
            "rows_before": self.rows_before,
            "rows_after": self.rows_after,
            "schema_changed": self.schema_changed,
            "columns_added": list(self.columns_added),
            "columns_removed": list(self.columns_removed),
            "dtype_changes": [change.to_dict() for change in self.dtype_changes],
            "numeric_changes": [change.to_dict() for change in self.numeric_changes],
            "category_changes": [change.to_dict() for change in self.category_changes],
        }


def _finite_or_none(value: float | None) -> float | None:
    return value if value is None or math.isfinite(value) else None
