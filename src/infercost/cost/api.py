"""LLM API prices: one :class:`~infercost.catalog.pricing.ApiPrice` from three sources.

Sources:

- the user's price files (``<INFERCOST_CATALOG_DIR>/api_prices/*.csv``: negotiated prices);
- the ``genai-prices`` package (maintained, offline, per-provider sheets with cached-input,
  cache-write, long-context tiers and batch variants);
- our dated history from articles (``infercost/catalog/data/api_prices``).

Rule of :func:`choose_api_price` (and :func:`api_price`): a user file wins outright (it is a
price you pay). Otherwise the newest dated sheet among genai-prices and our history wins,
comparing ``as_of``; on the same date genai-prices is preferred (maintained, carries cache and
batch prices). The choice comes with its reason in words, which ``infercost api-price`` prints.
A few models are named differently by genai-prices (:data:`GENAI_MODEL_NAMES`: our
``deepseek-v3`` is DeepSeek's API model ``deepseek-chat``). When prices vary by time of day
(DeepSeek's off-peak discount), the highest, peak, prices are quoted and the others noted.

A model that none of them prices, or a provider that none of them knows, raises
:class:`~infercost.errors.UnknownNameError` (with the providers that do price the model); a
token kind whose price is not in the price data (for example the input price of a row that
printed only the output price) raises :class:`~infercost.errors.InputError`. Nothing is ever
priced at $0 by default.

Costs: tokens x $/M ÷ 1e6 per token kind; the long-context tier is chosen by the request's
whole prompt (uncached + cached + cache-write tokens) and applies to all its tokens, as the
providers and ``genai-prices`` bill it.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib.metadata import version
from typing import Any

from infercost.catalog.pricing import (
    CATALOG_DIR_ENV,
    ApiPrice,
    ContextTier,
    latest_api_prices,
    load_api_prices,
)
from infercost.cost.money import usd
from infercost.domains import MAX_TOKENS_PER_REQUEST
from infercost.errors import InputError, UnknownNameError
from infercost.units import TOKENS_PER_M

_BATCH_CONTEXT: Mapping[str, str] = {"processing": "batch"}

GENAI_MODEL_NAMES: Mapping[str, str] = {
    # DeepSeek's API serves V3 as "deepseek-chat"; genai-prices describes that model as
    # DeepSeek-V3 and does not match the name "deepseek-v3".
    "deepseek-v3": "deepseek-chat",
}
"""Our model name -> genai-prices' model id, where genai-prices does not match our name."""


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


def _peak_time(model: Any, at: datetime) -> tuple[datetime, str]:
    """``at``, or for time-of-day prices the time on ``at``'s day when the highest prices are
    in force, with a note naming the other prices (empty when prices do not vary by hour)."""
    windows = [
        c.constraint
        for c in (model.prices if isinstance(model.prices, list) else [])
        if hasattr(c.constraint, "start_time") and hasattr(c.constraint, "end_time")
    ]
    if not windows:
        return at, ""
    day = at.astimezone(UTC)
    times = [
        day.replace(hour=t.hour, minute=t.minute, second=0, microsecond=0)
        for w in windows
        for t in (w.start_time, w.end_time)
    ]

    def rank(when: datetime) -> tuple[Decimal, Decimal]:
        p = model.get_prices(when)
        return _price_at(p.output_mtok, None) or Decimal(0), _price_at(
            p.input_mtok, None
        ) or Decimal(0)

    peak = max(times, key=rank)
    others = sorted({rank(t) for t in times} - {rank(peak)})
    if not others:
        return at, ""
    window = next((w for w in windows if w.active(peak)), None)
    hours = (
        f", in force {window.start_time:%H:%M}-{window.end_time:%H:%M} UTC"
        if window is not None
        else ""
    )
    note = f"time-of-day prices: the day's highest{hours}, are quoted; " + "; ".join(
        f"${i}/M input, ${o}/M output at other hours" for o, i in others
    )
    return peak, note


