"""Reading a declared deployment's ``monitors:`` and ``retrain:`` lists, and the field checks the
whole declaration reader shares (each refusal a Problem with its path and line)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from mlpilot.errors import InvalidInput
from mlpilot.monitoring.config import MonitorConfig
from mlpilot.monitoring.monitors import check_monitor_name
from mlpilot.ops.declared_lines import Problem, Source
from mlpilot.ops.declared_records import TRIGGER_SOURCES, DeclaredMonitor, DeclaredTrigger
from mlpilot.orchestration.stored import check_pipeline_name
from mlpilot.orchestration.triggers import next_fire_ms

__all__ = ["Refused", "Watch", "read_monitors", "read_retrain"]

T = TypeVar("T")
# A monitor's entry is its config's fields, its name and whether it runs. The webhook secret is
# left out: a file committed to git is no place for it (set it with `mlpilot monitors update`).
_CONFIG_FIELDS = tuple(f.name for f in dataclasses.fields(MonitorConfig) if f.name != "webhook_secret")
_MONITOR_KEYS = ("name", "enabled", *_CONFIG_FIELDS)
_RETRAIN_KEYS = ("pipeline", "on", "params", *TRIGGER_SOURCES.values())
_MONITOR_FIELD = re.compile(r"^monitor config field ([^:]+): (.*)$", re.DOTALL)


class Refused(Exception):
    """Stops reading one entry; the reader records its problem and goes on with the next."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


class Watch:
    """Field checks that name the path they refused."""

    def __init__(self, source: Source) -> None:
        self.source = source

    def refuse(self, path: str, message: str, hint: str | None = None) -> Refused:
        return Refused(self.source.problem(path, message, hint))

    def mapping(self, raw: object, path: str) -> Mapping[object, object]:
        if not isinstance(raw, dict):
            raise self.refuse(path, f"must be a mapping, got {type(raw).__name__}")
        # YAML 1.1 reads an unquoted `on:` key as the boolean true; it is the retrain key `on`.
        return {("on" if key is True else key): value for key, value in raw.items()}

    def known_keys(self, mapping: Mapping[object, object], path: str, allowed: tuple[str, ...]) -> None:
        unknown = sorted(str(key) for key in mapping if key not in allowed)
        if unknown:
            raise self.refuse(f"{path}.{unknown[0]}", "is not a known key", f"Known keys: {', '.join(allowed)}.")

    def required(self, mapping: Mapping[object, object], path: str, key: str) -> object:
        if mapping.get(key) is None:
            raise self.refuse(f"{path}.{key}", "is missing")
        return mapping[key]

    def checked(self, path: str, check: Callable[[Any], T], raw: object) -> T:
        """``check(raw)``, its InvalidInput turned into a Problem at ``path``."""
        try:
            return check(raw)
        except InvalidInput as refused:
            raise self.refuse(path, refused.message, refused.hint) from None

    def text(self, raw: object, path: str) -> str:
        if not isinstance(raw, str) or not raw.strip():
            raise self.refuse(path, f"must be non-empty text, got {raw!r}")
        return raw.strip()


def _listed(watch: Watch, raw: object, path: str) -> list[object]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise watch.refuse(path, f"must be a list, got {type(raw).__name__}")
    return raw


def read_monitors(watch: Watch, raw: object, path: str) -> tuple[tuple[DeclaredMonitor, ...], list[Problem]]:
    found: list[DeclaredMonitor] = []
    problems: list[Problem] = []
    try:
        items = _listed(watch, raw, path)
    except Refused as refused:
        return (), [refused.problem]
    for position, item in enumerate(items):
        try:
            found.append(_monitor(watch, item, f"{path}[{position}]"))
        except Refused as refused:
            problems.append(refused.problem)
    return tuple(found), problems


def _monitor(watch: Watch, raw: object, path: str) -> DeclaredMonitor:
    mapping = watch.mapping(raw, path)
    if "webhook_secret" in mapping:
        raise watch.refuse(
            f"{path}.webhook_secret",
            "does not belong in a file kept in git",
            "Set it once with `mlpilot monitors update NAME --webhook-secret …`; apply keeps it.",
        )
    watch.known_keys(mapping, path, _MONITOR_KEYS)
    name = watch.checked(f"{path}.name", check_monitor_name, watch.required(mapping, path, "name"))
    enabled = mapping.get("enabled", True)
    if not isinstance(enabled, bool):
        raise watch.refuse(f"{path}.enabled", f"must be true or false, got {enabled!r}")
    settings = {key: value for key, value in mapping.items() if key not in ("name", "enabled")}
    try:
        config = MonitorConfig.from_dict(settings)
    except InvalidInput as refused:
        # MonitorConfig names the field it refused; point at that field's line.
        named = _MONITOR_FIELD.match(refused.message)
        field, message = (named.group(1), named.group(2)) if named else ("", refused.message)
        raise watch.refuse(f"{path}.{field}" if field else path, message, refused.hint) from None
    return DeclaredMonitor(name, config, enabled, path)


def read_retrain(watch: Watch, raw: object, path: str) -> tuple[tuple[DeclaredTrigger, ...], list[Problem]]:
    found: list[DeclaredTrigger] = []
    problems: list[Problem] = []
    try:
        items = _listed(watch, raw, path)
    except Refused as refused:
        return (), [refused.problem]
    for position, item in enumerate(items):
        try:
            trigger = _trigger(watch, item, f"{path}[{position}]")
        except Refused as refused:
            problems.append(refused.problem)
            continue
        if any(other.key == trigger.key for other in found):
            problems.append(watch.source.problem(trigger.where, "declares the same retraining twice"))
            continue
        found.append(trigger)
    return tuple(found), problems


def _trigger(watch: Watch, raw: object, path: str) -> DeclaredTrigger:
    mapping = watch.mapping(raw, path)
    watch.known_keys(mapping, path, _RETRAIN_KEYS)
    pipeline = watch.checked(f"{path}.pipeline", check_pipeline_name, watch.required(mapping, path, "pipeline"))
    kind = watch.required(mapping, path, "on")
    if kind not in TRIGGER_SOURCES:
        raise watch.refuse(f"{path}.on", f"must be one of {', '.join(TRIGGER_SOURCES)}, got {kind!r}")
    assert isinstance(kind, str)
    key = TRIGGER_SOURCES[kind]
    others = [other for other in TRIGGER_SOURCES.values() if other != key and other in mapping]
    if others:
        raise watch.refuse(f"{path}.{others[0]}", f"does not go with `on: {kind}`", f"`on: {kind}` takes `{key}:`.")
    source = watch.text(watch.required(mapping, path, key), f"{path}.{key}")
    if kind == "schedule":
        watch.checked(f"{path}.cron", lambda expression: next_fire_ms(expression, 0), source)
    params = mapping.get("params") or {}
    if not isinstance(params, dict) or not all(isinstance(name, str) for name in params):
        raise watch.refuse(f"{path}.params", "must be a mapping of parameter name to value")
    return DeclaredTrigger(pipeline, kind, source, dict(params), path)
