"""The curated public API: complete, sorted, and importable."""

from __future__ import annotations

import mlpilot


def test_all_is_sorted_and_resolvable() -> None:
    assert list(mlpilot.__all__) == sorted(mlpilot.__all__)
    for name in mlpilot.__all__:
        assert hasattr(mlpilot, name), name


def test_every_public_name_is_exported() -> None:
    public = {name for name in vars(mlpilot) if not name.startswith("_")}
    submodules = {
        "cli",
        "client",
        "config",
        "data",
        "errors",
        "store",
        "tracking",
        "artifacts",
        "projects",
        "models",
        "registry",
        "security",
    }
    assert public - submodules == set(mlpilot.__all__) - {"__version__"}
