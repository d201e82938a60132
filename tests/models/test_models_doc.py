"""The Python examples in docs/models.md run as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "models.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def run_example(code: str, folder: Path) -> str:
    script = folder / "example.py"
    script.write_text(code)
    env = {key: value for key, value in os.environ.items() if not key.startswith("MLPILOT_")}
    env["TMPDIR"] = str(folder)  # what the example puts in a temporary folder goes away with the test
    done = subprocess.run(
        [sys.executable, "-W", "error", str(script)],
        check=False,
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


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
