"""The canonical request record of the usage ledger, and the reasons a row is quarantined.

One row is one request (or, for aggregated exports, one bucket of ``requests`` requests).
Token counts follow one convention whatever the source (each reader converts explicitly):

- ``input_tokens``: the whole prompt, cache reads and cache writes included (OpenAI's
  ``prompt_tokens`` convention; Anthropic's ``input_tokens`` excludes them and is converted);
- ``cached_input_tokens``: prompt tokens read from the provider's prompt cache;
- ``cache_write_tokens``: prompt tokens written to the prompt cache;
- ``output_tokens``: every generated token, reasoning included (OpenAI's convention);
- ``reasoning_tokens``: the part of ``output_tokens`` spent on hidden reasoning.

So the uncached prompt is ``input - cached - cache_write`` and the invariants are
``cached + cache_write <= input`` and ``reasoning <= output``.
"""

from __future__ import annotations

from typing import Final

import pyarrow as pa

SELF_HOSTED: Final = "self-hosted"
"""The ``provider`` of traffic served on our own GPUs (priced by GPU-second share)."""

DIMENSIONS: Final = ("team", "app", "user", "api_key", "model", "provider", "service_tier")
"""Columns a report can group by; ``tag:NAME`` groups by one free-form tag as well."""

TOKEN_COLUMNS: Final = (
    "input_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "output_tokens",
    "reasoning_tokens",
)

REQUEST_FIELDS: Final[tuple[tuple[str, pa.DataType], ...]] = (
    ("row_key", pa.string()),
    ("ts", pa.timestamp("us")),  # UTC, stored without a zone
    ("provider", pa.string()),
    ("model", pa.string()),
    ("requests", pa.int64()),
    ("input_tokens", pa.int64()),
    ("cached_input_tokens", pa.int64()),
    ("cache_write_tokens", pa.int64()),
    ("output_tokens", pa.int64()),
    ("reasoning_tokens", pa.int64()),
    ("service_tier", pa.string()),
    ("context_tier", pa.string()),
    ("latency_s", pa.float64()),
    ("status", pa.string()),
    ("team", pa.string()),
    ("app", pa.string()),
    ("user", pa.string()),
    ("api_key", pa.string()),
    ("tags", pa.string()),
    ("deployment", pa.string()),
    ("price_usd", pa.string()),
    ("reported_usd", pa.string()),
    ("source_format", pa.string()),
    ("source_file", pa.string()),
    ("source_line", pa.int64()),
)
"""Column name and Arrow type of the canonical record, in table order.

``price_usd`` is an explicit price given by the source (the generic layout's ``price_usd``),
used instead of a price sheet; ``reported_usd`` is what the source itself computed (LiteLLM's
``spend``), kept for comparison and never used for pricing. Both are decimal strings."""

REQUEST_SCHEMA: Final = pa.schema(list(REQUEST_FIELDS))

PARSE_SCHEMA: Final = pa.schema([*REQUEST_FIELDS, ("reason", pa.string()), ("raw", pa.string())])
"""A parsed batch before validation: the record plus a parse-time reason and the raw text."""

QUARANTINE_FIELDS: Final[tuple[tuple[str, pa.DataType], ...]] = (
    ("row_key", pa.string()),
    ("source_format", pa.string()),
    ("source_file", pa.string()),
    ("source_line", pa.int64()),
    ("reason", pa.string()),
    ("raw", pa.string()),
)

SERVICE_TIERS: Final = ("standard", "batch", "flex", "priority")
"""Canonical service tiers. ``flex`` is billed at the batch rates (OpenAI prices Flex
processing at Batch API rates); ``priority`` needs a priority price in a user price file."""


def canonical_service_tier(value: object, batch: object = None) -> str:
    """Map a source's service tier (``default``, ``auto``, ``standard_only``, ``batch``, ...)
    and batch flag to one of :data:`SERVICE_TIERS`; an unknown spelling is kept lower-cased."""
    if batch is True or (isinstance(batch, str) and batch.lower() == "true"):
        return "batch"
    if value is None or value == "":
        return "standard"
    text = str(value).strip().lower()
    if text in ("default", "auto", "standard", "standard_only", "on_demand", "on-demand"):
        return "standard"
    return text
