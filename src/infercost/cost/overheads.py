"""What a deployment pays beyond busy GPU time: idle hours, spare replicas, people.

All three enter through one effective price per used GPU-hour, so every $/M figure downstream
carries them the same way:

    replicas_paid      = replicas_needed + spare                       (one zone: N + spare)
                       = zones x ceil(replicas_needed / (zones - 1))   (zones > 1: survive the
                                                                        loss of one whole zone)
    fleet $/hour       = $/used GPU-hour x GPUs per replica x replicas_paid + ops $/month ÷ 730
    effective $/GPU-h  = fleet $/hour ÷ (GPUs per replica x replicas_needed x utilization)

so that with no spares and no people, $/M at utilisation u = $/M at full load ÷ u (a GPU-hour
paid and idle still costs; DESIGN.md). 730 h is the cloud-billing month (8,760 h ÷ 12).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from infercost.cost._validation import problems_text
from infercost.cost.money import usd
from infercost.errors import InputError
from infercost.units import HOURS_PER_MONTH


class Overheads(BaseModel):
    """Deployment overheads.

    Attributes:
        utilization: share of paid capacity that serves traffic, 0 < u <= 1.
        replicas_needed: replicas the traffic needs at full load.
        spare_replicas: extra replicas kept for failures (N+1 = 1).
        zones: availability zones the fleet spans (>1: sized to survive a zone loss).
        ops_usd_per_month: people and operations cost of the deployment per month.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    utilization: Decimal = Field(default=Decimal(1), gt=0, le=1)
    replicas_needed: int = Field(default=1, ge=1)
    spare_replicas: int = Field(default=0, ge=0)
    zones: int = Field(default=1, ge=1)
    ops_usd_per_month: Decimal = Field(default=Decimal(0), ge=0)


#: Command-line flags of the :class:`Overheads` fields whose names differ (``infercost cost``).
FLAGS = {"replicas_needed": "--replicas"}


def overheads(**values: object) -> Overheads:
    """Build :class:`Overheads`, turning validation failures into one :class:`InputError`.

    Raises:
        InputError: naming each field that is out of range.
    """
    try:
        return Overheads.model_validate(values)
    except ValidationError as err:
        raise InputError(f"Invalid overhead input: {problems_text(err, FLAGS)}.") from None


def check_utilization(utilization: float | Decimal) -> Decimal:
    """``utilization`` as a Decimal in (0, 1].

    Raises:
        InputError: outside (0, 1]; says to pass a fraction such as 0.6 for 60 %.
    """
    u = usd(utilization, "utilization")
    if not Decimal(0) < u <= Decimal(1):
        raise InputError(
            f"Utilization must be a fraction in (0, 1], got {utilization!r}; "
            "pass 0.6 for 60 % busy."
        )
    return u


def usd_per_m_at_utilization(
    usd_per_m_full_load: Decimal, utilization: float | Decimal
) -> Decimal:
    """$/M at utilisation u = $/M at full load ÷ u (idle paid hours spread over served tokens).

    Raises:
        InputError: ``utilization`` outside (0, 1].
    """
    return usd_per_m_full_load / check_utilization(utilization)


def replicas_paid(replicas_needed: int, spare_replicas: int = 0, zones: int = 1) -> int:
    """Replicas paid for: N + spare in one zone; zones x ceil(N / (zones - 1)) across zones.

    Across ``zones`` > 1 the fleet survives losing one whole zone (the remaining zones carry
    N), which also covers single-replica failures; the larger of the two rules is returned.

    Raises:
        InputError: a count below its minimum (N >= 1, spare >= 0, zones >= 1).
    """
    if replicas_needed < 1 or spare_replicas < 0 or zones < 1:
        raise InputError(
            f"Need --replicas >= 1, --spare-replicas >= 0, --zones >= 1; got "
            f"{replicas_needed}, {spare_replicas}, {zones}."
        )
    single_zone = replicas_needed + spare_replicas
    if zones == 1:
        return single_zone
    per_zone = -(-replicas_needed // (zones - 1))
    return max(single_zone, zones * per_zone)


def ops_usd_per_hour(ops_usd_per_month: Decimal) -> Decimal:
    """Operations $/hour = $/month ÷ 730 h (the cloud-billing month)."""
    return ops_usd_per_month / usd(HOURS_PER_MONTH)


@dataclass(frozen=True, slots=True)
class EffectiveRate:
    """The all-in price of one *useful* GPU-hour and how it was built."""

    usd_per_gpu_hour_list: Decimal
    usd_per_gpu_hour: Decimal
    fleet_usd_per_hour: Decimal
    fleet_usd_per_month: Decimal
    replicas_needed: int
    replicas_paid: int
    gpus_paid: int
    utilization: Decimal
    ops_usd_per_month: Decimal

    @property
    def multiplier(self) -> Decimal:
        """Effective ÷ list $/GPU-hour (1 with no overheads)."""
        return self.usd_per_gpu_hour / self.usd_per_gpu_hour_list


def effective_usd_per_gpu_hour(
    usd_per_gpu_hour: Decimal, gpus_per_replica: int, ov: Overheads
) -> EffectiveRate:
    """All-in $/used GPU-hour with idle hours, spare replicas and people (module docstring).

    Raises:
        InputError: ``gpus_per_replica`` < 1 or a list price of zero or less.
    """
    if gpus_per_replica < 1:
        raise InputError(f"GPUs per replica must be >= 1, got {gpus_per_replica}.")
    if usd_per_gpu_hour <= 0:
        raise InputError(
            f"GPU-hour price must be positive to apply overheads, got {usd_per_gpu_hour}."
        )
    paid = replicas_paid(ov.replicas_needed, ov.spare_replicas, ov.zones)
    fleet = usd_per_gpu_hour * gpus_per_replica * paid + ops_usd_per_hour(ov.ops_usd_per_month)
    useful_gpu_hours = gpus_per_replica * ov.replicas_needed * ov.utilization
    return EffectiveRate(
        usd_per_gpu_hour_list=usd_per_gpu_hour,
        usd_per_gpu_hour=fleet / useful_gpu_hours,
        fleet_usd_per_hour=fleet,
        fleet_usd_per_month=fleet * usd(HOURS_PER_MONTH),
        replicas_needed=ov.replicas_needed,
        replicas_paid=paid,
        gpus_paid=paid * gpus_per_replica,
        utilization=ov.utilization,
        ops_usd_per_month=ov.ops_usd_per_month,
    )


def useful_fraction(
    retry_share: float = 0.0, reasoning_share: float = 0.0, rejected_share: float = 0.0
) -> Decimal:
    """Share of generated output tokens the user keeps: (1-retry)(1-reasoning)(1-rejected).

    ``retry_share``: tokens of requests that were retried and discarded; ``reasoning_share``:
    hidden reasoning-trace tokens (counted as waste only when the caller asks);
    ``rejected_share``: speculative tokens generated and rejected, if the throughput counted them.

    Raises:
        InputError: a share outside [0, 1).
    """
    result = Decimal(1)
    for name, share in (
        ("retry_share", retry_share),
        ("reasoning_share", reasoning_share),
        ("rejected_share", rejected_share),
    ):
        s = usd(share, name)
        if not Decimal(0) <= s < Decimal(1):
            raise InputError(
                f"--{name.replace('_', '-')} must be a fraction in [0, 1), got {share!r}."
            )
        result *= 1 - s
    return result
