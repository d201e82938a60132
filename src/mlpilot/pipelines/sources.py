"""Where a pipeline's code lives (``file.py:name`` or ``package.module:name``), so the CLI, the
process pool's workers and triggers can all find the same objects again."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from mlpilot.errors import InvalidInput, NotFound

__all__ = ["load_source", "source_of"]

_HINT = "Name it as path/to/file.py:NAME or package.module:NAME, NAME being the @pipeline function."
_PREFIX = "mlpilot_pipeline_"


def _module_name_for(path: Path) -> str:
    # The same file always loads under the same name, so pickles by reference resolve in workers.
    return _PREFIX + hashlib.sha256(str(path).encode()).hexdigest()[:16]


def source_of(obj: Any) -> str:
    module = sys.modules.get(obj.__module__)
    qualname = obj.__qualname__
    if "<locals>" in qualname:
        raise InvalidInput(
            f"{qualname} is defined inside a function; a pipeline and its steps must be module-level",
            hint="Move the definitions to the top level of a module.",
        )
    file = getattr(module, "__file__", None)
    if obj.__module__ == "__main__" or obj.__module__.startswith(_PREFIX):
        if file is None:
            raise InvalidInput(f"{qualname} was defined interactively; put it in a file", hint=_HINT)
        return f"{Path(file).resolve()}:{qualname}"
    return f"{obj.__module__}:{qualname}"


def _load_module(spec: str) -> Any:
    if spec.endswith(".py") or "/" in spec or "\\" in spec:
        path = Path(spec).expanduser().resolve()
        if not path.is_file():
            raise NotFound(f"pipeline file {spec} does not exist", hint=_HINT)
        name = _module_name_for(path)
        if name in sys.modules:
            return sys.modules[name]
        loader_spec = importlib.util.spec_from_file_location(name, path)
        if loader_spec is None or loader_spec.loader is None:
            raise InvalidInput(f"cannot load {spec} as Python", hint=_HINT)
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[name] = module
        if str(path.parent) not in sys.path:  # so the file can import its neighbours
            sys.path.insert(0, str(path.parent))
        try:
            loader_spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
        return module
    try:
        return importlib.import_module(spec)
    except ModuleNotFoundError as missing:
        raise NotFound(f"cannot import {spec!r}: {missing}", hint=_HINT) from None


def load_source(source: str) -> Any:
    """The object ``source`` names."""
    spec, sep, qualname = source.rpartition(":")
    if not sep or not spec or not qualname or (len(spec) == 1 and spec.isalpha()):
        raise InvalidInput(f"pipeline source {source!r} is not FILE.py:NAME or MODULE:NAME", hint=_HINT)
    value: Any = _load_module(spec)
    for part in qualname.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise NotFound(f"{spec} has no {qualname!r}", hint=_HINT) from None
    return value
