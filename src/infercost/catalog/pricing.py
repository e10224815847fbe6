"""Prices with provenance: cloud GPU offers and LLM API price sheets.

Two catalog entries and their loaders:

* :class:`Offer` — one way to rent (or own) an instance: provider, instance, accelerator id,
  GPUs per instance, pricing kind, US$ per *instance*-hour, region, ``as_of`` and ``source``.
* :class:`ApiPrice` — one provider's price sheet for one model: US$ per million input, output,
  cached-input and cache-write tokens, batch discount (with what the batch API does to cache
  reads and writes, :data:`BATCH_CACHE_RULES`) and long-context tiers.

Shipped snapshots live in ``infercost/catalog/data/offers/*.csv`` and
``infercost/catalog/data/api_prices/*.csv`` and are read with :mod:`importlib.resources` on first
use (cached, never at import). Users add or override rows (negotiated prices) with files of the
same layout in ``<dir>/offers/*.csv`` and ``<dir>/api_prices/*.csv`` for every ``<dir>`` in the
``INFERCOST_CATALOG_DIR`` environment variable (``os.pathsep``-separated) or passed as
``extra_dirs``; a user row whose ``id`` matches a shipped row replaces it.

Money is :class:`decimal.Decimal` (read exactly from the CSV text). Every malformed file, row or
field raises :class:`~infercost.errors.CatalogError` naming the file, the row (1 = first data
row) and the field.
"""

from __future__ import annotations

import csv
import difflib
import functools
import io
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Literal, NamedTuple, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from infercost.catalog.schema import CatalogEntry
from infercost.errors import CatalogError, UnknownNameError

PricingKind = Literal["on-demand", "spot", "reserved-1y", "reserved-3y", "committed", "owned"]
"""How an offer is bought. ``committed``: a commitment whose term the source does not state."""

PRICING_KINDS: tuple[str, ...] = get_args(PricingKind)

STALE_AFTER_DAYS = 180
"""A price older than this many days (against today) is flagged as stale in every output."""

CATALOG_DIR_ENV = "INFERCOST_CATALOG_DIR"
"""Environment variable naming extra catalog directories (``os.pathsep``-separated)."""

OFFER_FIELDS: tuple[str, ...] = (
    "id",
    "provider",
    "instance",
    "gpu",
    "gpus_per_instance",
    "pricing_kind",
    "usd_per_hour",
    "usd_per_hour_low",
    "usd_per_hour_high",
    "region",
    "as_of",
    "source",
    "notes",
)
"""Columns of an offers CSV, written out (a published format; a test pins it)."""

OFFER_REQUIRED: frozenset[str] = frozenset(
    {
        "id",
        "provider",
        "instance",
        "gpu",
        "gpus_per_instance",
        "pricing_kind",
        "usd_per_hour",
        "as_of",
        "source",
    }
)

API_PRICE_FIELDS: tuple[str, ...] = (
    "provider",
    "model",
    "usd_per_m_input",
    "usd_per_m_output",
    "usd_per_m_cached_input",
    "usd_per_m_cache_write",
    "batch_discount",
    "batch_cached_input_discount",
    "batch_cache_write_discount",
    "context_tiers",
    "as_of",
    "source",
    "notes",
)
"""Columns of an API price CSV, written out (a test pins it)."""

API_PRICE_REQUIRED: frozenset[str] = frozenset({"provider", "model", "as_of", "source"})

Money = Decimal


