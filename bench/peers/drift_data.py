"""The data set of the drift benchmark (bench/drift.py), and the harness every drift tool runs in.

Both venvs import this module: ours (mlpilot and the scipy baselines) and .bench/evidently-venv.
It needs only numpy, pandas and the standard library, so that each tool generates the very same
frames from the same seed inside its own process.

Columns, ``rows`` per frame:

* ``num_00`` .. ``num_19``: float64, in turn normal, lognormal, uniform and exponential, the
  parameters growing with the column's group ``j = i // 4`` (normal(5j, 1 + j), lognormal(0,
  0.5 + 0.25j), uniform(0, 1 + j), exponential(1 + j)).
* ``cat_0`` .. ``cat_4``: strings (object dtype) with 4, 8, 12, 30 and 100 categories ``v000``,
  ``v001``, ..., category k drawn with probability proportional to k + 1.

The current frame is an independent sample of the same distributions, then shifted:

* ``num_00`` (normal): mean + 0.5 sd;
* ``num_01`` (lognormal): sd x 1.3, the values stretched around the population mean;
* ``num_02`` (uniform): mean + 0.02 sd (a tiny shift only a p-value test at large n sees);
* ``cat_0``: the category probabilities reversed;
* ``cat_1``: a new category ``"new"`` at 2%, the other categories keeping their relative weights.

Reference and current come from two independent streams spawned from ``SeedSequence(seed)``,
drawn column by column with numpy's default generator (PCG64): deterministic for a given seed and
numpy version. The harness records a fingerprint of the frames so that drift.py can check that
every tool saw the same data.
"""

from __future__ import annotations

import gc
import hashlib
import json
import math
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "CATEGORICAL",
    "CATEGORY_COUNTS",
    "EXPECTED_SHIFTED",
    "NUMERICAL",
    "RESULT_MARKER",
    "ColumnResult",
    "emit",
    "fingerprint",
    "make_frames",
    "run_tool",
]

NUMERICAL = [f"num_{i:02d}" for i in range(20)]
CATEGORY_COUNTS = (4, 8, 12, 30, 100)
CATEGORICAL = [f"cat_{i}" for i in range(len(CATEGORY_COUNTS))]
EXPECTED_SHIFTED = ("num_00", "num_01", "num_02", "cat_0", "cat_1")
KINDS = ("normal", "lognormal", "uniform", "exponential")
NEW_CATEGORY = "new"
NEW_SHARE = 0.02
RESULT_MARKER = "DRIFT-RESULT "  # the one stdout line a tool process reports on


def _numerical_moments(i: int) -> tuple[float, float]:
    """The population mean and standard deviation of column ``num_<i>``."""
    kind, j = KINDS[i % 4], i // 4
    if kind == "normal":
        return 5.0 * j, 1.0 + j
    if kind == "lognormal":
        sigma2 = (0.5 + 0.25 * j) ** 2
        return math.exp(sigma2 / 2), math.sqrt((math.exp(sigma2) - 1) * math.exp(sigma2))
    if kind == "uniform":
        width = 1.0 + j
        return width / 2, width / math.sqrt(12)
    scale = 1.0 + j
    return scale, scale


def _draw_numerical(rng: np.random.Generator, i: int, rows: int) -> np.ndarray:
    kind, j = KINDS[i % 4], i // 4
    if kind == "normal":
        return rng.normal(5.0 * j, 1.0 + j, rows)
    if kind == "lognormal":
        return rng.lognormal(0.0, 0.5 + 0.25 * j, rows)
    if kind == "uniform":
        return rng.uniform(0.0, 1.0 + j, rows)
    return rng.exponential(1.0 + j, rows)


def _category_probabilities(count: int) -> np.ndarray:
    weights = np.arange(1, count + 1, dtype=np.float64)
    probabilities: np.ndarray = weights / weights.sum()
    return probabilities


def _frame(rng: np.random.Generator, rows: int, *, shifted: bool) -> pd.DataFrame:
    # The numerical columns are drawn into one (columns, rows) block that the frame wraps without a
    # copy, so that generating the data does not briefly hold two copies of it (which would raise
    # every tool's peak RSS).
    block = np.empty((len(NUMERICAL), rows), dtype=np.float64)
    for i, name in enumerate(NUMERICAL):
        values = _draw_numerical(rng, i, rows)
        if shifted and name in ("num_00", "num_02"):
            _, sd = _numerical_moments(i)
            values += (0.5 if name == "num_00" else 0.02) * sd
        elif shifted and name == "num_01":
            mean, _ = _numerical_moments(i)
            values = mean + (values - mean) * 1.3
        block[i] = values
    frame = pd.DataFrame(block.T, columns=NUMERICAL, copy=False)
    for name, count in zip(CATEGORICAL, CATEGORY_COUNTS, strict=True):
        labels = [f"v{k:03d}" for k in range(count)]
        probabilities = _category_probabilities(count)
        if shifted and name == "cat_0":
            probabilities = probabilities[::-1]
        elif shifted and name == "cat_1":
            labels.append(NEW_CATEGORY)
            probabilities = np.append(probabilities * (1 - NEW_SHARE), NEW_SHARE)
        codes = rng.choice(len(labels), size=rows, p=probabilities)
        frame[name] = np.array(labels, dtype=object)[codes]
    return frame


