"""Readers of each usage source: records in a file -> canonical fields (see :mod:`.schema`).

Every reader yields :class:`Record` (a line or record ordinal, the raw text and the parsed
object or a parse error); every converter maps one parsed object to a dict of canonical
fields or raises :class:`RowError` with the reason. The rule each source follows, and why,
is in docs/usage.md; in short:

- **openai** (Chat Completions, Responses, streamed final chunk): ``prompt_tokens`` /
  ``input_tokens`` already include ``cached_tokens``, and ``completion_tokens`` /
  ``output_tokens`` already include ``reasoning_tokens``: copied as they are.
  Stream chunks with ``"usage": null`` are fragments of the request their final chunk
  records. An organisation Usage API export (``organization.usage.completions.result``
  buckets) gives one row per bucket result with ``requests = num_model_requests``.
- **anthropic** (Messages ``usage``, Claude Code transcripts, Admin usage report):
  ``input_tokens`` excludes cache reads and writes, so input = input_tokens +
  cache_read_input_tokens + cache_creation_input_tokens. Thinking tokens are inside
  ``output_tokens`` and not reported apart. The usage report's ``uncached_input_tokens`` is
  converted the same way, its ``context_window`` becomes the context tier.
- **litellm** (spend logs, CSV or JSON): LiteLLM reports OpenAI-style ``prompt_tokens``
  (cache included); cache and reasoning details come from ``metadata.usage_object``.
  ``spend`` is kept as ``reported_usd``, never used as the price.
- **otel** (OTLP/JSON GenAI spans): ``gen_ai.usage.input_tokens`` (deprecated
  ``gen_ai.usage.prompt_tokens``) includes cached tokens as the semantic conventions say;
  ``gen_ai.usage.cache_read.input_tokens`` / ``cache_creation.input_tokens`` are parts of it.
- **vllm** (self-hosted): OpenAI-compatible response bodies logged by a vLLM/SGLang server,
  or SGLang ``meta_info`` request records; provider ``self-hosted``.
- **langfuse** (trace downloads ``{"trace", "observations"}``, public-API traces with their
  ``observations``, ``{"data": [observations]}`` pages): one row per GENERATION or EMBEDDING
  observation. Langfuse stores usage types as disjoint parts (its ingestion subtracts cached
  and reasoning tokens from ``input``/``output``), so the prompt is the sum of the types
  whose name contains ``input`` and the output the sum of those containing ``output``;
  other types (``prompt_details.*``, ``completion_details.*``) are told inside or beside
  by ``total``. Spans, events, agents, tools are not requests: skipped and counted.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from infercost.usage.schema import SELF_HOSTED, canonical_service_tier

Fields = dict[str, Any]

FORMATS = ("openai", "anthropic", "litellm", "otel", "vllm", "langfuse", "generic")

ATTRIBUTION_KEYS = ("team", "app", "user", "api_key")


class RowError(ValueError):
    """A record that cannot become a canonical row; ``str(err)`` is the quarantine reason."""


class NotRequest(Exception):
    """A record that is not a request (a Langfuse span, event, tool or agent observation):
    neither a row nor quarantined; ingest counts it as skipped."""


@dataclass(frozen=True, slots=True)
class Record:
    """One record of a source file: where it is, its text, and its parsed object or error."""

    line: int
    raw: str
    obj: Any
    error: str | None = None


# --------------------------------------------------------------------------------------------
# small typed accessors


def dig(obj: Any, *path: str) -> Any:
    """``obj[path[0]][path[1]]...`` or None where a step is missing or not an object."""
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def count(value: Any, name: str) -> int | None:
    """A token count as int (None when absent); a non-integer, or one beyond 64 bits, raises
    :class:`RowError`."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise RowError(f"{name} is {value!r}, not a whole number of tokens")
    number: int | None = None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        with contextlib.suppress(ValueError):
            number = int(value.strip())
    if number is None:
        raise RowError(f"{name} is {value!r}, not a whole number of tokens")
    if not -(2**63) <= number < 2**63:
        raise RowError(f"{name} is {value!r}, too large a number of tokens")
    return number


EARLIEST = datetime(2015, 1, 1)
"""Rows timed before this (UTC) are quarantined: no LLM API billed tokens then, and a time
this early is a unit or clock error (seconds read as ms, a zero or a small number)."""

AHEAD = timedelta(days=1)
"""Rows timed more than this after the time of ingest are quarantined (a day allows for
clocks and time zones written wrongly as UTC; more is a unit or clock error)."""

_EPOCH = datetime(1970, 1, 1)


def epoch_micros(number: Decimal) -> int:
    """Microseconds since 1970 of a Unix time given in seconds, ms, µs or ns, told apart by
    its size (the plausible range of each unit lies between these bounds): above 1e17 ns,
    above 1e14 µs, above 1e11 ms, else seconds; exact, a fraction of a µs dropped (floor)."""
    if number > 100_000_000_000_000_000:
        micros = number / 1000
    elif number > 100_000_000_000_000:
        micros = number
    elif number > 100_000_000_000:
        micros = number * 1000
    else:
        micros = number * 1_000_000
    return int(micros.to_integral_value(rounding=ROUND_FLOOR))


def timestamp(value: Any, name: str = "timestamp", *, nanoseconds: bool = False) -> datetime:
    """A naive UTC datetime from a Unix time (seconds, or ms/µs/ns by magnitude: see
    :func:`epoch_micros`; always nanoseconds with ``nanoseconds``, as OTLP's
    ``*TimeUnixNano`` fields are; exact, never through a float) or ISO 8601 (a string without
    an offset is read as UTC). Whether the time is plausible (:data:`EARLIEST`,
    :data:`AHEAD`) is checked at ingest, for every format alike.

    Raises:
        RowError: missing, unparseable, or beyond what any unit makes a time.
    """
    if value is None or value == "":
        raise RowError(f"no {name}; every row needs a time to be priced at")
    if isinstance(value, bool):
        raise RowError(f"{name} {value!r} is not a time")
    number: Decimal
    if isinstance(value, str):
        text = value.strip()
        try:
            number = Decimal(text)
        except InvalidOperation:
            try:
                parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise RowError(f"{name} {value!r} is not ISO 8601 or Unix seconds") from None
            if parsed.tzinfo is not None:
                parsed = parsed.astimezone(UTC).replace(tzinfo=None)
            return parsed
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))  # the shortest text of the float, as JSON wrote it
    else:
        raise RowError(f"{name} {value!r} is not a time")
    out_of_range = RowError(f"{name} {value!r} is out of range: not a plausible request time")
    if not number.is_finite() or number.adjusted() >= 20:  # 1e20 and more: no unit fits
        raise out_of_range
    try:
        if nanoseconds:
            micros = int((number / 1000).to_integral_value(rounding=ROUND_FLOOR))
        else:
            micros = epoch_micros(number)
        return _EPOCH + timedelta(microseconds=micros)
    except OverflowError:
        raise out_of_range from None


def epoch_int_sql(x: str) -> str:
    """SQL: :func:`epoch_sql` for a BIGINT ``x`` (integer arithmetic: cheaper, as exact)."""
    micros = (
        f"CASE WHEN {x} > 100000000000000000 THEN {x} // 1000 "
        f"WHEN {x} > 100000000000000 THEN {x} "
        f"WHEN {x} > 100000000000 THEN {x} * 1000 ELSE {x} * 1000000 END"
    )
    return f"CASE WHEN {x} > -100000000000 THEN make_timestamp({micros}) END"


def epoch_sql(x: str) -> str:
    """SQL: the TIMESTAMP of ``x``, a ``DECIMAL(30, 9)`` Unix time in seconds, ms, µs or ns
    read as :func:`epoch_micros` reads it (exact: decimal arithmetic, no DOUBLE); NULL when
    ``x`` is NULL or beyond what any unit makes a time."""
    micros = (
        f"CASE WHEN {x} > 100000000000000000 THEN floor({x} * CAST(0.001 AS DECIMAL(4, 3))) "
        f"WHEN {x} > 100000000000000 THEN floor({x}) "
        f"WHEN {x} > 100000000000 THEN floor({x} * CAST(1000 AS DECIMAL(4, 0))) "
        f"ELSE floor({x} * CAST(1000000 AS DECIMAL(7, 0))) END"
    )
    return (
        f"CASE WHEN {x} > -100000000000 AND {x} < 100000000000000000000 "
        f"THEN make_timestamp(CAST({micros} AS BIGINT)) END"
    )