def from_genai_model(provider: Any, model: Any, at: datetime) -> ApiPrice:
    """Our :class:`ApiPrice` for a genai-prices ``Provider`` and ``ModelInfo`` at time ``at``.

    Standard prices in force at ``at`` (for time-of-day prices, the highest on ``at``'s day,
    with the others in ``notes``); the batch discount from the ``processing=batch`` variant
    (1 - batch output ÷ output), and its cache-read and cache-write discounts from the same
    variant's cache prices (one that lists none keeps the standard cache price: 0 off);
    long-context tiers from ``TieredPrices``; ``as_of`` the start
    of the conditional price in force, else :func:`genai_prices_as_of`.
    """
    at, time_note = _peak_time(model, at)
    std = model.get_prices(at)
    batch = model.get_prices(at, _BATCH_CONTEXT)
    input_p = _price_at(std.input_mtok, None)
    output_p = _price_at(std.output_mtok, None)
    batch_discount: Decimal | None = None
    b_out = _price_at(batch.output_mtok, None)
    if output_p and b_out is not None and b_out < output_p:
        batch_discount = 1 - b_out / output_p
    batch_cache = _batch_cache_terms(model, at, std, batch) if batch_discount is not None else {}
    tiers = tuple(
        ContextTier(
            above_input_tokens=start,
            usd_per_m_input=_price_at(std.input_mtok, start) or Decimal(0),
            usd_per_m_output=_price_at(std.output_mtok, start) or Decimal(0),
            usd_per_m_cached_input=_price_at(std.cache_read_mtok, start),
            usd_per_m_cache_write=_price_at(std.cache_write_mtok, start),
            batch_cached_input_discount=(
                _off(
                    _price_at(std.cache_read_mtok, start), _price_at(batch.cache_read_mtok, start)
                )
                if batch_discount is not None
                else None
            ),
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
        **batch_cache,
        context_tiers=tiers,
        as_of=as_of,
        source=f"{genai_prices_label()}" + (f" ({urls[0]})" if urls else ""),
        notes="; ".join(n for n in (model.price_comments or "", time_note) if n),
    )


def _off(standard: Decimal | None, batch: Decimal | None) -> Decimal | None:
    """The fraction ``batch`` takes off ``standard`` (None unless both exist, 0 < standard,
    batch <= standard)."""
    if standard is None or batch is None or standard <= 0 or batch > standard:
        return None
    return 1 - batch / standard


def _batch_cache_terms(model: Any, at: datetime, std: Any, batch: Any) -> dict[str, Any]:
    """The batch cache-read and cache-write discounts of a genai-prices model at ``at``, read
    from its ``processing=batch`` prices (a batch variant that lists no cache price leaves the
    standard one, as genai-prices bills it: a discount of 0), with their source and date.
    Empty where the model has no cache prices (the sheet's rules then fill them)."""
    out: dict[str, Any] = {}
    cached = _off(_price_at(std.cache_read_mtok, None), _price_at(batch.cache_read_mtok, None))
    write = _off(_price_at(std.cache_write_mtok, None), _price_at(batch.cache_write_mtok, None))
    if cached is not None:
        out["batch_cached_input_discount"] = cached
    if write is not None:
        out["batch_cache_write_discount"] = write
    if out:
        starts = [
            v.constraint.start_date
            for v in model.price_variants or []
            if v.when == dict(_BATCH_CONTEXT)
            and isinstance(getattr(v.constraint, "start_date", None), date)
            and v.constraint.start_date <= at.date()
        ]
        dated = f", in force from {max(starts).isoformat()}" if starts else ""
        out["batch_cache_source"] = (
            f"{genai_prices_label()}: the model's processing=batch prices{dated}"
        )
    return out


def genai_prices_label() -> str:
    """``genai-prices <installed version>``, how outputs name that source."""
    return f"genai-prices {version('genai-prices')}"


def _genai_provider_id(provider: str) -> str | None:
    """genai-prices' id of a provider named by its id or name (any case), else None."""
    key = provider.strip().lower()
    for prov in _genai_snapshot().providers:
        if key in (prov.id.lower(), prov.name.lower()):
            return str(prov.id)
    return None


def _genai_find(model: str, provider: str | None) -> tuple[Any, Any, str] | None:
    """(provider, model info, the name that matched) in genai-prices, or None."""
    provider_id = None
    if provider is not None:
        provider_id = _genai_provider_id(provider)
        if provider_id is None:
            return None
    snapshot = _genai_snapshot()
    names = [model]
    alias = GENAI_MODEL_NAMES.get(model.strip().lower())
    if alias is not None:
        names.append(alias)
    for name in names:
        try:
            prov, info = snapshot.find_provider_model(name, None, provider_id, None)
        except LookupError:
            continue
        return prov, info, name
    return None


def genai_api_price(
    model: str, provider: str | None = None, at: datetime | None = None
) -> ApiPrice | None:
    """The genai-prices sheet for ``model`` (optionally at ``provider``), or None if unknown.

    ``model`` may be our name for a model genai-prices names otherwise
    (:data:`GENAI_MODEL_NAMES`); the sheet then carries genai-prices' model id and says so in
    its notes."""
    found = _genai_find(model, provider)
    if found is None:
        return None
    prov, info, name = found
    sheet = from_genai_model(prov, info, at or datetime.now(UTC))
    if name != model:
        note = f"genai-prices lists {model!r} as {info.id!r}"
        sheet = sheet.model_copy(update={"notes": "; ".join(n for n in (note, sheet.notes) if n)})
    return sheet


def _genai_model_ids() -> list[str]:
    return [m.id for p in _genai_snapshot().providers for m in p.models]


def api_providers(extra_dirs: Iterable[str] | None = None) -> list[str]:
    """Every provider with API prices: our history and user files, then genai-prices' ids
    (one spelling per provider, case-insensitive), sorted."""
    dirs = tuple(extra_dirs) if extra_dirs is not None else None
    names: dict[str, str] = {}
    for p in load_api_prices(dirs):
        names.setdefault(p.provider.lower(), p.provider)
    for prov in _genai_snapshot().providers:
        if prov.name.lower() not in names:
            names.setdefault(prov.id.lower(), prov.id)
    return sorted(names.values(), key=str.lower)


def providers_pricing(model: str, extra_dirs: Iterable[str] | None = None) -> list[str]:
    """The providers that price ``model``: in our history and user files, or in genai-prices."""
    dirs = tuple(extra_dirs) if extra_dirs is not None else None
    names: dict[str, str] = {}
    for p in load_api_prices(dirs):
        if p.model.lower() == model.strip().lower():
            names.setdefault(p.provider.lower(), p.provider)
    for prov in _genai_snapshot().providers:
        if prov.name.lower() in names or prov.id.lower() in names:
            continue
        if _genai_find(model, prov.id) is not None:
            names[prov.id.lower()] = prov.id
    return sorted(names.values(), key=str.lower)


def _is_known_provider(provider: str, dirs: tuple[str, ...] | None) -> bool:
    key = provider.strip().lower()
    in_files = any(p.provider.lower() == key for p in load_api_prices(dirs))
    return in_files or _genai_provider_id(provider) is not None


def _unknown_provider(provider: str, message: str, candidates: list[str]) -> UnknownNameError:
    err = UnknownNameError("API provider", provider, candidates)
    err.args = (message,)
    return err


def check_provider(
    provider: str, model: str | None = None, *, extra_dirs: Iterable[str] | None = None
) -> None:
    """Raise unless some source knows ``provider`` (case-insensitive id or name).

    Raises:
        UnknownNameError: an unknown provider; the message lists the providers that price
            ``model`` (when given and priced somewhere), else every provider.
    """
    dirs = tuple(extra_dirs) if extra_dirs is not None else None
    if _is_known_provider(provider, dirs):
        return
    pricing = providers_pricing(model, dirs) if model else []
    if pricing:
        raise _unknown_provider(
            provider,
            f"Unknown API provider {provider!r}. Providers that price {model!r}: "
            f"{', '.join(pricing)}; pass one of them as the provider (--provider; "
            "--api-provider in calc and plan), or leave the provider out.",
            pricing,
        )
    known = api_providers(dirs)
    raise _unknown_provider(
        provider,
        f"Unknown API provider {provider!r}. Providers with API prices: {', '.join(known)}.",
        difflib.get_close_matches(provider.lower(), [k.lower() for k in known], n=5),
    )


# --------------------------------------------------------------------------------------------
# Lookup


def _matches(price: ApiPrice, model: str, provider: str | None) -> bool:
    if price.model.lower() != model.lower():
        return False
    return provider is None or price.provider.lower() == provider.lower()


def _newest(prices: Iterable[ApiPrice], model: str, provider: str | None) -> ApiPrice | None:
    found = [p for p in prices if _matches(p, model, provider)]
    return max(found, key=lambda p: p.as_of) if found else None


@dataclass(frozen=True, slots=True)
class PriceChoice:
    """The sheet :func:`choose_api_price` chose, why, and every sheet it compared.

    Attributes:
        price: the chosen sheet.
        reason: the rule that chose it, in words ("newest dated sheet: ...").
        considered: the sheets compared, the chosen one first.
    """

    price: ApiPrice
    reason: str
    considered: tuple[ApiPrice, ...]


def _label(price: ApiPrice) -> str:
    """A sheet's source in a few words: ``genai-prices 0.2.3`` or ``our history (...)``."""
    if price.source.startswith("genai-prices"):
        return price.source.split(" (", 1)[0]
    return f"our history ({price.source})"


def choose_api_price(
    model: str,
    provider: str | None = None,
    *,
    extra_dirs: Iterable[str] | None = None,
    use_genai_prices: bool = True,
) -> PriceChoice:
    """The price sheet for ``model`` and why: a user file, else the newest dated sheet among
    genai-prices and our history (same date: genai-prices). ``PROVIDER/MODEL`` without a
    ``provider`` also names a sheet (the spelling ``usage reprice`` takes and suggestions
    print), tried after the name as given (a router such as openrouter prices ids with a
    slash).

    Raises:
        UnknownNameError: an unknown ``provider`` (lists the providers that price the model),
            a provider that does not price the model, or a model no source prices (carries
            the closest model names).
        CatalogError: a price file fails validation.
    """
    try:
        return _choose_api_price(
            model, provider, extra_dirs=extra_dirs, use_genai_prices=use_genai_prices
        )
    except UnknownNameError:
        head, _, tail = model.partition("/")
        if provider is not None or not tail:
            raise
        with contextlib.suppress(UnknownNameError):
            return _choose_api_price(
                tail, head, extra_dirs=extra_dirs, use_genai_prices=use_genai_prices
            )
        raise


def _choose_api_price(
    model: str,
    provider: str | None = None,
    *,
    extra_dirs: Iterable[str] | None = None,
    use_genai_prices: bool = True,
) -> PriceChoice:
    """:func:`choose_api_price` for ``model`` exactly as given."""
    dirs = tuple(extra_dirs) if extra_dirs is not None else None
    if provider is not None:
        check_provider(provider, model, extra_dirs=dirs)
    user = _newest(load_api_prices(dirs, shipped=False), model, provider)
    if user is not None:
        return PriceChoice(
            user,
            f"your price file ({CATALOG_DIR_ENV}/api_prices) overrides every other source",
            (user,),
        )
    genai = genai_api_price(model, provider) if use_genai_prices else None
    history = _newest(load_api_prices(dirs), model, provider)
    if genai is not None and history is not None:
        chosen, other = (genai, history) if genai.as_of >= history.as_of else (history, genai)
        if genai.as_of == history.as_of:
            reason = (
                f"{_label(genai)} and {_label(history)} are both dated {genai.as_of}; "
                "genai-prices is preferred (maintained, with cache and batch prices)"
            )
        else:
            reason = (
                f"newest dated sheet: {_label(chosen)} as of {chosen.as_of} is newer than "
                f"{_label(other)} as of {other.as_of}"
            )
        return PriceChoice(chosen, reason, (chosen, other))
    if genai is not None or history is not None:
        only = genai or history
        assert only is not None
        missing = "our history" if genai is not None else genai_prices_label()
        skipped = "" if use_genai_prices or genai is not None else " (genai-prices not used)"
        return PriceChoice(
            only,
            f"only {_label(only)} prices it; {missing} has no sheet for it{skipped}",
            (only,),
        )
    if provider is not None:
        pricing = providers_pricing(model, dirs)
        if pricing:
            raise _provider_lacks(provider, model, pricing)
    names = sorted({p.model for p in load_api_prices(dirs)} | set(_genai_model_ids()))
    raise UnknownNameError("api-price", model, difflib.get_close_matches(model, names, n=5))


def _provider_lacks(provider: str, model: str, pricing: list[str]) -> UnknownNameError:
    err = UnknownNameError("api-price", model, pricing)
    err.args = (
        f"{provider} has no API price for {model!r} in any source. Providers that price it: "
        f"{', '.join(pricing)}; pass one of them as the provider (--provider; "
        "--api-provider in calc and plan), or leave the provider out.",
    )
    return err


def api_price(
    model: str,
    provider: str | None = None,
    *,
    extra_dirs: Iterable[str] | None = None,
    use_genai_prices: bool = True,
) -> ApiPrice:
    """The price sheet for ``model`` by the rule of :func:`choose_api_price`.

    Raises:
        UnknownNameError: an unknown provider, or no source prices the model.
        CatalogError: a price file fails validation.
    """
    return choose_api_price(
        model, provider, extra_dirs=extra_dirs, use_genai_prices=use_genai_prices
    ).price


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
    given, every model genai-prices prices at that provider (for a model in both, the newer
    sheet; same date: genai-prices; a user file always); sorted by provider and model.

    Raises:
        UnknownNameError: a ``provider`` no source knows; the message lists the providers.
    """
    dirs = tuple(extra_dirs) if extra_dirs is not None else None
    if provider is not None:
        check_provider(provider, extra_dirs=dirs)
    sheets = {
        k: v
        for k, v in latest_api_prices(load_api_prices(dirs)).items()
        if provider is None or v.provider.lower() == provider.lower()
    }
    user_keys = {p.key for p in load_api_prices(dirs, shipped=False)}
    provider_id = _genai_provider_id(provider) if provider is not None else None
    if provider_id is not None:
        prov = _genai_snapshot().find_provider(None, provider_id, None)
        now = datetime.now(UTC)
        for info in prov.models:
            sheet = from_genai_model(prov, info, now)
            held = sheets.get(sheet.key)
            if held is None or (held.key not in user_keys and sheet.as_of >= held.as_of):
                sheets[sheet.key] = sheet
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


def missing_price_text(price: ApiPrice) -> str:
    """What outputs say for a price the sheet lacks: ``not in the price data (<source>)``.

    The source lacks the figure; that does not mean the provider does not publish one."""
    source = _label(price) if price.source.startswith("genai-prices") else price.source
    return f"not in the price data ({source})"


def _need(value: Decimal | None, what: str, price: ApiPrice) -> Decimal:
    if value is None:
        raise InputError(
            f"{price.provider} {price.model}: the {what} price is {missing_price_text(price)}, "
            f"as of {price.as_of}; it is not assumed to be $0. Add a row with that price to a "
            f"file under ${CATALOG_DIR_ENV}/api_prices/."
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
    the whole prompt. ``batch`` takes the published batch discount off the input and output
    prices and the sheet's batch cache discounts off the cached-input and cache-write prices
    (:meth:`~infercost.catalog.pricing.ApiPrice.batch_multipliers`: Anthropic halves cache
    reads and writes too; OpenAI GPT-4.1, GPT-4o and the o-series keep the standard cached
    rate, GPT-5 and later halve it); tokens billed at the input price for want of a cache
    price take the input's discount.

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
        if count > MAX_TOKENS_PER_REQUEST:
            raise InputError(
                f"{name} must be at most {MAX_TOKENS_PER_REQUEST:,} tokens for one request (no "
                f"model has a context beyond 10^8 tokens), got {count:,}."
            )
    prompt = input_tokens + cached_input_tokens + cache_write_tokens
    tier, in_p, out_p, cached_p, write_p = price.prices_for_prompt(prompt)
    in_needed = input_tokens > 0 or (cached_input_tokens > 0 and cached_p is None)
    in_needed = in_needed or (cache_write_tokens > 0 and write_p is None)
    in_usd_per_m = _need(in_p, "input", price) if in_needed else (in_p or Decimal(0))
    out_usd_per_m = _need(out_p, "output", price) if output_tokens > 0 else (out_p or Decimal(0))
    factor = cached_factor = write_factor = Decimal(1)
    if batch:
        _need(price.batch_discount, "batch", price)
        multipliers = price.batch_multipliers(tier)
        assert multipliers is not None  # a batch discount was checked just above
        factor, cached_factor, write_factor = multipliers
    per_m = usd(TOKENS_PER_M)

    def cost(tokens: float, usd_per_m: Decimal, multiplier: Decimal) -> Decimal:
        return usd(tokens, "tokens") * usd_per_m * multiplier / per_m

    return ApiCost(
        input_usd=cost(input_tokens, in_usd_per_m, factor),
        cached_input_usd=(
            cost(cached_input_tokens, cached_p, cached_factor)
            if cached_p is not None
            else cost(cached_input_tokens, in_usd_per_m, factor)
        ),
        cache_write_usd=(
            cost(cache_write_tokens, write_p, write_factor)
            if write_p is not None
            else cost(cache_write_tokens, in_usd_per_m, factor)
        ),
        output_usd=cost(output_tokens, out_usd_per_m, factor),
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
    _, in_p, out_p, _, _ = price.prices_for_prompt(prompt_tokens)
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
