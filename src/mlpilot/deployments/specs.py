"""What a caller may ask of a deployment, checked before anything is read or stored.

Each check names the field it refused and the values it accepts, so an HTTP 400 or a CLI error
tells the operator exactly what to change.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

from mlpilot.deployments.records import Canary, Shadow, Target
from mlpilot.errors import InvalidInput
from mlpilot.registry.uri import RunModelRef, check_alias, parse_model_uri

__all__ = [
    "CONFIG_OPTIONS",
    "UNSET",
    "CanaryLike",
    "ConfigOption",
    "ShadowLike",
    "TargetLike",
    "Unset",
    "canary_of",
    "check_config",
    "check_deployment_name",
    "check_distinct",
    "parse_model_ref",
    "parse_target",
    "shadow_of",
]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
_REF_HINT = "Deploy NAME@ALIAS (follows the alias) or NAME/VERSION (fixed), with or without 'models:/'."

TargetLike: TypeAlias = Target | str | int
CanaryLike: TypeAlias = Canary | tuple[TargetLike, float] | Mapping[str, Any]
ShadowLike: TypeAlias = Shadow | tuple[TargetLike, float] | Mapping[str, Any]


class Unset(enum.Enum):
    """``update_deployment``'s "leave as it is", distinct from None, which clears."""

    UNSET = "UNSET"


UNSET: Final = Unset.UNSET


@dataclass(frozen=True, slots=True)
class ConfigOption:
    """A per-deployment serving override: its type, inclusive range and meaning."""

    kind: type[int] | type[float]
    low: float
    high: float
    description: str


# The serving overrides a deployment may carry; anything else is refused rather than silently
# ignored, so a typo cannot leave a deployment running on defaults.
CONFIG_OPTIONS: Mapping[str, ConfigOption] = {
    "max_batch_size": ConfigOption(int, 1, 10_000, "most rows scored together in one model call"),
    "max_batch_wait_ms": ConfigOption(float, 0, 1_000, "longest a request waits for others to batch with"),
    # Worker processes belong to the process that serves; on the platform server they serve every
    # deployment at once, so this counts only where the deployment runs on its own (the Docker and
    # Kubernetes exports' `mlpilot serve --workers N`).
    "workers": ConfigOption(int, 1, 64, "worker processes when the deployment is served on its own"),
}


def check_deployment_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInput(
            f"name {name!r} is not a valid deployment name",
            hint="Use up to 100 letters, digits, '_', '-' or '.', starting with a letter or digit.",
        )
    return name


def parse_model_ref(model_ref: object) -> tuple[str, Target]:
    """The model name and primary target of ``churn@production``, ``churn/3`` or their ``models:/`` forms."""
    if not isinstance(model_ref, str):
        raise InvalidInput(f"model_ref must be a string, got {type(model_ref).__name__}", hint=_REF_HINT)
    uri = model_ref if model_ref.startswith(("models:/", "runs:/")) else f"models:/{model_ref}"
    try:
        ref = parse_model_uri(uri)
    except InvalidInput as exc:
        raise InvalidInput(f"model_ref {model_ref!r}: {exc.message}", hint=_REF_HINT) from exc
    if isinstance(ref, RunModelRef):
        raise InvalidInput(
            f"model_ref {model_ref!r} is a run's model; only registered models can be deployed",
            hint="Register it (`mlpilot models register RUN_ID PATH NAME`), then deploy NAME@ALIAS or NAME/VERSION.",
        )
    if ref.alias is not None:
        return ref.name, Target(alias=ref.alias)
    if ref.version is not None:
        return ref.name, Target(version=ref.version)
    raise InvalidInput(
        f"model_ref {model_ref!r} names the latest version, which moves without an audited event",
        hint="Follow an alias (NAME@production) or fix a version (NAME/3).",
    )


