"""The planners try only the weight formats the engine runs (QA leftover of issue 15).

``predict --engine llamacpp`` refuses formats GGUF has no type for
(``predict.engine_weight_format_error``); ``plan search``, ``plan pareto`` and
``compare-gpus`` use the same rule for their default candidates, say which formats they left
out, and refuse a named format the engine cannot run as ``predict`` does.

Hand derivation of the default candidates (catalog ``quant_formats`` in order, with bits per
weight, compute dtype, fallback): bf16 (16, bf16, bf16), fp16 (16, bf16, bf16), fp8 (8.002,
fp8), int8 (8.0, int8), int4 (4.156, bf16), int4-g32 (4.5, bf16), nvfp4 (4.5, fp4), mxfp4
(4.25, fp4), q8_0 (8.5, bf16), q4_0 (4.5, bf16), q4_k_m (4.85, bf16), fp32 (32, bf16). The
checkpoint's format comes first, then each format whose (bits, compute, fallback) is new.

- vLLM runs them all: fp16 is dropped beside bf16 and q4_0 beside int4-g32 (both 4.5 bits on
  bf16): bf16, fp8, int8, int4, int4-g32, nvfp4, mxfp4, q8_0, q4_k_m, fp32.
- llama.cpp runs fp32, fp16, bf16, q8_0, q4_0, q4_k_m, mxfp4 only: fp8, int8, int4, int4-g32
  and nvfp4 are left out before de-duplicating, so q4_0 is no longer shadowed by int4-g32:
  bf16, mxfp4, q8_0, q4_0, q4_k_m, fp32 (fp16 still the same as bf16).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from infercost.catalog import get_accelerator, get_model
from infercost.catalog.pricing import Offer
from infercost.cli import main
from infercost.errors import InputError
from infercost.plan.compare import compare_gpus, native_weight_dtypes, skipped_dtypes
from infercost.plan.pareto import pareto
from infercost.plan.search import run_sweep, search
from infercost.plan.sweep import skipped_weight_formats, weight_formats
from infercost.predict import LLAMACPP_WEIGHT_FORMATS

LLAMACPP_TRIED = ("bf16", "mxfp4", "q8_0", "q4_0", "q4_k_m", "fp32")
LLAMACPP_SKIPPED = ("fp8", "int8", "int4", "int4-g32", "nvfp4")
VLLM_TRIED = (
    "bf16",
    "fp8",
    "int8",
    "int4",
    "int4-g32",
    "nvfp4",
    "mxfp4",
    "q8_0",
    "q4_k_m",
    "fp32",
)
FP8_CHECKPOINT = "nvidia/Llama-3.1-70B-Instruct-FP8"
SWEEP = {"gpus": ["H100"], "max_gpus": 1, "concurrency_count": 4, "gpu_hour_usd": 2.0}


@pytest.fixture(autouse=True)
def _no_user_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INFERCOST_CATALOG_DIR", raising=False)


def _ids(fmts: tuple[object, ...]) -> tuple[str, ...]:
    return tuple(f.id for f in fmts)  # type: ignore[attr-defined]


class TestCandidateFormats:
    def test_llamacpp_tries_gguf_types_only(self) -> None:
        m = get_model("llama-3.1-8b")
        assert _ids(weight_formats(None, m, "llamacpp")) == LLAMACPP_TRIED
        assert skipped_weight_formats(m, "llamacpp") == LLAMACPP_SKIPPED
        assert set(LLAMACPP_TRIED) <= LLAMACPP_WEIGHT_FORMATS

    def test_other_engines_unchanged(self) -> None:
        m = get_model("llama-3.1-8b")
        for engine in ("vllm", "sglang", "trtllm"):
            assert _ids(weight_formats(None, m, engine)) == VLLM_TRIED
            assert skipped_weight_formats(m, engine) == ()
        assert _ids(weight_formats(None, m)) == VLLM_TRIED  # the default engine

    def test_an_fp8_checkpoint_on_llamacpp_starts_from_bf16(self) -> None:
        # the checkpoint's fp8 comes first and is left out; the catalog order follows
        m = get_model(FP8_CHECKPOINT)
        assert _ids(weight_formats(None, m, "llamacpp")) == LLAMACPP_TRIED
        assert skipped_weight_formats(m, "llamacpp") == LLAMACPP_SKIPPED

    def test_a_named_format_llamacpp_cannot_run_is_refused(self) -> None:
        m = get_model("llama-3.1-8b")
        with pytest.raises(InputError, match="so --weight-dtypes fp8 cannot be served"):
            weight_formats(["bf16", "fp8"], m, "llamacpp")
        assert _ids(weight_formats(["q8_0", "bf16"], m, "llamacpp")) == ("q8_0", "bf16")


class TestSearchAndPareto:
    def test_the_sweep_for_llamacpp_on_an_h100(self) -> None:
        sweep = run_sweep("llama-3.1-8b", 1000, 300, engine="llamacpp", **SWEEP)  # type: ignore[arg-type]
        assert _ids(sweep.grid.weight_fmts) == LLAMACPP_TRIED

    def test_search_names_the_formats_left_out(self) -> None:
        r = search("llama-3.1-8b", 1000, 300, engine="llamacpp", **SWEEP)
        assert r.winner is not None and r.winner.weight_dtype in LLAMACPP_TRIED
        assert all(c.weight_dtype in LLAMACPP_TRIED for c in r.runners_up)
        note = next(n for n in r.notes if "not tried" in n)
        assert note.startswith("weights fp8, int8, int4, int4-g32, nvfp4 not tried: --engine")
        assert note.endswith("tried bf16, mxfp4, q8_0, q4_0, q4_k_m, fp32")
        assert note in r.to_dict()["notes"]

    def test_no_note_when_nothing_is_left_out(self) -> None:
        for engine, dtypes in (("vllm", None), ("llamacpp", ["bf16"])):
            r = search("llama-3.1-8b", 1000, 300, engine=engine, weight_dtypes=dtypes, **SWEEP)
            assert not any("not tried" in n for n in r.notes), engine

    def test_pareto_names_the_formats_left_out(self) -> None:
        r = pareto("llama-3.1-8b", 1000, 300, engine="llamacpp", **SWEEP)
        front = (*r.tpot_frontier, *r.per_user_frontier)
        assert front and all(c.weight_dtype in LLAMACPP_TRIED for c in front)
        assert len(r.notes) == 1 and r.notes[0].startswith("weights fp8, int8, int4, int4-g32")
        assert r.to_dict()["notes"] == list(r.notes)
        assert pareto("llama-3.1-8b", 1000, 300, **SWEEP).notes == ()

    def test_plan_pareto_prints_the_note(self, capsys: pytest.CaptureFixture[str]) -> None:
        with pytest.raises(SystemExit) as exit_info:
            main(
                ["plan", "pareto", "--model", "llama-3.1-8b", "--isl", "1000", "--osl", "300",
                 "--gpu", "H100", "--max-gpus", "1", "--concurrency-levels", "4",
                 "--gpu-hour-usd", "2", "--engine", "llamacpp"]
            )  # fmt: skip
        assert exit_info.value.code in (0, None)
        out = " ".join(capsys.readouterr().out.split())
        assert "note: weights fp8, int8, int4, int4-g32, nvfp4 not tried" in out


def _offer(offer_id: str, gpu: str) -> Offer:
    return Offer.model_validate(
        {
            "id": offer_id, "provider": "Test", "instance": offer_id, "gpu": gpu,
            "gpus_per_instance": 1, "pricing_kind": "on-demand",
            "usd_per_hour": Decimal("2.00"), "as_of": date(2026, 11, 1), "source": "test",
        }
    )  # fmt: skip


class TestCompareGpus:
    def test_native_dtypes_for_llamacpp(self) -> None:
        # H100 lists fp8 FLOP/s, B200 fp8 and fp4: llama.cpp runs neither (fp4 is nvfp4)
        h100, b200 = get_accelerator("h100-sxm"), get_accelerator("b200")
        assert native_weight_dtypes(h100, "bf16", "llamacpp") == ["bf16"]
        assert skipped_dtypes(h100, "bf16", "llamacpp") == ["fp8"]
        assert native_weight_dtypes(b200, "bf16", "llamacpp") == ["bf16"]
        assert skipped_dtypes(b200, "bf16", "llamacpp") == ["fp8", "fp4"]
        assert native_weight_dtypes(b200, "bf16", "vllm") == ["bf16", "fp8", "fp4"]
        assert skipped_dtypes(b200, "bf16", "vllm") == []

    def test_compare_on_llamacpp_tries_bf16_and_says_so(self) -> None:
        offers = [_offer("h", "h100-sxm"), _offer("b", "b200")]
        c = compare_gpus(
            "llama-3.1-8b", 1000, 300, offers=offers, num_gpus_options=(1,), engine="llamacpp"
        )
        assert [r.config.weight_dtype for r in c.results if r.config] == ["bf16", "bf16"]
        assert c.skipped_weight_dtypes == ("fp8", "fp4")
        note = c.to_dict()["engine_note"]
        assert note is not None and note.startswith(
            "weights fp8, fp4 not tried: --engine llamacpp"
        )
        vllm = compare_gpus("llama-3.1-8b", 1000, 300, offers=offers, num_gpus_options=(1,))
        assert vllm.to_dict()["engine_note"] is None

    def test_compare_refuses_what_llamacpp_cannot_run(self) -> None:
        offers = [_offer("h", "h100-sxm")]
        with pytest.raises(InputError, match="so --weight-dtype fp8 cannot be served"):
            compare_gpus(
                "llama-3.1-8b", 1000, 300, offers=offers, weight_dtypes=["fp8"],
                engine="llamacpp",
            )  # fmt: skip
        with pytest.raises(InputError, match="the checkpoint's fp8 weights cannot be served"):
            compare_gpus(FP8_CHECKPOINT, 1000, 300, offers=offers, engine="llamacpp")
