"""Traffic over a day: volume, a 24-hour shape and growth (the input of fleet sizing).

Volume is output tokens per day, or requests per day x osl, or all tokens per day x
osl ÷ (isl + osl). The shape is a 24-hour profile of relative loads (normalised to mean 1) or
a one-peak day with a given peak-to-average ratio (a von Mises shape); growth compounds per
month over a horizon.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from infercost.domains import DOMAINS
from infercost.errors import InputError
from infercost.units import HOURS_PER_DAY, HOURS_PER_MONTH, S_PER_HOUR

FloatArray = npt.NDArray[np.float64]

S_PER_DAY = HOURS_PER_DAY * S_PER_HOUR
HOURS = 24
#: Days in the billing month every planner uses: 730 h (8,760 h ÷ 12) ÷ 24 = 30.42.
DAYS_PER_BILLING_MONTH = HOURS_PER_MONTH / HOURS_PER_DAY
#: Longest growth horizon, months (50 years).
MAX_MONTHS = 600
#: Most output tokens per day a grown volume may reach: the most a volume may be given as
#: (10^18 tokens/day, far beyond all traffic in the world; ``infercost.domains``).
MAX_TOKENS_PER_DAY = DOMAINS["output_tokens_per_day"].hi


def _positive(name: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"{name} must be a positive number, got {value!r}.")


def normalise_profile(weights: Sequence[float] | FloatArray) -> FloatArray:
    """24 relative hourly loads scaled to mean 1 (hour 0 = midnight to 1 am).

    Raises:
        InputError: not 24 values, a negative or non-finite value, or all zero.
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (HOURS,):
        raise InputError(
            f"A daily profile has 24 hourly values (hour 0 first); got {w.size}. "
            "Give relative loads such as 0.3,0.2,...,1.8."
        )
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise InputError("Profile values must be finite, non-negative and not all zero.")
    return np.asarray(w / w.mean(), dtype=np.float64)


def diurnal_profile(peak_to_average: float, peak_hour: int = 14) -> FloatArray:
    """A one-peak day with the given peak-to-average ratio: weights ∝ exp(κ cos(2π(h - peak)/24))
    (a von Mises shape), κ solved by bisection so that max ÷ mean = the ratio.

    Raises:
        InputError: a ratio below 1 or at least 24 (one busy hour), or an hour outside 0-23.
    """
    if not (math.isfinite(peak_to_average) and 1.0 <= peak_to_average < HOURS):
        raise InputError(
            f"--peak-to-average must lie in [1, 24), got {peak_to_average!r} (1 = flat day)."
        )
    if not 0 <= peak_hour < HOURS:
        raise InputError(f"--peak-hour must be 0-23, got {peak_hour}.")
    theta = 2.0 * np.pi * (np.arange(HOURS) - peak_hour) / HOURS

    def ratio(kappa: float) -> float:
        return float(1.0 / np.mean(np.exp(kappa * (np.cos(theta) - 1.0))))

    lo, hi = 0.0, 1.0
    while ratio(hi) < peak_to_average:
        hi *= 2.0
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if ratio(mid) < peak_to_average else (lo, mid)
    return normalise_profile(np.exp(hi * (np.cos(theta) - 1.0)))


FLAT_ASSUMED = (
    "traffic assumed flat over the day (no --profile or --peak-to-average given): peak = "
    "average, so autoscaling saves nothing; give the daily shape for an autoscaled figure"
)


def check_growth(output_tokens_per_day: float, growth_per_month: float, months: float) -> None:
    """Refuse growth that carries the volume past :data:`MAX_TOKENS_PER_DAY` (computed in
    logarithms, so a factor such as 11^400 is refused before it overflows a float).

    Raises:
        InputError: the grown volume, its growth factor and what to change.
    """
    if not (output_tokens_per_day > 0 and growth_per_month > -1.0 and months >= 0):
        return  # the callers' own checks name these
    log10_factor = months * math.log10(1.0 + growth_per_month)
    log10_sized = math.log10(output_tokens_per_day) + log10_factor
    if log10_sized > math.log10(MAX_TOKENS_PER_DAY):
        raise InputError(
            f"--growth-per-month {growth_per_month:g} over --months {months:g} multiplies the "
            f"volume by {1.0 + growth_per_month:g}^{months:g} = 10^{log10_factor:,.1f}, to "
            f"10^{log10_sized:,.1f} output tokens/day at the end of the horizon, beyond "
            f"10^{math.log10(MAX_TOKENS_PER_DAY):.0f} (far beyond all traffic in the world); "
            "use a smaller --growth-per-month or --months."
        )


