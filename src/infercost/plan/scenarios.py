"""Growth scenarios and price projections: ``infercost plan scenarios``.

**Growth.** Requests grow by each multiplier m (1x, 10x, 100x); reasoning-style output
expansion e multiplies output tokens per request. Per scenario:

    output tokens/day = base output/day x m x e        input tokens/day = base input/day x m
    replicas  = ceil(peak output tok/s x (1 + headroom) ÷ replica output tok/s)
    self-host $/month = replicas x replica $/hour x 24 x days
    API $/month = (input/day x $/M in + output/day x $/M out) ÷ 1e6 x days

(the replica's output tok/s is held at the base operating point; longer outputs lengthen the
context and lower it somewhat).

**Price projection.** With a decline rate r per year (0.5 = half the price each year), a
volume growth g per year and a constant price elasticity of demand ε (< 0: cheaper tokens,
more of them), at year t:

    price(t)  = price_0 x (1 - r) ** t
    volume(t) = volume_0 x (1 + g) ** t x (price(t) ÷ price_0) ** ε
    spend(t)  = volume(t) x price(t) ÷ 1e6

ε from an observed change is ln(volume ratio) ÷ ln(price ratio)
(:func:`infercost.cost.trend.price_elasticity`; a 50 % cut that brings 3x volume: -1.58).

**Hardware generations.** The cheapest $/M output (incl. input) of the model on every
catalogued accelerator that has an offer, plotted against its launch year; a least-squares
line through ln($/M) gives the annual factor newer hardware has brought:
``factor = exp(-slope)`` (2.0 = twice as cheap per year of hardware generation).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from infercost.errors import InputError
from infercost.plan.candidate import Candidate, candidate
from infercost.plan.fleet import Replica, replicas_needed
from infercost.plan.search import Targets, feasible_cost, run_sweep
from infercost.plan.traffic import DAYS_PER_BILLING_MONTH, Traffic
from infercost.units import HOURS_PER_DAY, S_PER_HOUR, TOKENS_PER_M

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DEFAULT_MULTIPLIERS: tuple[float, ...] = (1.0, 10.0, 100.0)
#: Longest projection horizon, years.
MAX_YEARS = 50.0


@dataclass(frozen=True, slots=True)
class GrowthScenarios:
    """Fleet and spend at each growth multiplier (arrays of shape (S,)).

    Attributes:
        multipliers, output_expansion: the scenarios.
        output_tokens_per_day, input_tokens_per_day: volumes.
        replicas, gpus: static fleet for the busiest hour with headroom.
        self_host_usd_per_month, api_usd_per_month: monthly spend (API None without prices).
        replica: the replica the fleet is built from.
    """

    multipliers: FloatArray
    output_expansion: float
    output_tokens_per_day: FloatArray
    input_tokens_per_day: FloatArray
    replicas: IntArray
    gpus: IntArray
    self_host_usd_per_month: FloatArray
    api_usd_per_month: FloatArray | None
    replica: Replica

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        rows = []
        for i, m in enumerate(self.multipliers):
            rows.append(
                {
                    "multiplier": float(m),
                    "output_tokens_per_day": float(self.output_tokens_per_day[i]),
                    "input_tokens_per_day": float(self.input_tokens_per_day[i]),
                    "replicas": int(self.replicas[i]),
                    "gpus": int(self.gpus[i]),
                    "self_host_usd_per_month": float(self.self_host_usd_per_month[i]),
                    "api_usd_per_month": (
                        float(self.api_usd_per_month[i])
                        if self.api_usd_per_month is not None
                        else None
                    ),
                }
            )
        return {
            "output_expansion": self.output_expansion,
            "replica": self.replica.description,
            "scenarios": rows,
        }


def growth_scenarios(
    base: Traffic,
    replica: Replica,
    *,
    multipliers: Sequence[float] = DEFAULT_MULTIPLIERS,
    output_expansion: float = 1.0,
    headroom: float = 0.3,
    days_per_month: float = DAYS_PER_BILLING_MONTH,
    api_input_usd_per_m: float | None = None,
    api_output_usd_per_m: float | None = None,
) -> GrowthScenarios:
    """Fleet and spend at each multiplier (module docstring).

    Raises:
        InputError: a non-positive multiplier or expansion, negative headroom, or only one
            of the two API prices.
    """
    m = np.asarray(multipliers, dtype=np.float64)
    if m.size == 0 or not np.all(np.isfinite(m)) or np.any(m <= 0):
        raise InputError(f"--multipliers must be positive numbers, got {list(multipliers)}.")
    if not (math.isfinite(output_expansion) and output_expansion > 0):
        raise InputError(f"--output-expansion must be positive, got {output_expansion!r}.")
    if not (math.isfinite(headroom) and headroom >= 0):
        raise InputError(f"--headroom must be >= 0, got {headroom!r}.")
    if (api_input_usd_per_m is None) != (api_output_usd_per_m is None):
        raise InputError("Give both --api-input-usd-per-m and --api-output-usd-per-m, or neither.")
    out_day = base.output_tokens_per_day * m * output_expansion
    in_day = base.output_tokens_per_day / base.osl * base.isl * m
    peak = out_day / (HOURS_PER_DAY * S_PER_HOUR) * float(base.profile.max())
    reps = np.maximum(replicas_needed(peak, replica.output_tok_s, headroom), 1)
    self_host = reps * replica.usd_per_hour * HOURS_PER_DAY * days_per_month
    api = None
    if api_input_usd_per_m is not None and api_output_usd_per_m is not None:
        api = (
            (in_day * api_input_usd_per_m + out_day * api_output_usd_per_m)
            / TOKENS_PER_M
            * days_per_month
        )
    return GrowthScenarios(
        multipliers=m,
        output_expansion=output_expansion,
        output_tokens_per_day=np.asarray(out_day, dtype=np.float64),
        input_tokens_per_day=np.asarray(in_day, dtype=np.float64),
        replicas=np.asarray(reps, dtype=np.int64),
        gpus=np.asarray(reps * replica.gpus, dtype=np.int64),
        self_host_usd_per_month=np.asarray(self_host, dtype=np.float64),
        api_usd_per_month=None if api is None else np.asarray(api, dtype=np.float64),
        replica=replica,
    )


@dataclass(frozen=True, slots=True)
class Projection:
    """Price, volume and spend over time (arrays of shape (n,), t in years).

    Attributes:
        years: time points.
        usd_per_m: projected price.
        tokens_per_month: projected volume.
        usd_per_month: projected spend.
        decline_per_year, volume_growth_per_year, elasticity: the inputs.
    """

    years: FloatArray
    usd_per_m: FloatArray
    tokens_per_month: FloatArray
    usd_per_month: FloatArray
    decline_per_year: float
    volume_growth_per_year: float
    elasticity: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "decline_per_year": self.decline_per_year,
            "volume_growth_per_year": self.volume_growth_per_year,
            "elasticity": self.elasticity,
            "points": [
                {
                    "year": float(t),
                    "usd_per_m": float(p),
                    "tokens_per_month": float(v),
                    "usd_per_month": float(s),
                }
                for t, p, v, s in zip(
                    self.years,
                    self.usd_per_m,
                    self.tokens_per_month,
                    self.usd_per_month,
                    strict=True,
                )
            ],
        }


def project(
    usd_per_m_now: float,
    tokens_per_month_now: float,
    *,
    decline_per_year: float,
    years: float = 5.0,
    volume_growth_per_year: float = 0.0,
    elasticity: float = 0.0,
    steps_per_year: int = 4,
) -> Projection:
    """Price, volume and spend from now to ``years`` ahead (module docstring).

    Raises:
        InputError: a non-positive price, a horizon outside (0, 50] years, a negative volume,
            a decline outside [0, 1), growth at or below -100 %, a positive elasticity, or
            fewer than 1 step per year.
    """
    if not (math.isfinite(usd_per_m_now) and usd_per_m_now > 0):
        raise InputError(f"--usd-per-m must be positive, got {usd_per_m_now!r}.")
    if not (math.isfinite(tokens_per_month_now) and tokens_per_month_now >= 0):
        raise InputError(f"--tokens-per-month must be >= 0, got {tokens_per_month_now!r}.")
    if not (math.isfinite(decline_per_year) and 0 <= decline_per_year < 1):
        raise InputError(
            f"--decline-per-year must lie in [0, 1) (0.5 = half the price each year), got "
            f"{decline_per_year!r}."
        )
    if not (math.isfinite(years) and 0 < years <= MAX_YEARS):
        raise InputError(
            f"--years must lie in (0, {MAX_YEARS:g}] (a projection horizon), got {years!r}."
        )
    if not (math.isfinite(volume_growth_per_year) and volume_growth_per_year > -1):
        raise InputError(f"--volume-growth-per-year must be > -1, got {volume_growth_per_year!r}.")
    if not (math.isfinite(elasticity) and elasticity <= 0):
        raise InputError(
            f"--elasticity must be a number <= 0 (cheaper tokens, more of them; -1.58 when a "
            f"50 % cut brings 3x volume; 0 = no response), got {elasticity!r}."
        )
    if steps_per_year < 1:
        raise InputError(f"Need at least one step per year, got {steps_per_year}.")
    t = np.linspace(0.0, years, math.ceil(years * steps_per_year) + 1)
    ratio = (1.0 - decline_per_year) ** t
    price = usd_per_m_now * ratio
    volume = tokens_per_month_now * (1.0 + volume_growth_per_year) ** t * ratio**elasticity
    return Projection(
        years=t,
        usd_per_m=np.asarray(price, dtype=np.float64),
        tokens_per_month=np.asarray(volume, dtype=np.float64),
        usd_per_month=np.asarray(volume * price / TOKENS_PER_M, dtype=np.float64),
        decline_per_year=decline_per_year,
        volume_growth_per_year=volume_growth_per_year,
        elasticity=elasticity,
    )


@dataclass(frozen=True, slots=True)
class Generations:
    """Cheapest $/M of one model per catalogued accelerator, by launch year.

    Attributes:
        model: the model.
        gpus, years, usd_per_m: one entry per accelerator with a priced configuration.
        configs: the configuration behind each figure, in words.
        annual_factor: exp(-slope of ln $/M against year) (None with fewer than two years).
    """

    model: str
    gpus: tuple[str, ...]
    years: IntArray
    usd_per_m: FloatArray
    configs: tuple[str, ...]
    annual_factor: float | None
    best: tuple[Candidate, ...] = ()
    """The configuration behind each figure (its offer, pricing kind and date)."""

    @property
    def decline_per_year(self) -> float | None:
        """1 - 1 ÷ annual factor (the fraction the price falls each year)."""
        return None if self.annual_factor is None else 1.0 - 1.0 / self.annual_factor

    @property
    def projected_decline_per_year(self) -> float:
        """The trend's decline for a projection: never below 0 (a rising trend across the
        catalogue is read as no decline), 0 without a trend."""
        return max(self.decline_per_year or 0.0, 0.0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "model": self.model,
            "annual_factor": self.annual_factor,
            "decline_per_year": self.decline_per_year,
            "points": [
                {
                    "gpu": g,
                    "year": int(y),
                    "usd_per_m_output_incl_input": float(c),
                    "config": s,
                    "offer": b.offer if b else None,
                    "pricing_kind": b.pricing_kind if b else None,
                    "price_as_of": b.price_as_of if b else None,
                    "price_stale": b.price_stale if b else None,
                }
                for g, y, c, s, b in zip(
                    self.gpus,
                    self.years,
                    self.usd_per_m,
                    self.configs,
                    self.best or (None,) * len(self.gpus),
                    strict=True,
                )
            ],
        }


def annual_factor_from_points(years: IntArray | FloatArray, usd: FloatArray) -> float | None:
    """exp(-slope) of the least-squares line through (year, ln $); None with < 2 distinct
    years."""
    y = np.asarray(years, dtype=np.float64)
    if np.unique(y).size < 2:
        return None
    slope = float(np.polyfit(y, np.log(np.asarray(usd, dtype=np.float64)), 1)[0])
    return math.exp(-slope)


def hardware_generations(
    model: str,
    isl: int,
    osl: int,
    *,
    max_ttft_s: float | None = None,
    max_tpot_s: float | None = None,
    **sweep_options: Any,
) -> Generations:
    """Cheapest $/M output of ``model`` per accelerator (with an offer and a launch year) and
    the annual factor of the trend (module docstring); one sweep over every GPU.
    ``sweep_options`` as :func:`infercost.plan.search.run_sweep`.

    Raises:
        InputError: no accelerator with a launch year serves the model at a price.
    """
    sweep = run_sweep(model, isl, osl, **sweep_options)
    cost = feasible_cost(sweep, Targets(max_ttft_s, max_tpot_s))
    per_gpu = cost.reshape(cost.shape[0], -1)
    best = per_gpu.min(axis=1)
    arg = per_gpu.argmin(axis=1)
    gpus, years, usd, configs, chosen = [], [], [], [], []
    for g, acc in enumerate(sweep.grid.gpus):
        if not math.isfinite(best[g]) or acc.year is None:
            continue
        ix = (g, *(int(v) for v in np.unravel_index(int(arg[g]), cost.shape[1:])))
        c = candidate(sweep, ix)  # type: ignore[arg-type]
        gpus.append(acc.id)
        years.append(acc.year)
        usd.append(float(best[g]))
        configs.append(f"{c.layout} {c.weight_dtype} batch {c.concurrency} ({c.offer})")
        chosen.append(c)
    if not gpus:
        raise InputError(
            f"No catalogued accelerator with a launch year serves {model} at a price; "
            "pass --gpu-hour-usd to price every GPU alike."
        )
    order = np.argsort(np.asarray(years), kind="stable")
    y = np.asarray(years, dtype=np.int64)[order]
    u = np.asarray(usd, dtype=np.float64)[order]
    return Generations(
        model=sweep.grid.model.id,
        gpus=tuple(gpus[i] for i in order),
        years=y,
        usd_per_m=u,
        configs=tuple(configs[i] for i in order),
        annual_factor=annual_factor_from_points(y, u),
        best=tuple(chosen[i] for i in order),
    )
