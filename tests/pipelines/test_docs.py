"""The Python example in docs/pipelines.md runs as written (fan-out in real worker processes
included) and prints what the page shows."""

from __future__ import annotations

import re
from pathlib import Path

from tests.doc_examples import DOCS, python_blocks, run_example


def test_the_pipeline_example_prints_what_the_page_shows(isolated_env: Path) -> None:
    blocks = python_blocks("pipelines.md")
    assert len(blocks) == 1
    shown = re.search(r"This prints:\n\n```text\n(.*?)```", (DOCS / "pipelines.md").read_text(), flags=re.DOTALL)
    assert shown is not None
    printed = [line.rstrip() for line in run_example(blocks[0], isolated_env).splitlines()]
    assert printed == shown.group(1).rstrip("\n").splitlines()