@dataclass(frozen=True, slots=True)
class Traffic:
    """Demand over one day.

    Attributes:
        output_tokens_per_day: output tokens per day today.
        isl, osl: mean prompt and output tokens per request.
        profile: shape (24,), relative load per hour, mean 1.
        growth_per_month: compound growth rate per month (0.1 = +10 %).
        months: horizon the fleet is sized for.
        shape: how the profile was set, in words; :data:`FLAT_ASSUMED` when the caller gave
            no shape (an assumption every output names).
    """

    output_tokens_per_day: float
    isl: float
    osl: float
    profile: FloatArray
    growth_per_month: float = 0.0
    months: float = 0.0
    shape: str = "given profile"

    def __post_init__(self) -> None:
        if self.growth_per_month and not self.months:
            raise InputError(
                f"--growth-per-month {self.growth_per_month:g} only applies with --months (the "
                "horizon to size for); give --months or drop --growth-per-month."
            )
        check_growth(self.output_tokens_per_day, self.growth_per_month, self.months)

    @property
    def growth_factor(self) -> float:
        """(1 + growth per month) ** months."""
        return float((1.0 + self.growth_per_month) ** self.months)

    @property
    def sized_output_tokens_per_day(self) -> float:
        """Output tokens per day at the end of the horizon."""
        return self.output_tokens_per_day * self.growth_factor

    @property
    def average_output_tok_s(self) -> float:
        """Mean output tokens/s at the end of the horizon."""
        return self.sized_output_tokens_per_day / S_PER_DAY

    @property
    def peak_output_tok_s(self) -> float:
        """Busiest hour's output tokens/s at the end of the horizon."""
        return self.average_output_tok_s * float(self.profile.max())


def traffic(
    *,
    isl: float,
    osl: float,
    output_tokens_per_day: float | None = None,
    requests_per_day: float | None = None,
    tokens_per_day: float | None = None,
    profile: Sequence[float] | None = None,
    peak_to_average: float | None = None,
    peak_hour: int = 14,
    growth_per_month: float = 0.0,
    months: float = 0.0,
) -> Traffic:
    """Build :class:`Traffic` from exactly one volume and at most one shape.

    ``tokens_per_day`` counts input and output tokens: output = tokens x osl ÷ (isl + osl).
    Without a profile or ratio the day is flat.

    Raises:
        InputError: not exactly one volume, both a profile and a ratio, a non-positive volume
            or token count, growth below -100 % or a negative horizon, or growth that
            carries the volume past :data:`MAX_TOKENS_PER_DAY` (:func:`check_growth`).
    """
    given = [v for v in (output_tokens_per_day, requests_per_day, tokens_per_day) if v is not None]
    if len(given) != 1:
        raise InputError(
            "Give exactly one of --output-tokens-per-day, --requests-per-day or --tokens-per-day."
        )
    if isl < 0:
        raise InputError(f"--isl must be >= 0 tokens, got {isl}.")
    _positive("--osl", osl)
    if output_tokens_per_day is not None:
        out = output_tokens_per_day
    elif requests_per_day is not None:
        out = requests_per_day * osl
    else:
        assert tokens_per_day is not None
        out = tokens_per_day * osl / (isl + osl)
    _positive("the daily volume", out)
    if profile is not None and peak_to_average is not None:
        raise InputError("Give --profile or --peak-to-average, not both.")
    if profile is not None:
        shape = normalise_profile(profile)
        how = "--profile as given"
    elif peak_to_average is not None:
        shape = diurnal_profile(peak_to_average, peak_hour)
        how = f"diurnal curve with peak-to-average {peak_to_average:g} at hour {peak_hour}"
    else:
        shape = np.ones(HOURS)
        how = FLAT_ASSUMED
    if not (math.isfinite(growth_per_month) and growth_per_month > -1.0):
        raise InputError(f"--growth-per-month must be > -1, got {growth_per_month!r}.")
    if not (math.isfinite(months) and 0 <= months <= MAX_MONTHS):
        raise InputError(
            f"--months must lie in [0, {MAX_MONTHS}] (a horizon of at most "
            f"{MAX_MONTHS // 12} years), got {months!r}."
        )
    return Traffic(float(out), float(isl), float(osl), shape, growth_per_month, months, how)
