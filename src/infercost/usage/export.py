"""Exports: FOCUS 1.2 cost rows, and self-hosted prices for LiteLLM and Langfuse.

**FOCUS** (FinOps Open Cost and Usage Specification 1.2). The period is priced by
:func:`~infercost.usage.report.priced_groups` by day, provider, model, team, app, API key
and service tier, and each group becomes one row per charge kind:

============== ================================ ===================== =================
kind           ConsumedQuantity / ConsumedUnit  ListCost              BilledCost
============== ================================ ===================== =================
input          uncached prompt tokens, Tokens   at the input rate     billed
cached_input   cache reads, Tokens              at the input rate     at the cached rate
cache_write    cache writes, Tokens             at the write rate     billed
output         output (reasoning incl.), Tokens at the output rate    billed
request        requests, Requests               the explicit price    the same
idle           unused fleet GPU-hours, Hours    fleet share           the same
============== ================================ ===================== =================

``EffectiveCost`` = ``ContractedCost`` = ``BilledCost`` (no commitments or amortisation);
``ListUnitPrice`` and ``ContractedUnitPrice`` are per ``PricingUnit`` (1M tokens,
1 request, 1 GPU-hour). ``ChargePeriodStart/End`` bound the day; ``BillingPeriodStart/End``
the calendar month. ``ResourceId`` is ``provider/model`` (the fleet for self-hosted rows),
``Tags`` a JSON object of the allocation columns (team, app, api_key, service_tier), also
given as ``x_Team``, ``x_App``, ``x_ApiKey``, ``x_ServiceTier`` and ``x_ChargeKind``
(FOCUS custom columns start with ``x_``). Self-hosted rows carry their GPU-second share of
the fleet; its unused time is an ``idle`` row with no allocation tags, so the file's
``BilledCost`` sums to ``usage report``'s total. CSV or Parquet by the file's suffix.

**Self-hosted prices.** For each registered fleet that served rows in the period:

    $ per uncached prompt token = fleet $ ÷ busy GPU-s x prefill GPU-s per token
    $ per output token          = fleet $ ÷ busy GPU-s x decode GPU-s per token

(fleet $ = GPUs x hours x $/GPU-hour over the period, busy GPU-s from the physics as in the
report), so the tokens of the period, priced at these rates, pay the whole fleet, idle time
included. Cached prompt tokens cost no GPU time (0). Written as a LiteLLM config fragment
(``model_list`` with ``litellm_params`` and ``model_info`` ``input_cost_per_token`` /
``output_cost_per_token`` / ``cache_read_input_token_cost``; JSON is valid YAML) and as
Langfuse model definitions (the bodies of ``POST /api/public/models``: ``modelName``,
``matchPattern``, ``startDate``, ``unit: TOKENS``, ``inputPrice``, ``outputPrice`` in US$
per token), so those tools stop pricing self-hosted traffic at $0.
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from infercost.errors import InputError
from infercost.fileio import atomic_writer, write_atomic
from infercost.usage.ledger import Deployment
from infercost.usage.prices import PriceBook
from infercost.usage.report import deployment_gpu_seconds, period, priced_groups
from infercost.usage.schema import SELF_HOSTED

FOCUS_VERSION = "1.2"
FOCUS_BY = ("day", "provider", "model", "team", "app", "api_key", "service_tier")
_M = Decimal(1_000_000)
_DIGITS = Decimal("0.000000000001")

FOCUS_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("BilledCost", pa.decimal128(38, 12)),
    ("BillingAccountId", pa.string()),
    ("BillingAccountName", pa.string()),
    ("BillingCurrency", pa.string()),
    ("BillingPeriodStart", pa.timestamp("s", tz="UTC")),
    ("BillingPeriodEnd", pa.timestamp("s", tz="UTC")),
    ("ChargeCategory", pa.string()),
    ("ChargeClass", pa.string()),
    ("ChargeDescription", pa.string()),
    ("ChargeFrequency", pa.string()),
    ("ChargePeriodStart", pa.timestamp("s", tz="UTC")),
    ("ChargePeriodEnd", pa.timestamp("s", tz="UTC")),
    ("ConsumedQuantity", pa.decimal128(38, 12)),
    ("ConsumedUnit", pa.string()),
    ("ContractedCost", pa.decimal128(38, 12)),
    ("ContractedUnitPrice", pa.decimal128(38, 12)),
    ("EffectiveCost", pa.decimal128(38, 12)),
    ("InvoiceIssuerName", pa.string()),
    ("ListCost", pa.decimal128(38, 12)),
    ("ListUnitPrice", pa.decimal128(38, 12)),
    ("PricingCategory", pa.string()),
    ("PricingCurrency", pa.string()),
    ("PricingQuantity", pa.decimal128(38, 12)),
    ("PricingUnit", pa.string()),
    ("ProviderName", pa.string()),
    ("PublisherName", pa.string()),
    ("ResourceId", pa.string()),
    ("ResourceName", pa.string()),
    ("ResourceType", pa.string()),
    ("ServiceCategory", pa.string()),
    ("ServiceName", pa.string()),
    ("ServiceSubcategory", pa.string()),
    ("SkuId", pa.string()),
    ("SkuPriceId", pa.string()),
    ("SubAccountId", pa.string()),
    ("SubAccountName", pa.string()),
    ("Tags", pa.string()),
    ("x_ChargeKind", pa.string()),
    ("x_Team", pa.string()),
    ("x_App", pa.string()),
    ("x_ApiKey", pa.string()),
    ("x_ServiceTier", pa.string()),
)
"""FOCUS 1.2 columns the export writes, in order (custom columns last, ``x_`` prefixed)."""

_UNITS = {  # kind -> (ConsumedUnit, PricingUnit, units per pricing unit, description)
    "input": ("Tokens", "1M Tokens", _M, "uncached input tokens"),
    "cached_input": ("Tokens", "1M Tokens", _M, "cached input tokens (cache reads)"),
    "cache_write": ("Tokens", "1M Tokens", _M, "cache-write tokens"),
    "output": ("Tokens", "1M Tokens", _M, "output tokens (reasoning included)"),
    "request": ("Requests", "Requests", Decimal(1), "requests at an explicit price"),
    "idle": ("Hours", "GPU-Hours", Decimal(1), "idle capacity of a self-hosted fleet"),
}


@dataclass
class FocusExport:
    """What ``usage export --focus`` wrote."""

    path: Path
    rows: int
    billed_usd: Decimal
    start: datetime
    end: datetime
    unpriced: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "focus": str(self.path),
            "focus_version": FOCUS_VERSION,
            "rows": self.rows,
            "billed_usd": str(self.billed_usd.quantize(Decimal("0.000001"))),
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "unpriced": self.unpriced,
        }


def _q(x: Decimal) -> Decimal:
    return x.quantize(_DIGITS)


def _quantity(kind: str, line: Any) -> Decimal:
    if kind == "input":
        return Decimal(line.input_tokens - line.cached_input_tokens - line.cache_write_tokens)
    if kind == "cached_input":
        return Decimal(line.cached_input_tokens)
    if kind == "cache_write":
        return Decimal(line.cache_write_tokens)
    if kind == "output":
        return Decimal(line.output_tokens)
    if kind == "request":
        return Decimal(line.requests)
    return Decimal(line.idle_gpu_hours)


def focus_rows(
    requests: ir.Table,
    prices: PriceBook,
    deployments: Sequence[Deployment],
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    account: str = "infercost",
) -> tuple[list[dict[str, Any]], datetime, datetime, list[dict[str, Any]]]:
    """FOCUS rows of ``[start, end)`` (module docstring), the period, and unpriced groups."""
    start, end = period(requests, start, end)
    rep = priced_groups(requests, list(FOCUS_BY), prices, deployments, start, end)
    rows: list[dict[str, Any]] = []
    for line in rep.rows:
        k = line.key
        day_text = k["day"] or ""
        idle = day_text.startswith("(idle")
        if idle:
            fleet = day_text[len("(idle: ") : -1]
            lo, hi = start, end
            provider, model, resource = SELF_HOSTED, fleet, f"{SELF_HOSTED}/{fleet}"
        else:
            lo = datetime.fromisoformat(day_text)
            hi = lo + timedelta(days=1)
            provider, model = k["provider"] or "unknown", k["model"] or "unknown"
            resource = f"{provider}/{model}"
        month_start = date(lo.year, lo.month, 1)
        days = calendar.monthrange(lo.year, lo.month)[1]
        tags = {name: k.get(name) for name in ("team", "app", "api_key", "service_tier")}
        tags = {n: v for n, v in tags.items() if v is not None and not idle}
        for kind, (billed, listed) in sorted(line.parts.items()):
            unit, pricing_unit, per, what = _UNITS[kind]
            qty = _quantity(kind, line)
            if qty == 0 and billed == 0:
                continue
            pricing_qty = qty / per
            rows.append(
                {
                    "BilledCost": _q(billed),
                    "BillingAccountId": account,
                    "BillingAccountName": account,
                    "BillingCurrency": "USD",
                    "BillingPeriodStart": datetime(month_start.year, month_start.month, 1),
                    "BillingPeriodEnd": datetime(month_start.year, month_start.month, 1)
                    + timedelta(days=days),
                    "ChargeCategory": "Usage",
                    "ChargeClass": None,
                    "ChargeDescription": f"{resource}: {what}"
                    + (f" ({k.get('service_tier')} tier)" if not idle and kind != "idle" else ""),
                    "ChargeFrequency": "Usage-Based",
                    "ChargePeriodStart": lo,
                    "ChargePeriodEnd": hi,
                    "ConsumedQuantity": _q(qty),
                    "ConsumedUnit": unit,
                    "ContractedCost": _q(billed),
                    "ContractedUnitPrice": _q(billed / pricing_qty) if pricing_qty else None,
                    "EffectiveCost": _q(billed),
                    "InvoiceIssuerName": provider,
                    "ListCost": _q(listed),
                    "ListUnitPrice": _q(listed / pricing_qty) if pricing_qty else None,
                    "PricingCategory": "Standard",
                    "PricingCurrency": "USD",
                    "PricingQuantity": _q(pricing_qty),
                    "PricingUnit": pricing_unit,
                    "ProviderName": provider,
                    "PublisherName": provider,
                    "ResourceId": resource,
                    "ResourceName": model,
                    "ResourceType": "Self-hosted model" if provider == SELF_HOSTED else "Model",
                    "ServiceCategory": "AI and Machine Learning",
                    "ServiceName": "Self-hosted inference"
                    if provider == SELF_HOSTED
                    else f"{provider} API",
                    "ServiceSubcategory": "Generative AI",
                    "SkuId": f"{resource}:{kind}",
                    "SkuPriceId": f"{resource}:{kind}:{k.get('service_tier') or 'standard'}",
                    "SubAccountId": tags.get("team"),
                    "SubAccountName": tags.get("team"),
                    "Tags": json.dumps(tags, sort_keys=True),
                    "x_ChargeKind": kind,
                    "x_Team": tags.get("team"),
                    "x_App": tags.get("app"),
                    "x_ApiKey": tags.get("api_key"),
                    "x_ServiceTier": tags.get("service_tier"),
                }
            )
    return rows, start, end, rep.unpriced


def write_focus(
    path: str | Path,
    requests: ir.Table,
    prices: PriceBook,
    deployments: Sequence[Deployment],
    start: datetime | None = None,
    end: datetime | None = None,
) -> FocusExport:
    """Write the FOCUS rows as CSV or Parquet (by suffix), atomically.

    Raises:
        InputError: a suffix other than ``.csv`` or ``.parquet``; an unwritable folder.
    """
    target = Path(path).expanduser()
    suffix = target.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise InputError(f"--focus {target}: name a .csv or .parquet file.")
    rows, lo, hi, unpriced = focus_rows(requests, prices, deployments, start, end)
    schema = pa.schema([pa.field(n, t) for n, t in FOCUS_COLUMNS])
    table = pa.Table.from_pylist(rows, schema=schema)
    for name in ("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"):
        i = table.schema.get_field_index(name)
        table = table.set_column(i, name, table.column(name).cast(pa.timestamp("s", tz="UTC")))
    with atomic_writer(target, binary=True) as fh:
        if suffix == ".csv":
            pacsv.write_csv(table, fh)
        else:
            pq.write_table(table, fh)
    billed = sum((r["BilledCost"] for r in rows), Decimal(0))
    return FocusExport(target, len(rows), billed, lo, hi, unpriced)


# --------------------------------------------------------------------------------------------
# self-hosted prices for LiteLLM and Langfuse


@dataclass(frozen=True, slots=True)
class SelfHostedPrice:
    """What one fleet's tokens cost over a period (US$ per token, Decimal)."""

    deployment: str
    model: str
    input_usd_per_token: Decimal
    output_usd_per_token: Decimal
    fleet_usd: Decimal
    utilization: float
    source: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict ($/M as decimal strings)."""
        return {
            "deployment": self.deployment,
            "model": self.model,
            "usd_per_m_input": str((self.input_usd_per_token * _M).quantize(_DIGITS)),
            "usd_per_m_output": str((self.output_usd_per_token * _M).quantize(_DIGITS)),
            "fleet_usd": str(self.fleet_usd.quantize(Decimal("0.01"))),
            "utilization": round(self.utilization, 6),
            "source": self.source,
        }


def self_hosted_prices(
    requests: ir.Table,
    deployments: Sequence[Deployment],
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[SelfHostedPrice]:
    """$/token of each registered fleet that served rows in ``[start, end)`` (module
    docstring). Raises what :func:`~infercost.usage.report.deployment_gpu_seconds` raises."""
    start, end = period(requests, start, end)
    t = requests.filter(
        (requests.ts >= start) & (requests.ts < end) & (requests.provider == SELF_HOSTED)
    )
    sums = (
        t.group_by(name=t.deployment.fill_null(t.model))
        .aggregate(
            req=t.requests.sum(),
            inp=t.input_tokens.sum(),
            cached=t.cached_input_tokens.sum(),
            out=t.output_tokens.sum(),
        )
        .execute()
        .to_dict("records")
    )
    hours = Decimal((end - start).total_seconds()) / 3600
    out = []
    for row in sums:
        name = str(row["name"])
        d = next((x for x in deployments if x.name == name), None) or next(
            (x for x in deployments if x.model == name), None
        )
        if d is None:
            continue
        req = max(int(row["req"]), 1)
        isl, osl = round(int(row["inp"]) / req), round(int(row["out"]) / req)
        per = deployment_gpu_seconds(d, isl, osl)
        busy_s = (int(row["inp"]) - int(row["cached"])) * per.per_input_token_s + int(
            row["out"]
        ) * per.per_output_token_s
        fleet_usd = Decimal(d.gpus) * hours * d.gpu_hour_usd
        if busy_s <= 0:
            continue
        usd_per_s = fleet_usd / Decimal(busy_s)
        capacity_s = d.gpus * float(hours) * 3600
        out.append(
            SelfHostedPrice(
                deployment=d.name,
                model=d.model,
                input_usd_per_token=usd_per_s * Decimal(per.per_input_token_s),
                output_usd_per_token=usd_per_s * Decimal(per.per_output_token_s),
                fleet_usd=fleet_usd,
                utilization=min(busy_s / capacity_s, 1.0) if capacity_s else 0.0,
                source=f"fleet cost {start:%Y-%m-%d} to {end:%Y-%m-%d} over its tokens; "
                f"GPU-seconds per token from {per.source}",
            )
        )
    return out


def _float(x: Decimal) -> float:
    return float(x)


def litellm_config(prices: Sequence[SelfHostedPrice]) -> dict[str, Any]:
    """A LiteLLM ``model_list`` fragment with the self-hosted prices."""
    entries = []
    for p in prices:
        cost = {
            "input_cost_per_token": _float(p.input_usd_per_token),
            "output_cost_per_token": _float(p.output_usd_per_token),
            "cache_read_input_token_cost": 0.0,
        }
        entries.append(
            {
                "model_name": p.deployment,
                "litellm_params": {"model": f"hosted_vllm/{p.model}", **cost},
                "model_info": {
                    **cost,
                    "litellm_provider": "hosted_vllm",
                    "mode": "chat",
                    "infercost_source": p.source,
                },
            }
        )
    return {"model_list": entries}


def langfuse_models(prices: Sequence[SelfHostedPrice], start: datetime) -> list[dict[str, Any]]:
    """Langfuse model definitions (``POST /api/public/models`` bodies)."""
    out = []
    for p in prices:
        names = sorted({p.deployment, p.model})
        pattern = "|".join(re.escape(n) for n in names)
        out.append(
            {
                "modelName": p.deployment,
                "matchPattern": f"(?i)^(hosted_vllm/)?({pattern})$",
                "startDate": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "unit": "TOKENS",
                "inputPrice": _float(p.input_usd_per_token),
                "outputPrice": _float(p.output_usd_per_token),
            }
        )
    return out


def write_json(path: str | Path, data: Any) -> Path:
    """Write ``data`` as indented JSON, atomically."""
    return write_atomic(path, json.dumps(data, indent=2) + "\n")
