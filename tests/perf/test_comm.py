"""Communication across scale-up domains (perf.comm), with hand-derived values.

Catalog figures used (accelerators.csv): H100 SXM and H200 SXM: 8 GPUs per NVLink domain,
450 GB/s NVLink per direction, one ConnectX-7 400 Gb/s NIC per GPU = 50e9 B/s, 4 us per
network hop; SCALEOUT_EFFICIENCY = 0.86, so the NIC moves 43e9 B/s.
"""

from __future__ import annotations

import dataclasses
import math

import pytest

from infercost.catalog import get_accelerator, get_engine, get_model, get_quant_format
from infercost.perf.comm import (
    SCALEOUT_EFFICIENCY,
    allreduce_hops,
    alltoall_bytes_per_token,
    expert_imbalance,
    hierarchical_allreduce_s,
    placement,
    scaleout_allreduce_s,
    with_scale_out,
)
from infercost.perf.step import comm_s, mixed_step, step_model, with_expert_parallel

NIC = 50e9 * 0.86  # ConnectX-7 400 Gb/s x SCALEOUT_EFFICIENCY, B/s
HOP = 4e-6  # s per network hop (NCCL tuning.cc hwLat[NET] Ring LL128)


def test_efficiency_is_the_documented_prior() -> None:
    assert SCALEOUT_EFFICIENCY == 0.86  # DeepEP V1 internode EP16: 43 of ~50 GB/s


class TestPlacement:
    def test_tp16_on_8_gpu_nodes_spans_two(self) -> None:
        p = placement(tp=16, pp=1, dp=1, ep=1, domain_gpus=8)
        assert (p.nodes, p.tp_nodes, p.tp_local, p.pp_cross) == (2, 2, 8.0, 0)
        assert p.multi_node

    def test_tp8_pp2_crosses_once(self) -> None:
        p = placement(tp=8, pp=2, dp=1, ep=1, domain_gpus=8)
        assert (p.tp_nodes, p.pp_cross) == (1, 1)

    def test_tp4_pp4_on_8_gpu_nodes(self) -> None:
        # stages on GPUs 0-3, 4-7 | 8-11, 12-15: the hand-off 1 -> 2 crosses, 0 -> 1 and
        # 2 -> 3 stay on a node
        assert placement(tp=4, pp=4, dp=1, ep=1, domain_gpus=8).pp_cross == 1

    def test_one_node_is_not_multi_node(self) -> None:
        p = placement(tp=8, pp=1, dp=1, ep=8, domain_gpus=8)
        assert not p.multi_node and p.nodes == 1

    def test_nvl72_holds_wide_ep_in_one_domain(self) -> None:
        p = placement(tp=1, pp=1, dp=72, ep=72, domain_gpus=72)
        assert (p.nodes, p.ep_ranks, p.ep_local) == (1, 72, 72)
        assert not p.multi_node

    def test_dep32_on_four_h200_nodes(self) -> None:
        p = placement(tp=1, pp=1, dp=32, ep=32, domain_gpus=8)
        assert (p.nodes, p.ep_ranks, p.ep_local) == (4, 32, 8)
        assert p.multi_node


def test_allreduce_hops() -> None:
    # 2 min(N - 1, ceil(log2 N)): ring for 2-3 nodes, tree beyond
    assert [allreduce_hops(n) for n in (1, 2, 3, 4, 9, 18)] == [0, 2, 4, 4, 8, 10]


def test_multi_node_tp_allreduce_over_the_scale_out_link() -> None:
    """Llama-3.1-70B (hidden 8192) TP 16 = 2 H100 nodes of 8, a decode batch of 32 tokens.

    Message M = 32 tokens x 8192 x 2 B = 524,288 B per GPU.
    Scale-out stage: each GPU all-reduces its 1/8 shard (65,536 B) with its peer in the other
    node: hops h(2) = 2 -> 2 x 4 us = 8 us, bandwidth 2 (2-1)/2 x 65,536 / 43e9 = 1.5241e-6 s;
    total 9.5241e-6 s.
    Scale-up stage over the 8 local GPUs at 450e9 x e (engine comm_efficiency) with latency a:
    a + 2 x 7/8 x 524,288 / (450e9 e).
    """
    m = get_model("llama-3.1-70b")
    assert m.hidden_size == 8192
    msg = 32 * 8192 * 2.0
    out = scaleout_allreduce_s(msg, 8, 2, 50e9, HOP)
    assert out == pytest.approx(8e-6 + 65536 / 43e9, rel=1e-12)
    assert out == pytest.approx(9.5241e-6, rel=1e-4)
    link, lat = 450e9 * 0.5, 10e-6
    total = hierarchical_allreduce_s(msg, 8, 2, link, lat, 50e9, HOP)
    assert total == pytest.approx(lat + 2 * 7 / 8 * msg / link + out, rel=1e-12)

    # the same in the step model: 2 all-reduces per layer x 80 layers = 160 per step
    acc, eng = get_accelerator("H100"), get_engine("vllm")
    sm = step_model(m, acc, get_quant_format("bf16"), 2.0, eng, tp=16)
    place = placement(16, 1, 1, 1, 8)
    out_sm = with_scale_out(m, sm, place, acc)
    assert out_sm.tp_local == 8.0
    assert out_sm.scaleout_const_s == pytest.approx(160 * 2 * HOP, rel=1e-12)  # 1.28 ms
    per_tok = 160 * 2 * (1 / 2) * (8192 * 2) / (8 * NIC)  # 7.6205e-6 s per token
    assert out_sm.scaleout_per_token_s == pytest.approx(per_tok, rel=1e-12)
    link_e = 450e9 * eng.comm_efficiency
    # latency: log2(16) = 4 rounds over the whole TP group; bandwidth: the NVLink stage
    # over the 8 GPUs of a node
    intra = 160 * (4 * eng.allreduce_latency_s + 2 * 7 / 8 * msg / link_e)
    assert float(comm_s(out_sm, 32.0)) == pytest.approx(intra + 160 * out, rel=1e-9)
    # scalar and array paths agree
    st = mixed_step(out_sm, 32.0, 1000.0)
    assert float(st.comm_s) == pytest.approx(float(comm_s(out_sm, 32.0)), rel=1e-12)


