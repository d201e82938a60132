"""Dataset references as users type them: ``churn``, ``churn:3``, ``churn:latest``, ``churn@latest``."""

from __future__ import annotations

from mlpilot.errors import InvalidInput

__all__ = ["parse_ref"]


def parse_ref(ref: str) -> tuple[str, int | None]:
    """Split ``"churn"``, ``"churn:3"``, ``"churn:latest"`` or ``"churn@latest"`` into (name, version);
    a version of None means the latest."""
    if not isinstance(ref, str) or not ref.strip():
        raise InvalidInput("dataset reference must be a non-empty string", hint="Use NAME or NAME:VERSION.")
    text = ref.strip()
    if "@" in text:
        name, _, alias = text.partition("@")
        if alias != "latest":
            raise InvalidInput(
                f"unknown dataset alias {alias!r} in {ref!r}",
                hint="Datasets support only @latest; or use NAME:VERSION.",
            )
        return _ref_name(name, ref), None
    name, colon, tag = text.partition(":")
    if not colon or tag == "latest":
        return _ref_name(name, ref), None
    if not tag.isdecimal() or int(tag) < 1:
        raise InvalidInput(
            f"invalid dataset version {tag!r} in {ref!r}",
            hint="Use NAME:VERSION with a version from 1 up, e.g. churn:3.",
        )
    return _ref_name(name, ref), int(tag)


def _ref_name(name: str, ref: str) -> str:
    if not name:
        raise InvalidInput(f"dataset reference {ref!r} has no name", hint="Use NAME or NAME:VERSION, e.g. churn:3.")
    return name
