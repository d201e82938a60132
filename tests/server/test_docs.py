"""docs/server.md's Python example runs as written against a real server."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import LiveServer
from tests.doc_examples import python_blocks, run_example


def test_server_page_example_runs_against_a_server(live_server: LiveServer, tmp_path: Path) -> None:
    blocks = python_blocks("server.md")
    assert blocks
    env = {"MLPILOT_TRACKING_URI": live_server.url, "MLPILOT_API_KEY": live_server.admin_key}
    for block in blocks:
        out = run_example(block, tmp_path, env=env)
    assert float(out.strip()) == 0.01
