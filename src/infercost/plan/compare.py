"""Compare GPUs and offers for one model: ``infercost compare-gpus``.

For every accelerator that has an offer, every replica size in ``num_gpus_options`` (TP = GPUs)
and every weight dtype the accelerator runs natively (its checkpoint dtype, fp8 and fp4 where
the catalog lists those FLOP/s), :func:`infercost.predict` finds the operating point: the
largest batch that fits (no latency target) or the largest power-of-two batch whose TPOT and
TTFT meet the target. Physics is computed once per configuration at $1/GPU-hour; an offer's
$/M output is that figure x the offer's $/used GPU-hour (whole instances billed). Each offer
is ranked at its cheapest configuration by $/M output.

Why an offer lost to the winner. $/M output (prefill charged to input) per GPU is
``$/used GPU-hour x s ÷ (output tok/s per GPU x 3600 ÷ 1e6)``, with ``s`` the share of GPU time
charged to output (1 - the prefill time share), so its ratio to the winner's splits exactly
into three factors, each what its label says:

    $/M ratio = price factor (its $/used GPU-hour ÷ the winner's)
              x throughput factor (the winner's output tok/s per GPU ÷ its own)
              x output-share factor (its s ÷ the winner's s)

The performance factor (throughput x output share: the winner's output tokens per GPU-hour of
decode time ÷ its own) against the price factor names the reason: ``price``, or ``memory``
(its batch is capped by KV-cache memory below the winner's, or it needs more GPUs),
``bandwidth`` (lower memory bandwidth) or ``compute``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from infercost.catalog import get_accelerator, get_engine, get_model, get_quant_format
from infercost.catalog.pricing import Offer, current_offers, load_offers
from infercost.catalog.schema import Accelerator
from infercost.cost.gpu_hour import usd_per_used_gpu_hour
from infercost.errors import InfercostError, InputError
from infercost.predict import (
    LLAMACPP_WEIGHT_FORMATS,
    Prediction,
    default_weight_dtype,
    engine_vendor_error,
    engine_weight_format_error,
    predict,
)

NUM_GPUS_OPTIONS: tuple[int, ...] = (1, 2, 4, 8)
SERVING_KINDS: tuple[str, ...] = ("on-demand", "reserved-1y", "reserved-3y", "committed", "owned")


@dataclass(frozen=True, slots=True)
class Config:
    """One evaluated configuration of one accelerator (priced at $1/GPU-hour)."""

    gpu: str
    num_gpus: int
    weight_dtype: str
    prediction: Prediction

    @property
    def usd_per_m_output_per_usd_gpu_hour(self) -> float:
        """$/M output at $1 per GPU-hour (scales linearly with the price)."""
        return float(self.prediction.usd_per_m_output or math.inf)


@dataclass(frozen=True, slots=True)
class OfferResult:
    """One offer at its cheapest configuration (or why none fits)."""

    offer: Offer
    config: Config | None
    usd_per_gpu_hour: Decimal | None
    usd_per_m_input: float | None
    usd_per_m_output: float | None
    usd_per_m_blended: float | None
    stale: bool
    reason: str = ""
    why: str = ""
    rank: int = 0
    price_factor: float | None = None
    perf_factor: float | None = None
    throughput_factor: float | None = None
    output_share_factor: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready row."""
        p = self.config.prediction if self.config else None
        return {
            "rank": self.rank,
            "offer": self.offer.id,
            "provider": self.offer.provider,
            "gpu": self.offer.gpu,
            "pricing_kind": self.offer.pricing_kind,
            "gpus_per_instance": self.offer.gpus_per_instance,
            "fits": self.config is not None,
            "num_gpus": self.config.num_gpus if self.config else None,
            "weight_dtype": self.config.weight_dtype if self.config else None,
            "concurrency": p.concurrency if p else None,
            "output_tok_s": p.output_tok_s if p else None,
            "ttft_s": p.ttft_s if p else None,
            "tpot_s": p.tpot_s if p else None,
            "usd_per_gpu_hour": float(self.usd_per_gpu_hour) if self.usd_per_gpu_hour else None,
            "usd_per_m_input": self.usd_per_m_input,
            "usd_per_m_output": self.usd_per_m_output,
            "usd_per_m_blended": self.usd_per_m_blended,
            "why": self.why,
            "price_factor": self.price_factor,
            "perf_factor": self.perf_factor,
            "throughput_factor": self.throughput_factor,
            "output_share_factor": self.output_share_factor,
            "source": self.offer.source,
            "as_of": self.offer.as_of.isoformat(),
            "stale": self.stale,
        }


