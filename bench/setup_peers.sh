#!/usr/bin/env bash
# Create the peer venv used by the side-by-side benchmarks (bench/tracking.py).
#
#   bash bench/setup_peers.sh
#
# Installs MLflow 3.17.x (or the newest 3.x if 3.17 is not on the index) and pandas<3 into
# .bench/mlflow-venv, which is gitignored. Running it again skips the install when MLflow 3.x is
# already importable there.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ROOT}/.bench/mlflow-venv"
PY="${PYTHON:-python3}"
export MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true PIP_DISABLE_PIP_VERSION_CHECK=1

if [[ -x "${VENV}/bin/python" ]] && "${VENV}/bin/python" - <<'PY' 2>/dev/null; then
import sys
from importlib.metadata import version

major = int(version("mlflow").split(".")[0])
import pandas  # noqa: F401

sys.exit(0 if major == 3 and int(pandas.__version__.split(".")[0]) < 3 else 1)
PY
    echo "MLflow $("${VENV}/bin/python" -c 'from importlib.metadata import version; print(version("mlflow"))') already installed in ${VENV}; nothing to do."
    exit 0
fi

mkdir -p "${ROOT}/.bench"
if [[ ! -x "${VENV}/bin/python" ]]; then
    echo "Creating ${VENV} with $(${PY} -V)"
    "${PY}" -m venv "${VENV}"
fi
"${VENV}/bin/python" -m pip install --quiet --upgrade pip

echo "Installing mlflow==3.17.* (this takes a few minutes)"
if ! "${VENV}/bin/python" -m pip install --quiet "mlflow==3.17.*" "pandas<3"; then
    echo "mlflow 3.17 is not available; falling back to the newest MLflow 3.x"
    "${VENV}/bin/python" -m pip install --quiet "mlflow>=3,<4" "pandas<3"
fi

"${VENV}/bin/python" -c 'from importlib.metadata import version; print("installed mlflow", version("mlflow"), "pandas", version("pandas"))'
