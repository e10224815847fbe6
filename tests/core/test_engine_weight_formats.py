"""llama.cpp serves GGUF weight types only: an fp8 (or AWQ, W8A8, NVFP4) format is refused with
what to use instead, never costed silently as if llama.cpp had an fp8 GEMM (QA, issue 15)."""

from __future__ import annotations

import pytest

from infercost.catalog import get_quant_format
from infercost.cli import main
from infercost.errors import InputError
from infercost.predict import LLAMACPP_WEIGHT_FORMATS, engine_weight_format_error, predict

ARGS = ("llama-3.1-8b", "H100", 1000, 300)


@pytest.mark.parametrize(
    ("dtype", "instead"),
    [
        # 8-bit formats (fp8 8.002, int8 8.0 bits per weight) -> the GGUF 8-bit type Q8_0
        ("fp8", "--weight-dtype q8_0 (GGUF Q8_0, 8.5 bits per weight)"),
        ("int8", "--weight-dtype q8_0 (GGUF Q8_0, 8.5 bits per weight)"),
        # 4-bit formats (AWQ int4 4.156, nvfp4 4.5 bits) -> the GGUF 4-bit types
        ("int4", "--weight-dtype q4_k_m or q4_0"),
        ("nvfp4", "--weight-dtype q4_k_m or q4_0"),
    ],
)
def test_llamacpp_refuses_formats_gguf_lacks(dtype: str, instead: str) -> None:
    with pytest.raises(InputError) as err:
        predict(*ARGS, concurrency=1, engine="llamacpp", weight_dtype=dtype, gpu_hour_usd=2.0)
    message = str(err.value)
    assert f"has no {dtype} type or GEMM path" in message
    assert f"--weight-dtype {dtype} cannot be served" in message
    assert instead in message and "--engine vllm, sglang or trtllm" in message


def test_an_fp8_checkpoint_on_llamacpp_needs_a_gguf_type() -> None:
    # nvidia/Llama-3.1-70B-Instruct-FP8 is an fp8 checkpoint: without --weight-dtype the
    # refusal names the checkpoint's weights, not a flag the user did not give.
    with pytest.raises(InputError, match="the checkpoint's fp8 weights cannot be served"):
        predict(
            "nvidia/Llama-3.1-70B-Instruct-FP8", "H200", 1000, 300, concurrency=1,
            engine="llamacpp", gpu_hour_usd=2.0,
        )  # fmt: skip


@pytest.mark.parametrize("dtype", sorted(LLAMACPP_WEIGHT_FORMATS - {"fp32"}))
def test_gguf_types_run_on_llamacpp(dtype: str) -> None:
    p = predict(*ARGS, concurrency=1, engine="llamacpp", weight_dtype=dtype, gpu_hour_usd=2.0)
    assert p.fits and p.weight_dtype == dtype


def test_other_engines_keep_fp8() -> None:
    assert engine_weight_format_error("vllm", get_quant_format("fp8"), True) is None
    p = predict(*ARGS, concurrency=1, engine="vllm", weight_dtype="fp8", gpu_hour_usd=2.0)
    assert p.fits


def test_cli_prints_one_line_and_exits_one(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", "--model", "llama-3.1-8b", "--gpu", "H100", "--isl", "1000",
              "--osl", "300", "--engine", "llamacpp", "--weight-dtype", "fp8",
              "--concurrency", "4"])  # fmt: skip
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "q8_0" in err
