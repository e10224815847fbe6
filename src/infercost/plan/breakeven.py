"""Self-host vs API: monthly cost curves and the break-even volume (``infercost plan breakeven``).

Volume V is tokens per day, input and output together (as API bills and as worked example W2
counts them). With input share s, cached-read share c and cache-write share w of the input,
and API prices per million (a cache write is dearer than plain input: 1.25x at Anthropic):

    API $/M blended  = s x ((1 - c - w) x input + c x cached input + w x cache write)
                       + (1 - s) x output
    API $/month(V)   = V x days/month ÷ 1e6 x blended

Self-hosting pays for replicas sized for the busiest hour, never above the target
utilisation, plus spares and people:

    capacity/day     = tok/s per replica x 86,400 x max utilisation
    replicas(V)      = max(min replicas, ceil(V x peak-to-average ÷ capacity/day)) + spares
    self-host $/month(V) = replicas(V) x GPUs per replica x $/GPU-hour x hours/month + ops

The self-host curve is a staircase, the API curve a line through zero, so the break-even is
the smallest V where the line reaches the staircase: on step k (V in (V_{k-1}, V_k],
V_k = k x capacity/day ÷ peak-to-average) the crossing is S_k ÷ slope, kept when it lies on
that step; every step is checked at once. If one more replica costs at least what the API
charges for the tokens it adds (self-host $/M at full load >= API $/M), the API is cheaper at
every volume and there is no break-even.

Both sides use one month by default: the 730-hour billing month of :mod:`infercost.units`
(8,760 h ÷ 12) for GPU hours and 730 ÷ 24 = 30.42 days of traffic. Worked example W2 counts a
730-hour GPU month against a 30-day traffic month; pass ``days_per_month=30`` to reproduce it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from infercost.catalog import get_accelerator
from infercost.catalog.pricing import default_offer, get_offer
from infercost.cost.api import api_price
from infercost.cost.gpu_hour import usd_per_used_gpu_hour
from infercost.errors import InputError
from infercost.plan.search import search
from infercost.plan.traffic import DAYS_PER_BILLING_MONTH
from infercost.units import HOURS_PER_DAY, HOURS_PER_MONTH, S_PER_HOUR, TOKENS_PER_M

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

S_PER_DAY = HOURS_PER_DAY * S_PER_HOUR
#: Largest daily volume a curve is drawn at: 10^15 tokens/day, about 25x the ~4 x 10^13
#: tokens/day the largest provider reported serving in 2025 (~1.3 x 10^15 a month), so
#: beyond any one buyer's self-host-or-API choice; larger figures are typos (1e30), and
#: they made the replica count overflow int64.
MAX_VOLUME_TOKENS_PER_DAY = 1e15

#: Replica steps :func:`self_host_cheaper_ranges` examines at most: the costs cross at most
#: twice per step, so more than this many steps means prices within a fraction of a percent
#: of each other, where listing every crossing helps no one (and the search would not end).
MAX_CROSSING_STEPS = 100_000


def _positive(name: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"{name} must be a positive number, got {value!r}.")


def _non_negative(name: str, value: float) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise InputError(f"{name} must be a number >= 0, got {value!r}.")


def _fraction(name: str, value: float) -> None:
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise InputError(f"{name} must lie in [0, 1], got {value!r}.")


@dataclass(frozen=True, slots=True)
class BreakevenInputs:
    """Everything the comparison needs (US$, tokens/s, fractions).

    Attributes:
        api_input_usd_per_m, api_output_usd_per_m: API prices per million tokens.
        input_share: share of the daily tokens that are input (prompt) tokens.
        gpu_hour_usd: $ per used GPU-hour.
        tok_s: tokens/s (input + output, counted like the volume) one replica serves.
        ops_usd_per_month: people and operations while self-hosting.
        gpus_per_replica: GPUs one replica uses.
        api_cached_input_usd_per_m, cached_share: cached-input price and the share of input
            tokens billed at it (None: no caching discount).
        api_cache_write_usd_per_m, cache_write_share: cache-write price and the share of input
            tokens written to the cache (None: writes billed as plain input).
        max_utilization: highest share of capacity the fleet is planned to use.
        peak_to_average: busiest hour ÷ average (replicas are sized for the busiest hour).
        spare_replicas: replicas kept for failures (N + spare).
        min_replicas: replicas kept even at tiny volume.
        hours_per_month: GPU billing hours per month.
        days_per_month: traffic days per month (default 730 h ÷ 24, the same month).
        description: where the figures come from.
        assumptions: choices made for the caller (dtypes the search picked, a catalog offer
            and its age), each naming the option that pins it.
    """

    api_input_usd_per_m: float
    api_output_usd_per_m: float
    input_share: float
    gpu_hour_usd: float
    tok_s: float
    ops_usd_per_month: float = 0.0
    gpus_per_replica: int = 1
    api_cached_input_usd_per_m: float | None = None
    cached_share: float = 0.0
    api_cache_write_usd_per_m: float | None = None
    cache_write_share: float = 0.0
    max_utilization: float = 1.0
    peak_to_average: float = 1.0
    spare_replicas: int = 0
    min_replicas: int = 1
    hours_per_month: float = HOURS_PER_MONTH
    days_per_month: float = DAYS_PER_BILLING_MONTH
    description: str = "given"
    assumptions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _non_negative("--api-input-usd-per-m", self.api_input_usd_per_m)
        _non_negative("--api-output-usd-per-m", self.api_output_usd_per_m)
        _fraction("--input-share", self.input_share)
        _positive("--gpu-hour-usd", self.gpu_hour_usd)
        _positive("--tok-s", self.tok_s)
        _non_negative("--ops-usd-per-month", self.ops_usd_per_month)
        _fraction("--cached-share", self.cached_share)
        if self.cached_share > 0 and self.api_cached_input_usd_per_m is None:
            raise InputError("--cached-share needs --api-cached-input-usd-per-m.")
        if self.api_cached_input_usd_per_m is not None:
            _non_negative("--api-cached-input-usd-per-m", self.api_cached_input_usd_per_m)
        _fraction("--cache-write-share", self.cache_write_share)
        if self.cache_write_share > 0 and self.api_cache_write_usd_per_m is None:
            raise InputError("--cache-write-share needs --api-cache-write-usd-per-m.")
        if self.api_cache_write_usd_per_m is not None:
            _non_negative("--api-cache-write-usd-per-m", self.api_cache_write_usd_per_m)
        if self.cached_share + self.cache_write_share > 1:
            raise InputError(
                "--cached-share + --cache-write-share must be at most 1 (shares of the input "
                f"tokens), got {self.cached_share} + {self.cache_write_share}."
            )
        if not (math.isfinite(self.max_utilization) and 0 < self.max_utilization <= 1):
            raise InputError(
                f"--max-utilization must lie in (0, 1], got {self.max_utilization!r}."
            )
        if not (math.isfinite(self.peak_to_average) and self.peak_to_average >= 1):
            raise InputError(f"--peak-to-average must be >= 1, got {self.peak_to_average!r}.")
        if self.gpus_per_replica < 1 or self.spare_replicas < 0 or self.min_replicas < 1:
            raise InputError(
                "Need --gpus-per-replica >= 1, --spare-replicas >= 0 and --min-replicas >= 1 "
                f"(got {self.gpus_per_replica}, {self.spare_replicas}, {self.min_replicas})."
            )
        _positive("--hours-per-month", self.hours_per_month)
        _positive("--days-per-month", self.days_per_month)

    @property
    def api_blended_usd_per_m(self) -> float:
        """s x ((1 - c - w) x input + c x cached + w x cache write) + (1 - s) x output."""
        cached = self.api_cached_input_usd_per_m or 0.0
        write = self.api_cache_write_usd_per_m or 0.0
        c, w = self.cached_share, self.cache_write_share
        per_input = (1 - c - w) * self.api_input_usd_per_m + c * cached + w * write
        return self.input_share * per_input + (1 - self.input_share) * self.api_output_usd_per_m

    @property
    def api_usd_per_month_per_token_day(self) -> float:
        """Slope of the API line: days/month ÷ 1e6 x blended ($/month per token/day)."""
        return self.days_per_month / TOKENS_PER_M * self.api_blended_usd_per_m

    @property
    def replica_usd_per_hour(self) -> float:
        """GPUs per replica x $/GPU-hour."""
        return self.gpus_per_replica * self.gpu_hour_usd

    @property
    def replica_usd_per_month(self) -> float:
        """GPUs per replica x $/GPU-hour x hours/month."""
        return self.gpus_per_replica * self.gpu_hour_usd * self.hours_per_month

    @property
    def capacity_tokens_per_day(self) -> float:
        """Tokens per day one replica serves at the busiest hour's pace, at max utilisation,
        expressed as daily volume: tok/s x 86,400 x max utilisation ÷ peak-to-average."""
        return self.tok_s * S_PER_DAY * self.max_utilization / self.peak_to_average

    @property
    def self_host_usd_per_m_full_load(self) -> float:
        """$/M tokens of one fully used replica: $/hour ÷ (tok/s x 3600 ÷ 1e6)."""
        return self.gpus_per_replica * self.gpu_hour_usd / (self.tok_s * S_PER_HOUR / TOKENS_PER_M)


def replicas_for(inp: BreakevenInputs, tokens_per_day: FloatArray | float) -> IntArray:
    """max(min replicas, ceil(V ÷ capacity/day)) + spares, elementwise."""
    v = np.asarray(tokens_per_day, dtype=np.float64)
    need = np.ceil(v / inp.capacity_tokens_per_day - 1e-12)
    return np.asarray(np.maximum(need, inp.min_replicas) + inp.spare_replicas, dtype=np.int64)


def api_usd_per_month(inp: BreakevenInputs, tokens_per_day: FloatArray | float) -> FloatArray:
    """V x days/month ÷ 1e6 x blended $/M."""
    v = np.asarray(tokens_per_day, dtype=np.float64)
    return np.asarray(v * inp.api_usd_per_month_per_token_day, dtype=np.float64)


def self_host_usd_per_month(
    inp: BreakevenInputs, tokens_per_day: FloatArray | float
) -> FloatArray:
    """replicas(V) x replica $/month + ops $/month."""
    reps = replicas_for(inp, tokens_per_day)
    return np.asarray(reps * inp.replica_usd_per_month + inp.ops_usd_per_month, dtype=np.float64)


def self_host_cheaper_ranges(inp: BreakevenInputs) -> list[tuple[float, float | None]]:
    """Volumes (tokens/day) where self-hosting costs no more than the API, as closed ranges
    ``(start, end)``; the last range has ``end`` None (self-hosting stays cheaper above it).
    Empty when the API is cheaper at every volume.

    With whole replicas the self-host cost is a staircase and the API a line, so the two can
    cross many times. On step k (V in (V_{k-1}, V_k], V_k = k x capacity/day) self-hosting
    costs S_k = k g + fixed (g: replica $/month, fixed: spares and ops) and wins from
    V = S_k ÷ a (a: API $/month per token/day) to the step's end V_k; at V_k one more replica
    is added and the API may be cheaper again, until S_{k+1} ÷ a. Step k+1 wins from its
    first token when S_{k+1} <= a V_k, i.e. k (a cap - g) >= g + fixed, and so does every
    later step (the left side grows with k): the steps up to the first such k are checked,
    all at once. Adjacent winning steps are merged; ranges of zero length (the curves only
    touch) are left out.
    """
    a = inp.api_usd_per_month_per_token_day
    g = inp.replica_usd_per_month
    cap = inp.capacity_tokens_per_day
    fixed = inp.spare_replicas * g + inp.ops_usd_per_month
    if a <= 0 or a * cap <= g:
        return []  # each replica costs at least what the API charges for its tokens
    k_last = max(inp.min_replicas, math.ceil((g + fixed) / (a * cap - g)) + 1)
    # steps k with k (a cap - g) <= fixed - a cap x [k = min] cannot win: start after them
    k_first = max(inp.min_replicas, min(k_last, math.floor(fixed / (a * cap - g))))
    if k_last - k_first > MAX_CROSSING_STEPS:
        raise InputError(
            f"The API (${inp.api_blended_usd_per_m:.4g}/M blended) and self-hosting at full "
            f"load (${inp.self_host_usd_per_m_full_load:.4g}/M) differ by "
            f"{(a * cap / g - 1) * 100:.2g} %: with whole replicas the two costs cross at "
            f"about {k_last - k_first:,} replica steps between {k_first * cap:.3g} and "
            f"{k_last * cap:.3g} tokens/day, too many to list. Self-hosting is no dearer "
            f"from {(k_last - 1) * cap:.3g} tokens/day on; below it the two are within a "
            "replica's cost of each other. Compare with prices that differ by more."
        )
    k = np.arange(k_first, k_last + 1, dtype=np.float64)
    lower = np.where(k == inp.min_replicas, 0.0, (k - 1) * cap)
    upper = k * cap
    start = np.maximum((k * g + fixed) / a, lower)
    wins = start < upper
    ranges: list[tuple[float, float | None]] = []
    for lo, hi, ok in zip(start, upper, wins, strict=True):
        if not ok:
            continue
        if ranges and ranges[-1][1] is not None and lo <= ranges[-1][1]:
            ranges[-1] = (ranges[-1][0], float(hi))
        else:
            ranges.append((float(lo), float(hi)))
    # k_last - 1 >= ceil((g + fixed) / (a cap - g)): step k_last and all above it win.
    ranges[-1] = (ranges[-1][0], None)
    return ranges


def breakeven_tokens_per_day(inp: BreakevenInputs) -> float | None:
    """Smallest daily volume at which the API costs at least as much as self-hosting; None
    when the API is cheaper at every volume (module docstring). Whole replicas can make the
    API cheaper again above it: :func:`self_host_cheaper_ranges` gives every range."""
    ranges = self_host_cheaper_ranges(inp)
    return ranges[0][0] if ranges else None


def crossings_tokens_per_day(inp: BreakevenInputs) -> list[float]:
    """Every volume (tokens/day) where the cheaper side changes, ascending: the starts and
    finite ends of :func:`self_host_cheaper_ranges`."""
    out: list[float] = []
    for lo, hi in self_host_cheaper_ranges(inp):
        out.append(lo)
        if hi is not None:
            out.append(hi)
    return out


def self_host_cheaper_from_tokens_per_day(inp: BreakevenInputs) -> float | None:
    """The volume above which self-hosting stays no dearer than the API (None: never)."""
    ranges = self_host_cheaper_ranges(inp)
    return ranges[-1][0] if ranges else None


@dataclass(frozen=True, slots=True)
class Breakeven:
    """Monthly cost curves and the break-even volume.

    Attributes:
        inputs: the comparison's inputs.
        breakeven_tokens_per_day: the volume where self-hosting becomes cheaper (None: never).
        tokens_per_day: shape (n,), volumes of the curves.
        api_usd_per_month, self_host_usd_per_month: shape (n,), the two curves.
        replicas: shape (n,), replicas self-hosting needs at each volume.
    """

    inputs: BreakevenInputs
    breakeven_tokens_per_day: float | None
    tokens_per_day: FloatArray
    api_usd_per_month: FloatArray
    self_host_usd_per_month: FloatArray
    replicas: IntArray

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``plan breakeven --json``)."""
        inp = self.inputs
        be = self.breakeven_tokens_per_day
        at_be: dict[str, Any] | None = None
        if be is not None:
            at_be = {
                "api_usd_per_month": float(api_usd_per_month(inp, be)),
                "self_host_usd_per_month": float(self_host_usd_per_month(inp, be)),
                "replicas": int(replicas_for(inp, be)),
            }
        return {
            "breakeven_tokens_per_day": be,
            "breakeven_tokens_per_month": None if be is None else be * inp.days_per_month,
            "at_breakeven": at_be,
            "crossings_tokens_per_day": crossings_tokens_per_day(inp),
            "self_host_cheaper_from_tokens_per_day": self_host_cheaper_from_tokens_per_day(inp),
            "ranges": [
                {"from_tokens_per_day": lo, "to_tokens_per_day": hi, "cheaper": "self-host"}
                for lo, hi in self_host_cheaper_ranges(inp)
            ],
            "api_blended_usd_per_m": inp.api_blended_usd_per_m,
            "self_host_usd_per_m_full_load": inp.self_host_usd_per_m_full_load,
            "replica_usd_per_month": inp.replica_usd_per_month,
            "capacity_tokens_per_day_per_replica": inp.capacity_tokens_per_day,
            "ops_usd_per_month": inp.ops_usd_per_month,
            "input_share": inp.input_share,
            "cached_share": inp.cached_share,
            "cache_write_share": inp.cache_write_share,
            "gpu_hour_usd": inp.gpu_hour_usd,
            "tok_s": inp.tok_s,
            "gpus_per_replica": inp.gpus_per_replica,
            "max_utilization": inp.max_utilization,
            "peak_to_average": inp.peak_to_average,
            "spare_replicas": inp.spare_replicas,
            "hours_per_month": inp.hours_per_month,
            "days_per_month": inp.days_per_month,
            "description": inp.description,
            "assumptions": list(inp.assumptions),
            "curve": [
                {
                    "tokens_per_day": float(v),
                    "api_usd_per_month": float(a),
                    "self_host_usd_per_month": float(s),
                    "replicas": int(r),
                }
                for v, a, s, r in zip(
                    self.tokens_per_day,
                    self.api_usd_per_month,
                    self.self_host_usd_per_month,
                    self.replicas,
                    strict=True,
                )
            ],
        }


