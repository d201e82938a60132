"""An OpenAPI document per deployment, generated from its model's signature, so the docs page
shows the real input fields (names, types, which may be null, known category levels)."""

from __future__ import annotations

from typing import Any

from mlpilot.models.signature import ColumnSpec, Signature

__all__ = ["deployment_openapi"]

_ERROR = {"$ref": "#/components/schemas/Error"}


def deployment_openapi(name: str, model: str, version: int, signature: Signature | None, base: str) -> dict[str, Any]:
    """``base`` is where the deployment's routes start (``/v1/deployments/NAME``)."""
    row = _row_schema(signature)
    errors = {
        str(status): {"description": text, "content": {"application/json": {"schema": _ERROR}}}
        for status, text in (
            (400, "Malformed JSON, an unknown body format or an empty batch"),
            (401, "No valid API key"),
            (403, "The key lacks the scope"),
            (404, "No such deployment"),
            (413, "Too many rows or too large a body"),
            (422, "The rows do not match the model signature (`details` lists every problem)"),
            (429, "The key's rate limit"),
            (500, "The model failed on an input it accepted"),
            (503, "The model is not loaded yet"),
        )
    }
    predict_body = {
        "oneOf": [
            _object(
                {"instances": {"type": "array", "items": row, "minItems": 1}, "probabilities": {"type": "boolean"}}
            ),
            _object(
                {
                    "dataframe_records": {"type": "array", "items": row, "minItems": 1},
                    "probabilities": {"type": "boolean"},
                }
            ),
            _object(
                {
                    "dataframe_split": _object(
                        {
                            "columns": {"type": "array", "items": {"type": "string"}},
                            "data": {"type": "array", "items": {"type": "array"}},
                        }
                    ),
                    "probabilities": {"type": "boolean"},
                }
            ),
        ]
    }
    example = {"instances": [_example_row(signature)]}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{name}: predictions from {model}",
            "version": str(version),
            "description": f"Deployment `{name}` serving model `{model}` (version {version} when this was generated).",
        },
        "components": {
            "securitySchemes": {"ApiKey": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Row": row, "Error": _error_schema()},
        },
        "security": [{"ApiKey": []}],
        "paths": {
            f"{base}/predict": {
                "post": {
                    "summary": "Predict (needs the `predict` scope)",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": predict_body, "example": example},
                            "text/csv": {"schema": {"type": "string"}},
                        },
                    },
                    "parameters": [
                        {
                            "name": "X-Routing-Key",
                            "in": "header",
                            "required": False,
                            "schema": {"type": "string"},
                            "description": "Keeps a caller on the same side of a canary split.",
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "One prediction per row",
                            "content": {"application/json": {"schema": _prediction_schema()}},
                        },
                        **errors,
                    },
                }
            },
            f"{base}/feedback": {
                "post": {
                    "summary": "Ground-truth labels for earlier predictions (needs the `write` scope)",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": _object(
                                    {
                                        "labels": {
                                            "type": "array",
                                            "items": _object(
                                                {"prediction_id": {"type": "string"}, "label": {}},
                                            ),
                                        }
                                    }
                                )
                            }
                        },
                    },
                    "responses": {"200": {"description": "Accepted, updated and unknown prediction ids"}, **errors},
                }
            },
        },
    }


def _row_schema(signature: Signature | None) -> dict[str, Any]:
    if signature is None:
        return {"type": "object", "description": "The model has no signature: any columns are passed on."}
    return {
        "type": "object",
        "properties": {spec.name: _column_schema(spec) for spec in signature.inputs},
        "required": [spec.name for spec in signature.inputs],
    }


def _column_schema(spec: ColumnSpec) -> dict[str, Any]:
    base: dict[str, Any] = {
        "integer": {"type": "integer"},
        "float": {"type": "number"},
        "boolean": {"type": "boolean"},
        "string": {"type": "string"},
        "category": {"type": "string"},
        "datetime": {"type": "string", "format": "date-time"},
    }[spec.type]
    if spec.categories:
        shown = ", ".join(spec.categories[:20]) + (" …" if len(spec.categories) > 20 else "")
        base["description"] = f"Known levels: {shown}."
    return {"anyOf": [base, {"type": "null"}]} if spec.nullable else base


def _example_row(signature: Signature | None) -> dict[str, Any]:
    if signature is None:
        return {}
    samples = {"integer": 1, "float": 0.5, "boolean": True, "string": "text", "datetime": "2026-01-01T00:00:00Z"}
    return {
        spec.name: (spec.categories[0] if spec.categories else "level")
        if spec.type == "category"
        else samples[spec.type]
        for spec in signature.inputs
    }


def _prediction_schema() -> dict[str, Any]:
    return _object(
        {
            "deployment": {"type": "string"},
            "model": {"type": "string"},
            "version": {"type": "integer"},
            "request_id": {"type": "string"},
            "predictions": {"type": "array"},
            "probabilities": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
            "classes": {"type": "array"},
            "prediction_ids": {"type": "array", "items": {"type": "string"}},
            "ignored_columns": {"type": "array", "items": {"type": "string"}},
        }
    )


def _error_schema() -> dict[str, Any]:
    return _object(
        {
            "error": _object(
                {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "hint": {"type": "string"},
                    "request_id": {"type": "string"},
                    "details": {"type": "array"},
                }
            )
        }
    )


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties}
