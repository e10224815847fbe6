"""Everyday cost arithmetic behind ``infercost calc``: each answer is one formula on the same
cost layer the rest of infercost uses, with its inputs echoed back.

- $/M tokens from $/hour and tokens/s: $/hour ÷ (tok/s x 3600 x utilisation ÷ 1e6)
  (:func:`infercost.cost.money.usd_per_m_tokens`, worked example W1).
- One API request: input, cached-read, cache-write and output tokens at the price sheet's
  rates, the long-context tier chosen by the whole prompt (:func:`infercost.cost.api.request_usd`).
- A prompt change: the same request priced before and after, x requests per day.
- Moving weights between clouds: bytes of the weights (params x bits per weight ÷ 8, from the
  model's parts, :func:`infercost.perf.memory.weight_bytes`) x the egress $/GB.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from infercost.catalog import get_model, get_quant_format
from infercost.catalog.egress import EgressRate
from infercost.catalog.pricing import ApiPrice
from infercost.cost.api import ApiCost, request_usd
from infercost.cost.money import usd, usd_per_m_tokens
from infercost.errors import InputError
from infercost.perf.memory import weight_bytes
from infercost.units import HOURS_PER_MONTH

DAYS_PER_MONTH = HOURS_PER_MONTH / 24  # 730 h ÷ 24 = 30.42 days, the billing month
#: Ceilings of ``calc token-cost`` (a whole large cluster's hour; any real token rate).
MAX_USD_PER_HOUR = 1e7
MAX_TOK_S = 1e10
BYTES_PER_GB = 1e9


def _finite(name: str, value: float, *, positive: bool = False) -> None:
    ok = math.isfinite(value) and (value > 0 if positive else value >= 0)
    if not ok:
        need = "a positive number" if positive else "a number >= 0"
        raise InputError(f"{name} must be {need}, got {value!r}.")


@dataclass(frozen=True, slots=True)
class TokenCost:
    """$/M tokens of a rate of spend over a rate of production (US$)."""

    usd_per_hour: Decimal
    tok_s: float
    utilization: float
    usd_per_m_tokens: Decimal
    tokens_per_usd: float | None  # None when the hour is free

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (Decimal as float)."""
        return {k: float(v) if isinstance(v, Decimal) else v for k, v in asdict(self).items()}


def token_cost(usd_per_hour: float, tok_s: float, utilization: float = 1.0) -> TokenCost:
    """$/M tokens = $/hour ÷ (tok/s x utilisation x 3600 ÷ 1e6); tokens per $ = 1e6 ÷ that.

    ``tok_s`` is the rate at full load; ``utilization`` the share of the paid hours it runs.
    $2/hour at 1,000 tok/s, fully used: 2 ÷ 3.6 = $0.5556/M.

    Raises:
        InputError: a non-positive or non-finite price or rate, utilisation outside (0, 1].
    """
    _finite("--usd-per-hour", usd_per_hour)
    _finite("--tok-s", tok_s, positive=True)
    for name, value, top in (("--usd-per-hour", usd_per_hour, MAX_USD_PER_HOUR),
                             ("--tok-s", tok_s, MAX_TOK_S)):  # fmt: skip
        if value > top:
            raise InputError(f"{name} must be at most {top:g}, got {value:g}.")
    if not (math.isfinite(utilization) and 0 < utilization <= 1):
        raise InputError(f"--utilization must lie in (0, 1], got {utilization!r}.")
    per_m = usd_per_m_tokens(usd(usd_per_hour, "--usd-per-hour"), tok_s * utilization)
    return TokenCost(
        usd_per_hour=usd(usd_per_hour, "--usd-per-hour"),
        tok_s=tok_s,
        utilization=utilization,
        usd_per_m_tokens=per_m,
        tokens_per_usd=1e6 / float(per_m) if per_m > 0 else None,
    )


def api_cost_dict(cost: ApiCost) -> dict[str, Any]:
    """An :class:`ApiCost` as JSON-ready floats, total included."""
    return {
        "input_usd": float(cost.input_usd),
        "cached_input_usd": float(cost.cached_input_usd),
        "cache_write_usd": float(cost.cache_write_usd),
        "output_usd": float(cost.output_usd),
        "total_usd": float(cost.total_usd),
        "tier_above_input_tokens": cost.tier_above_input_tokens,
        "batch": cost.batch,
    }


@dataclass(frozen=True, slots=True)
class PromptChange:
    """What changing the prompt length costs (US$).

    Attributes:
        from_tokens, to_tokens: prompt tokens per request before and after.
        requests_per_day: requests a day.
        cached_share: share of the prompt billed at the cached-input rate (both before and
            after).
        before, after: one request's prompt cost (no output tokens) before and after.
        usd_per_request, usd_per_day, usd_per_month: the change (after - before), per request,
            x requests/day, x 30.42 days.
    """

    from_tokens: int
    to_tokens: int
    requests_per_day: float
    cached_share: float
    before: ApiCost
    after: ApiCost
    usd_per_request: Decimal
    usd_per_day: Decimal
    usd_per_month: Decimal

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "from_tokens": self.from_tokens,
            "to_tokens": self.to_tokens,
            "requests_per_day": self.requests_per_day,
            "cached_share": self.cached_share,
            "before": api_cost_dict(self.before),
            "after": api_cost_dict(self.after),
            "usd_per_request": float(self.usd_per_request),
            "usd_per_day": float(self.usd_per_day),
            "usd_per_month": float(self.usd_per_month),
            "days_per_month": DAYS_PER_MONTH,
        }


def _prompt_cost(price: ApiPrice, tokens: int, cached_share: float) -> ApiCost:
    cached = tokens * cached_share
    return request_usd(price, tokens - cached, 0, cached_input_tokens=cached)


