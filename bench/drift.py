"""Drift benchmark: ``mlpilot.drift`` against Evidently's DataDriftPreset and two plain-scipy baselines.

    bash bench/setup_peers.sh evidently            # once: Evidently 0.7.23 in .bench/evidently-venv
    .venv/bin/python bench/drift.py                # 1,000,000 rows per frame, 3 repetitions
    .venv/bin/python bench/drift.py --quick        # 100,000 rows, 1 repetition
    .venv/bin/python bench/drift.py --rows 1000000 --repeat 1 --tools mlpilot,evidently

The data set is bench/peers/drift_data.py: a reference and a current frame of ``--rows`` rows,
20 float64 and 5 string columns, five of them shifted on purpose. Every tool runs in a fresh
process of its own (so that the peak RSS is that tool's alone), generates the same frames from
the same seed there, and times only its drift step, after its imports and the data generation:

* ``mlpilot``: ``mlpilot.drift(reference, current)`` with its defaults, in the project venv;
* ``scipy_ks_chi2``: ``scipy.stats.ks_2samp`` per numerical column and ``chi2_contingency`` on the
  2 x K count table per categorical column, drift at p < 0.05 (project venv);
* ``scipy_equiv``: the tests Evidently picks at this size, in scipy: ``wasserstein_distance /
  max(std(ref), 0.001) >= 0.1`` per numerical column, Jensen-Shannon distance (natural log) of the
  category frequencies over the union of categories ``>= 0.1`` per categorical column (project venv);
* ``evidently``: ``Report([DataDriftPreset()]).run(Dataset.from_pandas(cur, ...),
  Dataset.from_pandas(ref, ...))`` with its defaults, in .bench/evidently-venv
  (bench/peers/evidently_drift.py); both ``from_pandas`` calls are inside the timing.

Each process reports the drift step's wall and CPU seconds, its peak RSS (``ru_maxrss`` right
after the step), its RSS after the data generation, the deep size of the two frames, and per
column the method, statistic, p-value, threshold and verdict. The tools run back to back in each
repetition, their order rotated by one every repetition. Prints Markdown tables of the medians, the
per-column verdicts, mlpilot's speed-ups and a PASS/MISS line per target, and writes everything to
bench/results/drift-<date>.json (``--render FILE`` prints the tables of a saved result again).
"""

from __future__ import annotations

# Only the standard library at the top: the tool processes run this file too, and each should pay
# for its own tool's imports only.
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from peers.drift_data import ColumnResult, Extract, Step

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PROJECT_PYTHON = ROOT / ".venv" / "bin" / "python"
EVIDENTLY_PYTHON = ROOT / ".bench" / "evidently-venv" / "bin" / "python"
EVIDENTLY_SCRIPT = BENCH / "peers" / "evidently_drift.py"
RESULTS = BENCH / "results"
TOOLS = ("mlpilot", "scipy_ks_chi2", "scipy_equiv", "evidently")
LABELS = {
    "mlpilot": "mlpilot",
    "scipy_ks_chi2": "scipy ks_chi2",
    "scipy_equiv": "scipy evidently_equiv",
    "evidently": "evidently",
}
SEED = 42
FULL_ROWS = 1_000_000
QUICK_ROWS = 100_000
TIMEOUT_S = 600.0
P_VALUE = 0.05  # scipy_ks_chi2
DISTANCE = 0.1  # scipy_equiv, Evidently's default threshold for both distances
RELATIVE_TOLERANCE = 1e-6  # statistics further apart than this are reported as a mismatch

TARGET_WALL_S = 3.0  # mlpilot's drift step at 1M rows
TARGET_SPEEDUP = 25.0  # against Evidently
TARGET_RSS_RATIO = 1.5  # mlpilot's peak RSS / the deep size of the two frames


def log(message: str) -> None:
    print(f"[drift] {message}", file=sys.stderr, flush=True)


