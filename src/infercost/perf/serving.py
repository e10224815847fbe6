"""Steady-state serving at a concurrency: throughput, TTFT, TPOT, E2E.

Closed loop with ``N`` requests in flight, each of ``isl`` prompt tokens and ``osl`` output
tokens, served by continuous batching with chunked prefill (vLLM's default scheduler; vLLM
docs "Optimization and Tuning: chunked prefill"). In steady state every iteration decodes
the running sequences and, spread over the ``osl`` iterations of a request's life, the
prefills of the N requests that replace finished ones. So over one request cycle::

    t_decode   = step(N sequences decoding at mean context isl + osl/2)
    chunks     = ceil(isl / budget) iterations carry the prompt, with the N - 1 other decodes
    dt_prefill = (those iterations) - (the same iterations without the prompt)
    s          = (N - 1) x dt_prefill / (chunks + osl - 1)   (others' prefill per iteration)
    t_first    = (the prompt's iterations) + chunks x s
    T_cycle    = t_first + (osl - 1) x (t_decode + s)      (one request's life)
    output tok/s = N x osl / T_cycle
    TTFT  = request overhead + t_first
    TPOT  = t_decode + s                                   (other requests' prefills included)
    E2E   = TTFT + (osl - 1) x TPOT

unless fusing N - 1 prompts into osl - 1 iterations needs more tokens per iteration than the
budget: then prefill is the bottleneck, every iteration is a full budget of n_dec =
budget x (osl - 1) / (isl + osl - 1) decodes plus prompt tokens, TPOT is that iteration's time,
throughput = osl x (prompts finished per second), and the other N - n_dec requests queue for
prefill (E2E = N / request rate).

The GPU time a cycle spends on prefill, N x dt_prefill / T_cycle, is the share of cost charged
to input tokens (``infercost.cost.tokens``). Static batching (all prompts first, then all
decode steps) is :func:`static_batch`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from infercost.perf.step import (
    ScalarStep,
    StepModel,
    StepTime,
    decode_step,
    mixed_step,
    prefill_step,
    scalar_step_constants,
    step_floats,
)

FloatArray = npt.NDArray[np.float64]
ArrayLike = float | int | FloatArray


@dataclass(frozen=True, slots=True)
class ServingPoint:
    """Steady-state figures of one replica (arrays broadcast over the inputs).

    Attributes:
        concurrency: requests in flight N.
        decode_step_s: one decode iteration at N.
        prefill_marginal_s: extra iteration time one prompt adds.
        ttft_s, tpot_s, e2e_s: per-request latencies, seconds.
        output_tok_s, total_tok_s: replica throughput, tokens/s (total = input + output).
        request_s: completed requests per second.
        prefill_time_share: fraction of GPU time spent on prefill work.
        memory_bound_share: fraction of decode-step time set by memory traffic (vs compute).
    """

    concurrency: FloatArray
    decode_step_s: FloatArray
    prefill_marginal_s: FloatArray
    ttft_s: FloatArray
    tpot_s: FloatArray
    e2e_s: FloatArray
    output_tok_s: FloatArray
    total_tok_s: FloatArray
    request_s: FloatArray
    prefill_time_share: FloatArray
    memory_bound_share: FloatArray


class _Figures(NamedTuple):
    """A :class:`ServingPoint`'s figures as Python floats, fields in the same order: the
    scalar paths' working form (numpy scalars cost about a microsecond an operation)."""

    concurrency: float
    decode_step_s: float
    prefill_marginal_s: float
    ttft_s: float
    tpot_s: float
    e2e_s: float
    output_tok_s: float
    total_tok_s: float
    request_s: float
    prefill_time_share: float
    memory_bound_share: float

    def point(self) -> ServingPoint:
        """The figures as a :class:`ServingPoint` of numpy scalars."""
        return ServingPoint(*map(np.float64, self))  # type: ignore[arg-type]


def own_prompt_iteration(
    sm: StepModel,
    others: ArrayLike,
    ctx: ArrayLike,
    new_tokens: ArrayLike,
    cached: ArrayLike,
    budget: ArrayLike,
) -> tuple[FloatArray, StepTime]:
    """The iterations that carry one prompt beside ``others`` running decodes at context
    ``ctx`` under chunked prefill (running requests first, the prompt's chunk in the rest of
    the token budget): (chunks = max(ceil(new / max(budget - others, 1)), 1), one such
    iteration, whose chunk attends ``cached`` tokens plus on average half the earlier
    chunks)."""
    chunks = np.maximum(
        np.ceil(np.asarray(new_tokens) / np.maximum(np.asarray(budget) - others, 1.0)), 1.0
    )
    chunk = np.asarray(new_tokens) / chunks
    mix = mixed_step(sm, others, ctx, chunk, cached + chunk * (chunks - 1.0) / 2.0, 1.0)
    return np.asarray(chunks, dtype=np.float64), mix


def eager_share(
    others: ArrayLike,
    chunks: ArrayLike,
    osl: ArrayLike,
    new_tokens: ArrayLike = 1.0,
    budget: ArrayLike = 1.0,
) -> FloatArray:
    """Share of a request's osl - 1 decode iterations that carry other requests' prompts
    and so run eagerly, unpadded (TensorRT-LLM's PyTorch executor runs CUDA graphs for
    generation-only iterations only). The N - 1 others' prompts, ``chunks`` iterations each,
    fall in the chunks + osl - 1 iterations of one request's life, packed as the scheduler
    packs queued context requests: whole prompts fill the token budget left by the running
    decodes, floor((budget - (N - 1)) / new_tokens) of them an iteration (at least one; one
    when a prompt needs several chunks):
    min(1, (N - 1) x chunks / (per_iteration x (chunks + osl - 1)))."""
    o = np.asarray(osl, dtype=np.float64)
    c = np.asarray(chunks, dtype=np.float64)
    n = np.asarray(others, dtype=np.float64)
    room = np.floor((np.asarray(budget, dtype=np.float64) - n) / np.asarray(new_tokens))
    per_iteration = np.where(c > 1.0, 1.0, np.maximum(room, 1.0))
    return np.asarray(np.minimum(n * c / (per_iteration * (c + o - 1.0)), 1.0), dtype=np.float64)


