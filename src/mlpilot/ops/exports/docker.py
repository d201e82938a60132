"""``mlpilot export docker``: a Dockerfile and the pinned requirements for one deployment.

The image holds code and packages only. The model is not copied in: ``mlpilot serve`` fetches
it from the artifact store (and checks its sha256) when it starts and whenever the alias moves,
so one image serves every future version trained in the same environment. The store itself is
reached through ``MLPILOT_TRACKING_URI`` / ``MLPILOT_ARTIFACT_URI`` given at run time, so no
database password or API key is ever part of an image layer.
"""

from __future__ import annotations

import json

from mlpilot.ops.exports.served import PORT, ServedModel, kube_name, python_minor

__all__ = ["HEALTH_PATH", "READY_PATH", "UID", "docker_files", "serve_command"]

HEALTH_PATH = "/healthz"  # answers while the process runs (liveness)
READY_PATH = "/readyz"  # answers 200 once the model is loaded (readiness)
UID = 10001  # above the range distributions give system users, so it matches no host account
REQUIREMENTS = "requirements.txt"


def serve_command(served: ServedModel) -> list[str]:
    """``mlpilot serve`` as the container runs it: every address given, so nothing depends on defaults."""
    command = ["mlpilot", "serve", served.target, "--name", served.deployment, "--host", "0.0.0.0", "--port", str(PORT)]
    return command if served.workers is None else [*command, "--workers", str(served.workers)]


def docker_files(served: ServedModel) -> dict[str, str]:
    """``{"Dockerfile": …, "requirements.txt": …}`` for ``served``."""
    requirements = served.requirements
    tag = kube_name(served.deployment)
    health = f"http://127.0.0.1:{PORT}{HEALTH_PATH}"
    # The slim image has no curl; its Python does the probe, failing on any non-2xx answer.
    probe = f"import urllib.request; urllib.request.urlopen({health!r}, timeout=4)"
    dockerfile = f"""\
# syntax=docker/dockerfile:1
# mlpilot export docker {served.deployment}
# Serves {served.target} (version {served.version} at export time) at /v1/deployments/{served.deployment}/predict.
# Packages pinned from the environment run {served.run_id} recorded (Python {served.python}).
#
#   docker build -t {tag} .
#   docker run -p {PORT}:{PORT} \\
#     -e MLPILOT_TRACKING_URI=postgresql://USER@HOST/DB -e MLPILOT_ARTIFACT_URI=s3://BUCKET/artifacts \\
#     -e MLPILOT_PREDICTIONS_URI=s3://BUCKET/predictions {tag}
#
# No secret is built in: the store's address (with its password) comes from the environment at
# run time, and API keys live hashed in the store.
FROM python:{python_minor(served.python)}-slim

ENV PYTHONDONTWRITEBYTECODE=1 \\
    PYTHONUNBUFFERED=1 \\
    PIP_NO_CACHE_DIR=1 \\
    PIP_DISABLE_PIP_VERSION_CHECK=1 \\
    MLPILOT_HOME=/home/mlpilot/.mlpilot

COPY {REQUIREMENTS} /tmp/{REQUIREMENTS}
RUN pip install --no-cache-dir -r /tmp/{REQUIREMENTS} && rm /tmp/{REQUIREMENTS}

RUN groupadd --system --gid {UID} mlpilot \\
    && useradd --system --uid {UID} --gid mlpilot --create-home --home-dir /home/mlpilot mlpilot
USER {UID}:{UID}
WORKDIR /home/mlpilot

EXPOSE {PORT}
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \\
    CMD ["python", "-c", {json.dumps(probe)}]
CMD {json.dumps(serve_command(served))}
"""
    header = (
        f"# Pinned from the environment run {served.run_id} recorded (Python {served.python}),\n"
        f"# which trained {served.model} version {served.version}.\n"
    )
    return {"Dockerfile": dockerfile, REQUIREMENTS: header + "\n".join(requirements) + "\n"}