def decimal_text(value: Any, name: str) -> str | None:
    """A money amount as a decimal string (None when absent).

    Raises:
        RowError: not a finite number.
    """
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise RowError(f"{name} {value!r} is not a number") from None
    if not amount.is_finite():
        raise RowError(f"{name} {value!r} is not a finite number")
    return str(amount)


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def attribution(*sources: Any) -> Fields:
    """team/app/user/api_key and the remaining string ``metadata`` as tags (JSON text).

    Each source (the record, its wrapper, their ``metadata``) is read in order; the first
    value found for a key wins. Keys other than the four go to ``tags``."""
    out: Fields = dict.fromkeys(ATTRIBUTION_KEYS)
    tags: dict[str, str] = {}
    for src in sources:
        if not isinstance(src, Mapping):
            continue
        for key in ATTRIBUTION_KEYS:
            if out[key] is None and src.get(key) not in (None, ""):
                out[key] = str(src[key])
        meta = src.get("metadata")
        if isinstance(meta, Mapping):
            for key, value in meta.items():
                if key in ATTRIBUTION_KEYS:
                    if out[key] is None and value not in (None, ""):
                        out[key] = str(value)
                elif isinstance(value, str | int | float) and not isinstance(value, bool):
                    tags.setdefault(str(key), str(value))
        extra = src.get("tags")
        if isinstance(extra, Mapping):
            for key, value in extra.items():
                tags.setdefault(str(key), str(value))
        elif isinstance(extra, list):
            for value in extra:
                tags.setdefault(str(value), "true")
    out["tags"] = json.dumps(tags, sort_keys=True) if tags else None
    return out


# --------------------------------------------------------------------------------------------
# readers


def jsonl_records(path: Path) -> Iterator[Record]:
    """One record per non-blank line; a line that is not JSON carries its parse error."""
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            text = line.decode("utf-8", errors="replace").strip()
            if not text:
                continue
            try:
                yield Record(number, text, json.loads(text))
            except json.JSONDecodeError as err:
                yield Record(number, text, None, f"not JSON ({err.msg} at column {err.colno})")


def csv_records(path: Path) -> Iterator[Record]:
    """One record per CSV data row (header first); JSON-looking cells are parsed."""
    with path.open(newline="", encoding="utf-8", errors="replace") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            return
        for row in reader:
            number = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            raw = ",".join(row)
            if len(row) != len(header):
                reason = f"wrong number of columns ({len(row)}, header has {len(header)})"
                yield Record(number, raw, None, reason)
                continue
            obj: dict[str, Any] = {}
            for key, cell in zip(header, row, strict=True):
                value: Any = cell if cell != "" else None
                if cell[:1] in "{[":
                    try:
                        value = json.loads(cell)
                    except json.JSONDecodeError:
                        value = cell
                obj[key.strip()] = value
            yield Record(number, raw, obj)


def json_document(path: Path) -> Any:
    """A whole-file JSON document, or None when the file is JSON Lines or not JSON."""
    with path.open("rb") as fh:
        data = fh.read()
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


# --------------------------------------------------------------------------------------------
# OpenAI


def is_stream_fragment(obj: Any) -> bool:
    """A streamed chunk without usage (not the final chunk of a stream with include_usage)."""
    return (
        isinstance(obj, Mapping)
        and obj.get("object") == "chat.completion.chunk"
        and obj.get("usage") is None
    )


