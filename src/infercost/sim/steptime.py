"""Scalar fast path of :func:`infercost.perf.step.mixed_step` for the simulator's inner loop.

``mixed_step`` broadcasts numpy arrays; one call costs tens of microseconds, far too slow for
the millions of iterations a simulation of 10^5 requests runs. :class:`FastStep` computes the
same roofline with plain float arithmetic from the fields of one
:class:`~infercost.perf.step.StepModel` (a test pins agreement with ``mixed_step`` to 1e-9).

It also generalises ``mixed_step`` in the two ways the scheduler needs:

- several prefill chunks of different lengths and offsets in one iteration (``mixed_step``
  takes one chunk size and offset for all prefilling sequences);
- speculative-decoding verify steps, where each decoding sequence runs ``q = k + 1`` query
  tokens (k drafts plus the bonus position) against its context: linear-layer and LM-head
  FLOP scale with q, the KV cache is read once, and attention FLOP is q x the decode pairs
  (the q^2 / 2 pairs among the new tokens are dropped; q is small against the context).

Physics, sources and symbols are those of :mod:`infercost.perf.step`: the GEMMs (weights) and
the attention kernels (KV cache) each take the slower of their memory traffic and arithmetic,
and their times add, plus communication and overhead. If ``mixed_step`` changes, the
agreement test (tests/sim/test_steptime.py) fails until this mirror follows.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from infercost.errors import InputError
from infercost.perf.step import (
    ACTIVATION_BYTES,
    StepModel,
    collective_bytes_s,
    expert_dequant_scale,
    oneshot_threshold_bytes,
)


def _scalar(name: str, value: object) -> float:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != 0:
        raise InputError(
            f"The simulator needs a StepModel of one configuration, but its field {name!r} "
            f"has shape {arr.shape}; build it with perf.step.step_model(...) for one deployment."
        )
    v = float(arr)
    if not np.isfinite(v) or v < 0:
        raise InputError(f"StepModel field {name!r} must be finite and >= 0, got {v}.")
    return v


class FastStep:
    """Step times of one deployment as plain-float functions (seconds).

    Attributes are the StepModel's constants pre-multiplied into per-unit costs: seconds of
    memory traffic per byte, seconds of compute per FLOP, and so on.

    Raises:
        InputError: a StepModel with array-valued fields or negative/non-finite figures.
    """

    __slots__ = (
        "_act_cached_tokens",
        "_cmp_attn_pre_s",
        "_cmp_attn_s",
        "_cmp_expert_s",
        "_cmp_lm_head_s",
        "_cmp_token_s",
        "_comm_const_s",
        "_comm_oneshot_s",
        "_comm_per_token_s",
        "_expert_log_ranks",
        "_expert_miss",
        "_expert_pairs",
        "_expert_tile",
        "_full",
        "_index_cmp_s",
        "_index_mem_s",
        "_layers",
        "_mem_attn_ctx_s",
        "_mem_dense_act_s",
        "_mem_expert_act_pair_s",
        "_mem_expert_act_tok_s",
        "_mem_expert_s",
        "_mem_fixed_s",
        "_mem_kv_write_s",
        "_mem_logits_s",
        "_moe_scale",
        "_num_experts",
        "_oneshot_tokens",
        "_overhead_s",
        "_seq_overhead_s",
        "_sliding",
        "_state_cmp_s",
        "_state_mem_s",
        "_token_overhead_s",
        "_topk",
        "_window",
    )

    def __init__(self, sm: StepModel) -> None:
        f = {name: _scalar(name, getattr(sm, name)) for name in _SCALAR_FIELDS}
        bw = f["mem_bw_bytes_s"] * f["mbu"]
        flops = f["peak_flop_s"] * f["mfu"]
        if bw <= 0 or flops <= 0:
            raise InputError(
                "StepModel bandwidth x MBU and peak FLOP/s x MFU must be positive; check the "
                "accelerator and engine profile."
            )
        self._full = f["full_layers"]
        self._sliding = f["sliding_layers"]
        self._layers = f["full_layers"] + f["sliding_layers"]
        self._window = float(sm.sliding_window)
        self._topk = float(sm.dsa_topk)
        self._index_mem_s = f["index_bytes_per_ctx"] / bw  # per (sequence, context token)
        self._state_mem_s = 2.0 * f["state_bytes_per_seq"] / bw  # read + write per sequence
        self._num_experts = float(sm.num_experts)
        self._moe_scale = f["moe_token_scale"]
        self._expert_miss = 1.0 - sm.experts_per_token / sm.num_experts if sm.num_experts else 1.0
        kv = f["kv_layer_token_bytes"]
        self._mem_fixed_s = f["dense_bytes"] / bw
        self._mem_expert_s = f["expert_bytes"] / bw
        self._mem_attn_ctx_s = kv / bw  # per (sequence, effective context token) read
        self._mem_kv_write_s = kv * self._layers / bw  # per new token written
        self._cmp_token_s = f["linear_flop_per_token"] / flops
        self._cmp_lm_head_s = f["lm_head_flop_per_seq"] / (flops * f["lm_head_peak_ratio"])
        attn_flops = flops * f["attn_peak_ratio"]
        self._cmp_attn_s = f["attn_flop_per_ctx"] / attn_flops
        pre = f["attn_flop_per_ctx_prefill"] or f["attn_flop_per_ctx"]
        self._cmp_attn_pre_s = pre / attn_flops
        self._index_cmp_s = f["index_flop_per_ctx"] / attn_flops
        self._state_cmp_s = f["state_flop_per_token"] / attn_flops
        # routed experts: grouped GEMM over (token, expert) pairs, a tile of rows at least
        # per touched expert, at the experts' own peak (perf.step)
        self._expert_pairs = f["expert_pairs_per_token"]
        self._expert_log_ranks = f["expert_log_ranks"]  # wide EP: busiest rank (perf.comm)
        k = float(sm.experts_per_token) or 1.0
        self._expert_tile = f["expert_tile_rows"] * self._expert_pairs / k
        # weight-only (dequantising) expert GEMMs at their own share of the MFU (perf.step)
        deq = f["expert_dequant_efficiency"]
        self._cmp_expert_s = f["expert_flop_per_pair"] / (
            flops * f["expert_peak_ratio"] * expert_dequant_scale(f["expert_dequant"], deq)
        )
        self._mem_expert_act_pair_s = f["expert_act_bytes_per_pair"] / bw
        self._mem_expert_act_tok_s = f["expert_act_bytes_per_token"] / bw
        self._mem_dense_act_s = f["dense_act_bytes_per_token"] / bw
        self._act_cached_tokens = f["act_cached_tokens"]
        tp, pp = f["tp"], f["pp"]
        link = float(
            collective_bytes_s(
                f["link_bytes_s"],
                f["comm_efficiency"],
                f["nvlink_peers"],
                f["pcie_bytes_s"],
                f["tp_local"] or tp,
            )
        )
        lat = f["allreduce_latency_s"]
        msg_per_token = sm.hidden_size * ACTIVATION_BYTES
        comm_const = 0.0
        comm_tok = 0.0
        allreduces = f["allreduces_per_step"] or 2.0 * self._layers
        tl = f["tp_local"] or tp  # NVLink stage of a TP group spanning domains (perf.comm)
        oneshot_tok = 0.0
        oneshot_s = 0.0
        if tp > 1:  # log2(TP) latency rounds per all-reduce (perf.step.comm_s)
            comm_const += allreduces * lat * math.log2(max(tp, 2.0))
            ring = 2.0 * (tl - 1.0) / tl
            comm_tok += allreduces * ring * msg_per_token / link
            # one-shot's extra bytes up to the engine's threshold (allreduce_traffic_bytes)
            thr = float(
                oneshot_threshold_bytes(
                    tl, tp, f["nvlink_peers"], f["oneshot_max_bytes_4"], f["oneshot_max_bytes_8"]
                )
            )
            if thr > 0:
                oneshot_tok = thr / msg_per_token
                oneshot_s = allreduces * ((tl - 1.0) - ring) * msg_per_token / link
        a2a = f["alltoalls_per_step"]
        comm_const += a2a * lat
        comm_tok += a2a * f["alltoall_bytes_per_token"] / link
        local_handoffs = pp - 1.0 - f["pp_cross"]
        comm_const += local_handoffs * lat
        comm_tok += local_handoffs * msg_per_token / link if pp > 1 else 0.0
        comm_const += f["scaleout_const_s"]
        comm_tok += f["scaleout_per_token_s"]
        self._comm_const_s = comm_const
        self._comm_per_token_s = comm_tok
        self._oneshot_tokens = oneshot_tok
        self._comm_oneshot_s = oneshot_s
        self._overhead_s = f["step_overhead_s"] + f["moe_layer_overhead_s"] * f["moe_layers"]
        self._token_overhead_s = f["token_overhead_s"]
        self._mem_logits_s = f["logits_bytes_per_seq"] / bw  # per sequence emitting a token
        self._seq_overhead_s = f["seq_overhead_s"]

    def eff_context(self, context: float) -> float:
        """Context tokens summed over this GPU's layers, window-capped on sliding layers."""
        w = self._window
        full = min(context, self._topk) if self._topk else context
        if w and context > w:
            return self._full * full + self._sliding * w
        return self._full * full + self._sliding * context

    @staticmethod
    def _capped_pairs(n: float, c0: float, cap: float) -> float:
        """Scalar :func:`infercost.perf.step.capped_pairs`."""
        full = n * c0 + n * n / 2.0
        if not cap:
            return full
        below = min(max(cap - c0, 0.0), n)
        return min(full, below * c0 + below * below / 2.0 + (n - below) * cap)

    def chunk_pairs(self, tokens: float, ctx_before: float) -> float:
        """Causal (query, context) pairs of a prefill chunk summed over this GPU's layers:
        n x c0 + n^2 / 2 per full layer (capped at the DSA top-k), window-capped on sliding
        layers (``perf.step.capped_pairs``)."""
        full = self._capped_pairs(tokens, ctx_before, self._topk)
        sliding = self._capped_pairs(tokens, ctx_before, self._window)
        return self._full * full + self._sliding * sliding

    def time_s(
        self,
        decode_seqs: float,
        decode_ctx_sum: float,
        prefill_tokens: float = 0.0,
        prefill_seqs: float = 0.0,
        prefill_eff_ctx_sum: float = 0.0,
        prefill_pairs: float = 0.0,
        query_per_seq: float = 1.0,
    ) -> float:
        """Seconds of one iteration.

        Args:
            decode_seqs: b decoding sequences.
            decode_ctx_sum: their contexts summed (tokens); the mean ``sum / b`` enters the
                window cap, as in ``mixed_step``.
            prefill_tokens: new prompt tokens of all chunks in the iteration.
            prefill_seqs: sequences those chunks belong to.
            prefill_eff_ctx_sum: sum over chunks of :meth:`eff_context` of their offsets.
            prefill_pairs: sum over chunks of :meth:`chunk_pairs`.
            query_per_seq: tokens each decoding sequence runs (k + 1 for a speculative
                verify step, 1 otherwise).
        """
        b = decode_seqs
        dec_tokens = b * query_per_seq
        tokens = dec_tokens + prefill_tokens
        dec_eff = self.eff_context(decode_ctx_sum / b) * b if b > 0 else 0.0
        act_tokens = tokens - self._act_cached_tokens
        weights = self._mem_fixed_s + self._mem_dense_act_s * (
            act_tokens if act_tokens > 0 else 0.0
        )
        experts_mem = experts_cmp = 0.0
        if self._num_experts:
            seen = max(tokens, 0.0) * self._moe_scale
            touched = self._num_experts * (1.0 - self._expert_miss**seen)
            pairs = seen * self._expert_pairs
            if self._expert_log_ranks:
                pairs += (2.0 * self._expert_log_ranks * pairs) ** 0.5
            experts_mem = (
                touched * self._mem_expert_s
                + pairs * self._mem_expert_act_pair_s
                + tokens * self._mem_expert_act_tok_s
            )
            experts_cmp = max(pairs, self._expert_tile * touched) * self._cmp_expert_s
        linear = self._cmp_token_s * tokens + self._cmp_lm_head_s * (dec_tokens + prefill_seqs)
        kv = self._mem_attn_ctx_s * (dec_eff + prefill_eff_ctx_sum) + self._mem_kv_write_s * tokens
        attn = self._cmp_attn_s * dec_eff * query_per_seq + self._cmp_attn_pre_s * prefill_pairs
        if self._index_mem_s or self._state_mem_s:
            # DSA indexer over the whole context and the recurrent state per sequence; for
            # prefill chunks the indexer is counted over the new tokens' pairs (the scheduler
            # passes window/top-k-capped pairs, so long prompts are an underestimate)
            kv += self._index_mem_s * (decode_ctx_sum + prefill_tokens)
            kv += self._state_mem_s * (b + prefill_seqs)
            attn += self._index_cmp_s * (decode_ctx_sum * query_per_seq + prefill_pairs)
            attn += self._state_cmp_s * tokens
        # GEMMs and attention are separate kernels, each with its own roofline (perf.step).
        return (
            (weights if weights > linear else linear)
            + (experts_mem if experts_mem > experts_cmp else experts_cmp)
            + (kv if kv > attn else attn)
            + self._mem_logits_s * (dec_tokens + prefill_seqs)
            + self._comm_const_s
            + self._comm_per_token_s * tokens
            + self._comm_oneshot_s
            * (tokens if tokens < self._oneshot_tokens else self._oneshot_tokens)
            + self._overhead_s
            + self._token_overhead_s * tokens
            + self._seq_overhead_s * (b + prefill_seqs)
        )

    def time_fn(self) -> Callable[..., float]:
        """:meth:`time_s` as a closure over this deployment's constants, for the scheduler's
        prompt iterations. For a dense model with no sliding window, DSA top-k, indexer or
        recurrent state, the terms that are zero are dropped and the rest computed in the
        same order (the same bits as :meth:`time_s`; a test pins it); on one GPU without
        per-token or per-sequence overheads, also the communication and overhead terms that
        are then zero; otherwise :meth:`time_s` itself."""
        if self._num_experts or self._window or self._topk:
            return self.time_s
        if self._index_mem_s or self._state_mem_s:
            return self.time_s
        full_l, sliding_l = self._full, self._sliding
        act_cached = self._act_cached_tokens
        mem_fixed, mem_dense_act = self._mem_fixed_s, self._mem_dense_act_s
        cmp_token, cmp_lm_head = self._cmp_token_s, self._cmp_lm_head_s
        mem_attn_ctx, mem_kv_write = self._mem_attn_ctx_s, self._mem_kv_write_s
        cmp_attn, cmp_attn_pre = self._cmp_attn_s, self._cmp_attn_pre_s
        mem_logits, comm_const, comm_tok = (
            self._mem_logits_s,
            self._comm_const_s,
            (self._comm_per_token_s),
        )
        overhead, tok_overhead, seq_overhead = (
            self._overhead_s,
            self._token_overhead_s,
            self._seq_overhead_s,
        )
        oneshot_s, oneshot_tok = self._comm_oneshot_s, self._oneshot_tokens

        if not (sliding_l or comm_const or comm_tok or oneshot_s or tok_overhead or seq_overhead):
            # one GPU's full-attention model without per-token or per-sequence overheads (the
            # common case): the zero terms dropped too (adding 0.0 changes no bits)

            def lean_time_s(
                b: float,
                decode_ctx_sum: float,
                prefill_tokens: float = 0.0,
                prefill_seqs: float = 0.0,
                prefill_eff_ctx_sum: float = 0.0,
                prefill_pairs: float = 0.0,
                query_per_seq: float = 1.0,
            ) -> float:
                dec_tokens = b * query_per_seq
                tokens = dec_tokens + prefill_tokens
                dec_eff = full_l * (decode_ctx_sum / b) * b if b > 0 else 0.0
                act_tokens = tokens - act_cached
                weights = mem_fixed + mem_dense_act * (act_tokens if act_tokens > 0.0 else 0.0)
                seq_tokens = dec_tokens + prefill_seqs
                linear = cmp_token * tokens + cmp_lm_head * seq_tokens
                kv = mem_attn_ctx * (dec_eff + prefill_eff_ctx_sum) + mem_kv_write * tokens
                attn = cmp_attn * dec_eff * query_per_seq + cmp_attn_pre * prefill_pairs
                return (
                    (weights if weights > linear else linear)
                    + (kv if kv > attn else attn)
                    + mem_logits * seq_tokens
                    + overhead
                )

            return lean_time_s

        def time_s(
            b: float,
            decode_ctx_sum: float,
            prefill_tokens: float = 0.0,
            prefill_seqs: float = 0.0,
            prefill_eff_ctx_sum: float = 0.0,
            prefill_pairs: float = 0.0,
            query_per_seq: float = 1.0,
        ) -> float:
            dec_tokens = b * query_per_seq
            tokens = dec_tokens + prefill_tokens
            if b > 0:
                x = decode_ctx_sum / b
                dec_eff = (full_l * x + sliding_l * x) * b
            else:
                dec_eff = 0.0
            act_tokens = tokens - act_cached
            weights = mem_fixed + mem_dense_act * (act_tokens if act_tokens > 0.0 else 0.0)
            linear = cmp_token * tokens + cmp_lm_head * (dec_tokens + prefill_seqs)
            kv = mem_attn_ctx * (dec_eff + prefill_eff_ctx_sum) + mem_kv_write * tokens
            attn = cmp_attn * dec_eff * query_per_seq + cmp_attn_pre * prefill_pairs
            return (
                (weights if weights > linear else linear)
                + (kv if kv > attn else attn)
                + mem_logits * (dec_tokens + prefill_seqs)
                + comm_const
                + comm_tok * tokens
                + oneshot_s * (tokens if tokens < oneshot_tok else oneshot_tok)
                + overhead
                + tok_overhead * tokens
                + seq_overhead * (b + prefill_seqs)
            )

        return time_s

    def decode_time_s(
        self, decode_seqs: float, decode_ctx_sum: float, query_per_seq: float = 1.0
    ) -> float:
        """Seconds of a decode-only iteration (see :meth:`time_s`)."""
        return self.time_s(decode_seqs, decode_ctx_sum, query_per_seq=query_per_seq)


