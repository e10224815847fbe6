"""Cascade and router economics: ``infercost plan cascade``.

Tiers are ordered cheapest first. Each has the share of requests it finally serves (shares
sum to 1) and its cost per million tokens. Two ways to reach a tier:

``router``   a classifier sends each request straight to its tier; each request is served once
             (plus the router's own $/M):
                 blended = Σ share_i x cost_i + router $/M
``cascade``  every request starts at tier 1 and escalates until a tier's answer is accepted;
             a request that passes through tier i pays ``attempt_fraction`` of its tokens there
             (1 = a full answer generated and rejected):
                 reach_i = Σ_{j >= i} share_j        (share that reaches tier i)
                 blended = Σ_i [share_i + attempt_fraction x (reach_i - share_i)] x cost_i

Escalation rate out of tier i = (reach_i - share_i) ÷ reach_i. Saving against serving every
request on the baseline (default: the last, strongest tier) = 1 - blended ÷ baseline, and the
baseline is baseline ÷ blended times dearer.

Worked example W4: 60 % at $0.02/M, 30 % at $0.05/M, 10 % at $0.46/M routed: 0.073 $/M,
6.3x cheaper than the 70B alone, as the article prints.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from infercost.cost.api import api_price, blended_usd_per_m
from infercost.errors import InputError
from infercost.plan.search import search

MODES = ("router", "cascade")
SHARE_TOLERANCE = 1e-6


@dataclass(frozen=True, slots=True)
class Tier:
    """One tier: a name, the share of requests it serves and its $/M tokens.

    Raises:
        InputError: a share outside [0, 1] or a negative or non-finite cost.
    """

    name: str
    share: float
    usd_per_m: float
    source: str = "given"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.share) and 0.0 <= self.share <= 1.0):
            raise InputError(f"Tier {self.name!r}: share must lie in [0, 1], got {self.share!r}.")
        if not (math.isfinite(self.usd_per_m) and self.usd_per_m >= 0):
            raise InputError(f"Tier {self.name!r}: $/M must be >= 0, got {self.usd_per_m!r}.")


@dataclass(frozen=True, slots=True)
class CascadeResult:
    """Blended cost of the tiers and the saving against the baseline.

    Attributes:
        tiers, mode, attempt_fraction, router_usd_per_m: the inputs.
        reach: share of requests reaching each tier (router mode: its own share).
        escalation_rate: share of requests reaching a tier that move on from it.
        usd_per_m_by_tier: each tier's contribution to the blended $/M.
        blended_usd_per_m: the mix's $/M.
        baseline_usd_per_m: every request on the baseline.
        saving_fraction: 1 - blended ÷ baseline.
        times_cheaper: baseline ÷ blended.
    """

    tiers: tuple[Tier, ...]
    mode: str
    attempt_fraction: float
    router_usd_per_m: float
    reach: tuple[float, ...]
    escalation_rate: tuple[float, ...]
    usd_per_m_by_tier: tuple[float, ...]
    blended_usd_per_m: float
    baseline_usd_per_m: float

    @property
    def saving_fraction(self) -> float:
        """1 - blended ÷ baseline."""
        return 1.0 - self.blended_usd_per_m / self.baseline_usd_per_m

    @property
    def times_cheaper(self) -> float:
        """baseline ÷ blended (inf when the blend is free)."""
        if self.blended_usd_per_m == 0:
            return math.inf
        return self.baseline_usd_per_m / self.blended_usd_per_m

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``plan cascade --json``)."""
        return {
            "mode": self.mode,
            "attempt_fraction": self.attempt_fraction,
            "router_usd_per_m": self.router_usd_per_m,
            "tiers": [
                {
                    "name": t.name,
                    "share": t.share,
                    "usd_per_m": t.usd_per_m,
                    "source": t.source,
                    "reach": r,
                    "escalation_rate": e,
                    "usd_per_m_contribution": c,
                }
                for t, r, e, c in zip(
                    self.tiers,
                    self.reach,
                    self.escalation_rate,
                    self.usd_per_m_by_tier,
                    strict=True,
                )
            ],
            "blended_usd_per_m": self.blended_usd_per_m,
            "baseline_usd_per_m": self.baseline_usd_per_m,
            "saving_fraction": self.saving_fraction,
            "times_cheaper": self.times_cheaper,
        }