# The tools of the project venv (run as `python bench/drift.py --child TOOL --rows N --seed S`) ----


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def load_mlpilot() -> tuple[Step, Extract]:
    from peers.drift_data import ColumnResult

    try:
        from mlpilot import drift
    except ImportError as error:
        raise SystemExit(f"error: `from mlpilot import drift` failed: {error}") from error

    def step(reference: pd.DataFrame, current: pd.DataFrame) -> Any:
        return drift(reference, current)

    def extract(report: Any) -> tuple[list[ColumnResult], dict[str, Any]]:
        columns = [
            ColumnResult(
                str(feature.column),
                str(feature.method),
                _number(feature.statistic),
                _number(feature.p_value),
                _number(feature.threshold),
                feature.drifted is True,
            )
            for feature in report.features
        ]
        # A column mlpilot could not test has drifted None (and a verdict and message saying why).
        untested = [
            {"column": str(feature.column), "verdict": str(getattr(feature, "verdict", "")), "message": feature.message}
            for feature in report.features
            if feature.drifted is None
        ]
        flagged = sorted(column.column for column in columns if column.drifted)
        extras = {
            "drifted_columns": [str(name) for name in report.drifted_columns],
            "share": _number(report.share),
            "dataset_drifted": report.dataset_drifted,
            "drifted_columns_agree": sorted(str(name) for name in report.drifted_columns) == flagged,
            "untested": untested,
            "tests": {str(feature.column): getattr(feature, "test", None) for feature in report.features},
        }
        return columns, extras

    return step, extract


def load_scipy_ks_chi2() -> tuple[Step, Extract]:
    import pandas as pd
    from peers.drift_data import CATEGORICAL, NUMERICAL, ColumnResult
    from scipy.stats import chi2_contingency, ks_2samp

    def step(reference: pd.DataFrame, current: pd.DataFrame) -> list[ColumnResult]:
        results = []
        for name in NUMERICAL:
            test = ks_2samp(reference[name].to_numpy(), current[name].to_numpy())
            statistic, p_value = float(test.statistic), float(test.pvalue)
            results.append(ColumnResult(name, "ks", statistic, p_value, P_VALUE, p_value < P_VALUE))
        for name in CATEGORICAL:
            counts = pd.concat([reference[name].value_counts(), current[name].value_counts()], axis=1).fillna(0)
            test = chi2_contingency(counts.to_numpy().T)
            statistic, p_value = float(test.statistic), float(test.pvalue)
            results.append(ColumnResult(name, "chi2", statistic, p_value, P_VALUE, p_value < P_VALUE))
        return results

    return step, lambda results: (results, {})


def load_scipy_equiv() -> tuple[Step, Extract]:
    import numpy as np
    import pandas as pd
    from peers.drift_data import CATEGORICAL, NUMERICAL, ColumnResult
    from scipy.spatial.distance import jensenshannon
    from scipy.stats import wasserstein_distance

    def step(reference: pd.DataFrame, current: pd.DataFrame) -> list[ColumnResult]:
        results = []
        for name in NUMERICAL:
            ref = reference[name].to_numpy()
            distance = float(wasserstein_distance(ref, current[name].to_numpy())) / max(float(np.std(ref)), 0.001)
            results.append(ColumnResult(name, "wasserstein_normed", distance, None, DISTANCE, distance >= DISTANCE))
        for name in CATEGORICAL:
            counts = pd.concat([reference[name].value_counts(), current[name].value_counts()], axis=1).fillna(0)
            frequencies = counts.to_numpy() / np.array([len(reference), len(current)])
            distance = float(jensenshannon(frequencies[:, 0], frequencies[:, 1]))  # natural log
            results.append(ColumnResult(name, "jensenshannon", distance, None, DISTANCE, distance >= DISTANCE))
        return results

    return step, lambda results: (results, {})


CHILD_TOOLS = {"mlpilot": load_mlpilot, "scipy_ks_chi2": load_scipy_ks_chi2, "scipy_equiv": load_scipy_equiv}


def child_main(argv: list[str]) -> int:
    """``--child TOOL --rows N --seed S``: run one tool of the project venv and print its JSON line."""
    import argparse

    parser = argparse.ArgumentParser(prog="drift.py --child")
    parser.add_argument("tool", choices=sorted(CHILD_TOOLS))
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    args = parser.parse_args(argv)
    from peers.drift_data import emit, run_tool

    emit(run_tool(args.tool, args.rows, args.seed, CHILD_TOOLS[args.tool]))
    return 0


# Running the tools -------------------------------------------------------------------------------


def command(tool: str, rows: int, seed: int) -> list[str]:
    if tool == "evidently":
        return [str(EVIDENTLY_PYTHON), str(EVIDENTLY_SCRIPT), "--rows", str(rows), "--seed", str(seed)]
    return [
        str(PROJECT_PYTHON),
        str(Path(__file__).resolve()),
        "--child",
        tool,
        "--rows",
        str(rows),
        "--seed",
        str(seed),
    ]


