"""The Python example in docs/dora.md runs as written and prints what the page says."""

from __future__ import annotations

import re
from pathlib import Path

from tests.doc_examples import DOCS, python_blocks, run_example


def test_python_example_in_the_dora_doc_runs(isolated_env: Path) -> None:
    blocks = python_blocks("dora.md")
    assert len(blocks) == 1
    printed = re.search(r"prints\n\n```\n(.*?)```", (DOCS / "dora.md").read_text(), flags=re.DOTALL)
    assert printed is not None
    assert run_example(blocks[0], isolated_env) == printed.group(1)
