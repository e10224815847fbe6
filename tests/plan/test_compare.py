"""compare-gpus: ranking by $/M output, instance bundling, reasons, spot, chart."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from infercost.catalog import get_accelerator
from infercost.catalog.pricing import Offer
from infercost.plan.compare import compare_gpus, native_weight_dtypes, output_share
from infercost.report.charts_cost import write_compare_html


def make_offer(
    offer_id: str, gpu: str, usd_per_hour: str, gpus: int = 1, kind: str = "on-demand"
) -> Offer:
    return Offer.model_validate(
        {
            "id": offer_id,
            "provider": "Test",
            "instance": offer_id,
            "gpu": gpu,
            "gpus_per_instance": gpus,
            "pricing_kind": kind,
            "usd_per_hour": Decimal(usd_per_hour),
            "as_of": date(2026, 11, 1),
            "source": "test fixture",
        }
    )


class TestNativeDtypes:
    def test_fp8_and_fp4_only_where_the_catalog_lists_them(self) -> None:
        assert native_weight_dtypes(get_accelerator("a100-80gb-sxm"), "bf16") == ["bf16"]
        assert native_weight_dtypes(get_accelerator("h100-sxm"), "bf16") == ["bf16", "fp8"]
        assert native_weight_dtypes(get_accelerator("b200"), "bf16") == ["bf16", "fp8", "fp4"]


class TestRanking:
    def test_same_gpu_twice_the_price_is_twice_the_cost(self) -> None:
        offers = [make_offer("cheap", "h100-sxm", "2.00"), make_offer("dear", "h100-sxm", "4.00")]
        c = compare_gpus("llama-3.1-8b", 1000, 300, offers=offers, num_gpus_options=(1,))
        cheap, dear = c.results
        assert (cheap.offer.id, cheap.rank, cheap.why) == ("cheap", 1, "cheapest $/M output")
        # Same configuration, so $/M output scales with the $/GPU-hour: 4.00 / 2.00 = 2.
        assert dear.usd_per_m_output == pytest.approx(2 * (cheap.usd_per_m_output or 0))
        assert dear.why.startswith("price x2.00: $4.00 vs $2.00 per used GPU-hour")
        # and the cost ratio is split into its two factors, each in its own sense
        assert dear.why.endswith(
            "$/M x2.00 = price x2.00 x throughput x1.00 x share of GPU time charged to "
            f"output x1.00 ({output_share(dear.config.prediction):.0%} vs "  # type: ignore[union-attr]
            f"{output_share(cheap.config.prediction):.0%}))"  # type: ignore[union-attr]
        )

    def test_why_factors_multiply_to_the_cost_ratio_and_mean_their_labels(self) -> None:
        # QA: an H100 at 1,242 vs 1,522 output tok/s per GPU was said to be "throughput
        # x1.60", but 1,522 / 1,242 = 1.225; the rest (x1.30) was the share of GPU time
        # charged to output. $/M output per GPU = $/GPU-h x s ÷ (tok/s per GPU x 0.0036),
        # so the ratio is (price ratio) x (winner's tok/s ÷ loser's) x (s_loser ÷ s_winner).
        offers = [
            make_offer("h100", "h100-sxm", "2.00"),
            make_offer("a100", "a100-80gb-sxm", "1.00"),
        ]
        c = compare_gpus("llama-3.1-8b", 1000, 300, offers=offers, num_gpus_options=(1,))
        winner, loser = c.results
        assert winner.config is not None and loser.config is not None
        wp, lp = winner.config.prediction, loser.config.prediction
        tput = (wp.output_tok_s_per_gpu or 0) / (lp.output_tok_s_per_gpu or 0)
        price = float(loser.usd_per_gpu_hour or 0) / float(winner.usd_per_gpu_hour or 0)
        cost = (loser.usd_per_m_output or 0) / (winner.usd_per_m_output or 0)
        assert loser.throughput_factor == pytest.approx(tput, rel=1e-12)
        assert loser.price_factor == pytest.approx(price, rel=1e-12)
        assert loser.output_share_factor == pytest.approx(cost / price / tput, rel=1e-9)
        assert f"throughput x{tput:.2f} x share of GPU time charged to output" in loser.why
        # the output share is 1 - the prefill share, a share of time: between 0 and 1
        assert 0 < output_share(lp) < 1 and 0 < output_share(wp) < 1
        assert loser.output_share_factor == pytest.approx(
            output_share(lp) / output_share(wp), rel=1e-12
        )

    def test_whole_instance_is_paid_when_using_part_of_it(self) -> None:
        # An 8-GPU instance at $16/h lists $2 per GPU; running the 8B model on 1 of its GPUs
        # costs 16 / 1 = $16 per used GPU-hour, on 8 GPUs $2 but with TP-8 overhead. A 1-GPU
        # $2 offer runs the 1-GPU configuration at $2, so it must win.
        offers = [
            make_offer("single", "h100-sxm", "2.00"),
            make_offer("octo", "h100-sxm", "16.00", 8),
        ]
        c = compare_gpus("llama-3.1-8b", 1000, 300, offers=offers, num_gpus_options=(1, 8))
        single, octo = c.results
        assert single.offer.id == "single"
        assert single.config is not None and single.config.num_gpus == 1
        assert octo.usd_per_m_output is not None and single.usd_per_m_output is not None
        assert octo.usd_per_m_output > single.usd_per_m_output
        if octo.config is not None and octo.config.num_gpus == 1:
            assert octo.usd_per_gpu_hour == Decimal(16)

    def test_model_that_does_not_fit_loses_on_memory(self) -> None:
        offers = [make_offer("h100", "h100-sxm", "3.00"), make_offer("l4", "l4", "0.10")]
        c = compare_gpus(
            "llama-3.1-70b", 1000, 300, offers=offers, num_gpus_options=(1, 2),
            weight_dtypes=["fp8"],
        )  # fmt: skip
        l4 = next(r for r in c.results if r.offer.id == "l4")
        assert l4.config is None
        # The reason quoted is that of the largest configuration tried (2 GPUs at fp8).
        assert l4.why.startswith("memory: 2x fp8: does not fit")
        assert c.results[-1] is l4  # unpriceable offers rank last

    def test_spot_needs_opting_in(self) -> None:
        offers = [
            make_offer("od", "h100-sxm", "3.00"),
            make_offer("sp", "h100-sxm", "1.00", kind="spot"),
        ]
        kw = {"offers": offers, "num_gpus_options": (1,)}
        assert [r.offer.id for r in compare_gpus("llama-3.1-8b", 100, 100, **kw).results] == ["od"]
        with_spot = compare_gpus("llama-3.1-8b", 100, 100, allow_spot=True, **kw)
        assert [r.offer.id for r in with_spot.results] == ["sp", "od"]

    def test_latency_target_is_met_by_every_ranked_config(self) -> None:
        offers = [make_offer("h100", "h100-sxm", "3.00")]
        c = compare_gpus("llama-3.1-8b", 1000, 300, offers=offers, max_tpot_s=0.02)
        (r,) = c.results
        assert r.config is not None
        assert (r.config.prediction.tpot_s or 1) <= 0.02

    def test_issue_example_ranks_every_offer_with_a_reason(self) -> None:
        c = compare_gpus("llama-3.1-70b", 1000, 300)
        assert len(c.results) > 20
        costs = [r.usd_per_m_output for r in c.results if r.usd_per_m_output is not None]
        assert costs == sorted(costs)
        assert all(r.why for r in c.results)
        assert {r.why.split(" ")[0] for r in c.results[1:]} <= {
            "price", "memory:", "bandwidth:", "compute:", "latency:",
        }  # fmt: skip


class TestChart:
    def test_html_names_every_priced_offer(self, tmp_path: Path) -> None:
        offers = [make_offer("cheap", "h100-sxm", "2.00"), make_offer("dear", "h100-sxm", "4.00")]
        c = compare_gpus("llama-3.1-8b", 1000, 300, offers=offers, num_gpus_options=(1,))
        html = write_compare_html(c, tmp_path / "c.html").read_text()
        assert "plotly" in html
        assert '"cheap"' in html and '"dear"' in html


class TestPrecisionIsAChoiceShown:
    """Issue 15: fp8/fp4 weights picked by the ranking are shown as a choice, pinnable."""

    def offers(self) -> list[Offer]:
        return [
            make_offer("a100", "a100-80gb-sxm", "1.00"),
            make_offer("h100", "h100-sxm", "2.00"),
        ]

    def test_auto_ranking_names_the_mix(self) -> None:
        """A100 has no fp8 FLOP/s in the catalog (bf16 only); H100 runs fp8 natively and fp8
        halves the weight bytes decode reads, so its best row is fp8: the ranking mixes."""
        c = compare_gpus("llama-3.1-8b", 1000, 300, offers=self.offers(), num_gpus_options=(1,))
        d = c.to_dict()
        assert d["weight_dtype_choice"] == "auto" and d["checkpoint_weight_dtype"] == "bf16"
        assert set(d["ranked_weight_dtypes"]) == {"bf16", "fp8"}
        assert d["precision_note"] is not None and "--weight-dtype" in d["precision_note"]

    def test_pinned_dtype_has_no_note(self) -> None:
        c = compare_gpus(
            "llama-3.1-8b", 1000, 300, offers=self.offers(), num_gpus_options=(1,),
            weight_dtypes=["bf16"],
        )  # fmt: skip
        d = c.to_dict()
        assert d["weight_dtype_choice"] == "given" and d["precision_note"] is None
        assert d["ranked_weight_dtypes"] == ["bf16"]


def test_offers_the_engine_cannot_run_are_not_ranked_and_said() -> None:
    # TensorRT-LLM runs on NVIDIA only: an MI300X offer is left out with a note, an H100 ranked
    c = compare_gpus(
        "llama-3.1-8b", 1000, 200, engine="trtllm", num_gpus_options=(1,),
        weight_dtypes=["bf16"], today=date(2026, 11, 2),
        offers=[make_offer("h", "h100-sxm", "3.00"), make_offer("m", "mi300x", "2.00")],
    )  # fmt: skip
    assert [r.offer.gpu for r in c.results] == ["h100-sxm"]
    assert c.engine_note is not None
    assert "offers for mi300x not ranked: --engine trtllm runs on NVIDIA" in c.engine_note