def run_once(tool: str, rows: int, seed: int, timeout: float) -> dict[str, Any]:
    """One fresh process of ``tool``; its report, with ``status`` ok, timeout or error."""
    from peers.drift_data import RESULT_MARKER

    from bench_common import load_snapshot

    argv = command(tool, rows, seed)
    load = load_snapshot()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    started = time.perf_counter()
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT, start_new_session=True
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the tool's own process group
        stdout, stderr = process.communicate()
        return {
            "tool": tool,
            "status": "timeout",
            "error": f"no result after {timeout:.0f} s; killed",
            "elapsed_s": time.perf_counter() - started,
            "load_before": load,
            "stderr_tail": stderr.splitlines()[-20:],
        }
    except BaseException:  # e.g. Ctrl-C: the tool runs in its own session, so stop it too
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise
    elapsed = time.perf_counter() - started
    lines = [line for line in stdout.splitlines() if line.startswith(RESULT_MARKER)]
    if process.returncode != 0 or not lines:
        tail = stderr.strip().splitlines()[-20:]
        return {
            "tool": tool,
            "status": "error",
            "error": f"exit code {process.returncode}: " + (tail[-1] if tail else "no output"),
            "elapsed_s": elapsed,
            "load_before": load,
            "stderr_tail": tail,
        }
    report: dict[str, Any] = json.loads(lines[-1][len(RESULT_MARKER) :])
    warnings = [line for line in stderr.splitlines() if "Warning" in line]
    return {**report, "status": "ok", "elapsed_s": elapsed, "load_before": load, "warnings": warnings[:20]}


def run_all(tools: list[str], rows: int, seed: int, repeat: int, timeout: float) -> list[dict[str, Any]]:
    """``repeat`` repetitions of every tool, back to back, the order rotated by one each repetition."""
    runs = []
    for rep in range(repeat):
        order = tools[rep % len(tools) :] + tools[: rep % len(tools)]
        for tool in order:
            log(f"rep {rep + 1}/{repeat}: {LABELS[tool]} at {rows:,} rows ...")
            run = {"rep": rep, **run_once(tool, rows, seed, timeout)}
            if run["status"] == "ok":
                log(
                    f"  {run['drift_wall_s']:.3f} s wall, {run['drift_cpu_s']:.3f} s cpu, peak RSS "
                    f"{run['peak_rss_mib']:.0f} MiB, flagged {' '.join(run['flagged']) or '-'}"
                )
            else:
                log(f"  {run['status'].upper()}: {run['error']}")
            runs.append(run)
    return runs


# Summaries ---------------------------------------------------------------------------------------

MEDIAN_FIELDS = (
    "drift_wall_s",
    "drift_cpu_s",
    "peak_rss_mib",
    "rss_after_data_mib",
    "frames_deep_mib",
    "frames_shallow_mib",
    "import_s",
    "datagen_s",
    "process_s",
    "elapsed_s",
)


def summarize(tools: list[str], runs: list[dict[str, Any]]) -> dict[str, Any]:
    from bench_common import median

    summary: dict[str, Any] = {}
    for tool in tools:
        mine = [run for run in runs if run["tool"] == tool]
        ok = [run for run in mine if run["status"] == "ok"]
        entry: dict[str, Any] = {
            "runs": len(mine),
            "ok": len(ok),
            "failures": [
                {"rep": run["rep"], "status": run["status"], "error": run["error"]} for run in mine if run not in ok
            ],
        }
        if ok:
            entry.update({field: median([run[field] for run in ok]) for field in MEDIAN_FIELDS})
            entry["drift_wall_samples"] = [round(run["drift_wall_s"], 4) for run in ok]
            entry["peak_rss_over_frames"] = entry["peak_rss_mib"] / entry["frames_deep_mib"]
            entry["flagged"] = ok[0]["flagged"]
            entry["flagged_same_every_rep"] = all(run["flagged"] == ok[0]["flagged"] for run in ok)
            entry["columns"] = ok[0]["columns"]
            entry["methods"] = _methods(ok[0]["columns"])
        summary[tool] = entry
    return summary


