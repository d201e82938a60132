"""What an API key may do: five scopes, one per kind of route.

    read     every GET: experiments, runs, metrics, artifacts, datasets, models, lineage
    write    logging (runs, params, metrics, artifacts, datasets) and registering models
    predict  inference on served models
    deploy   aliases, deployments, traffic changes and rollbacks
    admin    keys and the audit log, and every other scope

Only ``admin`` implies the others. The rest are deliberately independent: a ``predict`` key baked
into an application cannot read the registry or move an alias, and a ``deploy`` key for a release
pipeline cannot log runs, so a leaked key does only the one thing it was made for.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from mlpilot.errors import InvalidInput

__all__ = ["Scope", "grants", "parse_scope", "parse_scopes"]


class Scope(enum.StrEnum):
    READ = "read"
    WRITE = "write"
    PREDICT = "predict"
    DEPLOY = "deploy"
    ADMIN = "admin"


_VALID = ", ".join(scope.value for scope in Scope)
_HINT = f"Valid scopes are {_VALID}; separate several with commas, e.g. --scopes read,write."


def grants(held: Iterable[Scope], needed: Scope) -> bool:
    """Whether a key holding ``held`` may do what ``needed`` guards (``admin`` allows everything)."""
    owned = set(held)
    return needed in owned or Scope.ADMIN in owned


def parse_scope(value: Scope | str) -> Scope:
    if isinstance(value, Scope):
        return value
    return parse_scopes([value])[0]


def parse_scopes(value: str | Iterable[Scope | str]) -> tuple[Scope, ...]:
    """``"read,write"`` or ``["read", "write"]`` as scopes, deduplicated, in the order of ``Scope``.

    Case and surrounding spaces are forgiven; an unknown name is an error that names it and lists
    the valid ones, so a typo never silently grants less (or more) than meant.
    """
    items = value.split(",") if isinstance(value, str) else list(value)
    names: list[str] = []
    for item in items:
        if isinstance(item, Scope):
            names.append(item.value)
        elif isinstance(item, str):
            if item.strip():
                names.append(item.strip().lower())
        else:
            raise InvalidInput(f"a scope must be a string, got {type(item).__name__}", hint=_HINT)
    if not names:
        raise InvalidInput("no scope was given; a key needs at least one", hint=_HINT)
    known = {scope.value for scope in Scope}
    unknown = sorted({name for name in names if name not in known})
    if unknown:
        label = "scope" if len(unknown) == 1 else "scopes"
        raise InvalidInput(f"unknown {label} {', '.join(repr(name) for name in unknown)}", hint=_HINT)
    wanted = set(names)
    return tuple(scope for scope in Scope if scope.value in wanted)
