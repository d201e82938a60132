"""Model URIs: ``models:/churn/3``, ``models:/churn@production``, ``models:/churn/latest`` and
``runs:/<run_id>/<artifact path>``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mlpilot.errors import InvalidInput

__all__ = ["ModelRef", "RunModelRef", "parse_model_uri", "version_ref"]

_HINT = "Use models:/NAME/VERSION, models:/NAME@ALIAS, models:/NAME/latest or runs:/RUN_ID/PATH."
_ALIAS = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,249}$")


@dataclass(frozen=True, slots=True)
class ModelRef:
    """A registered model version, by number, by alias, or the latest (neither given)."""

    name: str
    version: int | None = None
    alias: str | None = None


@dataclass(frozen=True, slots=True)
class RunModelRef:
    run_id: str
    path: str


def check_alias(alias: str) -> str:
    if not isinstance(alias, str) or not _ALIAS.match(alias) or alias.lower() == "latest":
        raise InvalidInput(
            f"{alias!r} is not a valid alias",
            hint="An alias starts with a letter or '_', uses letters, digits, '_', '-' or '.', "
            "and may not be 'latest' or a number.",
        )
    return alias


def parse_model_uri(uri: str) -> ModelRef | RunModelRef:
    if not isinstance(uri, str):
        raise InvalidInput(f"a model URI must be a string, got {type(uri).__name__}", hint=_HINT)
    if uri.startswith("runs:/"):
        run_id, _, path = uri.removeprefix("runs:/").strip("/").partition("/")
        if not run_id or not path:
            raise InvalidInput(f"cannot parse model URI {uri!r}", hint=_HINT)
        return RunModelRef(run_id, path.strip("/"))
    if not uri.startswith("models:/"):
        raise InvalidInput(f"cannot parse model URI {uri!r}", hint=_HINT)
    body = uri.removeprefix("models:/").strip("/")
    if "@" in body:
        name, _, alias = body.partition("@")
        if not name or "/" in alias or "/" in name:
            raise InvalidInput(f"cannot parse model URI {uri!r}", hint=_HINT)
        return ModelRef(name, alias=check_alias(alias))
    name, slash, tail = body.rpartition("/")
    if not slash or not name or not tail:
        raise InvalidInput(f"cannot parse model URI {uri!r}: it names no version", hint=_HINT)
    if tail.lower() == "latest":
        return ModelRef(name)
    if not tail.isdecimal() or int(tail) < 1:
        raise InvalidInput(f"cannot parse model URI {uri!r}: {tail!r} is not a version number", hint=_HINT)
    return ModelRef(name, version=int(tail))


def version_ref(name: str, version: int | str | None) -> ModelRef:
    """A version of ``name`` by number, ``"@alias"``, or the latest (None or ``"latest"``)."""
    if version is None or (isinstance(version, str) and version.lower() == "latest"):
        return ModelRef(name)
    if isinstance(version, int) or (isinstance(version, str) and version.isdecimal()):
        return ModelRef(name, version=int(version))
    if isinstance(version, str) and version.startswith("@"):
        return ModelRef(name, alias=check_alias(version[1:]))
    raise InvalidInput(f"cannot read version {version!r} of {name!r}", hint="Pass a number, 'latest' or '@alias'.")
