"""Payback of one-off work and of serving features: ``infercost plan payback``.

**Distillation.** A student model takes ``traffic_share`` of the requests; a fraction
(1 - quality retention) of those fail the quality bar and are re-served by the teacher
(paying both). Per million tokens moved the saving is

    teacher - student - (1 - q) x teacher = q x teacher - student

so with V million tokens a month,

    monthly saving = V x share x (q x teacher $/M - student $/M) - extra ops $/month
    payback months = training $ ÷ monthly saving        (never when the saving is <= 0)

**Speculative decoding** at an operating point (N sequences, context c = isl + osl/2): a draft
proposes k tokens per sequence, the target verifies them in one forward pass of k + 1 tokens
per sequence, and a sequence keeps on average E = (1 - a^(k+1)) ÷ (1 - a) tokens
(Leviathan et al. 2023, arXiv:2211.17192; ``infercost.sim.expected_tokens_per_step``):

    t_iteration = k x t_draft + t_verify          t_verify = prefill step of N x (k+1) tokens
    decode time per token = t_iteration ÷ E        (vs one plain decode step)
    T_cycle' = osl x t_iteration ÷ E + N x prefill marginal time

and output tok/s = N x osl ÷ T_cycle'; $/M scales with 1 ÷ tok/s. At large batches the verify
pass becomes compute-bound and the ratio can fall below 1 (spec decoding then costs money).
The verify pass computes logits for one position per sequence (the LM head of the other k is
not counted).

**Prefix caching**: :func:`infercost.perf.serving.steady_state` with ``cached_prefix_share``
(the cached part of each prompt skips prefill) against the same point without.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from infercost.catalog import get_accelerator, get_engine, get_model, get_quant_format
from infercost.catalog.schema import DTYPE_BYTES
from infercost.errors import InputError
from infercost.perf.serving import ServingPoint, steady_state
from infercost.perf.step import StepModel, decode_step, prefill_step, step_model
from infercost.plan.candidate import Candidate
from infercost.plan.search import search
from infercost.predict import default_weight_dtype, resolve
from infercost.sim import expected_tokens_per_step
from infercost.units import TOKENS_PER_M


def _finite(name: str, value: float, low: float = 0.0, high: float = math.inf) -> None:
    if not (math.isfinite(value) and low <= value <= high):
        raise InputError(f"{name} must lie in [{low:g}, {high:g}], got {value!r}.")


@dataclass(frozen=True, slots=True)
class DistillationPayback:
    """Distillation economics (US$).

    Attributes:
        training_usd, teacher_usd_per_m, student_usd_per_m, tokens_per_month, traffic_share,
        quality_retention, extra_ops_usd_per_month: the inputs.
        saving_usd_per_m_moved: q x teacher - student.
        monthly_saving_usd: saving per month after extra operations.
        payback_months: training ÷ monthly saving (None: never pays back).
    """

    training_usd: float
    teacher_usd_per_m: float
    student_usd_per_m: float
    tokens_per_month: float
    traffic_share: float
    quality_retention: float
    extra_ops_usd_per_month: float
    saving_usd_per_m_moved: float
    monthly_saving_usd: float
    payback_months: float | None

    def cumulative_usd(self, months: int = 24) -> list[float]:
        """Net position at the end of months 0..``months``: saving x t - training."""
        t = np.arange(months + 1, dtype=np.float64)
        return [float(x) for x in self.monthly_saving_usd * t - self.training_usd]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "training_usd": self.training_usd,
            "teacher_usd_per_m": self.teacher_usd_per_m,
            "student_usd_per_m": self.student_usd_per_m,
            "tokens_per_month": self.tokens_per_month,
            "traffic_share": self.traffic_share,
            "quality_retention": self.quality_retention,
            "extra_ops_usd_per_month": self.extra_ops_usd_per_month,
            "saving_usd_per_m_moved": self.saving_usd_per_m_moved,
            "monthly_saving_usd": self.monthly_saving_usd,
            "payback_months": self.payback_months,
        }


def distillation_payback(
    training_usd: float,
    teacher_usd_per_m: float,
    student_usd_per_m: float,
    tokens_per_month: float,
    *,
    traffic_share: float = 1.0,
    quality_retention: float = 1.0,
    extra_ops_usd_per_month: float = 0.0,
) -> DistillationPayback:
    """Months until a distilled student pays back its training (module docstring).

    Raises:
        InputError: negative money or volume; a share or retention outside [0, 1].
    """
    _finite("--training-usd", training_usd)
    _finite("--teacher-usd-per-m", teacher_usd_per_m)
    _finite("--student-usd-per-m", student_usd_per_m)
    _finite("--tokens-per-month", tokens_per_month)
    _finite("--traffic-share", traffic_share, 0.0, 1.0)
    _finite("--quality-retention", quality_retention, 0.0, 1.0)
    _finite("--extra-ops-usd-per-month", extra_ops_usd_per_month)
    per_m = quality_retention * teacher_usd_per_m - student_usd_per_m
    monthly = tokens_per_month / TOKENS_PER_M * traffic_share * per_m - extra_ops_usd_per_month
    months = training_usd / monthly if monthly > 0 else None
    return DistillationPayback(
        training_usd, teacher_usd_per_m, student_usd_per_m, tokens_per_month, traffic_share,
        quality_retention, extra_ops_usd_per_month, per_m, monthly, months,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class FeatureRoi:
    """A serving feature at one operating point: before and after.

    Attributes:
        feature: ``speculative decoding`` or ``prefix caching``.
        operating_point: the configuration (from the search, or as given).
        detail: the feature's parameters in words.
        output_tok_s_before, output_tok_s_after: replica throughput.
        tpot_s_before, tpot_s_after, ttft_s_before, ttft_s_after: mean latencies.
        usd_per_m_before, usd_per_m_after: $/M output incl. input (None without a price).
        tokens_per_month: volume for the monthly figure (0: none).
    """

    feature: str
    operating_point: Candidate
    detail: str
    output_tok_s_before: float
    output_tok_s_after: float
    tpot_s_before: float
    tpot_s_after: float
    ttft_s_before: float
    ttft_s_after: float
    usd_per_m_before: float | None
    usd_per_m_after: float | None
    tokens_per_month: float = 0.0

    @property
    def throughput_ratio(self) -> float:
        """after ÷ before output tok/s (> 1: the feature pays)."""
        return self.output_tok_s_after / self.output_tok_s_before

    @property
    def monthly_saving_usd(self) -> float | None:
        """(before - after) $/M output x output tokens per month ÷ 1e6."""
        if self.usd_per_m_before is None or self.usd_per_m_after is None:
            return None
        return (self.usd_per_m_before - self.usd_per_m_after) * self.tokens_per_month / 1e6

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "feature": self.feature,
            "detail": self.detail,
            "operating_point": self.operating_point.to_dict(),
            "output_tok_s_before": self.output_tok_s_before,
            "output_tok_s_after": self.output_tok_s_after,
            "throughput_ratio": self.throughput_ratio,
            "tpot_s_before": self.tpot_s_before,
            "tpot_s_after": self.tpot_s_after,
            "ttft_s_before": self.ttft_s_before,
            "ttft_s_after": self.ttft_s_after,
            "usd_per_m_output_before": self.usd_per_m_before,
            "usd_per_m_output_after": self.usd_per_m_after,
            "output_tokens_per_month": self.tokens_per_month,
            "monthly_saving_usd": self.monthly_saving_usd,
        }


@dataclass(frozen=True, slots=True)
class _Point:
    sm: StepModel
    pp: int
    per_stage: float
    isl: float
    osl: float
    budget: float
    overhead_s: float
    candidate: Candidate


def operating_point(
    model: str,
    gpu: str,
    isl: int,
    osl: int,
    *,
    max_ttft_s: float | None = None,
    max_tpot_s: float | None = None,
    weight_dtype: str | None = None,
    num_gpus: int | None = None,
    concurrency: int | None = None,
    engine: str = "vllm",
    gpu_hour_usd: float | None = None,
) -> Candidate:
    """The cheapest configuration of ``model`` on ``gpu`` under the targets, priced by
    ``gpu_hour_usd`` or the catalog's offers; without either, the configuration with the most
    output tokens per GPU-hour and no $ figures. ``concurrency`` fixes the batch.

    Raises:
        InputError: none fits or meets the targets (the binding constraint is given).
    """
    options: dict[str, Any] = {
        "max_ttft_s": max_ttft_s,
        "max_tpot_s": max_tpot_s,
        "top": 0,
        "gpus": [gpu],
        "engine": engine,
        "weight_dtypes": [weight_dtype] if weight_dtype else None,
        "num_gpus": [num_gpus] if num_gpus else None,
    }
    if concurrency is not None:
        options.update(max_concurrency=concurrency, concurrency_count=1)
    result = search(model, isl, osl, gpu_hour_usd=gpu_hour_usd, **options)
    if result.winner is None and result.families and result.families[0].constraint == "price":
        unpriced = search(model, isl, osl, gpu_hour_usd=1.0, **options)
        if unpriced.winner is not None:
            return replace(
                unpriced.winner, usd_per_gpu_hour=None, offer="", usd_per_m_input=None,
                usd_per_m_output=None, usd_per_m_output_incl_input=None,
                usd_per_1k_requests=None,
            )  # fmt: skip
    if result.winner is None:
        fam = result.families[0]
        raise InputError(
            f"No configuration of {model} on {gpu} serves isl {isl} / osl {osl}: "
            f"{fam.constraint}: {fam.detail}."
        )
    return result.winner


def _point(model: str, c: Candidate, isl: int, osl: int, engine: str) -> _Point:
    r = resolve(
        model, c.gpu, num_gpus=c.num_gpus, tp=c.tp, pp=c.pp, ep=c.ep,
        weight_dtype=c.weight_dtype, kv_dtype=c.kv_dtype, engine=engine,
    )  # fmt: skip
    sm = step_model(r.model, r.acc, r.weight_fmt, r.kv_bytes_per_elem, r.engine, r.tp, r.pp, r.ep)
    return _Point(
        sm, r.pp, c.concurrency / r.pp, float(isl), float(osl),
        float(r.engine.max_num_batched_tokens), r.engine.request_overhead_s, c,
    )  # fmt: skip


def _serve(p: _Point, cached_prefix_share: float = 0.0) -> ServingPoint:
    return steady_state(
        p.sm, p.per_stage, p.isl, p.osl, p.budget, p.overhead_s, cached_prefix_share
    )


def _usd(c: Candidate, tok_s_ratio: float) -> tuple[float | None, float | None]:
    before = c.usd_per_m_output_incl_input
    return before, (None if before is None else before / tok_s_ratio)


def speculative_roi(
    model: str,
    gpu: str,
    isl: int,
    osl: int,
    *,
    num_draft_tokens: int,
    acceptance_rate: float,
    draft_model: str | None = None,
    draft_step_ratio: float | None = None,
    output_tokens_per_month: float = 0.0,
    engine: str = "vllm",
    **point_options: Any,
) -> FeatureRoi:
    """Speculative decoding at the operating point (module docstring).

    The draft is ``draft_model`` on the same GPUs (its checkpoint dtype, same TP, bf16 KV), or
    a step costing ``draft_step_ratio`` x the target's decode step, or free (n-gram lookup)
    when neither is given. ``point_options``: :func:`operating_point` keywords.

    Raises:
        InputError: k < 1, a outside [0, 1], both draft options, a negative ratio or volume.
        UnknownNameError: unknown model, GPU or draft model.
    """
    if num_draft_tokens < 1:
        raise InputError(f"--draft-tokens must be >= 1, got {num_draft_tokens}.")
    _finite("--acceptance", acceptance_rate, 0.0, 1.0)
    if draft_model is not None and draft_step_ratio is not None:
        raise InputError("Give --draft-model or --draft-step-ratio, not both.")
    if draft_step_ratio is not None:
        _finite("--draft-step-ratio", draft_step_ratio)
    _finite("--output-tokens-per-month", output_tokens_per_month)
    c = operating_point(model, gpu, isl, osl, engine=engine, **point_options)
    p = _point(model, c, isl, osl, engine)
    sp = _serve(p)
    n = p.per_stage
    ctx = p.isl + p.osl / 2.0
    k = num_draft_tokens
    e = expected_tokens_per_step(k, acceptance_rate)
    t_decode = float(sp.decode_step_s)
    if draft_model is not None:
        d = get_model(draft_model)
        fmt = get_quant_format(default_weight_dtype(d))
        eng = get_engine(engine)
        tp = c.tp if d.num_heads % c.tp == 0 else 1
        dsm = step_model(d, get_accelerator(c.gpu), fmt, DTYPE_BYTES["bf16"], eng, tp, 1, 1)
        t_draft = float(decode_step(dsm, n, ctx).total_s)
        draft_text = f"draft {d.id} ({fmt.id}, TP{tp}) {t_draft * 1e3:.2f} ms/step"
    elif draft_step_ratio is not None:
        t_draft = draft_step_ratio * t_decode
        draft_text = f"draft step = {draft_step_ratio:g} x target decode step"
    else:
        t_draft = 0.0
        draft_text = "free drafting (n-gram / prompt lookup)"
    t_verify = float(prefill_step(p.sm, k + 1, n, ctx).total_s)
    t_iter = k * t_draft + t_verify
    o = p.osl
    t_cycle = n * o / float(sp.output_tok_s)
    own_prefill = t_cycle - float(sp.tpot_s) * (o - 1.0)
    t_cycle_new = o * t_iter / e + n * float(sp.prefill_marginal_s)
    tok_new = n * o / t_cycle_new
    tpot_new = (t_cycle_new - own_prefill) / max(o - 1.0, 1.0)
    ratio = tok_new / float(sp.output_tok_s)
    before, after = _usd(c, ratio)
    return FeatureRoi(
        feature="speculative decoding",
        operating_point=c,
        detail=(
            f"k = {k}, acceptance {acceptance_rate:g}: E = {e:.3f} tokens per verify step; "
            f"verify {t_verify * 1e3:.2f} ms vs decode {t_decode * 1e3:.2f} ms per step; "
            f"{draft_text}"
        ),
        output_tok_s_before=float(sp.output_tok_s),
        output_tok_s_after=tok_new,
        tpot_s_before=float(sp.tpot_s) * p.pp,
        tpot_s_after=tpot_new * p.pp,
        ttft_s_before=float(sp.ttft_s) * p.pp,
        ttft_s_after=float(sp.ttft_s) * p.pp,
        usd_per_m_before=before,
        usd_per_m_after=after,
        tokens_per_month=output_tokens_per_month,
    )


def prefix_cache_roi(
    model: str,
    gpu: str,
    isl: int,
    osl: int,
    *,
    cached_prefix_share: float,
    output_tokens_per_month: float = 0.0,
    engine: str = "vllm",
    **point_options: Any,
) -> FeatureRoi:
    """Prefix caching at the operating point: ``cached_prefix_share`` of every prompt is
    served from the cache. ``point_options``: :func:`operating_point` keywords.

    Raises:
        InputError: a share outside [0, 1) or a negative volume.
    """
    if not (math.isfinite(cached_prefix_share) and 0.0 <= cached_prefix_share < 1.0):
        raise InputError(f"--cached-share must lie in [0, 1), got {cached_prefix_share!r}.")
    _finite("--output-tokens-per-month", output_tokens_per_month)
    c = operating_point(model, gpu, isl, osl, engine=engine, **point_options)
    p = _point(model, c, isl, osl, engine)
    before = _serve(p)
    after = _serve(p, cached_prefix_share)
    ratio = float(after.output_tok_s) / float(before.output_tok_s)
    usd_before, usd_after = _usd(c, ratio)
    return FeatureRoi(
        feature="prefix caching",
        operating_point=c,
        detail=(
            f"{cached_prefix_share:.0%} of each {isl}-token prompt from the cache "
            f"(prefill share of GPU time {float(before.prefill_time_share):.1%} -> "
            f"{float(after.prefill_time_share):.1%})"
        ),
        output_tok_s_before=float(before.output_tok_s),
        output_tok_s_after=float(after.output_tok_s),
        tpot_s_before=float(before.tpot_s) * p.pp,
        tpot_s_after=float(after.tpot_s) * p.pp,
        ttft_s_before=float(before.ttft_s) * p.pp,
        ttft_s_after=float(after.ttft_s) * p.pp,
        usd_per_m_before=usd_before,
        usd_per_m_after=usd_after,
        tokens_per_month=output_tokens_per_month,
    )
