"""The Python examples in docs/models.md run as written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.doc_examples import python_blocks, run_example

BLOCKS = python_blocks("models.md")


def test_the_doc_has_two_examples() -> None:
    assert len(BLOCKS) == 2


@pytest.mark.slow
def test_logging_and_loading_from_a_run(isolated_env: Path) -> None:
    out = run_example(BLOCKS[0], isolated_env).splitlines()
    assert out[0].startswith("sklearn {'name': 'size', 'type': 'string'")
    assert out[1].startswith("[0] [[0.9")


def test_packaging_without_a_store(isolated_env: Path) -> None:
    out = run_example(BLOCKS[1], isolated_env).splitlines()
    assert out[0] == "sklearn ('model.pkl',) ['MLPILOT_MODEL.json', 'model.pkl']"
    assert out[1] == "model models:/cancer/1 does not match the sha256 recorded when it was logged"
