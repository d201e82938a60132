"""Files other tools read, generated from what the store knows about a deployment: a Docker image,
Kubernetes manifests, Prometheus scrape config and alert rules, and CI workflows.

Generators are plain functions over records (no store access), so the CLI gathers the records
through whichever client transport it has and the same code serves a local or a remote store.
"""

from mlpilot.ops.exports.ci import CI_FILES, ci_workflow, prepare_ci_workflow, write_ci_workflow
from mlpilot.ops.exports.docker import docker_files, serve_command
from mlpilot.ops.exports.k8s import KubeOptions, k8s_manifests
from mlpilot.ops.exports.prometheus import alert_rules, prometheus_files, scrape_config, thresholds_of
from mlpilot.ops.exports.render import to_yaml, to_yaml_documents
from mlpilot.ops.exports.served import ServedModel, kube_name, pinned_requirements

__all__ = [
    "CI_FILES",
    "KubeOptions",
    "ServedModel",
    "alert_rules",
    "ci_workflow",
    "docker_files",
    "k8s_manifests",
    "kube_name",
    "pinned_requirements",
    "prepare_ci_workflow",
    "prometheus_files",
    "scrape_config",
    "serve_command",
    "thresholds_of",
    "to_yaml",
    "to_yaml_documents",
    "write_ci_workflow",
]
