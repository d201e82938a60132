"""``@step``: a plain typed Python function that a pipeline runs as a tracked, cached unit.

Called inside a ``@pipeline`` function, a step does not run: it records a node and returns a
handle to its outputs. Called anywhere else it is the plain function, so steps stay unit-testable.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import itertools
import sys
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, overload

from mlpilot.errors import InvalidInput
from mlpilot.pipelines.graph import Many, Output, current_graph

__all__ = ["Step", "locate_step", "step"]


class Step:
    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        outputs: Sequence[str] | None = None,
        cache: bool,
        check: Callable[[Mapping[str, Any]], None] | None = None,
    ) -> None:
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.name = name or fn.__name__
        self.cache = cache
        self.check = check  # called with the literal parameters while composing: refuse early
        self.signature = inspect.signature(fn)
        self.outputs: tuple[str, ...] = tuple(outputs) if outputs is not None else _outputs_from_annotation(fn)
        if len(set(self.outputs)) != len(self.outputs) or not self.outputs:
            raise InvalidInput(f"step {self.name!r} declares outputs {self.outputs!r}; name each output once")

    def __repr__(self) -> str:
        return f"<step {self.name}>"

    def __reduce__(self) -> tuple[Callable[[str, str], Step], tuple[str, str]]:
        # By reference: a worker process imports the step's module rather than receiving the code.
        return locate_step, (self.fn.__module__, self.fn.__qualname__)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        graph = current_graph()
        if graph is None:
            return self.fn(*args, **kwargs)
        inputs, params = self._bind(args, kwargs)
        if self.check is not None:
            self.check(params)
        node = graph.add(self, inputs, params, None)
        handles = tuple(Output(node.name, output) for output in self.outputs)
        return handles[0] if len(handles) == 1 else handles

    def map(
        self,
        *args: Any,
        grid: Mapping[str, Sequence[Any]] | None = None,
        params: Sequence[Mapping[str, Any]] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Fan out: one instance per parameter set, run in parallel processes; a later step taking
        the result receives a list. ``grid`` is a Cartesian product, ``params`` an explicit list."""
        graph = current_graph()
        if graph is None:
            raise InvalidInput(f"{self.name}.map(...) only composes a pipeline", hint="Call it inside a @pipeline.")
        sets = _parameter_sets(self.name, grid, params)
        inputs, fixed = self._bind(args, kwargs, partial=True)
        for extra in sets:
            self._bind(args, {**kwargs, **extra})
            clash = set(extra) & (set(inputs) | set(fixed))
            if clash:
                raise InvalidInput(f"{self.name}.map: {sorted(clash)} given both as arguments and in the grid")
            if self.check is not None:
                self.check({**fixed, **extra})
        node = graph.add(self, inputs, fixed, sets)
        handles = tuple(Many(node.name, output, len(sets)) for output in self.outputs)
        return handles[0] if len(handles) == 1 else handles

    def _bind(
        self, args: tuple[Any, ...], kwargs: Mapping[str, Any], *, partial: bool = False
    ) -> tuple[dict[str, Output | Many], dict[str, Any]]:
        try:
            bound = (self.signature.bind_partial if partial else self.signature.bind)(*args, **kwargs)
        except TypeError as problem:
            raise InvalidInput(f"step {self.name!r}: {problem}", hint=f"Its signature is {self.signature}.") from None
        inputs: dict[str, Output | Many] = {}
        params: dict[str, Any] = {}
        for key, value in bound.arguments.items():
            if isinstance(value, Output | Many):
                inputs[key] = value
            elif _plain(value):
                params[key] = value
            else:
                raise InvalidInput(
                    f"step {self.name!r} argument {key!r} is a {type(value).__name__}: a step takes other steps' "
                    "outputs or plain parameters (str, int, float, bool, None, lists and dicts of them)",
                    hint="Produce data inside a step and pass its output along.",
                )
        return inputs, params


def locate_step(module: str, qualname: str) -> Step:
    found: Any = sys.modules.get(module) or importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part)
    if not isinstance(found, Step):
        raise InvalidInput(f"{module}:{qualname} is not a @step")
    return found


def _plain(value: object) -> bool:
    if value is None or isinstance(value, str | int | float | bool):
        return True
    if isinstance(value, list | tuple):
        return all(_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and _plain(item) for key, item in value.items())
    return False


def _parameter_sets(
    name: str, grid: Mapping[str, Sequence[Any]] | None, params: Sequence[Mapping[str, Any]] | None
) -> list[dict[str, Any]]:
    if (grid is None) == (params is None):
        raise InvalidInput(f"{name}.map needs exactly one of grid={{...}} or params=[...]")
    if grid is not None:
        if not grid or any(isinstance(v, str) or not isinstance(v, Sequence) or not v for v in grid.values()):
            raise InvalidInput(f"{name}.map grid needs a non-empty list of values per parameter, got {grid!r}")
        keys = list(grid)
        sets = [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(grid[k] for k in keys))]
    else:
        assert params is not None
        sets = [dict(item) for item in params]
        if not sets or any(not isinstance(item, Mapping) for item in params):
            raise InvalidInput(f"{name}.map params needs a non-empty list of dicts, got {params!r}")
    if not all(_plain(value) for item in sets for value in item.values()):
        raise InvalidInput(f"{name}.map parameters must be plain values (str, int, float, bool, None, lists, dicts)")
    return sets


def _outputs_from_annotation(fn: Callable[..., Any]) -> tuple[str, ...]:
    try:
        returned = typing.get_type_hints(fn).get("return")
    except (NameError, TypeError, AttributeError):  # an unresolvable annotation says nothing about outputs
        returned = None
    if typing.get_origin(returned) is tuple:
        items = typing.get_args(returned)
        if items and items[-1] is not Ellipsis:
            return tuple(f"output_{i}" for i in range(len(items)))
    return ("output",)


@overload
def step(fn: Callable[..., Any], /) -> Step: ...
@overload
def step(
    *, name: str | None = None, outputs: Sequence[str] | None = None, cache: bool = True
) -> Callable[[Callable[..., Any]], Step]: ...


def step(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    outputs: Sequence[str] | None = None,
    cache: bool = True,
) -> Step | Callable[[Callable[..., Any]], Step]:
    """Make ``fn`` a pipeline step. ``outputs`` names several return values (a tuple); ``cache=False``
    runs it every time (a step that fetches "the latest data": return a data-version token from it,
    so the steps after it are cached on the data's content, never served stale)."""
    if fn is not None:
        return Step(fn, name=name, outputs=outputs, cache=cache)
    return lambda f: Step(f, name=name, outputs=outputs, cache=cache)