def breakeven(
    inp: BreakevenInputs, volumes_tokens_per_day: FloatArray | None = None, points: int = 25
) -> Breakeven:
    """Both cost curves over ``volumes_tokens_per_day`` (default: ``points`` volumes spaced
    geometrically from 1 % to 4x the volume above which self-hosting stays cheaper, or to 10
    replicas' capacity without one),
    and the break-even volume.

    Raises:
        InputError: a volume that is not a finite number in (0, 10^15] tokens/day
            (:data:`MAX_VOLUME_TOKENS_PER_DAY`), or fewer than 2 points.
    """
    be = breakeven_tokens_per_day(inp)
    if volumes_tokens_per_day is None:
        if points < 2:
            raise InputError(f"Need at least 2 curve points, got {points}.")
        last = self_host_cheaper_from_tokens_per_day(inp)
        top = 4.0 * last if last is not None else 10.0 * inp.capacity_tokens_per_day
        v = np.geomspace(top / 400.0, top, points)
    else:
        v = np.asarray(volumes_tokens_per_day, dtype=np.float64)
        bad = ~(np.isfinite(v) & (v > 0) & (v <= MAX_VOLUME_TOKENS_PER_DAY))
        if v.size == 0 or bad.any():
            first = float(v[bad][0]) if bad.any() else None
            shown = "" if first is None else f", got {first:g}"
            why = (
                " (10^15 tokens/day is about 25x the traffic of the largest LLM provider)"
                if first is not None and first > MAX_VOLUME_TOKENS_PER_DAY
                else ""
            )
            raise InputError(
                f"--volumes must be numbers of tokens per day in (0, 10^15]{shown}{why}."
            )
    return Breakeven(
        inputs=inp,
        breakeven_tokens_per_day=be,
        tokens_per_day=v,
        api_usd_per_month=api_usd_per_month(inp, v),
        self_host_usd_per_month=self_host_usd_per_month(inp, v),
        replicas=replicas_for(inp, v),
    )