def test_pp_activation_transfer_across_nodes() -> None:
    """Llama-3.1-70B TP 8 x PP 2 on two H100 nodes: the one hand-off crosses nodes.

    A micro-batch of 64 tokens sends 64 x 8192 x 2 B = 1,048,576 B over the NIC:
    4 us + 1,048,576 / 43e9 = 4e-6 + 2.43855e-5 = 2.83855e-5 s, in place of the NVLink
    hand-off a + M / (450e9 e), which leaves the step.
    """
    m, acc, eng = get_model("llama-3.1-70b"), get_accelerator("H100"), get_engine("vllm")
    sm = step_model(m, acc, get_quant_format("bf16"), 2.0, eng, tp=8, pp=2)
    out = with_scale_out(m, sm, placement(8, 2, 1, 1, 8), acc)
    assert out.pp_cross == 1.0
    assert out.scaleout_const_s == pytest.approx(HOP, rel=1e-12)
    assert out.scaleout_per_token_s == pytest.approx(16384 / NIC, rel=1e-12)
    handoff = out.scaleout_const_s + 64 * out.scaleout_per_token_s
    assert handoff == pytest.approx(2.83855e-5, rel=1e-5)
    nvlink_handoff = eng.allreduce_latency_s + 64 * 16384 / (450e9 * eng.comm_efficiency)
    delta = float(comm_s(out, 64.0)) - float(comm_s(sm, 64.0))
    assert delta == pytest.approx(handoff - nvlink_handoff, rel=1e-9)


def test_wide_ep_alltoall_across_nodes() -> None:
    """DeepSeek-R1 (hidden 7168, k = 8, 58 MoE layers) with attention DP 32 + EP 32 on four
    H200 nodes of 8.

    Per token per exchange: 8 x 7168 x 2 B = 114,688 B, spread over the 32 ranks: 1/32 stays,
    7/32 = 25,088 B to the 7 peers of its node over NVLink, 24/32 = 86,016 B over the NIC.
    NIC time per token: 86,016 / 43e9 = 2.000372e-6 s; NVLink 25,088 / (450e9 e); the exchange
    takes the slower, plus 4 us. A decode step of 64 tokens per rank runs 2 x 58 = 116
    exchanges: the NIC share alone is 116 x (4e-6 + 64 x 2.000372e-6) = 0.0153148 s.
    """
    m, acc, eng = get_model("deepseek-r1"), get_accelerator("H200"), get_engine("sglang")
    assert (m.hidden_size, m.experts_per_token, m.num_moe_layers) == (7168, 8, 58)
    intra_b, cross_b = alltoall_bytes_per_token(m, 32, 8)
    assert (intra_b, cross_b) == (25088.0, 86016.0)
    sm = step_model(m, acc, get_quant_format("fp8"), 1.0, eng, tp=1, ep=32)
    sm = with_expert_parallel(m, sm, dp=32, tp=1, ep=32)
    assert sm.alltoalls_per_step == 116.0
    out = with_scale_out(m, sm, placement(1, 1, 32, 32, 8), acc)
    # H200's NVLink 450 GB/s x its all-reduce share over H100's (achievable.csv: NCCL bus
    # bandwidth 479.98 against 478.87 GB/s on the same 450 GB/s link)
    link = 450e9 * (479.98 / 478.87) * eng.comm_efficiency
    assert out.alltoall_bytes_per_token == 25088.0
    assert out.scaleout_const_s == pytest.approx(116 * HOP, rel=1e-12)
    extra = 116 * max(0.0, 86016 / NIC - 25088 / link)
    assert out.scaleout_per_token_s == pytest.approx(extra, rel=1e-12)
    a2a = float(comm_s(out, 64.0))  # tp = pp = 1: only the all-to-all
    nvlink_part = 116 * (eng.allreduce_latency_s + 64 * 25088 / link)
    assert a2a == pytest.approx(nvlink_part + 116 * HOP + 64 * extra, rel=1e-9)
    # when the NIC is the bottleneck (it is: 2.0e-6 s vs ~1e-7 s a token), the exchange is
    # the NIC's: latency a + 4 us + bytes / 43e9
    assert 25088 / link < 86016 / NIC
    nic_only = 116 * (eng.allreduce_latency_s + HOP + 64 * 86016 / NIC)
    assert a2a == pytest.approx(nic_only, rel=1e-9)
    nic_share = 116 * (HOP + 64 * 86016 / NIC)
    assert nic_share == pytest.approx(0.0153148, rel=1e-5)
    # wide EP: the busiest rank's expert load (ln 32)
    assert out.expert_log_ranks == pytest.approx(math.log(32))