def parse_target(value: object, field: str) -> Target:
    """An alias (``"challenger"`` or ``"@challenger"``) or a version (``5`` or ``"5"``)."""
    if isinstance(value, Target):
        return _alias(value.alias, field) if value.alias is not None else parse_target(value.version, field)
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise InvalidInput(f"{field} version must be 1 or more, got {value}")
        return Target(version=value)
    if isinstance(value, str):
        text = value.removeprefix("@")
        return parse_target(int(text), field) if text.isdecimal() else _alias(text, field)
    raise InvalidInput(
        f"{field} must be an alias name or a version number, got {type(value).__name__}",
        hint="For example 'challenger' or 5.",
    )


def _alias(alias: str, field: str) -> Target:
    try:
        return Target(alias=check_alias(alias))
    except InvalidInput as exc:
        raise InvalidInput(f"{field}: {exc.message}", hint=exc.hint) from exc


def _fraction(value: object, field: str, *, upper_inclusive: bool) -> float:
    allowed = "0 < x <= 1" if upper_inclusive else "0 < x < 1"
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else math.nan
    inside = 0 < number <= 1 if upper_inclusive else 0 < number < 1  # NaN is never inside
    if not inside:
        raise InvalidInput(f"{field} must be a number with {allowed}, got {value!r}")
    return float(number)


def _split(value: object, field: str, amount: str) -> tuple[object, object]:
    if isinstance(value, Mapping):
        extra = sorted(set(value) - {"target", amount})
        if extra or "target" not in value or amount not in value:
            raise InvalidInput(
                f"{field} must have exactly the keys 'target' and {amount!r}, got {sorted(value)}",
                hint=f"For example {{'target': 'challenger', {amount!r}: 0.1}}.",
            )
        return value["target"], value[amount]
    if isinstance(value, tuple | list) and len(value) == 2:
        return value[0], value[1]
    raise InvalidInput(
        f"{field} must be (target, {amount}), got {type(value).__name__}",
        hint=f"For example ('challenger', 0.1) or {{'target': 5, {amount!r}: 0.1}}; None removes it.",
    )


def canary_of(value: object) -> Canary | None:
    if value is None:
        return None
    target, weight = (value.target, value.weight) if isinstance(value, Canary) else _split(value, "canary", "weight")
    return Canary(parse_target(target, "canary target"), _fraction(weight, "canary weight", upper_inclusive=False))


def shadow_of(value: object) -> Shadow | None:
    if value is None:
        return None
    target, share = (value.target, value.share) if isinstance(value, Shadow) else _split(value, "shadow", "share")
    return Shadow(parse_target(target, "shadow target"), _fraction(share, "shadow share", upper_inclusive=True))


def check_config(value: object) -> dict[str, Any]:
    """The serving overrides, each known, of its type and in its range; None means none."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput(f"config must be a mapping of option to value, got {type(value).__name__}")
    known = ", ".join(sorted(CONFIG_OPTIONS))
    clean: dict[str, Any] = {}
    for key, item in value.items():
        option = CONFIG_OPTIONS.get(key)
        if option is None:
            raise InvalidInput(f"config key {key!r} is unknown", hint=f"Known keys: {known}.")
        number = item if isinstance(item, int | float) and not isinstance(item, bool) else None
        if option.kind is int and not isinstance(number, int):
            number = None
        if number is None or not option.low <= number <= option.high:  # NaN fails the range
            kind = "an integer" if option.kind is int else "a number"
            raise InvalidInput(
                f"config {key} must be {kind} from {option.low:g} to {option.high:g}, got {item!r}",
                hint=f"{key}: {option.description}.",
            )
        clean[key] = option.kind(number)
    return clean


def check_distinct(target: Target, canary: Canary | None, shadow: Shadow | None) -> None:
    """A canary or shadow of the primary target itself would split traffic between identical models."""
    for field, other in (("canary", canary), ("shadow", shadow)):
        if other is not None and other.target == target:
            raise InvalidInput(
                f"{field} target {other.target} is the primary target; it must name another alias or version",
                hint=f"Pass None as {field} to remove it.",
            )
