"""API prices in force at a time, and the cost of a group of requests under one sheet.

Which sheet prices a request made on day ``d`` (:meth:`PriceBook.sheet_at`):

1. a user price file row (``$INFERCOST_CATALOG_DIR/api_prices``) for that provider and
   model, the newest with ``as_of <= d`` (a negotiated price you pay wins outright);
2. else genai-prices, asked for the prices in force at ``d`` (it records dated price
   changes; for a model without recorded changes it has one current price);
3. else our dated history (``catalog/data/api_prices``), the newest with ``as_of <= d``,
   or the oldest when ``d`` precedes it (said in the sheet's notes).

A sheet so chosen that records no batch discount takes the batch discount, and the batch
cache discounts, of the current sheet for the model (:func:`infercost.cost.api.api_price`,
what ``infercost api-price`` shows), said in its notes: genai-prices dates its batch variants
from the day they were verified and does not model batch prices before, and the batch
discount a price sheet shows must be the one a batch re-pricing uses.

Costing a group of requests (:func:`group_cost`) follows the providers' bills: the
long-context tier is chosen by each request's whole prompt and applies to all its tokens;
cache reads are billed once, at the cached rate (the uncached prompt is input - cached -
cache-write); reasoning tokens are output tokens; ``batch`` takes the batch discount off
input and output and the sheet's batch cache discounts off cache reads and writes
(:meth:`~infercost.catalog.pricing.ApiPrice.batch_multipliers`, as
:func:`infercost.cost.api.request_usd` does: OpenAI GPT-4.1/GPT-4o/o-series batches keep the
standard cached rate); ``flex`` takes the batch discount off every token kind, cache reads
included (OpenAI's Flex prices: o3 $1/$4 with cached input $0.25, half of standard, where
its Batch table keeps $0.50; genai-prices 0.2.5, verified 2026-10-12); ``priority`` needs a
price of its own. A price the sheet lacks raises, it is never $0.
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from infercost.catalog.pricing import ApiPrice, load_api_prices
from infercost.cost.api import (
    api_price,
    api_providers,
    genai_api_price,
    list_api_prices,
    missing_price_text,
    providers_pricing,
)
from infercost.errors import InputError, UnknownNameError
from infercost.units import TOKENS_PER_M

_M = Decimal(TOKENS_PER_M)


def tier_above_tokens(context_tier: str | None) -> int | None:
    """The prompt size a reported context tier starts above (``"200k-1M"`` -> 200000),
    None for the base tier (``"0-200k"``) or no tier."""
    if not context_tier:
        return None
    low = context_tier.split("-", 1)[0].strip().lower()
    scale = 1
    if low.endswith("k"):
        low, scale = low[:-1], 1000
    elif low.endswith("m"):
        low, scale = low[:-1], 1_000_000
    try:
        value = int(float(low) * scale)
    except ValueError:
        return None
    return value or None


class PriceBook:
    """Price sheets by provider, model and day, cached; see the module docstring for the rule.

    Args:
        extra_dirs: user catalog folders (default: ``$INFERCOST_CATALOG_DIR``).
        use_genai_prices: consult genai-prices (tests turn it off for determinism).
    """

    def __init__(
        self, extra_dirs: tuple[str, ...] | None = None, *, use_genai_prices: bool = True
    ) -> None:
        self._dirs = extra_dirs
        self._genai = use_genai_prices
        self._user = load_api_prices(extra_dirs, shipped=False)
        user_keys = {p.key for p in self._user}
        self._history = tuple(p for p in load_api_prices(extra_dirs) if p.key not in user_keys)
        self._on: date | None = None

    def at_date(self, on: date) -> PriceBook:
        """A copy that answers every day with the sheets in force on ``on`` (re-pricing a
        period at another date's price sheet)."""
        other = copy.copy(self)
        other._on = on
        return other

    @staticmethod
    def _dated(sheets: tuple[ApiPrice, ...], provider: str, model: str) -> list[ApiPrice]:
        key = f"{provider}/{model}".lower()
        return sorted((s for s in sheets if s.key == key), key=lambda s: s.as_of)

    @functools.lru_cache(maxsize=65536)  # noqa: B019  (one book per report; bounded)
    def sheet_at(self, provider: str, model: str, day: date) -> ApiPrice | None:
        """The sheet in force on ``day`` for ``provider``/``model``, or None if none prices it.

        Raises:
            CatalogError: a user price file fails validation.
        """
        if self._on is not None:
            day = self._on
        sheet = self._dated_sheet(provider, model, day)
        if sheet is None or sheet.batch_discount is not None:
            return sheet
        current = self._current(provider, model)
        if current is None or current.batch_discount is None:
            return sheet
        note = (
            f"batch discount {current.batch_discount:.0%} from the current sheet "
            f"({current.source}, as of {current.as_of}); the sheet in force on {day} records "
            "none"
        )
        return sheet.model_copy(
            update={
                "batch_discount": current.batch_discount,
                "batch_cached_input_discount": current.batch_cached_input_discount,
                "batch_cache_write_discount": current.batch_cache_write_discount,
                "batch_cache_source": current.batch_cache_source,
                "notes": "; ".join(n for n in (sheet.notes, note) if n),
            }
        )

    def _dated_sheet(self, provider: str, model: str, day: date) -> ApiPrice | None:
        user = [s for s in self._dated(self._user, provider, model) if s.as_of <= day]
        if user:
            return user[-1]
        if self._genai:
            try:
                at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
                sheet = genai_api_price(model, provider, at)
            except UnknownNameError:
                sheet = None
            if sheet is not None:
                return sheet
        history = self._dated(self._history, provider, model)
        before = [s for s in history if s.as_of <= day]
        if before:
            return before[-1]
        if history:
            first = history[0]
            note = f"the request predates this sheet ({first.as_of}); it is the oldest held"
            return first.model_copy(
                update={"notes": "; ".join(n for n in (first.notes, note) if n)}
            )
        return None

    @functools.lru_cache(maxsize=4096)  # noqa: B019
    def _current(self, provider: str, model: str) -> ApiPrice | None:
        """The sheet ``infercost api-price MODEL --provider PROVIDER`` shows, or None."""
        try:
            return api_price(model, provider, extra_dirs=self._dirs, use_genai_prices=self._genai)
        except UnknownNameError:
            return None

    def check_known(self, provider: str, model: str, where: str = "") -> None:
        """Raise unless some sheet prices ``provider``/``model`` (:meth:`knows`).

        ``where`` starts the message (``--as 'model:x/y'``).

        Raises:
            UnknownNameError: an unknown provider (with the closest provider names); a
                provider without a price for the model (with the providers that price it, else
                the closest models of that provider).
        """
        if self.knows(provider, model):
            return
        head = f"{where}: " if where else ""
        files = (*self._user, *self._history)
        providers = {p.provider.lower(): p.provider for p in files}
        if self._genai:
            for name in api_providers(self._dirs):
                providers.setdefault(name.lower(), name)
        key = provider.strip().lower()
        if key not in providers and not (self._genai and self._genai_provider(key)):
            close = difflib.get_close_matches(key, sorted(providers), n=5, cutoff=0.5)
            names = [providers[c] for c in close]
            hint = (
                f"Did you mean: {', '.join(names)}?"
                if names
                else "Run `infercost api-prices` to list the providers."
            )
            err = UnknownNameError("API provider", provider, names)
            err.args = (f"{head}unknown API provider {provider!r}. {hint}",)
            raise err
        pricing = sorted(
            {p.provider for p in files if p.model.lower() == model.strip().lower()}
            | (set(providers_pricing(model, self._dirs)) if self._genai else set()),
            key=str.lower,
        )
        if pricing:
            err = UnknownNameError("API model", model, pricing)
            err.args = (
                f"{head}{provider} has no API price for {model!r}. Providers that price it: "
                f"{', '.join(pricing)} (e.g. model:{pricing[0].lower()}/{model}).",
            )
            raise err
        models = {p.model for p in files if p.provider.lower() == key}
        if self._genai:
            with contextlib.suppress(UnknownNameError):
                models |= {p.model for p in list_api_prices(provider, extra_dirs=self._dirs)}
        close = difflib.get_close_matches(model, sorted(models), n=5, cutoff=0.5)
        hint = (
            f"Did you mean: {', '.join(close)}?"
            if close
            else f"Run `infercost api-prices --provider {provider}` to list its models."
        )
        err = UnknownNameError("API model", model, close)
        err.args = (f"{head}{provider} has no API price for {model!r}. {hint}",)
        raise err

    @staticmethod
    def _genai_provider(key: str) -> bool:
        from infercost.cost.api import check_provider

        try:
            check_provider(key)
        except UnknownNameError:
            return False
        return True

    def knows(self, provider: str, model: str) -> bool:
        """Whether some sheet prices ``provider``/``model`` (at any date)."""
        return bool(
            self._dated(self._user, provider, model)
            or self._dated(self._history, provider, model)
            or (self._genai and self._genai_known(provider, model))
        )

    @functools.lru_cache(maxsize=4096)  # noqa: B019
    def _genai_known(self, provider: str, model: str) -> bool:
        try:
            return genai_api_price(model, provider) is not None
        except UnknownNameError:
            return False

    def tier_thresholds(self, pairs: list[tuple[str, str]], days: list[date]) -> list[int]:
        """Every long-context threshold (prompt tokens) of the sheets for these pairs and days."""
        out: set[int] = set()
        for provider, model in pairs:
            for day in days:
                sheet = self.sheet_at(provider, model, day)
                if sheet is not None:
                    out.update(t.above_input_tokens for t in sheet.context_tiers)
        return sorted(out)


@dataclass(frozen=True, slots=True)
class GroupCost:
    """Cost of a group of requests that share one sheet, tier and service tier, in US$.

    ``list_*`` are the same tokens at list prices: standard tier, cache reads at the
    uncached input rate (what the tokens would cost without discounts); the others are what
    is billed."""

    input_usd: Decimal
    cached_input_usd: Decimal
    cache_write_usd: Decimal
    output_usd: Decimal
    list_input_usd: Decimal
    list_cached_input_usd: Decimal
    list_cache_write_usd: Decimal
    list_output_usd: Decimal

    @property
    def usd(self) -> Decimal:
        """The billed cost: the four token kinds."""
        return self.input_usd + self.cached_input_usd + self.cache_write_usd + self.output_usd

    @property
    def list_usd(self) -> Decimal:
        """The list cost of the four token kinds."""
        return (
            self.list_input_usd
            + self.list_cached_input_usd
            + self.list_cache_write_usd
            + self.list_output_usd
        )

    def parts(self) -> dict[str, tuple[Decimal, Decimal]]:
        """(billed, list) per token kind: ``input`` (uncached), ``cached_input``,
        ``cache_write``, ``output``."""
        return {
            "input": (self.input_usd, self.list_input_usd),
            "cached_input": (self.cached_input_usd, self.list_cached_input_usd),
            "cache_write": (self.cache_write_usd, self.list_cache_write_usd),
            "output": (self.output_usd, self.list_output_usd),
        }


def _need(value: Decimal | None, what: str, sheet: ApiPrice) -> Decimal:
    if value is None:
        raise InputError(
            f"{sheet.provider} {sheet.model}: the {what} price is {missing_price_text(sheet)} "
            f"as of {sheet.as_of}; add a row with it under $INFERCOST_CATALOG_DIR/api_prices/."
        )
    return value


def group_cost(
    sheet: ApiPrice,
    *,
    tier_prompt_tokens: int,
    uncached_input_tokens: int,
    cached_input_tokens: int,
    cache_write_tokens: int,
    output_tokens: int,
    service_tier: str = "standard",
) -> GroupCost:
    """Cost of requests whose prompts all fall in the tier that a prompt of
    ``tier_prompt_tokens`` selects (a tier applies when the prompt exceeds its threshold).

    Token counts are sums over the group (cost is linear within a tier).

    Raises:
        InputError: a needed price the sheet lacks (named, with where to add it); a service
            tier without a price (``priority``) or an unknown one.
    """
    tier, in_p, out_p, cached_p, write_p = sheet.prices_for_prompt(tier_prompt_tokens)
    needs_in = uncached_input_tokens > 0 or (cached_input_tokens > 0 and cached_p is None)
    needs_in = needs_in or (cache_write_tokens > 0 and write_p is None)
    in_rate = _need(in_p, "input", sheet) if needs_in else (in_p or Decimal(0))
    out_rate = _need(out_p, "output", sheet) if output_tokens > 0 else (out_p or Decimal(0))
    factor = cached_factor = write_factor = Decimal(1)
    if service_tier in ("batch", "flex"):
        factor = 1 - _need(sheet.batch_discount, f"{service_tier} (batch discount)", sheet)
        cached_factor = write_factor = factor
        multipliers = sheet.batch_multipliers(tier)
        if service_tier == "batch" and multipliers is not None:
            factor, cached_factor, write_factor = multipliers
    elif service_tier == "standard":
        pass
    elif service_tier == "priority":
        raise InputError(
            f"{sheet.provider} {sheet.model}: no priority-tier price in the price data; add a "
            f"sheet with the priority prices under $INFERCOST_CATALOG_DIR/api_prices/ (model "
            f"name '{sheet.model}')."
        )
    else:
        raise InputError(
            f"service tier {service_tier!r} is unknown; use standard, batch, flex or priority."
        )
    # tokens without a cache price bill as input, at the input's multiplier
    cached_rate, cached_factor = (
        (cached_p, cached_factor) if cached_p is not None else (in_rate, factor)
    )
    write_rate, write_factor = (
        (write_p, write_factor) if write_p is not None else (in_rate, factor)
    )

    def cost(tokens: int, rate: Decimal, multiplier: Decimal) -> Decimal:
        return Decimal(tokens) * rate * multiplier / _M

    return GroupCost(
        input_usd=cost(uncached_input_tokens, in_rate, factor),
        cached_input_usd=cost(cached_input_tokens, cached_rate, cached_factor),
        cache_write_usd=cost(cache_write_tokens, write_rate, write_factor),
        output_usd=cost(output_tokens, out_rate, factor),
        list_input_usd=Decimal(uncached_input_tokens) * in_rate / _M,
        list_cached_input_usd=Decimal(cached_input_tokens) * in_rate / _M,
        list_cache_write_usd=Decimal(cache_write_tokens) * write_rate / _M,
        list_output_usd=Decimal(output_tokens) * out_rate / _M,
    )
