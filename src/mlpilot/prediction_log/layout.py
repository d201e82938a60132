"""Where prediction segments live: ``<root>/deployment=<name>/date=<YYYY-MM-DD>/<file>.parquet``.

The writer and the reader agree on the layout here and nowhere else. A segment is written under a
temporary name (leading dot, ``.tmp`` suffix) and renamed into place, so anything that is not a
``*.parquet`` name without a leading dot is skipped when listing.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
from collections.abc import Callable
from pathlib import Path

from mlpilot.errors import InvalidInput

__all__ = [
    "DEPLOYMENT_PATTERN",
    "MS_PER_DAY",
    "check_deployment",
    "day_of",
    "default_writer_id",
    "is_segment",
    "list_deployments",
    "partition_dir",
    "sanitize_writer_id",
    "segment_files",
    "segment_name",
    "temp_name",
]

DEPLOYMENT_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
MS_PER_DAY = 86_400_000
_DEPLOYMENT_PREFIX = "deployment="
_DATE_PREFIX = "date="
_EPOCH = dt.date(1970, 1, 1)
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def check_deployment(name: object) -> str:
    """``name`` if it is a valid deployment name; it becomes a folder name, so nothing else is."""
    if type(name) is not str or DEPLOYMENT_PATTERN.fullmatch(name) is None:
        raise InvalidInput(
            f"invalid deployment name {str(name)[:120]!r}",
            hint="A deployment name is 1 to 100 letters, digits, '_', '.' or '-', starting with a letter or digit.",
        )
    return name


def day_of(ms: int) -> dt.date:
    """The UTC date of an epoch-ms time (any range pandas and Parquet can hold)."""
    return _EPOCH + dt.timedelta(days=ms // MS_PER_DAY)


def partition_dir(root: Path, deployment: str, day: dt.date) -> Path:
    return root / f"{_DEPLOYMENT_PREFIX}{deployment}" / f"{_DATE_PREFIX}{day.isoformat()}"


def segment_name(epoch_ms: int, writer_id: str, seq: int) -> str:
    return f"{epoch_ms}-{writer_id}-{seq:06d}.parquet"


def temp_name(final_name: str) -> str:
    return f".{final_name}.tmp"


def is_segment(name: str) -> bool:
    return name.endswith(".parquet") and not name.startswith(".")


def _subfolders(folder: Path, prefix: str) -> list[tuple[str, Path]]:
    """(value, path) of each ``<prefix><value>`` folder; none when ``folder`` does not exist."""
    try:
        with os.scandir(folder) as scan:
            entries = list(scan)
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [
        (entry.name[len(prefix) :], Path(entry.path))
        for entry in entries
        if entry.name.startswith(prefix) and entry.is_dir()
    ]


def segment_files(root: Path, deployment: str, keep: Callable[[dt.date], bool] | None = None) -> list[str]:
    """Paths of the deployment's segments in the date partitions ``keep`` accepts (all when
    None), in date then name order; [] when the deployment has no folder."""
    days: list[tuple[dt.date, Path]] = []
    for text, path in _subfolders(root / f"{_DEPLOYMENT_PREFIX}{deployment}", _DATE_PREFIX):
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            continue  # not ours; a stray folder must not break reads
        if keep is None or keep(day):
            days.append((day, path))
    found: list[str] = []
    for _day, path in sorted(days):
        with os.scandir(path) as entries:
            found.extend(sorted(entry.path for entry in entries if is_segment(entry.name) and entry.is_file()))
    return found


def list_deployments(root: str | os.PathLike[str]) -> list[str]:
    """Names of the deployments with a folder under ``root``, sorted; [] when ``root`` is missing."""
    names = (name for name, _path in _subfolders(Path(root), _DEPLOYMENT_PREFIX))
    return sorted(name for name in names if DEPLOYMENT_PATTERN.fullmatch(name))


def sanitize_writer_id(text: str) -> str:
    """``text`` made safe for a file name: runs of other characters become '_', at most 64 long."""
    cleaned = _UNSAFE.sub("_", text).strip("._-")[:64]
    return cleaned or "writer"


def default_writer_id() -> str:
    return sanitize_writer_id(f"{socket.gethostname()}-{os.getpid()}")
