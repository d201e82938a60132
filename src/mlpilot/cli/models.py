"""``mlpilot models``: the registry from the command line."""

from __future__ import annotations

from typing import Annotated

import typer

from mlpilot.cli.context import get_client
from mlpilot.cli.render import console, format_ms, print_json, print_table
from mlpilot.registry.records import ModelVersion

app = typer.Typer(help="Register models, move aliases, roll back, and trace lineage.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
Reason = Annotated[str | None, typer.Option("--reason", "-r", help="Why; kept in the model's audit trail.")]
VersionArg = Annotated[str, typer.Argument(help="A version number, 'latest' or '@alias'.")]


def _version_rows(versions: list[ModelVersion]) -> list[list[object]]:
    return [
        [
            v.version,
            v.status.value,
            ", ".join(v.aliases) or "-",
            v.flavor,
            v.run_id,
            format_ms(v.created_at),
            v.sha256[:12],
        ]
        for v in versions
    ]


_VERSION_COLUMNS = ["version", "status", "aliases", "flavor", "run", "created", "sha256"]


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Registered models with their latest version and aliases."""
    models = get_client(ctx).list_registered_models()
    if as_json:
        print_json([model.to_dict() for model in models])
        return
    print_table(
        "Registered models",
        ["name", "latest", "aliases", "updated", "description"],
        (
            [
                m.name,
                m.latest_version,
                ", ".join(f"{alias}→{version}" for alias, version in m.aliases.items()) or "-",
                format_ms(m.updated_at),
                m.description,
            ]
            for m in models
        ),
    )


@app.command("show")
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The registered model.")],
    version: Annotated[str | None, typer.Argument(help="A version, 'latest' or '@alias'; all when omitted.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """A model's versions, or one version in full."""
    client = get_client(ctx)
    if version is None:
        model = client.get_registered_model(name)
        versions = client.list_model_versions(name)
        if as_json:
            print_json({**model.to_dict(), "versions": [v.to_dict() for v in versions]})
            return
        print_table(f"Model {name}", _VERSION_COLUMNS, _version_rows(versions))
        return
    found = client.get_model_version(name, version)
    if as_json:
        print_json(found.to_dict())
        return
    print_table(
        f"{found.uri}",
        ["field", "value"],
        [
            ["status", found.status.value],
            ["aliases", ", ".join(found.aliases) or "-"],
            ["flavor", found.flavor],
            ["source", found.source],
            ["sha256", found.sha256],
            ["created", f"{format_ms(found.created_at)} by {found.created_by}"],
            ["description", found.description],
        ],
    )
    print_table("Metrics", ["key", "value"], sorted(found.metrics.items()))
    inputs = (found.signature or {}).get("inputs", [])
    print_table(
        "Signature inputs",
        ["column", "type", "nullable"],
        ([c.get("name"), c.get("type"), c.get("nullable")] for c in inputs),
    )


@app.command("register")
def register(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="The run that logged the model.")],
    artifact_path: Annotated[str, typer.Argument(help="Where the run logged it, e.g. 'model'.")],
    name: Annotated[str, typer.Argument(help="The registered model's name.")],
    description: Annotated[str | None, typer.Option("--description", "-d")] = None,
    reason: Reason = None,
    as_json: JsonFlag = False,
) -> None:
    """Make a run's model the next version of NAME."""
    version = get_client(ctx).register_model(run_id, artifact_path, name, description=description, reason=reason)
    if as_json:
        print_json(version.to_dict())
    else:
        console.print(f"registered {version.uri} (sha256 {version.sha256[:12]}…)")


@app.command("import-mlflow")
def import_mlflow(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(help="An MLflow model directory (the folder holding MLmodel).")],
    name: Annotated[str, typer.Option("--name", "-n", help="The registered model's name.")],
    alias_name: Annotated[str | None, typer.Option("--alias", help="Point this alias at the new version.")] = None,
    experiment: Annotated[str, typer.Option("--experiment", "-e", help="Experiment of the import run.")] = (
        "mlflow-imports"
    ),
    as_json: JsonFlag = False,
) -> None:
    """Import an MLflow model (sklearn, xgboost, lightgbm, python_function) as the next version of NAME."""
    from mlpilot.client.mlflow_import import import_mlflow_model

    version = import_mlflow_model(get_client(ctx), path, name, experiment=experiment, alias=alias_name)
    if as_json:
        print_json(version.to_dict())
    else:
        console.print(f"imported {path} as {version.uri} ({version.flavor}, sha256 {version.sha256[:12]}…)")


