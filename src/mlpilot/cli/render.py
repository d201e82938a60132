"""How the CLI shows things: Rich tables for people, ``--json`` for programs."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

__all__ = ["console", "err_console", "format_ms", "format_value", "print_json", "print_table"]

# Piped or captured output has no terminal width; Rich would assume 80 columns and fold run ids.
_WIDTH = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160
console = Console(highlight=False, soft_wrap=False, width=_WIDTH)
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
    cells = [[format_value(cell) for cell in row] for row in rows]
    first_width = max([len(columns[0]), *(len(row[0]) for row in cells)]) if columns else 0
    table = Table(title=title, title_justify="left", show_lines=False)
    last = len(columns) - 1
    for position, column in enumerate(columns):
        # Rows stay one line each and the first column (an id) is never cut, so it can be copied;
        # only the last column may fold long text.
        if position == last:
            table.add_column(column, overflow="fold", min_width=max(len(column), 12))
        elif position == 0:
            table.add_column(column, no_wrap=True, min_width=first_width)
        else:
            table.add_column(column, no_wrap=True, overflow="ellipsis")
    for row in cells:
        table.add_row(*(escape(cell) for cell in row))
    if not cells:
        console.print(f"[dim]{title or 'nothing'}: none yet[/dim]")
        return
    console.print(table)
