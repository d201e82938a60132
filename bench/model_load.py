"""Model loading benchmark (issue 3): mlpilot.load_model against mlflow.pyfunc.load_model.

    bash bench/setup_peers.sh                  # once: MLflow in .bench/mlflow-venv
    .venv/bin/python bench/model_load.py       # full run, about 3 minutes
    .venv/bin/python bench/model_load.py --quick

The same model on both sides: a scikit-learn Pipeline(StandardScaler, LogisticRegression) trained on
load_breast_cancer (30 features) with the same split and seed, each side training and saving it with
its own venv's scikit-learn. mlpilot logs it with ``run.log_model``, registers it as ``bench`` and
points the alias ``production`` at version 1; bench/peers/mlflow_model_load.py does the same with
``mlflow.sklearn.log_model(registered_model_name=...)`` and ``set_registered_model_alias``, and also
registers the same model saved with pickle (``bench-pickle``), since MLflow 3.17 saves with skops by
default. Both stores are SQLite files in one temp dir.

Every sample is a fresh process that times, in order: the library's import, the load of
``models:/bench@production`` (through the default client, pointed at the store by environment
variables) and the first prediction on a 1-row DataFrame. Four kinds of sample are interleaved,
one of each per round, their order rotated every round: mlpilot cold (its model cache deleted
first), mlpilot warm (cache populated), MLflow (skops) and MLflow (pickle). A first round is a
discarded warm-up. Then a few more processes, alternating sides, time loads inside one process and
steady-state 1-row predict latency over ``--calls`` calls.

Prints Markdown tables and writes the raw samples to bench/results/model-load-<date>.json
(``--render FILE`` prints the tables of a saved result again).
"""

from __future__ import annotations

# Only what the sample processes need is imported at the top, and the MLflow side imports the
# same modules, so both libraries' imports start from the same interpreter state. The rest of the
# standard library and bench_common are imported inside the functions that run the benchmark.
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
MLFLOW_PYTHON = ROOT / ".bench" / "mlflow-venv" / "bin" / "python"
PEER_SCRIPT = BENCH / "peers" / "mlflow_model_load.py"
RESULTS = BENCH / "results"
URI = "models:/bench@production"
SEED = 42
CHILD_TIMEOUT_S = 300
KINDS = ("mlpilot-cold", "mlpilot-warm", "mlflow", "mlflow-pickle")
PICKLE_URI = "models:/bench-pickle@production"  # the MLflow side's copy saved with pickle, not skops
RELOADS = 7
STEADY_PROCESSES = 3


def log(message: str) -> None:
    print(f"[model_load] {message}", file=sys.stderr, flush=True)


# Fresh-process measurements (run as `python bench/model_load.py --child sample|steady ROWS`) ----


def child_sample(rows_path: Path) -> dict[str, Any]:
    """Import mlpilot, load the registered model and predict one row; wall and CPU of each phase."""
    data = json.loads(rows_path.read_text())
    preloaded = len(sys.modules)
    marks = [(time.perf_counter(), time.process_time())]
    import mlpilot

    marks.append((time.perf_counter(), time.process_time()))
    after_import = {name: name in sys.modules for name in ("pandas", "numpy", "sklearn", "sqlalchemy", "pyarrow")}
    model = mlpilot.load_model(URI)
    marks.append((time.perf_counter(), time.process_time()))
    import pandas as pd

    one = pd.DataFrame(data["rows"][:1], columns=data["columns"])
    marks.append((time.perf_counter(), time.process_time()))
    first = model.predict(one)
    marks.append((time.perf_counter(), time.process_time()))
    everything = model.predict(pd.DataFrame(data["rows"], columns=data["columns"]))
    return {
        "preloaded_modules": preloaded,
        "imported_by_library": after_import,
        **_phases(marks),
        "first_prediction": _classes(first),
        "predictions": _classes(everything),
        "cache_entries": _cache_entries(),
    }


