"""The whole loop, as `make demo` runs it: drift injected as live traffic → the monitor alerts →
the server starts the retraining pipeline → gate → canary on live traffic → promotion."""

from __future__ import annotations

from pathlib import Path

from mlpilot.demo.loop import DemoOptions, run_demo


def test_drift_alert_retrain_gate_canary_promote(tmp_path: Path, isolated_env: Path) -> None:
    said: list[str] = []
    outcome = run_demo(DemoOptions(home=tmp_path / "demo", say=said.append))

    assert outcome["rollout"]["action"] == "promoted", "\n".join(said)
    assert outcome["rollout"]["version"] == 2
    assert outcome["accuracy_after"] > outcome["accuracy_before"] + 0.05
    text = "\n".join(said)
    assert "Alert: " in text and "drifted" in text
    assert "gate: BLESSED" in text and "DORA deployment frequency: 2 deployments" in text
