"""Communication across scale-up domains: rack-scale NVLink and multi-node layouts.

A *scale-up domain* is the set of GPUs on one NVLink (or xGMI, NeuronLink) fabric: an
HGX/DGX board of 8, or a GB200/GB300 NVL72 rack of 72 GPUs on one NVLink switch fabric
(``Accelerator.scale_up_domain``). Beyond it, GPUs talk over the *scale-out* network: one NIC
per GPU (``Accelerator.nic_bytes_s``, ConnectX-7 400 Gb/s on HGX H100/H200/B200 and GB200,
ConnectX-8 800 Gb/s on B300/GB300) through a rail-optimised InfiniBand or RoCE fabric, each hop
``Accelerator.nic_latency_s``.

Ranks are placed as the engines and Megatron do: GPU index = d x (TP x PP) + s x TP + t for
data-parallel rank d, pipeline stage s and TP rank t (TP innermost), and domain = index //
(GPUs per domain). From that placement (:func:`placement`):

- **TP all-reduce spanning N domains**, g = TP / N GPUs in each, runs hierarchically (NCCL's
  ring/tree over NVLink inside, the NIC between; Jeaugey, "Massively Scale Your Deep
  Learning Training with NCCL 2.4", NVIDIA blog 2019): reduce-scatter over the g local GPUs,
  all-reduce of the 1/g shard across the N domains over each GPU's own NIC, all-gather back::

      t = [a + 2 (g-1)/g x M / B_link]  +  [h(N) x a_nic + 2 (N-1)/N x (M / g) / B_nic]

  with M the message (tokens x hidden x 2 bytes), h(N) = 2 min(N - 1, ceil(log2 N)) network
  hops (a ring takes 2 (N-1) steps, NCCL's double binary tree 2 log2 N; NCCL picks the tree
  for the small messages of decode).
- **PP hand-off across domains**: a_nic + tokens x hidden x 2 bytes / B_nic per crossing.
- **EP all-to-all** (dispatch + combine per MoE layer, DeepSeek-V3 section 3.2.2, DeepEP):
  each token sends k x hidden x 2 bytes per exchange; the share 1/R stays on its GPU,
  (L - 1)/R goes over NVLink to the L - 1 other ranks of its domain and (R - L)/R over the NIC.
  The two links work at once (DeepEP's normal kernels forward NVLink and RDMA traffic
  concurrently), so an exchange takes the slower of the two, plus a_nic.
- **Expert load imbalance** (wide EP, R >= :data:`WIDE_EP_RANKS`): the slowest rank sets
  the step. With uniform routing the (token, expert) pairs fall on the R ranks like balls
  into bins; the fullest of R bins holding mu on average takes mu + sqrt(2 mu ln R) (Raab &
  Steger, "Balls into Bins - A Simple and Tight Analysis", RANDOM 1998, theorem 1, for
  mu >> ln R), so the imbalance factor is 1 + sqrt(2 ln R / mu) (:func:`expert_imbalance`).
  Real routers are less uniform (DeepSeek's EPLB replicates hot experts to get back towards
  this floor): it is a lower bound. Below 16 ranks it is left out: the calibrated engine
  efficiencies were fitted on runs of at most 8 GPUs and hold it already.

B_nic is the NIC line rate x :data:`SCALEOUT_EFFICIENCY`; B_link the scale-up link x the
engine's fitted ``comm_efficiency``; a the engine's all-reduce latency.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from infercost.catalog.schema import Accelerator, ModelArch
from infercost.perf.step import ACTIVATION_BYTES, StepModel, collective_bytes_s

#: Achieved share of the NIC line rate for collectives and all-to-all: DeepEP V1's internode
#: normal kernels reach 43 GB/s (EP16) to 58 GB/s (EP32) of a ConnectX-7 400 Gb/s NIC's
#: ~50 GB/s on H800 (deepseek-ai/DeepEP docs/legacy.md, "Normal kernels with NVLink and RDMA
#: forwarding"); the lowest, 43 / 50, is taken.
SCALEOUT_EFFICIENCY = 0.86

#: NIC assumed when the catalog has none for an accelerator: 400 Gb/s per GPU (ConnectX-7
#: class, the HGX H100/H200/B200 norm) and NCCL's network hop latency (``src/graph/tuning.cc``
#: hwLat[NET], Ring LL128: 4.0 us). A prediction that uses them says so.
DEFAULT_NIC_BYTES_S = 400e9 / 8.0
DEFAULT_NIC_LATENCY_S = 4e-6

#: Expert-parallel ranks from which the expert load imbalance is modelled (wide EP).
WIDE_EP_RANKS = 16


@dataclass(frozen=True, slots=True)
class Placement:
    """Where one deployment's ranks sit relative to its scale-up domains.

    Attributes:
        domain_gpus: GPUs used in each scale-up domain (node).
        nodes: domains the deployment spans.
        tp_nodes: domains one TP group spans (the most over groups); tp_local: its GPUs in
            each (TP / tp_nodes).
        pp_cross: pipeline hand-offs of one micro-batch's pass that cross domains (the most
            over ranks).
        ep_ranks: ranks of the expert all-to-all (0: none); ep_local: of them, the fewest on
            one rank's own domain (that rank included).
    """

    domain_gpus: int
    nodes: int
    tp_nodes: int
    tp_local: float
    pp_cross: int
    ep_ranks: int
    ep_local: int

    @property
    def multi_node(self) -> bool:
        """Some traffic crosses the scale-out network."""
        return self.tp_nodes > 1 or self.pp_cross > 0 or 0 < self.ep_local < self.ep_ranks


def placement(tp: int, pp: int, dp: int, ep: int, domain_gpus: int) -> Placement:
    """Place dp x pp x tp ranks on domains of ``domain_gpus`` GPUs (TP innermost, then PP,
    then DP: GPU = d x tp x pp + s x tp + t). ``ep`` > tp with ``dp`` > 1 spreads the experts
    over the dp x tp GPUs of each stage (attention DP + EP); otherwise no all-to-all."""
    n = dp * tp * pp
    node = max(1, min(domain_gpus, n))

    def gpu(d: int, s: int, t: int) -> int:
        return d * tp * pp + s * tp + t

    tp_nodes = max(
        len({gpu(d, s, t) // node for t in range(tp)}) for d in range(dp) for s in range(pp)
    )
    pp_cross = max(
        sum(
            1
            for s in range(pp - 1)
            if any(gpu(d, s, t) // node != gpu(d, s + 1, t) // node for t in range(tp))
        )
        for d in range(dp)
    )
    ep_ranks = dp * tp if (dp > 1 and ep > tp) else 0
    ep_local = 0
    if ep_ranks:
        ep_local = min(
            sum(1 for d2 in range(dp) for t2 in range(tp) if gpu(d2, s, t2) // node == g // node)
            for s in range(pp)
            for g in (gpu(d, s, t) for d in range(dp) for t in range(tp))
        )
    return Placement(node, -(-n // node), tp_nodes, tp / tp_nodes, pp_cross, ep_ranks, ep_local)


def allreduce_hops(nodes: int) -> int:
    """Network hops of an all-reduce across ``nodes``: 2 min(N - 1, ceil(log2 N)) (ring:
    2 (N - 1) steps; NCCL's double binary tree: 2 log2 N); 0 for one node."""
    if nodes <= 1:
        return 0
    return 2 * min(nodes - 1, math.ceil(math.log2(nodes)))


def scaleout_allreduce_s(
    msg_bytes: float, local: float, nodes: int, nic_bytes_s: float, nic_latency_s: float
) -> float:
    """Inter-node stage of a hierarchical all-reduce of ``msg_bytes`` per GPU whose group has
    ``local`` GPUs in each of ``nodes`` domains: each GPU all-reduces its 1/local shard with
    its peers in the other domains over its own NIC (rail-optimised fabric)::

        h(N) x a_nic + 2 (N - 1)/N x (msg / local) / (B_nic x SCALEOUT_EFFICIENCY)
    """
    if nodes <= 1:
        return 0.0
    bw = nic_bytes_s * SCALEOUT_EFFICIENCY
    ring = 2.0 * (nodes - 1.0) / nodes * (msg_bytes / local) / bw
    return allreduce_hops(nodes) * nic_latency_s + ring


def hierarchical_allreduce_s(
    msg_bytes: float,
    local: float,
    nodes: int,
    link_bytes_s: float,
    latency_s: float,
    nic_bytes_s: float,
    nic_latency_s: float,
) -> float:
    """A TP all-reduce over ``local`` x ``nodes`` GPUs: the scale-up stage (reduce-scatter
    and all-gather over the ``local`` GPUs of a domain, as one ring all-reduce: latency + 2
    (g - 1)/g x msg / link, ``link_bytes_s`` already times the engine's efficiency) plus
    :func:`scaleout_allreduce_s`."""
    intra = latency_s + 2.0 * (local - 1.0) / local * msg_bytes / link_bytes_s
    return intra + scaleout_allreduce_s(msg_bytes, local, nodes, nic_bytes_s, nic_latency_s)


def expert_imbalance(mean_pairs: float, ranks: int) -> float:
    """Busiest rank's (token, expert) pairs over the mean under uniform routing:
    1 + sqrt(2 ln R / mu) (Raab & Steger 1998; see the module notes); 1 for one rank or no
    pairs."""
    if ranks <= 1 or mean_pairs <= 0:
        return 1.0
    return 1.0 + math.sqrt(2.0 * math.log(ranks) / mean_pairs)


def alltoall_bytes_per_token(m: ModelArch, ranks: int, local: int) -> tuple[float, float]:
    """(over the scale-up link, over the NIC) bytes one token sends per EP exchange when
    ``local`` of the ``ranks`` EP ranks share its domain: k x hidden x 2 bytes x
    (local - 1)/R and x (R - local)/R (a token's k experts uniform over the ranks)."""
    per = m.experts_per_token * m.hidden_size * ACTIVATION_BYTES
    return per * (local - 1.0) / ranks, per * (ranks - local) / ranks


def nic_figures(acc: Accelerator) -> tuple[float, float, bool]:
    """(NIC bytes/s per GPU per direction, hop latency s, True when both are from the
    catalog); the :data:`DEFAULT_NIC_BYTES_S` / :data:`DEFAULT_NIC_LATENCY_S` assumption
    where it has none."""
    known = acc.nic_bytes_s is not None and acc.nic_latency_s is not None
    bw = acc.nic_bytes_s if acc.nic_bytes_s is not None else DEFAULT_NIC_BYTES_S
    lat = acc.nic_latency_s if acc.nic_latency_s is not None else DEFAULT_NIC_LATENCY_S
    return bw, lat, known


def with_scale_out(m: ModelArch, sm: StepModel, place: Placement, acc: Accelerator) -> StepModel:
    """``sm`` (one rank's scalar step model, after ``perf.step.with_expert_parallel``) with
    the traffic that crosses domains moved to the scale-out network and, for wide EP, the
    busiest rank's expert load. Returns ``sm`` itself when nothing changes (one domain and
    fewer than :data:`WIDE_EP_RANKS` EP ranks), so single-domain results are unchanged."""
    changes: dict[str, Any] = {}
    if place.ep_ranks >= WIDE_EP_RANKS and m.is_moe:
        changes["expert_log_ranks"] = math.log(place.ep_ranks)
    if not place.multi_node:
        return dataclasses.replace(sm, **changes) if changes else sm
    nic, nic_lat, _ = nic_figures(acc)
    bw = nic * SCALEOUT_EFFICIENCY
    row = float(sm.hidden_size) * ACTIVATION_BYTES  # bytes per token of a hidden state
    const = 0.0
    per_token = 0.0
    if place.tp_nodes > 1:
        layers = float(sm.full_layers) + float(sm.sliding_layers)
        count = float(sm.allreduces_per_step) or 2.0 * layers
        n = place.tp_nodes
        const += count * allreduce_hops(n) * nic_lat
        per_token += count * 2.0 * (n - 1.0) / n * row / (place.tp_local * bw)
        changes["tp_local"] = place.tp_local
    if place.pp_cross:
        const += place.pp_cross * nic_lat
        per_token += place.pp_cross * row / bw
        changes["pp_cross"] = float(place.pp_cross)
    a2a = float(sm.alltoalls_per_step)
    if a2a > 0 and place.ep_local < place.ep_ranks:
        intra_b, cross_b = alltoall_bytes_per_token(m, place.ep_ranks, place.ep_local)
        link = float(
            collective_bytes_s(
                sm.link_bytes_s,
                sm.comm_efficiency,
                sm.nvlink_peers,
                sm.pcie_bytes_s,
                float(changes.get("tp_local", sm.tp_local) or sm.tp),  # as perf.step.comm_s
            )
        )
        const += a2a * nic_lat
        per_token += a2a * max(0.0, cross_b / bw - intra_b / link)
        changes["alltoall_bytes_per_token"] = intra_b
    changes["scaleout_const_s"] = const
    changes["scaleout_per_token_s"] = per_token
    return dataclasses.replace(sm, **changes)
