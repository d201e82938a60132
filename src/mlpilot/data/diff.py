"""Compare two dataset versions through their stored schema and profile, without their data."""

from __future__ import annotations

from typing import Any

from mlpilot.data.records import CategoryChange, DatasetDiff, DatasetVersion, DtypeChange, StatChange

__all__ = ["NUMERIC_STATS", "compare_versions"]

NUMERIC_STATS = ("mean", "std", "min", "max", "null_share")
_CATEGORY_KINDS = ("categorical", "boolean")


def compare_versions(before: DatasetVersion, after: DatasetVersion) -> DatasetDiff:
    fields_before = _fields(before)
    fields_after = _fields(after)
    common = [name for name in fields_before if name in fields_after]
    numeric: list[StatChange] = []
    categories: list[CategoryChange] = []
    for name in common:
        old, new = _column(before, name), _column(after, name)
        kinds = (old.get("kind"), new.get("kind"))
        if kinds == ("numeric", "numeric"):
            numeric.extend(_numeric_changes(name, old, before.rows, new, after.rows))
        elif kinds[0] in _CATEGORY_KINDS and kinds[1] in _CATEGORY_KINDS:
            change = _category_change(name, old, before.rows, new, after.rows)
            if change is not None:
                categories.append(change)
    return DatasetDiff(
        before=before.ref,
        after=after.ref,
        same_content=before.content_hash == after.content_hash,
        rows_before=before.rows,
        rows_after=after.rows,
        columns_added=tuple(name for name in fields_after if name not in fields_before),
        columns_removed=tuple(name for name in fields_before if name not in fields_after),
        dtype_changes=tuple(
            DtypeChange(name, fields_before[name], fields_after[name])
            for name in common
            if fields_before[name] != fields_after[name]
        ),
        numeric_changes=tuple(numeric),
        category_changes=tuple(categories),
    )


def _fields(version: DatasetVersion) -> dict[str, str]:
    """Column name -> dtype, in column order."""
    return {str(field["name"]): str(field["dtype"]) for field in version.schema.get("fields", [])}


def _column(version: DatasetVersion, name: str) -> dict[str, Any]:
    column = version.profile.get("fields", {}).get(name)
    return column if isinstance(column, dict) else {}


def _numeric_changes(
    name: str, old: dict[str, Any], rows_old: int, new: dict[str, Any], rows_new: int
) -> list[StatChange]:
    changes = []
    for stat in NUMERIC_STATS:
        if stat == "null_share":
            a, b = _null_share(old, rows_old), _null_share(new, rows_new)
        else:
            a, b = _float(old.get(stat)), _float(new.get(stat))
        if a != b:
            changes.append(StatChange(column=name, stat=stat, before=a, after=b))
    return changes


def _category_change(
    name: str, old: dict[str, Any], rows_old: int, new: dict[str, Any], rows_new: int
) -> CategoryChange | None:
    top_old = [str(item["value"]) for item in old.get("top") or []]
    top_new = [str(item["value"]) for item in new.get("top") or []]
    change = CategoryChange(
        column=name,
        distinct_before=old.get("distinct"),
        distinct_after=new.get("distinct"),
        null_share_before=_null_share(old, rows_old),
        null_share_after=_null_share(new, rows_new),
        new_values=tuple(value for value in top_new if value not in top_old),
        missing_values=tuple(value for value in top_old if value not in top_new),
    )
    unchanged = (
        change.distinct_before == change.distinct_after
        and change.null_share_before == change.null_share_after
        and not change.new_values
        and not change.missing_values
    )
    return None if unchanged else change


def _null_share(column: dict[str, Any], rows: int) -> float | None:
    nulls = column.get("nulls")
    if rows <= 0 or not isinstance(nulls, int):
        return None
    return nulls / rows


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
