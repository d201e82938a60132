"""Module-level tracking functions over a default client, for scripts and notebooks.

The default client is created on first use from Settings (``MLPILOT_TRACKING_URI``,
``mlpilot.toml`` …), never at import time. Active runs form a per-thread stack so nested runs
know their parent.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from mlpilot.client.active_run import ActiveRun, Terminated
from mlpilot.client.core import Client
from mlpilot.client.models import LoggedModel
from mlpilot.config import load_settings
from mlpilot.data import DatasetVersion
from mlpilot.errors import Conflict
from mlpilot.registry import ModelVersion
from mlpilot.tracking.artifacts import ArtifactEntry
from mlpilot.tracking.records import Metric, Run, RunPage, RunStatus

if TYPE_CHECKING:
    import pandas as pd

    from mlpilot.models import LoadedModel

__all__ = [
    "active_run",
    "connect",
    "end_run",
    "get_client",
    "get_metric_history",
    "get_run",
    "load_model",
    "log_artifact",
    "log_artifacts",
    "log_dataset",
    "log_dict",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "register_model",
    "running_in",
    "search_runs",
    "set_alias",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]

_lock = threading.Lock()
_default: Client | None = None
_local = threading.local()
_hook_installed = False
_terminated = False


def connect(uri: str | None = None, *, artifact_uri: str | None = None, api_key: str | None = None) -> Client:
    """A client for ``sqlite:///…``, ``postgresql://…`` or a server at ``http(s)://…`` (default: the
    configured tracking URI). A server needs ``api_key`` (or ``MLPILOT_API_KEY``)."""
    return Client(uri, artifact_uri, api_key=api_key)


def get_client() -> Client:
    """The default client, created from Settings on first use."""
    global _default
    with _lock:
        if _default is None:
            _default = Client(settings=load_settings())
        return _default


def set_tracking_uri(uri: str | None, *, artifact_uri: str | None = None, api_key: str | None = None) -> Client:
    """Point the module-level functions at another store (None: back to the configured one)."""
    global _default
    with _lock:
        previous, _default = _default, None
    if previous is not None:
        previous.close()
    if uri is None:
        return get_client()
    client = connect(uri, artifact_uri=artifact_uri, api_key=api_key)
    with _lock:
        _default = client
    return client


def _stack() -> list[ActiveRun]:
    stack: list[ActiveRun] | None = getattr(_local, "stack", None)
    if stack is None:
        stack = []
        _local.stack = stack
    return stack


def active_run() -> ActiveRun | None:
    stack = _stack()
    return stack[-1] if stack else None


def start_run(
    experiment: str | int | None = None,
    *,
    name: str | None = None,
    tags: Mapping[str, object] | None = None,
    nested: bool = False,
    run_id: str | None = None,
) -> ActiveRun:
    """Start a run (or attach to ``run_id`` / ``MLPILOT_RUN_ID``); use it as a context manager.

    With a run already active, pass ``nested=True`` to start a child run of it.
    """
    client = get_client()
    stack = _stack()
    if stack and not nested:
        raise Conflict(
            f"run {stack[-1].id} is already active",
            hint="End it first, or pass nested=True to start a child run.",
        )
    attach_to = run_id or (client.settings.run_id if not stack else None)
    if attach_to:
        handle = client.attach_run(attach_to)
    else:
        parent = stack[-1].id if stack else None
        run = client.create_run(experiment, name=name, tags=tags, parent_run_id=parent)
        handle = ActiveRun(client, run)
    handle._on_end = _pop
    stack.append(handle)
    _install_exit_hooks()
    return handle


@contextlib.contextmanager
def running_in(client: Client, run_id: str) -> Iterator[ActiveRun]:
    """For the block, module-level functions use ``client`` and log to ``run_id`` (which the caller
    ends): how a pipeline runs a step's plain function inside its tracked run."""
    global _default
    handle = client.attach_run(run_id)
    stack = _stack()
    with _lock:
        previous, _default = _default, client
    stack.append(handle)
    try:
        yield handle
    finally:
        _pop(handle)
        client.flush()
        with _lock:
            _default = previous


def _pop(handle: ActiveRun) -> None:
    stack = _stack()
    if handle in stack:
        stack.remove(handle)


