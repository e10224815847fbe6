"""A Mistral-style release suffix names one checkpoint (QA: mistral-7b-v0.1 resolved silently
to Mistral-7B-Instruct-v0.3, whose vocabulary (32,768 vs 32,000) and attention (v0.1: a 4,096-
token sliding window, mistralai/Mistral-7B-v0.1 config.json) differ)."""

from __future__ import annotations

import pytest

from infercost.catalog import get_model
from infercost.errors import UnknownNameError


@pytest.mark.parametrize("name", ["mistral-7b-v0.1", "mistralai/Mistral-7B-Instruct-v0.2"])
def test_a_release_the_catalog_does_not_hold_is_unknown(name: str) -> None:
    with pytest.raises(UnknownNameError):
        get_model(name)


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("mistral-7b-instruct-v0.3", "mistralai/Mistral-7B-Instruct-v0.3"),
        ("mistral-7b", "mistralai/Mistral-7B-Instruct-v0.3"),
        ("mixtral-8x7b-v0.1", "mistralai/Mixtral-8x7B-v0.1"),
        ("deepseek-v3.1", "deepseek-ai/DeepSeek-V3"),  # not a v0.x release suffix
    ],
)
def test_other_spellings_still_resolve(name: str, target: str) -> None:
    assert get_model(name).id == target
