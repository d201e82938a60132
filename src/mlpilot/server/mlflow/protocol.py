"""Reading MLflow requests and writing its replies.

MLflow's client sends a JSON body for POST, PATCH and DELETE and the same fields as query
parameters for GET (a repeated key is a list). Unknown fields are ignored, as MLflow does; a field
of the wrong type is ``INVALID_PARAMETER_VALUE``. Replies are JSON objects with snake_case names,
integers as numbers and unset fields left out.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends, Request, Response

from mlpilot.server.mlflow.errors import MlflowError

__all__ = ["Payload", "field_int", "field_list", "field_str", "key_values", "reply", "required_str"]


async def _payload(request: Request) -> dict[str, Any]:
    if request.method == "GET":
        query: dict[str, Any] = {}
        for key, value in request.query_params.multi_items():
            if key in query:
                previous = query[key]
                query[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
            else:
                query[key] = value
        return query
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MlflowError("MALFORMED_REQUEST", f"the request body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise MlflowError("INVALID_PARAMETER_VALUE", "the request body must be a JSON object")
    return data


Payload = Annotated[dict[str, Any], Depends(_payload)]


def _invalid(message: str) -> MlflowError:
    return MlflowError("INVALID_PARAMETER_VALUE", message)


def field_str(payload: dict[str, Any], name: str, default: str | None = None) -> str | None:
    value = payload.get(name, default)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise _invalid(f"Invalid value {value!r} for parameter '{name}' supplied: it must be a string")


def required_str(payload: dict[str, Any], name: str) -> str:
    value = field_str(payload, name)
    if not value:
        raise _invalid(f"Missing value for required parameter '{name}'.")
    return value


def field_int(payload: dict[str, Any], name: str, default: int | None = None) -> int | None:
    value = payload.get(name, default)
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise _invalid(f"Invalid value {value!r} for parameter '{name}' supplied: it must be an integer")


def field_list(payload: dict[str, Any], name: str) -> list[Any]:
    value = payload.get(name)
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, str | dict):
        return [value]
    raise _invalid(f"Invalid value {value!r} for parameter '{name}' supplied: it must be a list")


def key_values(payload: dict[str, Any], name: str) -> dict[str, str]:
    """MLflow's ``[{"key", "value"}]`` lists (tags, params) as a mapping."""
    found: dict[str, str] = {}
    for item in field_list(payload, name):
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise _invalid(f"every entry of '{name}' needs a string 'key'")
        value = item.get("value", "")
        found[item["key"]] = value if isinstance(value, str) else json.dumps(value)
    return found


def reply(body: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    return Response(json.dumps(body or {}), status_code=status_code, media_type="application/json")
