from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


CliRunner = Callable[..., Result]


@pytest.fixture
def mlpilot_cli(tmp_path: Path, isolated_env: Path) -> CliRunner:
    """Run the real ``mlpilot`` command in a subprocess against a store in tmp_path."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MLPILOT_")}
    env["MLPILOT_HOME"] = str(tmp_path / "home")
    env["COLUMNS"] = "200"

    def run(*args: str, check: bool = True, extra_env: dict[str, str] | None = None) -> Result:
        done = subprocess.run(
            [sys.executable, "-m", "mlpilot", *args],
            check=False,
            cwd=isolated_env,
            env={**env, **(extra_env or {})},
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
        result = Result(done.returncode, done.stdout, done.stderr)
        if check and done.returncode != 0:
            raise AssertionError(f"mlpilot {' '.join(args)} exited {done.returncode}: {done.stderr}")
        return result

    return run
