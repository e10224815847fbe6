"""Rack-scale and multi-node layouts in ``predict`` (issue 19): --num-nodes, the scale-out
terms in the step, the notes naming the link, and single-node results unchanged.

Hand-derived figures use the catalog's H100 SXM: 8 GPUs per NVLink domain, ConnectX-7
400 Gb/s per GPU (50e9 B/s) x SCALEOUT_EFFICIENCY 0.86 = 43e9 B/s, 4 us per network hop.
"""

from __future__ import annotations

import dataclasses
import json

import pytest
from typer.testing import CliRunner

from infercost.cli import app
from infercost.errors import InputError
from infercost.perf.step import decode_step, step_model, with_expert_parallel
from infercost.predict import _rank_step_model, gpus_per_node, predict, resolve

NIC = 43e9
HOP = 4e-6


def test_scale_up_domains_from_the_catalog() -> None:
    from infercost.catalog import get_accelerator

    assert [gpus_per_node(get_accelerator(g)) for g in ("H100", "H200", "B200", "B300")] == [8] * 4
    assert gpus_per_node(get_accelerator("GB200")) == 72
    assert gpus_per_node(get_accelerator("GB300")) == 72


class TestNumNodes:
    def test_default_is_the_fewest_nodes(self) -> None:
        assert resolve("llama-3.1-70b", "H100", tp=16).num_nodes == 2
        assert resolve("llama-3.1-70b", "H100", tp=8).num_nodes == 1
        assert resolve("deepseek-r1", "GB200", tp=1, dp=72, ep=72).num_nodes == 1

    def test_too_few_or_uneven_nodes_are_refused(self) -> None:
        with pytest.raises(InputError, match="--num-nodes 1 does not fit 16 GPUs"):
            resolve("llama-3.1-70b", "H100", tp=16, num_nodes=1)
        with pytest.raises(InputError, match="divides 16"):
            resolve("llama-3.1-70b", "H100", tp=16, num_nodes=3)
        with pytest.raises(InputError, match=r"whole number in \[1, 4,096\] nodes"):
            resolve("llama-3.1-70b", "H100", tp=8, num_nodes=0)

    def test_spreading_a_tp8_group_over_two_nodes(self) -> None:
        """--num-nodes 2 for 8 GPUs: 4 per node, the TP 8 all-reduces cross the NIC."""
        one = predict("llama-3.1-8b", "H100", 500, 100, tp=8, concurrency=16)
        two = predict("llama-3.1-8b", "H100", 500, 100, tp=8, concurrency=16, num_nodes=2)
        assert any("--tp 8 spans 2 nodes of 4 h100-sxm" in n for n in two.notes)
        assert not any("spans" in n for n in one.notes)
        assert two.tpot_s is not None and one.tpot_s is not None
        assert two.tpot_s > one.tpot_s


def test_tp16_over_two_nodes_adds_the_hand_derived_scale_out_time() -> None:
    """Llama-3.1-70B TP 16 on two H100 nodes, a decode step of 32 tokens.

    Against the same 16 GPUs on one (hypothetical) NVLink domain, each of the 160 all-reduces
    (2 per layer x 80) changes by:
      scale-up stage over 8 GPUs instead of 16: 2 (7/8 - 15/16) x M / (450e9 e), negative;
      scale-out stage: 2 hops x 4 us + 2 (1/2) x (M / 8) / 43e9,
    with M = 32 x 8192 x 2 B = 524,288 B: 8e-6 + 1.52409e-6 = 9.52409e-6 s.
    """
    r = resolve("llama-3.1-70b", "H100", tp=16, engine="vllm")
    flat = dataclasses.replace(r, num_nodes=1)  # 16 GPUs on one domain: no scale-out
    two, one = _rank_step_model(r), _rank_step_model(flat)
    assert one.scaleout_const_s == 0.0 and one.tp_local == 0.0
    msg = 32 * 8192 * 2.0
    link = 450e9 * r.engine.comm_efficiency
    per_allreduce = 2 * (7 / 8 - 15 / 16) * msg / link + 2 * HOP + msg / 8 / NIC
    delta = float(decode_step(two, 32.0, 800.0).total_s) - float(
        decode_step(one, 32.0, 800.0).total_s
    )
    assert delta == pytest.approx(160 * per_allreduce, rel=1e-9)
    assert 2 * HOP + msg / 8 / NIC == pytest.approx(9.52409e-6, rel=1e-5)
    p = predict("llama-3.1-70b", "H100", 1000, 200, tp=16, concurrency=16)
    note = next(n for n in p.notes if "--tp 16 spans 2 nodes of 8" in n)
    assert "NVLink 4 among the 8 GPUs" in note and "400 Gb/s per GPU" in note
    assert "from the catalog" in note and "not model" not in note


