"""The Python example in docs/deployments.md runs as written."""

from __future__ import annotations

from pathlib import Path

from tests.doc_examples import python_blocks, run_example


def test_python_example_in_the_deployments_doc_runs(isolated_env: Path) -> None:
    blocks = python_blocks("deployments.md")
    assert len(blocks) == 1
    out = run_example(blocks[0], isolated_env).splitlines()
    assert out[0] == "Traffic(model='churn', primary=2, revision=1, pinned=False, canary=(3, 0.1), shadow=None)"
    assert out[1:] == ["3", "2", "2 0 ['zz']", "2", "['updated', 'rolled_back', 'promoted', 'created']"]