def _methods(columns: list[dict[str, Any]]) -> dict[str, list[str]]:
    methods: dict[str, list[str]] = {}
    for column in columns:
        methods.setdefault(column["method"], []).append(column["column"])
    return methods


def compare(summary: dict[str, Any], runs: list[dict[str, Any]]) -> dict[str, Any]:
    """mlpilot's speed-ups and its verdicts and statistics against Evidently's and scipy_equiv's."""
    from bench_common import median

    ours = summary.get("mlpilot", {})
    result: dict[str, Any] = {"speedup": {}, "column_mismatches": {}, "flagged_equal": {}}
    for tool, theirs in summary.items():
        if tool == "mlpilot" or not ours.get("ok") or not theirs.get("ok"):
            continue
        per_rep = []
        for rep in sorted({run["rep"] for run in runs}):
            pair = {
                run["tool"]: run["drift_wall_s"]
                for run in runs
                if run["rep"] == rep and run["status"] == "ok" and run["tool"] in (tool, "mlpilot")
            }
            if len(pair) == 2:
                per_rep.append(pair[tool] / pair["mlpilot"])
        result["speedup"][tool] = {
            "of_medians": theirs["drift_wall_s"] / ours["drift_wall_s"],
            "per_rep": per_rep,
            "median_per_rep": median(per_rep),
        }
        result["flagged_equal"][tool] = ours["flagged"] == theirs["flagged"]
    for tool in ("evidently", "scipy_equiv"):
        if ours.get("ok") and summary.get(tool, {}).get("ok"):
            result["column_mismatches"][tool] = column_mismatches(ours["columns"], summary[tool]["columns"])
    if summary.get("scipy_equiv", {}).get("ok") and summary.get("evidently", {}).get("ok"):
        # The sanity check of the baseline itself: it should be Evidently's numbers exactly.
        result["scipy_equiv_vs_evidently"] = column_mismatches(
            summary["scipy_equiv"]["columns"], summary["evidently"]["columns"]
        )
    return result


def _score(column: dict[str, Any]) -> float | None:
    """The number a tool compares with its threshold: the distance, or else the p-value."""
    value = column["statistic"] if column["statistic"] is not None else column["p_value"]
    return None if value is None else float(value)