def test_pp_across_nodes_is_noted_and_timed() -> None:
    """TP 8 x PP 2 on two H100 nodes: the hand-off crosses; a micro-batch of 64 tokens
    spends 4 us + 64 x 16,384 B / 43e9 = 2.83855e-5 s on it, in place of the NVLink one."""
    r = resolve("llama-3.1-70b", "H100", tp=8, pp=2)
    sm = _rank_step_model(r)
    assert sm.pp_cross == 1.0
    assert sm.scaleout_const_s + 64 * sm.scaleout_per_token_s == pytest.approx(
        2.83855e-5, rel=1e-5
    )
    assert any("1 of the 1 pipeline hand-offs cross nodes" in n for n in r.notes)


def test_unknown_nic_is_an_assumption_said_so() -> None:
    r = resolve("llama-3.1-70b", "MI300X", tp=8, pp=2)
    assert any("assumed: the catalog has no NIC figure" in n for n in r.notes)


class TestSingleNodeUnchanged:
    @pytest.mark.parametrize(
        "kwargs",
        [
            {"model": "llama-3.1-70b", "gpu": "H100", "tp": 4},
            {"model": "llama-3.1-70b", "gpu": "H100", "tp": 2, "pp": 2},
            {"model": "qwen3-30b-a3b", "gpu": "H100", "tp": 1, "dp": 4, "ep": 4},
            {"model": "deepseek-v3", "gpu": "H200", "tp": 8, "ep": 8},
            {"model": "deepseek-v3", "gpu": "H200", "tp": 1, "dp": 8, "ep": 8},
        ],
    )
    def test_step_model_is_the_single_node_one(self, kwargs: dict[str, object]) -> None:
        r = resolve(**kwargs)  # type: ignore[arg-type]
        assert r.num_nodes == 1
        sm = step_model(r.model, r.acc, r.weight_fmt, r.kv_bytes_per_elem, r.engine, r.tp, r.pp,
                        r.ep)  # fmt: skip
        sm = with_expert_parallel(r.model, sm, r.dp, r.tp, r.ep, r.pp)
        assert _rank_step_model(r) == sm

    def test_num_nodes_1_is_the_default(self) -> None:
        a = predict("llama-3.1-8b", "H100", 1000, 300, tp=2, concurrency=8, gpu_hour_usd=2.0)
        b = predict(
            "llama-3.1-8b", "H100", 1000, 300, tp=2, concurrency=8, gpu_hour_usd=2.0, num_nodes=1
        )
        assert a == b


class TestRackScale:
    def test_deepseek_r1_wide_ep_on_one_nvl72_rack(self) -> None:
        """DEP 72 on a GB200 NVL72: one NVLink domain (no scale-out), but the wide-EP load
        imbalance is modelled and noted."""
        p = predict("deepseek-r1", "GB200", 1000, 1000, tp=1, dp=72, ep=72, num_gpus=72,
                    concurrency=4608, engine="sglang", gpu_hour_usd=6.0)  # fmt: skip
        assert p.fits and p.num_gpus == 72
        assert any(n.startswith("wide EP (72 ranks)") for n in p.notes)
        assert not any("scale-out" in n for n in p.notes)
        r = resolve("deepseek-r1", "GB200", tp=1, dp=72, ep=72)
        assert _rank_step_model(r).scaleout_const_s == 0.0

    def test_dep32_over_four_h200_nodes_crosses_the_nic(self) -> None:
        p = predict("deepseek-r1", "H200", 1000, 1000, tp=1, dp=32, ep=32,
                    concurrency=2048, engine="sglang")  # fmt: skip
        note = next(n for n in p.notes if n.startswith("expert all-to-all over 32 ranks"))
        assert "7 peers of a rank over NVLink 4, 24 over the scale-out network" in note


def test_cli_and_api_take_num_nodes() -> None:
    runner = CliRunner()
    args = ["predict", "--model", "llama-3.1-8b", "--gpu", "H100", "--isl", "500", "--osl",
            "100", "--tp", "8", "--concurrency", "8", "--num-nodes", "2", "--json"]  # fmt: skip
    out = runner.invoke(app, args)
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["tp"] == 8
    refused = runner.invoke(app, [*args[:-1], "--disagg"])
    said = refused.output + str(refused.exception)
    assert refused.exit_code != 0 and "--num-nodes applies to aggregated" in said

    from infercost.api.predict import PredictRequest, run_predict

    req = PredictRequest(model="llama-3.1-8b", gpu="H100", isl=500, osl=100, tp=8,
                         concurrency=8, num_nodes=2)  # fmt: skip
    assert run_predict(req).tpot_s == pytest.approx(
        predict("llama-3.1-8b", "H100", 500, 100, tp=8, concurrency=8, num_nodes=2).tpot_s
    )
