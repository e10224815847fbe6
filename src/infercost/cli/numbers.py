"""Numbers as the terminal prints them: never in scientific notation (docs/cli.md, Numbers).

Python's ``g`` format switches to ``9e+05`` from a million (``.3g``: from a thousand) and
below 0.0001; the commands format figures with :func:`plain` instead.
"""

from __future__ import annotations

import math


def plain(value: float, sig: int = 6) -> str:
    """``value`` to ``sig`` significant figures in fixed notation with thousands separators,
    trailing zeros dropped: 900000.0 -> ``900,000``, 1234567.0 -> ``1,234,570``,
    0.0000123 -> ``0.0000123``, 2.0 -> ``2``; ``inf``/``nan`` as Python writes them."""
    v = float(value)
    if v == 0 or not math.isfinite(v):
        return "0" if v == 0 else str(v)
    magnitude = math.floor(math.log10(abs(v)))
    places = max(0, min(18, sig - 1 - magnitude))
    rounded = round(v, sig - 1 - magnitude)
    text = f"{rounded:,.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
