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
        usd_per_gb: US$ per GB (1e9 bytes) at the first paid tier.
        free_gb_per_month: GB per month that are free before it.
        tier: the tier in words.
        source: where the figure comes from.
        as_of: when it was read.
    """

    id: str
    name: str
    usd_per_gb: Decimal
    free_gb_per_month: Decimal
    tier: str
    source: str
    as_of: date


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
            rates[key] = EgressRate(
                id=key,
                name=str(row["name"]),
                usd_per_gb=Decimal(str(row["usd_per_gb"])),
                free_gb_per_month=Decimal(str(row["free_gb_per_month"])),
                tier=str(row["tier"]),
                source=str(row["source"]),
                as_of=row["as_of"],
            )
        except (KeyError, ArithmeticError) as err:
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
