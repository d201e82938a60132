"""Read the ``deployments:`` section of ``mlpilot.yaml`` into frozen records, refusing bad input
with the line and the field.

    deployments:
      - name: churn-api
        model: churn@production          # NAME@ALIAS follows the alias; NAME/VERSION fixes one
        max_batch_size: 32               # any deployment config option (deployments.CONFIG_OPTIONS)
        canary: {alias: challenger, weight: 0.1}
        shadow: {version: 3, share: 0.5}
        monitors: [{name: churn-drift, window: 1h, conditions: {drift_share: 0.3}}]
        retrain: [{pipeline: churn-retrain, on: alert, monitor: churn-drift}]

Everything that can be checked without the store is checked here, every problem collected, so
one run of ``mlpilot plan`` lists them all. What needs the store (does the model, the alias or
the pipeline exist?) is checked by ``mlpilot.ops.plan`` before anything is changed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlpilot.deployments.records import Canary, Shadow, Target
from mlpilot.deployments.specs import (
    CONFIG_OPTIONS,
    UNSET,
    Unset,
    check_config,
    check_deployment_name,
    check_distinct,
    parse_model_ref,
    parse_target,
)
from mlpilot.errors import InvalidInput
from mlpilot.ops.declared_lines import Problem, Source, raise_problems
from mlpilot.ops.declared_records import Declarations, DeclaredDeployment
from mlpilot.ops.declared_watch import Refused, Watch, read_monitors, read_retrain

__all__ = ["load_declarations"]

_ENTRY_KEYS = ("name", "model", "canary", "shadow", "monitors", "retrain", *CONFIG_OPTIONS)


def load_declarations(file: Path | str) -> Declarations:
    """The declarations of ``file``; DeclarationError lists every problem with its line and field."""
    path = Path(file).expanduser()
    if not path.is_file():
        raise InvalidInput(f"{path} does not exist", hint="Pass the project file with -f, e.g. -f mlpilot.yaml.")
    document, source = Source.read(path)  # a syntax error: InvalidInput with its line and column
    problems: list[Problem] = []
    if not isinstance(document, dict):
        raise_problems(source, [source.problem("", "must be a mapping with a `deployments:` list")])
    assert isinstance(document, dict)
    project = document.get("name", path.resolve().parent.name)
    if not isinstance(project, str) or not project.strip():
        problems.append(source.problem("name", "must be a non-empty string"))
        project = path.resolve().parent.name
    raw = document.get("deployments")
    if "deployments" not in document:
        raise_problems(source, [source.problem("", "has no `deployments:` section", "Declare `deployments: []`.")])
    if raw is None:
        raw = []  # `deployments:` with nothing under it: an explicit empty list
    if not isinstance(raw, list):
        raise_problems(source, [source.problem("deployments", f"must be a list, got {type(raw).__name__}")])
    reader = _Reader(source, problems)
    found = tuple(entry for position, item in enumerate(raw) if (entry := reader.entry(item, position)) is not None)
    reader.check_unique(found)
    raise_problems(source, problems)
    return Declarations(source, project.strip(), found)


class _Reader:
    def __init__(self, source: Source, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        self.watch = Watch(source)

    def entry(self, raw: object, position: int) -> DeclaredDeployment | None:
        where = f"deployments[{position}]"
        try:
            return self._entry(raw, where)
        except Refused as refused:
            self.problems.append(refused.problem)
            return None

    def _entry(self, raw: object, where: str) -> DeclaredDeployment:
        mapping = self.watch.mapping(raw, where)
        # Monitors and triggers first: their problems are listed even when the entry's own are fatal.
        monitors = self._section(mapping, where, "monitors", read_monitors)
        retrain = self._section(mapping, where, "retrain", read_retrain)
        self.watch.known_keys(mapping, where, _ENTRY_KEYS)
        name = self.watch.checked(f"{where}.name", check_deployment_name, self.watch.required(mapping, where, "name"))
        ref = self.watch.required(mapping, where, "model")
        model, target = self.watch.checked(f"{where}.model", parse_model_ref, ref)
        split = self._split(mapping, where, "canary", "weight", model)
        canary = Canary(*split) if isinstance(split, tuple) else split
        split = self._split(mapping, where, "shadow", "share", model)
        shadow = Shadow(*split) if isinstance(split, tuple) else split
        # A canary or shadow of the primary target itself would split traffic between identical models.
        if isinstance(canary, Canary):
            self.watch.checked(f"{where}.canary", lambda split: check_distinct(target, split, None), canary)
        if isinstance(shadow, Shadow):
            self.watch.checked(f"{where}.shadow", lambda split: check_distinct(target, None, split), shadow)
        config = {key: self._option(mapping[key], f"{where}.{key}", key) for key in CONFIG_OPTIONS if key in mapping}
        return DeclaredDeployment(name, model, target, where, canary, shadow, config, monitors, retrain)

    def _section(self, mapping: Mapping[object, object], where: str, key: str, read: Any) -> Any:
        """Monitors and retraining triggers: their problems are collected and reading goes on."""
        found, problems = read(self.watch, mapping.get(key), f"{where}.{key}")
        self.problems.extend(problems)
        return found

    def _split(
        self, mapping: Mapping[object, object], where: str, field: str, amount: str, model: str
    ) -> tuple[Target, float] | Unset | None:
        if field not in mapping:
            return UNSET  # left out: apply leaves the stored one alone (a rollout may have set it)
        raw = mapping[field]
        if raw is None:
            return None
        at = f"{where}.{field}"
        split = self.watch.mapping(raw, at)
        self.watch.known_keys(split, at, ("model", "alias", "version", amount))
        named = [key for key in ("model", "alias", "version") if key in split]
        if len(named) != 1:
            raise self.watch.refuse(
                at,
                "names its target with exactly one of model, alias or version",
                f"For example {{alias: challenger, {amount}: 0.1}}.",
            )
        target = self._target(split[named[0]], f"{at}.{named[0]}", named[0], model)
        value = self._fraction(
            self.watch.required(split, at, amount), f"{at}.{amount}", upper_inclusive=field == "shadow"
        )
        return target, value

    def _target(self, raw: object, at: str, kind: str, model: str) -> Target:
        if kind == "model":
            other, target = self.watch.checked(at, parse_model_ref, raw)
            if other != model:
                raise self.watch.refuse(at, f"names model {other!r}; a deployment serves versions of {model!r} only")
            return target
        if kind == "version" and (isinstance(raw, bool) or not isinstance(raw, int)):
            raise self.watch.refuse(at, f"must be a version number, got {raw!r}")
        if kind == "alias" and (not isinstance(raw, str) or raw.removeprefix("@").isdecimal()):
            raise self.watch.refuse(at, f"must be an alias name, got {raw!r}", "Give a version with `version:`.")
        return self.watch.checked(at, lambda value: parse_target(value, kind), raw)

    def _fraction(self, raw: object, at: str, *, upper_inclusive: bool) -> float:
        number = raw if isinstance(raw, int | float) and not isinstance(raw, bool) else math.nan
        inside = 0 < number <= 1 if upper_inclusive else 0 < number < 1  # NaN is never inside
        if not inside:
            bounds = "above 0 and at most 1" if upper_inclusive else "between 0 and 1 (both excluded)"
            raise self.watch.refuse(at, f"must be a number {bounds}, got {raw!r}")
        return float(number)

    def _option(self, raw: object, at: str, key: str) -> Any:
        if raw is None:
            return None  # null clears the option
        return self.watch.checked(at, lambda value: check_config({key: value})[key], raw)

    def check_unique(self, found: tuple[DeclaredDeployment, ...]) -> None:
        """Deployment and monitor names are unique in the store, so they must be in the file."""
        seen: dict[str, str] = {}
        for entry in found:
            self._once(seen, entry.name, f"{entry.where}.name", "deployment")
        monitors: dict[str, str] = {}
        for entry in found:
            for monitor in entry.monitors:
                self._once(monitors, monitor.name, f"{monitor.where}.name", "monitor")

    def _once(self, seen: dict[str, str], name: str, at: str, kind: str) -> None:
        if name in seen:
            first = self.source.line(seen[name])
            self.problems.append(
                self.source.problem(at, f"duplicate {kind} name {name!r} (first declared on line {first})")
            )
        else:
            seen[name] = at
