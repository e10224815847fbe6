"""Mistakes a new user makes in names get an error that says what to do (ninth-session QA)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from infercost import predict
from infercost.catalog import get_accelerator, get_engine
from infercost.catalog.loader import load_model_config_file
from infercost.errors import InputError, UnknownNameError


@pytest.mark.parametrize(
    ("spelling", "gpu", "count"),
    [("8xH100", "h100-sxm", "8"), ("H100x8", "h100-sxm", "8"), ("h100:8", "h100-sxm", "8"),
     ("4 x H200", "h200-sxm", "4"), ("B200 * 2", "b200", "2")],
)  # fmt: skip
def test_a_gpu_count_in_the_name_points_to_num_gpus(spelling: str, gpu: str, count: str) -> None:
    with pytest.raises(InputError) as err:
        get_accelerator(spelling)
    assert f"give the GPU alone ({gpu})" in str(err.value)
    assert f"--num-gpus {count}" in str(err.value)


def test_a_real_name_ending_in_x_is_not_a_count() -> None:
    # "MI300X" ends in x but names one GPU; "A100x" is not a GPU: suggestions, as before
    assert get_accelerator("MI300X").id == "mi300x"
    with pytest.raises(UnknownNameError):
        get_accelerator("A100x")


def test_engine_aliases_are_suggested_as_their_engine() -> None:
    # "tensorrt" is close to the alias "tensorrt-llm", which is trtllm
    with pytest.raises(UnknownNameError) as err:
        get_engine("tensorrt")
    assert err.value.candidates[0] == "trtllm"


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_a_non_finite_config_value_is_refused(tmp_path: Path, bad: float) -> None:
    src = Path(__file__).parents[2] / "src/infercost/catalog/data/models/Qwen__Qwen3-0.6B.json"
    cfg = json.loads(src.read_text())
    cfg["max_position_embeddings"] = bad
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))  # json writes NaN / Infinity, as Python's json reads them
    with pytest.raises(InputError, match="max_position_embeddings must be an integer"):
        load_model_config_file(str(path))


def test_an_alias_says_what_it_is_served_as() -> None:
    # model_aliases.csv: Qwen/Qwen3.6-35B-A3B -> Qwen/Qwen3.5-35B-A3B, with its provenance note
    p = predict("Qwen/Qwen3.6-35B-A3B", "H200", 1000, 300, concurrency=8)
    assert any(
        n.startswith("Qwen/Qwen3.6-35B-A3B is served as Qwen/Qwen3.5-35B-A3B") for n in p.notes
    )


def test_a_family_name_served_by_a_quantized_checkpoint_says_so() -> None:
    # moonshotai/Kimi-K2.6 is not in the catalog; its family resolves to nvidia's NVFP4
    # checkpoint (models.csv), whose weights the prediction then uses
    p = predict("moonshotai/Kimi-K2.6", "B200", 1000, 1000, tp=8, concurrency=16)
    assert p.weight_dtype == "nvfp4"
    assert any("resolved to nvidia/Kimi-K2.6-NVFP4" in n for n in p.notes)
    # a name that asks for the quantized checkpoint itself gets no such note
    q = predict("nvidia/Kimi-K2.6-NVFP4", "B200", 1000, 1000, tp=8, concurrency=16)
    assert not any("resolved to" in n for n in q.notes)