@app.command("alias")
def alias(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The registered model.")],
    alias_name: Annotated[str, typer.Argument(metavar="ALIAS", help="e.g. production, staging, challenger.")],
    version: Annotated[int | None, typer.Argument(help="The version to point at (omit with --delete).")] = None,
    delete: Annotated[bool, typer.Option("--delete", help="Remove the alias.")] = False,
    reason: Reason = None,
) -> None:
    """Point an alias at a version (or move or delete it)."""
    client = get_client(ctx)
    if delete:
        client.delete_alias(name, alias_name, reason=reason)
        console.print(f"deleted alias {alias_name!r} of {name!r}")
        return
    if version is None:
        raise typer.BadParameter("give the VERSION to point the alias at, or --delete", param_hint="VERSION")
    found = client.set_alias(name, alias_name, version, reason=reason)
    console.print(f"models:/{name}@{alias_name} → version {found.version}")


@app.command("rollback")
def rollback(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The registered model.")],
    alias_name: Annotated[str, typer.Argument(metavar="ALIAS")],
    reason: Reason = None,
) -> None:
    """Move an alias back to the version that held it before its last move."""
    found = get_client(ctx).rollback(name, alias_name, reason=reason)
    console.print(f"models:/{name}@{alias_name} rolled back to version {found.version}")


@app.command("archive")
def archive(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The registered model.")],
    version: Annotated[int, typer.Argument(help="The version to archive.")],
    reason: Reason = None,
) -> None:
    """Archive a version: kept and readable, but skipped by 'latest' and closed to aliases."""
    found = get_client(ctx).archive_model_version(name, version, reason=reason)
    console.print(f"archived {found.uri}")


@app.command("events")
def events(ctx: typer.Context, name: Annotated[str, typer.Argument()], as_json: JsonFlag = False) -> None:
    """The audit trail: every registration, alias move, rollback and archive."""
    found = get_client(ctx).model_events(name)
    if as_json:
        print_json([event.to_dict() for event in found])
        return
    print_table(
        f"Events of {name}",
        ["when", "action", "version", "alias", "from", "who", "why"],
        ([format_ms(e.created_at), e.action, e.version, e.alias, e.from_version, e.actor, e.reason] for e in found),
    )


@app.command("lineage")
def lineage(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument()],
    version: VersionArg = "latest",
    as_json: JsonFlag = False,
) -> None:
    """The run, params, metrics, dataset versions and git commit behind a version."""
    found = get_client(ctx).model_lineage(name, version).to_dict()
    if as_json:
        print_json(found)
        return
    run = found["run"]
    print_table(
        found["model"]["uri"],
        ["field", "value"],
        [
            ["run", f"{run['id']} ({run['name']}, {run['experiment']})"],
            ["git commit", run["git_commit"]],
            ["git dirty", run["git_dirty"]],
            ["entry point", run["entry_point"]],
            ["sha256", found["model"]["sha256"]],
        ],
    )
    print_table("Params", ["key", "value"], sorted(run["params"].items()))
    print_table("Metrics", ["key", "value"], sorted(run["metrics"].items()))
    print_table(
        "Datasets", ["dataset", "version", "role"], ([d["dataset"], d["version"], d["role"]] for d in found["datasets"])
    )


@app.command("compare")
def compare(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument()],
    a: VersionArg,
    b: VersionArg,
    as_json: JsonFlag = False,
) -> None:
    """Metrics, params, data versions and signature differences between two versions."""
    found = get_client(ctx).compare_model_versions(name, a, b).to_dict()
    if as_json:
        print_json(found)
        return
    rows = [
        [f"{section}.{key}", change["a"], change["b"]]
        for section in ("metrics", "params", "datasets", "signature")
        for key, change in found[section].items()
    ]
    print_table(f"{found['a']} vs {found['b']}", ["field", "a", "b"], rows)
    if found["same_artifact"]:
        console.print("[dim]both versions hold the same artifact (same sha256)[/dim]")
