"""Run a project: plan (read, check, render — no side effects), then execute inside a run.

``execute`` creates the run, logs the resolved params, starts the command with ``MLPILOT_RUN_ID``
and the store locations in its environment (so ``mlpilot.start_run()`` in the script attaches to
this run instead of creating another), saves the command's output as ``logs/output.txt`` and ends
the run from the command's exit status. It never prints: output goes to the ``write`` callable.
"""

from __future__ import annotations

import codecs
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from mlpilot.client import Client
from mlpilot.errors import InactiveRun, MlpilotError, NotFound
from mlpilot.projects.params import parse_assignments, render_command, resolve_values
from mlpilot.projects.process import ProcessResult, run_streaming
from mlpilot.projects.spec import EntryPoint, ProjectSpec, is_script_name, load_project
from mlpilot.projects.values import ParamValue, format_value
from mlpilot.tracking.records import Run, RunStatus
from mlpilot.tracking.runs import clean_params

__all__ = ["OUTPUT_ARTIFACT", "ProjectRun", "RunOutcome", "child_environment", "execute", "plan_run"]

log = logging.getLogger(__name__)

OUTPUT_ARTIFACT = "logs/output.txt"
_MAX_TAG = 8000  # the tracking store's tag limit; a command built from long paths could pass it

Writer = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class ProjectRun:
    """Everything needed to run, checked: the project, the entry point, typed values, the command."""

    project: ProjectSpec
    entry_point: EntryPoint
    values: Mapping[str, ParamValue]
    command: str

    @property
    def params(self) -> dict[str, str]:
        """The values as they are logged (and as they appear in the command)."""
        return {key: format_value(value) for key, value in self.values.items()}


@dataclass(frozen=True, slots=True)
class RunOutcome:
    run: Run
    process: ProcessResult

    @property
    def exit_code(self) -> int:
        return self.process.exit_code

    @property
    def status(self) -> RunStatus:
        return self.run.status


def plan_run(
    path: Path | str, entry_point: str = "main", assignments: Sequence[str] = (), *, cwd: Path | None = None
) -> ProjectRun:
    """Read the project and check the ``-P`` values; raises InvalidInput before anything is created."""
    given = parse_assignments(assignments)
    # A folder without mlpilot.yaml can still run one of its scripts by name.
    project = load_project(path, require_file=not is_script_name(entry_point))
    entry = project.entry_point(entry_point)
    values = resolve_values(entry, given, project_dir=project.directory, cwd=cwd or Path.cwd())
    plan = ProjectRun(project, entry, values, render_command(entry, values))
    # Checked here so that a value the store would refuse fails before a run exists.
    clean_params(plan.params)
    return plan


def execute(
    client: Client,
    plan: ProjectRun,
    *,
    experiment: str | None = None,
    run_name: str | None = None,
    on_start: Callable[[Run], None] | None = None,
    write: Writer | None = None,
    grace_seconds: float = 5.0,
) -> RunOutcome:
    """Run ``plan`` in a new run; the outcome carries the ended run and the exit code to report."""
    output = _Output(write)
    try:
        run = client.create_run(
            experiment,
            name=run_name,
            tags=_tags(plan),
            parent_run_id=_enclosing_run(client),
            entry_point_name=plan.entry_point.name,
            cwd=plan.project.directory,
        )
    except BaseException:
        output.close()
        output.cleanup()
        raise
    try:
        client.log_params(run.id, plan.params)
        if on_start is not None:
            on_start(run)
        result = run_streaming(
            plan.command,
            cwd=plan.project.directory,
            env=child_environment(client, run),
            on_output=output,
            grace_seconds=grace_seconds,
        )
    except BaseException as exc:
        status = RunStatus.KILLED if isinstance(exc, KeyboardInterrupt) else RunStatus.FAILED
        try:
            _finish(client, run.id, output, status)
        except Exception:  # the original error is the one to report
            log.exception("could not end run %s as %s", run.id, status.value)
        raise
    if result.stopped_by is not None:
        status = RunStatus.KILLED
    else:
        status = RunStatus.FINISHED if result.returncode == 0 else RunStatus.FAILED
    final = _finish(client, run.id, output, status, {"mlpilot.project.exit_code": result.command_exit_code})
    return RunOutcome(final, result)


