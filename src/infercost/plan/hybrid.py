"""Hybrid overflow: own replicas for the baseline, the API for the peaks (``plan hybrid``).

From a 24-hour profile of the daily volume (tokens, input and output together), with ``B``
own replicas of capacity c tokens/s each (at the planned utilisation):

    load_h            = tokens/day ÷ 86,400 x profile_h            (tokens/s in hour h)
    overflow tokens   = Σ_h max(load_h - B c, 0) x 3,600            (per day, to the API)
    $/month(B)        = B x replica $/hour x 24 x days + ops [B > 0]
                        + overflow x days ÷ 1e6 x API blended $/M

evaluated for every B from 0 (pure API) to ceil(peak ÷ c) (pure self-host, every hour served
in-house) at once; the cheapest B is the best baseline. Replicas here are paid around the
clock (owned, reserved or always-on), which is what makes a baseline cheaper than bursting.

When the peak needs more than ``MAX_BASELINES`` replicas, B runs over a bounded set instead:
for B >= 1 the cost is convex and piecewise linear in B with kinks at load_h ÷ c, so its
integer minimum lies at 1, at the pure self-host count, or next to a kink (floor and ceiling
of each of the 24 load_h ÷ c); those, plus a geometric spread for the curve, are evaluated
and the best baseline is still exact.

The month is the 730-hour billing month of :mod:`infercost.units` (730 ÷ 24 days) unless
``days_per_month`` says otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from infercost.errors import InputError
from infercost.plan.traffic import DAYS_PER_BILLING_MONTH, HOURS, normalise_profile
from infercost.units import HOURS_PER_DAY, S_PER_HOUR, TOKENS_PER_M

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Above this many baselines, evaluate a bounded set that still holds the optimum.
MAX_BASELINES = 2048
#: Points of the geometric spread added to the bounded set (for the cost curve).
CURVE_POINTS = 200


@dataclass(frozen=True, slots=True)
class HybridResult:
    """Costs of every baseline size and the best one (US$ per month).

    Attributes:
        tokens_per_day, profile, tok_s_per_replica, replica_usd_per_hour,
        api_blended_usd_per_m, ops_usd_per_month, days_per_month: the inputs.
        baselines: shape (n,), replica counts from 0 to pure self-host (every count, or the
            bounded set of :func:`baseline_sizes` for very large fleets).
        usd_per_month: shape (n,), monthly cost of each baseline.
        api_share: shape (n,), share of tokens sent to the API.
        best_replicas: the cheapest baseline.
        pure_api_usd_per_month, pure_self_host_usd_per_month, best_usd_per_month.
    """

    tokens_per_day: float
    profile: FloatArray
    tok_s_per_replica: float
    replica_usd_per_hour: float
    api_blended_usd_per_m: float
    ops_usd_per_month: float
    days_per_month: float
    baselines: IntArray
    usd_per_month: FloatArray
    api_share: FloatArray

    @property
    def best_index(self) -> int:
        """Index of the cheapest baseline (the smallest on ties)."""
        return int(np.argmin(self.usd_per_month))

    @property
    def best_replicas(self) -> int:
        """Own replicas in the cheapest mix."""
        return int(self.baselines[self.best_index])

    @property
    def best_usd_per_month(self) -> float:
        """Monthly cost of the cheapest mix."""
        return float(self.usd_per_month[self.best_index])

    @property
    def pure_api_usd_per_month(self) -> float:
        """Everything on the API (B = 0)."""
        return float(self.usd_per_month[0])

    @property
    def pure_self_host_usd_per_month(self) -> float:
        """Everything in-house, sized for the busiest hour."""
        return float(self.usd_per_month[-1])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``plan hybrid --json``)."""
        best = self.best_usd_per_month
        return {
            "tokens_per_day": self.tokens_per_day,
            "profile": [float(x) for x in self.profile],
            "tok_s_per_replica": self.tok_s_per_replica,
            "replica_usd_per_hour": self.replica_usd_per_hour,
            "api_blended_usd_per_m": self.api_blended_usd_per_m,
            "ops_usd_per_month": self.ops_usd_per_month,
            "days_per_month": self.days_per_month,
            "best_replicas": self.best_replicas,
            "best_usd_per_month": best,
            "best_api_share": float(self.api_share[self.best_index]),
            "pure_api_usd_per_month": self.pure_api_usd_per_month,
            "pure_self_host_replicas": int(self.baselines[-1]),
            "pure_self_host_usd_per_month": self.pure_self_host_usd_per_month,
            "saving_vs_pure_api_usd_per_month": self.pure_api_usd_per_month - best,
            "saving_vs_pure_self_host_usd_per_month": self.pure_self_host_usd_per_month - best,
            "by_baseline": [
                {"replicas": int(b), "usd_per_month": float(c), "api_share": float(s)}
                for b, c, s in zip(self.baselines, self.usd_per_month, self.api_share, strict=True)
            ],
        }


