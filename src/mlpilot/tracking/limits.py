"""Size limits on keys and values, the same as MLflow's so its clients behave alike."""

from __future__ import annotations

from mlpilot.errors import InvalidInput, LimitExceeded

__all__ = [
    "MAX_KEY_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_PARAM_LENGTH",
    "MAX_TAG_LENGTH",
    "check_key",
    "check_name",
    "check_value",
]

MAX_KEY_LENGTH = 250
MAX_PARAM_LENGTH = 6000
MAX_TAG_LENGTH = 8000
MAX_NAME_LENGTH = 250


def check_key(key: object, what: str) -> str:
    if not isinstance(key, str) or not key.strip():
        raise InvalidInput(f"{what} key must be a non-empty string, got {type(key).__name__}")
    if len(key) > MAX_KEY_LENGTH:
        raise LimitExceeded(f"{what} key {key[:40]!r}… is {len(key)} characters; the limit is {MAX_KEY_LENGTH}")
    return key


def check_value(key: str, value: object, what: str, limit: int) -> str:
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        raise LimitExceeded(f"{what} {key!r} has a value of {len(text)} characters; the limit is {limit}")
    return text


def check_name(name: str, what: str, limit: int = MAX_NAME_LENGTH) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(f"{what} name must be a non-empty string")
    if len(name) > limit:
        raise LimitExceeded(f"{what} name is {len(name)} characters; the limit is {limit}")
    return name
