"""Disaggregated prefill/decode serving: ``infercost predict --disagg`` and
:func:`predict_disagg`.

A prefill pool of ``x`` workers and a decode pool of ``y`` workers (xPyD), each worker with
its own layout (TP/PP/EP/DP); the prompt's KV cache moves from the prefill worker to a
decode worker over a link (NVLink, InfiniBand/RoCE, Ethernet), overlapped with the prefill
layer by layer or not. The physics is the aggregated path's: step times from
:mod:`infercost.perf.step`, KV sizes and budgets from :mod:`infercost.perf.memory` through
:mod:`infercost.predict`, prices from the same offer resolution. Formulas and sources:
docs/physics.md, "Disaggregated prefill/decode".

Closed loop with C clients, solved for the request rate λ:

    TTFT = request overhead + W_q (M/D/1 queue in the prefill pool) + prefill
           + exposed KV transfer + first decode step (+ the wait for a decode slot when the
           decode pool is full)
    TPOT = decode-only step at the decode batch B_d (no interleaved prefill)
    C    = λ x (TTFT + (osl - 1) x TPOT)            (Little's law)
    B_d  = λ / y x osl x TPOT                       (Little's law in the decode pool)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from infercost.catalog.pricing import load_offers
from infercost.cost.tokens import split_usd_per_m
from infercost.domains import check_predict_types
from infercost.errors import InputError
from infercost.perf.memory import cache_bytes_per_sequence_per_gpu, kv_bytes_per_sequence
from infercost.perf.step import (
    StepModel,
    decode_step,
    link_bytes_s,
    prefill_step,
    step_model,
    with_expert_parallel,
)
from infercost.predict import (
    Resolved,
    _price,
    _price_memo,
    fit_reason,
    gpus_per_node,
    max_concurrency_at,
    resolve,
)
from infercost.units import BITS_PER_BYTE

#: Prefill utilisation above which the prefill pool is flagged saturated: the M/D/1 wait is
#: then ρ / (2 (1 - ρ)) >= 9.5 service times, and TTFT is mostly queueing.
RHO_SATURATED = 0.95

#: Bisection steps of the closed-loop solve (the decode batch is bracketed in (0, cap]; 80
#: halvings reach the float resolution of any batch up to 10^6).
_BISECT_STEPS = 80
#: Fixed-point steps for the prefill batch (monotone from 1; converges in a few).
_BATCH_STEPS = 50

#: Largest values accepted for the pool options (beyond any deployment; keeps the outputs
#: finite): workers per pool, GPUs per parallel dimension, token budget, decode batch, and
#: link bandwidth in Gb/s.
MAX_WORKERS = 100_000
MAX_PARALLEL = 4096
MAX_BATCH_TOKENS = 100_000_000
MAX_DECODE_BATCH = 1_000_000
MAX_LINK_GBPS = 1_000_000.0
#: Slowest KV link accepted: 1 Gb/s per GPU (anything slower is not a serving fabric).
MIN_LINK_GBPS = 1.0


@dataclass(frozen=True, slots=True)
class Pool:
    """One pool of identical workers (a prefill or a decode pool).

    Attributes:
        tp, pp, ep, dp: a worker's layout (``dp x tp x pp`` GPUs; ``ep`` up to ``dp x tp``,
            as :func:`infercost.predict.resolve` checks).
        workers: workers in the pool (``x`` prefill or ``y`` decode workers of xPyD).
        max_batch_tokens: prefill: prompt tokens per iteration (default: the engine's
            ``max_num_batched_tokens``); unused by a decode pool.
        max_batch: decode: sequences a worker runs at once (default: dp x the engine's
            ``max_num_seqs``, and never more than its KV cache holds); unused by a prefill pool.
    """

    tp: int = 1
    pp: int = 1
    ep: int = 1
    dp: int = 1
    workers: int = 1
    max_batch_tokens: int | None = None
    max_batch: int | None = None


@dataclass(frozen=True, slots=True)
class KVLink:
    """A link the KV cache travels over, per GPU, one direction.

    Attributes:
        id: ``nvlink``, ``ib``, ``ethernet``.
        name: in words.
        bytes_s: bandwidth per GPU per direction, bytes/s; None: the accelerator's own
            scale-up link from the catalog (``perf.step.link_bytes_s``).
        latency_s: one-way latency of one transfer on the wire (hardware; the engines'
            software handshakes are not included).
        source: where the figures come from; as_of: when they were read.
    """

    id: str
    name: str
    bytes_s: float | None
    latency_s: float
    source: str
    as_of: str


#: The links ``--kv-link`` names. Bandwidths are line rates (no protocol efficiency), per GPU.
KV_LINKS: dict[str, KVLink] = {
    "nvlink": KVLink(
        id="nvlink",
        name="NVLink within one NVLink domain (the accelerator's scale-up link)",
        bytes_s=None,
        latency_s=2e-6,
        source=(
            "bandwidth: the accelerator's per-direction scale-up link in the catalog "
            "(accelerators.csv; H100 SXM: NVLink 4, 900 GB/s bidirectional = 450 GB/s per "
            "direction, NVIDIA H100 datasheet via shared/reference/hardware.csv; NVIDIA/nccl "
            "issue #1264 measured ~376 GB/s unidirectional P2P); latency: ~1.8-2.3 µs P2P "
            "write latency measured by CUDA samples p2pBandwidthLatencyTest over NVLink "
            "(NVIDIA/cuda-samples issue #230)"
        ),
        as_of="2026-12-07",
    ),
    "ib": KVLink(
        id="ib",
        name="InfiniBand/RoCE, one 400 Gb/s NIC per GPU (ConnectX-7 NDR)",
        bytes_s=400e9 / BITS_PER_BYTE,
        latency_s=2e-6,
        source=(
            "NVIDIA ConnectX-7 adapter user manual (docs.nvidia.com/networking, ConnectX7VPI "
            "Introduction): single-port NDR 400 Gb/s InfiniBand or 400GbE, PCIe Gen5 x16; "
            "HGX/DGX H100 nodes carry one ConnectX-7 per GPU for the compute fabric. "
            "Latency: ~1-2 µs one-way for small RDMA messages (perftest ib_send_lat), taken as "
            "2 µs with one switch hop (an estimate, negligible beside the transfer)"
        ),
        as_of="2026-12-07",
    ),
    "ethernet": KVLink(
        id="ethernet",
        name="Ethernet (TCP, no RDMA), 100 Gb/s per GPU",
        bytes_s=100e9 / BITS_PER_BYTE,
        latency_s=10e-6,
        source=(
            "NVIDIA ConnectX-7 adapter user manual: dual-port QSFP112 100GbE Ethernet cards; "
            "100 Gb/s per GPU taken as a common cloud/Ethernet setup without RDMA (override "
            "with --kv-link-gbps). Latency: ~10 µs one-way through the kernel TCP stack, an "
            "order-of-magnitude estimate, not a datasheet figure"
        ),
        as_of="2026-12-07",
    ),
}

#: Spellings ``--kv-link`` accepts for each link.
_LINK_ALIASES = {
    "nvlink": "nvlink",
    "nvl": "nvlink",
    "ib": "ib",
    "infiniband": "ib",
    "roce": "ib",
    "rdma": "ib",
    "ethernet": "ethernet",
    "eth": "ethernet",
    "tcp": "ethernet",
}

#: The ``predict --disagg --json`` keys, in order (written out; a test pins them).
DISAGG_JSON_KEYS: tuple[str, ...] = (
    "model",
    "gpu",
    "engine",
    "weight_dtype",
    "kv_dtype",
    "isl",
    "osl",
    "concurrency",
    "fits",
    "reason",
    "num_gpus",
    "prefill_workers",
    "decode_workers",
    "prefill_gpus",
    "decode_gpus",
    "prefill_layout",
    "decode_layout",
    "kv_link",
    "kv_link_bytes_s",
    "kv_link_latency_s",
    "kv_overlap",
    "kv_bytes_per_token",
    "kv_transfer_bytes",
    "kv_transfer_s",
    "kv_transfer_exposed_s",
    "request_rate_s",
    "prefill_utilization",
    "prefill_batch",
    "prefill_max_batch",
    "decode_batch",
    "decode_max_batch",
    "prefill_req_s_per_worker",
    "decode_req_s_per_worker",
    "balanced_prefill_to_decode_ratio",
    "bottleneck",
    "saturated",
    "request_overhead_s",
    "prefill_queue_s",
    "decode_queue_s",
    "prefill_s",
    "first_decode_step_s",
    "output_tok_s",
    "total_tok_s",
    "output_tok_s_per_gpu",
    "ttft_s",
    "tpot_s",
    "e2e_s",
    "usd_per_gpu_hour",
    "price_source",
    "usd_per_m_input",
    "usd_per_m_output",
    "usd_per_m_blended",
)


class DisaggPrediction(BaseModel):
    """One steady-state prediction of a disaggregated deployment. Field names are the
    ``predict --disagg --json`` keys (:data:`DISAGG_JSON_KEYS`).

    Times in seconds, throughputs in tokens/s of the whole deployment unless the name says
    per GPU or per worker, bytes SI, money US$. Performance and cost fields are None when
    ``fits`` is False.

    Keys beyond the aggregated ``predict`` ones:
        prefill_workers, decode_workers: x and y of xPyD.
        prefill_gpus, decode_gpus: GPUs of each pool (workers x GPUs per worker);
            num_gpus = prefill_gpus + decode_gpus.
        prefill_layout, decode_layout: one worker's {tp, pp, ep, dp, gpus}.
        kv_link, kv_link_bytes_s, kv_link_latency_s: the link (per GPU, one direction).
        kv_overlap: layer-by-layer transfer overlapped with the prefill (True) or after it.
        kv_transfer_bytes: KV bytes of one request's prompt (all layers, at the KV dtype).
        kv_transfer_s: time to move them (no latency), the shards in parallel.
        kv_transfer_exposed_s: the part of the transfer (with latency) that TTFT sees.
        request_rate_s: completed requests per second (λ).
        prefill_utilization: ρ = λ / (prefill workers x prefill requests/s per worker).
        prefill_batch, prefill_max_batch: prompts per prefill iteration (mean, and the
            budget's most).
        decode_batch, decode_max_batch: sequences per decode worker (mean, and its cap: KV
            capacity, at the mean context isl + osl / 2 on an engine that allocates KV on
            demand and at isl + osl on one that reserves it; engine cap; --decode-max-batch).
        prefill_req_s_per_worker: a prefill worker's capacity, requests/s (full batches).
        decode_req_s_per_worker: a decode worker's requests/s at the batch the concurrency
            gives it, min(C / y, cap).
        balanced_prefill_to_decode_ratio: x / y at which the two pools' rates match.
        bottleneck: the pool with the smaller capacity for this workload.
        saturated: None, or the pool whose queue holds the requests (prefill: ρ >= 0.95;
            decode: more requests than the decode pool's cap).
        request_overhead_s, prefill_queue_s, decode_queue_s, prefill_s,
            first_decode_step_s: with kv_transfer_exposed_s, the terms of TTFT (they add up).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str
    gpu: str
    engine: str
    weight_dtype: str
    kv_dtype: str
    isl: int
    osl: int
    concurrency: int
    fits: bool
    reason: str | None
    num_gpus: int
    prefill_workers: int
    decode_workers: int
    prefill_gpus: int
    decode_gpus: int
    prefill_layout: dict[str, int]
    decode_layout: dict[str, int]
    kv_link: str
    kv_link_bytes_s: float
    kv_link_latency_s: float
    kv_overlap: bool
    kv_bytes_per_token: float
    kv_transfer_bytes: float
    kv_transfer_s: float | None
    kv_transfer_exposed_s: float | None
    request_rate_s: float | None
    prefill_utilization: float | None
    prefill_batch: float | None
    prefill_max_batch: int | None
    decode_batch: float | None
    decode_max_batch: int | None
    prefill_req_s_per_worker: float | None
    decode_req_s_per_worker: float | None
    balanced_prefill_to_decode_ratio: float | None
    bottleneck: str | None
    saturated: str | None
    request_overhead_s: float | None
    prefill_queue_s: float | None
    decode_queue_s: float | None
    prefill_s: float | None
    first_decode_step_s: float | None
    output_tok_s: float | None
    total_tok_s: float | None
    output_tok_s_per_gpu: float | None
    ttft_s: float | None
    tpot_s: float | None
    e2e_s: float | None
    usd_per_gpu_hour: float | None
    price_source: str | None
    usd_per_m_input: float | None
    usd_per_m_output: float | None
    usd_per_m_blended: float | None
    notes: tuple[str, ...] = ()
    """Defaults applied and assumptions made (printed by the CLI; not a JSON key)."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, keys in :data:`DISAGG_JSON_KEYS` order."""
        data = self.model_dump()
        return {k: data[k] for k in DISAGG_JSON_KEYS}


def get_kv_link(name: str) -> KVLink:
    """The link ``--kv-link`` names (nvlink, ib/infiniband/roce, ethernet/tcp).

    Raises:
        InputError: an unknown link name.
    """
    key = _LINK_ALIASES.get(str(name).strip().lower())
    if key is None:
        raise InputError(
            f"Unknown --kv-link {name!r}; use nvlink (within one NVLink domain), ib "
            "(InfiniBand/RoCE, 400 Gb/s per GPU) or ethernet (100 Gb/s per GPU); "
            "--kv-link-gbps sets another bandwidth."
        )
    return KV_LINKS[key]


def _check_int(label: str, value: int | None, hi: int) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= hi:
        raise InputError(f"{label} must be a whole number in [1, {hi:,}], got {value!r}.")


def _check_pool(role: str, pool: Pool) -> None:
    if not isinstance(pool, Pool):
        raise InputError(f"predict_disagg(): {role} must be a Pool, got {type(pool).__name__}.")
    for name in ("tp", "pp", "ep", "dp"):
        _check_int(f"--{role}-{name}", getattr(pool, name), MAX_PARALLEL)
    _check_int(f"--{role}-workers", pool.workers, MAX_WORKERS)
    _check_int(f"--{role}-max-batch-tokens", pool.max_batch_tokens, MAX_BATCH_TOKENS)
    _check_int(f"--{role}-max-batch", pool.max_batch, MAX_DECODE_BATCH)


def transfer_seconds(
    r_p: Resolved, r_d: Resolved, isl: float, bytes_s: float
) -> tuple[float, float]:
    """(time to move one prompt's KV from a prefill worker to a decode worker without
    latency, the decode GPU's share of it in bytes).

    Each decode GPU receives its own shard (``perf.memory.cache_bytes_per_sequence_per_gpu``
    at the decode layout: KV heads split over TP, layers over PP; an MLA latent or a KV head
    that TP replicates is received by every rank that holds it) over its own NIC; the prefill
    worker's tp x pp GPUs of one rank send the whole of it in parallel, each over its own
    NIC. The slower side sets the time::

        t = max(shard_d, shard_d x g_d / g_p) / BW      (g = tp x pp of one rank)

    which is bytes / (BW x min(g_p, g_d)) when the KV splits without replication.
    """
    shard_d = float(
        cache_bytes_per_sequence_per_gpu(
            r_d.model, float(isl), r_d.kv_bytes_per_elem, int(r_d.tp), int(r_d.pp)
        )
    )
    lanes_p = r_p.tp * r_p.pp
    lanes_d = r_d.tp * r_d.pp
    return max(shard_d, shard_d * lanes_d / lanes_p) / bytes_s, shard_d


def exposed_transfer_s(
    transfer_s: float, prefill_s: float, layers: int, latency_s: float, overlap: bool
) -> float:
    """The part of a KV transfer that the first token waits for, after the prefill ends.

    Overlapped (layer by layer): layer l's KV is ready at l x a (a = prefill / L) and takes
    b = transfer / L on the link, one layer after another; the last layer lands at
    F_L = max(L a + b, a + L b) (compute-bound: the last layer's transfer after the prefill;
    link-bound: the link never idles after the first layer). After the prefill ends
    (L a) that leaves::

        exposed = latency + transfer / L + (L - 1) / L x max(0, transfer - prefill)

    Not overlapped (the whole cache moves after the prefill): latency + transfer.
    """
    if not overlap:
        return latency_s + transfer_s
    n = float(max(layers, 1))
    return latency_s + transfer_s / n + (n - 1.0) / n * max(0.0, transfer_s - prefill_s)


def _rank_step_model(r: Resolved) -> StepModel:
    sm = step_model(r.model, r.acc, r.weight_fmt, r.kv_bytes_per_elem, r.engine, r.tp, r.pp, r.ep)
    return with_expert_parallel(r.model, sm, r.dp, r.tp, r.ep, r.pp)


def _prefill_iteration_s(sm: StepModel, isl: float, prompts: float, chunks: int) -> float:
    """One pipeline stage's time to prefill ``prompts`` prompts of ``isl`` tokens together
    (one iteration), or one prompt in ``chunks`` budget-sized chunks (each chunk attends to
    the ones before it)."""
    if chunks <= 1:
        return float(prefill_step(sm, isl, prompts).total_s)
    chunk = isl / chunks
    before = np.arange(chunks, dtype=np.float64) * chunk
    return float(np.sum(prefill_step(sm, chunk, 1.0, before).total_s))


@dataclass(frozen=True, slots=True)
class _Point:
    """The closed loop's figures at one decode batch."""

    decode_batch: float
    rate: float  # requests/s
    rho: float
    prefill_batch: float
    prefill_s: float
    queue_s: float
    exposed_s: float
    tpot_s: float
    e2e_s: float  # without the decode-slot wait


def predict_disagg(
    model: str | None = None,
    gpu: str = "",
    isl: int = 0,
    osl: int = 0,
    *,
    prefill: Pool | None = None,
    decode: Pool | None = None,
    concurrency: int | None = None,
    link: str = "ib",
    link_gbps: float | None = None,
    overlap: bool = True,
    model_config: str | None = None,
    weight_dtype: str | None = None,
    kv_dtype: str = "auto",
    engine: str = "vllm",
    profile: str | None = None,
    gpu_hour_usd: float | None = None,
    offer: str | None = None,
    allow_spot: bool = False,
    pack_replicas: bool = False,
) -> DisaggPrediction:
    """Predict a disaggregated prefill/decode deployment at ``concurrency`` requests in flight
    (a closed loop, as benchmarks run it).

    Args:
        model, gpu, isl, osl, model_config, weight_dtype, kv_dtype, engine, profile,
            gpu_hour_usd, offer, allow_spot, pack_replicas: as :func:`infercost.predict`.
        prefill, decode: the two pools (:class:`Pool`; default one worker of one GPU each).
        concurrency: requests in flight (required).
        link: ``nvlink``, ``ib`` (InfiniBand/RoCE) or ``ethernet`` (:data:`KV_LINKS`).
        link_gbps: per-GPU link bandwidth in Gb/s instead of the table's.
        overlap: the KV streams layer by layer during the prefill (True) or moves after it.

    Returns:
        A :class:`DisaggPrediction`; ``fits`` False (with ``reason``) when a worker does not
        hold the model and one sequence.

    Raises:
        UnknownNameError: unknown model, GPU, engine, dtype or offer.
        InputError: inconsistent or out-of-range options.
    """
    check_predict_types(
        model=model, gpu=gpu, isl=isl, osl=osl, model_config=model_config,
        weight_dtype=weight_dtype, kv_dtype=kv_dtype, concurrency=concurrency, engine=engine,
        gpu_hour_usd=gpu_hour_usd, offer=offer,
    )  # fmt: skip
    if isl < 1 or osl < 1:
        raise InputError(f"--isl and --osl must be at least 1 token (got {isl}, {osl}).")
    if concurrency is None:
        raise InputError("--disagg needs --concurrency N (requests in flight).")
    if allow_spot and offer is None:
        raise InputError(
            "--allow-spot only acts with --offer (a spot offer id; `infercost offers "
            "--kind spot` lists them): the default offer is on-demand."
        )
    _check_int("--concurrency", concurrency, MAX_DECODE_BATCH)
    prefill = prefill if prefill is not None else Pool()
    decode = decode if decode is not None else Pool()
    _check_pool("prefill", prefill)
    _check_pool("decode", decode)
    kv_link = get_kv_link(link)
    if link_gbps is not None and (
        isinstance(link_gbps, bool)
        or not isinstance(link_gbps, int | float)
        or not math.isfinite(link_gbps)
        or not MIN_LINK_GBPS <= link_gbps <= MAX_LINK_GBPS
    ):
        raise InputError(
            f"--kv-link-gbps must be a finite number in [{MIN_LINK_GBPS:g}, "
            f"{MAX_LINK_GBPS:,.0f}] Gb/s (a data-centre link per GPU), got {link_gbps!r}."
        )

    def pool_resolved(p: Pool, role: str) -> Resolved:
        try:
            return resolve(
                model, gpu, model_config=model_config, tp=p.tp, pp=p.pp, ep=p.ep, dp=p.dp,
                weight_dtype=weight_dtype, kv_dtype=kv_dtype, engine=engine, profile=profile,
            )  # fmt: skip
        except InputError as err:
            # the layout flags of this pool are --prefill-tp ... / --decode-tp ...
            text = re.sub(r"--(tp|pp|ep|dp|num-gpus)\b", rf"--{role}-\1", str(err))
            raise InputError(f"{role} pool: {text}") from None

    r_p = pool_resolved(prefill, "prefill")
    r_d = pool_resolved(decode, "decode")
    m, acc, eng = r_p.model, r_p.acc, r_p.engine
    # clients reach a disaggregated deployment through an OpenAI-compatible server or router,
    # so each request pays the engine's HTTP front end as an aggregated online one does
    request_s = eng.request_overhead_for(online=True)
    x, y = prefill.workers, decode.workers
    g_p, g_d = r_p.num_gpus, r_d.num_gpus
    n_gpus = x * g_p + y * g_d
    bw = float(link_gbps) * 1e9 / BITS_PER_BYTE if link_gbps is not None else kv_link.bytes_s
    bw = bw if bw is not None else link_bytes_s(acc)
    kv_bytes = float(kv_bytes_per_sequence(m, float(isl), r_p.kv_bytes_per_elem))
    notes = list(dict.fromkeys((*r_p.notes, *r_d.notes)))

    base: dict[str, Any] = {
        "model": m.id,
        "gpu": acc.id,
        "engine": eng.id,
        "weight_dtype": r_p.weight_fmt.id,
        "kv_dtype": r_p.kv_dtype,
        "isl": isl,
        "osl": osl,
        "concurrency": concurrency,
        "num_gpus": n_gpus,
        "prefill_workers": x,
        "decode_workers": y,
        "prefill_gpus": x * g_p,
        "decode_gpus": y * g_d,
        "prefill_layout": {"tp": r_p.tp, "pp": r_p.pp, "ep": r_p.ep, "dp": r_p.dp, "gpus": g_p},
        "decode_layout": {"tp": r_d.tp, "pp": r_d.pp, "ep": r_d.ep, "dp": r_d.dp, "gpus": g_d},
        "kv_link": kv_link.id,
        "kv_link_bytes_s": bw,
        "kv_link_latency_s": kv_link.latency_s,
        "kv_overlap": overlap,
        "kv_bytes_per_token": kv_bytes / isl,
        "kv_transfer_bytes": kv_bytes,
    }
    context = float(isl + osl)
    reason = None
    if m.max_position_embeddings and context > m.max_position_embeddings:
        reason = (
            f"refused: isl + osl = {int(context)} tokens exceeds {m.id}'s context of "
            f"{m.max_position_embeddings} tokens (config.json max_position_embeddings). "
            "Use a shorter prompt or output."
        )
    for role, r, ctx in (("prefill", r_p, float(isl)), ("decode", r_d, context)):
        if reason is None:
            why = fit_reason(r, ctx, 1)
            if why is not None:
                reason = (
                    f"{role} worker ({r.num_gpus}x {acc.id}): {why} (give the layout as "
                    f"--{role}-tp/--{role}-pp/--{role}-ep/--{role}-dp)"
                )
    if reason is not None:
        nulls = {k: None for k in DISAGG_JSON_KEYS if k not in base}
        return DisaggPrediction(**{**nulls, **base, "fits": False, "reason": reason})

    # Prefill worker: prompts per iteration up to the token budget (one prompt in chunks
    # when it is longer), as many as its KV cache holds with PP micro-batches in flight.
    sm_p = _rank_step_model(r_p)
    budget = prefill.max_batch_tokens or eng.max_num_batched_tokens
    chunks = max(1, math.ceil(isl / budget))
    kv_prompts = max_concurrency_at(r_p, float(isl)) // r_p.pp
    k_max = max(1, min(budget // isl, kv_prompts, eng.max_num_seqs)) if chunks == 1 else 1
    transfer_s, _ = transfer_seconds(r_p, r_d, float(isl), bw)
    full_iter_s = _prefill_iteration_s(sm_p, float(isl), float(k_max), chunks)
    # A rank's rate: full batches through the pipeline, and its NICs must send their KV.
    compute_rate = k_max / full_iter_s
    link_rate = 1.0 / transfer_s if transfer_s > 0 else math.inf
    prefill_rate = r_p.dp * min(compute_rate, link_rate)
    if link_rate < compute_rate:
        notes.append(
            f"the KV link ({bw * BITS_PER_BYTE / 1e9:g} Gb/s per GPU), not compute, bounds "
            f"each prefill worker at {prefill_rate:.3g} requests/s"
        )

    # Decode worker: decode-only steps at the batch, per rank and pipeline stage.
    sm_d = _rank_step_model(r_d)
    ctx_mean = isl + osl / 2.0
    # requests reach a decode worker spread out (each when its prefill ends): an engine that
    # allocates KV as tokens come holds them at the mean context, one that reserves at the
    # full length (EngineProfile.running_context, as predict.load_stage)
    cap_context = r_d.engine.running_context(isl, osl)
    per_rank_cap = min(max_concurrency_at(r_d, cap_context), eng.max_num_seqs)
    b_cap = r_d.dp * per_rank_cap
    if decode.max_batch is not None:
        b_cap = min(b_cap, decode.max_batch)
    b_cap = max(b_cap, 1)

    def step_s(batch: float) -> float:
        per_stage = max(batch / (r_d.dp * r_d.pp), 1.0)
        return r_d.pp * float(decode_step(sm_d, per_stage, ctx_mean).total_s)

    def at(batch: float) -> _Point:
        tpot = step_s(batch)
        rate = y * batch / (osl * tpot)  # Little's law in the decode pool
        rho = rate / (x * prefill_rate)
        if rho >= 1.0:
            t_full = r_p.pp * full_iter_s
            return _Point(batch, rate, rho, k_max, t_full, math.inf, math.inf, tpot, math.inf)
        # M/D/1 wait (Pollaczek-Khinchine) in front of each prefill rank, the service time
        # being the rank's time per prompt at the batch b it runs (t(b) / b); the prompts
        # waiting when an iteration starts join it, up to the budget's k, so
        # b = 1 + L_q = 1 + λ_rank x W_q (a monotone fixed point from b = 1), and a prompt's
        # own prefill is that iteration, t(b).
        # A closed loop of C clients has at most C - 1 prompts ahead, spread over the ranks.
        arrivals = rate / (x * r_p.dp)
        ahead = (concurrency - 1) / (x * r_p.dp)
        k_eff, t_pf, queue = 1.0, 0.0, 0.0
        for _ in range(_BATCH_STEPS):
            t_pf = r_p.pp * _prefill_iteration_s(sm_p, float(isl), k_eff, chunks)
            per_prompt = t_pf / k_eff
            queue = min(rho / (2.0 * (1.0 - rho)), ahead) * per_prompt
            k_next = min(float(k_max), 1.0 + arrivals * queue)
            if k_next - k_eff <= 1e-9 * k_eff:
                break
            k_eff = k_next
        exposed = exposed_transfer_s(
            k_eff * transfer_s, t_pf, m.num_layers, kv_link.latency_s, overlap
        )
        e2e = request_s + queue + t_pf + exposed + osl * tpot
        return _Point(batch, rate, rho, k_eff, t_pf, queue, exposed, tpot, e2e)

    # Closed loop: C = rate x E2E grows with the decode batch; find the batch that holds C.
    # Past the decode pool's cap, or at the prefill pool's capacity (rho -> 1), the clients
    # left over wait in that pool's queue (Little's law: E2E = C / rate).
    top = at(float(b_cap))
    if top.rate * top.e2e_s <= concurrency:
        pt = top
    else:
        lo, hi = 0.0, float(b_cap)
        for _ in range(_BISECT_STEPS):
            mid = 0.5 * (lo + hi)
            p = at(mid)
            if p.rate * p.e2e_s < concurrency:
                lo = mid
            else:
                hi = mid
        pt = at(lo) if lo > 0 else at(hi)
    wait = concurrency / pt.rate - pt.e2e_s
    wait = wait if wait > 1e-9 * pt.e2e_s else 0.0  # below: the bisection's rounding
    decode_queue = 0.0
    saturated: str | None = None
    if pt is top and wait > 0:
        decode_queue, saturated = wait, "decode"
    elif wait > 0:
        pt = replace(pt, queue_s=pt.queue_s + wait, e2e_s=pt.e2e_s + wait)
    if pt.rho >= RHO_SATURATED and saturated is None:
        saturated = "prefill"
        notes.append(
            f"prefill pool saturated: utilisation {pt.rho:.2f}, TTFT is mostly queueing "
            f"({pt.queue_s:.3g} s); add prefill workers (the balanced ratio is below)"
        )
    if saturated == "decode":
        notes.append(
            f"{concurrency} requests in flight but the decode pool runs {y} x {b_cap} at once "
            "(KV capacity, max_num_seqs or --decode-max-batch): the rest wait (their wait is "
            "in TTFT, decode_queue_s)"
        )

    # P:D balance at the batch the concurrency gives each decode worker.
    b_star = float(min(concurrency / y, b_cap))
    decode_rate = b_star / (osl * step_s(b_star))
    ratio = decode_rate / prefill_rate
    bottleneck = "prefill" if x * prefill_rate < y * decode_rate else "decode"

    rate = pt.rate
    ttft = (request_s + pt.queue_s + decode_queue + pt.prefill_s + pt.exposed_s) + pt.tpot_s
    e2e = ttft + (osl - 1) * pt.tpot_s
    out_tok_s = rate * osl

    if overlap and eng.id == "vllm":
        notes.append(
            "vLLM's NixlConnector has the decode worker pull the KV after the prefill "
            "finishes; --no-kv-overlap models that (the default, layer-by-layer streaming, "
            "is what Splitwise and Mooncake do)"
        )
    if kv_link.id == "nvlink" and g_p + g_d > gpus_per_node(acc):
        notes.append(
            f"--kv-link nvlink needs a prefill and a decode worker in one NVLink domain, but "
            f"{g_p} + {g_d} GPUs exceed {acc.id}'s {gpus_per_node(acc)}; use --kv-link ib"
        )

    priced = replace(r_p, num_gpus=n_gpus)
    usd_gpu, price_source = _price_memo.get(
        (acc, load_offers()),
        (n_gpus, gpu_hour_usd, offer, allow_spot, pack_replicas, date.today()),
        lambda: _price(priced, gpu_hour_usd, offer, allow_spot, pack_replicas),
    )
    cost: dict[str, float | None] = dict.fromkeys(
        ("usd_per_m_input", "usd_per_m_output", "usd_per_m_blended")
    )
    if usd_gpu is not None:
        # The prefill pool's GPU-hours are charged to input tokens, the decode pool's to
        # output tokens (each pool idles for the workload's sake, so its idle time is its own).
        per_in, per_out, blended = split_usd_per_m(
            usd_gpu * n_gpus, out_tok_s, isl, osl, x * g_p / n_gpus
        )
        cost = {
            "usd_per_m_input": float(per_in),
            "usd_per_m_output": float(per_out),
            "usd_per_m_blended": float(blended),
        }
        price_source = (
            f"{price_source}; the prefill pool's {x * g_p} GPU-hours are charged to input "
            f"tokens, the decode pool's {y * g_d} to output tokens"
        )
    else:
        price_source = (
            f"no catalog offer for {acc.id}: pass --gpu-hour-usd or --offer for $/M figures"
        )

    return DisaggPrediction(
        **base,
        fits=True,
        reason=None,
        kv_transfer_s=transfer_s,
        kv_transfer_exposed_s=pt.exposed_s,
        request_rate_s=rate,
        prefill_utilization=pt.rho,
        prefill_batch=pt.prefill_batch,
        prefill_max_batch=k_max,
        decode_batch=pt.decode_batch,
        decode_max_batch=b_cap,
        prefill_req_s_per_worker=prefill_rate,
        decode_req_s_per_worker=decode_rate,
        balanced_prefill_to_decode_ratio=ratio,
        bottleneck=bottleneck,
        saturated=saturated,
        request_overhead_s=request_s,
        prefill_queue_s=pt.queue_s,
        decode_queue_s=decode_queue,
        prefill_s=pt.prefill_s,
        first_decode_step_s=pt.tpot_s,
        output_tok_s=out_tok_s,
        total_tok_s=rate * (isl + osl),
        output_tok_s_per_gpu=out_tok_s / n_gpus,
        ttft_s=ttft,
        tpot_s=pt.tpot_s if osl > 1 else None,
        e2e_s=e2e,
        usd_per_gpu_hour=usd_gpu,
        price_source=price_source,
        **cost,
        notes=tuple(notes),
    )


__all__ = [
    "DISAGG_JSON_KEYS",
    "KV_LINKS",
    "DisaggPrediction",
    "KVLink",
    "Pool",
    "exposed_transfer_s",
    "get_kv_link",
    "predict_disagg",
    "transfer_seconds",
]
