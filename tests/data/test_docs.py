"""The Python example in docs/datasets.md runs as written."""

from __future__ import annotations

from pathlib import Path

from tests.doc_examples import python_blocks, run_example


def test_python_example_in_the_datasets_doc_runs(isolated_env: Path) -> None:
    blocks = python_blocks("datasets.md")
    assert len(blocks) == 1
    out = run_example(blocks[0], isolated_env)
    assert out.startswith("churn:1 4 ")
    assert "('age', 'mean', 1.0)" in out
