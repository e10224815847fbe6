"""LLM API prices: one :class:`~infercost.catalog.pricing.ApiPrice` from three sources.

Lookup order for :func:`api_price` (first match wins):

1. the user's price files (``<INFERCOST_CATALOG_DIR>/api_prices/*.csv``: negotiated prices);
2. the ``genai-prices`` package (maintained, offline, per-provider sheets with cached-input,
   cache-write, long-context tiers and batch variants);
3. our dated history from articles (``infercost/catalog/data/api_prices``), newest row.

A model that none of them prices raises :class:`~infercost.errors.UnknownNameError`; a token
kind whose price is unpublished (for example the input price of a row that printed only the
output price) raises :class:`~infercost.errors.InputError`. Nothing is ever priced at $0 by
default.

Costs: tokens x $/M ÷ 1e6 per token kind; the long-context tier is chosen by the request's
whole prompt (uncached + cached + cache-write tokens) and applies to all its tokens, as the
providers and ``genai-prices`` bill it.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib.metadata import version
from typing import Any

from infercost.catalog.pricing import ApiPrice, ContextTier, latest_api_prices, load_api_prices
from infercost.cost.money import usd
from infercost.errors import InputError, UnknownNameError
from infercost.units import TOKENS_PER_M

_BATCH_CONTEXT: Mapping[str, str] = {"processing": "batch"}


# --------------------------------------------------------------------------------------------
# genai-prices adapter


def _genai_snapshot() -> Any:
    from genai_prices import data_snapshot

    return data_snapshot.get_snapshot()


@functools.cache
def genai_prices_as_of(today: date | None = None) -> date:
    """Date of the genai-prices data: its latest recorded price change on or before today.

    The package does not date its snapshot; the newest start date among its dated price
    changes is a lower bound on how current the data is, and is used as ``as_of``.
    """
    cutoff = today or date.today()
    latest = date(2025, 1, 1)
    for provider in _genai_snapshot().providers:
        for model in provider.models:
            conditions = model.prices if isinstance(model.prices, list) else []
            variants = model.price_variants or []
            for item in [*conditions, *variants]:
                start = getattr(item.constraint, "start_date", None)
                if isinstance(start, date) and latest < start <= cutoff:
                    latest = start
    return latest


def _price_at(value: Any, above: int | None) -> Decimal | None:
    """A genai-prices price (Decimal or TieredPrices) in force for prompts above ``above``."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    chosen: Decimal = value.base
    if above is not None:
        for tier in sorted(value.tiers, key=lambda t: t.start):
            if tier.start <= above:
                chosen = tier.price
    return chosen


def _tier_starts(*values: Any) -> list[int]:
    starts: set[int] = set()
    for v in values:
        if v is not None and not isinstance(v, Decimal):
            starts.update(int(t.start) for t in v.tiers if t.start > 0)
    return sorted(starts)


def from_genai_model(provider: Any, model: Any, at: datetime) -> ApiPrice:
    """Our :class:`ApiPrice` for a genai-prices ``Provider`` and ``ModelInfo`` at time ``at``.

    Standard prices in force at ``at``; the batch discount from the ``processing=batch``
    variant (1 - batch output ÷ output); long-context tiers from ``TieredPrices``; ``as_of`` the
    start of the conditional price in force, else :func:`genai_prices_as_of`.
    """
    std = model.get_prices(at)
    batch = model.get_prices(at, _BATCH_CONTEXT)
    input_p = _price_at(std.input_mtok, None)
    output_p = _price_at(std.output_mtok, None)
    batch_discount: Decimal | None = None
    b_out = _price_at(batch.output_mtok, None)
    if output_p and b_out is not None and b_out < output_p:
        batch_discount = 1 - b_out / output_p
    tiers = tuple(
        ContextTier(
            above_input_tokens=start,
            usd_per_m_input=_price_at(std.input_mtok, start) or Decimal(0),
            usd_per_m_output=_price_at(std.output_mtok, start) or Decimal(0),
            usd_per_m_cached_input=_price_at(std.cache_read_mtok, start),
        )
        for start in _tier_starts(std.input_mtok, std.output_mtok)
        if std.input_mtok is not None and std.output_mtok is not None
    )
    as_of = genai_prices_as_of()
    if isinstance(model.prices, list):
        starts = [
            c.constraint.start_date
            for c in model.prices
            if getattr(c.constraint, "start_date", None) and c.constraint.start_date <= at.date()
        ]
        if starts:
            as_of = max(starts)
    urls = provider.pricing_urls or []
    return ApiPrice(
        provider=provider.name,
        model=model.id,
        usd_per_m_input=input_p,
        usd_per_m_output=output_p,
        usd_per_m_cached_input=_price_at(std.cache_read_mtok, None),
        usd_per_m_cache_write=_price_at(std.cache_write_mtok, None),
        batch_discount=batch_discount,
        context_tiers=tiers,
        as_of=as_of,
        source=f"genai-prices {version('genai-prices')}" + (f" ({urls[0]})" if urls else ""),
        notes=model.price_comments or "",
    )


