"""Concurrent registrations of one model never share or skip a version number."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mlpilot.client import Client
from mlpilot.config import load_settings

REGISTER = textwrap.dedent(
    """
    import sys
    from mlpilot.client import Client
    from mlpilot.config import load_settings
    uri, artifacts, home, run_id = sys.argv[1:5]
    client = Client(uri, artifacts, settings=load_settings(home=home))
    for _ in range(4):
        print(client.register_model(run_id, "model", "raced").version, flush=True)
    client.close()
    """
)


@pytest.mark.slow
def test_racing_registrations_get_unique_contiguous_numbers(
    client: Client, store_uri: str, tmp_path: Path, logged: object
) -> None:
    run_id = logged()  # type: ignore[operator]
    script = tmp_path / "register.py"
    script.write_text(REGISTER)
    args = [store_uri, str(tmp_path / "artifacts"), str(tmp_path / "home"), run_id]
    processes = [
        subprocess.Popen(
            [sys.executable, str(script), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(5)
    ]
    numbers: list[int] = []
    for process in processes:
        out, err = process.communicate(timeout=180)
        assert process.returncode == 0, err
        numbers.extend(int(line) for line in out.split())
    assert sorted(numbers) == list(range(1, 21))
    reader = Client(store_uri, str(tmp_path / "artifacts"), settings=load_settings(home=tmp_path / "home"))
    try:
        assert [v.version for v in reader.list_model_versions("raced")] == list(range(1, 21))
        assert len(reader.model_events("raced")) == 20
    finally:
        reader.close()
    assert os.path.exists(tmp_path / "artifacts")