def prompt_change(
    price: ApiPrice,
    from_tokens: int,
    to_tokens: int,
    requests_per_day: float,
    cached_share: float = 0.0,
) -> PromptChange:
    """The cost of changing a prompt from ``from_tokens`` to ``to_tokens`` at
    ``requests_per_day``: each prompt priced as one request (so a long-context tier that the
    longer prompt crosses applies to the whole of it, as providers bill), the difference
    x requests/day x 30.42 days/month.

    500 -> 5,000 system-prompt tokens at 10,000 requests/day on $0.15/M input: 4,500 x 0.15
    ÷ 1e6 = $0.000675 per request, $6.75/day, $205.31/month.

    Raises:
        InputError: negative token counts or requests, a cached share outside [0, 1], or a
            needed price the sheet lacks.
    """
    for name, v in (("--from-tokens", from_tokens), ("--to-tokens", to_tokens)):
        _finite(name, v)
    _finite("--requests-per-day", requests_per_day)
    if not (math.isfinite(cached_share) and 0 <= cached_share <= 1):
        raise InputError(f"--cached-share must lie in [0, 1], got {cached_share!r}.")
    before = _prompt_cost(price, from_tokens, cached_share)
    after = _prompt_cost(price, to_tokens, cached_share)
    per_request = after.total_usd - before.total_usd
    per_day = per_request * usd(requests_per_day, "--requests-per-day")
    return PromptChange(
        from_tokens=from_tokens,
        to_tokens=to_tokens,
        requests_per_day=requests_per_day,
        cached_share=cached_share,
        before=before,
        after=after,
        usd_per_request=per_request,
        usd_per_day=per_day,
        usd_per_month=per_day * usd(DAYS_PER_MONTH),
    )


def weights_bytes(model: str, weight_dtype: str | None = None) -> tuple[str, str, float]:
    """``(model id, dtype id, bytes)`` of a model's weights stored as ``weight_dtype``
    (default: the checkpoint's dtype), from its parts (embeddings, attention, FFN/experts).

    Raises:
        UnknownNameError: unknown model or dtype.
    """
    arch = get_model(model)
    fmt = get_quant_format(weight_dtype or arch.checkpoint_dtype)
    return arch.id, fmt.id, float(weight_bytes(arch, fmt).total)


#: Largest transfer ``calc egress`` prices: 1e9 GB (an exabyte).
MAX_EGRESS_GB = 1e9


@dataclass(frozen=True, slots=True)
class EgressCost:
    """Moving ``gb`` out of one cloud through its monthly volume bands (US$).

    Attributes:
        bands: ``(from GB, to GB, $/GB, $)`` of each band the transfer passes through.
        beyond_snapshot_gb: GB past the last band the snapshot holds (priced at its rate).
    """

    provider: str
    gb: float
    usd_per_gb: Decimal
    free_gb_applied: Decimal
    usd: Decimal
    bands: tuple[tuple[float, float, float, float], ...]
    beyond_snapshot_gb: float
    tier: str
    source: str
    as_of: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        out = {k: float(v) if isinstance(v, Decimal) else v for k, v in asdict(self).items()}
        out["bands"] = [
            {"from_gb": a, "to_gb": b, "usd_per_gb": r, "usd": c} for a, b, r, c in self.bands
        ]
        return out


def egress_cost(rate: EgressRate, gb: float, *, use_free_allowance: bool = False) -> EgressCost:
    """The transfer priced band by band: ``Σ min(GB left, band width) x band $/GB``, as if it
    were the month's only egress. Without ``use_free_allowance`` the free band is billed at
    the first paid rate (a month's allowance is usually spent on other traffic). Volumes past
    the snapshot's last band (when the source's table goes on) are priced at its rate and
    reported in ``beyond_snapshot_gb``.

    140 GB of Llama-3.1-70B bf16 weights out of AWS at $0.09/GB: $12.60; 100 TB out of AWS
    with the allowance: 100 x 0 + 9,900 x 0.09 + 40,000 x 0.085 + 50,000 x 0.07 = $7,791.

    Raises:
        InputError: a negative, non-finite or larger-than-an-exabyte size.
    """
    _finite("--gb", gb)
    if gb > MAX_EGRESS_GB:
        raise InputError(f"--gb must be at most {MAX_EGRESS_GB:g} GB (an exabyte), got {gb:g}.")
    left = usd(gb, "--gb")
    paid = rate.usd_per_gb
    start = Decimal(0)
    total = Decimal(0)
    free_used = Decimal(0)
    bands: list[tuple[float, float, float, float]] = []
    for upto, band_rate in rate.tiers:
        if left <= 0:
            break
        width = min(left, upto - start)
        if width <= 0:
            start = upto
            continue
        r = band_rate if (band_rate > 0 or use_free_allowance) else paid
        if band_rate == 0 and use_free_allowance:
            free_used += width
        total += width * r
        bands.append((float(start), float(start + width), float(r), float(width * r)))
        left -= width
        start = upto
    beyond = max(left, Decimal(0))
    if beyond > 0:
        last = rate.tiers[-1][1]
        total += beyond * last
        bands.append((float(start), float(start + beyond), float(last), float(beyond * last)))
    return EgressCost(
        provider=rate.id,
        gb=gb,
        usd_per_gb=paid,
        free_gb_applied=free_used,
        usd=total,
        bands=tuple(bands),
        beyond_snapshot_gb=float(beyond) if not rate.open_ended else 0.0,
        tier=rate.tier,
        source=rate.source,
        as_of=rate.as_of.isoformat(),
    )
