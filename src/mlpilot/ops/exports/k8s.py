"""``mlpilot export k8s``: a Deployment, Service, HorizontalPodAutoscaler and ConfigMap.

Replicas are stateless: they share the store (PostgreSQL) and the artifact and prediction-log
storage (an object store), so the HPA may add and remove them freely. The database URI carries a
password and so comes from a Secret the cluster operator creates; the manifest only names it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlpilot.errors import InvalidInput
from mlpilot.ops.exports.docker import HEALTH_PATH, READY_PATH, UID, serve_command
from mlpilot.ops.exports.served import PORT, ServedModel, kube_name

__all__ = ["KubeOptions", "k8s_manifests"]

_DNS_LABEL_HINT = "Use lowercase letters, digits and '-', starting with a letter, at most 63 characters."


@dataclass(frozen=True, slots=True)
class KubeOptions:
    image: str | None = None  # default: the tag `export docker` suggests
    replicas: int = 2
    max_replicas: int = 10
    cpu_target: int = 70  # average CPU utilisation (% of requests) the HPA aims for
    secret: str = "mlpilot-store"  # the Secret holding the database URI …
    secret_key: str = "tracking-uri"  # … under this key
    artifact_uri: str = "s3://CHANGE-ME/mlpilot/artifacts"
    predictions_uri: str = "s3://CHANGE-ME/mlpilot/predictions"
    cpu: str = "1"  # requested per replica; one worker process per requested core
    memory: str = "1Gi"

    def check(self) -> None:
        if not 1 <= self.replicas <= self.max_replicas:
            raise InvalidInput(
                f"replicas ({self.replicas}) must be at least 1 and at most max replicas ({self.max_replicas})",
                hint="Pass --replicas N --max-replicas M with 1 <= N <= M.",
            )
        if not 1 <= self.cpu_target <= 100:
            raise InvalidInput(f"the CPU target {self.cpu_target} is not a percentage", hint="Pass 1 to 100.")
        for what, name in (("secret", self.secret), ("secret key", self.secret_key)):
            if not name or len(name) > 253 or not all(c.isalnum() or c in "-._" for c in name):
                raise InvalidInput(f"{what} {name!r} is not a valid Kubernetes name", hint=_DNS_LABEL_HINT)


def k8s_manifests(served: ServedModel, options: KubeOptions | None = None) -> list[dict[str, Any]]:
    """The four objects, in the order ``kubectl apply`` should create them (the ConfigMap first)."""
    options = options or KubeOptions()
    options.check()
    name = kube_name(served.deployment)
    labels = {
        "app.kubernetes.io/name": "mlpilot-serve",
        "app.kubernetes.io/instance": name,
        "app.kubernetes.io/managed-by": "mlpilot",
    }
    # Label values are limited to 63 characters; deployment names reach 100, so they go in annotations.
    annotations = {"mlpilot.dev/deployment": served.deployment, "mlpilot.dev/model": served.target}
    metadata = {"name": name, "labels": labels, "annotations": annotations}
    config = f"{name}-config"
    workers = options.cpu if options.cpu.isdigit() else "1"  # "500m" and the like: one worker
    configmap = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {**metadata, "name": config},
        "data": {
            "MLPILOT_ARTIFACT_URI": options.artifact_uri,
            "MLPILOT_PREDICTIONS_URI": options.predictions_uri,
            "MLPILOT_SERVE_WORKERS": workers,
            "MLPILOT_HOME": "/home/mlpilot/.mlpilot",
        },
    }
    container = {
        "name": "serve",
        "image": options.image or f"{name}:latest",
        "command": serve_command(served)[:1],
        "args": serve_command(served)[1:],
        "ports": [{"name": "http", "containerPort": PORT, "protocol": "TCP"}],
        "envFrom": [{"configMapRef": {"name": config}}],
        "env": [
            {
                "name": "MLPILOT_TRACKING_URI",
                "valueFrom": {"secretKeyRef": {"name": options.secret, "key": options.secret_key}},
            }
        ],
        "resources": {
            "requests": {"cpu": options.cpu, "memory": options.memory},
            "limits": {"memory": options.memory},  # no CPU limit: throttling would only add latency
        },
        "livenessProbe": _probe(HEALTH_PATH, period=10, failures=3),
        "readinessProbe": _probe(READY_PATH, period=5, failures=2),
        # Loading and warming a large model can take a while; liveness waits for this first.
        "startupProbe": _probe(HEALTH_PATH, period=5, failures=24),
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        # The model cache and Prometheus' multi-process files need writable folders.
        "volumeMounts": [{"name": "home", "mountPath": "/home/mlpilot/.mlpilot"}, {"name": "tmp", "mountPath": "/tmp"}],
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata,
        "spec": {
            "replicas": options.replicas,
            "selector": {"matchLabels": {"app.kubernetes.io/instance": name}},
            "template": {
                "metadata": {"labels": labels, "annotations": annotations},
                "spec": {
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": UID,
                        "runAsGroup": UID,
                        "fsGroup": UID,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                    "volumes": [{"name": "home", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}],
                },
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata,
        "spec": {
            "selector": {"app.kubernetes.io/instance": name},
            "ports": [{"name": "http", "port": PORT, "targetPort": "http", "protocol": "TCP"}],
        },
    }
    autoscaler = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": metadata,
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": options.replicas,
            "maxReplicas": options.max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": options.cpu_target},
                    },
                }
            ],
        },
    }
    return [configmap, deployment, service, autoscaler]


def _probe(path: str, *, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "timeoutSeconds": 3,
        "failureThreshold": failures,
    }
