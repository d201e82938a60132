"""``mlpilot predict``: score a file of rows with a registered model and write the scored rows.

The pandas engine (default) reads the whole file into memory on this machine; ``--engine spark``
reads, scores and writes on a Spark cluster (``--master local[2]``, ``spark://…``, ``yarn``…, or the
session ``spark-submit`` started), where the output is a folder of Parquet parts.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from mlpilot.cli.context import get_client
from mlpilot.cli.render import console, print_json
from mlpilot.client import Client
from mlpilot.errors import Conflict, InvalidInput

__all__ = ["predict"]

_ENGINES = ("pandas", "spark")


def predict(
    ctx: typer.Context,
    model: Annotated[
        str, typer.Option("--model", "-m", help="models:/NAME@ALIAS, models:/NAME/VERSION, runs:/ID/PATH.")
    ],
    input_path: Annotated[str, typer.Option("--input", "-i", help="Rows to score: .parquet (file or folder) or .csv.")],
    output_path: Annotated[
        str, typer.Option("--output", "-o", help="Where to write the scored rows (.parquet or .csv).")
    ],
    engine: Annotated[str, typer.Option("--engine", "-e", help="pandas (this machine) or spark.")] = "pandas",
    master: Annotated[
        str | None, typer.Option("--master", help="Spark master URL, e.g. local[2] (spark engine only).")
    ] = None,
    proba: Annotated[bool, typer.Option("--proba", help="Add one proba_<class> column per class.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace the output if it exists.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a summary as JSON.")] = False,
) -> None:
    """Score INPUT with MODEL and write the input columns plus the predictions to OUTPUT."""
    if engine not in _ENGINES:
        raise InvalidInput(f"unknown engine {engine!r}", hint="Use --engine pandas or --engine spark.")
    if master is not None and engine != "spark":
        raise InvalidInput("--master applies to the Spark engine only", hint="Add --engine spark.")
    if not overwrite and Path(output_path).exists():
        raise Conflict(f"{output_path} already exists", hint="Choose another output, or pass --overwrite.")
    started = time.perf_counter()
    client = get_client(ctx)
    if engine == "spark":
        from mlpilot.spark.files import score_files

        done = score_files(
            input_path, output_path, model, client=client, master=master, proba=proba, overwrite=overwrite
        )
        rows, where = done.rows, f"spark {done.master}"
    else:
        rows = _score_with_pandas(client, model, input_path, output_path, proba)
        where = "pandas"
    seconds = time.perf_counter() - started
    summary = {"model": model, "input": input_path, "output": output_path, "engine": where, "rows": rows}
    if as_json:
        print_json({**summary, "seconds": round(seconds, 3)})
    else:
        console.print(f"scored {rows} rows with {model} ({where}) in {seconds:.1f} s → {output_path}")


def _score_with_pandas(client: Client, model: str, input_path: str, output_path: str, proba: bool) -> int:
    from mlpilot.data.frames import read_frame
    from mlpilot.models.batch import score_frame

    frame = read_frame(input_path).frame
    scored = score_frame(client.load_model(model), frame, proba=proba)
    target = Path(output_path)
    if target.is_dir():
        raise InvalidInput(f"{output_path} is a folder", hint="The pandas engine writes one file; name a file.")
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.suffix.lower() == ".csv":
        scored.to_csv(target, index=False)
    else:
        scored.to_parquet(target, index=False)
    return len(scored)