def genai_api_price(
    model: str, provider: str | None = None, at: datetime | None = None
) -> ApiPrice | None:
    """The genai-prices sheet for ``model`` (optionally at ``provider``), or None if unknown."""
    snapshot = _genai_snapshot()
    try:
        prov, info = snapshot.find_provider_model(model, None, provider, None)
    except LookupError:
        return None
    return from_genai_model(prov, info, at or datetime.now(UTC))


def _genai_model_ids() -> list[str]:
    return [m.id for p in _genai_snapshot().providers for m in p.models]


# --------------------------------------------------------------------------------------------
# Lookup


def _matches(price: ApiPrice, model: str, provider: str | None) -> bool:
    if price.model.lower() != model.lower():
        return False
    return provider is None or price.provider.lower() == provider.lower()


def _newest(prices: Iterable[ApiPrice], model: str, provider: str | None) -> ApiPrice | None:
    found = [p for p in prices if _matches(p, model, provider)]
    return max(found, key=lambda p: p.as_of) if found else None


def api_price(
    model: str,
    provider: str | None = None,
    *,
    extra_dirs: Iterable[str] | None = None,
    use_genai_prices: bool = True,
) -> ApiPrice:
    """The price sheet for ``model``: user file, else genai-prices, else our dated history.

    Raises:
        UnknownNameError: no source prices the model; carries the closest model names.
        CatalogError: a price file fails validation.
    """
    dirs = tuple(extra_dirs) if extra_dirs is not None else None
    user = _newest(load_api_prices(dirs, shipped=False), model, provider)
    if user is not None:
        return user
    if use_genai_prices:
        found = genai_api_price(model, provider)
        if found is not None:
            return found
    shipped = _newest(load_api_prices(dirs), model, provider)
    if shipped is not None:
        return shipped
    names = sorted({p.model for p in load_api_prices(dirs)} | set(_genai_model_ids()))
    raise UnknownNameError("api-price", model, difflib.get_close_matches(model, names, n=5))


def api_price_history(
    model: str, provider: str | None = None, *, extra_dirs: Iterable[str] | None = None
) -> list[ApiPrice]:
    """Every dated sheet we hold for ``model``, oldest first (our history + genai-prices)."""
    dirs = tuple(extra_dirs) if extra_dirs is not None else None
    history = [p for p in load_api_prices(dirs) if _matches(p, model, provider)]
    snapshot = _genai_snapshot()
    try:
        prov, info = snapshot.find_provider_model(model, None, provider, None)
    except LookupError:
        info = None
    if info is not None and isinstance(info.prices, list):
        for c in info.prices:
            start = getattr(c.constraint, "start_date", None)
            if isinstance(start, date):
                at = datetime(start.year, start.month, start.day, tzinfo=UTC)
                history.append(from_genai_model(prov, info, at))
    elif info is not None:
        history.append(from_genai_model(prov, info, datetime.now(UTC)))
    return sorted(history, key=lambda p: p.as_of)


def list_api_prices(
    provider: str | None = None, *, extra_dirs: Iterable[str] | None = None
) -> list[ApiPrice]:
    """Newest sheet per model from user files and our history, plus, when ``provider`` is
    given, every model genai-prices prices at that provider; sorted by provider and model."""
    dirs = tuple(extra_dirs) if extra_dirs is not None else None
    sheets = {
        k: v
        for k, v in latest_api_prices(load_api_prices(dirs)).items()
        if provider is None or v.provider.lower() == provider.lower()
    }
    if provider is not None:
        snapshot = _genai_snapshot()
        try:
            prov = snapshot.find_provider(None, provider, None)
        except LookupError:
            prov = None
        now = datetime.now(UTC)
        for info in prov.models if prov is not None else []:
            sheet = from_genai_model(prov, info, now)
            sheets.setdefault(sheet.key, sheet)
    return sorted(sheets.values(), key=lambda p: (p.provider.lower(), p.model.lower()))


def current_api_prices(extra_dirs: Iterable[str] | None = None) -> dict[str, ApiPrice]:
    """Newest sheet per ``provider/model`` in our history and user files (not genai-prices)."""
    dirs = tuple(extra_dirs) if extra_dirs is not None else None
    return latest_api_prices(load_api_prices(dirs))


# --------------------------------------------------------------------------------------------
# Costing


@dataclass(frozen=True, slots=True)
class ApiCost:
    """Cost of API traffic by token kind, in US$."""

    input_usd: Decimal
    cached_input_usd: Decimal
    cache_write_usd: Decimal
    output_usd: Decimal
    tier_above_input_tokens: int | None
    batch: bool

    @property
    def total_usd(self) -> Decimal:
        """Sum of the four token kinds."""
        return self.input_usd + self.cached_input_usd + self.cache_write_usd + self.output_usd


def _need(value: Decimal | None, what: str, price: ApiPrice) -> Decimal:
    if value is None:
        raise InputError(
            f"{price.provider} {price.model} has no published {what} price in "
            f"{price.source} (as of {price.as_of}); it is not assumed to be $0. Add a row with "
            "that price to a file under $INFERCOST_CATALOG_DIR/api_prices/."
        )
    return value