def _classes(prediction: Any) -> list[int]:
    return [int(value) for value in prediction]


def _phases(marks: list[tuple[float, float]]) -> dict[str, dict[str, float]]:
    """Import, load, (frame built, untimed) and first predict from the five (wall, cpu) marks."""
    (w0, c0), (w1, c1), (w2, c2), (w3, c3), (w4, c4) = marks
    return {
        "import_s": {"wall": w1 - w0, "cpu": c1 - c0},
        "load_s": {"wall": w2 - w1, "cpu": c2 - c1},
        "predict_s": {"wall": w4 - w3, "cpu": c4 - c3},
    }


def _cache_entries() -> list[str]:
    """The folders of mlpilot's model cache (one per model sha256) after the load."""
    cache = Path(os.environ["MLPILOT_HOME"]) / "cache" / "models"
    return sorted(path.name for path in cache.iterdir()) if cache.is_dir() else []


def child_steady(rows_path: Path, calls: int, reloads: int) -> dict[str, Any]:
    """In one process: the load with scikit-learn already imported, ``reloads`` more loads, and
    1-row predict latency over ``calls`` calls (LoadedModel.predict, without validation, raw sklearn)."""
    import statistics

    import pandas as pd

    import mlpilot

    data = json.loads(rows_path.read_text())
    start = time.perf_counter()
    import sklearn.linear_model
    import sklearn.pipeline
    import sklearn.preprocessing  # noqa: F401

    sklearn_import_s = time.perf_counter() - start
    start = time.perf_counter()
    model = mlpilot.load_model(URI)
    first_load_s = time.perf_counter() - start
    reload_s = []
    for _ in range(reloads):
        start = time.perf_counter()
        model = mlpilot.load_model(URI)
        reload_s.append(time.perf_counter() - start)
    one = pd.DataFrame(data["rows"][:1], columns=data["columns"])
    variants: dict[str, Callable[[], Any]] = {
        "predict": lambda: model.predict(one),
        "predict_no_validation": lambda: model.predict(one, validate=False),
        "raw_sklearn": lambda: model.raw.predict(one),  # type: ignore[attr-defined]
    }
    outputs = {name: [int(v) for v in call()] for name, call in variants.items()}  # warm-up, checked below
    assert len({tuple(v) for v in outputs.values()}) == 1, f"variants disagree: {outputs}"
    samples: dict[str, list[int]] = {name: [] for name in variants}
    for _ in range(calls):  # interleaved, so that noise hits every variant alike
        for name, call in variants.items():
            start = time.perf_counter_ns()
            call()
            samples[name].append(time.perf_counter_ns() - start)
    return {
        "calls": calls,
        "prediction": outputs["predict"],
        "cache_entries": _cache_entries(),
        "sklearn_import_s": sklearn_import_s,
        "first_load_after_sklearn_s": first_load_s,
        "reload_s": reload_s,
        "latency_us": {
            name: {
                "median": statistics.median(values) / 1000,
                "mean": statistics.fmean(values) / 1000,
                "p90": statistics.quantiles(values, n=10)[-1] / 1000,
                "min": min(values) / 1000,
            }
            for name, values in samples.items()
        },
    }


# Setup ------------------------------------------------------------------------------------------


