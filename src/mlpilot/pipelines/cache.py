"""A step's cache key: its code, parameters, inputs' content and the versions of what it uses.

Inputs count by content hash, not by the run that produced them, so re-running an upstream step
that produces the same data still hits the cache below it. Only the step function's own source
is hashed, not helpers it calls: change a helper and run with ``--no-cache`` (documented).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import inspect
import json
import sys
import textwrap
import types
from collections.abc import Callable, Iterator, Mapping
from typing import Any

__all__ = ["cache_key", "code_hash", "package_versions"]

_IGNORED_ROOTS = frozenset({"builtins", "__main__", "typing", "collections", "abc"})


def code_hash(fn: Callable[..., Any]) -> str:
    try:
        text = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):  # no source (e.g. defined in a REPL): the compiled code stands in
        code = fn.__code__
        text = repr((code.co_code, code.co_consts, code.co_names))
    return hashlib.sha256(text.encode()).hexdigest()


@functools.cache
def _distributions() -> Mapping[str, list[str]]:
    return importlib.metadata.packages_distributions()


def _names(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _names(const)


def package_versions(fn: Callable[..., Any]) -> dict[str, str]:
    """Versions of the installed distributions whose modules the function's code refers to."""
    roots: set[str] = set()
    namespace = getattr(fn, "__globals__", {})
    for name in _names(fn.__code__):
        value = namespace.get(name)
        module = value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", None)
        if isinstance(module, str):
            roots.add(module.split(".")[0])
    versions = {"python": f"{sys.version_info.major}.{sys.version_info.minor}"}
    for root in sorted(roots - _IGNORED_ROOTS):
        for dist in _distributions().get(root, []):
            try:
                versions[dist] = importlib.metadata.version(dist)
            except importlib.metadata.PackageNotFoundError:
                continue
    return versions


def cache_key(fn: Callable[..., Any], params: Mapping[str, Any], inputs: Mapping[str, str | list[str]]) -> str:
    material = {
        "code": code_hash(fn),
        "params": params,
        "inputs": inputs,
        "packages": package_versions(fn),
    }
    text = json.dumps(material, sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.sha256(text.encode()).hexdigest()
