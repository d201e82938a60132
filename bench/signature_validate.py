"""Signature validation benchmark: median time of ``validate`` on 30-column frames.

    .venv/bin/python bench/signature_validate.py           # about half a minute
    .venv/bin/python bench/signature_validate.py --quick   # a few seconds

The serving layer validates every prediction request, so the 1-row cases matter most (target:
under 200 µs). Two shapes of input are measured at each size:

- typed: the frame has the training dtypes and the signature's column order (e.g. rows of the
  training frame, or a client that builds its frame with the right types) — nothing to convert;
- json: the frame pandas builds from JSON records (``pd.DataFrame(records)``), columns in another
  order and one stray column: whole numbers sent for 4 of the float columns, category levels and
  datetimes as text, so 10 of the 30 columns are converted.

No peer: MLflow's schema enforcement is a different contract (it converts through its own type
system), so a side-by-side number would not compare like with like.
"""

from __future__ import annotations

import argparse
import functools
import platform
import statistics
import time
import warnings
from collections.abc import Callable
from importlib.metadata import version

import numpy as np
import pandas as pd

from bench_common import load_snapshot
from mlpilot.models.signature import ExtraColumnsWarning, Signature, infer_signature, validate

LEVELS = [f"level-{i:02d}" for i in range(20)]


def training_frame(rows: int, seed: int = 7) -> pd.DataFrame:
    """30 columns: 8 integer, 8 float, 4 boolean, 4 string, 4 category (20 levels), 2 datetime."""
    rng = np.random.default_rng(seed)
    columns: dict[str, object] = {}
    for i in range(8):
        columns[f"int_{i}"] = rng.integers(0, 1000, rows)
    for i in range(8):
        columns[f"float_{i}"] = rng.normal(size=rows)
    for i in range(4):
        columns[f"bool_{i}"] = rng.random(rows) < 0.5
    for i in range(4):
        columns[f"text_{i}"] = np.array([f"t{value}" for value in rng.integers(0, 50, rows)], dtype=object)
    for i in range(4):
        columns[f"cat_{i}"] = pd.Categorical(rng.choice(LEVELS, rows), categories=LEVELS)
    for i in range(2):
        columns[f"time_{i}"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**6, rows), unit="s")
    return pd.DataFrame(columns)


def json_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame the serving layer would build from the same rows sent as JSON records."""
    records = []
    for row in frame.to_dict(orient="records"):
        record = {str(key): _json_value(str(key), value) for key, value in reversed(row.items())}
        record["request_id"] = "r-1"
        records.append(record)
    return pd.DataFrame(records)


def _json_value(key: str, value: object) -> object:
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if key.startswith("float_") and int(key[-1]) < 4:
        return round(float(value))  # type: ignore[arg-type]
    return value.item() if isinstance(value, np.generic) else value


def median_seconds(call: Callable[[], object], calls: int, rounds: int) -> float:
    """Median over ``rounds`` of the mean time per call of ``calls`` back-to-back calls."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            call()
        samples.append((time.perf_counter() - start) / calls)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and 10k instead of 100k rows")
    args = parser.parse_args()
    large = 10_000 if args.quick else 100_000
    small_calls, small_rounds, large_rounds = (200, 5, 3) if args.quick else (2_000, 9, 7)

    warnings.simplefilter("ignore", ExtraColumnsWarning)
    train = training_frame(large)
    signature: Signature = infer_signature(train)
    cases = [
        ("1 x 30, typed", train.head(1).copy(), small_calls, small_rounds),
        ("1 x 30, json", json_frame(train.head(1)), small_calls, small_rounds),
        (f"{large:,} x 30, typed", train, 1, large_rounds),
        (f"{large:,} x 30, json", json_frame(train), 1, large_rounds),
    ]
    load = load_snapshot()
    print(f"python {platform.python_version()} · pandas {version('pandas')} · numpy {version('numpy')}")
    print(f"{platform.machine()} · load average {load['load_1m']:.2f} / {load['load_5m']:.2f}\n")
    print("| frame | median validate time |")
    print("| --- | ---: |")
    for label, frame, calls, rounds in cases:
        result = validate(frame, signature)  # once untimed: checks the case is valid and warms caches
        assert list(result.columns) == signature.input_names()
        seconds = median_seconds(functools.partial(validate, frame, signature), calls, rounds)
        shown = f"{seconds * 1e6:,.0f} µs" if seconds < 0.01 else f"{seconds * 1e3:,.1f} ms"
        print(f"| {label} | {shown} |")


if __name__ == "__main__":
    main()
