"""The Open Inference Protocol (KServe V2) over a tabular model.

A request names one input per signature column (shape ``[rows]`` or ``[rows, 1]``), or sends one
input of shape ``[rows, columns]`` whose columns are the signature's, in order. Outputs are
``predict`` (the default) and ``predict_proba`` (classifiers), chosen with ``"outputs"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlpilot.errors import InvalidInput
from mlpilot.models.signature import Signature
from mlpilot.serving.payload import Payload, payload_from_columns

__all__ = ["OUTPUTS", "InferRequest", "decode_infer", "encode_infer", "model_metadata"]

OUTPUTS = ("predict", "predict_proba")
_DATATYPES = {
    "integer": "INT64",
    "float": "FP64",
    "boolean": "BOOL",
    "string": "BYTES",
    "category": "BYTES",
    "datetime": "BYTES",
}
_HINT = (
    'Send {"inputs": [{"name": COLUMN, "shape": [ROWS], "datatype": "FP64", "data": [...]}, ...]} '
    "with one input per signature column (GET /v2/models/NAME lists them)."
)


class InferRequest:
    __slots__ = ("id", "outputs", "payload")

    def __init__(self, payload: Payload, outputs: tuple[str, ...], request_id: str | None) -> None:
        self.payload = payload
        self.outputs = outputs
        self.id = request_id


def decode_infer(document: object, signature: Signature | None, max_rows: int) -> InferRequest:
    if not isinstance(document, dict) or not isinstance(document.get("inputs"), list) or not document["inputs"]:
        raise InvalidInput('an inference request is an object with a non-empty "inputs" list', hint=_HINT)
    request_id = document.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise InvalidInput('"id" must be text')
    columns: dict[str, list[Any]] = {}
    inputs = document["inputs"]
    for position, tensor in enumerate(inputs):
        name, data, shape = _tensor(tensor, position)
        if len(inputs) == 1 and len(shape) == 2 and shape[1] > 1:
            columns.update(_matrix(name, data, shape, signature))
            continue
        if not (len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)):
            raise InvalidInput(f"input {name!r} has shape {shape}; a column has shape [rows] or [rows, 1]", hint=_HINT)
        flat = _flatten(data)
        if len(flat) != shape[0]:
            raise InvalidInput(f"input {name!r} has {len(flat)} values for shape {shape}")
        if name in columns:
            raise InvalidInput(f"input {name!r} is given twice")
        columns[name] = flat
    return InferRequest(payload_from_columns(columns, max_rows), _outputs(document.get("outputs")), request_id)


def encode_infer(
    deployment: str,
    version: int,
    request_id: str,
    outputs: tuple[str, ...],
    predictions: list[Any],
    probabilities: list[list[float]] | None,
) -> dict[str, Any]:
    tensors = []
    for name in outputs:
        if name == "predict":
            tensors.append(
                {
                    "name": "predict",
                    "shape": [len(predictions)],
                    "datatype": _datatype_of(predictions),
                    "data": predictions,
                }
            )
        elif probabilities is not None:
            width = len(probabilities[0]) if probabilities else 0
            flat = [value for row in probabilities for value in row]
            tensors.append(
                {"name": "predict_proba", "shape": [len(probabilities), width], "datatype": "FP64", "data": flat}
            )
    return {"model_name": deployment, "model_version": str(version), "id": request_id, "outputs": tensors}


def model_metadata(
    deployment: str, versions: Sequence[int], signature: Signature | None, flavor: str
) -> dict[str, Any]:
    inputs = [] if signature is None else signature.inputs
    outputs = [] if signature is None else signature.outputs
    return {
        "name": deployment,
        "versions": [str(number) for number in versions],
        "platform": f"mlpilot-{flavor}",
        "inputs": [{"name": spec.name, "datatype": _DATATYPES[spec.type], "shape": [-1]} for spec in inputs],
        "outputs": [{"name": spec.name, "datatype": _DATATYPES[spec.type], "shape": [-1]} for spec in outputs],
    }


def _tensor(tensor: object, position: int) -> tuple[str, Any, list[int]]:
    if not isinstance(tensor, dict):
        raise InvalidInput(f"input {position} is not an object", hint=_HINT)
    name, shape, data = tensor.get("name"), tensor.get("shape"), tensor.get("data")
    if not isinstance(name, str) or not name:
        raise InvalidInput(f'input {position} has no "name"', hint=_HINT)
    if (
        not isinstance(shape, list)
        or not shape
        or not all(isinstance(size, int) and not isinstance(size, bool) and size >= 0 for size in shape)
    ):
        raise InvalidInput(f'input {name!r} needs a "shape": a list of sizes like [rows]', hint=_HINT)
    if not isinstance(data, list):
        raise InvalidInput(f'input {name!r} needs "data": a list of values', hint=_HINT)
    if shape[0] == 0:
        raise InvalidInput("the request has no rows", hint="Send at least one row to predict.")
    return name, data, shape


def _matrix(name: str, data: list[Any], shape: list[int], signature: Signature | None) -> dict[str, list[Any]]:
    if signature is None:
        raise InvalidInput(
            f"input {name!r} is a matrix, but the model has no signature to name its columns",
            hint="Send one input per column, named after the model's input columns.",
        )
    rows, width = shape
    names = [spec.name for spec in signature.inputs]
    if width != len(names):
        raise InvalidInput(f"input {name!r} has {width} columns; the model takes {len(names)}", hint=_HINT)
    flat = _flatten(data)
    if len(flat) != rows * width:
        raise InvalidInput(f"input {name!r} has {len(flat)} values for shape {shape}")
    return {column: flat[index::width] for index, column in enumerate(names)}


def _flatten(data: list[Any]) -> list[Any]:
    if data and isinstance(data[0], list):
        flat: list[Any] = []
        for row in data:
            if not isinstance(row, list):
                raise InvalidInput("tensor data mixes nested and flat values")
            flat.extend(row)
        return flat
    return data


def _outputs(requested: object) -> tuple[str, ...]:
    if requested is None:
        return ("predict",)
    if not isinstance(requested, list) or not requested:
        raise InvalidInput('"outputs" must be a non-empty list of {"name": ...} objects')
    names = []
    for output in requested:
        name = output.get("name") if isinstance(output, dict) else None
        if name not in OUTPUTS:
            raise InvalidInput(f"unknown output {name!r}; the outputs are {', '.join(OUTPUTS)}")
        names.append(name)
    return tuple(dict.fromkeys(names))


def _datatype_of(values: list[Any]) -> str:
    first = values[0] if values else 0.0
    if isinstance(first, bool):
        return "BOOL"
    if isinstance(first, int):
        return "INT64"
    if isinstance(first, float):
        return "FP64"
    return "BYTES"
