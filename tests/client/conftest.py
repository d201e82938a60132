from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import mlpilot


@pytest.fixture
def client(store_uri: str, tmp_path: Path, isolated_env: Path) -> Iterator[mlpilot.Client]:
    opened = mlpilot.connect(store_uri, artifact_uri=str(tmp_path / "artifacts"))
    yield opened
    opened.close()
