"""Settings precedence: flags over MLPILOT_* variables over mlpilot.toml over defaults."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlpilot.config import load_settings
from mlpilot.errors import InvalidInput


def test_defaults(isolated_env: Path) -> None:
    settings = load_settings()
    assert settings.home == Path(".mlpilot")
    assert settings.resolved_tracking_uri() == f"sqlite:///{isolated_env / '.mlpilot' / 'mlpilot.db'}"
    assert settings.resolved_artifact_uri() == str(isolated_env / ".mlpilot" / "artifacts")


def test_precedence(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (isolated_env / "mlpilot.toml").write_text('[mlpilot]\nexperiment_name = "from-toml"\nhome = "toml-home"\n')
    assert load_settings().experiment_name == "from-toml"
    assert load_settings().home == Path("toml-home")
    monkeypatch.setenv("MLPILOT_EXPERIMENT_NAME", "from-env")
    assert load_settings().experiment_name == "from-env"
    assert load_settings(experiment_name="from-flag").experiment_name == "from-flag"
    assert load_settings(experiment_name=None).experiment_name == "from-env"


def test_tracking_uri_overrides_home(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLPILOT_TRACKING_URI", "postgresql://u@h/db")
    assert load_settings().resolved_tracking_uri() == "postgresql://u@h/db"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("[mlpilot\n", "not valid TOML"),
        ("mlpilot = 3\n", "must be a table"),
        ("[mlpilot]\nmetric_flush_interval = -1\n", "metric_flush_interval"),
        ("[mlpilot]\ncolour = 'red'\n", "colour"),
    ],
)
def test_bad_config_file(isolated_env: Path, content: str, fragment: str) -> None:
    (isolated_env / "mlpilot.toml").write_text(content)
    with pytest.raises(InvalidInput, match=fragment):
        load_settings()


def test_bad_environment_value(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLPILOT_METRIC_FLUSH_SIZE", "many")
    with pytest.raises(InvalidInput, match="metric_flush_size"):
        load_settings()


@pytest.mark.parametrize("proxies", ["", "*", "10.0.3.7", "10.0.0.0/8, 192.168.1.1", "::1,fd00::/8"])
def test_proxies_are_addresses_or_networks(proxies: str) -> None:
    assert load_settings(forwarded_allow_ips=proxies).forwarded_allow_ips == proxies


@pytest.mark.parametrize(("proxies", "named"), [("proxy.lan", "proxy.lan"), ("10.0.0.1, 10.0.0.0/33", "10.0.0.0/33")])
def test_a_proxy_that_is_not_an_address_is_refused_by_name(proxies: str, named: str) -> None:
    with pytest.raises(InvalidInput, match=f"forwarded_allow_ips: .*'{re.escape(named)}' is not an IP address"):
        load_settings(forwarded_allow_ips=proxies)
