"""Internet data-egress rates by cloud, dated and sourced (``data/egress.toml``)."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib import resources

from infercost.errors import CatalogError, UnknownNameError


@dataclass(frozen=True, slots=True)
class EgressRate:
    """One cloud's internet egress price.

    Attributes:
        id: provider id (``aws``, ``gcp``, ``azure``).
        name: what the rate covers.
        tiers: the month's volume bands, ``(up to GB, US$ per GB)``, ascending (GB = 1e9
            bytes; a $0 band is the free allowance).
        open_ended: the last band has no upper bound at the source (else volumes beyond it
            are priced at its rate, flagged).
        tier: the bands in words.
        source: where the figure comes from.
        as_of: when it was read.
    """

    id: str
    name: str
    tiers: tuple[tuple[Decimal, Decimal], ...]
    open_ended: bool
    tier: str
    source: str
    as_of: date

    @property
    def usd_per_gb(self) -> Decimal:
        """The first paid band's rate (what one transfer of a busy month pays)."""
        return next((r for _, r in self.tiers if r > 0), Decimal(0))

    @property
    def free_gb_per_month(self) -> Decimal:
        """The free allowance: the $0 bands at the start."""
        free = Decimal(0)
        for upto, r in self.tiers:
            if r > 0:
                break
            free = upto
        return free


@functools.cache
def egress_rates() -> dict[str, EgressRate]:
    """Every shipped egress rate by provider id.

    Raises:
        CatalogError: a row that lacks a field or has a non-numeric price.
    """
    path = "infercost/catalog/data/egress.toml"
    text = resources.files("infercost.catalog").joinpath("data/egress.toml").read_text()
    rates: dict[str, EgressRate] = {}
    for key, row in tomllib.loads(text).items():
        try:
            tiers = tuple((Decimal(str(a)), Decimal(str(b))) for a, b in row["tiers"])
            if (
                not tiers
                or any(b < 0 for _, b in tiers)
                or [a for a, _ in tiers] != sorted(a for a, _ in tiers)
            ):
                raise CatalogError(path, f"[{key}]: tiers must be ascending (GB, $/GB >= 0)")
            rates[key] = EgressRate(
                id=key,
                name=str(row["name"]),
                tiers=tiers,
                open_ended=bool(row["open_ended"]),
                tier=str(row["tier"]),
                source=str(row["source"]),
                as_of=row["as_of"],
            )
        except (KeyError, ArithmeticError, TypeError, ValueError) as err:
            raise CatalogError(path, f"[{key}]: missing or invalid field ({err})") from err
    return rates


def get_egress_rate(provider: str) -> EgressRate:
    """The egress rate of ``provider`` (``aws``, ``gcp``, ``azure``; case-insensitive).

    Raises:
        UnknownNameError: a provider without a shipped rate.
    """
    rates = egress_rates()
    rate = rates.get(provider.strip().lower())
    if rate is None:
        raise UnknownNameError("egress provider", provider, sorted(rates))
    return rate