def _eager_share_scalar(
    others: float, chunks: float, osl: float, new_tokens: float, budget: float
) -> float:
    """:func:`eager_share` on floats."""
    room = math.floor((budget - others) / new_tokens)
    per_iteration = 1.0 if chunks > 1.0 else max(float(room), 1.0)
    return min(others * chunks / (per_iteration * (chunks + osl - 1.0)), 1.0)


def steady_state(
    sm: StepModel,
    concurrency: ArrayLike,
    isl: ArrayLike,
    osl: ArrayLike,
    token_budget: ArrayLike = 8192.0,
    request_overhead_s: ArrayLike = 0.0,
    cached_prefix_share: ArrayLike = 0.0,
) -> ServingPoint:
    """Continuous batching with chunked prefill at ``concurrency`` requests in flight.

    Args:
        sm: per-GPU step constants.
        concurrency: N (>= 1).
        isl, osl: prompt and output tokens per request (osl >= 1).
        token_budget: tokens per iteration (vLLM ``max_num_batched_tokens``).
        request_overhead_s: per-request time before its first token (tokenise, admit).
        cached_prefix_share: fraction of each prompt served from the prefix cache (its prefill
            is skipped; its KV is still read).

    Returns:
        A :class:`ServingPoint` with arrays of the broadcast shape (numpy scalars for scalar
        inputs: :func:`_steady_state_scalar` does the same operations on Python floats).
    """
    args = (concurrency, isl, osl, token_budget, request_overhead_s, cached_prefix_share)
    if _SCALARS.issuperset(map(type, args)):
        fast = _steady_state_scalar(sm, *map(float, args))
        if fast is not None:
            return fast[0].point()
    n = np.asarray(concurrency, dtype=np.float64)
    i = np.asarray(isl, dtype=np.float64)
    o = np.maximum(np.asarray(osl, dtype=np.float64), 1.0)
    budget = np.asarray(token_budget, dtype=np.float64)
    hit = np.asarray(cached_prefix_share, dtype=np.float64)
    new_tokens = i * (1.0 - hit)
    cached = i * hit
    ctx = i + o / 2.0
    d = decode_step(sm, n, ctx)
    t_d = d.total_s
    # One prompt's new tokens, fused with the other N-1 decodes, in chunks of the budget.
    others = np.maximum(n - 1.0, 0.0)
    chunks, mix = own_prompt_iteration(sm, others, ctx, new_tokens, cached, budget)
    # an iteration that carries a prompt runs eagerly at its own size (no CUDA-graph padding)
    t_others = decode_step(sm, others, ctx, graph=False).total_s
    t_others = np.where(others > 0, t_others, 0.0)
    prefill_marginal = chunks * (mix.total_s - t_others)
    first_token_s = chunks * mix.total_s
    # One request's life: its own prompt iterations, then osl - 1 decode iterations; the other
    # N - 1 requests' prompts are each fused in once somewhere in those chunks + osl - 1
    # iterations, so each of them carries the same expected share of others' prefill time
    # (an iteration carrying this request's prompt is no emptier than any other).
    others_prefill_s = others * prefill_marginal
    share_per_iter = others_prefill_s / (chunks + o - 1.0)
    first_token_s = first_token_s + chunks * share_per_iter
    t_base = t_d
    if sm.graph_batch_sizes:  # padded CUDA graphs: the decode iterations that carry a prompt
        eager = eager_share(others, chunks, o, np.maximum(new_tokens, 1.0), budget)
        t_base = t_d + eager * (decode_step(sm, n, ctx, graph=False).total_s - t_d)
    t_cycle = first_token_s + (o - 1.0) * (t_base + share_per_iter)
    output_tok_s = n * o / t_cycle
    ttft = np.asarray(request_overhead_s, dtype=np.float64) + first_token_s
    tpot = np.where(o > 1.0, t_base + share_per_iter, 0.0)
    e2e = ttft + (o - 1.0) * tpot
    request_s = n / t_cycle
    share = n * prefill_marginal / t_cycle
    # Token budget: the cycle above fuses (N - 1) prompts into osl - 1 decode iterations. When
    # that needs more tokens per iteration than the budget allows, prefill is the bottleneck:
    # every iteration is full (n_dec decodes + budget - n_dec prompt tokens), a prompt
    # finishes every isl / (budget - n_dec) iterations and decodes for osl - 1 of them, so
    # n_dec = budget x (osl - 1) / (isl + osl - 1); the other N - n_dec requests wait for
    # prefill (their time counts in TTFT: E2E = N / request rate by Little's law).
    demand = n + others * new_tokens / np.maximum(o - 1.0, 1.0)
    bound = (demand > budget) & (o > 1.0)
    if np.any(bound):  # the full-iteration steps are only evaluated where they can apply
        n_dec = np.minimum(budget * (o - 1.0) / (new_tokens + o - 1.0), n)
        p_tok = np.maximum(budget - n_dec, 1.0)
        prompts = p_tok / np.maximum(new_tokens, 1.0)
        t_full = mixed_step(sm, n_dec, ctx, p_tok, cached, prompts).total_s
        request_b = prompts / t_full
        e2e_b = n / request_b + np.asarray(request_overhead_s, dtype=np.float64)
        output_tok_s = np.where(bound, request_b * o, output_tok_s)
        request_s = np.where(bound, request_b, request_s)
        tpot = np.where(bound, t_full, tpot)
        e2e = np.where(bound, e2e_b, e2e)
        ttft = np.where(bound, e2e_b - (o - 1.0) * t_full, ttft)
        t_dec_only = decode_step(sm, n_dec, ctx, graph=False).total_s
        share = np.where(bound, (t_full - t_dec_only) / t_full, share)
    mem_share = d.memory_s / np.maximum(d.memory_s, d.compute_s)
    return ServingPoint(
        concurrency=n + 0.0 * t_d,
        decode_step_s=t_d,
        prefill_marginal_s=np.asarray(prefill_marginal, dtype=np.float64),
        ttft_s=np.asarray(ttft, dtype=np.float64),
        tpot_s=np.asarray(tpot, dtype=np.float64),
        e2e_s=np.asarray(e2e, dtype=np.float64),
        output_tok_s=np.asarray(output_tok_s, dtype=np.float64),
        total_tok_s=np.asarray(output_tok_s * (i + o) / o, dtype=np.float64),
        request_s=np.asarray(request_s, dtype=np.float64),
        prefill_time_share=np.asarray(share, dtype=np.float64),
        memory_bound_share=np.asarray(mem_share, dtype=np.float64),
    )