class Offer(CatalogEntry):
    """One cloud (or owned) offer for an instance holding ``gpus_per_instance`` accelerators.

    Attributes:
        id: catalog id, lower-case (``aws-p5.48xlarge-on-demand-2025-01``).
        provider: cloud or marketplace name.
        instance: the provider's instance or product name.
        gpu: accelerator catalog id (``h100-sxm``).
        gpus_per_instance: accelerators billed together; using fewer still pays for all.
        pricing_kind: on-demand, spot, reserved-1y, reserved-3y, committed or owned.
        usd_per_hour: US$ per instance-hour used for costing (the midpoint when the source
            printed a range).
        usd_per_hour_low, usd_per_hour_high: the printed range per instance-hour, if any.
        region: provider region ("" when the source does not say).
        notes: caveats from the source and from the mapping to catalog ids.
    """

    id: str = Field(min_length=1)
    provider: str = Field(min_length=1)
    instance: str = Field(min_length=1)
    gpu: str = Field(min_length=1)
    gpus_per_instance: int = Field(gt=0)
    pricing_kind: PricingKind
    usd_per_hour: Decimal = Field(gt=0)
    usd_per_hour_low: Decimal | None = Field(default=None, gt=0)
    usd_per_hour_high: Decimal | None = Field(default=None, gt=0)
    region: str = ""
    notes: str = ""

    @model_validator(mode="after")
    def _range_brackets_price(self) -> Offer:
        low, high = self.usd_per_hour_low, self.usd_per_hour_high
        if (low is None) != (high is None):
            raise ValueError("give both usd_per_hour_low and usd_per_hour_high, or neither")
        if low is not None and high is not None and not low <= self.usd_per_hour <= high:
            raise ValueError(
                f"usd_per_hour {self.usd_per_hour} lies outside its range [{low}, {high}]"
            )
        return self

    @property
    def usd_per_gpu_hour(self) -> Decimal:
        """US$ per GPU-hour when every GPU of the instance is used: instance $/h ÷ GPUs."""
        return self.usd_per_hour / self.gpus_per_instance

    @property
    def is_range(self) -> bool:
        """True when the source printed a range and ``usd_per_hour`` is its midpoint."""
        return self.usd_per_hour_low is not None

    def age_days(self, today: date | None = None) -> int:
        """Days between ``as_of`` and ``today`` (default: the local date)."""
        return ((today or date.today()) - self.as_of).days

    def is_stale(self, today: date | None = None, max_age_days: int = STALE_AFTER_DAYS) -> bool:
        """True when the price is older than ``max_age_days``."""
        return self.age_days(today) > max_age_days

    def to_dict(
        self, today: date | None = None, max_age_days: int = STALE_AFTER_DAYS
    ) -> dict[str, object]:
        """JSON-ready dict: every column, plus ``usd_per_gpu_hour``, ``age_days``, ``stale``."""
        return {
            "id": self.id,
            "provider": self.provider,
            "instance": self.instance,
            "gpu": self.gpu,
            "gpus_per_instance": self.gpus_per_instance,
            "pricing_kind": self.pricing_kind,
            "usd_per_hour": float(self.usd_per_hour),
            "usd_per_hour_low": _float_or_none(self.usd_per_hour_low),
            "usd_per_hour_high": _float_or_none(self.usd_per_hour_high),
            "usd_per_gpu_hour": float(self.usd_per_gpu_hour),
            "region": self.region,
            "as_of": self.as_of.isoformat(),
            "age_days": self.age_days(today),
            "stale": self.is_stale(today, max_age_days),
            "source": self.source,
            "notes": self.notes,
        }

    def describe(self) -> str:
        """One line naming the offer, its price, source and date."""
        per_gpu = f"${self.usd_per_gpu_hour:.2f}/GPU-h"
        bundle = (
            f" (${self.usd_per_hour}/h for {self.gpus_per_instance} GPUs)"
            if self.gpus_per_instance > 1
            else ""
        )
        return (
            f"{self.provider} {self.instance} {self.pricing_kind} {per_gpu}{bundle}"
            f" [offer {self.id}; {self.source}; as of {self.as_of.isoformat()}]"
        )


def _float_or_none(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


class ContextTier(BaseModel):
    """Prices that apply when a request's input exceeds ``above_input_tokens``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    above_input_tokens: int = Field(gt=0)
    usd_per_m_input: Decimal = Field(ge=0)
    usd_per_m_output: Decimal = Field(ge=0)
    usd_per_m_cached_input: Decimal | None = Field(default=None, ge=0)
    usd_per_m_cache_write: Decimal | None = Field(default=None, ge=0)
    """The tier's cache-write price (Anthropic: $7.50 of $3.75 above 200k prompt tokens for
    Claude Sonnet 4.5); None: the sheet's."""
    batch_cached_input_discount: Decimal | None = Field(default=None, ge=0, lt=1)
    """The tier's own batch cache-read discount where its published batch price rounds
    differently from the base tier's (OpenAI GPT-5.4: $0.13 of $0.25 below 272k prompt
    tokens, $0.25 of $0.50 above); None: the sheet's."""


BatchCacheBilling = Literal["batch", "standard"]
"""What a batch API does to a cache price: ``batch`` takes the batch discount off it, as off the
input and output prices; ``standard`` bills it at its standard (non-batch) rate."""


