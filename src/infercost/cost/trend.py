"""Price trends: how fast the cost of a token falls, and what a price cut does to volume.

Compound annual change between two prices ``p0`` and ``p1`` ``years`` apart:

    annual factor = (p0 / p1) ** (1 / years)      (3.0 = the price falls 3x per year)

and its projection ``p(t) = p_now / factor ** t``. Price elasticity of demand (constant
elasticity): ``volume ratio = price ratio ** elasticity``, so
``elasticity = ln(volume ratio) / ln(price ratio)``. Spend changes by price ratio x volume
ratio. Plain floats: these are ratios of prices, not money amounts.
"""

from __future__ import annotations

import math

from infercost.errors import InputError


def _positive(name: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"{name} must be a positive number, got {value!r}.")


def annual_decline_factor(start_usd: float, end_usd: float, years: float) -> float:
    """How many times cheaper per year: (start / end) ** (1 / years).

    Raises:
        InputError: a non-positive price or period.
    """
    for name, v in (("start_usd", start_usd), ("end_usd", end_usd), ("years", years)):
        _positive(name, v)
    return float((start_usd / end_usd) ** (1.0 / years))


def project_usd(usd_now: float, annual_factor: float, years: float) -> float:
    """Price after ``years`` at a constant annual decline factor: usd_now / factor ** years.

    Raises:
        InputError: a non-positive price or factor.
    """
    _positive("usd_now", usd_now)
    _positive("annual_factor", annual_factor)
    return float(usd_now / annual_factor**years)


def price_elasticity(price_ratio: float, volume_ratio: float) -> float:
    """Constant price elasticity of demand: ln(volume ratio) / ln(price ratio).

    Raises:
        InputError: a non-positive ratio, or a price ratio of 1 (no price change).
    """
    _positive("--price-ratio", price_ratio)
    _positive("--volume-ratio", volume_ratio)
    if price_ratio == 1.0:
        raise InputError(
            "--price-ratio is 1 (no price change), so no elasticity follows; give a ratio "
            "other than 1, or --elasticity."
        )
    return math.log(volume_ratio) / math.log(price_ratio)


def spend_ratio(price_ratio: float, volume_ratio: float) -> float:
    """New spend ÷ old spend = price ratio x volume ratio.

    Raises:
        InputError: a non-positive ratio.
    """
    _positive("price_ratio", price_ratio)
    _positive("volume_ratio", volume_ratio)
    return price_ratio * volume_ratio