_SCALAR_FIELDS = (
    "dense_bytes",
    "expert_bytes",
    "kv_layer_token_bytes",
    "full_layers",
    "sliding_layers",
    "linear_flop_per_token",
    "lm_head_flop_per_seq",
    "attn_flop_per_ctx",
    "mem_bw_bytes_s",
    "peak_flop_s",
    "mbu",
    "mfu",
    "step_overhead_s",
    "allreduce_latency_s",
    "tp",
    "pp",
    "link_bytes_s",
    "comm_efficiency",
    "nvlink_peers",
    "pcie_bytes_s",
    "token_overhead_s",
    "logits_bytes_per_seq",
    "expert_flop_per_pair",
    "expert_pairs_per_token",
    "expert_tile_rows",
    "expert_act_bytes_per_pair",
    "expert_act_bytes_per_token",
    "dense_act_bytes_per_token",
    "act_cached_tokens",
    "expert_peak_ratio",
    "lm_head_peak_ratio",
    "attn_peak_ratio",
    "attn_flop_per_ctx_prefill",
    "seq_overhead_s",
    "index_bytes_per_ctx",
    "index_flop_per_ctx",
    "state_bytes_per_seq",
    "state_flop_per_token",
    "allreduces_per_step",
    "moe_token_scale",
    "tp_local",
    "pp_cross",
    "scaleout_const_s",
    "scaleout_per_token_s",
    "expert_log_ranks",
    "alltoalls_per_step",
    "alltoall_bytes_per_token",
    "moe_layers",
    "moe_layer_overhead_s",
    "oneshot_max_bytes_4",
    "oneshot_max_bytes_8",
    "expert_dequant",
    "expert_dequant_efficiency",
)