def split_and_train(seed: int = SEED) -> tuple[Any, Any, Any, Any]:
    """The model both sides register (bench/peers/mlflow_model_load.py has the same code)."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    features, target = load_breast_cancer(return_X_y=True, as_frame=True)
    x_train, x_test, y_train, y_test = train_test_split(
        features, target, test_size=0.2, random_state=seed, stratify=target
    )
    model = Pipeline(
        [("scale", StandardScaler()), ("classify", LogisticRegression(max_iter=1000, random_state=seed))]
    ).fit(x_train, y_train)
    return model, x_train, x_test, y_test


def setup_mlpilot(workdir: Path) -> dict[str, Any]:
    """Train, log, register and alias the model in this process; write rows.json for every sample."""
    from importlib.metadata import version

    from mlpilot.client import Client
    from mlpilot.config import load_settings

    started = time.perf_counter()
    model, x_train, x_test, y_test = split_and_train()
    rows = {"columns": list(x_test.columns), "rows": x_test.to_numpy().tolist(), "target": y_test.tolist()}
    (workdir / "rows.json").write_text(json.dumps(rows))
    env = child_env(workdir, "mlpilot")
    settings = load_settings(home=env["MLPILOT_HOME"])
    client = Client(env["MLPILOT_TRACKING_URI"], env["MLPILOT_ARTIFACT_URI"], settings=settings)
    try:
        with client.start_run("bench", name="breast-cancer") as run:
            run.log_metric("accuracy", float(model.score(x_test, y_test)))
            logged = run.log_model(model, "model", input_example=x_train.head(5))
        registered = client.register_model(run.id, "model", "bench")
        client.set_alias("bench", "production", registered.version)
    finally:
        client.close()
    model_files = sorted(p for p in (workdir / "mlpilot-artifacts").rglob("*") if p.is_file())
    return {
        "setup_s": time.perf_counter() - started,
        "versions": {name: version(name) for name in ("mlpilot", "scikit-learn", "numpy", "pandas", "scipy")},
        "python": sys.version.split()[0],
        "run_id": run.id,
        "version": registered.version,
        "sha256": logged.sha256,
        "accuracy": float(model.score(x_test, y_test)),
        "predictions": [int(v) for v in model.predict(x_test)],
        "target": [int(v) for v in y_test],
        "probabilities": model.predict_proba(x_test)[:, 1].tolist(),
        "artifact_store_bytes": sum(p.stat().st_size for p in model_files),
        "artifact_store_files": len(model_files),
    }


def child_env(workdir: Path, side: str) -> dict[str, str]:
    """The environment of every process of a side: no inherited MLPILOT_/MLFLOW_ settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLPILOT_", "MLFLOW_"))}
    env["PYTHONUNBUFFERED"] = "1"
    if side == "mlpilot":
        env["MLPILOT_HOME"] = str(workdir / "mlpilot-home")
        env["MLPILOT_TRACKING_URI"] = f"sqlite:///{workdir / 'mlpilot.db'}"
        env["MLPILOT_ARTIFACT_URI"] = str(workdir / "mlpilot-artifacts")
    else:
        env["MLFLOW_TRACKING_URI"] = f"sqlite:///{workdir / 'mlflow.db'}"
        env["MLFLOW_DISABLE_TELEMETRY"] = "true"
        env["DO_NOT_TRACK"] = "true"
    return env


# Running the samples ----------------------------------------------------------------------------


def run_child(kind: str, workdir: Path, mode: str, *extra: str) -> dict[str, Any]:
    """One fresh process of ``kind``; returns its JSON with the parent-measured process wall time.

    Each process gets its own empty TMPDIR inside the workdir, so that what a library leaves in the
    temp dir (e.g. a downloaded copy of the model) can be counted afterwards.
    """
    import shutil
    import subprocess

    side = "mlflow" if kind.startswith("mlflow") else "mlpilot"
    if kind == "mlpilot-cold":
        shutil.rmtree(workdir / "mlpilot-home" / "cache" / "models", ignore_errors=True)
    tmp = workdir / "tmp" / f"{kind}-{mode}-{time.monotonic_ns()}"
    tmp.mkdir(parents=True)
    env = {**child_env(workdir, side), "TMPDIR": str(tmp)}
    if side == "mlflow":
        uri = [PICKLE_URI] if kind == "mlflow-pickle" else []
        command = [str(MLFLOW_PYTHON), str(PEER_SCRIPT), mode, str(workdir / "rows.json"), *uri, *extra]
    else:
        command = [sys.executable, str(Path(__file__).resolve()), "--child", mode, str(workdir / "rows.json"), *extra]
    start = time.perf_counter()
    done = subprocess.run(
        command, capture_output=True, text=True, env=env, cwd=workdir, timeout=CHILD_TIMEOUT_S, check=False
    )
    process_s = time.perf_counter() - start
    with (workdir / "children-stderr.log").open("a") as stderr:
        stderr.write(f"--- {kind} {mode} (exit {done.returncode})\n{done.stderr}")
    if done.returncode != 0:
        raise SystemExit(f"{kind} {mode} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_s"] = process_s
    result["tmp_entries_left"] = sorted(p.name for p in tmp.iterdir())
    result["stderr_lines"] = len(done.stderr.splitlines())
    return result


