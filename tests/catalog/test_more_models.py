"""Widely deployed open models added from verbatim config.json copies on GitHub (2026-12-08):
Mistral-Nemo-Instruct-2407, Phi-3-mini-4k/128k and Phi-3-medium-4k, gemma-2-9b-it and
granite-3.3-8b-instruct (sources per row in models.csv, docs/models.md).

Expected values are derived by hand from the config numbers in the comments; the code under
test derives them independently (``perf.params``, ``perf.memory``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from importlib import resources
from typing import Any

import pytest

from infercost.catalog import get_model
from infercost.perf.memory import kv_bytes_per_token
from infercost.perf.params import param_counts

DATA = resources.files("infercost.catalog.data")

ADDED = {
    "mistralai/Mistral-Nemo-Instruct-2407": "mistralai__Mistral-Nemo-Instruct-2407.json",
    "microsoft/Phi-3-mini-4k-instruct": "microsoft__Phi-3-mini-4k-instruct.json",
    "microsoft/Phi-3-mini-128k-instruct": "microsoft__Phi-3-mini-128k-instruct.json",
    "microsoft/Phi-3-medium-4k-instruct": "microsoft__Phi-3-medium-4k-instruct.json",
    "google/gemma-2-9b-it": "google__gemma-2-9b-it.json",
    "ibm-granite/granite-3.3-8b-instruct": "ibm-granite__granite-3.3-8b-instruct.json",
}


def _rows() -> dict[str, dict[str, str]]:
    text = DATA.joinpath("models.csv").read_text("utf-8")
    return {r["id"]: r for r in csv.DictReader(io.StringIO(text, newline=""))}


def _config(file_name: str) -> dict[str, Any]:
    cfg: dict[str, Any] = json.loads(DATA.joinpath("models", file_name).read_text("utf-8"))
    return cfg


@pytest.mark.parametrize(("model_id", "file_name"), sorted(ADDED.items()))
def test_each_added_model_is_a_sourced_row(model_id: str, file_name: str) -> None:
    row = _rows()[model_id]
    assert row["file"] == file_name
    assert row["as_of"] == "2026-12-08"
    source = row["source"]
    assert "config.json" in source and (" @ `" in source or "file id" in source)
    assert get_model(model_id).id == model_id


def test_mistral_nemo_file_is_the_inference_sim_blob() -> None:
    # inference-sim model_configs/mistral-nemo-instruct-2407/config.json @ 50bc7975: blob b915fa62
    data = DATA.joinpath("models", ADDED["mistralai/Mistral-Nemo-Instruct-2407"]).read_bytes()
    blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    assert blob.startswith("b915fa62")


def test_mistral_nemo_head_dim_below_hidden_over_heads() -> None:
    # Mistral-Nemo (mistral): h 5120, 40 layers, 32 heads / 8 KV heads of head_dim 128 (not
    # 5120 / 32 = 160), FFN 14336, vocab 131,072, untied, sliding_window null.
    # attention: q 5120x4096 + k,v 2x5120x1024 + o 4096x5120 = 52,428,800
    # FFN 3x5120x14336 = 220,200,960; norms 2x5120 -> 272,640,000 x 40 = 10,905,600,000
    # + embedding and LM head 2 x 131,072 x 5,120 = 1,342,177,280 + final norm 5,120
    # = 12,247,782,400 (the card's "12B")
    m = get_model("mistralai/Mistral-Nemo-Instruct-2407")
    assert m.head_dim == 128 and m.num_sliding_layers == 0
    assert param_counts(m).total == 12_247_782_400
    # KV per token, bf16: 40 layers x 2 (K, V) x 8 heads x 128 x 2 bytes = 163,840
    assert kv_bytes_per_token(m, 2.0) == 163_840


def test_phi3_mini_mha_with_a_2047_token_window() -> None:
    # Phi-3-mini-4k (phi3): h 3072, 32 layers, 32 heads = 32 KV heads (MHA) of 3072 / 32 = 96,
    # FFN 8192, vocab 32,064, untied; fused qkv_proj / gate_up_proj hold the same weights.
    # attention 4 x 3072^2 = 37,748,736; FFN 3x3072x8192 = 75,497,472; norms 6,144
    #   -> 113,252,352 x 32 = 3,624,075,264
    # + 2 x 32,064 x 3,072 = 197,001,216 + 3,072 = 3,821,079,552 (card: 3.8B)
    m = get_model("microsoft/Phi-3-mini-4k-instruct")
    assert param_counts(m).total == 3_821_079_552
    # KV per token: 32 x 2 x 32 x 96 x 2 bytes = 393,216; sliding_window 2047 on every layer
    assert kv_bytes_per_token(m, 2.0) == 393_216
    assert (m.num_sliding_layers, m.sliding_window) == (32, 2047)
    # the 128k release: same layer shapes, LongRoPE, a window (262,144) that never binds
    long = get_model("microsoft/Phi-3-mini-128k-instruct")
    assert param_counts(long).total == 3_821_079_552
    assert long.sliding_window == 262_144


def test_phi3_medium_gqa() -> None:
    # Phi-3-medium-4k: h 5120, 40 layers, 40 heads / 10 KV heads of 128, FFN 17920.
    # attention: q 5120^2 + k,v 2x5120x1280 + o 5120^2 = 65,536,000
    # FFN 3x5120x17920 = 275,251,200; norms 10,240 -> 340,797,440 x 40 = 13,631,897,600
    # + 2 x 32,064 x 5,120 = 328,335,360 + 5,120 = 13,960,238,080 (card: 14B)
    m = get_model("microsoft/Phi-3-medium-4k-instruct")
    assert param_counts(m).total == 13_960_238_080
    # KV: 40 x 2 x 10 x 128 x 2 bytes = 204,800 per token
    assert kv_bytes_per_token(m, 2.0) == 204_800


def test_gemma2_9b_alternating_window_tied() -> None:
    # gemma-2-9b-it (gemma2): h 3584, 42 layers, 16 heads / 8 KV heads of head_dim 256,
    # FFN 14336 (GeGLU: 3 matrices), vocab 256,000, tied (Gemma2Config default), 4 RMSNorms
    # per block (pre/post attention, pre/post FFN); even layers slide over 4096 tokens.
    # attention: q 3584x4096 + k,v 2x3584x2048 + o 4096x3584 = 44,040,192
    # FFN 3x3584x14336 = 154,140,672; norms 4x3584 = 14,336 -> 198,195,200 x 42
    #   = 8,324,198,400 + embedding 256,000 x 3,584 = 917,504,000 (once) + final norm 3,584
    # = 9,241,705,984 (the Gemma 2 report's 9B)
    m = get_model("google/gemma-2-9b-it")
    assert m.tie_word_embeddings
    assert param_counts(m).total == 9_241_705_984
    assert (m.num_sliding_layers, m.sliding_window, m.num_full_attention_layers) == (21, 4096, 21)
    # KV per token (no window cap): 42 x 2 x 8 x 256 x 2 bytes = 344,064
    assert kv_bytes_per_token(m, 2.0) == 344_064
    # soft-capping is not a layer kind: the config keys are present and ignored
    cfg = _config(ADDED["google/gemma-2-9b-it"])
    assert cfg["attn_logit_softcapping"] == 50.0 and cfg["final_logit_softcapping"] == 30.0


def test_granite_3_3_8b_tied_llama_shape() -> None:
    # granite-3.3-8b-instruct (granite): h 4096, 40 layers, 32 / 8 heads of 128, FFN 12800,
    # vocab 49,159, tied. attention 2x4096^2 + 2x4096x1024 = 41,943,040;
    # FFN 3x4096x12800 = 157,286,400; norms 8,192 -> 199,237,632 x 40 = 7,969,505,280
    # + 49,159 x 4,096 = 201,355,264 + 4,096 = 8,170,864,640
    m = get_model("ibm-granite/granite-3.3-8b-instruct")
    assert m.tie_word_embeddings
    assert param_counts(m).total == 8_170_864_640
    # KV: 40 x 2 x 8 x 128 x 2 bytes = 163,840 per token
    assert kv_bytes_per_token(m, 2.0) == 163_840


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("mistralai/Mistral-Nemo-Instruct", "mistralai/Mistral-Nemo-Instruct-2407"),
        ("microsoft/Phi-3-mini-4k", "microsoft/Phi-3-mini-4k-instruct"),
        ("microsoft/Phi-3-mini-128k-instruct", "microsoft/Phi-3-mini-128k-instruct"),
    ],
)
def test_names_resolve(name: str, target: str) -> None:
    assert get_model(name).id == target