class BatchCacheRule(BaseModel):
    """How one provider's batch API bills cache reads and cache writes, for the models whose
    name matches ``models`` (a regular expression matched in full, ignoring case).

    Used for a sheet that gives a batch discount but not its batch cache prices (a price file
    without the ``batch_cached_input_discount`` / ``batch_cache_write_discount`` columns).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: str = Field(min_length=1)
    models: str = Field(min_length=1)
    cached_input: BatchCacheBilling
    cache_write: BatchCacheBilling
    source: str = Field(min_length=3)
    as_of: date

    def matches(self, provider: str, model: str) -> bool:
        """Whether the rule covers ``provider``/``model`` (case-insensitive)."""
        return provider.strip().lower() == self.provider.lower() and bool(
            re.fullmatch(self.models, model.strip(), flags=re.IGNORECASE)
        )


_OPENAI_PRICING = (
    "OpenAI API pricing, Batch table (https://developers.openai.com/api/docs/pricing)"
)

BATCH_CACHE_RULES: tuple[BatchCacheRule, ...] = (
    BatchCacheRule(
        provider="anthropic",
        models=r".*",
        cached_input="batch",
        cache_write="batch",
        source="Anthropic pricing, batch processing: 50% off all usage, cache reads and writes "
        "included (https://platform.claude.com/docs/en/about-claude/pricing#batch-processing); "
        "genai-prices 0.2.5 batch variants agree for every Claude model",
        as_of=date(2026, 10, 14),
    ),
    BatchCacheRule(
        provider="openai",
        models=r"(gpt-4o|gpt-4\.1|chatgpt-4o|o1|o3|o4)([-.].*)?",
        cached_input="standard",
        cache_write="batch",
        source=f"{_OPENAI_PRICING}: no batch cached-input rate for GPT-4.1, GPT-4o and the "
        "o-series, so cached input keeps its standard rate (genai-prices 0.2.5, verified "
        "2026-10-14); OpenAI charges no separate cache writes (they bill as input)",
        as_of=date(2026, 10, 14),
    ),
    BatchCacheRule(
        provider="openai",
        models=r".*",
        cached_input="batch",
        cache_write="batch",
        source=f"{_OPENAI_PRICING}: GPT-5 and later list a batch cached-input rate at the "
        "batch discount (GPT-5 $0.0625 vs $0.125 standard; genai-prices 0.2.5, verified "
        "2026-10-14)",
        as_of=date(2026, 10, 14),
    ),
)
"""What each provider's batch API does to cache prices, sourced and dated; the first rule
that matches a sheet's provider and model applies. A provider without a rule: the batch
discount is taken off cache reads and writes too (said in the sheet's ``batch_cache_source``).
"""

_BATCH_CACHE_DEFAULT = (
    "no batch cache prices in the price data and no rule for this provider: the batch "
    "discount is taken off cache reads and writes too (give batch_cached_input_discount and "
    "batch_cache_write_discount in the price file to say otherwise)"
)


def batch_cache_rule(provider: str, model: str) -> BatchCacheRule | None:
    """The first of :data:`BATCH_CACHE_RULES` that covers ``provider``/``model``, or None."""
    return next((r for r in BATCH_CACHE_RULES if r.matches(provider, model)), None)


class TierPrices(NamedTuple):
    """US$ per million tokens of each kind in force for one prompt length
    (:meth:`ApiPrice.prices_for_prompt`); ``tier`` is the context tier chosen, None for the
    base prices."""

    tier: ContextTier | None
    usd_per_m_input: Decimal | None
    usd_per_m_output: Decimal | None
    usd_per_m_cached_input: Decimal | None
    usd_per_m_cache_write: Decimal | None


class ApiPrice(CatalogEntry):
    """One provider's API price sheet for one model, in US$ per million tokens.

    A price left ``None`` is not in the price data (the source lacks it; the provider may
    still publish one): costing a token kind whose price is ``None`` raises, it is never read
    as $0.

    Attributes:
        provider: API provider.
        model: the provider's model name.
        usd_per_m_input, usd_per_m_output: US$ per 1e6 uncached input / output tokens.
        usd_per_m_cached_input: US$ per 1e6 input tokens served from the prompt cache.
        usd_per_m_cache_write: US$ per 1e6 input tokens written to the prompt cache.
        batch_discount: fraction taken off the input and output prices by the batch API
            (0.5 = half).
        batch_cached_input_discount: fraction the batch API takes off the cached-input price
            (0 = cached input keeps its standard rate in a batch, as OpenAI bills GPT-4.1).
            Tokens without a cached-input price bill as input and take ``batch_discount``.
        batch_cache_write_discount: likewise for the cache-write price.
        batch_cache_source: where the two batch cache figures come from, with its date.
            Given a ``batch_discount`` without them, they are filled from
            :data:`BATCH_CACHE_RULES` (else the batch discount applies to them too), and this
            says which.
        context_tiers: higher prices above an input length, ascending.
        notes: caveats.
    """

    provider: str = Field(min_length=1)
    model: str = Field(min_length=1)
    usd_per_m_input: Decimal | None = Field(default=None, ge=0)
    usd_per_m_output: Decimal | None = Field(default=None, ge=0)
    usd_per_m_cached_input: Decimal | None = Field(default=None, ge=0)
    usd_per_m_cache_write: Decimal | None = Field(default=None, ge=0)
    batch_discount: Decimal | None = Field(default=None, ge=0, lt=1)
    batch_cached_input_discount: Decimal | None = Field(default=None, ge=0, lt=1)
    batch_cache_write_discount: Decimal | None = Field(default=None, ge=0, lt=1)
    batch_cache_source: str = ""
    context_tiers: tuple[ContextTier, ...] = ()
    notes: str = ""

    @model_validator(mode="before")
    @classmethod
    def _fill_batch_cache_terms(cls, data: object) -> object:
        """A batch discount without batch cache figures: fill them from the rules."""
        if not isinstance(data, dict) or data.get("batch_discount") is None:
            return data
        names = ("batch_cached_input_discount", "batch_cache_write_discount")
        given = [name for name in names if data.get(name) is not None]
        out = dict(data)
        if len(given) == len(names):
            out["batch_cache_source"] = out.get("batch_cache_source") or "given by the sheet"
            return out
        try:
            discount = Decimal(str(data["batch_discount"]))
        except InvalidOperation:
            return data  # the field's own validation names it
        rule = batch_cache_rule(str(data.get("provider", "")), str(data.get("model", "")))
        if rule is None:
            billing: tuple[BatchCacheBilling, BatchCacheBilling] = ("batch", "batch")
            text = _BATCH_CACHE_DEFAULT
        else:
            billing = (rule.cached_input, rule.cache_write)
            text = f"{rule.source}; as of {rule.as_of.isoformat()}"
        for name, how in zip(names, billing, strict=True):
            if out.get(name) is None:
                out[name] = discount if how == "batch" else Decimal(0)
        if not out.get("batch_cache_source"):
            out["batch_cache_source"] = (
                f"{given[0]} given by the sheet; the other: {text}" if given else text
            )
        return out

    @model_validator(mode="after")
    def _tiers_ascend(self) -> ApiPrice:
        bounds = [t.above_input_tokens for t in self.context_tiers]
        if bounds != sorted(set(bounds)):
            raise ValueError("context_tiers must have strictly ascending above_input_tokens")
        return self

    @property
    def key(self) -> str:
        """``provider/model`` in lower case, the lookup key."""
        return f"{self.provider}/{self.model}".lower()

    def prices_for_prompt(self, prompt_tokens: float) -> TierPrices:
        """The $/M of each token kind for a request whose whole prompt (uncached + cached +
        written) is ``prompt_tokens``: the highest context tier it exceeds applies to all its
        tokens, as the providers bill; a kind the tier does not price keeps the sheet's price
        (None: the sheet has none either)."""
        tier = None
        for t in self.context_tiers:
            if prompt_tokens > t.above_input_tokens:
                tier = t
        if tier is None:
            return TierPrices(
                None,
                self.usd_per_m_input,
                self.usd_per_m_output,
                self.usd_per_m_cached_input,
                self.usd_per_m_cache_write,
            )
        return TierPrices(
            tier,
            tier.usd_per_m_input,
            tier.usd_per_m_output,
            tier.usd_per_m_cached_input
            if tier.usd_per_m_cached_input is not None
            else self.usd_per_m_cached_input,
            tier.usd_per_m_cache_write
            if tier.usd_per_m_cache_write is not None
            else self.usd_per_m_cache_write,
        )

    def batch_text(self) -> str | None:
        """``"50% off input and output, 0% off cached input, 50% off cache writes (source)"``,
        what the batch API takes off each price, or None without a batch discount."""
        multipliers = self.batch_multipliers()
        if multipliers is None:
            return None
        io, cached, write = (f"{1 - m:.0%}" for m in multipliers)
        return (
            f"{io} off input and output, {cached} off cached input, {write} off cache writes "
            f"({self.batch_cache_source})"
        )

    def batch_multipliers(
        self, tier: ContextTier | None = None
    ) -> tuple[Decimal, Decimal, Decimal] | None:
        """What the batch API multiplies each price by, in the base tier or ``tier``: (input
        and output, cached input, cache write), e.g. ``(0.5, 1, 0.5)`` for OpenAI GPT-4.1,
        ``(0.5, 0.5, 0.5)`` for Anthropic; None when the sheet has no batch discount.

        Cached or written tokens that a sheet has no price for bill as input, at the first
        multiplier (the caller's business)."""
        if self.batch_discount is None:
            return None
        io = 1 - self.batch_discount
        cached = self.batch_cached_input_discount
        if tier is not None and tier.batch_cached_input_discount is not None:
            cached = tier.batch_cached_input_discount
        write = self.batch_cache_write_discount
        return (
            io,
            1 - cached if cached is not None else io,
            1 - write if write is not None else io,
        )

    def is_stale(self, today: date | None = None, max_age_days: int = STALE_AFTER_DAYS) -> bool:
        """True when the price sheet is older than ``max_age_days``."""
        return ((today or date.today()) - self.as_of).days > max_age_days

    def to_dict(
        self, today: date | None = None, max_age_days: int = STALE_AFTER_DAYS
    ) -> dict[str, object]:
        """JSON-ready dict of the sheet, with ``stale``."""
        return {
            "provider": self.provider,
            "model": self.model,
            "usd_per_m_input": _float_or_none(self.usd_per_m_input),
            "usd_per_m_output": _float_or_none(self.usd_per_m_output),
            "usd_per_m_cached_input": _float_or_none(self.usd_per_m_cached_input),
            "usd_per_m_cache_write": _float_or_none(self.usd_per_m_cache_write),
            "batch_discount": _float_or_none(self.batch_discount),
            "batch_cached_input_discount": _float_or_none(self.batch_cached_input_discount),
            "batch_cache_write_discount": _float_or_none(self.batch_cache_write_discount),
            "batch_cache_source": self.batch_cache_source,
            "context_tiers": [
                {
                    "above_input_tokens": t.above_input_tokens,
                    "usd_per_m_input": float(t.usd_per_m_input),
                    "usd_per_m_output": float(t.usd_per_m_output),
                    "usd_per_m_cached_input": _float_or_none(t.usd_per_m_cached_input),
                    "usd_per_m_cache_write": _float_or_none(t.usd_per_m_cache_write),
                    "batch_cached_input_discount": _float_or_none(t.batch_cached_input_discount),
                }
                for t in self.context_tiers
            ],
            "as_of": self.as_of.isoformat(),
            "stale": self.is_stale(today, max_age_days),
            "source": self.source,
            "notes": self.notes,
        }


# --------------------------------------------------------------------------------------------
# Parsing helpers (pure: text in, entries out)

_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


def parse_as_of(text: str) -> date:
    """Parse ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``; a missing month or day reads as the 1st.

    Sources often print only a month or a year; the first day keeps the staleness check
    conservative (the price is treated as at least that old).

    Raises:
        ValueError: the text is not one of the three forms or not a calendar date.
    """
    match = _PARTIAL_DATE.match(text.strip())
    if not match:
        raise ValueError(f"as_of {text!r} is not YYYY-MM-DD, YYYY-MM or YYYY")
    year, month, day = match.groups()
    return date(int(year), int(month or 1), int(day or 1))


def _decimal(text: str, field: str) -> Decimal | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"field {field!r}: {text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"field {field!r}: {text!r} is not a finite number")
    return value


def _parse_tiers(text: str) -> tuple[ContextTier, ...]:
    """``"200000:6.00:22.50[:0.6[:7.5]];..."`` -> tiers (above tokens : $/M in : $/M out
    [: cached [: cache write]])."""
    tiers = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        pieces = part.split(":")
        if len(pieces) not in (3, 4, 5):
            raise ValueError(
                f"field 'context_tiers': {part!r} is not "
                "ABOVE_TOKENS:USD_IN:USD_OUT[:USD_CACHED_IN[:USD_CACHE_WRITE]]"
            )
        try:
            tiers.append(
                ContextTier(
                    above_input_tokens=int(pieces[0]),
                    usd_per_m_input=Decimal(pieces[1]),
                    usd_per_m_output=Decimal(pieces[2]),
                    usd_per_m_cached_input=Decimal(pieces[3]) if len(pieces) >= 4 else None,
                    usd_per_m_cache_write=Decimal(pieces[4]) if len(pieces) == 5 else None,
                )
            )
        except ArithmeticError:
            raise ValueError(f"field 'context_tiers': {part!r} holds a non-number") from None
    return tuple(tiers)


def _read_rows(
    text: str, path: str, allowed: Sequence[str], required: Iterable[str]
) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    unknown = [h for h in header if h not in allowed]
    missing = [h for h in required if h not in header]
    if unknown:
        raise CatalogError(
            path, f"unknown column(s) {unknown}; allowed columns are {list(allowed)}"
        )
    if missing:
        raise CatalogError(path, f"missing required column(s) {sorted(missing)}")
    rows = []
    for i, row in enumerate(reader, start=1):
        if None in row:
            raise CatalogError(path, "more values than header columns", row=i)
        rows.append({k: (v or "") for k, v in row.items()})
    return rows


def _validation_message(err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "row"
        parts.append(f"field {loc!r}: {e['msg']}")
    return "; ".join(parts)


def parse_offers_csv(text: str, path: str) -> list[Offer]:
    """Parse one offers CSV (columns :data:`OFFER_FIELDS`) into validated offers.

    Raises:
        CatalogError: naming ``path``, the data row (1-based) and the field that failed.
    """
    offers: list[Offer] = []
    for i, row in enumerate(_read_rows(text, path, OFFER_FIELDS, OFFER_REQUIRED), start=1):
        try:
            values: dict[str, object] = {
                "id": row["id"].strip().lower(),
                "provider": row["provider"].strip(),
                "instance": row["instance"].strip(),
                "gpu": row["gpu"].strip().lower(),
                "gpus_per_instance": row["gpus_per_instance"].strip(),
                "pricing_kind": row["pricing_kind"].strip(),
                "usd_per_hour": _decimal(row["usd_per_hour"], "usd_per_hour"),
                "usd_per_hour_low": _decimal(row.get("usd_per_hour_low", ""), "usd_per_hour_low"),
                "usd_per_hour_high": _decimal(
                    row.get("usd_per_hour_high", ""), "usd_per_hour_high"
                ),
                "region": row.get("region", "").strip(),
                "as_of": parse_as_of(row["as_of"]),
                "source": row["source"].strip(),
                "notes": row.get("notes", "").strip(),
            }
            offers.append(Offer.model_validate(values))
        except ValidationError as err:
            raise CatalogError(path, _validation_message(err), row=i) from None
        except ValueError as err:
            raise CatalogError(path, str(err), row=i) from None
    return offers


def parse_api_prices_csv(text: str, path: str) -> list[ApiPrice]:
    """Parse one API price CSV (columns :data:`API_PRICE_FIELDS`) into validated entries.

    Raises:
        CatalogError: naming ``path``, the data row (1-based) and the field that failed.
    """
    prices: list[ApiPrice] = []
    rows = _read_rows(text, path, API_PRICE_FIELDS, API_PRICE_REQUIRED)
    for i, row in enumerate(rows, start=1):
        try:
            values: dict[str, object] = {
                "provider": row["provider"].strip(),
                "model": row["model"].strip(),
                "as_of": parse_as_of(row["as_of"]),
                "source": row["source"].strip(),
                "notes": row.get("notes", "").strip(),
                "context_tiers": _parse_tiers(row.get("context_tiers", "")),
            }
            for name in (
                "usd_per_m_input",
                "usd_per_m_output",
                "usd_per_m_cached_input",
                "usd_per_m_cache_write",
                "batch_discount",
                "batch_cached_input_discount",
                "batch_cache_write_discount",
            ):
                values[name] = _decimal(row.get(name, ""), name)
            prices.append(ApiPrice.model_validate(values))
        except ValidationError as err:
            raise CatalogError(path, _validation_message(err), row=i) from None
        except ValueError as err:
            raise CatalogError(path, str(err), row=i) from None
    return prices


# --------------------------------------------------------------------------------------------
# Loading (the only I/O in this module)


def _extra_dirs_from_env() -> tuple[str, ...]:
    raw = os.environ.get(CATALOG_DIR_ENV, "")
    return tuple(p for p in raw.split(os.pathsep) if p)


def _packaged_texts(subdir: str) -> list[tuple[str, str]]:
    root = resources.files("infercost.catalog.data").joinpath(subdir)
    files = sorted((f for f in root.iterdir() if f.name.endswith(".csv")), key=lambda f: f.name)
    return [(f"infercost/catalog/data/{subdir}/{f.name}", f.read_text("utf-8")) for f in files]


def _user_texts(dirs: Sequence[str], subdir: str) -> list[tuple[str, str]]:
    texts: list[tuple[str, str]] = []
    for d in dirs:
        base = Path(d)
        if not base.is_dir():
            raise CatalogError(
                str(base),
                f"catalog directory does not exist (from {CATALOG_DIR_ENV} or --catalog); "
                "create it or remove it from the setting",
            )
        texts.extend((str(p), p.read_text("utf-8")) for p in sorted((base / subdir).glob("*.csv")))
    return texts


@functools.cache
def _load_offers(extra_dirs: tuple[str, ...]) -> tuple[Offer, ...]:
    by_id: dict[str, Offer] = {}
    for path, text in _packaged_texts("offers"):
        for offer in parse_offers_csv(text, path):
            if offer.id in by_id:
                raise CatalogError(path, f"duplicate offer id {offer.id!r}; ids must be unique")
            by_id[offer.id] = offer
    for path, text in _user_texts(extra_dirs, "offers"):
        for offer in parse_offers_csv(text, path):
            by_id[offer.id] = offer  # a user row overrides a shipped row with the same id
    return tuple(by_id.values())


@functools.cache
def _load_api_prices(extra_dirs: tuple[str, ...], shipped: bool) -> tuple[ApiPrice, ...]:
    entries: dict[tuple[str, date], ApiPrice] = {}
    texts = _packaged_texts("api_prices") if shipped else []
    for path, text in [*texts, *_user_texts(extra_dirs, "api_prices")]:
        for price in parse_api_prices_csv(text, path):
            entries[(price.key, price.as_of)] = price  # later files override same key and date
    return tuple(entries.values())


def load_offers(extra_dirs: Sequence[str] | None = None) -> tuple[Offer, ...]:
    """Every offer: the shipped snapshot plus user files (``extra_dirs`` or the env variable).

    Raises:
        CatalogError: a file, row or field fails validation, or an extra directory is missing.
    """
    dirs = tuple(extra_dirs) if extra_dirs is not None else _extra_dirs_from_env()
    return _load_offers(dirs)


def load_api_prices(
    extra_dirs: Sequence[str] | None = None, *, shipped: bool = True
) -> tuple[ApiPrice, ...]:
    """API price sheets: our dated history (``shipped``) plus user files (negotiated prices).

    ``shipped=False`` returns only the user files, which take precedence over every other
    source in :func:`infercost.cost.api.api_price`.

    Raises:
        CatalogError: a file, row or field fails validation, or an extra directory is missing.
    """
    dirs = tuple(extra_dirs) if extra_dirs is not None else _extra_dirs_from_env()
    return _load_api_prices(dirs, shipped)


def get_offer(offer_id: str, offers: Iterable[Offer] | None = None) -> Offer:
    """The offer with id ``offer_id`` (case-insensitive).

    Raises:
        UnknownNameError: no such id; the closest ids are suggested.
    """
    pool = tuple(offers) if offers is not None else load_offers()
    wanted = offer_id.strip().lower()
    for offer in pool:
        if offer.id == wanted:
            return offer
    ids = [o.id for o in pool]
    raise UnknownNameError("offer", offer_id, difflib.get_close_matches(wanted, ids, n=5))


def filter_offers(
    offers: Iterable[Offer],
    *,
    gpu: str | None = None,
    provider: str | None = None,
    pricing_kind: str | None = None,
) -> list[Offer]:
    """Offers matching every given filter (case-insensitive), sorted by $/GPU-hour then id."""
    chosen = [
        o
        for o in offers
        if (gpu is None or o.gpu == gpu.lower())
        and (provider is None or o.provider.lower() == provider.lower())
        and (pricing_kind is None or o.pricing_kind == pricing_kind.lower())
    ]
    return sorted(chosen, key=lambda o: (o.usd_per_gpu_hour, o.id))


def current_offers(offers: Iterable[Offer]) -> list[Offer]:
    """The offers dated within :data:`STALE_AFTER_DAYS` of the newest offer for the same GPU
    and pricing kind: today's market for each. An older row stays in the catalog
    (``infercost offers`` lists it, flagged STALE) but does not win a plan beside a newer
    price for the same product, nor vote in the default offer (:func:`default_offer`). A GPU
    whose only offers are old keeps them (and they are flagged stale where they are used)."""
    pool = list(offers)
    newest: dict[tuple[str, str], int] = {}
    for o in pool:
        key = (o.gpu, o.pricing_kind)
        newest[key] = max(newest.get(key, 0), o.as_of.toordinal())
    return [
        o
        for o in pool
        if newest[(o.gpu, o.pricing_kind)] - o.as_of.toordinal() <= STALE_AFTER_DAYS
    ]


PRICE_RULE = (
    "each GPU at its default offer: the lower-median $/GPU-hour among its current offers of "
    "one pricing kind (on-demand unless spot is asked for; current = dated within "
    f"{STALE_AFTER_DAYS} days of that GPU's newest offer of the kind), whole instances billed"
)
"""The one rule for the price of a GPU family, in words (printed by the ranking commands)."""


def family_offer(
    accelerator_id: str,
    offers: Iterable[Offer] | None = None,
    *,
    pricing_kind: str = "on-demand",
) -> Offer | None:
    """The offer that prices a GPU family: the one rule shared by ``predict``'s default price
    and every ranking command (``plan search``, ``pareto``, ``scenarios``, ``fleet``,
    ``breakeven``), or None when the snapshot has no offer of that kind for the GPU.

    Rule (:data:`PRICE_RULE`):

    1. One pricing kind for every GPU (on-demand by default; spot only when asked): a
       ranking never puts one GPU's reserved price beside another's on-demand price.
    2. Today's market for that GPU and kind (:func:`current_offers`): offers dated within
       :data:`STALE_AFTER_DAYS` of its newest offer of the kind. A stale offer is used only
       when it is the newest of its kind (the GPU has no current one); it is flagged STALE.
    3. The lower median of the per-GPU price (ties: the newer ``as_of``, then id), so that
       one "market low" quote or one hyperscaler list price does not set the price.

    A replica of k GPUs on the offer's n-GPU instances pays ceil(k / n) instances
    (:func:`infercost.cost.gpu_hour.usd_per_used_gpu_hour`).
    """
    pool = tuple(offers) if offers is not None else load_offers()
    gpu = accelerator_id.lower()
    candidates = sorted(
        (
            o
            for o in current_offers(o for o in pool if o.gpu == gpu)
            if o.pricing_kind == pricing_kind
        ),
        key=lambda o: (o.usd_per_gpu_hour, -o.as_of.toordinal(), o.id),
    )
    if not candidates:
        return None
    return candidates[(len(candidates) - 1) // 2]


def default_offer(accelerator_id: str, offers: Iterable[Offer] | None = None) -> Offer | None:
    """The default on-demand offer for an accelerator, or None when the snapshot has none:
    :func:`family_offer` of the on-demand kind (the median current on-demand offer).

    Rule: among on-demand offers for ``accelerator_id`` dated within
    :data:`STALE_AFTER_DAYS` of that accelerator's newest on-demand offer (today's market,
    not every price the snapshot ever recorded), the one at the lower median of the per-GPU
    price (ties broken by the newer ``as_of``, then id). The median rather than the cheapest,
    so that one "market low" quote or one hyperscaler list price does not set the default
    for every prediction.
    """
    return family_offer(accelerator_id, offers, pricing_kind="on-demand")


def newest_offer_date(offers: Iterable[Offer] | None = None) -> date:
    """The newest ``as_of`` among the offers (shipped snapshot plus user files): the date of
    the snapshot outputs quote beside a stale price.

    Raises:
        CatalogError: no offers at all.
    """
    pool = tuple(offers) if offers is not None else load_offers()
    if not pool:
        raise CatalogError("offers", "no offers loaded")
    return max(o.as_of for o in pool)


def default_gpu_hour_usd(accelerator_id: str) -> tuple[float, str] | None:
    """Per-GPU US$/hour of the default offer (see :func:`default_offer`) and a text naming it.

    Returns ``None`` when the shipped snapshot (plus user files) has no on-demand offer for
    the accelerator; callers then ask the user for ``--gpu-hour-usd`` or ``--offer``.
    """
    offer = default_offer(accelerator_id)
    if offer is None:
        return None
    return float(offer.usd_per_gpu_hour), "default offer (median on-demand): " + offer.describe()


def latest_api_prices(prices: Iterable[ApiPrice]) -> dict[str, ApiPrice]:
    """The newest sheet per ``provider/model`` key."""
    latest: dict[str, ApiPrice] = {}
    for p in prices:
        if p.key not in latest or p.as_of > latest[p.key].as_of:
            latest[p.key] = p
    return latest


def offers_by_gpu(offers: Iterable[Offer]) -> Mapping[str, list[Offer]]:
    """Offers grouped by accelerator id, each list sorted by $/GPU-hour."""
    groups: dict[str, list[Offer]] = {}
    for o in offers:
        groups.setdefault(o.gpu, []).append(o)
    return {g: sorted(v, key=lambda o: (o.usd_per_gpu_hour, o.id)) for g, v in groups.items()}