def run_steady(workdir: Path, calls: int, processes: int) -> dict[str, list[dict[str, Any]]]:
    """``processes`` steady-state processes per side, alternating sides."""
    steady: dict[str, list[dict[str, Any]]] = {"mlpilot": [], "mlflow": []}
    for index in range(processes):
        for side, kind in (("mlpilot", "mlpilot-warm"), ("mlflow", "mlflow")):
            steady[side].append(run_child(kind, workdir, "steady", str(calls), str(RELOADS)))
        log(
            f"steady state {index + 1}/{processes}, median µs: "
            + ", ".join(f"{side} {steady[side][-1]['latency_us']['predict']['median']:.0f}" for side in steady)
        )
    return steady


def summarize_steady(steady: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Per side: medians over the processes (of each process's median latency; of all reloads)."""
    summary: dict[str, Any] = {}
    for side, results in steady.items():
        variants = results[0]["latency_us"]
        reloads = [value for result in results for value in result["reload_s"]]
        summary[side] = {
            "processes": len(results),
            "calls": results[0]["calls"],
            "reloads": len(reloads),
            "latency_us": {
                name: {
                    "median": median([r["latency_us"][name]["median"] for r in results]),
                    "per_process_medians": [r["latency_us"][name]["median"] for r in results],
                }
                for name in variants
            },
            "wrapper_overhead_us": median(
                [r["latency_us"]["predict"]["median"] - r["latency_us"]["raw_sklearn"]["median"] for r in results]
            ),
            "sklearn_import_s": median([r["sklearn_import_s"] for r in results]),
            "first_load_after_sklearn_s": median([r["first_load_after_sklearn_s"] for r in results]),
            "reload_s": median(reloads),
        }
    return summary


def run_samples(workdir: Path, rounds: int) -> dict[str, list[dict[str, Any]]]:
    """``rounds`` rounds of one sample per kind, after one discarded warm-up round."""
    from bench_common import load_snapshot

    samples: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    warmup = {kind: run_child(kind, workdir, "sample") for kind in KINDS}
    log("warm-up round: " + ", ".join(f"{k} {_total(v) * 1000:.0f} ms" for k, v in warmup.items()))
    for index in range(rounds):
        shift = index % len(KINDS)
        order = KINDS[shift:] + KINDS[:shift]
        for kind in order:
            result = run_child(kind, workdir, "sample")
            result["round"] = index
            result["load_1m"] = load_snapshot()["load_1m"]
            samples[kind].append(result)
        log(
            f"round {index + 1}/{rounds} ({' → '.join(order)}): "
            + ", ".join(
                f"{kind} import {samples[kind][-1]['import_s']['wall'] * 1000:.0f} + "
                f"load {samples[kind][-1]['load_s']['wall'] * 1000:.0f} + "
                f"predict {samples[kind][-1]['predict_s']['wall'] * 1000:.1f} ms"
                for kind in KINDS
            )
        )
    return {"warmup": [warmup[kind] for kind in KINDS], **samples}


def _total(sample: dict[str, Any]) -> float:
    return float(sample["import_s"]["wall"] + sample["load_s"]["wall"] + sample["predict_s"]["wall"])


# Summary ----------------------------------------------------------------------------------------

PHASES = (
    ("import", "library import (`import mlpilot` / `import mlflow`)"),
    ("load", '`load_model("models:/bench@production")`'),
    ("predict", "first `predict` on a 1-row DataFrame"),
    ("load+predict", "load + first predict"),
    ("import+load+predict", "import + load + first predict"),
    ("process", "whole process, as timed by the parent (interpreter start to exit)"),
)


def phase_values(samples: list[dict[str, Any]], phase: str, clock: str = "wall") -> list[float]:
    """Seconds of ``phase`` in each sample."""

    def one(sample: dict[str, Any]) -> float:
        if phase == "process":
            return float(sample["process_s"])
        parts = phase.split("+")
        return float(sum(sample[f"{part}_s"][clock] for part in parts))

    return [one(sample) for sample in samples]


def summarize_samples(samples: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    from bench_common import summarize

    summary: dict[str, Any] = {}
    for kind in KINDS:
        summary[kind] = {}
        for phase, _ in PHASES:
            summary[kind][phase] = {"wall_s": summarize(phase_values(samples[kind], phase))}
            if phase != "process":
                summary[kind][phase]["cpu_s"] = summarize(phase_values(samples[kind], phase, "cpu"))
    return summary


def verify(
    ours: dict[str, Any], theirs: dict[str, Any], samples: dict[str, list[dict[str, Any]]], steady: dict[str, Any]
) -> dict[str, Any]:
    """Both sides trained the same model and every process predicted the same classes."""
    rows = len(ours["predictions"])
    assert theirs["test_rows_match"], "the MLflow side split the data differently"
    assert ours["predictions"] == theirs["predictions"], "the two trained models disagree"
    probability_gap = max(abs(a - b) for a, b in zip(ours["probabilities"], theirs["probabilities"], strict=True))
    for kind, results in samples.items():
        for result in results:
            assert result["predictions"] == ours["predictions"], f"{kind}: a loaded model predicted other classes"
            assert result["first_prediction"] == ours["predictions"][:1], f"{kind}: wrong first prediction"
    for side in ("mlpilot", "mlflow"):
        for result in steady[side]:
            assert result["prediction"] == ours["predictions"][:1], f"{side} steady state: wrong prediction"
    return {
        "test_rows": rows,
        "identical_classes": True,
        "max_probability_difference": probability_gap,
        "mismatches_vs_truth": sum(p != t for p, t in zip(ours["predictions"], ours["target"], strict=True)),
    }


def median(values: list[float]) -> float:
    import statistics

    return statistics.median(values)


def _ms(seconds: float) -> str:
    ms = seconds * 1000
    return f"{ms:,.0f}" if ms >= 100 else f"{ms:,.1f}" if ms >= 10 else f"{ms:,.2f}"


def _versus(ours: float, theirs: float) -> str:
    """How mlpilot compares with MLflow, said plainly either way."""
    ratio = max(ours, theirs) / min(ours, theirs)
    shown = f"{ratio:,.2f}" if ratio < 1.1 else f"{ratio:,.1f}"
    return f"{shown}x faster" if ours <= theirs else f"**{shown}x slower**"


def render(report: dict[str, Any]) -> str:
    machine, summary, steady = report["machine"], report["summary"], report["steady_summary"]
    rounds = report["rounds"]
    lines = [
        f"### Model loading, {report['date']}{' (quick)' if report['quick'] else ''}",
        "",
        f"Medians of {rounds} fresh processes per column, wall ms. MLflow saves scikit-learn models with skops "
        'by default; the MLflow pickle column is the same model logged with `serialization_format="pickle"`.',
        "",
        "| measurement | mlpilot cold | mlpilot warm | MLflow (default, skops) | MLflow (pickle) "
        "| mlpilot cold / warm vs MLflow default | mlpilot cold / warm vs MLflow pickle |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for phase, label in PHASES:
        cold, warm, theirs, pickled = (summary[kind][phase]["wall_s"]["median"] for kind in KINDS)
        lines.append(
            f"| {label} | {_ms(cold)} | {_ms(warm)} | {_ms(theirs)} | {_ms(pickled)} "
            f"| {_versus(cold, theirs)} / {_versus(warm, theirs)} "
            f"| {_versus(cold, pickled)} / {_versus(warm, pickled)} |"
        )
    ours_steady, theirs_steady = steady["mlpilot"], steady["mlflow"]
    ours_us, theirs_us = ours_steady["latency_us"], theirs_steady["latency_us"]
    ours_reload, theirs_reload = ours_steady["reload_s"], theirs_steady["reload_s"]
    lines += [
        "",
        "Inside one process (mlpilot's cache warm; MLflow's default skops model): medians of "
        f"{ours_steady['processes']} processes per side, alternating sides; the reloads are the median of all "
        f"{ours_steady['reloads']} of them (wall ms):",
        "",
        "| step | mlpilot | MLflow | mlpilot vs MLflow |",
        "|---|---:|---:|---|",
        f"| `import sklearn.pipeline, sklearn.linear_model, sklearn.preprocessing` after the library "
        f"| {_ms(ours_steady['sklearn_import_s'])} | {_ms(theirs_steady['sklearn_import_s'])} | n/a |",
        f"| first `load_model` with scikit-learn already imported | {_ms(ours_steady['first_load_after_sklearn_s'])} "
        f"| {_ms(theirs_steady['first_load_after_sklearn_s'])} "
        f"| {_versus(ours_steady['first_load_after_sklearn_s'], theirs_steady['first_load_after_sklearn_s'])} |",
        f"| `load_model` again, same process | {_ms(ours_reload)} | {_ms(theirs_reload)} "
        f"| {_versus(ours_reload, theirs_reload)} |",
        "",
        f"Steady state: 1-row `predict` on the loaded model, {ours_steady['calls']:,} calls per process interleaved "
        f"with the other calls of the same row's venv; the median over the {ours_steady['processes']} processes of "
        "each process's median (µs):",
        "",
        "| call | mlpilot venv | MLflow venv | mlpilot vs MLflow |",
        "|---|---:|---:|---|",
        "| the wrapper's `predict` (mlpilot `LoadedModel`: validates against the signature; MLflow `PyFuncModel`: "
        f"enforces its schema) | {ours_us['predict']['median']:,.0f} | {theirs_us['predict']['median']:,.0f} "
        f"| {_versus(ours_us['predict']['median'], theirs_us['predict']['median'])} |",
        f"| mlpilot `predict(frame, validate=False)` | {ours_us['predict_no_validation']['median']:,.0f} | n/a | n/a |",
        f"| the raw scikit-learn Pipeline's `predict` | {ours_us['raw_sklearn']['median']:,.0f} "
        f"| {theirs_us['raw_sklearn']['median']:,.0f} | n/a |",
        f"| the wrapper's overhead: `predict` minus raw `predict`, per process | "
        f"{ours_steady['wrapper_overhead_us']:,.0f} | {theirs_steady['wrapper_overhead_us']:,.0f} "
        f"| {_versus(ours_steady['wrapper_overhead_us'], theirs_steady['wrapper_overhead_us'])} |",
    ]
    loads = report["load"]
    lines += [
        "",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, {machine['os']}, "
        f"kernel {machine['kernel']}, temp dir on {machine['filesystem']}.",
        f"Versions: Python {machine['python']}, mlpilot {machine['mlpilot']} at {machine['mlpilot_commit']}"
        f"{' + uncommitted src changes' if machine['mlpilot_src_dirty'] else ''}, "
        f"MLflow {report['mlflow_setup']['versions']['mlflow']}; scikit-learn "
        f"{report['mlpilot_setup']['versions']['scikit-learn']} (mlpilot venv) / "
        f"{report['mlflow_setup']['versions']['scikit-learn']} (MLflow venv).",
        f"Load average (1 min) before the samples {loads['before_samples']['load_1m']:.2f}, after "
        f"{loads['after_samples']['load_1m']:.2f}; 1-min load during the samples "
        f"{loads['during_min']:.2f} to {loads['during_max']:.2f}.",
        f"Verified: both sides predict identical classes for all {report['verification']['test_rows']} test rows "
        f"(max probability difference {report['verification']['max_probability_difference']:.1e}).",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse
    import shutil
    import tempfile
    from datetime import date

    from bench_common import load_snapshot
    from tracking import machine_info

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 rounds and 200 steady-state calls (a smoke run)")
    parser.add_argument("--rounds", type=int, help="rounds of fresh-process samples (default 7, quick 3)")
    parser.add_argument("--calls", type=int, help="steady-state predict calls (default 1000, quick 200)")
    parser.add_argument("--out", type=Path, help="JSON results (default: bench/results/model-load-<date>.json)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir with both stores")
    parser.add_argument("--render", type=Path, metavar="JSON", help="print the tables of a saved result and exit")
    args = parser.parse_args(argv)
    if args.render:
        print(render(json.loads(args.render.read_text())))
        return 0
    rounds = args.rounds or (3 if args.quick else 7)
    calls = args.calls or (200 if args.quick else 1000)

    if not MLFLOW_PYTHON.exists():
        print(
            f"error: the MLflow venv is missing ({MLFLOW_PYTHON}).\nCreate it first with: bash bench/setup_peers.sh",
            file=sys.stderr,
        )
        return 2

    started = time.perf_counter()
    machine = machine_info()
    workdir = Path(tempfile.mkdtemp(prefix="mlpilot-bench-model-load-"))
    try:
        log(f"workdir {workdir}; load: {load_snapshot()['uptime']}")
        ours = setup_mlpilot(workdir)
        log(f"mlpilot: trained, logged, registered and aliased in {ours['setup_s']:.1f} s")
        theirs = run_child("mlflow", workdir, "setup", str(workdir))
        log(f"MLflow: trained, logged, registered and aliased in {theirs['setup_s']:.1f} s")

        before = load_snapshot()
        samples = run_samples(workdir, rounds)
        after = load_snapshot()
        steady = run_steady(workdir, calls, 1 if args.quick else STEADY_PROCESSES)
        verification = verify(ours, theirs, {k: samples[k] for k in KINDS}, steady)
        # MLflow writes a registered_model_meta file into the model folder when it loads a registered model.
        store = workdir / "mlflow-artifacts"
        theirs["artifact_store_files_after"] = sorted(
            str(p.relative_to(store)) for p in store.rglob("*") if p.is_file()
        )
    finally:
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    during = [s["load_1m"] for kind in KINDS for s in samples[kind]]
    today = date.today().isoformat()
    report: dict[str, Any] = {
        "benchmark": "model-load",
        "date": today,
        "quick": args.quick,
        "elapsed_s": time.perf_counter() - started,
        "rounds": rounds,
        "order": "one warm-up round (discarded), then rounds of " + ", ".join(KINDS) + ", the order rotated by "
        "one each round",
        "uri": URI,
        "machine": machine,
        "load": {
            "before_samples": before,
            "after_samples": after,
            "during_min": min(during),
            "during_max": max(during),
        },
        "mlpilot_setup": ours,
        "mlflow_setup": theirs,
        "verification": verification,
        "summary": summarize_samples(samples),
        "steady_summary": summarize_steady(steady),
        "steady": steady,
        "samples": samples,
    }
    out = args.out or RESULTS / f"model-load-{today}{'-quick' if args.quick else ''}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(render(report))
    print(f"\nRaw samples: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 0


def child_main(argv: list[str]) -> int:
    """``--child sample ROWS`` or ``--child steady ROWS CALLS RELOADS``: print one JSON line."""
    mode, rows = argv[0], Path(argv[1])
    result = child_sample(rows) if mode == "sample" else child_steady(rows, int(argv[2]), int(argv[3]))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        raise SystemExit(child_main(sys.argv[2:]))
    raise SystemExit(main())
