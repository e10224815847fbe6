"""What a deployment's tokens cost, all in: ``infercost cost``.

One :func:`infercost.predict` call gives the operating point and the $/M input and output at
the list price of a used GPU-hour (prefill time charged to input tokens, the rest to output;
``infercost.cost.tokens``). Overheads then scale both by one factor (``cost/overheads.py``):

    all-in $/M = list $/M x effective $/GPU-hour ÷ list $/GPU-hour

where the effective rate spreads idle hours (utilisation), spare replicas (N+1, zones) and
operations $/month over the useful GPU-hours. Per request = (isl x $/M in + osl x $/M out) ÷ 1e6;
per useful output token = $/M output ÷ useful fraction.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from infercost.cost.gpu_hour import GpuHourPrice
from infercost.cost.money import usd
from infercost.cost.overheads import EffectiveRate, Overheads, effective_usd_per_gpu_hour
from infercost.errors import InputError
from infercost.predict import Prediction, predict
from infercost.units import TOKENS_PER_M

#: ``infercost cost --json`` keys besides ``prediction`` (written out; a test pins them).
COST_JSON_KEYS: tuple[str, ...] = (
    "fits",
    "reason",
    "currency",
    "usd_per_gpu_hour_list",
    "usd_per_gpu_hour_effective",
    "price_source",
    "price_stale",
    "pricing_kind",
    "gpus_paid",
    "replicas_needed",
    "replicas_paid",
    "utilization",
    "ops_usd_per_month",
    "fleet_usd_per_month",
    "usd_per_m_input",
    "usd_per_m_output",
    "usd_per_m_blended",
    "usd_per_m_input_full_load",
    "usd_per_m_output_full_load",
    "usd_per_request",
    "usd_per_1k_requests",
    "useful_fraction",
    "usd_per_m_useful_output",
    "prediction",
)


@dataclass(frozen=True, slots=True)
class DeploymentCost:
    """All-in token costs of one deployment (US$, Decimal); cost fields None if it does not fit."""

    prediction: Prediction
    price: GpuHourPrice
    rate: EffectiveRate | None
    useful_fraction: Decimal
    usd_per_m_input: Decimal | None = None
    usd_per_m_output: Decimal | None = None
    usd_per_m_blended: Decimal | None = None
    usd_per_m_input_full_load: Decimal | None = None
    usd_per_m_output_full_load: Decimal | None = None
    usd_per_request: Decimal | None = None
    usd_per_m_useful_output: Decimal | None = None

    @property
    def fits(self) -> bool:
        """Whether the deployment fits (the prediction's verdict)."""
        return self.prediction.fits

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with :data:`COST_JSON_KEYS` (money as floats)."""

        def f(x: Decimal | None) -> float | None:
            return None if x is None else float(x)

        r = self.rate
        per_request = self.usd_per_request
        data: dict[str, Any] = {
            "fits": self.fits,
            "reason": self.prediction.reason,
            "currency": "USD",
            "usd_per_gpu_hour_list": float(self.price.usd_per_gpu_hour),
            "usd_per_gpu_hour_effective": f(r.usd_per_gpu_hour) if r else None,
            "price_source": self.price.source,
            "price_stale": self.price.stale,
            "pricing_kind": self.price.pricing_kind,
            "gpus_paid": r.gpus_paid if r else None,
            "replicas_needed": r.replicas_needed if r else None,
            "replicas_paid": r.replicas_paid if r else None,
            "utilization": f(r.utilization) if r else None,
            "ops_usd_per_month": f(r.ops_usd_per_month) if r else None,
            "fleet_usd_per_month": f(r.fleet_usd_per_month) if r else None,
            "usd_per_m_input": f(self.usd_per_m_input),
            "usd_per_m_output": f(self.usd_per_m_output),
            "usd_per_m_blended": f(self.usd_per_m_blended),
            "usd_per_m_input_full_load": f(self.usd_per_m_input_full_load),
            "usd_per_m_output_full_load": f(self.usd_per_m_output_full_load),
            "usd_per_request": f(per_request),
            "usd_per_1k_requests": f(per_request * 1000) if per_request is not None else None,
            "useful_fraction": float(self.useful_fraction),
            "usd_per_m_useful_output": f(self.usd_per_m_useful_output),
            "prediction": self.prediction.to_dict(),
        }
        return {k: data[k] for k in COST_JSON_KEYS}


def _dec(x: float | None, name: str) -> Decimal:
    if x is None:
        raise InputError(f"The prediction has no {name}; the deployment produced no tokens.")
    return usd(x, name)


def deployment_cost(
    price: GpuHourPrice,
    overheads: Overheads,
    *,
    useful_fraction: Decimal = Decimal(1),
    **predict_kwargs: Any,
) -> DeploymentCost:
    """All-in $/M input, output, blended, per request and per useful output token.

    ``predict_kwargs`` are :func:`infercost.predict` keywords (model, gpu, isl, osl,
    concurrency or max_throughput, num_gpus, tp, weight_dtype, ...); ``price`` must be for the
    replica's GPU count (``price.gpus_used == num_gpus``).

    Raises:
        InputError: a price that is not positive or is for another GPU count, a useful
            fraction outside (0, 1], or any error :func:`infercost.predict` raises.
        UnknownNameError: unknown model, GPU, engine or dtype.
    """
    if not Decimal(0) < useful_fraction <= Decimal(1):
        raise InputError(f"useful fraction must be in (0, 1], got {useful_fraction}.")
    if price.usd_per_gpu_hour <= 0:
        raise InputError(f"GPU-hour price must be positive, got {price.usd_per_gpu_hour}.")
    for key in ("gpu_hour_usd", "offer"):
        if key in predict_kwargs:
            raise InputError(f"Pass the price as `price`, not as {key}.")
    p = predict(gpu_hour_usd=float(price.usd_per_gpu_hour), **predict_kwargs)
    # predict ran at the price's figure, so it would name "user (--gpu-hour-usd)"; the
    # nested prediction names where the figure really comes from, as the top level does
    if p.price_source is not None:
        p = p.model_copy(update={"price_source": price.source})
    if p.num_gpus != price.gpus_used:
        raise InputError(
            f"The price is for {price.gpus_used} GPUs but the replica uses {p.num_gpus}; "
            "price the replica's GPU count."
        )
    if not p.fits:
        return DeploymentCost(
            prediction=p, price=price, rate=None, useful_fraction=useful_fraction
        )
    rate = effective_usd_per_gpu_hour(price.usd_per_gpu_hour, p.num_gpus, overheads)
    factor = rate.multiplier
    in_full = _dec(p.usd_per_m_input, "usd_per_m_input")
    out_full = _dec(p.usd_per_m_output, "usd_per_m_output")
    blended_full = _dec(p.usd_per_m_blended, "usd_per_m_blended")
    per_m = usd(TOKENS_PER_M)
    in_all, out_all = in_full * factor, out_full * factor
    return DeploymentCost(
        prediction=p,
        price=price,
        rate=rate,
        useful_fraction=useful_fraction,
        usd_per_m_input=in_all,
        usd_per_m_output=out_all,
        usd_per_m_blended=blended_full * factor,
        usd_per_m_input_full_load=in_full,
        usd_per_m_output_full_load=out_full,
        usd_per_request=(p.isl * in_all + p.osl * out_all) / per_m,
        usd_per_m_useful_output=out_all / useful_fraction,
    )
