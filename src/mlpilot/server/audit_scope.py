"""What a route tells ``authorize`` about its audit entry, through the request's ASGI scope.

The entry is written by the ``authorize`` dependency (``mlpilot.server.auth``), named by default
after the route and its path. MLflow's routes need two things more: their path does not say what
they change (the run is in the body), and they answer their own errors, so no exception reaches
the dependency to tell it the write failed.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import Scope

__all__ = ["audit_as", "audit_name", "failed", "mark_failed"]

_AUDIT_AS = "mlpilot.audit_as"
_FAILED = "mlpilot.failed"


def audit_as(request: Request, action: str, target: str) -> None:
    """Name this request's audit entry; call it before the route's first write.

    MLflow's routes pass the action and target of the /api/v1 route doing the same thing
    (``run.log_metrics``, ``/runs/<id>/metrics``): one operation, one kind of entry, whichever API.
    """
    request.scope[_AUDIT_AS] = (action, target)


def audit_name(scope: Scope, action: str, target: str) -> tuple[str, str]:
    """The (action, target) the entry gets: the route's own, unless it called ``audit_as``."""
    named: tuple[str, str] = scope.get(_AUDIT_AS, (action, target))
    return named


def mark_failed(request: Request) -> None:
    """The route failed but answered the error itself: write no entry."""
    request.scope[_FAILED] = True


def failed(scope: Scope) -> bool:
    return bool(scope.get(_FAILED))