def child_environment(client: Client, run: Run, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The command's environment: ours, plus where to log and which run to attach to.

    Locations are made absolute because the command runs in the project folder, not ours.
    """
    env = dict(os.environ if base is None else base)
    env.update(
        {
            "MLPILOT_RUN_ID": run.id,
            "MLPILOT_TRACKING_URI": _absolute_tracking_uri(client),
            "MLPILOT_HOME": str(client.settings.home.expanduser().resolve()),
            # Runs the script creates itself (nested ones) land in the same experiment.
            "MLPILOT_EXPERIMENT_NAME": run.experiment_name,
        }
    )
    if client.artifact_uri is not None:
        env["MLPILOT_ARTIFACT_URI"] = _absolute_location(client.artifact_uri)
    api_key: str | None = getattr(client.transport, "api_key", None)
    if api_key is not None:
        env["MLPILOT_API_KEY"] = api_key
    if client.is_remote:
        # mlflow calls in the command (an MLproject's, say) land in this run through the server's
        # MLflow API: the MLflow client attaches to MLFLOW_RUN_ID and sends the key as a bearer token.
        env.update({"MLFLOW_TRACKING_URI": client.tracking_uri, "MLFLOW_RUN_ID": run.id})
        if api_key is not None:
            env["MLFLOW_TRACKING_TOKEN"] = api_key
    # `python` in the command must be the interpreter mlpilot runs in (its venv), not the first on PATH.
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bin_dir, env["PATH"]]) if env.get("PATH") else bin_dir
    # Without this, Python block-buffers a pipe and the user sees nothing until the script ends.
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _tags(plan: ProjectRun) -> dict[str, str]:
    return {
        "mlpilot.source.type": "PROJECT",
        "mlpilot.source.path": str(plan.project.directory),
        "mlpilot.project.name": plan.project.name,
        "mlpilot.project.entry_point": plan.entry_point.name,
        "mlpilot.project.command": plan.command[:_MAX_TAG],
    }


def _enclosing_run(client: Client) -> str | None:
    """The run of a ``mlpilot run`` we are running inside (its script called us), to nest under."""
    run_id = client.settings.run_id
    if not run_id:
        return None
    try:
        if not client.get_run(run_id).status.is_terminal:
            return run_id
    except NotFound:
        pass
    log.warning("ignoring MLPILOT_RUN_ID=%s: no such running run in this store", run_id)
    return None


def _absolute_tracking_uri(client: Client) -> str:
    if client.is_remote:
        return client.tracking_uri
    path = client.db.sqlite_path
    if path is None:
        return client.tracking_uri
    # Rebuilt from the parsed URL so query options (e.g. ?timeout=) survive.
    url = client.db.url.set(drivername="sqlite", database=str(path.expanduser().resolve()))
    return url.render_as_string(hide_password=False)


def _absolute_location(location: str) -> str:
    if "://" in location:
        return location
    return str(Path(location).expanduser().resolve())


def _finish(
    client: Client, run_id: str, output: _Output, status: RunStatus, tags: Mapping[str, object] | None = None
) -> Run:
    """Save the output and end the run; the run must end even when saving the output fails."""
    output.close()
    try:
        try:
            if tags:
                client.set_tags(run_id, tags)
            client.log_artifact(run_id, output.path, OUTPUT_ARTIFACT.rpartition("/")[0])
        except InactiveRun:
            raise
        except MlpilotError as exc:
            log.warning("could not save the command's output to run %s: %s", run_id, exc.message)
        client.end_run(run_id, status)
    except InactiveRun:
        # The script ended the run itself (e.g. Client().end_run(run_id)); keep what it chose.
        log.warning("run %s was already ended by the command; leaving its status as it is", run_id)
    finally:
        output.cleanup()
    return client.get_run(run_id)


class _Output:
    """The command's output: kept byte for byte in a temporary file, echoed as text to ``write``."""

    def __init__(self, write: Writer | None) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="mlpilot-run-")
        self.path = Path(self._dir.name) / OUTPUT_ARTIFACT.rpartition("/")[2]
        self._file = self.path.open("wb")
        # Incremental, so a multi-byte character split across two reads is not mangled.
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._write = write

    def __call__(self, chunk: bytes) -> None:
        self._file.write(chunk)
        self._echo(self._decoder.decode(chunk))

    def _echo(self, text: str) -> None:
        if not text or self._write is None:
            return
        try:
            self._write(text)
        except (OSError, ValueError) as exc:
            # e.g. `mlpilot run . | head`: stop echoing, keep running and keep the full log.
            log.warning("stopped echoing the command's output: %s", exc)
            self._write = None

    def close(self) -> None:
        if not self._file.closed:
            self._echo(self._decoder.decode(b"", final=True))
            self._file.close()

    def cleanup(self) -> None:
        self._dir.cleanup()
