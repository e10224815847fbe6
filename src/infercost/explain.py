"""Explain trails: how a derived figure was computed, from which inputs and sources.

A :class:`Term` records one quantity: its value, unit, the formula that produced it and where
its inputs came from. ``predict(..., explain=True)`` returns a list of terms in evaluation order,
so every printed number can be traced back to a catalog figure or a stated default.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Term:
    """One step of a derivation.

    Attributes:
        name: the quantity, with its unit suffix (``kv_bytes_per_token``).
        value: its value in the unit named by ``unit``.
        unit: unit text for display ("B", "s", "tok/s", "USD/M tok").
        formula: the formula in words/symbols, with the input values substituted where useful.
        source: where the inputs come from (catalog entry, config.json key, default and
            its source).
    """

    name: str
    value: float | str | None
    unit: str
    formula: str
    source: str = ""

    def to_dict(self) -> dict[str, float | str | None]:
        """JSON-ready dict with the five fields."""
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "formula": self.formula,
            "source": self.source,
        }


@dataclass(slots=True)
class Trail:
    """An ordered, append-only list of :class:`Term` (mutable while a derivation runs)."""

    terms: list[Term] = field(default_factory=list)

    def add(
        self, name: str, value: float | str | None, unit: str, formula: str, source: str = ""
    ) -> None:
        """Append one term."""
        self.terms.append(Term(name, value, unit, formula, source))

    def to_list(self) -> list[dict[str, float | str | None]]:
        """JSON-ready list of dicts."""
        return [t.to_dict() for t in self.terms]


_SI = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))
_SI_WORDS = ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"))


def _fixed(value: float, sig: int = 6) -> str:
    """``value`` to ``sig`` significant figures in fixed notation with thousands separators,
    trailing zeros dropped: 1647.97 -> ``1,647.97``, 0.0000123 -> ``0.0000123`` (never
    ``1.23e-05``)."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    places = max(0, min(18, sig - 1 - math.floor(math.log10(abs(value)))))
    text = f"{value:,.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def readable(value: float | str | None, unit: str) -> str:
    """A term's value with its unit as a person reads it, without scientific notation.

    Whole numbers get thousands separators; from a thousand up the SI figure follows in
    brackets (bytes in kB/MB/GB/TB, parameters in millions/billions, anything else with k, M,
    G, T); seconds below one are shown in ms or µs. Examples: ``16,060,522,496 B (16.06 GB)``,
    ``8,030,261,248 params (8.03 billion)``, ``8.32086 ms``, ``1,647.97 tok/s``.
    """
    if value is None:
        return f"— {unit}".rstrip()
    if isinstance(value, str):
        return f"{value} {unit}".rstrip()
    v = float(value)
    if not math.isfinite(v):
        return f"{v} {unit}".rstrip()
    if unit == "s" and 0 < abs(v) < 1:
        if abs(v) >= 1e-3:
            return f"{_fixed(v * 1e3)} ms"
        return f"{_fixed(v * 1e6)} µs"
    whole = v.is_integer() and abs(v) < 1e18
    text = f"{int(v):,}" if whole else _fixed(v)
    magnitude = abs(v)
    extra = ""
    if unit == "B":
        for scale, prefix in _SI:
            if magnitude >= scale:
                extra = f" ({v / scale:,.2f} {prefix}B)"
                break
    elif unit == "params":
        for scale, word in _SI_WORDS:
            if magnitude >= scale:
                extra = f" ({v / scale:,.2f} {word})"
                break
    elif magnitude >= 1e6:
        for scale, prefix in _SI:
            if magnitude >= scale:
                extra = f" ({v / scale:,.3g} {prefix})"
                break
    return f"{text} {unit}{extra}".rstrip()
