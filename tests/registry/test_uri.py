"""Model URIs."""

from __future__ import annotations

import pytest

from mlpilot.errors import InvalidInput
from mlpilot.registry import ModelRef, RunModelRef, parse_model_uri


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("models:/churn/3", ModelRef("churn", version=3)),
        ("models:/churn@production", ModelRef("churn", alias="production")),
        ("models:/churn/latest", ModelRef("churn")),
        ("models:/churn/LATEST", ModelRef("churn")),
        ("models:/my model.v2/12", ModelRef("my model.v2", version=12)),
        ("runs:/abc123/model", RunModelRef("abc123", "model")),
        ("runs:/abc123/models/clf/", RunModelRef("abc123", "models/clf")),
    ],
)
def test_parse(uri: str, expected: object) -> None:
    assert parse_model_uri(uri) == expected


@pytest.mark.parametrize(
    "uri",
    [
        "churn/3",
        "models:/churn",
        "models:/churn/0",
        "models:/churn/three",
        "models:/churn@",
        "models:/churn@latest",
        "models:/churn@9lives",
        "models:/@prod",
        "runs:/abc123",
        "runs:/",
        "s3://bucket/model",
    ],
)
def test_bad_uris_are_invalid_input(uri: str) -> None:
    with pytest.raises(InvalidInput, match=r"URI|alias"):
        parse_model_uri(uri)
