"""The run filter language, parsed into SQL so the database does the searching.

    filter      := or_expr
    or_expr     := and_expr ("or" and_expr)*
    and_expr    := term ("and" term)*
    term        := "(" or_expr ")" | "not" term | comparison
    comparison  := field op value | field ["not"] "in" "(" value ("," value)* ")"
                 | field "is" ["not"] "null"
    field       := [metrics|params|tags|attributes|datasets "."] key     (key may be "quoted" or `quoted`)
    op          := "=" | "!=" | "<>" | "<" | "<=" | ">" | ">=" | ["not"] "like" | ["not"] "ilike"

Examples: ``metrics.acc > 0.9 and params.model = 'rf'``, ``tags.team in ('a', 'b')``,
``status = 'FINISHED' or (metrics."val loss" < 0.2 and not params.C = '1')``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from mlpilot.errors import InvalidInput
from mlpilot.store.schema import dataset_versions, datasets, latest_metrics, params, run_inputs, run_tags, runs

__all__ = [
    "ATTRIBUTES",
    "KEYED_TABLES",
    "Condition",
    "Field",
    "KeyedComparison",
    "filter_condition",
    "parse_field",
    "parse_filter",
]

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|inf|nan)(?![\w.]))
    | (?P<string>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.)*")
    | (?P<backtick>`[^`]*`)
    | (?P<op><=|>=|!=|<>|=|<|>)
    | (?P<punct>[(),.])
    | (?P<word>[A-Za-z_][\w\-/:]*)
    )""",
    re.VERBOSE | re.IGNORECASE,
)

_PREFIXES = {
    "metric": "metrics",
    "metrics": "metrics",
    "param": "params",
    "params": "params",
    "parameter": "params",
    "parameters": "params",
    "tag": "tags",
    "tags": "tags",
    "attribute": "attributes",
    "attributes": "attributes",
    "attr": "attributes",
    "run": "attributes",
    "dataset": "datasets",
    "datasets": "datasets",
}

# Attribute name -> (column, kind) where kind is "number" or "string".
ATTRIBUTES: dict[str, tuple[sa.ColumnElement[Any], str]] = {
    "id": (runs.c.id, "string"),
    "run_id": (runs.c.id, "string"),
    "name": (runs.c.name, "string"),
    "run_name": (runs.c.name, "string"),
    "status": (runs.c.status, "string"),
    "user": (runs.c.user, "string"),
    "start_time": (runs.c.start_time, "number"),
    "end_time": (runs.c.end_time, "number"),
    "experiment_id": (runs.c.experiment_id, "number"),
    "parent_run_id": (runs.c.parent_run_id, "string"),
    "entry_point": (runs.c.entry_point, "string"),
    "git_commit": (runs.c.git_commit, "string"),
}
KEYED_TABLES: dict[str, sa.Table] = {"metrics": latest_metrics, "params": params, "tags": run_tags}
_DATASET_FIELDS = {"name": datasets.c.name, "role": run_inputs.c.role, "digest": dataset_versions.c.content_hash}

_HINT = (
    "Write comparisons like metrics.acc > 0.9, params.model = 'rf', tags.team = 'x' or status = 'FINISHED', "
    "joined with and / or."
)


class _Number(float):
    """A numeric literal that remembers how it was written, for comparing with text fields."""

    text: str

    def __new__(cls, text: str) -> _Number:
        number = super().__new__(cls, text)
        number.text = text
        return number


@dataclass(frozen=True, slots=True)
class Field:
    kind: str  # metrics | params | tags | attributes | datasets
    key: str


@dataclass(frozen=True, slots=True)
class KeyedComparison:
    """``metrics|params|tags.KEY op value``: true for runs that have KEY with a matching value."""

    field: Field
    op: str
    value: object

    def on(self, column: sa.ColumnElement[Any]) -> ColumnElement[bool]:
        """The comparison applied to a value column of this field's table (for a join)."""
        if self.field.kind == "metrics":
            return _SQL_OPS[self.op](column, _as_numbers(self.field, self.op, self.value))
        return _SQL_OPS[self.op](column, _as_strings(self.field, self.op, self.value))

    def exists(self) -> ColumnElement[bool]:
        table = KEYED_TABLES[self.field.kind]
        return sa.exists().where(table.c.run_id == runs.c.id, table.c.key == self.field.key, self.on(table.c.value))


Condition = ColumnElement[bool] | KeyedComparison


def _sql(condition: Condition) -> ColumnElement[bool]:
    return condition.exists() if isinstance(condition, KeyedComparison) else condition


