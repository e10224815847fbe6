"""The broadcast grid: layouts, concurrency levels, step constants and serving figures equal
to the scalar functions (perf.step.step_model, infercost.predict) at sampled points, prices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pytest

from infercost.catalog import get_accelerator, get_engine, get_model, load_accelerators
from infercost.catalog.pricing import Offer
from infercost.errors import InputError
from infercost.perf.step import StepModel, step_model
from infercost.plan.candidate import candidate
from infercost.plan.layouts import concurrency_levels, layouts
from infercost.plan.prices import gpu_prices
from infercost.plan.sweep import Grid, build_grid, evaluate, kv_dtypes_for, weight_formats
from infercost.predict import predict


@pytest.fixture(autouse=True)
def _no_user_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INFERCOST_CATALOG_DIR", raising=False)


def make_offer(offer_id: str, gpu: str, usd_per_hour: str, gpus: int = 1) -> Offer:
    return Offer.model_validate(
        {
            "id": offer_id,
            "provider": "Test",
            "instance": offer_id,
            "gpu": gpu,
            "gpus_per_instance": gpus,
            "pricing_kind": "on-demand",
            "usd_per_hour": Decimal(usd_per_hour),
            "as_of": date.today(),
            "source": "test fixture",
        }
    )


class TestLayouts:
    def test_dense_70b_up_to_eight_gpus(self) -> None:
        # Llama-3.1-70B: 64 heads, so TP in {1, 2, 4, 8}; PP = n / TP for every n <= 8:
        # n=1: TP1; 2: TP1PP2, TP2; 3: PP3; 4: PP4, TP2PP2, TP4; 5: PP5; 6: PP6, TP2PP3;
        # 7: PP7; 8: PP8, TP2PP4, TP4PP2, TP8 -> 1+2+1+3+1+2+1+4 = 15 layouts.
        lay = layouts(get_model("llama-3.1-70b"), 8)
        rows = set(zip(lay.num_gpus.tolist(), lay.tp.tolist(), lay.pp.tolist(), strict=True))
        assert len(lay) == 15
        assert (6, 2, 3) in rows and (8, 8, 1) in rows and (3, 3, 1) not in rows
        assert np.all(lay.tp * lay.pp == lay.num_gpus)
        assert np.all(lay.ep == 1)

    def test_moe_adds_expert_parallelism_within_a_stage(self) -> None:
        # Mixtral-8x7B (32 heads): the same 15 TP x PP layouts, plus EP = TP for every layout
        # with TP > 1 (TP2, TP2PP2, TP4, TP2PP3, TP2PP4, TP4PP2, TP8: 7) -> 22. EP never spans
        # pipeline stages: each stage holds only its own layers' experts (QA: EP3 over PP3 put
        # DeepSeek-R1 on 3 H100 at a third of its weights).
        lay = layouts(get_model("mixtral-8x7b"), 8)
        assert len(lay) == 22
        assert int((lay.ep > 1).sum()) == 7
        assert np.all((lay.ep == 1) | (lay.ep == lay.tp))

    def test_exact_counts_and_bad_input(self) -> None:
        lay = layouts(get_model("llama-3.1-70b"), num_gpus=[4])
        assert sorted(lay.tp.tolist()) == [1, 2, 4]
        with pytest.raises(InputError, match=">= 1"):
            layouts(get_model("llama-3.1-70b"), num_gpus=[0])


class TestConcurrencyLevels:
    def test_sixty_four_distinct_levels_from_one_to_max(self) -> None:
        levels = concurrency_levels(256, 64)
        assert levels.size == 64
        assert levels[0] == 1 and levels[-1] == 256
        assert np.all(np.diff(levels) >= 1)

    def test_every_integer_when_the_range_is_short(self) -> None:
        assert concurrency_levels(10, 64).tolist() == list(range(1, 11))

    def test_rejects_zero(self) -> None:
        with pytest.raises(InputError, match="concurrency"):
            concurrency_levels(0)


def _grid(model: str, engine: str = "vllm", gpus: tuple[str, ...] | None = None) -> Grid:
    m = get_model(model)
    accs = tuple(get_accelerator(g) for g in gpus) if gpus else load_accelerators()
    return build_grid(
        m,
        accs,
        get_engine(engine),
        weight_fmts=weight_formats(None, m),
        kv_dtypes=kv_dtypes_for(["auto", "fp8", "int8"], m),
        layout=layouts(m, 8),
        concurrency=concurrency_levels(256, 16),
    )


#: the per-configuration numeric fields (graph_batch_sizes is a run setting, () in both)
STEP_FIELDS = [
    f
    for f in StepModel.__slots__
    if f not in ("num_experts", "experts_per_token", "graph_batch_sizes")
]


class TestGridMatchesScalarFunctions:
    @pytest.mark.parametrize(
        ("model", "engine"),
        [("llama-3.1-70b", "vllm"), ("mixtral-8x7b", "trtllm"), ("gemma-3-27b", "sglang")],
    )
    def test_step_constants_equal_step_model(self, model: str, engine: str) -> None:
        # The grid mirrors perf.step.step_model with arrays; every field at sampled points
        # must equal the scalar function's (a change in perf shows up here).
        grid = _grid(model, engine)
        rng = np.random.default_rng(1)
        eng = get_engine(engine)
        checked = 0
        for _ in range(40):
            g, w, p, k = (int(rng.integers(n)) for n in grid.shape[:4])
            if not grid.supported[g, w]:
                continue
            lay = grid.layouts
            from infercost.catalog.schema import DTYPE_BYTES

            ref = step_model(
                grid.model,
                grid.gpus[g],
                grid.weight_fmts[w],
                DTYPE_BYTES[grid.kv_dtypes[k]],
                eng,
                int(lay.tp[p]),
                int(lay.pp[p]),
                int(lay.ep[p]),
            )
            assert grid.step.graph_batch_sizes == ref.graph_batch_sizes == ()
            for name in STEP_FIELDS:
                got = np.broadcast_to(getattr(grid.step, name), (*grid.shape[:4], 1))[
                    g, w, p, k, 0
                ]
                assert float(got) == pytest.approx(float(getattr(ref, name)), rel=1e-12), name
            checked += 1
        assert checked >= 10

    @pytest.mark.parametrize("model", ["llama-3.1-70b", "mixtral-8x7b"])
    def test_serving_and_fit_equal_predict(self, model: str) -> None:
        # Throughput, latencies, fit verdict, KV-limited concurrency and $/M of the sweep
        # equal infercost.predict() for the same configuration (PP and EP included).
        grid = _grid(model, gpus=("h100-sxm", "a100-80gb-sxm", "l40s", "mi300x"))
        sweep = evaluate(grid, 1000, 300, gpu_prices(grid.gpus, grid.layouts, gpu_hour_usd=2.0))
        rng = np.random.default_rng(2)
        fitting = np.argwhere(np.broadcast_to(sweep.fits, grid.shape))
        for row in fitting[rng.choice(len(fitting), 12, replace=False)]:
            c = candidate(sweep, tuple(int(v) for v in row))  # type: ignore[arg-type]
            p = predict(
                model,
                c.gpu,
                1000,
                300,
                num_gpus=c.num_gpus,
                tp=c.tp,
                pp=c.pp,
                ep=c.ep,
                weight_dtype=c.weight_dtype,
                kv_dtype=c.kv_dtype,
                concurrency=c.concurrency,
                gpu_hour_usd=2.0,
            )
            assert p.fits
            assert c.max_concurrency == p.max_concurrency
            for mine, theirs in (
                (c.output_tok_s, p.output_tok_s),
                (c.ttft_s, p.ttft_s),
                (c.tpot_s, p.tpot_s),
                (c.usd_per_m_output, p.usd_per_m_output),
                (c.usd_per_m_input, p.usd_per_m_input),
            ):
                assert mine == pytest.approx(theirs, rel=1e-9)
            # all GPU time charged to output: $2 x GPUs / (tok/s x 3600 / 1e6)
            assert p.output_tok_s is not None
            assert c.usd_per_m_output_incl_input == pytest.approx(
                2.0 * c.num_gpus / (p.output_tok_s * 3600 / 1e6), rel=1e-9
            )
        not_fitting = np.argwhere(
            ~np.broadcast_to(sweep.fits, grid.shape) & grid.supported[:, :, None, None, None]
        )
        for row in not_fitting[rng.choice(len(not_fitting), 6, replace=False)]:
            c = candidate(sweep, tuple(int(v) for v in row))  # type: ignore[arg-type]
            p = predict(
                model,
                c.gpu,
                1000,
                300,
                num_gpus=c.num_gpus,
                tp=c.tp,
                pp=c.pp,
                ep=c.ep,
                weight_dtype=c.weight_dtype,
                kv_dtype=c.kv_dtype,
                concurrency=c.concurrency,
                gpu_hour_usd=2.0,
            )
            # the sweep drops a concurrency above the KV capacity (a smaller one is on the
            # grid); predict answers it at the KV-limited batch and queues the rest (issue 12)
            queued = p.fits and p.max_concurrency < c.concurrency
            assert not p.fits or (queued and any("queues the rest" in n for n in p.notes))

    def test_weights_per_gpu_of_70b_at_tp2(self) -> None:
        # Llama-3.1-70B has 70,553,706,496 parameters (perf.params); bf16 = 2 bytes each:
        # 141.107 GB, half of it per GPU at TP2 = 70.554 GB.
        m = get_model("llama-3.1-70b")
        grid = _grid("llama-3.1-70b", gpus=("h100-sxm",))
        w = [f.id for f in grid.weight_fmts].index("bf16")
        p = next(
            i
            for i in range(len(grid.layouts))
            if grid.layouts.tp[i] == 2 and grid.layouts.pp[i] == 1
        )
        assert m.id == "meta-llama/Llama-3.1-70B"
        assert grid.weights_bytes_per_gpu[0, w, p, 0, 0] == pytest.approx(70.5537e9, rel=1e-5)

    def test_gpu_without_flops_is_unsupported(self) -> None:
        # The catalog's A10G row publishes no dense tensor FLOP/s: no dtype can run on it.
        grid = _grid("llama-3.1-8b", gpus=("a10g", "l4"))
        assert not grid.supported[0].any()
        assert grid.supported[1].any()

    def test_context_beyond_the_model_is_refused(self) -> None:
        grid = _grid("llama-3.1-8b", gpus=("h100-sxm",))
        with pytest.raises(InputError, match="max_position_embeddings"):
            evaluate(grid, 130_000, 2_000, gpu_prices(grid.gpus, grid.layouts, gpu_hour_usd=1.0))


class TestGpuPrices:
    def test_each_gpu_is_priced_at_its_family_offer_with_bundling(self) -> None:
        # The one rule (catalog.pricing.family_offer, predict's default offer): the lower
        # median $/GPU-hour among the GPU's current on-demand offers. On-demand per GPU:
        # eight $16/8 = $2, one $3, five $5 -> sorted [2, 3, 5], lower median index
        # (3 - 1) // 2 = 1 -> "one" at $3 for every replica size. The $1 reserved offer is
        # another pricing kind and the $0.50 on-demand row is dated 200 days before the
        # newest on-demand offer (> 180: not today's market), so neither prices it.
        acc = get_accelerator("h100-sxm")
        lay = layouts(get_model("llama-3.1-70b"), 8)
        offers = [
            make_offer("eight", "h100-sxm", "16", 8),
            make_offer("one", "h100-sxm", "3"),
            make_offer("five", "h100-sxm", "5"),
            make_offer("reserved", "h100-sxm", "1").model_copy(
                update={"pricing_kind": "reserved-1y"}
            ),
            make_offer("old", "h100-sxm", "0.5").model_copy(
                update={"as_of": date.fromordinal(date.today().toordinal() - 200)}
            ),
        ]
        prices = gpu_prices([acc], lay, offers=offers)
        assert set(prices.offer_ids[0]) == {"one"}
        assert np.all(prices.usd_per_gpu_hour[0] == 3.0)
        assert prices.pricing_kind == "on-demand"

    def test_bundling_bills_whole_instances_of_the_family_offer(self) -> None:
        # Offers eight ($16 per 8-GPU instance, $2/GPU) and one ($3): lower median of
        # [2, 3] is index 0 -> "eight". k GPUs used pay ceil(k/8) x 16 ÷ k: 1 -> $16,
        # 2 -> $8, 8 -> $2 (as predict bills a k-GPU replica on its default offer).
        acc = get_accelerator("h100-sxm")
        lay = layouts(get_model("llama-3.1-70b"), 8)
        offers = [make_offer("eight", "h100-sxm", "16", 8), make_offer("one", "h100-sxm", "3")]
        prices = gpu_prices([acc], lay, offers=offers)
        by_n = {
            int(n): (float(prices.usd_per_gpu_hour[0, i]), str(prices.offer_ids[0, i]))
            for i, n in enumerate(lay.num_gpus)
        }
        assert by_n[1] == (16.0, "eight")
        assert by_n[2] == (8.0, "eight")
        assert by_n[8] == (2.0, "eight")

    def test_spot_prices_every_gpu_at_its_spot_offer_only_when_allowed(self) -> None:
        acc = get_accelerator("h100-sxm")
        lay = layouts(get_model("llama-3.1-8b"), 1)
        spot = make_offer("s", "h100-sxm", "1.5").model_copy(update={"pricing_kind": "spot"})
        offers = [make_offer("od", "h100-sxm", "3"), spot]
        assert set(gpu_prices([acc], lay, offers=offers, allow_spot=True).offer_ids[0]) == {"s"}
        with pytest.raises(InputError, match="spot"):
            gpu_prices([acc], lay, offers=offers, pricing_kind="spot")

    def test_no_offer_is_nan_and_a_typed_rate_prices_everything(self) -> None:
        accs = [get_accelerator("b300")]
        lay = layouts(get_model("llama-3.1-8b"), 2)
        assert np.all(np.isnan(gpu_prices(accs, lay, offers=[]).usd_per_gpu_hour))
        typed = gpu_prices(accs, lay, gpu_hour_usd=4.5)
        assert np.all(typed.usd_per_gpu_hour == 4.5)
        with pytest.raises(InputError, match="positive"):
            gpu_prices(accs, lay, gpu_hour_usd=0.0)


def test_on_demand_kv_engines_run_more_sequences_than_reserving_ones() -> None:
    # Llama-3.1-70B fp8 on 2 H100, KV bf16, isl 922 / osl 7,373: the KV cache holds 28
    # full-length sequences (8,295 tokens) and 50 of the mean context 922 + 7,373 / 2
    # (tests/models/test_layouts.py derives both). 32 clients run on vLLM (KV allocated as
    # tokens come) as predict runs them, not on TensorRT-LLM (whole length reserved), whose
    # sweep keeps the levels up to its own full-length capacity.
    from infercost.catalog import get_quant_format

    m = get_model("llama-3.1-70b")
    h100 = (get_accelerator("H100"),)
    found = {}
    for engine in ("vllm", "trtllm"):
        grid = build_grid(
            m, h100, get_engine(engine), weight_fmts=[get_quant_format("fp8")],
            kv_dtypes=["bf16"], layout=layouts(m, 2), concurrency=[32],
        )  # fmt: skip
        sweep = evaluate(grid, 922, 7373, gpu_prices(grid.gpus, grid.layouts, gpu_hour_usd=1.0))
        tp2 = next(i for i in range(len(grid.layouts)) if int(grid.layouts.tp[i]) == 2)
        fits = np.broadcast_to(sweep.fits, grid.shape)[0, 0, tp2, 0, 0]
        full = int(np.broadcast_to(sweep.max_concurrency, grid.shape)[0, 0, tp2, 0, 0])
        found[engine] = (bool(fits), full)
        p = predict("llama-3.1-70b", "H100", 922, 7373, tp=2, weight_dtype="fp8",
                    kv_dtype="bf16", concurrency=32, engine=engine, gpu_hour_usd=1.0)  # fmt: skip
        queued = any("queues the rest" in n for n in p.notes)
        assert queued == (not fits), engine
    assert found["vllm"] == (True, 28)
    assert found["trtllm"][0] is (found["trtllm"][1] >= 32)


def test_search_notes_a_batch_above_max_concurrency() -> None:
    # Llama-3.1-8B on H100, 8,000/1,000: vLLM runs a batch of sequences of the mean context
    # 8,000 + 1,000 / 2 = 8,500 tokens, more than the full-length max_concurrency; the search
    # says so when a shown configuration does
    from infercost.plan.search import search

    r = search("llama-3.1-8b", 8000, 1000, max_tpot_s=0.05, gpus=["H100"])
    assert r.winner is not None
    shown = [c for c in (r.winner, *r.runners_up) if c.concurrency > c.max_concurrency]
    noted = [n for n in r.notes if "run a batch above their max_concurrency" in n]
    assert shown and noted  # the winner: a batch of 116, 111 full-length sequences fit
    assert f"{len(shown)} shown configuration(s)" in noted[0] and "8,500 tokens" in noted[0]
