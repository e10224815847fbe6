"""Version numbers in a model family's name stay part of the family key (QA: the key stripped
"-v3-2" as if it were a Mistral-style "-v0.3" release, so an unlisted DeepSeek-V3.2 spelling
such as "deepseek-ai/DeepSeek-V3.2-FP8" resolved to DeepSeek-V3, another architecture without
DeepSeek Sparse Attention, and "DeepSeek-V2.5" to DeepSeek-V3 as well). True release
suffixes (dates, -Instruct, quantization markers, a "vN" after the parameter count) are still
dropped."""

from __future__ import annotations

import pytest

from infercost.catalog import get_model
from infercost.catalog.names import family_key
from infercost.errors import UnknownNameError


@pytest.mark.parametrize(
    ("name", "key"),
    [
        # the family's own version number stays ("." is normalised to "-")
        ("deepseek-ai/DeepSeek-V3.2-FP8", "deepseek-v3-2"),
        ("DeepSeek-V3.2-Exp", "deepseek-v3-2-exp"),
        ("DeepSeek-V3-0324", "deepseek-v3"),
        ("DeepSeek-V2.5-1210", "deepseek-v2-5"),
        ("DeepSeek-Coder-V2-Instruct", "deepseek-coder-v2"),
        ("Qwen/Qwen3.5-35B-A3B-FP8", "qwen3-5-35b-a3b"),
        ("Qwen2.5-7B-Instruct-AWQ", "qwen2-5-7b"),
        ("moonshotai/Kimi-K2.5", "kimi-k2-5"),
        ("MiniMax-M2.7-FP8", "minimax-m2-7"),
        ("zai-org/GLM-5.1-FP8", "glm-5-1"),
        ("Step-3.7-Flash-FP8", "step-3-7-flash"),
        # release suffixes still dropped: dates, tuning, quantization, vN after the size
        ("Qwen3-235B-A22B-Instruct-2507-FP8", "qwen3-235b-a22b"),
        ("deepseek-ai/DeepSeek-R1-0528", "deepseek-r1"),
        ("mistralai/Mistral-7B-Instruct-v0.3", "mistral-7b"),
        ("Mixtral-8x22B-Instruct-v0.1-AWQ", "mixtral-8x22b"),
        # a vN after a quantization marker is that checkpoint's release
        ("nvidia/DeepSeek-R1-0528-FP4-v2", "deepseek-r1"),
        ("meta-llama/Llama-3.1-70B-Instruct", "llama-3-1-70b"),
    ],
)
def test_family_key_keeps_family_versions_and_drops_releases(name: str, key: str) -> None:
    assert family_key(name) == key


@pytest.mark.parametrize(
    ("name", "target"),
    [
        # DeepSeek-V3.2 spellings the catalog does not list: V3.2 (MLA + DSA), not V3
        ("deepseek-ai/DeepSeek-V3.2-FP8", "deepseek-ai/DeepSeek-V3.2"),
        ("DeepSeek-V3.2-0915", "deepseek-ai/DeepSeek-V3.2"),
        ("deepseek-v3.2-base", "deepseek-ai/DeepSeek-V3.2"),
        # through the DeepSeek-V3.2-Exp alias row
        ("DeepSeek-V3.2-Exp", "deepseek-ai/DeepSeek-V3.2"),
        ("deepseek-ai/DeepSeek-V3.2-Exp-FP8", "deepseek-ai/DeepSeek-V3.2"),
        # V3 releases stay V3
        ("deepseek-ai/DeepSeek-V3-0324", "deepseek-ai/DeepSeek-V3"),
        ("DeepSeek-V3-Base", "deepseek-ai/DeepSeek-V3"),
        ("deepseek-v3-fp8", "deepseek-ai/DeepSeek-V3"),
        # V3.1 through the deepseek-ai/DeepSeek-V3.1 alias (V3's shapes, fp8), not through the
        # longer nvidia/DeepSeek-V3.1-NVFP4 entry whose weights and KV cache are 4/8-bit
        ("DeepSeek-V3.1-Base", "deepseek-ai/DeepSeek-V3"),
        ("deepseek-ai/DeepSeek-V3.1-FP8", "deepseek-ai/DeepSeek-V3"),
        ("DeepSeek-V3.1-NVFP4", "nvidia/DeepSeek-V3.1-NVFP4"),
        ("deepseek-ai/DeepSeek-R1-0528", "deepseek-ai/DeepSeek-R1"),
        ("nvidia/DeepSeek-R1-0528-FP4-v2", "deepseek-ai/DeepSeek-R1"),
        # dotted versions of the 2026 families each keep their own entry
        ("Qwen3.5-27B-FP8", "Qwen/Qwen3.5-27B"),
        ("Qwen/Qwen3.5-397B-A17B-FP8", "Qwen/Qwen3.5-397B-A17B"),
        ("Qwen2.5-72B-Instruct-AWQ", "Qwen/Qwen2.5-72B"),
        ("Kimi-K2.5", "moonshotai/Kimi-K2.5"),
        ("MiniMax-M2.7-FP8", "MiniMaxAI/MiniMax-M2.7"),
        ("minimax-m2.5", "MiniMaxAI/MiniMax-M2.5"),
        ("MiniMaxAI/MiniMax-M2.1-FP8", "MiniMaxAI/MiniMax-M2"),  # alias row: M2's shapes
        ("GLM-5.1-FP8", "zai-org/GLM-5.1-FP8"),
        ("glm-5.2", "zai-org/GLM-5.2"),
        ("GLM-5", "zai-org/GLM-5"),
        ("Step-3.7-Flash", "stepfun-ai/Step-3.7-Flash"),
        ("mixtral-8x7b-instruct-v0.1", "mistralai/Mixtral-8x7B-Instruct-v0.1"),
        ("Qwen3-30B-A3B-Instruct-2507", "Qwen/Qwen3-30B-A3B"),
    ],
)
def test_spellings_resolve_to_their_own_version(name: str, target: str) -> None:
    assert get_model(name).id == target


