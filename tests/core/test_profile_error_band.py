"""A user's --profile gets no error band borrowed from the shipped calibration (QA, issue 15):
the shipped bands are the held-out error of the shipped profile; a profile that fitted badly
would otherwise print the shipped ±22 % as if it applied."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from infercost.cli import app
from infercost.predict import predict

ARGS = ("llama-3.1-8b", "H100", 512, 64)
# What `infercost calibrate fit --out` writes (calibrate.fit.profile_document): the fitted
# fields plus fitted_on, source, as_of. A mean |log ratio| of 0.9 is a fit that is off by a
# factor e^0.9 = 2.5 on a typical row.
PROFILE = (
    '[vllm]\nmbu = 0.2\nfitted_on = "MINE (3 rows, mean |log ratio| 0.900)"\n'
    'source = "calibrate.fit on mine.json"\nas_of = 2026-12-01\n'
)


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    path = tmp_path / "engine_fits.toml"
    path.write_text(PROFILE)
    return path


def test_shipped_profile_keeps_its_calibrated_band() -> None:
    band = predict(*ARGS, concurrency=8, gpu_hour_usd=2.0).error_band
    assert band is not None and band["calibrated"] is True
    assert all(isinstance(band[k], float) for k in ("output_tok_s", "ttft_s", "tpot_s"))


def test_a_user_profile_has_no_band_and_quotes_its_fit(profile: Path) -> None:
    band = predict(*ARGS, concurrency=8, gpu_hour_usd=2.0, profile=str(profile)).error_band
    assert band is not None
    assert band["calibrated"] is False and band["extrapolating"] is True
    assert [band[k] for k in ("output_tok_s", "ttft_s", "tpot_s")] == [None, None, None]
    assert "MINE (3 rows, mean |log ratio| 0.900)" in band["basis"]["profile"]


def test_plain_output_shows_no_plus_minus_under_a_profile(profile: Path) -> None:
    args = ["predict", "--model", "llama-3.1-8b", "--gpu", "H100", "--isl", "512", "--osl",
            "64", "--concurrency", "8", "--gpu-hour-usd", "2"]  # fmt: skip
    shipped = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert "±" in shipped.output
    result = CliRunner().invoke(app, [*args, "--profile", str(profile)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "±" not in result.output
    text = " ".join(result.output.split())
    assert "error band: none for your --profile (uncalibrated" in text
    assert "mean |log ratio| 0.900" in text


def test_e2e_band_is_at_least_the_throughput_band() -> None:
    # In a closed loop tok/s = N x osl / E2E, so a 3 % E2E band beside an 11 % throughput
    # band (QA: DeepSeek-R1 DEP8 on sglang) contradicts itself: E2E takes the wider one.
    band = predict(
        "deepseek-ai/DeepSeek-R1", "H200", 1000, 1000, num_gpus=8, dp=8, tp=1, ep=8,
        engine="sglang", concurrency=256, gpu_hour_usd=2.0,
    ).error_band  # fmt: skip
    assert band is not None
    assert band["e2e_s"] >= band["output_tok_s"] > 0.05
    assert (
        "throughput" in band["basis"]["regime_used"]["e2e_s"]
        or "TPOT" in (band["basis"]["regime_used"]["e2e_s"])
    )


def test_e2e_band_is_at_least_its_parts() -> None:
    # E2E = TTFT + (osl - 1) x TPOT: with decode ~all of E2E, its band is at least ~TPOT's
    # (band_ttft x TTFT + band_tpot x (E2E - TTFT)) / E2E.
    p = predict(
        "deepseek-ai/DeepSeek-R1", "H200", 1024, 1024, num_gpus=8, dp=8, tp=1, ep=8,
        engine="trtllm", max_throughput=True, gpu_hour_usd=2.0,
    )  # fmt: skip
    b = p.error_band
    assert b is not None and p.ttft_s is not None and p.e2e_s is not None
    parts = (b["ttft_s"] * p.ttft_s + b["tpot_s"] * (p.e2e_s - p.ttft_s)) / p.e2e_s
    assert b["e2e_s"] >= min(b["ttft_s"], b["tpot_s"])
    assert b["e2e_s"] == pytest.approx(max(parts, b["output_tok_s"]), abs=0.002)


def test_an_attention_dp_layout_gets_its_own_held_out_band() -> None:
    # DEP layouts (attention DP + EP) are scored apart (error_bands.json
    # "trtllm|hopper|moe|attention-dp"): the model is further off on them (TRTDEV's DEP rows,
    # docs/accuracy.md) than on TP layouts, and the band must say so.
    kw: dict[str, Any] = {"engine": "trtllm", "max_throughput": True, "gpu_hour_usd": 2.0}
    dep = predict(
        "deepseek-ai/DeepSeek-R1", "H200", 1024, 1024, num_gpus=8, dp=8, tp=1, ep=8, **kw
    )
    tp8 = predict("deepseek-ai/DeepSeek-R1", "H200", 1024, 1024, num_gpus=8, tp=8, **kw)
    assert dep.error_band is not None and tp8.error_band is not None
    used = dep.error_band["basis"]["regime_used"]["output_tok_s"]
    assert used == "trtllm|hopper|moe|attention-dp"
    assert dep.error_band["output_tok_s"] > tp8.error_band["output_tok_s"]


def test_the_table_shows_no_band_beside_a_missing_figure() -> None:
    # QA: --osl 1 printed "TPOT — ±11%", a band on a figure there is not; E2E gets its band
    out = CliRunner().invoke(
        app,
        ["predict", "--model", "llama-3.1-8b", "--gpu", "H100", "--isl", "1000", "--osl", "1",
         "--concurrency", "4", "--gpu-hour-usd", "2"],
        env={"COLUMNS": "200"},
    ).output  # fmt: skip
    tpot = next(line for line in out.splitlines() if "TPOT" in line and "│" in line)
    assert "—" in tpot and "±" not in tpot
    e2e = next(line for line in out.splitlines() if "E2E" in line and "│" in line)
    assert "±" in e2e
