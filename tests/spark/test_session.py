"""The one clear message when Spark cannot run: what is missing and what to install."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mlpilot.spark.session import SparkUnavailable, require_spark


def test_no_java_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(SparkUnavailable) as raised:
        require_spark({"PATH": str(tmp_path)})
    assert "no Java runtime was found" in raised.value.message
    assert "Java 17" in raised.value.hint
    assert "pip install 'mlpilot[spark]'" in raised.value.hint


def test_java_home_is_enough(tmp_path: Path) -> None:
    java = tmp_path / "jdk" / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text("")
    require_spark({"PATH": "", "JAVA_HOME": str(tmp_path / "jdk")})


def test_the_cli_prints_one_line_without_java(tmp_path: Path) -> None:
    # A real `mlpilot predict --engine spark` on a machine whose PATH has no java.
    (tmp_path / "in.parquet").write_bytes(b"")
    done = subprocess.run(
        [sys.executable, "-m", "mlpilot", "--home", str(tmp_path / "home"), "predict", "-m", "models:/m/1",
         "-i", str(tmp_path / "in.parquet"), "-o", str(tmp_path / "out"), "--engine", "spark"],
        env={"PATH": str(tmp_path), "HOME": str(tmp_path)},
        capture_output=True, text=True, timeout=120, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 7
    assert "Spark cannot run here: no Java runtime was found" in done.stderr
    assert "pip install 'mlpilot[spark]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_import_mlpilot_does_not_import_pyspark() -> None:
    code = "import sys, mlpilot, mlpilot.spark, mlpilot.models.flavors; print('pyspark' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "False"