@pytest.mark.parametrize(
    ("name", "suggested"),
    [
        # versions the catalog does not hold are unknown, never a neighbour version: V4
        # (compressed sparse attention, refused by the config reader too) and V2 had both
        # resolved to DeepSeek-V3
        ("deepseek-ai/DeepSeek-V4", "deepseek-ai/DeepSeek-V3"),
        ("DeepSeek-V2-Chat", None),
        ("DeepSeek-V2.5", None),
        ("deepseek-ai/DeepSeek-V2", "deepseek-ai/DeepSeek-V3"),
        ("DeepSeek-Coder-V2-Instruct", None),
        ("zai-org/GLM-5.3", "zai-org/GLM-5"),
        ("glm-4.6", "zai-org/GLM-4.7"),
        ("MiniMaxAI/MiniMax-M2.6", "MiniMaxAI/MiniMax-M2"),
        ("Step-3.5-Flash", "stepfun-ai/Step-3.7-Flash"),
        ("mistralai/Mistral-7B-Instruct-v0.2", None),
    ],
)
def test_unheld_versions_are_unknown_with_suggestions(name: str, suggested: str | None) -> None:
    with pytest.raises(UnknownNameError) as info:
        get_model(name)
    message = str(info.value)
    assert f"Unknown model {name!r}" in message and "Did you mean" in message
    if suggested is not None:
        assert suggested in info.value.candidates


@pytest.mark.parametrize(
    ("name", "first"),
    [
        # the entries that extend the spelling word by word come first: "qwen3-vl" shares two
        # leading words with each Qwen3-VL id and one with Qwen3-32B (QA: it suggested five
        # Qwen3 text models and no Qwen3-VL)
        ("qwen3-vl", "Qwen/Qwen3-VL-235B-A22B-Instruct"),
        ("Qwen3.5", "Qwen/Qwen3.5-27B"),  # qwen3-5-...: two words, Qwen3-32B one
        ("Kimi-K2.7", "nvidia/Kimi-K2.7-Code-NVFP4"),  # kimi-k2-7-code-nvfp4: three words
        ("step-3.7", "stepfun-ai/Step-3.7-Flash"),
        # DeepSeek-V2.5 is unknown; the DeepSeek ids (one shared word) before Qwen2.5's
        ("DeepSeek-V2.5", "deepseek-ai/DeepSeek-V3.2"),
        ("DeepSeek-V3.2-Speciale", "deepseek-ai/DeepSeek-V3.2"),  # three words
    ],
)
def test_suggestions_put_the_named_family_first(name: str, first: str) -> None:
    with pytest.raises(UnknownNameError) as info:
        get_model(name)
    assert info.value.candidates[0] == first


def test_a_qwen3_vl_size_the_catalog_lacks_suggests_qwen3_vl_sizes() -> None:
    # "Qwen3-VL-7B" (no such size): every suggestion shares "qwen3-vl", none is the 1.7B
    # text model that shares only the digits "7b"
    with pytest.raises(UnknownNameError) as info:
        get_model("Qwen3-VL-7B")
    assert all(c.startswith("Qwen/Qwen3-VL-") for c in info.value.candidates)
