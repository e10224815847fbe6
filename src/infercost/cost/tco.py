"""Total cost of ownership of one owned GPU, and the $/GPU-hour it implies.

Per GPU, over a life of ``years`` (8,760 h per year):

    purchase      = GPU price + server price ÷ GPUs per server
    depreciation  = purchase x (1 - residual fraction)           (straight line to residual)
    energy (kWh)  = power_w x hours_total ÷ 1000                 (power billing "all-hours")
                  = (power_w x hours_used + idle_power_w x (hours_total - hours_used)) ÷ 1000
                                                                 ("utilized-hours")
    electricity   = energy x PUE x $/kWh
    total         = depreciation + electricity + hosting + networking
                    + maintenance/year x years + people/month x 12 x years
    hours_used    = hours_total x utilization
    $/GPU-hour    = total ÷ hours_used   (idle hours are paid: cost at u = full-load cost ÷ u)

Defaults follow worked example W3 (``shared/reference/worked_examples.md``): power billed for
every hour of the life (a deployed server draws power whether or not it serves), PUE 1.0
(facility overhead left to ``hosting_usd`` unless PUE is given), no residual value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from infercost.cost._validation import problems_text
from infercost.cost.money import usd
from infercost.errors import InputError
from infercost.explain import Term
from infercost.units import HOURS_PER_YEAR, KILO

PowerBilling = Literal["all-hours", "utilized-hours"]
"""Whether the GPU draws ``power_w`` every hour of its life, or only while utilised."""

MONTHS_PER_YEAR = 12


class OwnedHardware(BaseModel):
    """Inputs of an owned-hardware TCO, per GPU. Money in US$, power in W.

    Attributes:
        gpu_price_usd: purchase price of one GPU.
        server_price_usd: purchase price of the server (chassis, CPUs, memory, NICs) it sits in.
        gpus_per_server: GPUs sharing that server price.
        years: depreciation life.
        residual_value_fraction: resale value at the end of life, as a fraction of purchase.
        power_w: average draw per GPU while serving (TDP, plus its share of the server if wanted).
        idle_power_w: draw per GPU while idle (used only with ``power_billing="utilized-hours"``).
        power_billing: ``all-hours`` (draw ``power_w`` every hour) or ``utilized-hours``.
        usd_per_kwh: electricity price.
        pue: power usage effectiveness of the facility (>= 1; 1.0 = IT power only).
        hosting_usd: hosting/colocation/cooling over the whole life, per GPU.
        networking_usd: networking gear over the whole life, per GPU.
        maintenance_usd_per_year: support contracts and repairs per GPU per year.
        people_usd_per_month: this GPU's share of operations staff per month.
        utilization: fraction of hours the GPU does paid work, 0 < u <= 1.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    gpu_price_usd: Decimal = Field(ge=0)
    server_price_usd: Decimal = Field(default=Decimal(0), ge=0)
    gpus_per_server: int = Field(default=1, ge=1)
    years: Decimal = Field(gt=0)
    residual_value_fraction: Decimal = Field(default=Decimal(0), ge=0, le=1)
    power_w: Decimal = Field(ge=0)
    idle_power_w: Decimal = Field(default=Decimal(0), ge=0)
    power_billing: PowerBilling = "all-hours"
    usd_per_kwh: Decimal = Field(ge=0)
    pue: Decimal = Field(default=Decimal(1), ge=1)
    hosting_usd: Decimal = Field(default=Decimal(0), ge=0)
    networking_usd: Decimal = Field(default=Decimal(0), ge=0)
    maintenance_usd_per_year: Decimal = Field(default=Decimal(0), ge=0)
    people_usd_per_month: Decimal = Field(default=Decimal(0), ge=0)
    utilization: Decimal = Field(default=Decimal(1), gt=0, le=1)

    @model_validator(mode="after")
    def _idle_below_busy(self) -> OwnedHardware:
        if self.idle_power_w > self.power_w:
            raise ValueError(
                f"--idle-power-w {self.idle_power_w} exceeds --power-w {self.power_w}; "
                "idle draw cannot exceed the serving draw"
            )
        return self


def owned_hardware(**values: object) -> OwnedHardware:
    """Build :class:`OwnedHardware`, turning validation failures into one :class:`InputError`.

    Raises:
        InputError: naming every field that is out of range, and the allowed range.
    """
    try:
        return OwnedHardware.model_validate(values)
    except ValidationError as err:
        raise InputError(f"Invalid TCO input: {problems_text(err, {})}.") from None