def test_expert_imbalance_uniform_routing() -> None:
    """Raab & Steger: the fullest of R bins with mean mu holds mu + sqrt(2 mu ln R).
    72 ranks, 512 pairs each on average: 1 + sqrt(2 ln 72 / 512) = 1 + sqrt(8.5533 / 512)
    = 1.12925."""
    assert expert_imbalance(512, 72) == pytest.approx(1.0 + math.sqrt(2 * math.log(72) / 512))
    assert expert_imbalance(512, 72) == pytest.approx(1.12925, rel=1e-5)
    assert expert_imbalance(512, 1) == 1.0
    assert expert_imbalance(0.0, 72) == 1.0


def test_imbalance_raises_the_busiest_ranks_expert_pairs() -> None:
    """In the step: pairs = mean + sqrt(2 ln R x mean). DeepSeek-R1 DEP 72 on one GB200
    NVL72 rack, 64 decode tokens per rank: 64 x 72 tokens x 8 / 72 = 512 pairs per rank on
    average, 512 x 1.12925 = 578.2 on the busiest; its expert FLOP scale by that."""
    m, acc, eng = get_model("deepseek-r1"), get_accelerator("GB200"), get_engine("sglang")
    sm = step_model(m, acc, get_quant_format("fp8"), 1.0, eng, tp=1, ep=72)
    sm = with_expert_parallel(m, sm, dp=72, tp=1, ep=72)
    wide = with_scale_out(m, sm, placement(1, 1, 72, 72, 72), acc)
    assert wide.expert_log_ranks == pytest.approx(math.log(72))
    assert wide.scaleout_const_s == 0.0
    assert wide.alltoall_bytes_per_token == sm.alltoall_bytes_per_token
    # FLOP of the step: only the expert part changes, by (imbalance - 1) x pairs x FLOP/pair
    base = mixed_step(sm, 64.0, 1000.0)
    busy = mixed_step(wide, 64.0, 1000.0)
    pairs = 64 * 72 * 8 / 72
    assert pairs == 512.0
    extra_flop = (expert_imbalance(pairs, 72) - 1) * pairs * float(sm.expert_flop_per_pair)
    assert float(busy.flop) - float(base.flop) == pytest.approx(extra_flop, rel=1e-9)


def test_single_domain_layouts_are_left_alone() -> None:
    m, acc, eng = get_model("deepseek-r1"), get_accelerator("H200"), get_engine("sglang")
    sm = step_model(m, acc, get_quant_format("fp8"), 1.0, eng, tp=8, ep=8)
    assert with_scale_out(m, sm, placement(8, 1, 1, 8, 8), acc) is sm
    dep = with_expert_parallel(m, sm, dp=8, tp=1, ep=8)
    assert with_scale_out(m, dep, placement(1, 1, 8, 8, 8), acc) is dep


def test_unknown_nic_falls_back_to_the_assumption() -> None:
    from infercost.perf.comm import DEFAULT_NIC_BYTES_S, nic_figures

    bw, lat, known = nic_figures(get_accelerator("MI300X"))
    assert (bw, lat, known) == (DEFAULT_NIC_BYTES_S, 4e-6, False)
    bw, lat, known = nic_figures(get_accelerator("GB300"))
    assert (bw, lat, known) == (100e9, 4e-6, True)  # ConnectX-8 800 Gb/s


def test_fields_default_to_no_change() -> None:
    m, acc, eng = get_model("llama-3.1-8b"), get_accelerator("H100"), get_engine("vllm")
    sm = step_model(m, acc, get_quant_format("bf16"), 2.0, eng, tp=2)
    zeroed = dataclasses.replace(sm, tp_local=0.0, pp_cross=0.0, scaleout_const_s=0.0)
    assert float(mixed_step(zeroed, 8.0, 500.0).total_s) == float(
        mixed_step(sm, 8.0, 500.0).total_s
    )