def make_frames(rows: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(reference, current)``: ``rows`` rows each, 20 float64 and 5 object (string) columns."""
    reference_seed, current_seed = np.random.SeedSequence(seed).spawn(2)
    reference = _frame(np.random.default_rng(reference_seed), rows, shifted=False)
    current = _frame(np.random.default_rng(current_seed), rows, shifted=True)
    return reference, current


def fingerprint(reference: pd.DataFrame, current: pd.DataFrame) -> str:
    """A sha256 over both frames' columns, names and values, the same in every venv."""
    digest = hashlib.sha256()
    for frame in (reference, current):
        for name in frame.columns:
            column = frame[name]
            digest.update(f"{name}:{column.dtype}:{len(column)}\n".encode())
            if column.dtype == object:
                digest.update("\x00".join(column.tolist()).encode())
            else:
                digest.update(np.ascontiguousarray(column.to_numpy()).tobytes())
    return digest.hexdigest()


# The harness -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ColumnResult:
    """One column's verdict, the same shape for every tool."""

    column: str
    method: str
    statistic: float | None  # the drift score: a distance, or the test statistic
    p_value: float | None  # for p-value tests (the score a tool compares with its threshold), else None
    threshold: float | None
    drifted: bool


Step = Callable[[pd.DataFrame, pd.DataFrame], Any]
Extract = Callable[[Any], tuple[list[ColumnResult], dict[str, Any]]]


def _mib(kib: int) -> float:
    return kib / 1024


def _rss_kib() -> int:
    """The current resident set size (VmRSS) of this process, in KiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def run_tool(tool: str, rows: int, seed: int, load: Callable[[], tuple[Step, Extract]]) -> dict[str, Any]:
    """Import a tool (``load``), generate the frames, time its drift step and report.

    ``load`` does the tool's imports and returns ``step(reference, current)``, the timed drift
    step, and ``extract(result)``, which turns its result into per-column verdicts (not timed).
    The peak RSS is the process's ``ru_maxrss`` right after the step.
    """
    started = time.perf_counter()
    import_start = time.perf_counter()
    step, extract = load()
    import_s = time.perf_counter() - import_start

    generate_start = time.perf_counter()
    reference, current = make_frames(rows, seed)
    datagen_s = time.perf_counter() - generate_start
    gc.collect()
    rss_after_data_kib = _rss_kib()
    peak_before_step_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    reference_deep = int(reference.memory_usage(deep=True).sum())
    current_deep = int(current.memory_usage(deep=True).sum())
    shallow = int(reference.memory_usage(deep=False).sum() + current.memory_usage(deep=False).sum())

    wall, cpu = time.perf_counter(), time.process_time()
    result = step(reference, current)
    drift_wall_s, drift_cpu_s = time.perf_counter() - wall, time.process_time() - cpu
    peak_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    columns, extras = extract(result)
    return {
        "tool": tool,
        "rows": rows,
        "seed": seed,
        "python": sys.version.split()[0],
        "import_s": import_s,
        "datagen_s": datagen_s,
        "drift_wall_s": drift_wall_s,
        "drift_cpu_s": drift_cpu_s,
        "rss_after_data_mib": _mib(rss_after_data_kib),
        "peak_rss_before_step_mib": _mib(peak_before_step_kib),
        "peak_rss_mib": _mib(peak_rss_kib),
        "frames_deep_mib": (reference_deep + current_deep) / 2**20,
        "frames_shallow_mib": shallow / 2**20,
        "flagged": sorted(column.column for column in columns if column.drifted),
        "columns": [asdict(column) for column in columns],
        "extras": extras,
        "fingerprint": fingerprint(reference, current),
        "process_s": time.perf_counter() - started,
    }


def emit(report: dict[str, Any]) -> None:
    """Print the report as the one marked JSON line drift.py reads (NaN and inf become null)."""

    def clean(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            return {key: clean(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [clean(item) for item in value]
        return value

    print(RESULT_MARKER + json.dumps(clean(report)), flush=True)
