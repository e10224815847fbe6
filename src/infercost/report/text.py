"""Text shared by the terminal tables: money (the sign in front of the dollar) and lines
wrapped with a hanging indent."""

from __future__ import annotations

import math
import textwrap
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


def wrapped(text: str, width: int, first: str = "", rest: str | None = None) -> list[str]:
    """``text`` wrapped at ``width`` columns between words with a hanging indent: the first
    line starts with ``first``, the others with ``rest`` (default: spaces as wide as
    ``first``). A word longer than a line (a URL, a path) is split rather than left to run
    past the edge. Never fewer than 20 columns of text per line."""
    indent = " " * len(first) if rest is None else rest
    lines = textwrap.wrap(
        text,
        width=max(width, len(indent) + 20),
        initial_indent=first,
        subsequent_indent=indent,
        break_on_hyphens=False,
    )
    return lines or [first.rstrip()]
