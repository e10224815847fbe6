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
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from infercost.usage.schema import SELF_HOSTED, canonical_service_tier

Fields = dict[str, Any]

FORMATS = ("openai", "anthropic", "litellm", "otel", "vllm", "generic")

ATTRIBUTION_KEYS = ("team", "app", "user", "api_key")


class RowError(ValueError):
    """A record that cannot become a canonical row; ``str(err)`` is the quarantine reason."""


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
    """A token count as int (None when absent); a non-integer raises :class:`RowError`."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise RowError(f"{name} is {value!r}, not a whole number of tokens")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise RowError(f"{name} is {value!r}, not a whole number of tokens")


def timestamp(value: Any, name: str = "timestamp") -> datetime:
    """A naive UTC datetime from Unix seconds (ms/ns by magnitude) or ISO 8601 (a string
    without an offset is read as UTC).

    Raises:
        RowError: missing or unparseable.
    """
    if value is None or value == "":
        raise RowError(f"no {name}; every row needs a time to be priced at")
    if isinstance(value, bool):
        raise RowError(f"{name} {value!r} is not a time")
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            try:
                parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise RowError(f"{name} {value!r} is not ISO 8601 or Unix seconds") from None
            if parsed.tzinfo is not None:
                parsed = parsed.astimezone(UTC).replace(tzinfo=None)
            return parsed
        value = number
    if isinstance(value, int | float):
        seconds = float(value)
        if seconds > 1e17:
            seconds /= 1e9
        elif seconds > 1e14:
            seconds /= 1e6
        elif seconds > 1e11:
            seconds /= 1e3
        try:
            return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)
        except (OverflowError, OSError, ValueError):
            raise RowError(f"{name} {value!r} is out of range") from None
    raise RowError(f"{name} {value!r} is not a time")


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
                yield Record(number, raw, None, f"{len(row)} cells for {len(header)} columns")
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
    attrs: Mapping[str, Any] = obj["attributes"]
    resource: Mapping[str, Any] = obj["resource"]
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
    start = timestamp(obj.get("start"), "startTimeUnixNano")
    latency = None
    if obj.get("end"):
        latency = (timestamp(obj["end"], "endTimeUnixNano") - start).total_seconds()
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
