"""The descriptor of a saved model: ``MLPILOT_MODEL.json`` beside the model files.

It says which flavor wrote the files (and so which one reads them back), which Python and
package versions were in use, the input signature, a few rows of input example and the metrics of
the run that produced the model. Readers refuse a descriptor they cannot fully understand rather
than guess: a newer format version, an unknown flavor, a missing or mistyped field.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlpilot.errors import InvalidInput, NotFound
from mlpilot.models.flavors.registry import known_flavors

__all__ = ["DESCRIPTOR_FILE", "FORMAT_VERSION", "Descriptor", "read_descriptor", "write_descriptor"]

DESCRIPTOR_FILE = "MLPILOT_MODEL.json"
# Bump when a reader of the old version could misread a new descriptor; old readers then refuse it.
FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class Descriptor:
    format_version: int
    flavor: str
    loader: str  # the module of the flavor that wrote the files; informational, never imported from here
    model_files: tuple[str, ...]
    python: str
    packages: dict[str, str]
    signature: dict[str, Any] | None
    input_example: list[dict[str, Any]] | None
    metrics: dict[str, float]
    run_id: str | None
    created_at: int  # milliseconds since the epoch

    def to_dict(self) -> dict[str, Any]:
        # Field order is fixed and mappings are sorted so the same model always gives the same
        # bytes; input example records keep their column order.
        return {
            "format_version": self.format_version,
            "flavor": self.flavor,
            "loader": self.loader,
            "model_files": list(self.model_files),
            "python": self.python,
            "packages": dict(sorted(self.packages.items())),
            "signature": self.signature,
            "input_example": self.input_example,
            "metrics": dict(sorted(self.metrics.items())),
            "run_id": self.run_id,
            "created_at": self.created_at,
        }

    def to_json(self) -> str:
        try:
            return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"the model descriptor cannot be written as JSON: {exc}") from exc

    @classmethod
    def from_dict(cls, data: object, *, source: str = "the descriptor") -> Descriptor:
        """Validate a parsed descriptor; every problem names ``source`` and the offending field."""
        if not isinstance(data, dict):
            raise InvalidInput(f"{source} must hold a JSON object, not {type(data).__name__}")
        version = data.get("format_version")
        if type(version) is not int or version < 1:
            raise InvalidInput(f"{source} has no valid format_version (found {version!r})")
        if version > FORMAT_VERSION:
            # Checked before anything else: a newer format may have renamed or dropped fields.
            raise InvalidInput(
                f"{source} has format version {version}: it was written by a newer mlpilot, and this one reads "
                f"up to version {FORMAT_VERSION}",
                hint="Upgrade mlpilot (pip install -U mlpilot) to load this model.",
            )
        missing = [name for name in _FIELD_CHECKS if name not in data]
        if missing:
            raise InvalidInput(f"{source} is missing the field(s) {', '.join(missing)}")
        for name, check in _FIELD_CHECKS.items():
            if not check(data[name]):
                raise InvalidInput(f"{source} has an invalid {name}: {data[name]!r}")
        flavor = data["flavor"]
        if flavor not in known_flavors():
            raise InvalidInput(
                f"{source} names the unknown flavor {flavor!r}; this mlpilot knows {', '.join(known_flavors())}",
                hint="Upgrade mlpilot, or check that the descriptor was not edited by hand.",
            )
        return cls(
            format_version=version,
            flavor=flavor,
            loader=data["loader"],
            model_files=tuple(data["model_files"]),
            python=data["python"],
            packages=dict(data["packages"]),
            signature=data["signature"],
            input_example=data["input_example"],
            metrics={key: float(value) for key, value in data["metrics"].items()},
            run_id=data["run_id"],
            created_at=data["created_at"],
        )


def write_descriptor(directory: str | Path, descriptor: Descriptor) -> Path:
    target = Path(directory) / DESCRIPTOR_FILE
    target.write_text(descriptor.to_json(), encoding="utf-8")
    return target


def read_descriptor(directory: str | Path) -> Descriptor:
    root = Path(directory)
    if not root.is_dir():
        raise NotFound(f"model folder {root} does not exist", hint="Pass the folder a model was saved to.")
    path = root / DESCRIPTOR_FILE
    if not path.is_file():
        raise InvalidInput(
            f"{root} is not an mlpilot model: it has no {DESCRIPTOR_FILE}",
            hint="Save models with run.log_model(...) or mlpilot.models.save_model(...).",
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{path} is not valid JSON: {exc}") from exc
    return Descriptor.from_dict(data, source=str(path))


def _is_str(value: object) -> bool:
    return isinstance(value, str) and bool(value)


def _is_str_map(value: object) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


def _is_metrics(value: object) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, int | float) and not isinstance(v, bool) for k, v in value.items()
    )


def _is_files(value: object) -> bool:
    # Loading joins these to the model folder: only clean relative paths may stay inside it.
    return (
        isinstance(value, list)
        and bool(value)
        and all(_is_str(item) and all(part not in ("", ".", "..") for part in item.split("/")) for item in value)
        and DESCRIPTOR_FILE not in value
    )


def _is_records(value: object) -> bool:
    return value is None or (isinstance(value, list) and all(isinstance(row, dict) for row in value))


_FIELD_CHECKS: Mapping[str, Callable[[Any], bool]] = {
    "format_version": lambda value: type(value) is int,
    "flavor": _is_str,
    "loader": _is_str,
    "model_files": _is_files,
    "python": _is_str,
    "packages": _is_str_map,
    "signature": lambda value: value is None or isinstance(value, dict),
    "input_example": _is_records,
    "metrics": _is_metrics,
    "run_id": lambda value: value is None or _is_str(value),
    "created_at": lambda value: type(value) is int and value >= 0,
}
