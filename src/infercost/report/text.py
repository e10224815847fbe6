"""Money formatting shared by the terminal tables: the sign in front of the dollar."""

from __future__ import annotations

from decimal import Decimal


def usd(x: float | Decimal | None, places: int = 2) -> str:
    """``$1,234.50``, ``-$0.44`` (the sign before the dollar), ``-`` for None."""
    if x is None:
        return "-"
    sign = "-" if x < 0 else ""
    return f"{sign}${abs(x):,.{places}f}"
