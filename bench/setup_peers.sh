#!/usr/bin/env bash
# Create the peer venvs used by the side-by-side benchmarks.
#
#   bash bench/setup_peers.sh            # both venvs
#   bash bench/setup_peers.sh mlflow     # only .bench/mlflow-venv
#   bash bench/setup_peers.sh evidently  # only .bench/evidently-venv
#
# .bench/mlflow-venv (tracking, model loading, serving): MLflow 3.17.x (or the newest 3.x if 3.17
# is not on the index) and pandas<3.
# .bench/evidently-venv (drift): evidently==0.7.23 and pandas<3.
# Both live under .bench/, which is gitignored. Running the script again skips a venv whose
# packages are already importable at the wanted versions.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
EVIDENTLY_VERSION="0.7.23"
export MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true PIP_DISABLE_PIP_VERSION_CHECK=1

# Create the venv $1 if it does not exist yet, with an up-to-date pip.
make_venv() {
    local venv="$1"
    mkdir -p "${ROOT}/.bench"
    if [[ ! -x "${venv}/bin/python" ]]; then
        echo "Creating ${venv} with $(${PY} -V)"
        "${PY}" -m venv "${venv}"
    fi
    "${venv}/bin/python" -m pip install --quiet --upgrade pip
}

setup_mlflow() {
    local venv="${ROOT}/.bench/mlflow-venv"
    if [[ -x "${venv}/bin/python" ]] && "${venv}/bin/python" - <<'PY' 2>/dev/null; then
import sys
from importlib.metadata import version

major = int(version("mlflow").split(".")[0])
import pandas  # noqa: F401

sys.exit(0 if major == 3 and int(pandas.__version__.split(".")[0]) < 3 else 1)
PY
        echo "MLflow $("${venv}/bin/python" -c 'from importlib.metadata import version; print(version("mlflow"))') already installed in ${venv}; nothing to do."
        return 0
    fi

    make_venv "${venv}"
    echo "Installing mlflow==3.17.* (this takes a few minutes)"
    if ! "${venv}/bin/python" -m pip install --quiet "mlflow==3.17.*" "pandas<3"; then
        echo "mlflow 3.17 is not available; falling back to the newest MLflow 3.x"
        "${venv}/bin/python" -m pip install --quiet "mlflow>=3,<4" "pandas<3"
    fi
    "${venv}/bin/python" -c 'from importlib.metadata import version; print("installed mlflow", version("mlflow"), "pandas", version("pandas"))'
}

setup_evidently() {
    local venv="${ROOT}/.bench/evidently-venv"
    if [[ -x "${venv}/bin/python" ]] && "${venv}/bin/python" - "${EVIDENTLY_VERSION}" <<'PY' 2>/dev/null; then
import sys
from importlib.metadata import version

import evidently  # noqa: F401
import pandas

sys.exit(0 if version("evidently") == sys.argv[1] and int(pandas.__version__.split(".")[0]) < 3 else 1)
PY
        echo "Evidently ${EVIDENTLY_VERSION} already installed in ${venv}; nothing to do."
        return 0
    fi

    make_venv "${venv}"
    echo "Installing evidently==${EVIDENTLY_VERSION} (this takes a few minutes)"
    "${venv}/bin/python" -m pip install --quiet "evidently==${EVIDENTLY_VERSION}" "pandas<3"
    "${venv}/bin/python" -c 'from importlib.metadata import version as v; print("installed evidently", v("evidently"), "pandas", v("pandas"), "numpy", v("numpy"), "scipy", v("scipy"))'
}

case "${1:-all}" in
    all) setup_mlflow; setup_evidently ;;
    mlflow) setup_mlflow ;;
    evidently) setup_evidently ;;
    *) echo "usage: bash bench/setup_peers.sh [all|mlflow|evidently]" >&2; exit 2 ;;
esac
