"""Per-GPU reachable shares of the datasheet peaks (catalog achievable.csv), by hand.

Figures (each row of achievable.csv names its source): H100 SXM BabelStream Triad 2.97 TB/s
of 3.35, bf16 GEMM 794.5 of 989 TFLOP/s, fp8 1,402.6 of 1,979; MI300X Triad 4.10 of 5.3 TB/s,
bf16 668.4 of 1,307.4, fp8 1,273 of 2,614.9; MI355X bf16 1,565 of 2,500 (no fp8 figure).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infercost.catalog import get_accelerator, get_engine, get_model, get_quant_format, loader
from infercost.errors import CatalogError
from infercost.perf.achievable import achievable_scale
from infercost.perf.step import operand_peaks, step_model

H100_BW = 2.97 / 3.35
H100_BF16 = 794.5 / 989
H100_FP8 = 1402.6 / 1979


def test_the_reference_gpu_keeps_its_datasheet_peaks() -> None:
    s = achievable_scale("h100-sxm")
    assert s.bandwidth == pytest.approx(1.0, rel=1e-12)
    assert s.gemm_factor("bf16") == pytest.approx(1.0, rel=1e-12)
    assert s.gemm_factor("fp8") == pytest.approx(1.0, rel=1e-12)


def test_mi300x_factors_are_its_measured_shares_over_h100s() -> None:
    s = achievable_scale("mi300x")
    assert s.bandwidth == pytest.approx((4.10 / 5.3) / H100_BW, rel=1e-9)  # 0.8726
    assert s.gemm_factor("bf16") == pytest.approx((668.4 / 1307.4) / H100_BF16, rel=1e-9)
    assert s.gemm_factor("fp8") == pytest.approx((1273 / 2614.9) / H100_FP8, rel=1e-9)
    assert s.measured and "4.1 TB/s" in s.basis


def test_a_missing_dtype_compares_like_for_like_at_the_nearest_measured_dtype() -> None:
    # MI355X has a bf16 figure only: its fp8 factor is its bf16 share over H100's bf16 share,
    # not over H100's fp8 share
    s = achievable_scale("mi355x")
    assert s.gemm_factor("fp8") == pytest.approx((1565.0 / 2500) / H100_BF16, rel=1e-9)
    assert s.bandwidth == 1.0  # no measured bandwidth: the prior


def test_a_gpu_without_figures_gets_the_prior_and_says_so() -> None:
    s = achievable_scale("l40s")
    assert (s.bandwidth, s.gemm_factor("fp8"), s.measured) == (1.0, 1.0, False)
    assert "no measured figure for l40s" in s.basis


def test_the_step_model_uses_the_scaled_peaks() -> None:
    # Llama-3.1-8B bf16 on MI300X: every GEMM at bf16, so the dense peak is
    # 1,307.4 TFLOP/s x the bf16 factor; the bandwidth 5.3 TB/s x the bandwidth factor.
    acc = get_accelerator("mi300x")
    sm = step_model(
        get_model("llama-3.1-8b"), acc, get_quant_format("bf16"), 2.0, get_engine("vllm")
    )
    assert float(sm.mem_bw_bytes_s) == pytest.approx(5.3e12 * (4.10 / 5.3) / H100_BW)
    peaks = operand_peaks(get_model("llama-3.1-8b"), acc, get_quant_format("bf16"))
    assert peaks.dense == pytest.approx(1307.4e12 * (668.4 / 1307.4) / H100_BF16, rel=1e-9)
    assert float(sm.peak_flop_s) == pytest.approx(peaks.dense, rel=1e-12)


def test_a_user_row_for_an_unknown_gpu_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "achievable.csv").write_text(
        "gpu,kind,measured,conditions,source,as_of,quote\n"
        "h999,mem_bw,1.0,copy,my lab notebook,2026-12-01,1.0 TB/s\n"
    )
    monkeypatch.setenv("INFERCOST_CATALOG_DIR", str(tmp_path))
    loader.load_achieved.cache_clear()
    try:
        with pytest.raises(CatalogError, match="'h999' is not a catalog accelerator id"):
            loader.load_achieved()
    finally:
        monkeypatch.delenv("INFERCOST_CATALOG_DIR")
        loader.load_achieved.cache_clear()


def test_an_allreduce_row_for_a_gpu_without_a_scale_up_link_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an L40S has no NVLink (accelerators.csv): its collectives are costed on PCIe, so an
    # all-reduce figure for it would be silently unused
    (tmp_path / "achievable.csv").write_text(
        "gpu,kind,measured,conditions,source,as_of,quote\n"
        "l40s,allreduce_busbw,20.0,nccl-tests,my lab notebook,2026-12-01,20 GB/s\n"
    )
    monkeypatch.setenv("INFERCOST_CATALOG_DIR", str(tmp_path))
    loader.load_achieved.cache_clear()
    try:
        with pytest.raises(
            CatalogError, match="allreduce_busbw for 'l40s', which has no scale-up"
        ):
            loader.load_achieved()
    finally:
        monkeypatch.delenv("INFERCOST_CATALOG_DIR")
        loader.load_achieved.cache_clear()
