"""``mlpilot datasets``: list dataset versions, show one's schema and profile, diff two."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from mlpilot.cli.context import get_client
from mlpilot.cli.render import console, format_ms, format_value, print_json, print_table
from mlpilot.data import DatasetDiff, DatasetVersion, parse_ref

app = typer.Typer(help="List, show and compare dataset versions.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]

_SPARK = "▁▂▃▄▅▆▇█"
_TOP_SHOWN = 5


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List datasets with their latest version."""
    found = get_client(ctx).list_datasets()
    if as_json:
        print_json([summary.to_dict() for summary in found])
        return
    print_table(
        "Datasets",
        ["name", "latest", "versions", "created"],
        ([s.name, s.latest_version, s.versions, format_ms(s.created_at)] for s in found),
    )


@app.command("versions")
def versions(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The dataset's name.")], as_json: JsonFlag = False
) -> None:
    """Every version of one dataset, oldest first."""
    found = get_client(ctx).list_dataset_versions(name)
    if as_json:
        print_json([version.to_dict() for version in found])
        return
    print_table(
        f"Versions of {name}",
        ["version", "rows", "columns", "content hash", "size", "created", "source"],
        (
            [v.version, v.rows, len(v.columns), v.content_hash[:12], v.size, format_ms(v.created_at), v.source]
            for v in found
        ),
    )


@app.command("show")
def show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(metavar="NAME[:VERSION]", help="e.g. churn or churn:3; latest by default.")],
    as_json: JsonFlag = False,
) -> None:
    """One version's schema and profile."""
    name, number = parse_ref(ref)
    client = get_client(ctx)
    version = client.get_dataset(name, number)
    used_by = client.dataset_runs(name, version.version)
    if as_json:
        print_json({**version.to_dict(), "runs": [{"run_id": run_id, "role": role} for run_id, role in used_by]})
        return
    _print_overview(version)
    _print_profile(version)
    print_table("Read by runs", ["run", "role"], used_by)


def _print_overview(version: DatasetVersion) -> None:
    print_table(
        f"Dataset {version.ref}",
        ["field", "value"],
        [
            ["rows", version.rows],
            ["columns", len(version.columns)],
            ["content hash", version.content_hash],
            ["stored as", f"sha256 {version.storage_sha256} ({version.size} bytes, Parquet)"],
            ["source", version.source],
            ["created", format_ms(version.created_at)],
        ],
    )
    fields = _profile_fields(version)
    print_table(
        "Schema",
        ["column", "dtype", "nullable", "kind"],
        (
            [field["name"], field["dtype"], "yes" if field.get("nullable") else "no", _kind(fields, field["name"])]
            for field in version.schema.get("fields", [])
        ),
    )


def _print_profile(version: DatasetVersion) -> None:
    fields = _profile_fields(version)
    numeric = {name: stats for name, stats in fields.items() if stats.get("kind") == "numeric"}
    if numeric:
        print_table(
            "Numeric columns",
            ["column", "count", "nulls", "min", "p5", "p50", "mean", "p95", "max", "std", "histogram"],
            (
                [
                    name,
                    stats.get("count"),
                    _nulls(stats),
                    stats.get("min"),
                    _quantile(stats, "p5"),
                    _quantile(stats, "p50"),
                    stats.get("mean"),
                    _quantile(stats, "p95"),
                    stats.get("max"),
                    stats.get("std"),
                    _sparkline(stats.get("histogram")),
                ]
                for name, stats in numeric.items()
            ),
        )
    categories = {name: stats for name, stats in fields.items() if stats.get("kind") in ("categorical", "boolean")}
    if categories:
        print_table(
            "Categorical columns",
            ["column", "count", "nulls", "distinct", "most frequent"],
            (
                [name, stats.get("count"), _nulls(stats), stats.get("distinct"), _top(stats.get("top"))]
                for name, stats in categories.items()
            ),
        )
    temporal = {name: stats for name, stats in fields.items() if stats.get("kind") in ("datetime", "timedelta")}
    if temporal:
        print_table(
            "Date and time columns",
            ["column", "count", "nulls", "min", "max"],
            (
                [name, stats.get("count"), _nulls(stats), stats.get("min"), stats.get("max")]
                for name, stats in temporal.items()
            ),
        )


@app.command("diff")
def diff(
    ctx: typer.Context,
    before: Annotated[str, typer.Argument(metavar="A", help="The older version, e.g. churn:1.")],
    after: Annotated[str, typer.Argument(metavar="B", help="The newer version, e.g. churn:2 or churn.")],
    as_json: JsonFlag = False,
) -> None:
    """Schema and profile changes from version A to version B."""
    changes = get_client(ctx).diff_datasets(before, after)
    if as_json:
        print_json(changes.to_dict())
        return
    _print_diff(changes)


def _print_diff(changes: DatasetDiff) -> None:
    print_table(
        f"{changes.before} → {changes.after}",
        ["", "before", "after"],
        [
            ["rows", changes.rows_before, changes.rows_after],
            ["same content", "", "yes" if changes.same_content else "no"],
            ["columns added", "", ", ".join(changes.columns_added) or "-"],
            ["columns removed", ", ".join(changes.columns_removed) or "-", ""],
        ],
    )
    if changes.dtype_changes:
        print_table(
            "Type changes",
            ["column", "before", "after"],
            ([c.column, c.before, c.after] for c in changes.dtype_changes),
        )
    if changes.numeric_changes:
        print_table(
            "Numeric changes",
            ["column", "stat", "before", "after", "delta"],
            ([c.column, c.stat, c.before, c.after, _signed(c.delta)] for c in changes.numeric_changes),
        )
    if changes.category_changes:
        print_table(
            "Category changes",
            ["column", "distinct", "null share", "new frequent values", "no longer frequent"],
            (
                [
                    c.column,
                    f"{format_value(c.distinct_before)} → {format_value(c.distinct_after)}",
                    f"{format_value(c.null_share_before)} → {format_value(c.null_share_after)}",
                    ", ".join(c.new_values) or "-",
                    ", ".join(c.missing_values) or "-",
                ]
                for c in changes.category_changes
            ),
        )
    if not (changes.schema_changed or changes.numeric_changes or changes.category_changes):
        console.print("no schema or profile changes")


def _profile_fields(version: DatasetVersion) -> dict[str, dict[str, Any]]:
    fields = version.profile.get("fields", {})
    return fields if isinstance(fields, dict) else {}


def _kind(fields: dict[str, dict[str, Any]], name: str) -> str:
    return str(fields.get(name, {}).get("kind", "-"))


def _nulls(stats: dict[str, Any]) -> str:
    nulls = stats.get("nulls") or 0
    infinite = stats.get("infinite") or 0
    return f"{nulls} (+{infinite} inf)" if infinite else str(nulls)


def _quantile(stats: dict[str, Any], name: str) -> Any:
    quantiles = stats.get("quantiles")
    return quantiles.get(name) if isinstance(quantiles, dict) else None


def _top(top: Any) -> str:
    if not top:
        return "-"
    shown = ", ".join(f"{item['value']} ({item['count']})" for item in top[:_TOP_SHOWN])
    return shown + (", …" if len(top) > _TOP_SHOWN else "")


def _sparkline(histogram: Any) -> str:
    """The histogram's bin counts as a row of block characters."""
    if not isinstance(histogram, dict) or not histogram.get("counts"):
        return "-"
    counts = histogram["counts"]
    peak = max(counts) or 1
    return "".join(_SPARK[round(count / peak * (len(_SPARK) - 1))] if count else " " for count in counts)


def _signed(value: float | None) -> str:
    return "-" if value is None else f"{value:+.6g}"