def _all(conditions: list[Condition]) -> ColumnElement[bool]:
    return _sql(conditions[0]) if len(conditions) == 1 else sa.and_(*(_sql(c) for c in conditions))


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str
    position: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise InvalidInput(
                f"cannot read the filter at position {position}: {text[position : position + 20]!r}", hint=_HINT
            )
        kind = match.lastgroup or ""
        tokens.append(_Token(kind, match.group(kind), match.start(kind)))
        position = match.end()
    return tokens


def _unquote(token: _Token) -> str:
    body = token.text[1:-1]
    if token.text[0] == "'":
        body = body.replace("''", "'")
    return re.sub(r"\\(.)", r"\1", body)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0

    def peek(self, offset: int = 0) -> _Token | None:
        at = self.index + offset
        return self.tokens[at] if at < len(self.tokens) else None

    def word(self, offset: int = 0) -> str:
        token = self.peek(offset)
        return token.text.lower() if token is not None and token.kind == "word" else ""

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise InvalidInput(f"the filter {self.text!r} ends too early", hint=_HINT)
        self.index += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text.lower() != text:
            raise InvalidInput(f"expected {text!r} at position {token.position}, found {token.text!r}", hint=_HINT)

    def conjuncts(self) -> list[Condition]:
        """The top-level ``and`` terms, so search can turn keyed comparisons into index joins."""
        terms = self.and_terms()
        if self.word() == "or":
            parts = [_all(terms)]
            while self.word() == "or":
                self.take()
                parts.append(_all(self.and_terms()))
            terms = [sa.or_(*parts)]
        leftover = self.peek()
        if leftover is not None:
            raise InvalidInput(
                f"unexpected {leftover.text!r} at position {leftover.position} in the filter", hint=_HINT
            )
        return terms

    def or_expr(self) -> ColumnElement[bool]:
        parts = [_all(self.and_terms())]
        while self.word() == "or":
            self.take()
            parts.append(_all(self.and_terms()))
        return parts[0] if len(parts) == 1 else sa.or_(*parts)

    def and_terms(self) -> list[Condition]:
        parts = [self.term()]
        while self.word() == "and":
            self.take()
            parts.append(self.term())
        return parts

    def term(self) -> Condition:
        token = self.peek()
        if token is not None and token.text == "(":
            self.take()
            inner = self.or_expr()
            self.expect(")")
            return inner
        if self.word() == "not" and self.word(1) not in ("in", "like", "ilike"):
            self.take()
            return sa.not_(_sql(self.term()))
        return self.comparison()

    def field(self) -> Field:
        first = self.take()
        if first.kind not in ("word", "string", "backtick"):
            raise InvalidInput(f"expected a field name at position {first.position}, found {first.text!r}", hint=_HINT)
        name = first.text if first.kind == "word" else _unquote(first)
        after = self.peek()
        if first.kind == "word" and after is not None and after.text == "." and name.lower() in _PREFIXES:
            self.take()
            key_token = self.take()
            if key_token.kind not in ("word", "string", "backtick", "number"):
                raise InvalidInput(f"expected a key after {name}. at position {key_token.position}", hint=_HINT)
            key = key_token.text if key_token.kind in ("word", "number") else _unquote(key_token)
            # Unquoted keys may contain dots (metrics.val.acc); join the pieces back.
            while key_token.kind == "word" and (dot := self.peek()) is not None and dot.text == ".":
                self.take()
                key_token = self.take()
                key += "." + (key_token.text if key_token.kind in ("word", "number") else _unquote(key_token))
            return Field(_PREFIXES[name.lower()], key)
        return Field("attributes", name)

    def value(self) -> str | float:
        token = self.take()
        if token.kind == "number":
            return _Number(token.text)
        if token.kind == "string":
            return _unquote(token)
        raise InvalidInput(
            f"expected a number or a quoted string at position {token.position}, found {token.text!r}",
            hint="Quote text values: params.model = 'rf'.",
        )

    def comparison(self) -> Condition:
        field = self.field()
        word = self.word()
        if word == "is":
            self.take()
            negate = self.word() == "not"
            if negate:
                self.take()
            self.expect("null")
            return _null_check(field, negate)
        negate = False
        if word == "not":
            self.take()
            negate = True
            word = self.word()
        if word in ("in", "like", "ilike"):
            self.take()
            if word == "in":
                self.expect("(")
                values = [self.value()]
                while (token := self.peek()) is not None and token.text == ",":
                    self.take()
                    values.append(self.value())
                self.expect(")")
                return _compare(field, "not in" if negate else "in", values)
            return _compare(field, f"not {word}" if negate else word, self.value())
        if negate:
            raise InvalidInput("'not' must be followed by in, like or ilike here", hint=_HINT)
        token = self.take()
        if token.kind != "op":
            raise InvalidInput(
                f"expected a comparison after {field.kind}.{field.key}, found {token.text!r}", hint=_HINT
            )
        op = "!=" if token.text == "<>" else token.text
        return _compare(field, op, self.value())


