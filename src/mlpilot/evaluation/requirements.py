"""What a gate requires: absolute thresholds and changes versus a baseline, as text or as records.

Text form (``--require``), one comparison per expression::

    accuracy>=0.85      absolute: the candidate's accuracy is at least 0.85
    accuracy>=+0.01     change:   candidate - baseline >= 0.01
    log_loss<=-0.02     change:   candidate - baseline <= -0.02
    accuracy>=+2%       relative: (candidate - baseline) / |baseline| >= 0.02
    rmse<=-5%           relative: (candidate - baseline) / |baseline| <= -0.05

Operators are ``>=``, ``>``, ``<=`` and ``<``. A sign in front of the number makes it a change;
no sign makes it a threshold; ``%`` is only for changes. ``accuracy>=-0.005`` is the usual
"not worse by more than 0.005" gate and ``accuracy>=+0`` "not worse at all".

Records: ``Threshold(metric, min=, max=)`` and ``Change(metric, min_delta=, relative=, direction=)``.
A ``Change`` is stated in the metric's *better* direction: ``min_delta`` is the least improvement
required, so ``Change("accuracy", 0.01)`` means accuracy rises by 0.01 and ``Change("rmse", 0.01)``
means rmse falls by 0.01 (rmse is lower-is-better, so the default direction flips). A negative
``min_delta`` is a tolerated regression. An expression's operator states its direction outright
(``>`` higher, ``<`` lower); one that asks a metric of known direction to move the worse way
(``rmse>=+0.01``, ``accuracy<=-0.01``) is refused as the likely slip it is.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeAlias

from mlpilot.errors import InvalidInput
from mlpilot.evaluation.names import CLASSIFICATION_METRICS, REGRESSION_METRICS, is_lower_better

__all__ = [
    "Change",
    "Direction",
    "Requirement",
    "RequirementSpec",
    "Threshold",
    "default_direction",
    "parse_requirement",
    "parse_requirements",
    "refuse_unknown_metrics",
]

Direction = Literal["higher", "lower"]
FORM_HINT = (
    "Write METRIC OP VALUE with OP one of >=, >, <=, <: 'accuracy>=0.85' (at least 0.85), "
    "'accuracy>=+0.01' (at least 0.01 above the baseline), 'rmse<=-5%' (at least 5% below the baseline)."
)
_METRIC = r"[A-Za-z_][A-Za-z0-9_.:/\-]*"
_EXPRESSION = re.compile(
    rf"^\s*(?P<metric>{_METRIC})\s*(?P<op>>=|<=|>|<)\s*(?P<sign>[+-]?)\s*"
    r"(?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(?P<percent>%?)\s*$"
)
_KNOWN = frozenset(CLASSIFICATION_METRICS) | frozenset(REGRESSION_METRICS)


def default_direction(metric: str) -> Direction:
    """The way a metric improves: down for losses and errors, up for everything else."""
    return "lower" if is_lower_better(metric) else "higher"


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"{what} must be a number, got {value!r}", hint=FORM_HINT)
    if not math.isfinite(value):
        raise InvalidInput(f"{what} must be a finite number, got {value!r}", hint=FORM_HINT)
    return float(value)


def _metric(name: object) -> str:
    if not isinstance(name, str) or not re.fullmatch(_METRIC, name):
        raise InvalidInput(f"{name!r} is not a metric name", hint=FORM_HINT)
    return name


def _text(value: float) -> str:
    text = repr(float(value))
    return text.removesuffix(".0") if "e" not in text else text


@dataclass(frozen=True, slots=True)
class Threshold:
    """The candidate's value lies within ``[min, max]`` (strictly inside when not ``inclusive``);
    a bound left as None is open."""

    metric: str
    min: float | None = None
    max: float | None = None
    inclusive: bool = True
    kind: ClassVar[str] = "threshold"

    def __post_init__(self) -> None:
        _metric(self.metric)
        if self.min is None and self.max is None:
            raise InvalidInput(f"the threshold on {self.metric!r} has neither min nor max", hint=FORM_HINT)
        for bound in ("min", "max"):
            if (value := getattr(self, bound)) is not None:
                object.__setattr__(self, bound, _number(value, f"{bound} of the threshold on {self.metric!r}"))
        if self.min is not None and self.max is not None and self.min > self.max:
            raise InvalidInput(f"the threshold on {self.metric!r} has min {self.min} above max {self.max}")

    @property
    def expression(self) -> str:
        low, high = (">=", "<=") if self.inclusive else (">", "<")
        if self.max is None:
            return f"{self.metric}{low}{_text(self.min or 0.0)}"
        if self.min is None:
            return f"{self.metric}{high}{_text(self.max)}"
        return f"{_text(self.min)}{high}{self.metric}{high}{_text(self.max)}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "metric": self.metric,
            "min": self.min,
            "max": self.max,
            "inclusive": self.inclusive,
            "expression": self.expression,
        }


@dataclass(frozen=True, slots=True)
class Change:
    """The candidate improves on the baseline by at least ``min_delta`` in ``direction`` (by default
    the metric's own: lower for losses and errors); ``relative`` measures the change as a fraction
    of ``|baseline|``. With ``inclusive`` False the improvement must exceed ``min_delta``."""

    metric: str
    min_delta: float = 0.0
    relative: bool = False
    direction: Direction | None = None
    inclusive: bool = True
    kind: ClassVar[str] = "change"

    def __post_init__(self) -> None:
        _metric(self.metric)
        object.__setattr__(self, "min_delta", _number(self.min_delta, f"min_delta of the change in {self.metric!r}"))
        if self.direction not in (None, "higher", "lower"):
            raise InvalidInput(f"direction {self.direction!r} is not 'higher' or 'lower'", hint=FORM_HINT)
        if self.direction is None:  # resolved once, so records, stored dicts and reports all state it
            object.__setattr__(self, "direction", default_direction(self.metric))
        if not isinstance(self.relative, bool):
            raise InvalidInput(f"relative must be true or false, got {self.relative!r}")

    @property
    def better(self) -> Direction:
        return self.direction or default_direction(self.metric)

    @property
    def expression(self) -> str:
        """The text form: the signed bound on ``candidate - baseline`` (or its ratio)."""
        higher = self.better == "higher"
        op = (">=" if higher else "<=") if self.inclusive else (">" if higher else "<")
        bound = self.min_delta if higher else -self.min_delta
        sign = "-" if math.copysign(1.0, bound) < 0 and bound != 0 else "+"
        magnitude = abs(bound) * (100 if self.relative else 1)
        return f"{self.metric}{op}{sign}{_text(round(magnitude, 12))}{'%' if self.relative else ''}"

    def improvement(self, candidate: float, baseline: float) -> float | None:
        """How much better the candidate is, in the units ``min_delta`` uses; None when the
        change is relative and the baseline is 0."""
        delta = candidate - baseline if self.better == "higher" else baseline - candidate
        if not self.relative:
            return delta
        return None if baseline == 0 else delta / abs(baseline)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "metric": self.metric,
            "min_delta": self.min_delta,
            "relative": self.relative,
            "direction": self.better,
            "inclusive": self.inclusive,
            "expression": self.expression,
        }


Requirement: TypeAlias = Threshold | Change
RequirementSpec: TypeAlias = "str | Mapping[str, Any] | Threshold | Change"
_FIELDS: dict[str, frozenset[str]] = {
    "threshold": frozenset({"metric", "min", "max", "inclusive"}),
    "change": frozenset({"metric", "min_delta", "relative", "direction", "inclusive"}),
}


def parse_requirement(spec: RequirementSpec) -> Requirement:
    """A requirement from an expression, a mapping (as ``to_dict`` writes) or a record."""
    if isinstance(spec, Threshold | Change):
        return spec
    if isinstance(spec, str):
        return _parse_expression(spec)
    if isinstance(spec, Mapping):
        return _from_mapping(spec)
    raise InvalidInput(f"cannot read a requirement from a {type(spec).__name__}", hint=FORM_HINT)


def parse_requirements(specs: Iterable[RequirementSpec] | RequirementSpec | None) -> tuple[Requirement, ...]:
    if specs is None:
        return ()
    if isinstance(specs, str | Mapping | Threshold | Change):
        return (parse_requirement(specs),)
    return tuple(parse_requirement(spec) for spec in specs)


def _parse_expression(text: str) -> Requirement:
    found = _EXPRESSION.match(text)
    if found is None:
        raise InvalidInput(f"cannot read the requirement {text!r}", hint=FORM_HINT)
    metric, op = found["metric"], found["op"]
    value = float(found["number"])
    inclusive = op in (">=", "<=")
    if not found["sign"]:
        if found["percent"]:
            raise InvalidInput(
                f"{text!r}: a percentage is only for a change versus the baseline",
                hint="Write 'accuracy>=+2%' for a relative change, or 'accuracy>=0.85' for a value.",
            )
        if op.startswith(">"):
            return Threshold(metric, min=value, inclusive=inclusive)
        return Threshold(metric, max=value, inclusive=inclusive)
    signed = -value if found["sign"] == "-" else value
    if found["percent"]:
        signed /= 100
    direction: Direction = "higher" if op.startswith(">") else "lower"
    known = metric in _KNOWN or is_lower_better(metric)
    if known and direction != default_direction(metric):
        better = default_direction(metric)
        op_ok = ">=" if better == "higher" else "<="
        improve, tolerate = ("+", "-") if better == "higher" else ("-", "+")
        amount = found["number"] + found["percent"]
        raise InvalidInput(
            f"{text!r} asks {metric} to get worse, but {metric} is {better}-is-better",
            hint=f"Write '{metric}{op_ok}{improve}{amount}' to require an improvement, "
            f"or '{metric}{op_ok}{tolerate}{amount}' to allow at most that much worse.",
        )
    min_delta = signed if direction == "higher" else -signed
    return Change(metric, min_delta, relative=bool(found["percent"]), direction=direction, inclusive=inclusive)


def _from_mapping(spec: Mapping[str, Any]) -> Requirement:
    data = dict(spec)
    data.pop("expression", None)  # derived from the other fields; to_dict writes it for readers
    kind = data.pop("kind", None)
    if kind is None:
        kind = "change" if {"min_delta", "relative", "direction"} & data.keys() else "threshold"
    if kind not in _FIELDS:
        raise InvalidInput(f"unknown requirement kind {kind!r}", hint="Use 'threshold' or 'change'.")
    if unknown := sorted(set(map(str, data)) - _FIELDS[kind]):
        raise InvalidInput(
            f"unknown fields {', '.join(map(repr, unknown))} in a {kind} requirement",
            hint=f"A {kind} has the fields {', '.join(sorted(_FIELDS[kind]))}.",
        )
    if "metric" not in data:
        raise InvalidInput(f"a {kind} requirement needs a 'metric'", hint=FORM_HINT)
    if not isinstance(data.get("inclusive", True), bool):
        raise InvalidInput(f"inclusive must be true or false, got {data['inclusive']!r}")
    return Threshold(**data) if kind == "threshold" else Change(**data)


_PRODUCED = {"classification": CLASSIFICATION_METRICS, "regression": REGRESSION_METRICS}


def refuse_unknown_metrics(requirements: Iterable[Requirement], task: str | None = None) -> None:
    """Refuse requirements on metrics evaluation never produces (for ``task``, or for any task):
    a typo in a gate is a mistake to fix, not a model to fail."""
    produced = _PRODUCED.get(task or "", (*CLASSIFICATION_METRICS, *REGRESSION_METRICS))
    if unknown := sorted({requirement.metric for requirement in requirements} - set(produced)):
        scope = f" for {task}" if task in _PRODUCED else ""
        raise InvalidInput(
            f"the gate requires {', '.join(map(repr, unknown))}, which evaluation does not produce{scope}",
            hint=f"Use one of: {', '.join(produced)}.",
        )