def inputs_from_names(
    model: str,
    gpu: str,
    isl: int,
    osl: int,
    api_model: str,
    *,
    api_provider: str | None = None,
    offer: str | None = None,
    gpu_hour_usd: float | None = None,
    max_ttft_s: float | None = None,
    max_tpot_s: float | None = None,
    weight_dtype: str | None = None,
    engine: str = "vllm",
    cached_share: float = 0.0,
    cache_write_share: float = 0.0,
    **options: Any,
) -> BreakevenInputs:
    """Break-even inputs from names: the cheapest replica of ``model`` on ``gpu`` under the
    targets (:func:`infercost.plan.search.search`), priced by ``offer`` (default: the
    catalog's default on-demand offer, instance bundling applied) or ``gpu_hour_usd``, against
    ``api_model``'s price sheet (:func:`infercost.cost.api.api_price`). The input share is
    isl ÷ (isl + osl); the replica's tokens/s counts input and output alike.
    ``options``: the remaining :class:`BreakevenInputs` fields (ops, utilisation, spares ...).

    Raises:
        UnknownNameError: unknown model, GPU, offer or API model.
        InputError: no configuration serves the workload (the reason is given), or a price
            sheet without an input or output price.
    """
    acc = get_accelerator(gpu)
    if offer is not None and gpu_hour_usd is not None:
        raise InputError("Give --offer or --gpu-hour-usd, not both.")
    chosen = get_offer(offer) if offer is not None else None
    if chosen is not None and chosen.gpu != acc.id:
        raise InputError(f"Offer {chosen.id!r} is for {chosen.gpu}, not {acc.id}.")
    if chosen is None and gpu_hour_usd is None:
        chosen = default_offer(acc.id)
        if chosen is None:
            raise InputError(f"No on-demand offer for {acc.id}: give --offer or --gpu-hour-usd.")
    result = search(
        model, isl, osl, max_ttft_s=max_ttft_s, max_tpot_s=max_tpot_s, top=0, gpus=[acc.id],
        weight_dtypes=[weight_dtype] if weight_dtype else None, engine=engine,
        gpu_hour_usd=gpu_hour_usd, offers=(chosen,) if chosen is not None else None,
        pricing_kind=chosen.pricing_kind if chosen is not None else None,
        allow_spot=chosen is not None and chosen.pricing_kind == "spot",
    )  # fmt: skip
    if result.winner is None:
        fam = result.families[0]
        raise InputError(
            f"No replica of {model} on {acc.id} serves isl {isl} / osl {osl}: "
            f"{fam.constraint}: {fam.detail}."
        )
    w = result.winner
    assert w.usd_per_gpu_hour is not None
    rate = (
        float(usd_per_used_gpu_hour(chosen.usd_per_hour, chosen.gpus_per_instance, w.num_gpus))
        if chosen is not None
        else w.usd_per_gpu_hour
    )
    assumed: list[str] = []
    if weight_dtype is None:
        assumed.append(
            f"self-host weights {w.weight_dtype} and KV {w.kv_dtype} chosen by the search as "
            "the cheapest that meets the targets (check the quality); pin with --weight-dtype"
        )
    if chosen is not None:
        age = chosen.age_days()
        stale = " (STALE: older than 180 days)" if chosen.is_stale() else ""
        how = "--offer" if offer is not None else "the catalog's default offer; pin with --offer"
        assumed.append(
            f"GPU price from offer {chosen.id} ({chosen.provider}, as of {chosen.as_of}, "
            f"{age} days old){stale}: {how} or --gpu-hour-usd"
        )
    sheet = api_price(api_model, api_provider)
    if sheet.usd_per_m_input is None or sheet.usd_per_m_output is None:
        raise InputError(
            f"{sheet.provider} {sheet.model} has no published input or output price "
            f"({sheet.source}); give --api-input-usd-per-m and --api-output-usd-per-m."
        )
    return BreakevenInputs(
        api_input_usd_per_m=float(sheet.usd_per_m_input),
        api_output_usd_per_m=float(sheet.usd_per_m_output),
        input_share=isl / (isl + osl),
        gpu_hour_usd=rate,
        tok_s=w.output_tok_s * (isl + osl) / osl,
        gpus_per_replica=w.num_gpus,
        api_cached_input_usd_per_m=(
            float(sheet.usd_per_m_cached_input)
            if sheet.usd_per_m_cached_input is not None
            else None
        ),
        cached_share=cached_share,
        assumptions=tuple(assumed),
        api_cache_write_usd_per_m=(
            float(sheet.usd_per_m_cache_write) if sheet.usd_per_m_cache_write is not None else None
        ),
        cache_write_share=cache_write_share,
        description=(
            f"self-host: {w.layout} {w.weight_dtype} (KV {w.kv_dtype}) batch {w.concurrency}, "
            f"{w.output_tok_s:,.0f} output tok/s, ${rate:.2f}/GPU-h "
            f"({chosen.id if chosen is not None else 'user rate'}); API: {sheet.provider} "
            f"{sheet.model} (as of {sheet.as_of})"
        ),
        **options,
    )