def baseline_sizes(load_in_replicas: FloatArray, top: int) -> IntArray:
    """Baselines to evaluate: 0..``top`` when that is at most :data:`MAX_BASELINES` values,
    else 0, 1, ``top``, the integers either side of every hourly load (in replicas) and a
    geometric spread, sorted (module docstring: the optimum is among them)."""
    if top < MAX_BASELINES:
        return np.arange(top + 1, dtype=np.int64)
    kinks = np.concatenate([np.floor(load_in_replicas), np.ceil(load_in_replicas)])
    spread = np.round(np.geomspace(1.0, float(top), CURVE_POINTS))
    sizes = np.concatenate([[0.0, 1.0, float(top)], kinks, spread])
    return np.unique(np.clip(sizes, 0, top).astype(np.int64))


def hybrid(
    tokens_per_day: float,
    tok_s_per_replica: float,
    replica_usd_per_hour: float,
    api_blended_usd_per_m: float,
    *,
    profile: Sequence[float] | FloatArray | None = None,
    ops_usd_per_month: float = 0.0,
    max_utilization: float = 1.0,
    days_per_month: float = DAYS_PER_BILLING_MONTH,
) -> HybridResult:
    """Cost of every baseline size and the best (module docstring).

    Args:
        tokens_per_day: daily volume, input + output tokens.
        tok_s_per_replica: tokens/s one replica serves (counted like the volume).
        replica_usd_per_hour: what one replica costs per hour, paid all day.
        api_blended_usd_per_m: the API's $/M at this traffic's input/output mix.
        profile: 24 relative hourly loads (default: flat).
        ops_usd_per_month: operations cost whenever at least one replica is owned.
        max_utilization: share of a replica's capacity planned for use.
        days_per_month: days in the billing month (default 730 h ÷ 24 = 30.42).

    Raises:
        InputError: a non-positive volume, capacity or price; a utilisation outside (0, 1];
            a bad profile.
    """
    for name, v in (
        ("--tokens-per-day", tokens_per_day),
        ("--tok-s", tok_s_per_replica),
        ("--replica-usd-per-hour", replica_usd_per_hour),
        ("--days-per-month", days_per_month),
    ):
        if not (math.isfinite(v) and v > 0):
            raise InputError(f"{name} must be a positive number, got {v!r}.")
    for name, v in (("--api-usd-per-m", api_blended_usd_per_m),
                    ("--ops-usd-per-month", ops_usd_per_month)):  # fmt: skip
        if not (math.isfinite(v) and v >= 0):
            raise InputError(f"{name} must be a number >= 0, got {v!r}.")
    if not (math.isfinite(max_utilization) and 0 < max_utilization <= 1):
        raise InputError(f"--max-utilization must lie in (0, 1], got {max_utilization!r}.")
    shape = normalise_profile(profile) if profile is not None else np.ones(HOURS)
    load = tokens_per_day / (HOURS_PER_DAY * S_PER_HOUR) * shape
    cap = tok_s_per_replica * max_utilization
    top = int(np.ceil(load.max() / cap - 1e-12))
    b = baseline_sizes(load / cap, top)
    served = np.minimum(load[None, :], b[:, None] * cap)
    overflow_tokens_day = ((load[None, :] - served) * S_PER_HOUR).sum(axis=1)
    cost = (
        b * replica_usd_per_hour * HOURS_PER_DAY * days_per_month
        + np.where(b > 0, ops_usd_per_month, 0.0)
        + overflow_tokens_day * days_per_month / TOKENS_PER_M * api_blended_usd_per_m
    )
    return HybridResult(
        tokens_per_day=tokens_per_day,
        profile=shape,
        tok_s_per_replica=tok_s_per_replica,
        replica_usd_per_hour=replica_usd_per_hour,
        api_blended_usd_per_m=api_blended_usd_per_m,
        ops_usd_per_month=ops_usd_per_month,
        days_per_month=days_per_month,
        baselines=b,
        usd_per_month=np.asarray(cost, dtype=np.float64),
        api_share=np.asarray(overflow_tokens_day / tokens_per_day, dtype=np.float64),
    )