@dataclass(frozen=True, slots=True)
class Comparison:
    """Ranked offers for one model and workload."""

    model: str
    isl: int
    osl: int
    max_tpot_s: float | None
    max_ttft_s: float | None
    results: tuple[OfferResult, ...]
    skipped_gpus: dict[str, str] = field(default_factory=dict)
    checkpoint_weight_dtype: str = "bf16"
    weight_dtypes_given: tuple[str, ...] | None = None
    engine: str = "vllm"
    skipped_weight_dtypes: tuple[str, ...] = ()

    @property
    def engine_note(self) -> str | None:
        """Says which GPUs' offers were not ranked because the engine does not run on their
        vendor's accelerators, and which of the GPUs' native weight dtypes were not tried
        because the engine cannot run them (None when nothing was left out)."""
        parts = []
        eng = get_engine(self.engine)
        other_vendor = sorted(g for g, why in self.skipped_gpus.items() if why.startswith(eng.id))
        if other_vendor:
            parts.append(
                f"offers for {', '.join(other_vendor)} not ranked: --engine {self.engine} runs "
                f"on {', '.join(eng.vendors)} accelerators only (vllm and sglang support AMD)."
            )
        if self.skipped_weight_dtypes:
            parts.append(
                f"weights {', '.join(self.skipped_weight_dtypes)} not tried: --engine "
                f"{self.engine} runs GGUF types only "
                f"({', '.join(sorted(LLAMACPP_WEIGHT_FORMATS))}); compare a GGUF type with "
                "--weight-dtype (e.g. q8_0 or q4_k_m)."
            )
        return " ".join(parts) or None

    @property
    def ranked_weight_dtypes(self) -> list[str]:
        """The weight dtypes of the rows that fit, in ranking order, each once."""
        seen: dict[str, None] = {}
        for r in self.results:
            if r.config is not None:
                seen.setdefault(r.config.weight_dtype, None)
        return list(seen)

    @property
    def precision_note(self) -> str | None:
        """Says when the search chose the weight dtypes and the ranking mixes them or goes
        below the checkpoint's precision (None when the user pinned them or all rows keep
        the checkpoint's dtype)."""
        if self.weight_dtypes_given is not None:
            return None
        dtypes = self.ranked_weight_dtypes
        lower = [d for d in dtypes if d != self.checkpoint_weight_dtype]
        if not lower:
            return None
        return (
            f"weights chosen per offer among the checkpoint's {self.checkpoint_weight_dtype} "
            "and the fp8/fp4 each GPU runs natively: this ranking mixes "
            f"{', '.join(dtypes)}; {', '.join(lower)} may lose quality against the "
            f"checkpoint. Pin one with --weight-dtype (e.g. --weight-dtype "
            f"{self.checkpoint_weight_dtype}) to compare like with like."
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: the query and one row per offer, best first."""
        return {
            "model": self.model,
            "isl": self.isl,
            "osl": self.osl,
            "max_tpot_s": self.max_tpot_s,
            "max_ttft_s": self.max_ttft_s,
            "currency": "USD",
            "checkpoint_weight_dtype": self.checkpoint_weight_dtype,
            "weight_dtype_choice": "given" if self.weight_dtypes_given is not None else "auto",
            "ranked_weight_dtypes": self.ranked_weight_dtypes,
            "precision_note": self.precision_note,
            "engine_note": self.engine_note,
            "winner": next((r.to_dict() for r in self.results if r.config is not None), None),
            "results": [r.to_dict() for r in self.results],
        }


def native_weight_dtypes(
    acc: Accelerator, checkpoint_dtype: str, engine: str = "vllm"
) -> list[str]:
    """The checkpoint dtype, plus fp8 and fp4 where the accelerator lists those FLOP/s, among
    the dtypes ``engine`` runs (:func:`engine_runs`; the others: :func:`skipped_dtypes`)."""
    return [d for d in _native(acc, checkpoint_dtype) if engine_runs(engine, d)]


def skipped_dtypes(acc: Accelerator, checkpoint_dtype: str, engine: str) -> list[str]:
    """The native dtypes of :func:`native_weight_dtypes` that ``engine`` cannot run."""
    return [d for d in _native(acc, checkpoint_dtype) if not engine_runs(engine, d)]


def engine_runs(engine: str, dtype: str) -> bool:
    """Whether ``engine`` runs weights stored as ``dtype``
    (:func:`infercost.predict.engine_weight_format_error`: llama.cpp runs GGUF types only)."""
    return engine_weight_format_error(engine, get_quant_format(dtype), False) is None


def _native(acc: Accelerator, checkpoint_dtype: str) -> list[str]:
    dtypes = [checkpoint_dtype]
    for dtype in ("fp8", "fp4"):
        if acc.flop_s(dtype) and dtype not in dtypes:
            dtypes.append(dtype)
    return dtypes


def _meets(p: Prediction, max_tpot_s: float | None, max_ttft_s: float | None) -> bool:
    if not p.fits or p.tpot_s is None or p.ttft_s is None:
        return False
    return (max_tpot_s is None or p.tpot_s <= max_tpot_s) and (
        max_ttft_s is None or p.ttft_s <= max_ttft_s
    )


def operating_point(
    base: dict[str, Any], max_tpot_s: float | None, max_ttft_s: float | None
) -> tuple[Prediction | None, str, bool]:
    """The best prediction for one configuration (or None and why not), and whether it fits.

    No target: the largest batch that fits. With a target: among batches 1, 2, 4, ... up to
    that largest batch, the one with the most output tokens/s meeting TPOT and TTFT.
    """
    try:
        top = predict(max_throughput=True, gpu_hour_usd=1.0, **base)
    except InfercostError as err:
        return None, str(err), False
    if not top.fits:
        return None, top.reason or "does not fit", False
    if max_tpot_s is None and max_ttft_s is None:
        return top, "", True
    cap = int(top.concurrency or 1)
    batches = sorted({*(2**i for i in range(int(math.log2(cap)) + 1)), cap})
    best: Prediction | None = None
    for c in batches:
        p = predict(concurrency=c, gpu_hour_usd=1.0, **base)
        if _meets(p, max_tpot_s, max_ttft_s) and (
            best is None or (p.output_tok_s or 0) > (best.output_tok_s or 0)
        ):
            best = p
    if best is None:
        first = predict(concurrency=1, gpu_hour_usd=1.0, **base)
        return (
            None,
            (
                f"latency: misses the target even at batch 1 (TPOT {first.tpot_s or 0:.3f} s, "
                f"TTFT {first.ttft_s or 0:.3f} s)"
            ),
            True,
        )
    return best, "", True


def evaluate_gpu(
    model: str,
    gpu: str,
    isl: int,
    osl: int,
    *,
    num_gpus_options: Sequence[int] = NUM_GPUS_OPTIONS,
    weight_dtypes: Sequence[str] | None = None,
    engine: str = "vllm",
    max_tpot_s: float | None = None,
    max_ttft_s: float | None = None,
) -> tuple[list[Config], str, int | None]:
    """Configurations of ``gpu`` that fit and meet the target; why none did; and the fewest
    GPUs on which the model fits at all (None: not even at the largest option).

    Raises:
        UnknownNameError: unknown model or GPU.
    """
    acc = get_accelerator(gpu)
    arch = get_model(model)
    dtypes = (
        list(weight_dtypes)
        if weight_dtypes
        else native_weight_dtypes(acc, default_weight_dtype(arch), engine)
    )
    configs: list[Config] = []
    reasons: list[str] = []
    min_fit: int | None = None
    for n in num_gpus_options:
        for dtype in dtypes:
            base: dict[str, Any] = {
                "model": model, "gpu": acc.id, "isl": isl, "osl": osl, "num_gpus": n,
                "tp": n, "weight_dtype": dtype, "engine": engine,
            }  # fmt: skip
            p, why, fits = operating_point(base, max_tpot_s, max_ttft_s)
            if fits and (min_fit is None or n < min_fit):
                min_fit = n
            if p is None:
                reasons.append(f"{n}x {dtype}: {why}")
            else:
                configs.append(Config(acc.id, n, dtype, p))
    reason = "" if configs else (reasons[-1] if reasons else "no configuration tried")
    return configs, reason, min_fit


def output_share(p: Prediction) -> float:
    """The share of GPU time charged to output tokens (1 - the prefill time share), read
    back from a prediction priced at $1 per GPU-hour: $/M output = 1 x s ÷ (output tok/s per
    GPU x 3600 ÷ 1e6), so s = $/M output x output tok/s per GPU x 3600 ÷ 1e6."""
    return float(p.usd_per_m_output or 0) * float(p.output_tok_s_per_gpu or 0) * 3600 / 1e6


def factors(loser: OfferResult, winner: OfferResult) -> tuple[float, float, float, float]:
    """(cost, price, throughput, output-share) factors of ``loser`` against ``winner``:
    cost = price x throughput x output share (module docstring)."""
    lc, wc = loser.config, winner.config
    assert lc is not None and wc is not None
    assert loser.usd_per_gpu_hour is not None and winner.usd_per_gpu_hour is not None
    assert loser.usd_per_m_output is not None and winner.usd_per_m_output is not None
    lp, wp = lc.prediction, wc.prediction
    price = float(loser.usd_per_gpu_hour / winner.usd_per_gpu_hour)
    throughput = float(wp.output_tok_s_per_gpu or 0) / float(lp.output_tok_s_per_gpu or 0)
    share = output_share(lp) / output_share(wp)
    return loser.usd_per_m_output / winner.usd_per_m_output, price, throughput, share


def _why(
    loser: OfferResult,
    winner: OfferResult,
    accs: dict[str, Accelerator],
    min_fit: dict[str, int | None],
) -> str:
    lc, wc = loser.config, winner.config
    assert lc is not None and wc is not None
    assert loser.usd_per_gpu_hour is not None and winner.usd_per_gpu_hour is not None
    cost_factor, price_factor, tput_factor, share_factor = factors(loser, winner)
    perf_factor = cost_factor / price_factor
    # $/M = price ÷ throughput x the share of GPU time charged to output: name the three
    # factors of the cost ratio, each in its own sense (price against throughput x share
    # labels the row)
    split = (
        f"$/M x{cost_factor:.2f} = price x{price_factor:.2f} x throughput x{tput_factor:.2f}"
        f" x share of GPU time charged to output x{share_factor:.2f} "
        f"({output_share(lc.prediction):.0%} vs {output_share(wc.prediction):.0%})"
    )
    lp, wp = lc.prediction, wc.prediction
    price_text = (
        f"${loser.usd_per_gpu_hour:.2f} vs ${winner.usd_per_gpu_hour:.2f} per used GPU-hour"
    )
    perf_text = (
        f"{lp.output_tok_s_per_gpu or 0:,.0f} vs {wp.output_tok_s_per_gpu or 0:,.0f} output "
        f"tok/s per GPU"
    )
    if price_factor >= perf_factor:
        bundle = ""
        if lc.num_gpus < loser.offer.gpus_per_instance:
            bundle = f"; pays for {loser.offer.gpus_per_instance} GPUs to use {lc.num_gpus}"
        return f"price x{price_factor:.2f}: {price_text}{bundle} ({perf_text}; {split})"
    la, wa = accs[lc.gpu], accs[wc.gpu]
    kv_capped = (lp.concurrency or 0) >= lp.max_concurrency and (lp.concurrency or 0) < (
        wp.concurrency or 0
    )
    loser_fit, winner_fit = min_fit.get(lc.gpu), min_fit.get(wc.gpu)
    needs_more = loser_fit is not None and winner_fit is not None and loser_fit > winner_fit
    if kv_capped or needs_more:
        kind = "memory"
        details = []
        if needs_more:
            details.append(f"fits on {loser_fit}+ GPUs vs {winner_fit}+")
        if kv_capped:
            details.append(f"KV cache caps the batch at {lp.concurrency} vs {wp.concurrency}")
        detail = "; ".join(details)
    elif la.mem_bw_bytes_s < wa.mem_bw_bytes_s:
        kind = "bandwidth"
        detail = (
            f"{la.mem_bw_bytes_s / 1e12:.2f} vs {wa.mem_bw_bytes_s / 1e12:.2f} TB/s memory "
            "bandwidth"
        )
    else:
        kind = "compute"
        detail = f"{lc.weight_dtype} on {lc.gpu} vs {wc.weight_dtype} on {wc.gpu}"
    return f"{kind}: {perf_text}; {detail} ({price_text}; {split})"


def compare_gpus(
    model: str,
    isl: int,
    osl: int,
    *,
    offers: Iterable[Offer] | None = None,
    kinds: Sequence[str] = SERVING_KINDS,
    allow_spot: bool = False,
    num_gpus_options: Sequence[int] = NUM_GPUS_OPTIONS,
    weight_dtypes: Sequence[str] | None = None,
    engine: str = "vllm",
    max_tpot_s: float | None = None,
    max_ttft_s: float | None = None,
    today: date | None = None,
) -> Comparison:
    """Rank every offer by $/M output at its cheapest configuration, with why each lost.

    Raises:
        InputError: non-positive token counts or latency targets, isl + osl beyond the
            model's context, or an empty dtype list.
        UnknownNameError: unknown model or weight dtype.
    """
    if isl < 1 or osl < 1:
        raise InputError(f"--isl and --osl must be at least 1 token (got {isl}, {osl}).")
    for name, v in (("--max-tpot-ms", max_tpot_s), ("--max-ttft-s", max_ttft_s)):
        if v is not None and not v > 0:
            raise InputError(f"{name} must be positive, got {v}.")
    arch = get_model(model)
    context = arch.max_position_embeddings
    if context and isl + osl > context:
        raise InputError(
            f"isl + osl = {isl + osl:,} tokens exceeds {arch.id}'s context of {context:,} "
            "tokens (config.json max_position_embeddings); use a shorter --isl or --osl."
        )
    if weight_dtypes is not None:
        if not [d for d in weight_dtypes if d.strip()]:
            raise InputError("--weight-dtype is empty; give a dtype such as bf16 or fp8.")
        for dtype in weight_dtypes:
            # an unknown spelling, or a format the engine cannot run, fails once, here
            refused = engine_weight_format_error(engine, get_quant_format(dtype), True)
            if refused is not None:
                raise InputError(refused)
    else:
        checkpoint = get_quant_format(default_weight_dtype(arch))
        refused = engine_weight_format_error(engine, checkpoint, False)
        if refused is not None:  # no native dtype left to try on any GPU
            raise InputError(refused)
    wanted = set(kinds) | ({"spot"} if allow_spot else set())
    pool = [
        o
        for o in current_offers(offers if offers is not None else load_offers())
        if o.pricing_kind in wanted
    ]
    accs: dict[str, Accelerator] = {}
    per_gpu: dict[str, tuple[list[Config], str, int | None]] = {}
    skipped: dict[str, str] = {}
    skipped_weights: dict[str, None] = {}
    for gpu in sorted({o.gpu for o in pool}):
        try:
            accs[gpu] = get_accelerator(gpu)
        except InfercostError as err:
            skipped[gpu] = str(err)
            continue
        refused = engine_vendor_error(get_engine(engine), accs[gpu])
        if refused is not None:  # the engine does not run on this vendor's GPUs
            skipped[gpu] = refused
            continue
        if weight_dtypes is None:
            skipped_weights.update(
                dict.fromkeys(skipped_dtypes(accs[gpu], default_weight_dtype(arch), engine))
            )
        per_gpu[gpu] = evaluate_gpu(
            arch.id, gpu, isl, osl, num_gpus_options=num_gpus_options,
            weight_dtypes=weight_dtypes, engine=engine, max_tpot_s=max_tpot_s,
            max_ttft_s=max_ttft_s,
        )  # fmt: skip
    results: list[OfferResult] = []
    for offer in pool:
        if offer.gpu not in per_gpu:
            continue
        configs, reason, _ = per_gpu[offer.gpu]
        stale = offer.is_stale(today)
        best: tuple[float, Config, Decimal] | None = None
        for c in configs:
            rate = usd_per_used_gpu_hour(offer.usd_per_hour, offer.gpus_per_instance, c.num_gpus)
            cost = float(rate) * c.usd_per_m_output_per_usd_gpu_hour
            if best is None or cost < best[0]:
                best = (cost, c, rate)
        if best is None:
            results.append(OfferResult(offer, None, None, None, None, None, stale, reason=reason))
            continue
        cost, c, rate = best
        p = c.prediction
        results.append(
            OfferResult(
                offer, c, rate,
                usd_per_m_input=float(rate) * float(p.usd_per_m_input or math.inf),
                usd_per_m_output=cost,
                usd_per_m_blended=float(rate) * float(p.usd_per_m_blended or math.inf),
                stale=stale,
            )
        )  # fmt: skip
    min_fit = {gpu: v[2] for gpu, v in per_gpu.items()}
    results.sort(key=lambda r: (r.usd_per_m_output is None, r.usd_per_m_output or 0, r.offer.id))
    ranked: list[OfferResult] = []
    winner = results[0] if results and results[0].config is not None else None
    for i, r in enumerate(results, start=1):
        if r.config is None:
            why = r.reason if r.reason.startswith("latency") else f"memory: {r.reason}"
            ranked.append(_replace(r, rank=i, why=why))
        elif winner is None or r is winner:
            ranked.append(_replace(r, rank=i, why="cheapest $/M output"))
        else:
            assert r.usd_per_gpu_hour is not None and winner.usd_per_gpu_hour is not None
            assert r.usd_per_m_output is not None and winner.usd_per_m_output is not None
            cf, pf, tf, sf = factors(r, winner)
            ranked.append(
                _replace(
                    r, rank=i, why=_why(r, winner, accs, min_fit), price_factor=pf,
                    perf_factor=cf / pf, throughput_factor=tf, output_share_factor=sf,
                )
            )  # fmt: skip
    return Comparison(
        arch.id, isl, osl, max_tpot_s, max_ttft_s, tuple(ranked), skipped,
        checkpoint_weight_dtype=default_weight_dtype(arch),
        weight_dtypes_given=tuple(weight_dtypes) if weight_dtypes is not None else None,
        engine=engine, skipped_weight_dtypes=tuple(skipped_weights),
    )  # fmt: skip


def _replace(r: OfferResult, **changes: Any) -> OfferResult:
    values = {name: getattr(r, name) for name in OfferResult.__slots__}
    values.update(changes)
    return OfferResult(**values)
