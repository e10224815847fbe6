"""One configuration of an evaluated grid as plain scalars, for tables, JSON and checks."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from infercost.plan.sweep import FloatArray, Sweep


@dataclass(frozen=True, slots=True)
class Candidate:
    """One configuration of a sweep, as plain scalars (for tables and JSON)."""

    gpu: str
    num_gpus: int
    tp: int
    pp: int
    ep: int
    weight_dtype: str
    compute_dtype: str
    kv_dtype: str
    concurrency: int
    max_concurrency: int
    output_tok_s: float
    output_tok_s_per_gpu: float
    ttft_s: float
    tpot_s: float
    e2e_s: float
    usd_per_gpu_hour: float | None
    offer: str
    price_stale: bool
    pricing_kind: str
    """The offer's pricing kind (one for every row of a ranking; "user" for a typed rate)."""
    price_as_of: str | None
    """The offer's date (None for a typed rate or no offer)."""
    usd_per_m_output_incl_input: float | None
    usd_per_m_input: float | None
    usd_per_m_output: float | None
    usd_per_1k_requests: float | None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict of every field."""
        return {name: getattr(self, name) for name in Candidate.__slots__}

    @property
    def layout(self) -> str:
        """``4x H100 TP4`` style description."""
        extra = (f" PP{self.pp}" if self.pp > 1 else "") + (f" EP{self.ep}" if self.ep > 1 else "")
        return f"{self.num_gpus}x {self.gpu} TP{self.tp}{extra}"


def _nan_none(x: float) -> float | None:
    return None if not math.isfinite(x) else float(x)


def candidate(sweep: Sweep, index: tuple[int, int, int, int, int]) -> Candidate:
    """The configuration at grid ``index`` = (gpu, weight dtype, layout, kv dtype, concurrency)."""
    g, w, p, k, c = index
    grid = sweep.grid
    lay = grid.layouts

    def at(a: FloatArray) -> float:
        return float(np.broadcast_to(a, grid.shape)[index])

    out = at(sweep.output_tok_s)
    offer = (sweep.prices.offers or {}).get(grid.gpus[g].id)
    price = float(sweep.prices.usd_per_gpu_hour[g, p])
    incl = _nan_none(at(sweep.usd_per_m_output_incl_input))
    return Candidate(
        gpu=grid.gpus[g].id,
        num_gpus=int(lay.num_gpus[p]),
        tp=int(lay.tp[p]),
        pp=int(lay.pp[p]),
        ep=int(lay.ep[p]),
        weight_dtype=grid.weight_fmts[w].id,
        compute_dtype=str(grid.compute_dtypes[g, w]),
        kv_dtype=grid.kv_dtypes[k],
        concurrency=int(grid.concurrency[c]),
        max_concurrency=int(sweep.max_concurrency[g, w, p, k, 0]),
        output_tok_s=out,
        output_tok_s_per_gpu=out / int(lay.num_gpus[p]),
        ttft_s=at(sweep.ttft_s),
        tpot_s=at(sweep.tpot_s),
        e2e_s=at(sweep.e2e_s),
        usd_per_gpu_hour=_nan_none(price),
        offer=str(sweep.prices.offer_ids[g, p]),
        price_stale=bool(sweep.prices.stale[g, p]),
        pricing_kind=sweep.prices.pricing_kind,
        price_as_of=None if offer is None else offer.as_of.isoformat(),
        usd_per_m_output_incl_input=incl,
        usd_per_m_input=_nan_none(at(sweep.usd_per_m_input)),
        usd_per_m_output=_nan_none(at(sweep.usd_per_m_output)),
        usd_per_1k_requests=None if incl is None else incl * sweep.osl / 1e3,
    )