@dataclass(frozen=True, slots=True)
class TcoBreakdown:
    """The TCO of one GPU over its life, by component, and the $/GPU-hour it implies."""

    inputs: OwnedHardware
    purchase_usd: Decimal
    residual_value_usd: Decimal
    depreciation_usd: Decimal
    hours_total: Decimal
    hours_utilized: Decimal
    energy_kwh: Decimal
    electricity_usd: Decimal
    hosting_usd: Decimal
    networking_usd: Decimal
    maintenance_usd: Decimal
    people_usd: Decimal
    total_usd: Decimal
    usd_per_gpu_hour: Decimal
    usd_per_gpu_hour_full_use: Decimal
    terms: tuple[Term, ...] = field(default=())

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict: inputs, each component, total, $/GPU-hour (numbers as floats)."""
        money = {
            "purchase_usd": self.purchase_usd,
            "residual_value_usd": self.residual_value_usd,
            "depreciation_usd": self.depreciation_usd,
            "electricity_usd": self.electricity_usd,
            "hosting_usd": self.hosting_usd,
            "networking_usd": self.networking_usd,
            "maintenance_usd": self.maintenance_usd,
            "people_usd": self.people_usd,
            "total_usd": self.total_usd,
            "usd_per_gpu_hour": self.usd_per_gpu_hour,
            "usd_per_gpu_hour_full_use": self.usd_per_gpu_hour_full_use,
        }
        out: dict[str, object] = {k: float(v) for k, v in money.items()}
        out.update(
            {
                "currency": "USD",
                "hours_total": float(self.hours_total),
                "hours_utilized": float(self.hours_utilized),
                "energy_kwh": float(self.energy_kwh),
                "inputs": {
                    k: (float(v) if isinstance(v, Decimal) else v)
                    for k, v in self.inputs.model_dump().items()
                },
                "explain": [t.to_dict() for t in self.terms],
            }
        )
        return out


def tco(hw: OwnedHardware) -> TcoBreakdown:
    """Total cost of ownership of one GPU and its $/GPU-hour (formulas in the module docstring).

    ``hw`` is validated on construction (years > 0, 0 < utilization <= 1), so every division
    here has a positive denominator.
    """
    hours_total = hw.years * usd(HOURS_PER_YEAR)
    hours_used = hours_total * hw.utilization
    purchase = hw.gpu_price_usd + hw.server_price_usd / hw.gpus_per_server
    residual = purchase * hw.residual_value_fraction
    depreciation = purchase - residual
    if hw.power_billing == "all-hours":
        energy_wh = hw.power_w * hours_total
        energy_formula = (
            f"power {hw.power_w:,.0f} W x all {hours_total:,.0f} h ÷ 1000 "
            "(billed for every hour, busy or idle)"
        )
    else:
        energy_wh = hw.power_w * hours_used + hw.idle_power_w * (hours_total - hours_used)
        energy_formula = (
            f"(busy {hw.power_w:,.0f} W x {hours_used:,.0f} h + idle {hw.idle_power_w:,.0f} W x "
            f"{hours_total - hours_used:,.0f} h) ÷ 1000"
        )
    energy_kwh = energy_wh / usd(KILO)
    electricity = energy_kwh * hw.pue * hw.usd_per_kwh
    maintenance = hw.maintenance_usd_per_year * hw.years
    people = hw.people_usd_per_month * MONTHS_PER_YEAR * hw.years
    total = depreciation + electricity + hw.hosting_usd + hw.networking_usd + maintenance + people
    per_hour = total / hours_used
    given = "your inputs"
    terms = (
        Term(
            "hours_total",
            float(hours_total),
            "h",
            f"{hw.years:g} years x 8,760 h/year",
            given,
        ),
        Term(
            "hours_utilized",
            float(hours_used),
            "h",
            f"{hours_total:,.0f} h x utilization {hw.utilization:g} (hours doing paid work)",
            given,
        ),
        Term(
            "purchase_usd",
            float(purchase),
            "USD",
            f"GPU ${hw.gpu_price_usd:,.2f} + server ${hw.server_price_usd:,.2f} ÷ "
            f"{hw.gpus_per_server} GPUs per server",
            given,
        ),
        Term(
            "depreciation_usd",
            float(depreciation),
            "USD",
            f"purchase ${purchase:,.2f} x (1 - residual value fraction "
            f"{hw.residual_value_fraction:g}), straight line over {hw.years:g} years",
            given,
        ),
        Term("energy_kwh", float(energy_kwh), "kWh", energy_formula, given),
        Term(
            "electricity_usd",
            float(electricity),
            "USD",
            f"{energy_kwh:,.1f} kWh x PUE {hw.pue:g} x ${hw.usd_per_kwh:g}/kWh",
            given,
        ),
        Term(
            "total_usd",
            float(total),
            "USD",
            f"depreciation ${depreciation:,.2f} + electricity ${electricity:,.2f} + hosting "
            f"${hw.hosting_usd:,.2f} + networking ${hw.networking_usd:,.2f} + maintenance "
            f"${maintenance:,.2f} + people ${people:,.2f}",
            given,
        ),
        Term(
            "usd_per_gpu_hour",
            float(per_hour),
            "USD/GPU-h",
            f"total ${total:,.2f} ÷ {hours_used:,.0f} utilized h",
            given,
        ),
    )
    return TcoBreakdown(
        inputs=hw,
        purchase_usd=purchase,
        residual_value_usd=residual,
        depreciation_usd=depreciation,
        hours_total=hours_total,
        hours_utilized=hours_used,
        energy_kwh=energy_kwh,
        electricity_usd=electricity,
        hosting_usd=hw.hosting_usd,
        networking_usd=hw.networking_usd,
        maintenance_usd=maintenance,
        people_usd=people,
        total_usd=total,
        usd_per_gpu_hour=per_hour,
        usd_per_gpu_hour_full_use=total / hours_total,
        terms=terms,
    )


def power_from_tdp(power_w: float | None, gpu: str | None) -> tuple[float, list[str]]:
    """``power_w`` as given, else the ``gpu``'s catalogued TDP with the assumption named.

    Raises:
        InputError: neither a power nor a GPU with a catalogued TDP, or both given.
        UnknownNameError: an unknown GPU.
    """
    if power_w is not None:
        if gpu is not None:
            raise InputError(
                "Give --power-w or --gpu (whose catalogued TDP sets the power), not both: "
                "--gpu only sets the power in tco."
            )
        return power_w, []
    from infercost.catalog import get_accelerator

    acc = get_accelerator(gpu) if gpu else None
    if acc is None or acc.tdp_w is None:
        raise InputError(
            "Give --power-w (average draw per GPU, W), or --gpu with a catalogued TDP."
        )
    return float(acc.tdp_w), [
        f"power {acc.tdp_w:g} W per GPU: the {acc.id} TDP from the catalog ({acc.source}); the "
        "average draw while serving is usually lower: give --power-w"
    ]
