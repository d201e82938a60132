"""``mlpilot export``: files other tools read — a Grafana dashboard, a Docker image, Kubernetes
manifests, Prometheus scrape config and alert rules — for one deployment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlpilot.cli.context import get_client, get_settings
from mlpilot.cli.render import console, err_console
from mlpilot.errors import Conflict, InvalidInput

if TYPE_CHECKING:
    from mlpilot.client import Client
    from mlpilot.ops.exports import ServedModel

app = typer.Typer(help="Export dashboards and configuration for other tools.", no_args_is_help=True)

DeploymentArg = Annotated[str, typer.Argument(help="The deployment to export.")]
Force = Annotated[bool, typer.Option("--force", help="Replace files that already exist.")]
_YAML = (".yaml", ".yml")


@app.command("grafana")
def grafana(
    ctx: typer.Context,
    deployment: Annotated[str, typer.Argument(help="The deployment the dashboard shows.")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of printing.")] = None,
) -> None:
    """A Grafana dashboard (JSON, importable) over exactly the metrics mlpilot exposes."""
    from mlpilot.monitoring.grafana import grafana_dashboard  # pandas comes with monitoring: load it when used

    client = get_client(ctx)
    client.get_deployment(deployment)  # a clear NotFound for a misspelt name
    features: list[str] = []
    for monitor in client.list_monitors(deployment=deployment):
        latest = client.monitor_results(monitor.name, limit=1)
        drift = (latest[0].get("drift") or {}) if latest else {}
        features.extend(f["column"] for f in drift.get("features", []) if f["column"] not in features)
    text = json.dumps(grafana_dashboard(deployment, features=features), indent=2)
    if output is None:
        print(text)
        return
    _write({output: text + "\n"}, force=True)
    console.print(f"wrote {output}: a dashboard for deployment {deployment!r} ({len(features)} features)")


@app.command("docker")
def docker(
    ctx: typer.Context,
    deployment: DeploymentArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for Dockerfile and requirements.txt.")] = Path(
        "."
    ),
    force: Force = False,
) -> None:
    """A Dockerfile (non-root, with a health check) running `mlpilot serve`, and requirements.txt
    pinned from the environment the served version's run recorded."""
    from mlpilot.ops.exports import docker_files, kube_name

    served = _served(get_client(ctx), deployment)
    files = docker_files(served)
    _write({output / name: text for name, text in files.items()}, force=force)
    console.print(
        f"wrote {output / 'Dockerfile'} and {output / 'requirements.txt'} ({len(served.requirements)} pinned "
        f"packages, Python {served.python}) serving {served.target}",
        markup=False,
        soft_wrap=True,
    )
    console.print(f"next: docker build -t {kube_name(deployment)} {output}", markup=False, soft_wrap=True)


@app.command("k8s")
def k8s(
    ctx: typer.Context,
    deployment: DeploymentArg,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="A .yaml file, or a folder (default: print).")
    ] = None,
    image: Annotated[str | None, typer.Option("--image", help="Container image (default: NAME:latest).")] = None,
    replicas: Annotated[int, typer.Option("--replicas", help="Replicas at least (the HPA's minimum).")] = 2,
    max_replicas: Annotated[int, typer.Option("--max-replicas", help="Most replicas the HPA may run.")] = 10,
    cpu_target: Annotated[int, typer.Option("--cpu-target", help="Average CPU % the HPA aims for.")] = 70,
    secret: Annotated[
        str, typer.Option("--secret", help="Secret holding the database URI under key 'tracking-uri'.")
    ] = "mlpilot-store",
    force: Force = False,
) -> None:
    """Deployment, Service, HorizontalPodAutoscaler and ConfigMap (one YAML stream) for `kubectl apply -f`."""
    from mlpilot.ops.exports import KubeOptions, k8s_manifests, kube_name, to_yaml_documents

    served = _served(get_client(ctx), deployment)
    settings = get_settings(ctx)
    storage = {
        "artifact_uri": _shared(settings.resolved_artifact_uri(), "MLPILOT_ARTIFACT_URI"),
        "predictions_uri": _shared(settings.resolved_predictions_uri(), "MLPILOT_PREDICTIONS_URI"),
    }
    options = KubeOptions(
        image=image,
        replicas=replicas,
        max_replicas=max_replicas,
        cpu_target=cpu_target,
        secret=secret,
        **{key: value for key, value in storage.items() if value is not None},
    )
    text = to_yaml_documents(k8s_manifests(served, options))
    if output is None:
        print(text, end="")
        return
    target = output if output.suffix in _YAML else output / f"{kube_name(deployment)}.yaml"
    _write({target: text}, force=force)
    console.print(f"wrote {target}: ConfigMap, Deployment, Service, HorizontalPodAutoscaler", markup=False)
    console.print(f"next: kubectl apply -f {target}", markup=False, soft_wrap=True)