def request_usd(
    price: ApiPrice,
    input_tokens: float,
    output_tokens: float,
    *,
    cached_input_tokens: float = 0,
    cache_write_tokens: float = 0,
    batch: bool = False,
) -> ApiCost:
    """Cost of one request (or any traffic with these token counts): tokens x $/M ÷ 1e6.

    ``input_tokens`` are uncached prompt tokens; cached-read and cache-write prompt tokens are
    separate. Without a cached-input (or cache-write) price those tokens are billed at the input
    price, as a provider without prompt caching bills them. The long-context tier is chosen by
    the whole prompt. ``batch`` applies the published batch discount to every token kind.

    Raises:
        InputError: a negative token count; an input or output price that is unpublished while
            its tokens are non-zero; ``batch`` without a published batch discount.
    """
    counts = {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cached_input_tokens": cached_input_tokens,
        "cache_write_tokens": cache_write_tokens,
    }
    for name, count in counts.items():
        if count < 0:
            raise InputError(f"{name} must be >= 0, got {count!r}.")
    prompt = input_tokens + cached_input_tokens + cache_write_tokens
    tier = None
    for t in price.context_tiers:
        if prompt > t.above_input_tokens:
            tier = t
    in_p = tier.usd_per_m_input if tier else price.usd_per_m_input
    out_p = tier.usd_per_m_output if tier else price.usd_per_m_output
    cached_p = price.usd_per_m_cached_input
    if tier is not None and tier.usd_per_m_cached_input is not None:
        cached_p = tier.usd_per_m_cached_input
    write_p = price.usd_per_m_cache_write
    in_needed = input_tokens > 0 or (cached_input_tokens > 0 and cached_p is None)
    in_needed = in_needed or (cache_write_tokens > 0 and write_p is None)
    in_usd_per_m = _need(in_p, "input", price) if in_needed else (in_p or Decimal(0))
    out_usd_per_m = _need(out_p, "output", price) if output_tokens > 0 else (out_p or Decimal(0))
    factor = Decimal(1)
    if batch:
        factor = 1 - _need(price.batch_discount, "batch", price)
    per_m = usd(TOKENS_PER_M)

    def cost(tokens: float, usd_per_m: Decimal) -> Decimal:
        return usd(tokens, "tokens") * usd_per_m * factor / per_m

    return ApiCost(
        input_usd=cost(input_tokens, in_usd_per_m),
        cached_input_usd=cost(
            cached_input_tokens, cached_p if cached_p is not None else in_usd_per_m
        ),
        cache_write_usd=cost(cache_write_tokens, write_p if write_p is not None else in_usd_per_m),
        output_usd=cost(output_tokens, out_usd_per_m),
        tier_above_input_tokens=tier.above_input_tokens if tier else None,
        batch=batch,
    )


def blended_usd_per_m(
    price: ApiPrice, input_share: float, *, prompt_tokens: int = 0, batch: bool = False
) -> Decimal:
    """$/M over a token mix: input_share x $/M input + (1 - input_share) x $/M output.

    Prices are those in force for a request of ``prompt_tokens`` (default: the base tier), not
    for a million-token prompt. Worked example W2: 50 % input at $2.50, 50 % output at $10.00
    -> $6.25/M.

    Raises:
        InputError: ``input_share`` outside [0, 1], or a needed price unpublished.
    """
    share = usd(input_share, "input_share")
    if not Decimal(0) <= share <= Decimal(1):
        raise InputError(f"input_share must be in [0, 1], got {input_share!r}.")
    # Price one request of the given prompt size with 1 input and 1 output token of each
    # share's weight, scaled to a million: the tier is chosen by the request, not the total.
    tier = None
    for t in price.context_tiers:
        if prompt_tokens > t.above_input_tokens:
            tier = t
    in_p = tier.usd_per_m_input if tier else price.usd_per_m_input
    out_p = tier.usd_per_m_output if tier else price.usd_per_m_output
    factor = 1 - _need(price.batch_discount, "batch", price) if batch else Decimal(1)
    total = Decimal(0)
    if share > 0:
        total += share * _need(in_p, "input", price)
    if share < 1:
        total += (1 - share) * _need(out_p, "output", price)
    return total * factor


def monthly_usd(usd_per_m: Decimal, tokens_per_day: float, days_per_month: int = 30) -> Decimal:
    """Monthly spend = tokens/day x days ÷ 1e6 x $/M (W2 uses a 30-day month).

    Raises:
        InputError: negative tokens/day or a non-positive month length.
    """
    if tokens_per_day < 0 or days_per_month <= 0:
        raise InputError(
            f"Need tokens_per_day >= 0 and days_per_month > 0, got {tokens_per_day!r}, "
            f"{days_per_month!r}."
        )
    return usd(tokens_per_day, "tokens_per_day") * days_per_month / usd(TOKENS_PER_M) * usd_per_m