def column_mismatches(ours: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Columns whose verdict differs, or whose statistic differs by more than RELATIVE_TOLERANCE."""
    by_name = {column["column"]: column for column in theirs}
    mismatches = []
    for column in ours:
        other = by_name.get(column["column"])
        if other is None:
            mismatches.append({"column": column["column"], "problem": "missing on the other side"})
            continue
        a, b = _score(column), _score(other)
        relative = abs(a - b) / max(abs(b), 1e-12) if a is not None and b is not None else None
        problems = []
        if column["drifted"] != other["drifted"]:
            problems.append("verdict")
        if relative is None or relative > RELATIVE_TOLERANCE:
            problems.append("statistic")
        if problems:
            mismatches.append(
                {
                    "column": column["column"],
                    "problem": " and ".join(problems),
                    "ours": {key: column[key] for key in ("method", "statistic", "p_value", "threshold", "drifted")},
                    "theirs": {key: other[key] for key in ("method", "statistic", "p_value", "threshold", "drifted")},
                    "relative_difference": relative,
                }
            )
    missing = {column["column"] for column in theirs} - {column["column"] for column in ours}
    mismatches.extend({"column": name, "problem": "missing on our side"} for name in sorted(missing))
    return mismatches


def targets(rows: int, summary: dict[str, Any], comparison: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per target: PASS, MISS or N/A (not measured, or not at the target's size)."""
    ours = summary.get("mlpilot", {})
    evidently = summary.get("evidently", {})
    found: list[dict[str, Any]] = []

    def add(name: str, status: str, detail: str) -> None:
        found.append({"target": name, "status": status, "detail": detail})

    name = f"mlpilot drift step <= {TARGET_WALL_S:g} s at {FULL_ROWS:,} rows"
    if not ours.get("ok"):
        add(name, "N/A", "mlpilot was not measured")
    elif rows != FULL_ROWS:
        add(name, "N/A", f"{ours['drift_wall_s']:.3f} s at {rows:,} rows; judged at {FULL_ROWS:,} rows only")
    else:
        add(name, _verdict(ours["drift_wall_s"] <= TARGET_WALL_S), f"{ours['drift_wall_s']:.3f} s")

    name = f">= {TARGET_SPEEDUP:g}x faster than Evidently"
    speedup = comparison["speedup"].get("evidently")
    if speedup is None:
        add(name, "N/A", "mlpilot and Evidently were not both measured")
    else:
        add(name, _verdict(speedup["of_medians"] >= TARGET_SPEEDUP), f"{speedup['of_medians']:.1f}x at {rows:,} rows")

    name = f"mlpilot peak RSS <= {TARGET_RSS_RATIO:g} x the two frames' deep size"
    if not ours.get("ok"):
        add(name, "N/A", "mlpilot was not measured")
    else:
        ratio = ours["peak_rss_over_frames"]
        add(
            name,
            _verdict(ratio <= TARGET_RSS_RATIO),
            f"{ours['peak_rss_mib']:.0f} MiB / {ours['frames_deep_mib']:.0f} MiB = {ratio:.2f}",
        )

    name = "the same flagged columns as Evidently"
    if not ours.get("ok") or not evidently.get("ok"):
        add(name, "N/A", "mlpilot and Evidently were not both measured")
    else:
        ours_set, theirs_set = set(ours["flagged"]), set(evidently["flagged"])
        detail = f"mlpilot {' '.join(sorted(ours_set)) or '-'}; Evidently {' '.join(sorted(theirs_set)) or '-'}"
        add(name, _verdict(ours_set == theirs_set), detail)
    return found


def _verdict(passed: bool) -> str:
    return "PASS" if passed else "MISS"


# Rendering ---------------------------------------------------------------------------------------


def _f(value: float | None, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


def _g(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _cell(column: dict[str, Any] | None) -> str:
    if column is None:
        return "-"
    parts = []
    if column["statistic"] is not None:
        parts.append(_g(column["statistic"]))
    if column["p_value"] is not None:
        parts.append(f"p={_g(column['p_value'])}")
    return " ".join(parts) + (" **drift**" if column["drifted"] else "")


def render(report: dict[str, Any]) -> str:
    summary, comparison, rows = report["summary"], report["comparison"], report["rows"]
    tools = [tool for tool in TOOLS if tool in summary]
    out = [
        f"## Drift: {rows:,} rows per frame, {report['repeat']} repetition(s), medians",
        "",
        "| tool | drift step wall s | CPU s | peak RSS MiB | peak RSS / frames | flagged columns |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for tool in tools:
        entry = summary[tool]
        if not entry["ok"]:
            failure = entry["failures"][0] if entry["failures"] else {"status": "not run", "error": ""}
            out.append(f"| {LABELS[tool]} | {failure['status'].upper()}: {failure['error']} | | | | |")
            continue
        out.append(
            f"| {LABELS[tool]} | {_f(entry['drift_wall_s'])} | {_f(entry['drift_cpu_s'])} | "
            f"{entry['peak_rss_mib']:.0f} | {entry['peak_rss_over_frames']:.2f} | {' '.join(entry['flagged']) or '-'} |"
        )
    frames = next((summary[tool]["frames_deep_mib"] for tool in tools if summary[tool]["ok"]), None)
    out += [
        "",
        f"Frames: {_f(frames, 0)} MiB for the two, deep (pandas `memory_usage(deep=True)`, which counts every "
        "string object of an object column once per row).",
        "",
        "| tool | wall s per rep | import s | data gen s | RSS after data MiB | process s | failures |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for tool in tools:
        entry = summary[tool]
        failures = ", ".join(f"rep {f['rep'] + 1} {f['status']}" for f in entry["failures"]) or "-"
        if not entry["ok"]:
            out.append(f"| {LABELS[tool]} | - | - | - | - | - | {failures} |")
            continue
        samples = ", ".join(f"{value:.3f}" for value in entry["drift_wall_samples"])
        out.append(
            f"| {LABELS[tool]} | {samples} | {_f(entry['import_s'], 2)} | {_f(entry['datagen_s'], 2)} | "
            f"{entry['rss_after_data_mib']:.0f} | {_f(entry['process_s'], 1)} | {failures} |"
        )

    measured = [tool for tool in tools if summary[tool]["ok"]]
    if measured:
        out += ["", "Per column (statistic or distance, p-value; **drift** = flagged):", ""]
        out.append("| column | shift | " + " | ".join(LABELS[tool] for tool in measured) + " |")
        out.append("|---|---|" + "---|" * len(measured))
        shifts = report.get("shifts", {})
        by_tool = {tool: {c["column"]: c for c in summary[tool]["columns"]} for tool in measured}
        names = [c["column"] for c in summary[measured[0]]["columns"]]
        for name in names:
            cells = " | ".join(_cell(by_tool[tool].get(name)) for tool in measured)
            out.append(f"| {name} | {shifts.get(name, '')} | {cells} |")
        out.append("")
        for tool in measured:
            methods = "; ".join(
                f"`{method}` ({len(columns)} columns)" for method, columns in summary[tool]["methods"].items()
            )
            out.append(f"- {LABELS[tool]} methods: {methods}")

    if comparison["speedup"]:
        out += ["", "mlpilot's speed-up (drift step, ratio of the medians; per repetition in brackets):", ""]
        for tool, speedup in comparison["speedup"].items():
            per_rep = ", ".join(f"{value:.1f}" for value in speedup["per_rep"])
            out.append(f"- vs {LABELS[tool]}: **{speedup['of_medians']:.1f}x** ({per_rep})")
        for tool, equal in comparison["flagged_equal"].items():
            out.append(f"- flagged set equal to {LABELS[tool]}'s: {'yes' if equal else 'no'}")

    for tool, mismatches in comparison["column_mismatches"].items():
        out += ["", f"mlpilot against {LABELS[tool]}, column by column (relative tolerance {RELATIVE_TOLERANCE:g}):"]
        out += _mismatch_lines(mismatches)
    if "scipy_equiv_vs_evidently" in comparison:
        out += ["", "scipy evidently_equiv against Evidently (the baseline's own check):"]
        out += _mismatch_lines(comparison["scipy_equiv_vs_evidently"])

    if not report["verification"]["same_data"]:
        out += ["", "**WARNING: the tools did not all see the same data** (fingerprints differ)."]
    out += ["", "Targets:"]
    out += [f"- {t['status']}: {t['target']} ({t['detail']})" for t in report["targets"]]

    machine, versions = report["machine"], report["versions"]
    load = report["load"]
    out += [
        "",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB; load average "
        f"{load['before']['load_1m']:.2f} before, {load['after']['load_1m']:.2f} after, "
        f"{load['during_min']:.2f}-{load['during_max']:.2f} at the start of each run.",
        f"Versions: project venv {_versions(versions.get('project', {}))}, mlpilot at "
        f"{machine.get('mlpilot_commit')}{' + uncommitted src changes' if machine.get('mlpilot_src_dirty') else ''}; "
        f"evidently venv {_versions(versions.get('evidently', {}))}.",
    ]
    return "\n".join(out)


def _versions(versions: dict[str, str]) -> str:
    return ", ".join(f"{name} {value}" for name, value in versions.items() if name != "sqlite") or "-"


def _mismatch_lines(mismatches: list[dict[str, Any]]) -> list[str]:
    if not mismatches:
        return ["- all columns agree (verdict and statistic)"]
    lines = []
    for item in mismatches:
        if "ours" not in item:
            lines.append(f"- {item['column']}: {item['problem']}")
            continue
        ours, theirs = item["ours"], item["theirs"]
        relative = item["relative_difference"]
        lines.append(
            f"- {item['column']}: {item['problem']} differ: `{ours['method']}` {_cell(ours)} against "
            f"`{theirs['method']}` {_cell(theirs)}"
            + (f" (relative difference {relative:.2e})" if relative is not None else "")
        )
    return lines


# Main --------------------------------------------------------------------------------------------


def check_tools(tools: list[str]) -> str | None:
    """Why the requested tools cannot run, or None."""
    if "mlpilot" in tools:
        done = subprocess.run(
            [str(PROJECT_PYTHON), "-c", "from mlpilot import drift"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["?"])[-1]
            return (
                f"`from mlpilot import drift` fails in {PROJECT_PYTHON} ({reason}).\n"
                "mlpilot's drift is needed for the `mlpilot` tool; leave it out with "
                "--tools scipy_ks_chi2,scipy_equiv,evidently"
            )
    if "evidently" in tools and not EVIDENTLY_PYTHON.exists():
        return (
            f"the Evidently venv is missing ({EVIDENTLY_PYTHON}).\n"
            "Create it first with: bash bench/setup_peers.sh evidently"
        )
    return None


def main(argv: list[str] | None = None) -> int:
    import argparse
    import shlex
    from datetime import date

    sys.path.insert(0, str(BENCH))
    from bench_common import load_snapshot, venv_versions
    from tracking import machine_info

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, help=f"rows per frame (default {FULL_ROWS:,}; --quick {QUICK_ROWS:,})")
    parser.add_argument("--repeat", type=int, help="repetitions (default 3; --quick 1)")
    parser.add_argument("--tools", default=",".join(TOOLS), help=f"comma-separated, from {','.join(TOOLS)}")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ROWS:,} rows, 1 repetition (a smoke run)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"data seed (default {SEED})")
    parser.add_argument(
        "--timeout", type=float, default=TIMEOUT_S, help=f"seconds per tool process (default {TIMEOUT_S:g})"
    )
    parser.add_argument("--out", type=Path, help="JSON results (default: bench/results/drift-<date>.json)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed or a run fails")
    parser.add_argument("--render", type=Path, metavar="JSON", help="print the tables of a saved result and exit")
    args = parser.parse_args(argv)
    if args.render:
        print(render(json.loads(args.render.read_text())))
        return 0

    tools = [tool.strip() for tool in args.tools.split(",") if tool.strip()]
    unknown = sorted(set(tools) - set(TOOLS))
    if unknown or not tools or len(set(tools)) != len(tools):
        parser.error(f"--tools takes distinct names from {','.join(TOOLS)}; got {args.tools!r}")
    rows = args.rows or (QUICK_ROWS if args.quick else FULL_ROWS)
    repeat = args.repeat or (1 if args.quick else 3)
    problem = check_tools(tools)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2

    started = time.perf_counter()
    machine = machine_info()
    versions = {"project": venv_versions(PROJECT_PYTHON, ["numpy", "scipy", "pandas", "mlpilot"])}
    if "evidently" in tools:
        versions["evidently"] = venv_versions(EVIDENTLY_PYTHON, ["evidently", "numpy", "scipy", "pandas"])
    before = load_snapshot()
    log(f"{', '.join(LABELS[t] for t in tools)}; {rows:,} rows, {repeat} repetition(s); load: {before['uptime']}")
    runs = run_all(tools, rows, args.seed, repeat, args.timeout)
    after = load_snapshot()

    summary = summarize(tools, runs)
    comparison = compare(summary, runs)
    fingerprints = sorted({run["fingerprint"] for run in runs if run["status"] == "ok"})
    during = [run["load_before"]["load_1m"] for run in runs]
    today = date.today().isoformat()
    report: dict[str, Any] = {
        "benchmark": "drift",
        "date": today,
        "command": shlex.join(["python", *sys.argv]) if argv is None else shlex.join(["drift.py", *argv]),
        "quick": args.quick,
        "rows": rows,
        "repeat": repeat,
        "seed": args.seed,
        "tools": tools,
        "timeout_s": args.timeout,
        "order": "every repetition runs each tool once in a fresh process, back to back; the order rotates by one",
        "elapsed_s": time.perf_counter() - started,
        "machine": machine,
        "versions": versions,
        "load": {"before": before, "after": after, "during_min": min(during), "during_max": max(during)},
        "shifts": {
            "num_00": "mean +0.5 sd",
            "num_01": "sd x1.3",
            "num_02": "mean +0.02 sd",
            "cat_0": "probabilities reversed",
            "cat_1": 'new category "new" at 2%',
        },
        "verification": {"same_data": len(fingerprints) <= 1, "fingerprints": fingerprints},
        "summary": summary,
        "comparison": comparison,
        "runs": runs,
    }
    report["targets"] = targets(rows, summary, comparison)
    if args.out:
        out = args.out
    else:
        suffix = "-quick" if args.quick else ("" if rows == FULL_ROWS else f"-{rows}rows")
        out = RESULTS / f"drift-{today}{suffix}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(render(report))
    print(f"\nRaw results: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")

    failed = any(run["status"] != "ok" for run in runs) or not report["verification"]["same_data"]
    if args.strict and (failed or any(t["status"] == "MISS" for t in report["targets"])):
        return 1
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        sys.path.insert(0, str(BENCH))
        raise SystemExit(child_main(sys.argv[2:]))
    raise SystemExit(main())
