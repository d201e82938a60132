"""Monitors that read the prediction log through Spark (``monitor_engine = "spark"``): the same
monitor over the same logged predictions gives the same result with DuckDB and with Spark, through
the service, ``mlpilot monitors run`` and the server's run route; a bad engine name and a machine
without Java get one readable line."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from mlpilot.cli.app import main
from mlpilot.client import Client
from mlpilot.config import load_settings
from mlpilot.deployments import create_deployment
from mlpilot.errors import InvalidInput
from mlpilot.monitoring.log_reader import LogReader
from mlpilot.monitoring.monitors import create_monitor
from mlpilot.monitoring.runner import run_monitor
from mlpilot.spark.monitoring import SparkLogReader, log_reader
from tests.conftest import LiveServer
from tests.monitoring.conftest import HOUR, T0, World

HOURLY = {
    "window": "1h",
    "conditions": {
        "drift_share": 0.5,
        "features": ["tenure"],
        "performance": {"metric": "accuracy", "max_drop": 0.15},
        "latency_p99_ms": 50,
    },
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A deployed model with two hours of logged predictions, the second one drifted; part of
    the first labelled, so live accuracy and CBPE have data."""
    home = tmp_path_factory.mktemp("spark-monitors") / "home"
    client = Client(f"sqlite:///{home / 'mlpilot.db'}", str(home / "artifacts"), settings=load_settings(home=home))
    built = World(client, home / "predictions", home / "cache")
    built.register()
    create_deployment(built.db, "churn-api", "churn/1", actor="test")
    create_monitor(built.db, "hourly", "churn-api", HOURLY, actor="test")
    create_monitor(built.db, "last-rows", "churn-api", {"window": "rows:500"}, actor="test")
    built.serve(0, 600, labelled=400)
    built.serve(1, 600, shift=12.0)
    yield built
    client.close()


def _comparable(result: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in result.items() if key not in ("created_at", "id")}


def _run(world: World, name: str, hour: int, reader: LogReader | None) -> dict[str, Any]:
    done = run_monitor(
        world.db,
        world.content,
        name,
        predictions_root=world.root,
        cache_root=world.cache,
        now=T0 + (hour + 1) * HOUR,
        reader=reader,
    )
    return _comparable(done.result.result)


def test_spark_and_duckdb_give_the_same_result(spark: Any, world: World) -> None:
    reader = SparkLogReader(spark=spark)
    quiet = _run(world, "hourly", 0, reader)
    assert quiet == _run(world, "hourly", 0, None)
    assert quiet["status"] == "ok"
    assert quiet["drift"]["current_rows"] == 600
    assert quiet["performance"]["labelled_rows"] == 400
    assert quiet["performance"]["estimated"]["metrics"]["accuracy"] > 0.8  # CBPE learned from the labels

    drifted = _run(world, "hourly", 1, reader)
    assert drifted == _run(world, "hourly", 1, None)
    assert drifted["status"] == "alert"
    assert {c["condition"] for c in drifted["conditions"] if c["breached"]} == {"feature_drift:tenure", "drift_share"}

    empty = _run(world, "hourly", 5, reader)
    assert empty == _run(world, "hourly", 5, None)
    assert empty["status"] == "not_enough_data"


def _cli(capsys: pytest.CaptureFixture[str], world: World, *args: str) -> tuple[int, str, str]:
    home = str(Path(world.root).parent)
    with pytest.raises(SystemExit) as exited:
        main(["--home", home, *args])
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def test_the_cli_reads_the_engine_from_the_settings(
    spark: Any, world: World, isolated_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A row-count window: the last 500 rows of the whole log, whatever the time now.
    code, out, err = _cli(capsys, world, "monitors", "run", "last-rows", "--json")
    assert code == 0, err
    with_duckdb = json.loads(out)["result"]
    monkeypatch.setenv("MLPILOT_MONITOR_ENGINE", "spark")
    monkeypatch.setenv("MLPILOT_SPARK_MASTER", spark.sparkContext.master)
    code, out, err = _cli(capsys, world, "monitors", "run", "last-rows", "--json")
    assert code == 0, err
    with_spark = json.loads(out)["result"]
    assert with_spark["drift"]["current_rows"] == 500
    ignored = ("created_at", "id", "window")
    assert {k: v for k, v in with_spark.items() if k not in ignored} == {
        k: v for k, v in with_duckdb.items() if k not in ignored
    }
    assert with_spark["window"]["start"] == with_duckdb["window"]["start"]


def test_the_server_runs_monitors_with_its_engine(spark: Any, world: World, isolated_env: Path) -> None:
    home = Path(world.root).parent
    # A row-count window: the last 500 rows of the whole log, whatever the time now.
    expected = run_monitor(
        world.db, world.content, "last-rows", predictions_root=world.root, cache_root=world.cache
    ).result.to_dict()
    server = LiveServer(
        f"sqlite:///{home / 'mlpilot.db'}",
        str(home / "artifacts"),
        home,
        server_rate_limit=0,
        monitor_tick_seconds=0,
        pipeline_tick_seconds=0,
        monitor_engine="spark",
    ).start()
    try:
        with httpx.Client(headers={"Authorization": f"Bearer {server.admin_key}"}, timeout=120) as http:
            answer = http.post(f"{server.url}/api/v1/monitors/last-rows/run")
    finally:
        server.stop()
    assert answer.status_code == 200, answer.text
    result = answer.json()["result"]
    assert result["drift"]["current_rows"] == 500
    ignored = ("created_at", "id", "window")
    assert {k: v for k, v in result.items() if k not in ignored} == {
        k: v for k, v in expected.items() if k not in ignored
    }


def test_a_bad_engine_names_the_valid_ones(
    world: World, isolated_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(InvalidInput, match="monitor_engine: Input should be 'duckdb' or 'spark'"):
        load_settings(monitor_engine="gpu")
    monkeypatch.setenv("MLPILOT_MONITOR_ENGINE", "gpu")
    code, _, err = _cli(capsys, world, "monitors", "run", "hourly")
    assert code == 2
    assert "monitor_engine: Input should be 'duckdb' or 'spark'" in err
    assert "Traceback" not in err
    assert isinstance(log_reader(load_settings(monitor_engine="spark")), SparkLogReader)


def test_spark_without_java_says_what_to_install(
    world: World,
    isolated_env: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # In process: the check looks at PATH and JAVA_HOME before anything asks for a session.
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("MLPILOT_MONITOR_ENGINE", "spark")
    code, _, err = _cli(capsys, world, "monitors", "run", "hourly")
    assert code == 7
    assert "Spark cannot run here: no Java runtime was found" in err
    assert "pip install 'mlpilot[spark]'" in err
    assert "Traceback" not in err