@app.command("prometheus")
def prometheus(
    ctx: typer.Context,
    deployment: DeploymentArg,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Folder for prometheus.yml and the rules file (default: print)."),
    ] = None,
    target: Annotated[
        list[str] | None,
        typer.Option("--target", help="host:port to scrape (repeatable); default: discover the k8s export's pods."),
    ] = None,
    force: Force = False,
) -> None:
    """A scrape config and alert rules (drift, accuracy, latency, error rate); thresholds from the
    deployment's monitors, else the documented defaults."""
    from mlpilot.ops.exports import prometheus_files, to_yaml

    client = get_client(ctx)
    client.get_deployment(deployment)  # a clear NotFound for a misspelt name
    configs = [monitor.config for monitor in client.list_monitors(deployment=deployment)]
    files = {
        name: to_yaml(document)
        for name, document in prometheus_files(deployment, configs, targets=target or []).items()
    }
    if output is None:
        print("---\n".join(f"# {name}\n{text}" for name, text in files.items()), end="")
        return
    if output.suffix in _YAML:
        raise InvalidInput(
            f"{output} looks like a file, but this export writes two",
            hint="Pass a folder with -o (created if missing).",
        )
    _write({output / name: text for name, text in files.items()}, force=force)
    console.print(
        f"wrote {', '.join(str(output / name) for name in files)} ({len(configs)} monitor(s) set the thresholds)",
        markup=False,
        soft_wrap=True,
    )


def _served(client: Client, deployment: str) -> ServedModel:
    """The deployment, the version it serves now, and that version's run environment."""
    from mlpilot.ops.exports import ServedModel

    found = client.get_deployment(deployment)
    traffic = client.deployment_traffic(deployment)
    version = client.get_model_version(found.model, traffic.primary)
    # A rollback pins a version while the alias still points at the bad one: serve the pin.
    alias = found.target.alias
    target = (
        f"{found.model}@{alias}" if alias is not None and not traffic.pinned else f"{found.model}/{version.version}"
    )
    environment = client.get_run_environment(version.run_id)
    workers = found.config.get("workers")
    return ServedModel.from_records(
        deployment,
        found.model,
        target,
        version.version,
        version.run_id,
        environment,
        None if workers is None else int(workers),
    )


def _shared(uri: str, variable: str) -> str | None:
    """``uri`` when every replica can reach it (an object store URL); None for a local folder,
    which a pod cannot see, so the manifest keeps its placeholder."""
    if "://" in uri and not uri.startswith("file://"):
        return uri
    err_console.print(f"note: {variable} is a local folder here; set it in the ConfigMap to shared storage (s3://…)")
    return None


def _write(files: dict[Path, str], *, force: bool) -> None:
    """Write every file or none: an existing one is refused (before anything is written) unless ``force``."""
    existing = [str(path) for path in files if path.exists()]
    if existing and not force:
        raise Conflict(f"{', '.join(existing)} already exist(s); not overwriting", hint="Pass --force to replace.")
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    except OSError as problem:
        raise InvalidInput(
            f"cannot write {problem.filename}: {problem.strerror}", hint="Check the folder is writable."
        ) from None
