"""Run one shell command as a child process group, stream its output, and stop it cleanly.

The child gets its own session (so its own process group): a signal we forward reaches the shell
*and* everything it started, and a Ctrl-C in the terminal reaches only us, so the child is stopped
exactly once, by us, in a known order — signal, grace period, then SIGKILL. POSIX only.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from mlpilot.errors import MlpilotError

__all__ = ["ProcessResult", "run_streaming"]

log = logging.getLogger(__name__)

OutputSink = Callable[[bytes], None]

_CHUNK = 65536
_POLL_SECONDS = 0.2
# Termination signals we turn into a clean stop; SIGINT already arrives as KeyboardInterrupt.
# Looked up by name so that importing this module (and so the CLI) works where SIGHUP is missing.
_CAUGHT_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


@dataclass(frozen=True, slots=True)
class ProcessResult:
    """How the command ended. ``returncode`` is negative when a signal ended the shell; ``stopped_by``
    is the signal that stopped *us* and that we forwarded (None when the command ended on its own)."""

    returncode: int
    stopped_by: int | None = None

    @property
    def command_exit_code(self) -> int:
        """The command's status as a shell reports it: its exit code, or 128 + the signal that ended it."""
        return self.returncode if self.returncode >= 0 else 128 - self.returncode

    @property
    def exit_code(self) -> int:
        """What ``mlpilot run`` exits with: the command's status, or 128 + the signal that stopped us."""
        return 128 + self.stopped_by if self.stopped_by is not None else self.command_exit_code


class _Stopped(BaseException):
    """Raised from a SIGTERM/SIGHUP handler; a BaseException so `except Exception` in between lets it pass."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def run_streaming(
    command: str, *, cwd: Path, env: Mapping[str, str], on_output: OutputSink, grace_seconds: float
) -> ProcessResult:
    """Run ``command`` through the shell, passing its merged stdout and stderr to ``on_output`` as it
    comes (in chunks, not lines, so progress bars that redraw with ``\\r`` stay live).

    Ctrl-C, SIGTERM or SIGHUP: the same signal goes to the child's process group, which gets
    ``grace_seconds`` to exit (a second signal cuts that short) before SIGKILL.
    """
    with _signals_as_exceptions():
        try:
            # shell=True: the project's command is a shell command line by definition.
            proc = subprocess.Popen(
                command,
                shell=True,
                cwd=cwd,
                env=dict(env),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            raise MlpilotError(
                f"cannot start {command!r} in {cwd}: {exc}", hint="Check the folder and the shell."
            ) from exc
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        try:
            try:
                _pump(proc, fd, on_output)
                return ProcessResult(proc.wait())
            except (KeyboardInterrupt, _Stopped) as exc:
                signum = exc.signum if isinstance(exc, _Stopped) else signal.SIGINT
                _stop(proc, fd, signum, on_output, grace_seconds)
                return ProcessResult(proc.returncode, int(signum))
            except BaseException:
                # Whatever went wrong on our side, do not leave the command running unattended.
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait()
                raise
        finally:
            proc.stdout.close()


def _pump(
    proc: subprocess.Popen[bytes],
    fd: int,
    on_output: OutputSink,
    *,
    deadline: float | None = None,
    until_eof: bool = False,
) -> None:
    """Copy output until end of file, until the deadline, or (unless ``until_eof``) until the child
    has exited — a background process it left holding the pipe must not keep us waiting."""
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            timeout = _POLL_SECONDS if deadline is None else max(0.0, min(_POLL_SECONDS, deadline - time.monotonic()))
            if selector.select(timeout):
                chunk = os.read(fd, _CHUNK)
                if not chunk:
                    return
                on_output(chunk)
            elif not until_eof and proc.poll() is not None:
                # The pipe was empty for a moment and the child is gone; take what raced in since.
                _drain(selector, fd, on_output)
                return
            elif deadline is not None and time.monotonic() >= deadline:
                return


def _drain(selector: selectors.BaseSelector, fd: int, on_output: OutputSink) -> None:
    while selector.select(0):
        chunk = os.read(fd, _CHUNK)
        if not chunk:
            return
        on_output(chunk)


def _stop(proc: subprocess.Popen[bytes], fd: int, signum: int, on_output: OutputSink, grace_seconds: float) -> None:
    """Forward ``signum``, let the group finish (showing what it prints meanwhile), then SIGKILL what is left."""
    pgid = proc.pid  # start_new_session made the child the leader of its own group
    log.info("forwarding %s to the command (process group %d)", signal.Signals(signum).name, pgid)
    _signal_group(pgid, signum)
    deadline = time.monotonic() + grace_seconds
    try:
        # Wait for the whole group, not only the shell: `sh -c "a && b"` may exit on SIGINT at once
        # while python is still flushing its metrics.
        _pump(proc, fd, on_output, deadline=deadline, until_eof=True)
        while time.monotonic() < deadline and (proc.poll() is None or _group_alive(pgid)):
            time.sleep(0.05)
    except (KeyboardInterrupt, _Stopped):
        log.info("second interrupt: not waiting any longer")
    if proc.poll() is None or _group_alive(pgid):
        log.warning("the command did not stop within %.1fs; killing it", grace_seconds)
        _signal_group(pgid, signal.SIGKILL)
    proc.wait()
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        _drain(selector, fd, on_output)


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def _signals_as_exceptions() -> Iterator[None]:
    """Turn SIGTERM/SIGHUP into an exception while the child runs, so they stop it cleanly too
    (a CI job being cancelled sends SIGTERM). Signal handlers can only be set in the main thread;
    a signal the parent process ignores (nohup) stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[signal.Signals, Any] = {}
    for signum in _CAUGHT_SIGNALS:
        if signal.getsignal(signum) is signal.SIG_IGN:
            continue
        previous[signum] = signal.signal(signum, _raise_stopped)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _raise_stopped(signum: int, _frame: FrameType | None) -> None:
    raise _Stopped(signum)
