"""YAML as people read it: keys in the order written, shell scripts as literal blocks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

__all__ = ["to_yaml", "to_yaml_documents"]

# PyYAML folds long plain scalars at its width; a PromQL expression split over lines is valid but
# hard to read and to grep, so lines are only ever broken where the text has a newline.
_WIDTH = 1 << 16


class _Dumper(yaml.SafeDumper):
    pass


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # A multi-line script reads (and diffs) far better as a `|` block than as one escaped line.
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def to_yaml(document: Any) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=_WIDTH)


def to_yaml_documents(documents: Iterable[Any]) -> str:
    """A multi-document stream (``---`` between), as ``kubectl apply -f`` takes it."""
    return yaml.dump_all(
        list(documents), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=_WIDTH, explicit_start=True
    )
