"""The Python example in docs/datasets.md runs as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "datasets.md"


def test_python_example_in_the_datasets_doc_runs(isolated_env: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    assert len(blocks) == 1
    script = isolated_env / "example.py"
    script.write_text(blocks[0])
    env = {key: value for key, value in os.environ.items() if not key.startswith("MLPILOT_")}
    done = subprocess.run(
        [sys.executable, "-W", "error", str(script)],
        check=False,
        cwd=isolated_env,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("churn:1 4 ")
    assert "('age', 'mean', 1.0)" in done.stdout