def _require_active() -> ActiveRun:
    handle = active_run()
    if handle is None:
        raise Conflict("no run is active", hint="Call mlpilot.start_run() first.")
    return handle


def end_run(status: RunStatus | str = RunStatus.FINISHED) -> None:
    _require_active().end(status)


def log_param(key: str, value: object) -> None:
    _require_active().log_param(key, value)


def log_params(values: Mapping[str, object]) -> None:
    _require_active().log_params(values)


def log_metric(key: str, value: float, step: int = 0, timestamp: int | None = None) -> None:
    _require_active().log_metric(key, value, step, timestamp)


def log_metrics(values: Mapping[str, float], step: int = 0, timestamp: int | None = None) -> None:
    _require_active().log_metrics(values, step, timestamp)


def set_tag(key: str, value: object) -> None:
    _require_active().set_tag(key, value)


def set_tags(values: Mapping[str, object]) -> None:
    _require_active().set_tags(values)


def log_artifact(local_path: str | Path, artifact_path: str | None = None) -> ArtifactEntry:
    return _require_active().log_artifact(local_path, artifact_path)


def log_artifacts(local_dir: str | Path, artifact_path: str | None = None) -> list[ArtifactEntry]:
    return _require_active().log_artifacts(local_dir, artifact_path)


def log_dict(dictionary: Mapping[str, Any], artifact_path: str) -> ArtifactEntry:
    return _require_active().log_dict(dictionary, artifact_path)


def log_dataset(data: object, name: str, role: str = "input") -> DatasetVersion:
    return _require_active().log_dataset(data, name, role)


def log_model(model: object, name: str = "model", *, input_example: Any = None, signature: Any = None) -> LoggedModel:
    return _require_active().log_model(model, name, input_example=input_example, signature=signature)


def load_model(uri: str) -> LoadedModel:
    """``models:/name/3``, ``models:/name@production``, ``models:/name/latest`` or ``runs:/ID/path``."""
    return get_client().load_model(uri)


def predictions(
    deployment: str,
    *,
    since: Any = None,
    until: Any = None,
    columns: Sequence[str] | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """The prediction log of ``deployment`` as a DataFrame (see ``Client.predictions``)."""
    return get_client().predictions(deployment, since=since, until=until, columns=columns, limit=limit)


def register_model(run_id: str, artifact_path: str, name: str, *, description: str | None = None) -> ModelVersion:
    return get_client().register_model(run_id, artifact_path, name, description=description)


def set_alias(name: str, alias: str, version: int, *, reason: str | None = None) -> ModelVersion:
    return get_client().set_alias(name, alias, version, reason=reason)


def get_run(run_id: str) -> Run:
    client = get_client()
    client.flush()
    return client.get_run(run_id)


def get_metric_history(run_id: str, key: str) -> list[Metric]:
    return get_client().get_metric_history(run_id, key)


def search_runs(
    experiments: list[str | int] | str | int | None = None,
    filter: str | None = None,
    order_by: list[str] | str | None = None,
    max_results: int = 1000,
    page_token: str | None = None,
) -> RunPage:
    client = get_client()
    client.flush()
    return client.search_runs(experiments, filter, order_by, max_results, page_token)


def _install_exit_hooks() -> None:
    """Runs left open when the interpreter dies of an exception end FAILED (KILLED on Ctrl-C or
    SIGTERM); runs still open at a normal exit end FINISHED.

    SIGTERM's default action kills the process without running exit hooks, losing the metrics
    still buffered; when nobody else handles it, it becomes a ``Terminated`` exit instead.
    """
    global _hook_installed
    if _hook_installed:
        return
    _hook_installed = True
    previous = sys.excepthook
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_sigterm)

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        status = RunStatus.KILLED if issubclass(exc_type, KeyboardInterrupt) else RunStatus.FAILED
        _end_all(status)
        previous(exc_type, exc, tb)

    sys.excepthook = hook
    import atexit

    atexit.register(lambda: _end_all(RunStatus.KILLED if _terminated else RunStatus.FINISHED))


def _on_sigterm(signum: int, _frame: object) -> None:
    global _terminated
    _terminated = True
    raise Terminated(128 + signum)


def _end_all(status: RunStatus) -> None:
    for handle in reversed(list(_stack())):
        with contextlib.suppress(Exception):  # the process is already going down
            handle.end(status)