def _body(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    for key in ("response", "body", "message"):
        inner = obj.get(key)
        if isinstance(inner, Mapping) and "usage" in inner:
            return inner
    return obj


def openai_fields(obj: Any, provider: str = "openai") -> Fields:
    """Canonical fields of an OpenAI Chat Completions / Responses body (or final chunk),
    bare or wrapped as ``{"response": body, "timestamp"?, "metadata"?, team...}``."""
    if not isinstance(obj, Mapping):
        raise RowError("not a JSON object")
    body = _body(obj)
    usage = body.get("usage")
    if not isinstance(usage, Mapping):
        what = "an error response" if "error" in body else "a record without usage"
        raise RowError(f"no usage object ({what}); nothing to price")
    if "prompt_tokens" in usage or "completion_tokens" in usage:
        inp = count(usage.get("prompt_tokens"), "usage.prompt_tokens")
        out = count(usage.get("completion_tokens"), "usage.completion_tokens")
        in_det, out_det = (
            usage.get("prompt_tokens_details"),
            usage.get("completion_tokens_details"),
        )
    else:
        inp = count(usage.get("input_tokens"), "usage.input_tokens")
        out = count(usage.get("output_tokens"), "usage.output_tokens")
        in_det, out_det = usage.get("input_tokens_details"), usage.get("output_tokens_details")
    if inp is None or out is None:
        raise RowError("usage lacks prompt/input or completion/output tokens")
    cached = count(dig(in_det, "cached_tokens"), "cached_tokens") or 0
    write = count(dig(in_det, "cache_write_tokens"), "cache_write_tokens")
    if write is None:
        write = count(usage.get("cache_write_tokens"), "cache_write_tokens") or 0
    reasoning = count(dig(out_det, "reasoning_tokens"), "reasoning_tokens") or 0
    when = obj.get("timestamp") or body.get("created") or body.get("created_at")
    model = body.get("model") or obj.get("model")
    if not model:
        raise RowError("no model")
    return {
        "row_key": _text(body.get("id")),
        "ts": timestamp(when, "created"),
        "provider": str(obj.get("provider") or provider),
        "model": str(model),
        "requests": 1,
        "input_tokens": inp,
        "cached_input_tokens": cached,
        "cache_write_tokens": write,
        "output_tokens": out,
        "reasoning_tokens": reasoning,
        "service_tier": canonical_service_tier(body.get("service_tier"), obj.get("batch")),
        "latency_s": _float(obj.get("latency_s")),
        "status": str(body.get("status") or obj.get("status") or "ok"),
        **attribution(obj, body if body is not obj else None),
    }


def openai_usage_export(doc: Any) -> Iterator[Record] | None:
    """Records of an OpenAI organisation Usage API export (a page, or a list of pages), or
    None when ``doc`` is not one."""
    pages = doc if isinstance(doc, list) else [doc]
    if not pages or not all(isinstance(p, Mapping) and p.get("object") == "page" for p in pages):
        return None

    buckets = [b for page in pages for b in page.get("data") or []]
    return bucket_results(buckets, "start_time", "_start_time")


def bucket_results(buckets: list[Any], start_key: str, stamp_key: str) -> Iterator[Record]:
    """The ``results`` of usage-report time buckets (OpenAI organisation usage, Anthropic
    usage report), one record each, numbered in order, carrying their bucket's start time as
    ``stamp_key`` (a result that is not an object is kept under ``_bad`` for quarantine)."""
    ordinal = 0
    for bucket in buckets:
        for result in dig(bucket, "results") or []:
            ordinal += 1
            merged = dict(result) if isinstance(result, Mapping) else {"_bad": result}
            merged[stamp_key] = dig(bucket, start_key)
            yield Record(ordinal, json.dumps(merged, sort_keys=True), merged)


def openai_usage_result_fields(obj: Mapping[str, Any]) -> Fields:
    """One ``organization.usage.completions.result``: ``input_tokens`` includes
    ``input_cached_tokens``; the bucket's start is the row's time."""
    inp = count(obj.get("input_tokens"), "input_tokens")
    out = count(obj.get("output_tokens"), "output_tokens")
    if inp is None or out is None:
        raise RowError("usage result lacks input_tokens or output_tokens")
    model = obj.get("model")
    if not model:
        raise RowError("usage result without model (export grouped by model: group_by=model)")
    return {
        "row_key": None,
        "ts": timestamp(obj.get("_start_time"), "bucket start_time"),
        "provider": "openai",
        "model": str(model),
        "requests": count(obj.get("num_model_requests"), "num_model_requests") or 0,
        "input_tokens": inp,
        "cached_input_tokens": count(obj.get("input_cached_tokens"), "input_cached_tokens") or 0,
        "cache_write_tokens": 0,
        "output_tokens": out,
        "reasoning_tokens": 0,
        "service_tier": canonical_service_tier(obj.get("service_tier"), obj.get("batch")),
        "status": "ok",
        "team": _text(obj.get("project_id")),
        "app": None,
        "user": _text(obj.get("user_id")),
        "api_key": _text(obj.get("api_key_id")),
        "tags": None,
    }


# --------------------------------------------------------------------------------------------
# Anthropic


def anthropic_fields(obj: Any) -> Fields:
    """A Messages body (bare, wrapped in ``response``/``message`` as Claude Code transcripts
    do); input = input_tokens + cache_read_input_tokens + cache_creation_input_tokens."""
    if not isinstance(obj, Mapping):
        raise RowError("not a JSON object")
    body = _body(obj)
    usage = body.get("usage")
    if not isinstance(usage, Mapping):
        what = "an error response" if "error" in body else "a record without usage"
        raise RowError(f"no usage object ({what}); nothing to price")
    uncached = count(usage.get("input_tokens"), "usage.input_tokens")
    out = count(usage.get("output_tokens"), "usage.output_tokens")
    if uncached is None or out is None:
        raise RowError("usage lacks input_tokens or output_tokens")
    read = count(usage.get("cache_read_input_tokens"), "cache_read_input_tokens") or 0
    write = count(usage.get("cache_creation_input_tokens"), "cache_creation_input_tokens")
    if write is None:
        parts = usage.get("cache_creation")
        write = 0
        if isinstance(parts, Mapping):
            for key, value in parts.items():
                write += count(value, f"cache_creation.{key}") or 0
    model = body.get("model") or obj.get("model")
    if not model:
        raise RowError("no model")
    when = obj.get("timestamp") or obj.get("created_at") or body.get("created_at")
    for name, value in (("input_tokens", uncached), ("cache_read", read), ("cache_write", write)):
        if value < 0:
            raise RowError(f"usage {name} is negative ({value})")
    return {
        "row_key": _text(body.get("id")),
        "ts": timestamp(when, "timestamp"),
        "provider": "anthropic",
        "model": str(model),
        "requests": 1,
        "input_tokens": uncached + read + write,
        "cached_input_tokens": read,
        "cache_write_tokens": write,
        "output_tokens": out,
        "reasoning_tokens": 0,
        "service_tier": canonical_service_tier(usage.get("service_tier"), obj.get("batch")),
        "latency_s": _float(obj.get("latency_s")),
        "status": str(obj.get("status") or "ok"),
        **attribution(obj, body if body is not obj else None),
    }


def anthropic_usage_report(doc: Any) -> Iterator[Record] | None:
    """Records of an Anthropic Admin API messages usage report, or None if not one."""
    if not (isinstance(doc, Mapping) and isinstance(doc.get("data"), list)):
        return None
    buckets = doc["data"]
    if not all(isinstance(b, Mapping) and "starting_at" in b for b in buckets):
        return None

    return bucket_results(buckets, "starting_at", "_starting_at")


def anthropic_report_fields(obj: Mapping[str, Any]) -> Fields:
    """One usage-report result: input = uncached + cache reads + cache creation (1h + 5m)."""
    uncached = count(obj.get("uncached_input_tokens"), "uncached_input_tokens")
    out = count(obj.get("output_tokens"), "output_tokens")
    if uncached is None or out is None:
        raise RowError("usage result lacks uncached_input_tokens or output_tokens")
    read = count(obj.get("cache_read_input_tokens"), "cache_read_input_tokens") or 0
    write = 0
    parts = obj.get("cache_creation")
    if isinstance(parts, Mapping):
        for key, value in parts.items():
            write += count(value, f"cache_creation.{key}") or 0
    model = obj.get("model")
    if not model:
        raise RowError("usage result without model (request the report grouped by model)")
    return {
        "row_key": None,
        "ts": timestamp(obj.get("_starting_at"), "bucket starting_at"),
        "provider": "anthropic",
        "model": str(model),
        "requests": 0,
        "input_tokens": uncached + read + write,
        "cached_input_tokens": read,
        "cache_write_tokens": write,
        "output_tokens": out,
        "reasoning_tokens": 0,
        "service_tier": canonical_service_tier(obj.get("service_tier")),
        "context_tier": _text(obj.get("context_window")),
        "status": "ok",
        "team": _text(obj.get("workspace_id")),
        "app": None,
        "user": None,
        "api_key": _text(obj.get("api_key_id")),
        "tags": None,
    }


# --------------------------------------------------------------------------------------------
# LiteLLM


def _json_field(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return None
    return value


def litellm_fields(obj: Any) -> Fields:
    """A LiteLLM spend-log row (``LiteLLM_SpendLogs``): OpenAI-style prompt/completion tokens;
    cache and reasoning from ``metadata.usage_object``; ``spend`` kept as reported_usd."""
    if not isinstance(obj, Mapping):
        raise RowError("not a JSON object")
    meta = _json_field(obj.get("metadata"))
    meta = meta if isinstance(meta, Mapping) else {}
    found = meta.get("usage_object")
    usage: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    inp = count(obj.get("prompt_tokens"), "prompt_tokens")
    out = count(obj.get("completion_tokens"), "completion_tokens")
    if inp is None or out is None:
        raise RowError("spend log row lacks prompt_tokens or completion_tokens")
    cached = count(dig(usage, "prompt_tokens_details", "cached_tokens"), "cached_tokens")
    if cached is None:
        cached = count(usage.get("cache_read_input_tokens"), "cache_read_input_tokens") or 0
    write = count(usage.get("cache_creation_input_tokens"), "cache_creation_input_tokens") or 0
    reasoning = count(
        dig(usage, "completion_tokens_details", "reasoning_tokens"), "reasoning_tokens"
    )
    model = obj.get("model") or obj.get("model_group")
    if not model:
        raise RowError("no model")
    provider = _text(obj.get("custom_llm_provider")) or "unknown"
    model_text = str(model)
    if "/" in model_text and model_text.split("/", 1)[0].lower() == provider.lower():
        model_text = model_text.split("/", 1)[1]
    if provider.lower() in ("hosted_vllm", "vllm", "openai_compatible_self_hosted", "sglang"):
        provider = SELF_HOSTED
    tags = _json_field(obj.get("request_tags"))
    start = timestamp(obj.get("startTime") or obj.get("start_time"), "startTime")
    end_raw = obj.get("endTime") or obj.get("end_time")
    latency = None
    if end_raw:
        latency = (timestamp(end_raw, "endTime") - start).total_seconds()
    status = str(obj.get("status") or "success")
    return {
        "row_key": _text(obj.get("request_id")),
        "ts": start,
        "provider": provider,
        "model": model_text,
        "requests": 1,
        "input_tokens": inp,
        "cached_input_tokens": cached,
        "cache_write_tokens": write,
        "output_tokens": out,
        "reasoning_tokens": reasoning or 0,
        "service_tier": "standard",
        "latency_s": latency,
        "status": "ok" if status == "success" else status,
        "team": _text(meta.get("user_api_key_team_alias") or obj.get("team_id")),
        "app": _text(meta.get("app") or obj.get("app")),
        "user": _text(obj.get("end_user") or obj.get("user")),
        "api_key": _text(meta.get("user_api_key_alias") or obj.get("api_key")),
        "tags": json.dumps({str(t): "true" for t in tags}, sort_keys=True)
        if isinstance(tags, list) and tags
        else None,
        "deployment": model_text if provider == SELF_HOSTED else None,
        "reported_usd": decimal_text(obj.get("spend"), "spend"),
    }


def litellm_document(doc: Any) -> Iterator[Record] | None:
    """Records of a LiteLLM spend-log JSON array (``/spend/logs`` answer), or None."""
    if not (isinstance(doc, list) and doc and all(isinstance(r, Mapping) for r in doc)):
        return None
    if not any("spend" in r or "request_id" in r for r in doc):
        return None
    return (Record(i, json.dumps(r, sort_keys=True), r) for i, r in enumerate(doc, start=1))


# --------------------------------------------------------------------------------------------
# OpenTelemetry


def _otlp_value(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return None
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in value:
            return value[key]
    if "intValue" in value:
        return int(value["intValue"])
    if "arrayValue" in value:
        return [_otlp_value(v) for v in dig(value, "arrayValue", "values") or []]
    return None


def _otlp_attrs(items: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items or []:
        if isinstance(item, Mapping) and "key" in item:
            out[str(item["key"])] = _otlp_value(item.get("value"))
    return out


def otlp_spans(doc: Any) -> Iterator[Record] | None:
    """GenAI spans of an OTLP/JSON trace export (spans with ``gen_ai.*`` usage attributes;
    other spans are not usage records and are not read), or None if ``doc`` is not OTLP."""
    if not (isinstance(doc, Mapping) and isinstance(doc.get("resourceSpans"), list)):
        return None

    def walk() -> Iterator[Record]:
        ordinal = 0
        for rs in doc["resourceSpans"]:
            resource = _otlp_attrs(dig(rs, "resource", "attributes"))
            for ss in dig(rs, "scopeSpans") or []:
                for span in dig(ss, "spans") or []:
                    attrs = _otlp_attrs(dig(span, "attributes"))
                    if not any(k.startswith("gen_ai.usage.") for k in attrs):
                        continue
                    ordinal += 1
                    flat = {
                        "resource": resource,
                        "attributes": attrs,
                        "spanId": dig(span, "spanId"),
                        "traceId": dig(span, "traceId"),
                        "start": dig(span, "startTimeUnixNano"),
                        "end": dig(span, "endTimeUnixNano"),
                        "status": dig(span, "status", "code"),
                    }
                    yield Record(ordinal, json.dumps(flat, sort_keys=True, default=str), flat)

    return walk()


_OTEL_INPUT = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
_OTEL_OUTPUT = ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
_OTEL_CACHE_READ = (
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_read_input_tokens",
    "gen_ai.usage.input_tokens.cached",
)
_OTEL_CACHE_WRITE = (
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.cache_creation_input_tokens",
    "gen_ai.usage.input_tokens.cache_write",
)
_OTEL_REASONING = (
    "gen_ai.usage.reasoning.output_tokens",
    "gen_ai.usage.output_tokens.reasoning",
    "gen_ai.usage.reasoning_tokens",
)


def _first(attrs: Mapping[str, Any], names: tuple[str, ...]) -> int | None:
    for name in names:
        if name in attrs:
            return count(attrs[name], name)
    return None


def otel_fields(obj: Mapping[str, Any]) -> Fields:
    """One GenAI span: input_tokens (or the deprecated prompt_tokens) includes cache reads
    and writes; when the parts exceed it, as instrumentations that copy Anthropic's field do,
    the parts are added to it. Attribution from ``team``/``app``/``user``/``api_key``
    attributes (span, then resource), ``enduser.id`` and ``service.name``."""
    if not isinstance(obj, Mapping) or not isinstance(obj.get("attributes"), Mapping):
        raise RowError("not an OpenTelemetry GenAI span (no attributes object)")
    attrs: Mapping[str, Any] = obj["attributes"]
    resource: Mapping[str, Any] = obj.get("resource") or {}
    inp = _first(attrs, _OTEL_INPUT)
    out = _first(attrs, _OTEL_OUTPUT)
    if inp is None or out is None:
        raise RowError("span lacks gen_ai.usage.input_tokens or output_tokens")
    read = _first(attrs, _OTEL_CACHE_READ) or 0
    write = _first(attrs, _OTEL_CACHE_WRITE) or 0
    if read + write > inp:
        inp += read + write
    model = attrs.get("gen_ai.response.model") or attrs.get("gen_ai.request.model")
    if not model:
        raise RowError("span lacks gen_ai.response.model and gen_ai.request.model")
    provider = attrs.get("gen_ai.provider.name") or attrs.get("gen_ai.system") or "unknown"
    start = timestamp(obj.get("start"), "startTimeUnixNano", nanoseconds=True)
    latency = None
    if obj.get("end"):
        end = timestamp(obj["end"], "endTimeUnixNano", nanoseconds=True)
        latency = (end - start).total_seconds()
    merged = {**dict(resource.items()), **attrs}
    people = {k: merged.get(k) or merged.get(f"app.{k}") for k in ATTRIBUTION_KEYS}
    people["user"] = people["user"] or merged.get("enduser.id")
    people["app"] = people["app"] or merged.get("service.name")
    return {
        "row_key": _text(attrs.get("gen_ai.response.id"))
        or (f"otel:{obj.get('traceId')}:{obj.get('spanId')}" if obj.get("spanId") else None),
        "ts": start,
        "provider": str(provider).lower(),
        "model": str(model),
        "requests": 1,
        "input_tokens": inp,
        "cached_input_tokens": read,
        "cache_write_tokens": write,
        "output_tokens": out,
        "reasoning_tokens": _first(attrs, _OTEL_REASONING) or 0,
        "service_tier": canonical_service_tier(attrs.get("openai.response.service_tier")),
        "latency_s": latency,
        "status": "error" if obj.get("status") == 2 else "ok",
        "team": _text(people["team"]),
        "app": _text(people["app"]),
        "user": _text(people["user"]),
        "api_key": _text(people["api_key"]),
        "tags": None,
    }


# --------------------------------------------------------------------------------------------
# Langfuse trace exports

LANGFUSE_REQUEST_TYPES = ("GENERATION", "EMBEDDING")
"""Observation types that are model calls (Langfuse tracks usage and cost on these)."""

_LF_DROP = ("input", "output", "metadata")
"""Observation fields left out of the quarantined text (prompts and completions)."""


def _json_object(value: Any) -> Mapping[str, Any]:
    """A mapping, or the object a JSON text holds (Langfuse exports metadata as text)."""
    if isinstance(value, str) and value[:1] == "{":
        with contextlib.suppress(json.JSONDecodeError):
            value = json.loads(value)
    return value if isinstance(value, Mapping) else {}


def langfuse_observations(doc: Any) -> Iterator[Record] | None:
    """The observations of a Langfuse export, each with its trace, or None if ``doc`` is not
    one: a trace download ``{"trace": {...}, "observations": [...]}``, a public-API trace
    (``GET /api/public/traces/{id}``: the trace with ``observations`` inside), an
    observations page ``{"data": [...], "meta": {...}}`` or one observation (a line of
    JSON Lines). Records are numbered by their place in the document."""
    if not isinstance(doc, Mapping):
        return None
    trace: Mapping[str, Any] = {}
    observations: Any = None
    if isinstance(doc.get("observations"), list):
        observations = doc["observations"]
        trace = doc["trace"] if isinstance(doc.get("trace"), Mapping) else doc
    elif (
        isinstance(doc.get("data"), list)
        and doc["data"]
        and all(
            isinstance(o, Mapping) and "usageDetails" in o and "type" in o for o in doc["data"]
        )
    ):
        observations = doc["data"]
    elif "usageDetails" in doc and "type" in doc and "traceId" in doc:
        observations = [doc]
    if observations is None:
        return None

    def walk() -> Iterator[Record]:
        for ordinal, obs in enumerate(observations, start=1):
            if not isinstance(obs, Mapping):
                yield Record(ordinal, json.dumps(obs, default=str), None,
                             "observation is not a JSON object")  # fmt: skip
                continue
            lean = {k: v for k, v in obs.items() if k not in _LF_DROP}
            yield Record(ordinal, json.dumps(lean, sort_keys=True, default=str),
                         {"observation": obs, "trace": trace})  # fmt: skip

    return walk()


# model-name families whose provider the name settles (Langfuse records no provider)
_LF_FAMILIES = (
    (("gpt-", "o1", "o3", "o4", "chatgpt-", "text-embedding-", "davinci", "babbage"), "openai"),
    (("claude",), "anthropic"),
    (("gemini", "gemma"), "google"),
    (("mistral", "mixtral", "codestral", "magistral", "ministral", "pixtral"), "mistral"),
    (("command",), "cohere"),
    (("grok",), "xai"),
    (("deepseek",), "deepseek"),
)
_LF_PROVIDER_KEYS = ("gen_ai.provider.name", "gen_ai.system", "ai.model.provider")


def _langfuse_provider(model: str, meta: Mapping[str, Any]) -> str:
    name = model.lower()
    for prefixes, provider in _LF_FAMILIES:
        if name.startswith(prefixes):
            return provider
    attrs = _json_object(meta.get("attributes"))
    for key in _LF_PROVIDER_KEYS:
        value = attrs.get(key) or meta.get(key)
        if isinstance(value, str) and value:
            return value.split(".")[0].lower()
    return "unknown"


def _lf_usage(obs: Mapping[str, Any]) -> dict[str, int]:
    """The observation's usage types as counts: ``usageDetails``, else the deprecated
    ``usage`` object, else ``promptTokens``/``completionTokens``/``totalTokens``."""
    raw: Mapping[str, Any] = {}
    where = "usageDetails"
    if isinstance(obs.get("usageDetails"), Mapping) and obs["usageDetails"]:
        raw = obs["usageDetails"]
    elif isinstance(obs.get("usage"), Mapping) and any(
        obs["usage"].get(k) is not None for k in ("input", "output", "total")
    ):
        where = "usage"
        raw = {k: obs["usage"].get(k) for k in ("input", "output", "total")}
    else:
        where = ""
        raw = {
            "input": obs.get("promptTokens"),
            "output": obs.get("completionTokens"),
            "total": obs.get("totalTokens"),
        }
    out: dict[str, int] = {}
    for key, value in raw.items():
        number = count(value, f"{where}.{key}" if where else str(key))
        if number is None:
            continue
        if number < 0:
            name = f"{where}.{key}" if where else str(key)
            raise RowError(f"{name} is {number}, a negative number of tokens")
        out[str(key)] = number
    if not where and not any(out.get(k) for k in ("input", "output", "total")):
        out = {}
    return out


def _is_cache_read(key: str) -> bool:
    return "cache_read" in key or "cached" in key


def _is_cache_write(key: str) -> bool:
    return "cache_creation" in key or "cache_write" in key


def langfuse_fields(obj: Mapping[str, Any]) -> Fields:
    """One Langfuse observation (with its trace) -> canonical fields.

    Langfuse's usage types are disjoint parts whose sum is ``total`` (its ingestion subtracts
    ``input_cached_tokens``, ``input_cache_read``, ``input_cache_creation*`` from ``input``
    and ``output_reasoning_tokens`` from ``output``; its UI sums every type whose name
    contains ``input``, likewise ``output``). So input = the sum of the ``*input*`` types
    and output = the sum of the ``*output*`` types, cache reads/writes and reasoning being
    the parts so named. Types named neither (``prompt_details.cache_read``,
    ``completion_details.reasoning``: Langfuse's OpenTelemetry mapping) are details inside
    input/output when ``total == input + output``, and added to them when ``total`` counts
    them too; a total that fits neither reading is quarantined.

    Raises:
        NotRequest: a span, event, tool, agent or other non-model observation.
        RowError: no usage, no model, a negative or non-integer count, a bad time, or a
            ``total`` that contradicts the types.
    """
    obs: Mapping[str, Any] = obj["observation"]
    trace: Mapping[str, Any] = obj["trace"]
    kind = str(obs.get("type") or "").upper()
    if kind not in LANGFUSE_REQUEST_TYPES:
        raise NotRequest(kind or "untyped")
    usage = _lf_usage(obs)
    if not usage:
        raise RowError(f"{kind.lower()} {obs.get('id')} has no usage (usageDetails empty)")
    inp = out = read = write = reasoning = 0
    other: dict[str, int] = {}
    for key, value in usage.items():
        low = key.lower()
        if low == "total":
            continue
        if "input" in low:
            inp += value
            read += value if _is_cache_read(low) else 0
            write += value if _is_cache_write(low) else 0
        elif "output" in low:
            out += value
            reasoning += value if "reasoning" in low else 0
        else:
            other[low] = value
    if other:
        total = usage.get("total")
        extra = sum(other.values())
        o_read = sum(v for k, v in other.items() if _is_cache_read(k))
        o_write = sum(v for k, v in other.items() if _is_cache_write(k))
        o_reason = sum(v for k, v in other.items() if "reasoning" in k)
        if total is None or total == inp + out or extra == 0:  # details inside input/output
            read, write, reasoning = read + o_read, write + o_write, reasoning + o_reason
        elif total == inp + out + extra:  # parts beside input/output
            prompt = sum(v for k, v in other.items() if k.startswith("prompt") or "cache" in k)
            completion = sum(
                v for k, v in other.items() if k.startswith("completion") or "reasoning" in k
            )
            if prompt + completion != extra:
                names = sorted(
                    k for k in other if not (k.startswith(("prompt", "completion"))
                                             or "cache" in k or "reasoning" in k)
                )  # fmt: skip
                raise RowError(
                    f"usage types {', '.join(names)} are counted in total but are neither "
                    "input nor output tokens"
                )
            inp, out = inp + prompt, out + completion
            read, write, reasoning = read + o_read, write + o_write, reasoning + o_reason
        else:
            raise RowError(
                f"usageDetails total {total} is neither input + output ({inp + out}) nor "
                f"that plus the other usage types ({inp + out + extra}): cannot tell which "
                "tokens were billed"
            )
    elif "total" in usage and usage["total"] != inp + out:
        raise RowError(
            f"usageDetails total {usage['total']} is not input + output ({inp + out}): "
            f"{usage['total'] - inp - out} tokens of no usage type (unreported reasoning?)"
        )
    model = obs.get("model") or obs.get("providedModelName")
    if not model:
        raise RowError(f"{kind.lower()} {obs.get('id')} has no model")
    meta = _json_object(obs.get("metadata"))
    start = timestamp(obs.get("startTime"), "startTime")
    latency = None
    if obs.get("endTime"):
        latency = (timestamp(obs["endTime"], "endTime") - start).total_seconds()
    params = _json_object(obs.get("modelParameters"))
    trace_meta = _json_object(trace.get("metadata"))
    people: Fields = dict.fromkeys(ATTRIBUTION_KEYS)
    for source in (meta, _json_object(meta.get("attributes")), trace_meta):
        for key in ATTRIBUTION_KEYS:
            if people[key] is None:
                people[key] = _text(source.get(key)) if isinstance(source.get(key), str) else None
    people["user"] = _text(trace.get("userId")) or people["user"]
    tags: dict[str, str] = {}
    for tag in trace.get("tags") or []:
        if isinstance(tag, str) and tag:
            tags.setdefault(tag, "true")
    if trace.get("sessionId"):
        tags["session_id"] = str(trace["sessionId"])
    cost = _json_object(obs.get("costDetails")).get("total")
    if cost is None:
        cost = obs.get("calculatedTotalCost") or obs.get("totalCost")
    trace_id = obs.get("traceId") or trace.get("id")
    return {
        "row_key": f"langfuse:{trace_id}:{obs['id']}" if obs.get("id") else None,
        "ts": start,
        "provider": _langfuse_provider(str(model), meta),
        "model": str(model),
        "requests": 1,
        "input_tokens": inp,
        "cached_input_tokens": read,
        "cache_write_tokens": write,
        "output_tokens": out,
        "reasoning_tokens": reasoning,
        "service_tier": canonical_service_tier(params.get("service_tier")),
        "latency_s": latency,
        "status": "error" if str(obs.get("level") or "").upper() == "ERROR" else "ok",
        **people,
        "tags": json.dumps(tags, sort_keys=True) if tags else None,
        "reported_usd": decimal_text(cost, "costDetails.total"),
    }


# --------------------------------------------------------------------------------------------
# vLLM / SGLang (self-hosted)


def vllm_fields(obj: Any) -> Fields:
    """A self-hosted request: an OpenAI-compatible body logged by vLLM/SGLang (cached tokens
    inside prompt_tokens as in OpenAI), or an SGLang ``meta_info`` record (``prompt_tokens``
    includes ``cached_tokens``; ``e2e_latency`` in seconds)."""
    if not isinstance(obj, Mapping):
        raise RowError("not a JSON object")
    meta = obj.get("meta_info")
    if isinstance(meta, Mapping):
        inp = count(meta.get("prompt_tokens"), "meta_info.prompt_tokens")
        out = count(meta.get("completion_tokens"), "meta_info.completion_tokens")
        if inp is None or out is None:
            raise RowError("meta_info lacks prompt_tokens or completion_tokens")
        model = obj.get("model") or meta.get("model")
        if not model:
            raise RowError("no model (add the served model name to each record)")
        fields: Fields = {
            "row_key": _text(meta.get("id")),
            "ts": timestamp(obj.get("timestamp") or obj.get("created"), "timestamp"),
            "provider": SELF_HOSTED,
            "model": str(model),
            "requests": 1,
            "input_tokens": inp,
            "cached_input_tokens": count(meta.get("cached_tokens"), "cached_tokens") or 0,
            "cache_write_tokens": 0,
            "output_tokens": out,
            "reasoning_tokens": 0,
            "service_tier": "standard",
            "latency_s": _float(meta.get("e2e_latency")),
            "status": "ok",
            **attribution(obj),
        }
    else:
        fields = openai_fields(obj, provider=SELF_HOSTED)
        fields["provider"] = SELF_HOSTED
    fields["deployment"] = _text(obj.get("deployment")) or fields["model"]
    return fields


def _float(value: Any) -> float | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise RowError(f"latency {value!r} is not a number") from None


# --------------------------------------------------------------------------------------------
# format detection

Converter = Callable[[Any], Fields]


def sniff(obj: Any) -> str | None:
    """The format a parsed JSON record looks like, or None."""
    if not isinstance(obj, Mapping):
        return None
    if obj.get("object") == "page":
        return "openai"
    if "resourceSpans" in obj:
        return "otel"
    if langfuse_observations(obj) is not None:
        return "langfuse"
    if isinstance(obj.get("data"), list) and all(
        isinstance(b, Mapping) and "starting_at" in b for b in obj["data"]
    ):
        return "anthropic"
    body = _body(obj)
    if "meta_info" in obj or "deployment" in obj:
        return "vllm"
    if "request_id" in obj and ("spend" in obj or "prompt_tokens" in obj):
        return "litellm"
    usage = body.get("usage")
    if isinstance(usage, Mapping):
        if "cache_read_input_tokens" in usage or "cache_creation_input_tokens" in usage:
            return "anthropic"
        if body.get("type") == "message" or str(body.get("id", "")).startswith("msg_"):
            return "anthropic"
        return "openai"
    if is_stream_fragment(obj) or "error" in obj:
        return "openai"
    return None


def sniff_text(head: str) -> str | None:
    """The format of a file from its first characters, where that settles it."""
    stripped = head.lstrip()
    if stripped.startswith("{") and '"resourceSpans"' in stripped[:2000]:
        return "otel"
    return None


def read_head(path: Path, size: int = 65536) -> str:
    """The first ``size`` bytes of a file as text."""
    with path.open("rb") as fh:
        return io.TextIOWrapper(
            io.BytesIO(fh.read(size)), encoding="utf-8", errors="replace"
        ).read()


# --------------------------------------------------------------------------------------------
# columnar conversion of JSON Lines records (DuckDB SQL)
#
# The common records of the openai, anthropic and vllm formats are converted many rows at a
# time by DuckDB SQL that applies the rules of the converters above. Each line is read with
# ``from_json`` into a struct of VARCHAR leaves. DuckDB reads leniently (a number, boolean or
# object read into a VARCHAR leaf becomes its JSON text, a string its value), so each rule
# only accepts a value whose type it can tell: a count must be the decimal text of an integer
# (which Python's ``count`` reads alike from a number or a numeric string), a text field must
# not look like the JSON text of a non-string, a time must be a positive whole number of
# s/ms/µs or a strict ISO 8601 string. A record that some rule cannot settle (an unusual
# type, a stream chunk, an error body, a container, a line that is not JSON) is marked
# ``_fast = false`` and goes to the Python converter above, so the fields, and for a broken
# record the quarantine reason, are the same either way (tests/usage/test_usage_columnar.py
# compares both on every fixture and on generated records). Attribution whose ``metadata``
# holds other keys than team/app/user/api_key, or with ``tags``, is computed by
# :func:`attribution_of`, once per distinct value.

COLUMNAR_FORMATS = ("openai", "anthropic", "vllm")
"""Formats whose JSON Lines files are converted by :func:`jsonl_select`."""

_V = "VARCHAR"
_J = "JSON"
_ATTR_LEAVES: dict[str, Any] = {"team": _V, "app": _V, "user": _V, "api_key": _V,
                                "metadata": _J, "tags": _J}  # fmt: skip
_OPENAI_USAGE: dict[str, Any] = {
    "prompt_tokens": _V, "completion_tokens": _V, "input_tokens": _V, "output_tokens": _V,
    "cache_write_tokens": _V,
    "prompt_tokens_details": {"cached_tokens": _V, "cache_write_tokens": _V},
    "input_tokens_details": {"cached_tokens": _V, "cache_write_tokens": _V},
    "completion_tokens_details": {"reasoning_tokens": _V},
    "output_tokens_details": {"reasoning_tokens": _V},
}  # fmt: skip
_OPENAI_BODY: dict[str, Any] = {"id": _V, "created": _V, "created_at": _V, "model": _V,
                                "service_tier": _V, "status": _V, "usage": _OPENAI_USAGE,
                                **_ATTR_LEAVES}  # fmt: skip
_ANTHROPIC_USAGE: dict[str, Any] = {
    "input_tokens": _V, "output_tokens": _V, "cache_read_input_tokens": _V,
    "cache_creation_input_tokens": _V, "cache_creation": _J, "service_tier": _V,
}  # fmt: skip
_ANTHROPIC_BODY: dict[str, Any] = {"id": _V, "created": _V, "created_at": _V, "model": _V,
                                   "service_tier": _V, "status": _V,
                                   "usage": _ANTHROPIC_USAGE, **_ATTR_LEAVES}  # fmt: skip
_WRAPPERS = ("response", "body", "message")  # in the order :func:`_body` tries them
_TOP: dict[str, Any] = {"object": _V, "timestamp": _V, "provider": _V, "batch": _V,
                        "latency_s": _V, "status": _V, "deployment": _V}  # fmt: skip
_META_INFO: dict[str, Any] = {"id": _V, "prompt_tokens": _V, "completion_tokens": _V,
                              "cached_tokens": _V, "e2e_latency": _V, "model": _V}  # fmt: skip
_META_STRUCT = json.dumps(dict.fromkeys(ATTRIBUTION_KEYS, _V), separators=(",", ":"))

_NON_TEXT = r"(?s)-?(?:[0-9][0-9.eE+-]*|Infinity)|NaN|true|false|[\[{].*"
"""What DuckDB's VARCHAR reading of a JSON number, boolean, array or object looks like."""

_ISO = (
    r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}[T ](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(?:\.[0-9]{1,6})?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?"
)
"""ISO 8601 times that DuckDB and ``datetime.fromisoformat`` read alike."""

_TIER_STANDARD = "['default', 'auto', 'standard', 'standard_only', 'on_demand', 'on-demand']"


def _q_is_text(x: str) -> str:
    """SQL: ``x`` is NULL or was a JSON string (the regex runs only on values starting with
    a character the JSON text of a number, boolean, array or object starts with)."""
    return (
        f"CASE WHEN {x} IS NULL THEN true WHEN list_contains({_NON_TEXT_FIRST}, ascii({x})) "
        f"THEN NOT regexp_full_match({x}, '{_NON_TEXT}') ELSE true END"
    )


_NON_TEXT_FIRST = "[45, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 73, 78, 116, 102, 91, 123]"
# (lists, not IN (...): DuckDB plans an IN of five or more constants as a join)


def _q_int_ok(x: str) -> str:
    """SQL: ``x`` is NULL or the decimal text of an integer (read alike by :func:`count`)."""
    return f"({x} IS NULL OR CAST(TRY_CAST({x} AS BIGINT) AS VARCHAR) = {x})"


def _q_int(x: str) -> str:
    return f"TRY_CAST({x} AS BIGINT)"


def _q_first(chain: list[str]) -> str:
    """SQL of Python's ``a or b or ...`` over text leaves (NULL and '' are falsy)."""
    return f"coalesce({', '.join(f'nullif({x}, {_EMPTY})' for x in chain)})"


_EMPTY = "''"


def _q_texts_ok(chain: list[str]) -> str:
    return "(" + " AND ".join(_q_is_text(x) for x in chain) + ")"


def _q_when(first: str) -> tuple[str, str]:
    """(timestamp, ok) of :func:`timestamp` applied to ``first``, the SQL of Python's
    ``a or b or ...`` over the candidate leaves: a positive whole number below 2^53 (seconds,
    ms or µs by magnitude, as :func:`timestamp` reads them) or a strict ISO 8601 string; a
    zero, a fraction or a boolean, whose truthiness or rounding its text does not settle,
    is left to Python."""
    big = f"TRY_CAST({first} AS BIGINT)"
    ts = f"""CASE WHEN CAST({big} AS VARCHAR) = {first} AND {big} > 0 THEN CASE
          WHEN {big} > 100000000000000 THEN make_timestamp({big})
          WHEN {big} > 100000000000 THEN make_timestamp({big} * 1000)
          ELSE make_timestamp({big} * 1000000) END
        WHEN regexp_full_match({first}, '{_ISO}') THEN CASE
          WHEN regexp_matches({first}, '(?:Z|[+-][0-9]{{2}}:[0-9]{{2}})$')
            THEN timezone('UTC', TRY_CAST({first} AS TIMESTAMPTZ))
          ELSE TRY_CAST({first} AS TIMESTAMP) END
        END"""
    return ts, f"({big} IS NULL OR {big} <= 9007199254740992)"


def _q_float_ok(x: str) -> str:
    return (
        f"({x} IS NULL OR {x} = '' OR "
        f"regexp_full_match({x}, '-?[0-9]+(?:[.][0-9]+)?(?:[eE][-+]?[0-9]+)?'))"
    )


def _q_float(x: str) -> str:
    return f"CASE WHEN {x} <> '' THEN TRY_CAST({x} AS DOUBLE) END"


def _q_tier(value: str, batch: str) -> tuple[str, str]:
    """(service tier, ok) as :func:`canonical_service_tier` maps them, for printable-ASCII
    tiers that are strings, booleans or integers (whose text Python writes alike)."""
    t = f"lower(trim({value}))"
    sql = f"""CASE WHEN lower({batch}) = 'true' THEN 'batch'
        WHEN {value} IS NULL OR {value} = '' THEN 'standard'
        WHEN list_contains({_TIER_STANDARD}, {t}) THEN 'standard' ELSE {t} END"""
    ok = (
        f"({value} IS NULL OR (regexp_full_match({value}, '[ -~]*') AND ({_q_is_text(value)} "
        f"OR regexp_full_match({value}, 'true|false|-?[0-9]+'))))"
    )
    return sql, ok


def _q_struct(fmt: str, wrapped: bool) -> str:
    body = _ANTHROPIC_BODY if fmt == "anthropic" else _OPENAI_BODY
    out: dict[str, Any] = {**body, **_TOP}
    for name in _WRAPPERS:
        out[name] = body if wrapped else _V
    if fmt == "vllm":
        out["meta_info"] = _META_INFO
    return json.dumps(out, separators=(",", ":"))


def _duck_type(kind: Any) -> str:
    if isinstance(kind, dict):
        fields = ", ".join(f'"{name}" {_duck_type(sub)}' for name, sub in kind.items())
        return f"STRUCT({fields})"
    return str(kind)


def jsonl_columns(fmt: str, wrapped: bool) -> str:
    """The ``columns`` argument of DuckDB's ``read_json`` that reads a JSON Lines file of
    ``fmt`` into the struct :func:`jsonl_select` converts (the same leaves as its
    ``from_json`` read of a line)."""
    leaves = json.loads(_q_struct(fmt, wrapped))
    pairs = (f"'{name}': '{_duck_type(kind)}'" for name, kind in leaves.items())
    return "{" + ", ".join(pairs) + "}"


def attribution_of(key: str) -> Fields:
    """team/app/user/api_key/tags of a record whose attribution :func:`jsonl_select` left to
    Python: ``key`` is the JSON array it built (the record's team, app, user, api_key,
    metadata and tags, the same of its wrapped body, and whether there is one)."""
    vals = json.loads(key)

    def source(part: list[Any]) -> dict[str, Any]:
        out: dict[str, Any] = {
            k: v for k, v in zip(ATTRIBUTION_KEYS, part[:4], strict=True) if v is not None
        }
        for name, text in (("metadata", part[4]), ("tags", part[5])):
            if text is not None:
                out[name] = json.loads(text)
        return out

    return attribution(source(vals[:6]), source(vals[6:12]) if vals[12] == "true" else None)


def jsonl_select(fmt: str, wrapped: bool = True, source: str = "_lines", *,
                 lines: bool = True) -> str:  # fmt: skip
    """DuckDB SQL converting the lines of relation ``source`` (``ln BIGINT, line VARCHAR``:
    a JSON Lines file in ``fmt``, one of :data:`COLUMNAR_FORMATS`) into the parse schema,
    less ``source_format``/``source_file``, plus ``_fast`` (false: the line goes to the
    Python converter, its other columns mean nothing), ``_line`` (the line, when not
    ``_fast``), ``_attr`` (the key of an attribution left to :func:`attribution_of`, else
    NULL) and ``_retry``. With ``wrapped=False`` the bodies wrapped in ``response``, ``body``
    or ``message`` are not read (a leaner read of the struct): such lines are ``_retry``,
    to be converted again with ``wrapped=True``.

    With ``lines=False``, ``source`` is a relation of records already read into the struct
    (one column ``j``: DuckDB's ``read_json`` with :func:`jsonl_columns`), without their
    text or line numbers (``source_line`` is NULL). ``_fast`` is then false for every record
    that needs its text (a hashed key, a check on the text, the Python converter, a wrapped
    body the lean struct left out): such records are to be converted again from their lines.
    """
    meta = fmt == "vllm"

    def body(path: str) -> str:  # the leaf of the body: wrapped (response/body/message) or not
        if not wrapped:
            return f"j.{path}"
        return f"CASE _w {wrapped_leaf(path)} ELSE j.{path} END"

    def wrapped_leaf(path: str) -> str:
        return " ".join(f"WHEN {i} THEN j.{wr}.{path}" for i, wr in enumerate(_WRAPPERS, 1))

    # stage a: the leaves, flat
    a: dict[str, str] = {}
    usage = _ANTHROPIC_USAGE if fmt == "anthropic" else _OPENAI_USAGE
    for name, kind in usage.items():
        subs = kind if isinstance(kind, dict) else {"": kind}
        for sub in subs:
            a[f"u_{name}_{sub}".rstrip("_")] = body(f"usage.{name}.{sub}".rstrip("."))
    for name in ("id", "created", "created_at", "model", "service_tier", "status"):
        a[f"b_{name}"] = body(name)
    for name in (*_TOP, "created", "created_at", "model"):
        a[f"j_{name}"] = f"j.{name}"
    a["wrapped"] = "_w > 0 AND j.meta_info IS NULL" if meta else "_w > 0"
    for name in _ATTR_LEAVES:
        a[f"o_{name}"] = f"j.{name}"
        a[f"w_{name}"] = (
            f"CASE WHEN {a['wrapped']} THEN CASE _w {wrapped_leaf(name)} END END"
            if wrapped
            else "CAST(NULL AS VARCHAR)"
        )
    if meta:
        a["m_present"] = "j.meta_info IS NOT NULL"
        for name in _META_INFO:
            a[f"m_{name}"] = f"j.meta_info.{name}"

    # stage b: what several values share
    b: dict[str, str] = {}
    for src in ("o", "w"):
        is_obj = f"starts_with({src}_metadata, '{{')"
        b[f"{src}_m"] = f"CASE WHEN {is_obj} THEN from_json({src}_metadata, '{_META_STRUCT}') END"
        b[f"{src}_tags_plain"] = (
            f"({src}_tags IS NULL OR {src}_tags IN ('[]', '{{}}') OR "
            f"NOT regexp_matches({src}_tags, '^[\\[{{]'))"
        )
    model_chain = ["j_model", "m_model"] if False else ["b_model", "j_model"]
    b["model_v"] = _q_first(model_chain)

    # stage c: the record's values, and the checks that make them exact
    c: dict[str, str] = {}
    ok: list[str] = ["_w >= 0", "j_object IS DISTINCT FROM 'chat.completion.chunk'",
                     "j_object IS DISTINCT FROM 'page'"]  # fmt: skip
    attr_ok = _q_texts_ok([f"{s}_{k}" for s in ("o", "w") for k in ATTRIBUTION_KEYS])
    for k in ATTRIBUTION_KEYS:
        c[k] = _q_first([f"o_{k}", f"o_m.{k}", f"w_{k}", f"w_m.{k}"])
    # metadata read as a struct of the four keys is "plain" when its text is exactly those
    # pairs with unescaped string values: any other key, a null, a duplicate or an escape
    # makes the text longer (DuckDB writes JSON without spaces)
    for src in ("o", "w"):
        pairs = " + ".join(
            f"coalesce(strlen({src}_m.{k}) + {len(k) + 6}, 0)" for k in ATTRIBUTION_KEYS
        )
        c[f"{src}_plain"] = (
            f"({src}_metadata IS NULL OR NOT starts_with({src}_metadata, '{{') OR "
            f"strlen({src}_metadata) = greatest({pairs} + 1, 2)) AND {src}_tags_plain AND "
            + _q_texts_ok([f"{src}_m.{k}" for k in ATTRIBUTION_KEYS])
        )
    leaves = ", ".join(
        f"CAST({s}_{k} AS VARCHAR)" for s in ("o", "w") for k in (*ATTRIBUTION_KEYS,
                                                                   "metadata", "tags")
    )  # fmt: skip
    d = {}
    d["_attr"] = (
        f"CASE WHEN NOT (o_plain AND w_plain) THEN "
        f"CAST(to_json([{leaves}, CAST(wrapped AS VARCHAR)]) AS VARCHAR) END"
    )
    c["row_key"] = "nullif(b_id, '')"
    ok += [attr_ok, _q_is_text("b_id")]
    if fmt == "anthropic":
        uncached = _q_int("u_input_tokens")
        read = f"coalesce({_q_int('u_cache_read_input_tokens')}, 0)"
        write = f"coalesce({_q_int('u_cache_creation_input_tokens')}, 0)"
        ok += [
            "u_input_tokens IS NOT NULL", "u_output_tokens IS NOT NULL",
            *(_q_int_ok(f"u_{k}") for k in ("input_tokens", "output_tokens",
                                           "cache_read_input_tokens",
                                           "cache_creation_input_tokens")),
            "(u_cache_creation_input_tokens IS NOT NULL OR u_cache_creation IS NULL)",
            f"{uncached} >= 0", f"{read} >= 0", f"{write} >= 0",
        ]  # fmt: skip
        c.update(input_tokens=f"{uncached} + {read} + {write}", cached_input_tokens=read,
                 cache_write_tokens=write, output_tokens=_q_int("u_output_tokens"),
                 reasoning_tokens="0")  # fmt: skip
        b["when_v"] = _q_first(["j_timestamp", "j_created_at", "b_created_at"])
        tier_value, status_chain, provider = "u_service_tier", ["j_status"], "'anthropic'"
    else:
        chat = "(u_prompt_tokens IS NOT NULL OR u_completion_tokens IS NOT NULL)"

        def pick(chat_leaf: str, resp_leaf: str) -> str:
            return f"CASE WHEN {chat} THEN u_{chat_leaf} ELSE u_{resp_leaf} END"

        parts = {
            "inp": pick("prompt_tokens", "input_tokens"),
            "out": pick("completion_tokens", "output_tokens"),
            "cached": pick("prompt_tokens_details_cached_tokens",
                           "input_tokens_details_cached_tokens"),
            "dwrite": pick("prompt_tokens_details_cache_write_tokens",
                           "input_tokens_details_cache_write_tokens"),
            "reasoning": pick("completion_tokens_details_reasoning_tokens",
                              "output_tokens_details_reasoning_tokens"),
        }  # fmt: skip
        b.update({f"t_{k}": v for k, v in parts.items()})
        b["chat"] = chat
        ok += [
            "CASE WHEN chat THEN true ELSE NOT contains(line, '\"prompt_tokens\"') AND "
            "NOT contains(line, '\"completion_tokens\"') END",
            "t_inp IS NOT NULL", "t_out IS NOT NULL",
            *(_q_int_ok(f"t_{k}") for k in parts),
            f"(t_dwrite IS NOT NULL OR {_q_int_ok('u_cache_write_tokens')})",
        ]  # fmt: skip
        c.update(
            input_tokens=_q_int("t_inp"),
            cached_input_tokens=f"coalesce({_q_int('t_cached')}, 0)",
            cache_write_tokens=(
                f"coalesce({_q_int('t_dwrite')}, {_q_int('u_cache_write_tokens')}, 0)"
            ),
            output_tokens=_q_int("t_out"),
            reasoning_tokens=f"coalesce({_q_int('t_reasoning')}, 0)",
        )
        b["when_v"] = _q_first(["j_timestamp", "b_created", "b_created_at"])
        tier_value, status_chain = "b_service_tier", ["b_status", "j_status"]
        if meta:
            provider = f"'{SELF_HOSTED}'"
        else:
            provider = f"coalesce({_q_first(['j_provider'])}, 'openai')"
            ok.append(_q_is_text("j_provider"))
    ts, ts_ok = _q_when("when_v")
    tier, tier_ok = _q_tier(tier_value, "j_batch")
    ok += [_q_texts_ok(status_chain), _q_texts_ok(model_chain), "model_v IS NOT NULL", ts_ok,
           "ts IS NOT NULL", tier_ok, _q_float_ok("j_latency_s")]  # fmt: skip
    c.update(ts=ts, provider=provider, model="model_v", service_tier=tier,
             latency_s=_q_float("j_latency_s"),
             status=f"coalesce({_q_first(status_chain)}, 'ok')")  # fmt: skip
    c["_ok"] = " AND ".join(ok)
    deployment = "CAST(NULL AS VARCHAR)"
    if meta:  # an SGLang meta_info record, else an OpenAI-compatible body
        b["m_model_v"] = _q_first(["j_model", "m_model"])
        b["m_when_v"] = _q_first(["j_timestamp", "j_created"])
        mts, mts_ok = _q_when("m_when_v")
        mok = [
            "m_prompt_tokens IS NOT NULL", "m_completion_tokens IS NOT NULL",
            *(_q_int_ok(f"m_{k}") for k in ("prompt_tokens", "completion_tokens",
                                           "cached_tokens")),
            _q_texts_ok(["j_model", "m_model"]), "m_model_v IS NOT NULL", _q_is_text("m_id"),
            mts_ok, "ts IS NOT NULL", _q_float_ok("m_e2e_latency"), attr_ok,
        ]  # fmt: skip
        swap = {
            "row_key": "nullif(m_id, '')", "ts": mts, "model": "m_model_v",
            "input_tokens": _q_int("m_prompt_tokens"),
            "cached_input_tokens": f"coalesce({_q_int('m_cached_tokens')}, 0)",
            "cache_write_tokens": "0", "output_tokens": _q_int("m_completion_tokens"),
            "reasoning_tokens": "0", "service_tier": "'standard'",
            "latency_s": _q_float("m_e2e_latency"), "status": "'ok'",
            "_ok": " AND ".join(mok),
        }  # fmt: skip
        for name, sql in swap.items():
            c[name] = f"CASE WHEN m_present THEN {sql} ELSE {c[name]} END"
        c["_ok"] = f"({c['_ok']}) AND {_q_is_text('j_deployment')}"
        deployment = _q_first(["j_deployment", "model"])

    d["_ok"] = c.pop("_ok")  # after the values it checks (ts) are computed

    def select(cols: dict[str, str]) -> str:
        return ",\n    ".join(f'{sql} AS "{name}"' for name, sql in cols.items())

    if wrapped:
        choose = " ".join(
            f"WHEN j.{wr} IS NOT NULL THEN CASE WHEN j.{wr}.usage IS NOT NULL THEN {i} ELSE -1 END"
            for i, wr in enumerate(_WRAPPERS, 1)
        )
    else:
        choose = "WHEN " + " OR ".join(f"j.{wr} IS NOT NULL" for wr in _WRAPPERS) + " THEN -3"
    blank = "' ' || chr(9) || chr(10) || chr(13)"
    if lines:
        s1 = f"""SELECT ln, line,
    CASE WHEN json_valid(line) THEN from_json(line, '{_q_struct(fmt, wrapped)}') END AS j
  FROM {source}"""
        fast = "coalesce(_ok, false)"
    else:
        s1 = f"SELECT CAST(NULL AS BIGINT) AS ln, CAST(NULL AS VARCHAR) AS line, j FROM {source}"
        fast = "coalesce(_ok, false) AND row_key IS NOT NULL"
    return f"""
WITH s1 AS (
  {s1}
), s2 AS (
  SELECT ln, line, j, CASE WHEN j IS NULL THEN -2 {choose} ELSE 0 END AS _w FROM s1
), sa AS (
  SELECT ln, line, _w,
    {select(a)}
  FROM s2
), sb AS (
  SELECT *,
    {select(b)}
  FROM sa
), sc AS (
  SELECT *,
    {select(c)}
  FROM sb
), sd AS (
  SELECT *,
    {select(d)}
  FROM sc
)
SELECT row_key, ts, provider, model, CAST(1 AS BIGINT) AS requests, input_tokens,
  cached_input_tokens, cache_write_tokens, output_tokens, reasoning_tokens, service_tier,
  CAST(NULL AS VARCHAR) AS context_tier, latency_s, status, team, app, "user", api_key,
  CAST(NULL AS VARCHAR) AS tags, {deployment} AS deployment,
  CAST(NULL AS VARCHAR) AS price_usd, CAST(NULL AS VARCHAR) AS reported_usd,
  ln AS source_line, CAST(NULL AS VARCHAR) AS reason,
  CASE WHEN row_key IS NULL THEN trim(line, {blank}) END AS raw,
  {fast} AS _fast,
  CASE WHEN NOT coalesce(_ok, false) THEN line END AS _line,
  _attr, NOT coalesce(_ok, false) AND _w = -3 AS _retry
FROM sd"""
