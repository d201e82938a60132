"""Command templates: ``python train.py --C {C}``, rendered with shell-quoted values.

We parse the template ourselves (with ``string.Formatter().parse``) instead of calling
``str.format`` so that every placeholder is checked when the project file is loaded, and so that
a value can never be interpreted by the shell: each is quoted with ``shlex.quote``.
"""

from __future__ import annotations

import shlex
import string
from collections.abc import Mapping

__all__ = ["escape", "placeholders", "render"]

_formatter = string.Formatter()


def placeholders(template: str) -> list[str]:
    """The parameter names a template uses, in order; ValueError says what is wrong with it."""
    try:
        parsed = list(_formatter.parse(template))
    except ValueError as exc:
        raise ValueError(f"{exc}; write a literal brace as '{{{{' or '}}}}'") from None
    names: list[str] = []
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if not field:
            raise ValueError("an empty placeholder '{}' names no parameter")
        if spec or conversion:
            # Also catches shell syntax such as ${X:-default}, which needs doubled braces here.
            raise ValueError(
                f"placeholder {{{field}...}} has a format spec or conversion; use plain {{{field}}} "
                "(and write a literal brace as '{{' or '}}')"
            )
        names.append(field)
    return names


def render(template: str, texts: Mapping[str, str]) -> str:
    """Fill each ``{name}`` with the shell-quoted ``texts[name]``; literal ``{{``/``}}`` become braces."""
    parts: list[str] = []
    for literal, field, _spec, _conversion in _formatter.parse(template):
        parts.append(literal)
        if field is not None:
            parts.append(shlex.quote(texts[field]))
    return "".join(parts)


def escape(text: str) -> str:
    """``text`` as a template that renders to itself (for commands built from file names)."""
    return text.replace("{", "{{").replace("}", "}}")
