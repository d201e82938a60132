"""``@pipeline``: a function that composes steps; its parameters are the run's parameters."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, overload

from mlpilot.errors import InvalidInput
from mlpilot.pipelines.graph import Graph, composing
from mlpilot.pipelines.sources import source_of

if TYPE_CHECKING:
    from mlpilot.client import Client
    from mlpilot.pipelines.engine import PipelineResult

__all__ = ["Pipeline", "pipeline"]

_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


class Pipeline:
    def __init__(self, fn: Callable[..., Any], *, name: str | None = None) -> None:
        self.fn = fn
        self.__module__ = fn.__module__
        self.__qualname__ = fn.__qualname__
        self.__doc__ = fn.__doc__
        self.name = name or fn.__name__.replace("_", "-")
        self.signature = inspect.signature(fn)
        try:
            hints = typing.get_type_hints(fn)
        except (NameError, TypeError, AttributeError):
            hints = {}
        self.types: dict[str, Any] = {param: hints.get(param) for param in self.signature.parameters}

    def __repr__(self) -> str:
        return f"<pipeline {self.name}>"

    @property
    def source(self) -> str:
        return source_of(self)

    def parameters(self) -> dict[str, Any]:
        """Each parameter's default (``inspect.Parameter.empty`` when it must be given)."""
        return {name: param.default for name, param in self.signature.parameters.items()}

    def resolve(self, given: Mapping[str, Any] | None = None, *, text: bool = False) -> dict[str, Any]:
        """Every parameter's value: given (converted from text for ``-P``) or its default."""
        given = dict(given or {})
        unknown = sorted(set(given) - set(self.signature.parameters))
        if unknown:
            known = ", ".join(self.signature.parameters) or "none"
            raise InvalidInput(
                f"pipeline {self.name!r} has no parameter {', '.join(map(repr, unknown))}",
                hint=f"Its parameters: {known}.",
            )
        values: dict[str, Any] = {}
        for name, param in self.signature.parameters.items():
            if name in given:
                value = given[name]
                values[name] = _convert(self.name, name, self.types[name], value) if text else value
            elif param.default is inspect.Parameter.empty:
                raise InvalidInput(
                    f"pipeline {self.name!r} needs a value for parameter {name!r}", hint=f"Pass -P {name}=VALUE."
                )
            else:
                values[name] = param.default
        return values

    def compose(self, params: Mapping[str, Any] | None = None) -> Graph:
        graph = Graph()
        with composing(graph):
            self.fn(**self.resolve(params))
        if not graph.nodes:
            raise InvalidInput(f"pipeline {self.name!r} calls no step", hint="Call @step functions in its body.")
        return graph

    def run(
        self,
        params: Mapping[str, Any] | None = None,
        *,
        client: Client | None = None,
        cache: bool = True,
        workers: int | None = None,
        trigger: Mapping[str, Any] | None = None,
        executor: str = "processes",
    ) -> PipelineResult:
        """Run every step (skipping those whose cache key matches an earlier success). Fanned-out
        steps run in a process pool, or with ``executor="spark"`` one instance per Spark task."""
        from mlpilot.pipelines.engine import run_pipeline

        return run_pipeline(
            self, params, client=client, cache=cache, workers=workers, trigger=trigger, executor=executor
        )


def _convert(pipeline: str, name: str, kind: Any, value: Any) -> Any:
    if not isinstance(value, str) or kind in (None, str, Any):
        return value
    text = value.strip()
    try:
        if kind is bool:
            if text.lower() in _TRUE | _FALSE:
                return text.lower() in _TRUE
            raise ValueError(text)
        if kind is int:
            return int(text)
        if kind is float:
            return float(text)
    except ValueError:
        raise InvalidInput(
            f"parameter {name!r} of pipeline {pipeline!r} is {kind.__name__}, got {value!r}",
            hint=f"Pass -P {name}=" + {"bool": "true", "int": "3", "float": "0.5"}[kind.__name__] + ".",
        ) from None
    return value


@overload
def pipeline(fn: Callable[..., Any], /) -> Pipeline: ...
@overload
def pipeline(*, name: str | None = None) -> Callable[[Callable[..., Any]], Pipeline]: ...


def pipeline(
    fn: Callable[..., Any] | None = None, /, *, name: str | None = None
) -> Pipeline | Callable[[Callable[..., Any]], Pipeline]:
    """Make ``fn`` a pipeline: its body calls steps; its parameters (with defaults) are run parameters."""
    if fn is not None:
        return Pipeline(fn, name=name)
    return lambda f: Pipeline(f, name=name)
