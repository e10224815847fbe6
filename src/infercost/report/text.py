"""Money formatting shared by the terminal tables: the sign in front of the dollar."""

from __future__ import annotations

import math
from decimal import Decimal


def usd(x: float | Decimal | None, places: int = 2) -> str:
    """``$1,234.50``, ``-$0.44`` (the sign before the dollar), ``-`` for None."""
    if x is None:
        return "-"
    sign = "-" if x < 0 else ""
    return f"{sign}${abs(x):,.{places}f}"


def amount_sig(x: float | Decimal, sig: int = 3, *, plus: bool = False) -> str:
    """A money amount without the dollar, as :func:`usd_sig` rounds it: ``0.000900``,
    ``0.127``, ``3.49``, ``12,290.00``; ``0`` for zero; ``plus`` signs it (``+0.000450``)
    for a change. For a column headed ``US$`` (docs/cli.md: three significant figures
    below $1)."""
    v = float(x)
    if v == 0:
        return "0"
    places = max(2, sig - 1 - math.floor(math.log10(abs(v))))
    return f"{x:{'+' if plus else ''},.{places}f}"


def usd_sig(x: float | Decimal | None, sig: int = 3) -> str:
    """Dollars to ``sig`` significant figures below $1 and to the cent above:
    ``$0.0000630``, ``$0.127``, ``$3.49``, ``$12,290.00``; ``$0`` for zero, ``-`` for None.

    A per-request cost of $0.000063 is not rounded to $0.0001 or $0.0000 (issue 15)."""
    if x is None:
        return "-"
    v = float(x)
    if v == 0:
        return "$0"
    places = max(2, sig - 1 - math.floor(math.log10(abs(v))))
    return usd(x, places)
