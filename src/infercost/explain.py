"""Explain trails: how a derived figure was computed, from which inputs and sources.

A :class:`Term` records one quantity: its value, unit, the formula that produced it and where
its inputs came from. ``predict(..., explain=True)`` returns a list of terms in evaluation order,
so every printed number can be traced back to a catalog figure or a stated default.
"""

from __future__ import annotations

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