def cascade(
    tiers: Sequence[Tier],
    *,
    mode: str = "router",
    attempt_fraction: float | None = None,
    router_usd_per_m: float | None = None,
    baseline_usd_per_m: float | None = None,
) -> CascadeResult:
    """Blended $/M of the tiers and the saving (module docstring). ``attempt_fraction``
    (default 1) belongs to ``cascade`` mode, ``router_usd_per_m`` (default 0) to ``router``
    mode; each is refused in the other mode, where it would not count.

    Raises:
        InputError: no tiers, shares that do not sum to 1, an unknown mode, an attempt
            fraction outside [0, 1], a negative router cost, a baseline that is not
            positive, or an option of the other mode.
    """
    if not tiers:
        raise InputError("Give at least one tier (--tier NAME:SHARE:COST).")
    if mode not in MODES:
        raise InputError(f"Unknown --mode {mode!r}; use one of {', '.join(MODES)}.")
    if mode == "cascade" and router_usd_per_m is not None:
        raise InputError(
            "--router-usd-per-m is the classifier of --mode router; a cascade has no router "
            "(drop it, or use --mode router)."
        )
    if mode == "router" and attempt_fraction is not None:
        raise InputError(
            "--attempt-fraction applies to --mode cascade (escalated attempts); a router serves "
            "each request once (drop it, or use --mode cascade)."
        )
    attempt_fraction = 1.0 if attempt_fraction is None else attempt_fraction
    router_usd_per_m = 0.0 if router_usd_per_m is None else router_usd_per_m
    shares = np.asarray([t.share for t in tiers], dtype=np.float64)
    costs = np.asarray([t.usd_per_m for t in tiers], dtype=np.float64)
    if abs(float(shares.sum()) - 1.0) > SHARE_TOLERANCE:
        raise InputError(
            f"Tier shares must sum to 1 (the share of requests each tier finally serves); "
            f"they sum to {shares.sum():.6g}."
        )
    if not (math.isfinite(attempt_fraction) and 0.0 <= attempt_fraction <= 1.0):
        raise InputError(f"--attempt-fraction must lie in [0, 1], got {attempt_fraction!r}.")
    if not (math.isfinite(router_usd_per_m) and router_usd_per_m >= 0):
        raise InputError(f"--router-usd-per-m must be >= 0, got {router_usd_per_m!r}.")
    base = float(costs[-1]) if baseline_usd_per_m is None else baseline_usd_per_m
    if not (math.isfinite(base) and base > 0):
        raise InputError(f"The baseline $/M must be positive, got {base!r}.")
    if mode == "router":
        reach = shares
        contrib = shares * costs
        extra = router_usd_per_m
    else:
        reach = np.cumsum(shares[::-1])[::-1]
        contrib = (shares + attempt_fraction * (reach - shares)) * costs
        extra = 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        esc = np.where(reach > 0, (reach - shares) / reach, 0.0)
    return CascadeResult(
        tiers=tuple(tiers),
        mode=mode,
        attempt_fraction=attempt_fraction,
        router_usd_per_m=router_usd_per_m,
        reach=tuple(float(x) for x in reach),
        escalation_rate=tuple(float(x) for x in esc),
        usd_per_m_by_tier=tuple(float(x) for x in contrib),
        blended_usd_per_m=float(contrib.sum() + extra),
        baseline_usd_per_m=base,
    )


def tier_cost_usd_per_m(spec: str, isl: int, osl: int) -> tuple[float, str]:
    """A tier's $/M tokens (input + output at this isl/osl) and where it came from.

    ``spec`` is a number (``0.46``), ``api:MODEL`` or ``api:PROVIDER/MODEL`` (a price sheet's
    blended $/M at input share isl ÷ (isl + osl)), or ``MODEL@GPU`` (the cheapest
    self-hosted configuration on that GPU from the catalog's offers: replica $/h ÷ all tokens
    per hour).

    Raises:
        InputError: an unparseable spec or a model that no configuration serves.
        UnknownNameError: unknown model, GPU or API model.
    """
    text = spec.strip()
    try:
        return float(text), "given"
    except ValueError:
        pass
    if text.lower().startswith("api:"):
        name = text[4:]
        provider, _, model = name.rpartition("/")
        sheet = api_price(model, provider or None)
        usd = float(blended_usd_per_m(sheet, isl / (isl + osl), prompt_tokens=isl))
        return usd, f"{sheet.provider} {sheet.model} price sheet ({sheet.source}, {sheet.as_of})"
    if "@" in text:
        model, _, gpu = text.partition("@")
        result = search(model, isl, osl, top=0, gpus=[gpu])
        w = result.winner
        if w is None or w.usd_per_m_output_incl_input is None:
            why = result.families[0].detail if result.families else "no configuration"
            raise InputError(f"No priced configuration of {model} on {gpu}: {why}.")
        usd = w.usd_per_m_output_incl_input * osl / (isl + osl)
        return usd, f"{w.layout} {w.weight_dtype} batch {w.concurrency} ({w.offer})"
    raise InputError(f"Cannot read tier cost {spec!r}: give $/M (0.46), api:MODEL or MODEL@GPU.")


def parse_tier(spec: str, isl: int = 1000, osl: int = 300) -> Tier:
    """``NAME:SHARE:COST`` (COST as :func:`tier_cost_usd_per_m` reads it) -> :class:`Tier`.

    Raises:
        InputError: not three colon-separated parts, or a share that is not a number.
    """
    parts = spec.split(":", 2)
    if len(parts) != 3:
        raise InputError(
            f"Cannot read --tier {spec!r}: use NAME:SHARE:COST, e.g. small:0.6:0.02 or "
            "big:0.1:llama-3.1-70b@h100."
        )
    name, share_text, cost_text = parts
    try:
        share = float(share_text)
    except ValueError:
        raise InputError(f"--tier {spec!r}: share {share_text!r} is not a number.") from None
    usd, source = tier_cost_usd_per_m(cost_text, isl, osl)
    return Tier(name, share, usd, source)