_SCALARS = frozenset({float, int, np.float64})

#: Where :func:`~infercost.perf.step.step_floats`'s tuple holds total_s, memory_s and
#: compute_s (:class:`~infercost.perf.step.StepTime`'s field order).
_TOTAL, _MEMORY, _COMPUTE = 4, 0, 1


def _own_prompt_scalar(
    c: ScalarStep, others: float, ctx: float, new_tokens: float, cached: float, budget: float
) -> tuple[float, float]:
    """:func:`own_prompt_iteration` on Python floats: (chunks, one iteration's total_s)."""
    chunks = max(float(math.ceil(new_tokens / max(budget - others, 1.0))), 1.0)
    chunk = new_tokens / chunks
    mix = step_floats(c, others, ctx, chunk, cached + chunk * (chunks - 1.0) / 2.0, 1.0)
    return chunks, mix[_TOTAL]


def _steady_state_scalar(
    sm: StepModel, n: float, i: float, osl: float, budget: float, req: float, hit: float
) -> tuple[_Figures, tuple[float, float]] | None:
    """:func:`steady_state` for one configuration: its operations in the same order on Python
    floats (``np.maximum``/``np.where`` as max/conditionals), so the same bits; with it the
    iteration that carries one prompt beside the others (:func:`_own_prompt_scalar`), which
    :func:`_closed_loop_mixed_scalar` reuses. Its steps are :func:`mixed_step`'s on floats
    (:func:`~infercost.perf.step.step_floats`, the same bits). None where the array path
    must run (a step model with array fields, as a calibration grid has, or a divisor that
    is not positive; the token budget binds)."""
    c = scalar_step_constants(sm)
    if c is None:
        return None
    o = max(osl, 1.0)
    new_tokens = i * (1.0 - hit)
    cached = i * hit
    ctx = i + o / 2.0
    d = step_floats(c, n, ctx)  # decode_step(sm, n, ctx)
    t_d = d[_TOTAL]
    others = max(n - 1.0, 0.0)
    chunks, mix = _own_prompt_scalar(c, others, ctx, new_tokens, cached, budget)
    t_others = step_floats(c, others, ctx, graph=False)[_TOTAL] if others > 0 else 0.0
    prefill_marginal = chunks * (mix - t_others)
    first_token_s = chunks * mix
    share_per_iter = others * prefill_marginal / (chunks + o - 1.0)
    first_token_s = first_token_s + chunks * share_per_iter
    t_eager = step_floats(c, n, ctx, graph=False)[_TOTAL] if c.graph_batch_sizes else t_d
    t_base = t_d + _eager_share_scalar(others, chunks, o, max(new_tokens, 1.0), budget) * (
        t_eager - t_d
    )
    t_cycle = first_token_s + (o - 1.0) * (t_base + share_per_iter)
    demand = n + others * new_tokens / max(o - 1.0, 1.0)
    memory_s, compute_s = d[_MEMORY], d[_COMPUTE]
    if (demand > budget and o > 1.0) or not t_cycle > 0 or not max(memory_s, compute_s) > 0:
        return None
    output_tok_s = n * o / t_cycle
    ttft = req + first_token_s
    tpot = t_base + share_per_iter if o > 1.0 else 0.0
    e2e = ttft + (o - 1.0) * tpot
    figures = _Figures(
        concurrency=n + 0.0 * t_d,
        decode_step_s=t_d,
        prefill_marginal_s=prefill_marginal,
        ttft_s=ttft,
        tpot_s=tpot,
        e2e_s=e2e,
        output_tok_s=output_tok_s,
        total_tok_s=output_tok_s * (i + o) / o,
        request_s=n / t_cycle,
        prefill_time_share=n * prefill_marginal / t_cycle,
        memory_bound_share=memory_s / max(memory_s, compute_s),
    )
    return figures, (chunks, mix)


