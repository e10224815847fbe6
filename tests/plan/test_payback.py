"""Distillation payback; speculative-decoding and prefix-cache ROI at the operating point."""

from __future__ import annotations

from typing import Any

import pytest

from infercost.errors import InputError
from infercost.plan.payback import distillation_payback, prefix_cache_roi, speculative_roi


@pytest.fixture(autouse=True)
def _no_user_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INFERCOST_CATALOG_DIR", raising=False)


POINT: dict[str, Any] = {"weight_dtype": "bf16", "num_gpus": 1, "gpu_hour_usd": 2.0}


class TestDistillation:
    def test_payback_months(self) -> None:
        # Teacher $0.46/M (W4's 70B), student $0.05/M, 3B tokens a month, 60 % moved, 90 %
        # of those kept: per M moved 0.9 x 0.46 - 0.05 = $0.364; monthly 3,000 M x 0.6 x
        # 0.364 = $655.20; training $50,000 -> 76.31 months.
        d = distillation_payback(50_000, 0.46, 0.05, 3e9, traffic_share=0.6, quality_retention=0.9)
        assert d.saving_usd_per_m_moved == pytest.approx(0.364)
        assert d.monthly_saving_usd == pytest.approx(655.2)
        assert d.payback_months == pytest.approx(50_000 / 655.2)
        assert d.cumulative_usd(2) == pytest.approx([-50_000, -49_344.8, -48_689.6])

    def test_never_pays_back_when_retention_is_low(self) -> None:
        # 0.1 x 0.46 - 0.05 = -$0.004 per M moved: the re-served requests eat the saving.
        d = distillation_payback(1_000, 0.46, 0.05, 3e9, quality_retention=0.1)
        assert d.payback_months is None

    def test_extra_ops_cost(self) -> None:
        # 1,000 M x 1.0 x (0.46 - 0.05) = 410 - 400 ops = $10/month -> 100 months for $1,000.
        d = distillation_payback(1_000, 0.46, 0.05, 1e9, extra_ops_usd_per_month=400)
        assert d.payback_months == pytest.approx(100.0)

    def test_bad_share(self) -> None:
        with pytest.raises(InputError, match="traffic-share"):
            distillation_payback(1_000, 0.46, 0.05, 1e9, traffic_share=1.5)


class TestSpeculativeDecoding:
    def test_memory_bound_batch_one_gains_nearly_e(self) -> None:
        # a = 1, k = 3, free drafting: E = (1 - 1^4)/(1 - 1) -> k + 1 = 4 tokens per verify.
        # At batch 1 an 8B bf16 step reads 16 GB of weights whether it carries 1 or 4 tokens,
        # so t_verify is only a little above t_decode and the cycle
        # osl x t_verify ÷ 4 + prefill falls by a factor a little under 4; the prefill of the
        # 1000-token prompt (about 1 % of the cycle) is unchanged.
        r = speculative_roi(
            "llama-3.1-8b",
            "h100",
            1000,
            300,
            num_draft_tokens=3,
            acceptance_rate=1.0,
            concurrency=1,
            **POINT,
        )
        assert r.operating_point.concurrency == 1
        assert 3.5 < r.throughput_ratio < 4.0
        assert r.tpot_s_after < r.tpot_s_before / 3.5
        assert r.usd_per_m_after is not None and r.usd_per_m_before is not None
        assert r.usd_per_m_after == pytest.approx(r.usd_per_m_before / r.throughput_ratio)

    def test_expected_tokens_formula_in_the_detail(self) -> None:
        # (1 - 0.8^5) / (1 - 0.8) = (1 - 0.32768) / 0.2 = 3.3616
        r = speculative_roi(
            "llama-3.1-8b",
            "h100",
            1000,
            300,
            num_draft_tokens=4,
            acceptance_rate=0.8,
            concurrency=1,
            **POINT,
        )
        assert "E = 3.362" in r.detail

    def test_no_acceptance_loses(self) -> None:
        # a = 0: E = 1 token per verify of k + 1 = 2 tokens, never faster than plain decode.
        r = speculative_roi(
            "llama-3.1-8b",
            "h100",
            1000,
            300,
            num_draft_tokens=1,
            acceptance_rate=0.0,
            concurrency=8,
            **POINT,
        )
        assert r.throughput_ratio <= 1.0

    def test_large_batch_compute_bound_loses(self) -> None:
        # Batch 256, k = 4, a = 0.3: E = (1 - 0.3^5)/0.7 = 1.425 tokens for a verify of
        # 256 x 5 = 1,280 tokens (20.5 TFLOP at 16 GFLOP/token: tens of ms at 55 % of
        # 989 TFLOP/s, compute-bound) against a decode step of under 20 ms (16 GB of weights
        # plus the KV cache at 3.35 TB/s): 1.425 tokens cannot pay for it.
        r = speculative_roi(
            "llama-3.1-8b",
            "h100",
            1000,
            300,
            num_draft_tokens=4,
            acceptance_rate=0.3,
            concurrency=256,
            **POINT,
        )
        assert r.throughput_ratio < 1.0
        assert r.monthly_saving_usd is not None and r.monthly_saving_usd <= 0.0

    def test_draft_model_costs_time(self) -> None:
        # The same k and a with a real 1B draft is slower than free drafting.
        kw: dict[str, Any] = {
            "num_draft_tokens": 4,
            "acceptance_rate": 0.8,
            "concurrency": 4,
            **POINT,
        }
        free = speculative_roi("llama-3.1-8b", "h100", 1000, 300, **kw)
        drafted = speculative_roi(
            "llama-3.1-8b", "h100", 1000, 300, draft_model="llama-3.2-1b", **kw
        )
        assert drafted.output_tok_s_after < free.output_tok_s_after

    def test_bad_input(self) -> None:
        with pytest.raises(InputError, match="draft-tokens"):
            speculative_roi(
                "llama-3.1-8b", "h100", 1000, 300, num_draft_tokens=0, acceptance_rate=0.5
            )
        with pytest.raises(InputError, match="not both"):
            speculative_roi(
                "llama-3.1-8b",
                "h100",
                1000,
                300,
                num_draft_tokens=2,
                acceptance_rate=0.5,
                draft_model="llama-3.2-1b",
                draft_step_ratio=0.1,
            )


class TestPrefixCache:
    def test_no_hits_change_nothing(self) -> None:
        r = prefix_cache_roi(
            "llama-3.1-8b", "h100", 4000, 300, cached_prefix_share=0.0, concurrency=32, **POINT
        )
        assert r.throughput_ratio == 1.0

    def test_half_the_prompt_cached(self) -> None:
        # Skipping half of a 4,000-token prefill shortens TTFT and the prefill share of
        # every cycle: more output tokens per GPU-hour, lower $/M.
        r = prefix_cache_roi(
            "llama-3.1-8b",
            "h100",
            4000,
            300,
            cached_prefix_share=0.5,
            concurrency=32,
            output_tokens_per_month=1e9,
            **POINT,
        )
        assert r.throughput_ratio > 1.0
        assert r.ttft_s_after < r.ttft_s_before
        saving = r.monthly_saving_usd
        assert saving is not None and r.usd_per_m_before is not None
        assert r.usd_per_m_after is not None
        # saving = (before - after) $/M x 1,000 M output tokens
        assert saving == pytest.approx((r.usd_per_m_before - r.usd_per_m_after) * 1000)

    def test_bad_share(self) -> None:
        with pytest.raises(InputError, match="cached-share"):
            prefix_cache_roi("llama-3.1-8b", "h100", 4000, 300, cached_prefix_share=1.0)
