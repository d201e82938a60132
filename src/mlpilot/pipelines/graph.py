"""The DAG a pipeline function describes: calling steps while composing records nodes and returns
handles to their outputs; passing a handle to another step is an edge.

Nodes are recorded in call order, and a handle can only come from an earlier call, so call order
is already a topological order: the graph cannot have a cycle.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlpilot.errors import InvalidInput

if TYPE_CHECKING:
    from mlpilot.pipelines.step import Step

__all__ = ["Graph", "Many", "Node", "Output", "composing", "current_graph"]


@dataclass(frozen=True, slots=True)
class Output:
    """One output of one step call, before it exists: what a later step receives."""

    node: str
    name: str

    @property
    def ref(self) -> str:
        return f"{self.node}.{self.name}"

    def __iter__(self) -> Iterator[Any]:
        raise InvalidInput(
            f"step output {self.ref} is one value and cannot be unpacked",
            hint="Declare several outputs with @step(outputs=(...)) or a tuple[...] return annotation.",
        )

    def __bool__(self) -> bool:
        raise InvalidInput(
            f"step output {self.ref} has no value while the pipeline is being composed",
            hint="Decide inside a step: pass the output to a step that takes the decision.",
        )


@dataclass(frozen=True, slots=True)
class Many:
    """The same output of every instance of a fanned-out step: a later step receives a list."""

    node: str
    name: str
    count: int

    @property
    def ref(self) -> str:
        return f"{self.node}[*].{self.name}"


@dataclass(slots=True)
class Node:
    name: str
    step: Step
    inputs: dict[str, Output | Many]  # parameter name → upstream output
    params: dict[str, Any]  # literal arguments, the same for every instance
    grid: list[dict[str, Any]] | None = None  # one parameter set per instance when fanned out

    @property
    def instances(self) -> list[tuple[str, dict[str, Any]]]:
        """(instance name, literal parameters) for every execution of this node."""
        if self.grid is None:
            return [(self.name, dict(self.params))]
        return [(f"{self.name}[{i}]", {**self.params, **extra}) for i, extra in enumerate(self.grid)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "step": self.step.name,
            "inputs": {param: handle.ref for param, handle in self.inputs.items()},
            "params": self.params,
            "grid": self.grid,
            "outputs": list(self.step.outputs),
            "cache": self.step.cache,
        }


@dataclass(slots=True)
class Graph:
    nodes: list[Node] = field(default_factory=list)

    def add(
        self,
        step: Step,
        inputs: Mapping[str, Output | Many],
        params: Mapping[str, Any],
        grid: Sequence[Mapping[str, Any]] | None,
    ) -> Node:
        taken = {node.name for node in self.nodes}
        foreign = sorted({handle.node for handle in inputs.values()} - taken)
        if foreign:
            raise InvalidInput(
                f"step {step.name!r} takes an output of {', '.join(map(repr, foreign))}, which is not a step "
                "of this pipeline",
                hint="Pass outputs of steps called in the same @pipeline function, after calling them.",
            )
        name = step.name
        if name in taken:
            name = next(f"{step.name}_{i}" for i in itertools.count(2) if f"{step.name}_{i}" not in taken)
        node = Node(name, step, dict(inputs), dict(params), [dict(g) for g in grid] if grid is not None else None)
        self.nodes.append(node)
        return node

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    def to_list(self) -> list[dict[str, Any]]:
        return [node.to_dict() for node in self.nodes]


_current: contextvars.ContextVar[Graph | None] = contextvars.ContextVar("mlpilot_pipeline_graph", default=None)


def current_graph() -> Graph | None:
    return _current.get()


@contextlib.contextmanager
def composing(graph: Graph) -> Iterator[Graph]:
    """While active, step calls add nodes to ``graph`` instead of running."""
    token = _current.set(graph)
    try:
        yield graph
    finally:
        _current.reset(token)