def queued_prompt_iterations(
    sm: StepModel,
    n: FloatArray,
    new_tokens: FloatArray,
    budget: FloatArray,
    cached: ArrayLike = 0.0,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """``n`` prompts of ``new_tokens`` each, all waiting, taken first-come first-served in
    iterations of ``budget`` prompt tokens: (q, first, last, t_iter) with q = new tokens /
    budget, the first prompt done after first = max(q, 1) iterations and the last after
    last = max(n q, first), and t_iter one such iteration (a budget's worth of prompt tokens,
    or all n prompts when fewer, each attending ``cached`` tokens). The burst of
    :func:`prefill_first_waves`, :func:`closed_loop_ttft_terms` and :func:`finite_run`."""
    q = new_tokens / budget
    first = np.maximum(q, 1.0)
    last = np.maximum(n * q, first)
    per_seq = np.minimum(new_tokens, budget)
    seqs = np.minimum(budget, n * new_tokens) / per_seq
    t_iter = prefill_step(sm, per_seq, seqs, cached).total_s
    return q, first, last, np.asarray(t_iter, dtype=np.float64)


def prefill_first_waves(
    sm: StepModel,
    concurrency: ArrayLike,
    isl: ArrayLike,
    osl: ArrayLike,
    token_budget: ArrayLike = 8192.0,
    request_overhead_s: ArrayLike = 0.0,
    cached_prefix_share: ArrayLike = 0.0,
) -> ServingPoint:
    """A closed loop of ``concurrency`` clients on a prefill-first scheduler (SGLang: a
    waiting prefill batch runs before the decode batch resumes; mixed chunks are off by
    default), as benchmarks run it: all N requests start at once.

    The N prompts are prefilled first-come first-served in iterations of ``token_budget``
    tokens; prompt i is done after ceil(i x q) iterations (q = new prompt tokens / budget), so
    the mean TTFT is (max(q, 1) + max(N q, 1)) / 2 iterations (exact for whole iterations;
    the mean of ceil(i q) over i = 1..N), and the batch's prefill lasts max(N q, 1)
    iterations. Then the N requests decode together for osl - 1 steps, finish together and
    return together: the waves persist, every cycle is the same. TPOT (per request, as
    (E2E - TTFT) / (osl - 1)) adds the prefill time a request waits after its own first token
    to its share of the decode steps. Source of the rule: SGLang scheduler
    (``get_next_batch_to_run``: a new prefill batch is scheduled before the running decode
    batch; ``--enable-mixed-chunk`` default off).

    Returns:
        A :class:`ServingPoint` (arrays broadcast over the inputs).
    """
    n = np.maximum(np.asarray(concurrency, dtype=np.float64), 1.0)
    i = np.asarray(isl, dtype=np.float64)
    o = np.maximum(np.asarray(osl, dtype=np.float64), 1.0)
    budget = np.asarray(token_budget, dtype=np.float64)
    hit = np.asarray(cached_prefix_share, dtype=np.float64)
    new_tokens = np.maximum(i * (1.0 - hit), 1.0)
    q, first, last, t_iter = queued_prompt_iterations(sm, n, new_tokens, budget, i * hit)
    ctx = i + o / 2.0
    d = decode_step(sm, n, ctx)
    prefill_s = last * t_iter
    mean_wait = 0.5 * (first + last) * t_iter
    steps = o - 1.0
    cycle = prefill_s + steps * d.total_s
    req = np.asarray(request_overhead_s, dtype=np.float64)
    ttft = req + mean_wait
    tpot = np.where(steps > 0, d.total_s + (prefill_s - mean_wait) / np.maximum(steps, 1.0), 0.0)
    e2e = req + cycle
    # N clients complete N / E2E requests per second (Little's law); N may be a mean below
    # 1 per data-parallel rank, whose latencies are those of one request
    clients = np.asarray(concurrency, dtype=np.float64)
    output_tok_s = clients * o / e2e
    return ServingPoint(
        concurrency=n + 0.0 * cycle,
        decode_step_s=np.asarray(d.total_s, dtype=np.float64),
        prefill_marginal_s=np.asarray(q * t_iter, dtype=np.float64),
        ttft_s=np.asarray(ttft, dtype=np.float64),
        tpot_s=np.asarray(tpot, dtype=np.float64),
        e2e_s=np.asarray(e2e, dtype=np.float64),
        output_tok_s=np.asarray(output_tok_s, dtype=np.float64),
        total_tok_s=np.asarray(output_tok_s * (i + o) / o, dtype=np.float64),
        request_s=np.asarray(clients / e2e, dtype=np.float64),
        prefill_time_share=np.asarray(prefill_s / cycle, dtype=np.float64),
        memory_bound_share=np.asarray(
            d.memory_s / np.maximum(d.memory_s, d.compute_s), dtype=np.float64
        ),
    )


#: A closed-loop benchmark's length in waves of its concurrency (requests / concurrency), used
#: where the run length is not known. InferenceMAX runs ``--num-prompts $((CONC * 10))
#: --max-concurrency $CONC`` (SemiAnalysis InferenceMAX README, "Benchmark Client
#: Configuration", 2025-10); vLLM ``bench serve`` defaults to 1,000 prompts.
CLOSED_LOOP_WAVES = 10.0


#: A random-length benchmark's default range ratio: InferenceMAX/InferenceX draw each request's
#: prompt and output lengths uniformly in [0.8 x len, len] (``--random-range-ratio 0.8`` of
#: its ``benchmark_serving.py``; SemiAnalysis InferenceMAX README, "Benchmark Client
#: Configuration", 2025-10), so their mean is 0.9 x the nominal length.
INFERENCEMAX_RANGE_RATIO = 0.8


def arrival_wave_sync(engine_wave_sync: ArrayLike, fixed_lengths: bool) -> ArrayLike:
    """How together a closed loop's requests arrive (the ``wave_sync`` of
    :func:`closed_loop_mixed`, in [0, 1]) for a workload whose lengths are fixed or vary.

    Varying lengths (real traffic, a random-length benchmark): requests that start together
    end osl x spread decode steps apart (InferenceMAX's [0.8, 1] x 1,024 output tokens spread
    the first wave's ends over about 200 iterations, against a few iterations of prefill), so
    from the second wave on each request arrives alone beside the other N - 1 decodes: 0.
    Fixed lengths (every request exactly isl/osl, as fixed-length benchmarks run): the N
    requests of a wave start, finish and return together as far as the engine keeps them
    together, which its fitted ``engine_wave_sync`` measures (fitted on fixed-length
    closed-loop rows, ``calibrate.fit``).
    """
    return engine_wave_sync if fixed_lengths else 0.0


def closed_loop_ttft_terms(
    sm: StepModel,
    concurrency: ArrayLike,
    isl: ArrayLike,
    osl: ArrayLike,
    token_budget: ArrayLike = 8192.0,
    cached_prefix_share: ArrayLike = 0.0,
) -> tuple[FloatArray, FloatArray]:
    """The two GPU-side terms of a closed-loop TTFT on a ``mixed`` scheduler (vLLM V1,
    TensorRT-LLM in-flight batching): (periodic, burst), seconds, broadcast over the inputs.

    A closed-loop benchmark starts all N clients at once and sends each client's next
    request when its previous one ends (vLLM ``bench serve --max-concurrency``, InferenceMAX,
    AIPerf). Two regimes repeat once the run is under way:

    - the N new prompts fit one iteration (N x new tokens <= budget): the N requests were
      prefilled together, decode together and end together, so the next N arrive together
      on an idle engine: periodic TTFT = one iteration holding the N prompts;
    - otherwise the first wave's prompts are spread over iterations of a full token budget;
      each request then ends osl - 1 iterations after its first token, so its successor
      arrives while the next wave's prompts are being taken at the same pace, and lands in
      an iteration full of prompt chunks beside the N - 1 running decodes (vLLM schedules
      running requests first, then prompt chunks in the rest of ``max_num_batched_tokens``):
      periodic TTFT = ceil(new / (budget - (N - 1))) such iterations.

    The start-up burst (all N prompts waiting at t = 0, served first-come first-served in
    budget-sized iterations) has the mean TTFT of :func:`prefill_first_waves`:
    (max(q, 1) + max(N q, 1)) / 2 iterations, q = new tokens / budget. A run of W waves
    averages one burst with W - 1 periodic waves (:func:`closed_loop_mixed`).

    Returns:
        (periodic_s, burst_s): the TTFT of a request in a repeating wave and the mean TTFT
        of the first wave, without request or front-end overheads.
    """
    n = np.maximum(np.asarray(concurrency, dtype=np.float64), 1.0)
    i = np.asarray(isl, dtype=np.float64)
    o = np.maximum(np.asarray(osl, dtype=np.float64), 1.0)
    budget = np.asarray(token_budget, dtype=np.float64)
    hit = np.asarray(cached_prefix_share, dtype=np.float64)
    new_tokens = np.maximum(i * (1.0 - hit), 1.0)
    cached = i * hit
    ctx = i + o / 2.0
    wave_tokens = n * new_tokens
    t_wave = mixed_step(sm, 0.0, ctx, wave_tokens, cached, n).total_s
    room = np.maximum(budget - (n - 1.0), 1.0)
    chunks = np.ceil(new_tokens / room)
    p_tok = np.minimum(room, wave_tokens)
    t_full = mixed_step(sm, n - 1.0, ctx, p_tok, cached, p_tok / new_tokens).total_s
    periodic = np.where(wave_tokens <= budget, t_wave, chunks * t_full)
    _, first, last, t_iter = queued_prompt_iterations(sm, n, new_tokens, budget, cached)
    burst = np.maximum(0.5 * (first + last) * t_iter, periodic)
    return np.asarray(periodic, dtype=np.float64), np.asarray(burst, dtype=np.float64)


def desynchronised_ttft(
    sm: StepModel,
    concurrency: ArrayLike,
    isl: ArrayLike,
    osl: ArrayLike,
    tpot_s: ArrayLike,
    token_budget: ArrayLike = 8192.0,
    cached_prefix_share: ArrayLike = 0.0,
) -> FloatArray:
    """TTFT of a request that arrives alone while the other N - 1 decode (a closed loop whose
    arrivals have spread out), seconds, without overheads: half an iteration of waiting on
    average (the steady-state ``tpot_s``), then ceil(new / (budget - (N - 1))) iterations,
    each holding a chunk of its prompt beside the N - 1 decodes (vLLM's and TensorRT-LLM's
    chunked prefill: running requests first, prompt chunks in the rest of the budget)."""
    n = np.maximum(np.asarray(concurrency, dtype=np.float64), 1.0)
    i = np.asarray(isl, dtype=np.float64)
    o = np.maximum(np.asarray(osl, dtype=np.float64), 1.0)
    hit = np.asarray(cached_prefix_share, dtype=np.float64)
    new_tokens = np.maximum(i * (1.0 - hit), 1.0)
    chunks, own = own_prompt_iteration(
        sm, n - 1.0, i + o / 2.0, new_tokens, i * hit, np.asarray(token_budget, dtype=np.float64)
    )
    return np.asarray(0.5 * np.asarray(tpot_s) + chunks * own.total_s, dtype=np.float64)


def closed_loop_mixed(
    sm: StepModel,
    concurrency: ArrayLike,
    isl: ArrayLike,
    osl: ArrayLike,
    token_budget: ArrayLike = 8192.0,
    request_overhead_s: ArrayLike = 0.0,
    cached_prefix_share: ArrayLike = 0.0,
    waves: ArrayLike = CLOSED_LOOP_WAVES,
    wave_sync: ArrayLike = 1.0,
) -> ServingPoint:
    """A closed-loop benchmark of N clients on a ``mixed`` scheduler, as it reports TTFT: the
    mean over a run of ``waves`` x N requests whose first wave starts all at once.

    ``wave_sync`` in [0, 1] weighs the periodic term between its two limits: 1, the N
    requests of a wave arrive together (:func:`closed_loop_ttft_terms`: one iteration holding
    all N prompts); 0, they arrive spread out (random lengths, client turnaround): a request
    waits half an iteration (the steady-state TPOT) and then its own prompt's chunks beside
    the N - 1 running decodes (:func:`desynchronised_ttft`), never more than the
    synchronised wave. Engines' fitted value (``EngineProfile.wave_sync``) sits between.

    TTFT = request overhead + periodic + (burst - periodic) / waves, with the terms of
    :func:`closed_loop_ttft_terms`; the median TTFT of such a run (W >= 2) is request
    overhead + periodic. Where the token budget cannot keep up with the prompts (the
    prefill-bound regime of :func:`steady_state`), its queueing TTFT is kept when larger.
    TPOT is :func:`steady_state`'s (the other prompts spread over a request's decode phase),
    except when the wave fits one iteration: then every prompt is prefilled before the first
    token and TPOT is the pure decode step at N. E2E = TTFT + (osl - 1) x TPOT, and by
    Little's law the N clients complete N / E2E requests per second: output tok/s =
    N x osl / E2E. (Checked against the simulator's closed loop in
    ``tests/sim/test_sim_closed_loop.py``.)

    Returns:
        A :class:`ServingPoint` (arrays broadcast over the inputs; numpy scalars for scalar
        inputs: :func:`_closed_loop_mixed_scalar` does the same operations on Python floats).
    """
    args = (
        concurrency,
        isl,
        osl,
        token_budget,
        request_overhead_s,
        cached_prefix_share,
        waves,
        wave_sync,
    )
    if _SCALARS.issuperset(map(type, args)):
        fast = _closed_loop_mixed_scalar(sm, *map(float, args))
        if fast is not None:
            return fast
    sp = steady_state(
        sm, concurrency, isl, osl, token_budget, request_overhead_s, cached_prefix_share
    )
    periodic, burst = closed_loop_ttft_terms(
        sm, concurrency, isl, osl, token_budget, cached_prefix_share
    )
    ws = np.asarray(wave_sync, dtype=np.float64)
    if np.any(ws < 1.0):
        spread = np.minimum(
            desynchronised_ttft(
                sm, concurrency, isl, osl, sp.tpot_s, token_budget, cached_prefix_share
            ),
            periodic,
        )
        periodic = ws * periodic + (1.0 - ws) * spread
    w = np.maximum(np.asarray(waves, dtype=np.float64), 1.0)
    req = np.asarray(request_overhead_s, dtype=np.float64)
    ttft = np.maximum(req + periodic + (burst - periodic) / w, sp.ttft_s)
    n = np.maximum(np.asarray(concurrency, dtype=np.float64), 1.0)
    i = np.asarray(isl, dtype=np.float64)
    o = np.maximum(np.asarray(osl, dtype=np.float64), 1.0)
    new_tokens = np.maximum(i * (1.0 - np.asarray(cached_prefix_share, dtype=np.float64)), 1.0)
    # a wave that fits one iteration is prefilled before its first token: no other prompt
    # falls inside a request's decode phase, each step is a pure decode step
    synced = (n * new_tokens <= np.asarray(token_budget, dtype=np.float64)) & (o > 1.0)
    tpot = np.where(synced, sp.decode_step_s, sp.tpot_s)
    e2e = ttft + (o - 1.0) * tpot
    # a closed loop of N clients completes N requests per E2E (Little's law; N may be a
    # mean below 1 per data-parallel rank)
    request_s = np.asarray(concurrency, dtype=np.float64) / e2e
    return dataclasses.replace(
        sp,
        ttft_s=np.asarray(ttft, dtype=np.float64),
        tpot_s=np.asarray(tpot, dtype=np.float64),
        e2e_s=np.asarray(e2e, dtype=np.float64),
        request_s=np.asarray(request_s, dtype=np.float64),
        output_tok_s=np.asarray(request_s * o, dtype=np.float64),
        total_tok_s=np.asarray(request_s * (i + o), dtype=np.float64),
    )


def _closed_loop_mixed_scalar(
    sm: StepModel,
    concurrency: float,
    i: float,
    osl: float,
    budget: float,
    req: float,
    hit: float,
    waves: float,
    ws: float,
) -> ServingPoint | None:
    """:func:`closed_loop_mixed` for one configuration: the operations of
    :func:`steady_state`, :func:`closed_loop_ttft_terms` and :func:`desynchronised_ttft` in
    the same order on Python floats, so the same bits; the periodic term's step is taken only
    in the regime it applies to (``np.where`` evaluates both). None where the array path must
    run (:func:`_steady_state_scalar` declines, or an input is not finite)."""
    if not (budget > 0 and all(map(math.isfinite, (concurrency, i, osl, hit, waves, ws)))):
        return None
    steady = _steady_state_scalar(sm, concurrency, i, osl, budget, req, hit)
    if steady is None:
        return None
    c = scalar_step_constants(sm)  # the constants _steady_state_scalar stepped (kept)
    if c is None:
        return None
    sp, own_iteration = steady
    n = max(concurrency, 1.0)
    o = max(osl, 1.0)
    new_tokens = max(i * (1.0 - hit), 1.0)
    cached = i * hit
    ctx = i + o / 2.0
    # closed_loop_ttft_terms: the periodic wave, then the start-up burst
    wave_tokens = n * new_tokens
    if wave_tokens <= budget:
        periodic = step_floats(c, 0.0, ctx, wave_tokens, cached, n)[_TOTAL]  # mixed_step
    else:
        room = max(budget - (n - 1.0), 1.0)
        chunks = float(math.ceil(new_tokens / room))
        p_tok = min(room, wave_tokens)
        t_full = step_floats(c, n - 1.0, ctx, p_tok, cached, p_tok / new_tokens)[_TOTAL]
        periodic = chunks * t_full
    q = new_tokens / budget
    first = max(q, 1.0)
    last = max(n * q, first)
    per_seq = min(new_tokens, budget)
    seqs = min(budget, wave_tokens) / per_seq
    t_iter = step_floats(c, 0.0, 0.0, per_seq * seqs, cached, seqs)[_TOTAL]  # prefill_step
    burst = max(0.5 * (first + last) * t_iter, periodic)
    tpot_steady = sp.tpot_s
    if ws < 1.0:  # desynchronised_ttft, never more than the synchronised wave
        if concurrency >= 1.0 and i * (1.0 - hit) >= 1.0:  # steady_state's arguments exactly
            chunks_own, own = own_iteration
        else:
            chunks_own, own = _own_prompt_scalar(c, n - 1.0, ctx, new_tokens, cached, budget)
        spread = min(0.5 * tpot_steady + chunks_own * own, periodic)
        periodic = ws * periodic + (1.0 - ws) * spread
    w = max(waves, 1.0)
    ttft = max(req + periodic + (burst - periodic) / w, sp.ttft_s)
    synced = wave_tokens <= budget and o > 1.0
    tpot = sp.decode_step_s if synced else tpot_steady
    e2e = ttft + (o - 1.0) * tpot
    request_s = concurrency / e2e
    return _Figures(
        concurrency=sp.concurrency,
        decode_step_s=sp.decode_step_s,
        prefill_marginal_s=sp.prefill_marginal_s,
        ttft_s=ttft,
        tpot_s=tpot,
        e2e_s=e2e,
        output_tok_s=request_s * o,
        total_tok_s=request_s * (i + o),
        request_s=request_s,
        prefill_time_share=sp.prefill_time_share,
        memory_bound_share=sp.memory_bound_share,
    ).point()


def closed_loop(
    sm: StepModel,
    concurrency: ArrayLike,
    isl: ArrayLike,
    osl: ArrayLike,
    token_budget: ArrayLike = 8192.0,
    request_overhead_s: ArrayLike = 0.0,
    cached_prefix_share: ArrayLike = 0.0,
    scheduling: str = "mixed",
    waves: ArrayLike = CLOSED_LOOP_WAVES,
    wave_sync: ArrayLike = 1.0,
) -> ServingPoint:
    """N clients in a closed loop under the engine's scheduling rule
    (``EngineProfile.prefill_scheduling``): ``mixed`` (vLLM, TensorRT-LLM: prompt chunks share
    iterations with the running decodes; :func:`closed_loop_mixed`) or ``prefill-first``
    (SGLang: :func:`prefill_first_waves`, whose waves repeat, so the run length does not
    matter)."""
    if scheduling == "prefill-first":
        return prefill_first_waves(
            sm, concurrency, isl, osl, token_budget, request_overhead_s, cached_prefix_share
        )
    return closed_loop_mixed(
        sm,
        concurrency,
        isl,
        osl,
        token_budget,
        request_overhead_s,
        cached_prefix_share,
        waves,
        wave_sync,
    )


def finite_run(
    sm: StepModel,
    slots: float,
    requests: float,
    isl: ArrayLike,
    osl: ArrayLike,
    token_budget: ArrayLike = 8192.0,
    request_overhead_s: ArrayLike = 0.0,
    scheduling: str = "mixed",
) -> ServingPoint:
    """An offline run of ``requests`` fixed-length requests, all queued at t = 0, on an engine
    that runs at most ``slots`` at once (one data-parallel rank's share), as ``trtllm-bench
    throughput`` runs its synthetic datasets; the throughput is what such a benchmark prints:
    output tokens over the run's makespan (first request in to last token out).

    The first ``n = min(slots, requests)`` prompts are admitted in iterations of the token
    budget, so their starts spread over S = (max(n q, q1) - q1) prefill iterations (q = isl /
    budget, q1 = max(q, 1); :func:`closed_loop_ttft_terms`' burst). With fixed lengths a slot
    then takes a new request every C seconds (the periodic cycle of :func:`closed_loop` at
    n, its E2E: n / C requests a second by Little's law, whether decode or the prompts'
    token budget bounds it), keeping its offset in [0, S]. The request a slot admits last
    runs L_x = request overhead + its prompt's iterations + (osl - 1) decode steps at the
    batch x that is left (no prompt is waiting any more). With ``requests = (k - 1) n + r``
    (1 <= r <= n), the last request starts in wave k at offset (r / n) S, and the slots
    without a k-th request end at (k - 2) C + S + L_n:

        makespan = max((k - 1) C + (r / n) S + L_r, (k - 2) C + S + L_n)   (k >= 2)
        makespan = S + L_n                                                 (k = 1)

    and never below the steady state's ``requests / n`` cycles (a finite run's ramps only
    lose time). A run of few waves is slower than the steady state by its partial last wave
    and its admission spread: 3,000 requests on 2,048 slots take two waves, not 1.46.
    Mean TTFT counts the queue: a request of wave j waits (j - 1) C plus
    its slot's offset, then request overhead and its prompt's iterations.

    Args:
        sm: per-GPU step constants (arrays broadcast).
        slots: sequences the engine runs at once (scalar, >= 1).
        requests: requests in the run (scalar, >= 1).
        isl, osl: tokens per request.
        token_budget: tokens per iteration (``max_num_tokens``).
        request_overhead_s: per-request time before its first token.
        scheduling: the engine's prefill scheduling rule (:func:`closed_loop`).

    Returns:
        A :class:`ServingPoint` whose ``output_tok_s`` = requests x osl / makespan and
        ``request_s`` = requests / makespan; ``ttft_s`` and ``e2e_s`` are run means.

    Raises:
        ValueError: ``slots`` or ``requests`` below 1.
    """
    if not (slots >= 1.0 and requests >= 1.0):
        raise ValueError(f"finite_run needs slots >= 1 and requests >= 1, got {slots}, {requests}")
    n = float(min(slots, requests))
    k = math.ceil(requests / n - 1e-9)
    r = requests - (k - 1) * n
    i = np.asarray(isl, dtype=np.float64)
    o = np.maximum(np.asarray(osl, dtype=np.float64), 1.0)
    budget = np.asarray(token_budget, dtype=np.float64)
    req = np.asarray(request_overhead_s, dtype=np.float64)
    full = closed_loop(sm, n, i, o, budget, req, 0.0, scheduling, math.inf, 1.0)
    cycle = np.asarray(full.e2e_s, dtype=np.float64)
    # the admission spread of n queued prompts (prompt j is in after ceil(j q) budget-sized
    # prefill iterations), and one prompt's own iterations
    _, first, last, t_iter = queued_prompt_iterations(sm, np.asarray(n), i, budget)
    spread = (last - first) * t_iter
    own_prompt = req + first * t_iter
    ctx = i + o / 2.0

    def last_latency(batch: float) -> FloatArray:
        return np.asarray(
            own_prompt + (o - 1.0) * decode_step(sm, batch, ctx).total_s, dtype=np.float64
        )

    l_n = last_latency(n)
    if k == 1:
        makespan = spread + l_n
    else:
        l_r = l_n if r == n else last_latency(r)
        makespan = np.maximum(
            (k - 1) * cycle + (r / n) * spread + l_r, (k - 2) * cycle + spread + l_n
        )
    # never faster than the steady state, whose n slots are full all the time
    makespan = np.maximum(makespan, requests / n * cycle)
    # mean wait before a request's own prompt: waves 1..k-1 of n at (j - 1) C + S / 2, then r
    # at (k - 1) C + (r / n) S / 2
    waits = (
        n * ((k - 1) * (k - 2) / 2.0 * cycle + (k - 1) * spread / 2.0)
        + r * ((k - 1) * cycle + (r / n) * spread / 2.0)
    ) / requests
    ttft = waits + own_prompt
    e2e = ttft + (o - 1.0) * np.asarray(full.tpot_s)
    request_s = requests / makespan
    return dataclasses.replace(
        full,
        ttft_s=np.asarray(ttft, dtype=np.float64),
        e2e_s=np.asarray(e2e, dtype=np.float64),
        request_s=np.asarray(request_s, dtype=np.float64),
        output_tok_s=np.asarray(request_s * o, dtype=np.float64),
        total_tok_s=np.asarray(request_s * (i + o), dtype=np.float64),
    )


def static_batch(
    sm: StepModel,
    batch: ArrayLike,
    isl: ArrayLike,
    osl: ArrayLike,
    token_budget: ArrayLike = 8192.0,
    decode_points: int = 8,
) -> ServingPoint:
    """Static batching: ``batch`` prompts are prefilled (in budget-sized iterations), then
    ``osl - 1`` decode steps run with the context growing from isl to isl + osl.

    The decode sum is a midpoint rule over ``decode_points`` context segments (decode time is
    linear in context, so a few points are exact up to rounding).
    """
    b = np.asarray(batch, dtype=np.float64)
    i = np.asarray(isl, dtype=np.float64)
    o = np.maximum(np.asarray(osl, dtype=np.float64), 1.0)
    budget = np.asarray(token_budget, dtype=np.float64)
    seqs_per_iter = np.clip(np.floor(budget / np.maximum(i, 1.0)), 1.0, b)
    iters = np.ceil(b / seqs_per_iter)
    prefill = iters * prefill_step(sm, i, seqs_per_iter).total_s
    steps = o - 1.0
    decode_total = np.zeros_like(prefill + steps)
    for k in range(decode_points):
        ctx = i + (k + 0.5) / decode_points * steps
        decode_total = decode_total + steps / decode_points * decode_step(sm, b, ctx).total_s
    total = prefill + decode_total
    tpot = np.where(steps > 0, decode_total / np.maximum(steps, 1.0), 0.0)
    d_mid = decode_step(sm, b, i + o / 2.0)
    return ServingPoint(
        concurrency=b + 0.0 * total,
        decode_step_s=d_mid.total_s,
        prefill_marginal_s=prefill / b,
        ttft_s=prefill,
        tpot_s=tpot,
        e2e_s=total,
        output_tok_s=b * o / total,
        total_tok_s=b * (i + o) / total,
        request_s=b / total,
        prefill_time_share=prefill / total,
        memory_bound_share=d_mid.memory_s / np.maximum(d_mid.memory_s, d_mid.compute_s),
    )
