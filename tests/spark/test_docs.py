"""Docs are code: the ``python`` examples of docs/spark.md run as written, in order, in one
namespace, inside the suite's one Spark session (``get_spark("local[2]")`` returns it) and against
a fresh store. The ``py`` examples need a cluster, S3 or PostgreSQL and are not run."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import mlpilot
from tests.doc_examples import python_blocks


@pytest.fixture
def default_store(isolated_env: Path) -> Iterator[Path]:
    mlpilot.set_tracking_uri(f"sqlite:///{isolated_env / '.mlpilot' / 'mlpilot.db'}")
    yield isolated_env
    while (handle := mlpilot.active_run()) is not None:
        handle.end()
    mlpilot.set_tracking_uri(None)


def test_the_examples_run_as_written(spark: Any, default_store: Path) -> None:
    blocks = python_blocks("spark.md")
    assert len(blocks) == 6
    namespace: dict[str, Any] = {"__name__": "spark_docs"}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for number, block in enumerate(blocks, start=1):
            exec(compile(block, f"docs/spark.md example {number}", "exec"), namespace)
    assert namespace["spark"] is spark
    lines = printed.getvalue().splitlines()
    # What the comments beside the prints say.
    assert lines == ["['age', 'income', 'prediction', 'proba_0', 'proba_1']", "['income']", "1 1000 1000"]
    assert namespace["version"].rows == 1000
