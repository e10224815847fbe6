"""Money: US dollars as :class:`decimal.Decimal`, and the one fraction every cost reduces to.

Physics hands over plain floats (tokens/s, seconds); this module turns them into exact decimal
dollars once, at the boundary, so sums of prices, hours and overheads do not drift. Display
rounding happens only in :func:`round_usd`, never inside a computation.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal

from infercost.errors import InputError
from infercost.units import S_PER_HOUR, TOKENS_PER_M

CURRENCY = "USD"
"""The one currency infercost computes in; every ``*_usd`` value is in it."""

Number = int | float | str | Decimal


def usd(value: Number, name: str = "amount") -> Decimal:
    """``value`` as an exact Decimal number of dollars.

    Floats convert through their shortest repr (``0.1`` -> ``Decimal("0.1")``, not the binary
    expansion), so a price typed as 2.49 stays 2.49.

    Raises:
        InputError: ``value`` is NaN, infinite or not a number; the message names ``name``.
    """
    if isinstance(value, bool):
        raise InputError(f"{name} must be a number, got {value!r}.")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(f"{name} must be a finite number, got {value!r}.")
        return Decimal(repr(value))
    try:
        result = Decimal(value)
    except ArithmeticError:
        raise InputError(f"{name} must be a number, got {value!r}.") from None
    if not result.is_finite():
        raise InputError(f"{name} must be a finite number, got {value!r}.")
    return result


def round_usd(value: Decimal, places: int = 2) -> Decimal:
    """``value`` rounded half-to-even to ``places`` decimals, for display only."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def usd_per_m_tokens(usd_per_hour: Decimal, tok_s: float) -> Decimal:
    """Dollars per million tokens = $/hour ÷ (tokens/s x 3600 ÷ 1e6).

    The fundamental equation of inference cost (worked example W1,
    ``shared/reference/worked_examples.md``): a rate of spend over a rate of production.

    Raises:
        InputError: ``tok_s`` is not a positive finite number (no tokens: no price per token).
    """
    if not (math.isfinite(tok_s) and tok_s > 0):
        raise InputError(
            f"Token rate must be positive to price tokens, got {tok_s!r} tok/s; "
            "check that the deployment fits and produces tokens."
        )
    m_tokens_per_hour = usd(tok_s, "tok_s") * usd(S_PER_HOUR) / usd(TOKENS_PER_M)
    return usd_per_hour / m_tokens_per_hour
