"""Name resolution: documented spellings resolve; unknown names suggest candidates."""

from __future__ import annotations

import pytest

from infercost.catalog import get_accelerator, get_engine, get_model, get_quant_format
from infercost.errors import UnknownNameError


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("H100", "h100-sxm"),
        ("h100-sxm", "h100-sxm"),
        ("H100-SXM-80GB", "h100-sxm"),
        ("H200-SXM-141GB", "h200-sxm"),
        ("MI300X-192GB", "mi300x"),
        ("GH200-480GB", "gh200-96gb"),
        ("A100-SXM4-80GB", "a100-80gb-sxm"),
        ("RTX-4090-24GB", "rtx-4090"),
        ("NVIDIA H100 SXM", "h100-sxm"),
        # the words of the catalog name in another order, as TensorRT-LLM's performance
        # overview spells it; "6000" is the model number, not a memory size
        ("RTX 6000 Pro Blackwell Server Edition", "rtx-pro-6000-bse"),
        ("NVIDIA RTX 6000 PRO Blackwell", "rtx-pro-6000-bse"),
        ("GB200-192GB", "gb200"),
    ],
)
def test_gpu_spellings(spelling: str, expected: str) -> None:
    assert get_accelerator(spelling).id == expected


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("meta-llama/Llama-3.1-70B-Instruct", "meta-llama/Llama-3.1-70B-Instruct"),
        ("llama-3.1-70b", "meta-llama/Llama-3.1-70B"),
        ("Llama-3.1-70B-Instruct", "meta-llama/Llama-3.1-70B-Instruct"),
        ("meta-llama/Meta-Llama-3-70B-Instruct", "meta-llama/Llama-3.1-70B"),
        ("codellama/CodeLlama-7b-hf", "meta-llama/Llama-2-7b-hf"),
        ("Llama-2-70b-chat-hf", "meta-llama/Llama-2-70b-hf"),
        ("mixtral-8x22b", "mistralai/Mixtral-8x22B-v0.1"),
        ("deepseek-r1", "deepseek-ai/DeepSeek-R1"),
        ("Qwen3-30B-A3B", "Qwen/Qwen3-30B-A3B"),
    ],
)
def test_model_spellings(spelling: str, expected: str) -> None:
    assert get_model(spelling).id == expected


def test_unknown_gpu_lists_candidates() -> None:
    with pytest.raises(UnknownNameError) as info:
        get_accelerator("H1000")
    assert "h100" in " ".join(info.value.candidates)
    assert "Did you mean" in str(info.value)


def test_unknown_model_lists_candidates() -> None:
    with pytest.raises(UnknownNameError) as info:
        get_model("llama-3.1-80b")
    assert any("Llama-3.1" in c for c in info.value.candidates)


def test_dtype_and_engine_spellings() -> None:
    assert get_quant_format("awq").id == "int4"
    assert get_quant_format("NVFP4").id == "nvfp4"
    assert get_engine("TensorRT-LLM").id == "trtllm"
    with pytest.raises(UnknownNameError):
        get_quant_format("fp7")


def test_words_in_another_order_must_all_belong_to_one_gpu() -> None:
    # "RTX 6000 Ada" (an Ada workstation card the catalog does not hold) shares "rtx" and
    # "6000" with the RTX PRO 6000 but not "ada": unknown, not silently the Blackwell part
    with pytest.raises(UnknownNameError):
        get_accelerator("RTX 6000 Ada")


def test_suggestions_that_share_the_model_number_come_first() -> None:
    # "H200 NVL" is one character from h100-nvl, but names an H200: h200-sxm first
    with pytest.raises(UnknownNameError) as err:
        get_accelerator("H200 NVL")
    assert err.value.candidates[0] == "h200-sxm"
    assert "h100-nvl" in err.value.candidates


def test_a_family_name_with_several_catalog_variants_says_which_it_was_read_as() -> None:
    from infercost.catalog import gpu_variant_note

    # "A100" alone: the catalog holds four A100 parts (40/80 GB x SXM/PCIe); read as the
    # 80 GB SXM, and the note names the other three
    note = gpu_variant_note("A100", get_accelerator("A100"))
    assert note is not None and "read as a100-80gb-sxm" in note
    for other in ("a100-40gb-sxm", "a100-40gb-pcie", "a100-80gb-pcie"):
        assert other in note
    # a spelling with a form factor or memory size chose; a family of one part needs no note
    assert gpu_variant_note("H100 SXM", get_accelerator("H100 SXM")) is None
    assert gpu_variant_note("A100-80GB", get_accelerator("A100-80GB")) is None
    assert gpu_variant_note("B200", get_accelerator("B200")) is None