_SQL_OPS: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    "=": lambda c, v: c == v,
    "!=": lambda c, v: c != v,
    "<": lambda c, v: c < v,
    "<=": lambda c, v: c <= v,
    ">": lambda c, v: c > v,
    ">=": lambda c, v: c >= v,
    "like": lambda c, v: c.like(v),
    "not like": lambda c, v: c.not_like(v),
    "ilike": lambda c, v: c.ilike(v),
    "not ilike": lambda c, v: c.not_ilike(v),
    "in": lambda c, v: c.in_(v),
    "not in": lambda c, v: c.not_in(v),
}
_NUMERIC_OPS = {"=", "!=", "<", "<=", ">", ">=", "in", "not in"}
_STRING_OPS = {"=", "!=", "like", "not like", "ilike", "not ilike", "in", "not in"}


def _as_numbers(field: Field, op: str, value: object) -> object:
    if op not in _NUMERIC_OPS:
        raise InvalidInput(f"{field.kind}.{field.key} is a number; {op!r} does not apply", hint=_HINT)
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(item, float) for item in values):
        raise InvalidInput(f"compare {field.kind}.{field.key} with a number, not a string", hint=_HINT)
    return value


def _as_strings(field: Field, op: str, value: object) -> object:
    if op not in _STRING_OPS:
        raise InvalidInput(
            f"{field.kind}.{field.key} holds text; compare it with =, !=, like, ilike or in, not {op!r}",
            hint="Params and tags are strings: params.C = '0.5'.",
        )

    def text(item: object) -> str:
        return item.text if isinstance(item, _Number) else str(item)

    return [text(item) for item in value] if isinstance(value, list) else text(value)


def _compare(field: Field, op: str, value: object) -> Condition:
    if field.kind in KEYED_TABLES:
        comparison = KeyedComparison(field, op, value)
        comparison.on(KEYED_TABLES[field.kind].c.value)  # type-check the value now, not at search time
        return comparison
    apply = _SQL_OPS[op]
    if field.kind == "datasets":
        dataset_column = _DATASET_FIELDS.get(field.key.lower())
        if dataset_column is None:
            raise InvalidInput(
                f"unknown dataset field {field.key!r}", hint="Use datasets.name, datasets.role or datasets.digest."
            )
        return sa.exists().where(
            run_inputs.c.run_id == runs.c.id,
            dataset_versions.c.id == run_inputs.c.dataset_version_id,
            datasets.c.id == dataset_versions.c.dataset_id,
            apply(dataset_column, _as_strings(field, op, value)),
        )
    column, kind = _attribute(field)
    converted = _as_numbers(field, op, value) if kind == "number" else _as_strings(field, op, value)
    if field.key.lower() == "status":
        converted = [item.upper() for item in converted] if isinstance(converted, list) else str(converted).upper()
    return apply(column, converted)


def _attribute(field: Field) -> tuple[sa.ColumnElement[Any], str]:
    found = ATTRIBUTES.get(field.key.lower())
    if found is None:
        raise InvalidInput(
            f"unknown field {field.key!r}",
            hint="Prefix with metrics., params. or tags., or use one of: " + ", ".join(sorted(ATTRIBUTES)) + ".",
        )
    return found


def _null_check(field: Field, negate: bool) -> ColumnElement[bool]:
    if field.kind == "attributes":
        column, _kind = _attribute(field)
        return column.is_not(None) if negate else column.is_(None)
    table = KEYED_TABLES.get(field.kind)
    if table is None:
        raise InvalidInput("'is null' applies to metrics, params, tags and attributes", hint=_HINT)
    present = sa.exists().where(table.c.run_id == runs.c.id, table.c.key == field.key)
    return present if negate else sa.not_(present)


def parse_filter(text: str | None) -> list[Condition]:
    """The filter's top-level ``and`` terms (empty for no filter). Each is a SQL condition on
    ``runs`` or a KeyedComparison the caller may join on instead of testing with EXISTS."""
    if text is None or not text.strip():
        return []
    return _Parser(text).conjuncts()


def filter_condition(text: str | None) -> ColumnElement[bool] | None:
    """The whole filter as one SQL condition on ``runs``; None for no filter."""
    parts = parse_filter(text)
    return _all(parts) if parts else None


def parse_field(text: str) -> Field:
    """Parse one field reference such as ``metrics.acc`` (used by order_by)."""
    parser = _Parser(text)
    field = parser.field()
    if parser.peek() is not None:
        raise InvalidInput(f"cannot read {text!r} as a field", hint="Write e.g. metrics.acc or start_time.")
    if field.kind == "attributes":
        _attribute(field)
    return field
