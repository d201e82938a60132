from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.pipelines import sample


@pytest.fixture
def local_client(store_uri: str, tmp_path: Path, isolated_env: Path) -> Iterator[Any]:
    """A client straight on a fresh store (SQLite and PostgreSQL): pipelines record runs in the database."""
    from mlpilot.client import Client
    from mlpilot.config import load_settings

    opened = Client(store_uri, str(tmp_path / "artifacts"), settings=load_settings(home=tmp_path / "home"))
    sample.CALLS.clear()
    yield opened
    opened.close()
