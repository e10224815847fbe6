"""Models added to the catalog for late-2026 deployments (configs and aliases with sources in
models.csv / model_aliases.csv): parameter counts against the model cards, names resolve,
and ``infercost predict`` answers for each on H100s.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from infercost.catalog import get_model
from infercost.cli import app
from infercost.perf.params import param_counts

runner = CliRunner()

# (name asked for, catalog entry it resolves to, published total, published active, tolerance)
# Totals are text-decoder counts as infercost counts them (embeddings and LM head included).
CARDS = [
    # GLM-4.5 model card (huggingface.co/zai-org/GLM-4.5): 355B total, 32B active; GLM-4.7 keeps
    # the 92-layer, 160-expert GLM-4.5/4.6 shapes. Active checked below apart (see there).
    ("zai-org/GLM-4.7", "zai-org/GLM-4.7", 355e9, None, 0.02),
    ("zai-org/GLM-4.7-FP8", "zai-org/GLM-4.7", 355e9, None, 0.02),
    # GLM-4.7-Flash model card: "a 30B-A3B MoE model" (active checked apart, see below).
    ("zai-org/GLM-4.7-Flash", "zai-org/GLM-4.7-Flash", 30e9, None, 0.02),
    # Qwen3-VL-235B-A22B-Instruct model card: 235B total, 22B activated (text decoder; the
    # card's figure includes a ~0.4B vision encoder that infercost does not count).
    ("Qwen/Qwen3-VL-235B-A22B-Instruct", "Qwen/Qwen3-VL-235B-A22B-Instruct", 235e9, 22e9, 0.02),
    ("Qwen/Qwen3-VL-235B-A22B-Thinking", "Qwen/Qwen3-VL-235B-A22B-Instruct", 235e9, 22e9, 0.02),
    # Qwen3-14B model card: 14.8B parameters (13.2B non-embedding).
    ("Qwen/Qwen3-14B", "Qwen/Qwen3-14B", 14.8e9, 14.8e9, 0.02),
    # DeepSeek-R1 card: Distill-Qwen-32B is Qwen2.5-32B; Qwen2.5-32B card: 32.5B parameters.
    (
        "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B",
        "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B",
        32.5e9,
        32.5e9,
        0.02,
    ),
    # Mistral AI, "Mistral 7B" announcement and paper (arXiv:2310.06825): 7.3B parameters
    # (v0.3 extends the vocabulary to 32768).
    (
        "mistralai/Mistral-7B-Instruct-v0.3",
        "mistralai/Mistral-7B-Instruct-v0.3",
        7.3e9,
        7.3e9,
        0.02,
    ),
    # Kimi-K2-Thinking model card: 1T total, 32B activated (alias of Kimi-K2.5's text decoder).
    ("moonshotai/Kimi-K2-Thinking", "moonshotai/Kimi-K2.5", 1.04e12, 32e9, 0.03),
    # DeepSeek-R1 card: Distill-Llama-70B is Llama-3.3-70B-Instruct (Meta card: 70B; HF: 70.6B).
    (
        "deepseek-ai/DeepSeek-R1-Distill-Llama-70B",
        "meta-llama/Llama-3.3-70B-Instruct",
        70.6e9,
        70.6e9,
        0.02,
    ),
    # NVIDIA Llama-3.1-Nemotron-70B-Instruct card: Llama-3.1-70B-Instruct customised with RLHF.
    (
        "nvidia/Llama-3.1-Nemotron-70B-Instruct-HF",
        "meta-llama/Llama-3.1-70B-Instruct",
        70.6e9,
        70.6e9,
        0.02,
    ),
    (
        "meta-llama/Llama-3.1-Nemotron-70B-Instruct",
        "meta-llama/Llama-3.1-70B-Instruct",
        70.6e9,
        70.6e9,
        0.02,
    ),
]


@pytest.mark.parametrize(("name", "entry", "total", "active", "tol"), CARDS)
def test_parameters_match_the_model_card(
    name: str, entry: str, total: float, active: float | None, tol: float
) -> None:
    m = get_model(name)
    assert m.id == entry
    c = param_counts(m)
    assert c.total == pytest.approx(total, rel=tol)
    if active is not None:
        assert c.active == pytest.approx(active, rel=tol)


def test_glm_active_parameters_are_the_cards_plus_embeddings() -> None:
    # The cards' active figures (GLM-4.5: 32B; GLM-4.7-Flash: "A3B") leave out the embedding
    # and LM head, which infercost counts as active: GLM-4.7 33.6B = 32.1B + 2 x 151,552 x 5,120;
    # GLM-4.7-Flash 3.9B = 3.3B + 2 x 154,880 x 2,048 ("A3B" is a rounded name, not a count).
    glm = param_counts(get_model("zai-org/GLM-4.7"))
    assert glm.active - 2 * 151_552 * 5_120 == pytest.approx(32e9, rel=0.02)
    flash = param_counts(get_model("zai-org/GLM-4.7-Flash"))
    assert flash.active - 2 * 154_880 * 2_048 == pytest.approx(3.3e9, rel=0.02)


def test_glm_47_fp8_is_costed_at_fp8() -> None:
    r = runner.invoke(
        app,
        [
            "predict",
            "--model",
            "zai-org/GLM-4.7-FP8",
            "--gpu",
            "H100",
            "--num-gpus",
            "8",
            "--tp",
            "8",
            "--isl",
            "1000",
            "--osl",
            "1000",
            "--max-throughput",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "fp8" in json.dumps(json.loads(r.output)).lower()


def test_kimi_k2_thinking_is_costed_at_its_int4_checkpoint() -> None:
    assert get_model("moonshotai/Kimi-K2-Thinking").checkpoint_dtype == "int4-g32"


# (model, GPUs): the fewest H100s each fits with TP at its checkpoint format
PREDICT = [
    ("zai-org/GLM-4.7-FP8", 8),
    ("zai-org/GLM-4.7-Flash", 1),
    ("Qwen/Qwen3-VL-235B-A22B-Instruct", 8),
    ("Qwen/Qwen3-VL-235B-A22B-Thinking", 8),
    ("Qwen/Qwen3-14B", 1),
    ("deepseek-ai/DeepSeek-R1-Distill-Qwen-32B", 1),
    ("mistralai/Mistral-7B-Instruct-v0.3", 1),
    ("moonshotai/Kimi-K2-Thinking", 8),
    ("deepseek-ai/DeepSeek-R1-Distill-Llama-70B", 2),
    ("nvidia/Llama-3.1-Nemotron-70B-Instruct-HF", 2),
]


@pytest.mark.parametrize(("model", "gpus"), PREDICT)
def test_predict_answers(model: str, gpus: int) -> None:
    args = [
        "predict",
        "--model",
        model,
        "--gpu",
        "H100",
        "--isl",
        "1000",
        "--osl",
        "1000",
        "--max-throughput",
        "--explain",
    ]
    if gpus > 1:
        args += ["--num-gpus", str(gpus), "--tp", str(gpus)]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "output throughput" in r.output
    assert "does not fit" not in r.output
