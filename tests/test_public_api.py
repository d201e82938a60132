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
        "server",
        "wire",
        "serving",
        "apidocs",
        "prediction_log",
        "deployments",
        "monitoring",
        "evaluation",
        "orchestration",
        "ops",
        "pipelines",
        "demo",
        "spark",
    }
    typing_helpers = {"TYPE_CHECKING", "Any"}
    lazy = {"LoadedModel", "drift"}  # resolved by mlpilot.__getattr__ so `import mlpilot` does not load pandas
    assert (public - submodules - typing_helpers) | lazy == set(mlpilot.__all__) - {"__version__"}


def test_import_mlpilot_does_not_load_pandas_or_the_web_stack() -> None:
    import subprocess
    import sys

    code = (
        "import sys, mlpilot, mlpilot.cli.app; print([m for m in ('pandas', 'fastapi', 'uvicorn') if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
