"""How the CLI shows things: Rich tables for people, ``--json`` for programs."""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

__all__ = ["console", "err_console", "format_ms", "format_value", "print_json", "print_table"]

console = Console(highlight=False, soft_wrap=False)
err_console = Console(stderr=True, highlight=False)


def _json_default(value: Any) -> Any:
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    if hasattr(value, "to_dict"):
        return _clean(value.to_dict())
    return value


def print_json(data: Any) -> None:
    """Strict JSON on stdout (NaN and infinities spelled as strings)."""
    sys.stdout.write(json.dumps(_clean(data), indent=2, default=_json_default, allow_nan=False) + "\n")
    sys.stdout.flush()


def format_ms(value: int | None) -> str:
    if value is None:
        return "-"
    return dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def format_value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def print_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    table = Table(title=title, title_justify="left", show_lines=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    count = 0
    for row in rows:
        table.add_row(*(escape(format_value(cell)) for cell in row))
        count += 1
    if count == 0:
        console.print(f"[dim]{title or 'nothing'}: none yet[/dim]")
        return
    console.print(table)
