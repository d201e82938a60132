"""Docs are code: pull the Python examples out of a docs/*.md page and run them as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"


def python_blocks(page: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), flags=re.DOTALL)


def run_example(code: str, folder: Path, *, timeout: float = 180, env: dict[str, str] | None = None) -> str:
    """Run ``code`` in a fresh interpreter with warnings as errors; return its stdout.

    ``env`` adds variables (e.g. MLPILOT_TRACKING_URI for a page about the server)."""
    script = folder / "example.py"
    script.write_text(code)
    extra = env or {}
    env = {key: value for key, value in os.environ.items() if not key.startswith("MLPILOT_")}
    env.update(extra)
    env["TMPDIR"] = str(folder)  # what the example puts in a temporary folder goes away with the test
    done = subprocess.run(
        [sys.executable, "-W", "error", str(script)],
        check=False,
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
