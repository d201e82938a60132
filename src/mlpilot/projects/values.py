"""Parameter types and how one value of each type is read and written as text.

The same text form is used three times: in the rendered command, in the logged run param and in
what a script logs if it logs its own parsed arguments. Using Python's own ``str()`` for all of
them keeps the three identical, so a script that logs ``args.C`` never conflicts with the param
``mlpilot run`` logged first (params are write-once).
"""

from __future__ import annotations

import enum

__all__ = ["BOOL_FALSE", "BOOL_TRUE", "ParamType", "ParamValue", "format_value", "parse_text", "parse_type"]

ParamValue = str | int | float | bool

BOOL_TRUE = frozenset({"true", "1", "yes"})
BOOL_FALSE = frozenset({"false", "0", "no"})


class ParamType(enum.StrEnum):
    STR = "str"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    PATH = "path"


# Spellings people reach for from MLflow ("string") or JSON Schema ("integer", "number", "boolean").
_ALIASES = {
    "str": ParamType.STR,
    "string": ParamType.STR,
    "int": ParamType.INT,
    "integer": ParamType.INT,
    "float": ParamType.FLOAT,
    "number": ParamType.FLOAT,
    "bool": ParamType.BOOL,
    "boolean": ParamType.BOOL,
    "path": ParamType.PATH,
}


def parse_type(name: object) -> ParamType | None:
    """The type a spelling names, or None when it names none."""
    if not isinstance(name, str):
        return None
    return _ALIASES.get(name.strip().lower())


def parse_text(kind: ParamType, text: str) -> ParamValue:
    """Convert command-line text to ``kind``; raise ValueError with a short reason when it does not fit.

    Paths come back as given; resolving them needs a base folder, which the caller knows.
    """
    if kind is ParamType.INT:
        try:
            return int(text.strip())
        except ValueError:
            raise ValueError("not an integer") from None
    if kind is ParamType.FLOAT:
        try:
            return float(text.strip())
        except ValueError:
            raise ValueError("not a number") from None
    if kind is ParamType.BOOL:
        lowered = text.strip().lower()
        if lowered in BOOL_TRUE:
            return True
        if lowered in BOOL_FALSE:
            return False
        raise ValueError("use true/false, yes/no or 1/0")
    if kind is ParamType.PATH and not text.strip():
        raise ValueError("a path cannot be empty")
    return text


def format_value(value: ParamValue) -> str:
    """The one text form of a value: on the command line and as the logged param."""
    return str(value)
