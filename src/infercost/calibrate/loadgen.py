"""Closed-loop load generator for an OpenAI-compatible endpoint, measured the way vLLM measures.

For each concurrency N of a sweep, N clients each send a streaming request (``/v1/completions``
or ``/v1/chat/completions``), wait for its last token and send the next, until ``max_requests``
requests have been sent or ``max_seconds`` have passed since the level started (requests in
flight then finish; each is bounded by ``request_timeout_s``). One result object per level is
written in the layout of vLLM ``bench serve --save-result`` (vLLM benchmarks/benchmark_serving.py),
which :func:`infercost.calibrate.importers.import_vllm_json` reads back.

Per request (client clock, ``time.perf_counter``), as vLLM ``backend_request_func`` does:

- TTFT: request sent -> first streamed chunk with non-empty text.
- ITL: the gaps between consecutive non-empty chunks.
- E2E: request sent -> last non-empty chunk.
- output tokens: ``usage.completion_tokens`` when the server reports it (the request asks with
  ``stream_options.include_usage``), else the number of non-empty chunks.
- TPOT: (E2E - TTFT) / (output tokens - 1), for requests with more than one output token.

Per level: means, medians, standard deviations and 99th percentiles (numpy, linear interpolation)
of TTFT, TPOT, ITL (pooled over all gaps) and E2E in ms; ``duration`` = level start -> last
request done; ``output_throughput`` = output tokens / duration; ``request_throughput`` =
completed requests / duration. Warm-up requests (by default as many as the largest concurrency,
sent at once, so connection set-up is not timed) go first and are not counted.

Prompts: ``isl`` words drawn from a list of common English words, each one token (with its
leading space) in GPT-2/tiktoken and Llama/SentencePiece vocabularies, so a prompt is about
``isl`` tokens plus the BOS token and any chat template. The server's ``usage.prompt_tokens``,
when reported, is recorded as the true input length. Word order is random per request, so the
server's prefix cache cannot reuse one request's KV for the next. ``max_tokens`` is ``osl`` and
``ignore_eos`` (a vLLM/SGLang/TensorRT-LLM extension; turn it off for servers that reject it)
keeps generation running to ``osl``.

Network: one ``httpx.AsyncClient`` with ``trust_env=False`` (no proxy from the environment) and
no redirects; it contacts only the given endpoint.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import httpx
import numpy as np

from infercost.domains import check_args, check_work
from infercost.errors import InputError
from infercost.fileio import write_atomic

Api = Literal["completions", "chat"]

# Common English words that are single tokens (with a leading space) in GPT-2/tiktoken and
# Llama/SentencePiece vocabularies; a prompt of n of them is about n tokens.
PROMPT_WORDS: tuple[str, ...] = (
    "the", "of", "and", "to", "in", "is", "was", "for", "on", "that", "with", "as", "by",
    "at", "from", "his", "her", "it", "an", "were", "are", "which", "this", "be", "or",
    "has", "had", "not", "but", "first", "one", "their", "its", "new", "after", "who",
    "they", "have", "two", "been", "also", "other", "city", "time", "year", "world", "water",
    "house", "river", "music", "game", "light", "green", "small", "great", "long", "school",
    "team", "film", "book", "day", "night", "road", "war", "state",
)  # fmt: skip

_MS_PER_S = 1e3  # vLLM writes latency statistics in milliseconds


@dataclass(frozen=True, slots=True)
class LoadgenConfig:
    """What to measure and how long.

    Attributes:
        endpoint: base URL of the server, e.g. ``http://127.0.0.1:8000`` (``/v1`` optional).
        model: the model name the server expects in requests.
        isl, osl: input tokens (approximate, see module doc) and output tokens per request.
        concurrencies: the sweep of closed-loop client counts, e.g. ``(1, 2, 4)``.
        max_requests: requests per concurrency level (at most).
        max_seconds: no request of a level starts after this many seconds.
        api: ``completions`` or ``chat``.
        ignore_eos: send ``ignore_eos: true`` so every request generates ``osl`` tokens.
        request_timeout_s: timeout of one request (connect, and between streamed bytes).
        warmup_requests: requests sent at once before the sweep and not counted; ``None``
            (default) sends as many as the largest concurrency, so every connection the
            sweep uses is already open when timing starts.
        api_key: sent as ``Authorization: Bearer`` when given.
        seed: seed of the prompt word choice.
        metadata: facts stored at top level of each result (``gpu``, ``tp``, ``engine`` ...),
            as vLLM's ``--metadata KEY=VALUE`` does; the importer reads them.

    Raises:
        InputError: a non-HTTP(S) endpoint or a non-positive count or duration.
    """

    endpoint: str
    model: str
    isl: int
    osl: int
    concurrencies: tuple[int, ...]
    max_requests: int
    max_seconds: float
    api: Api = "completions"
    ignore_eos: bool = True
    request_timeout_s: float = 600.0
    warmup_requests: int | None = None
    api_key: str | None = None
    seed: int = 0
    metadata: Mapping[str, str] = field(default_factory=dict)
    max_work: float | None = None

    def __post_init__(self) -> None:
        parts = urlsplit(self.endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(
                f"endpoint {self.endpoint!r} is not an http(s) URL; "
                "give the server's base URL, e.g. http://127.0.0.1:8000"
            )
        if not self.model:
            raise InputError("model is empty; pass the model name the server serves (--model)")
        positive = {
            "isl": self.isl,
            "osl": self.osl,
            "max_requests": self.max_requests,
            "max_seconds": self.max_seconds,
            "request_timeout_s": self.request_timeout_s,
        }
        for name, value in positive.items():
            if not value > 0:
                raise InputError(f"{name} must be > 0, got {value}")
        if not self.concurrencies or any(n < 1 for n in self.concurrencies):
            raise InputError(f"concurrencies must be >= 1, got {self.concurrencies}")
        check_args(
            isl=self.isl, osl=self.osl, max_requests=self.max_requests,
            max_seconds=self.max_seconds, request_timeout=self.request_timeout_s,
            concurrency=list(self.concurrencies),
        )  # fmt: skip
        # every client holds its prompt (built before the endpoint is contacted)
        check_work(
            "loadgen", float(self.isl) * max(self.concurrencies), self.max_work,
            "--isl x the largest --concurrency",
        )  # fmt: skip
        if self.warmup_requests is not None and self.warmup_requests < 0:
            raise InputError(f"warmup_requests must be >= 0, got {self.warmup_requests}")
        if self.api not in ("completions", "chat"):
            raise InputError(f"api must be 'completions' or 'chat', got {self.api!r}")

    @property
    def url(self) -> str:
        """The request URL: the endpoint plus ``/v1/completions`` or ``/v1/chat/completions``."""
        base = self.endpoint.rstrip("/")
        if base.endswith(("/completions", "/chat/completions")):
            return base
        suffix = "/completions" if self.api == "completions" else "/chat/completions"
        return base + (suffix if base.endswith("/v1") else "/v1" + suffix)


@dataclass(frozen=True, slots=True)
class RequestResult:
    """Client-side timing of one request; times in seconds from the request's start.

    ``prompt_tokens`` is the server's ``usage.prompt_tokens`` or the requested ``isl``;
    ``output_tokens`` the server's ``usage.completion_tokens`` or the number of chunks.
    """

    success: bool
    prompt_tokens: int = 0
    output_tokens: int = 0
    ttft_s: float = 0.0
    e2e_s: float = 0.0
    itls_s: tuple[float, ...] = ()
    usage_reported: bool = False
    error: str = ""


def prompt_text(isl: int, index: int, seed: int = 0) -> str:
    """A prompt of ``isl`` common words (about ``isl`` tokens), different for each ``index``."""
    rng = random.Random(seed * 1_000_003 + index)
    return " ".join(rng.choices(PROMPT_WORDS, k=isl))


def request_payload(config: LoadgenConfig, index: int) -> dict[str, object]:
    """The JSON body of request ``index`` (streaming, ``max_tokens`` = osl, usage requested)."""
    prompt = prompt_text(config.isl, index, config.seed)
    payload: dict[str, object] = {
        "model": config.model,
        "max_tokens": config.osl,
        "temperature": 0.0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if config.api == "chat":
        payload["messages"] = [{"role": "user", "content": prompt}]
    else:
        payload["prompt"] = prompt
    if config.ignore_eos:
        payload["ignore_eos"] = True
    return payload


def _chunk_text(chunk: Mapping[str, object]) -> str:
    choices = chunk.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
        return ""
    choice = choices[0]
    if isinstance(choice.get("text"), str):
        return str(choice["text"])
    delta = choice.get("delta")
    if isinstance(delta, Mapping):
        return str(delta.get("content") or delta.get("reasoning_content") or "")
    return ""


async def send_request(
    client: httpx.AsyncClient, config: LoadgenConfig, index: int
) -> RequestResult:
    """Send request ``index`` and time its stream; failures are returned, not raised."""
    headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
    start = time.perf_counter()
    ttft_s: float | None = None
    last = start
    itls: list[float] = []
    chunks = 0
    usage: Mapping[str, object] = {}
    try:
        async with client.stream(
            "POST", config.url, json=request_payload(config, index), headers=headers
        ) as response:
            if response.status_code != 200:
                body = (await response.aread())[:300].decode("utf-8", "replace")
                return RequestResult(False, error=f"HTTP {response.status_code}: {body}")
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[len("data:") :].strip()
                if data == "[DONE]":
                    break
                chunk = json.loads(data)
                if isinstance(chunk.get("usage"), Mapping):
                    usage = chunk["usage"]
                if _chunk_text(chunk):
                    now = time.perf_counter()
                    if ttft_s is None:
                        ttft_s = now - start
                    else:
                        itls.append(now - last)
                    last = now
                    chunks += 1
    except (httpx.HTTPError, json.JSONDecodeError, AttributeError) as err:
        return RequestResult(False, error=f"{type(err).__name__}: {err}")
    if ttft_s is None:
        return RequestResult(False, error="the stream carried no text")
    completion = usage.get("completion_tokens")
    prompt = usage.get("prompt_tokens")
    return RequestResult(
        True,
        prompt_tokens=prompt if isinstance(prompt, int) else config.isl,
        output_tokens=completion if isinstance(completion, int) else chunks,
        ttft_s=ttft_s,
        e2e_s=last - start,
        itls_s=tuple(itls),
        usage_reported=isinstance(completion, int),
    )


def _stats_ms(values_s: Sequence[float], name: str) -> dict[str, float]:
    """vLLM's ``mean/median/std/p99_<name>_ms`` of ``values_s`` (zeros when empty, as vLLM)."""
    arr = np.asarray(values_s, dtype=float) if len(values_s) else np.zeros(1)
    return {
        f"mean_{name}_ms": float(np.mean(arr)) * _MS_PER_S,
        f"median_{name}_ms": float(np.median(arr)) * _MS_PER_S,
        f"std_{name}_ms": float(np.std(arr)) * _MS_PER_S,
        f"p99_{name}_ms": float(np.percentile(arr, 99)) * _MS_PER_S,
    }


def summarize(
    results: Sequence[RequestResult], duration_s: float, config: LoadgenConfig, concurrency: int
) -> dict[str, object]:
    """One level's result in the vLLM ``bench serve --save-result`` layout (plus metadata).

    Follows vLLM ``calculate_metrics``: only successful requests count; TPOT only for
    requests with more than one output token; ITLs pooled over all requests.
    """
    done = [r for r in results if r.success]
    total_in = sum(r.prompt_tokens for r in done)
    total_out = sum(r.output_tokens for r in done)
    tpots = [(r.e2e_s - r.ttft_s) / (r.output_tokens - 1) for r in done if r.output_tokens > 1]
    summary: dict[str, object] = {
        "date": datetime.now(UTC).strftime("%Y%m%d-%H%M%S"),
        "endpoint_type": "openai" if config.api == "completions" else "openai-chat",
        "backend": "openai" if config.api == "completions" else "openai-chat",
        "label": "infercost calibrate run",
        "model_id": config.model,
        "tokenizer_id": None,
        "num_prompts": len(results),
        **dict(config.metadata),
        "request_rate": "inf",
        "burstiness": 1.0,
        "max_concurrency": concurrency,
        "duration": duration_s,
        "completed": len(done),
        "failed": len(results) - len(done),
        "total_input_tokens": total_in,
        "total_output_tokens": total_out,
        "request_throughput": len(done) / duration_s,
        "request_goodput": None,
        "output_throughput": total_out / duration_s,
        "total_token_throughput": (total_in + total_out) / duration_s,
        "input_lens": [r.prompt_tokens for r in results],
        "output_lens": [r.output_tokens if r.success else 0 for r in results],
        "ttfts": [r.ttft_s for r in results],
        "itls": [list(r.itls_s) for r in results],
        "errors": [r.error for r in results],
        **_stats_ms([r.ttft_s for r in done], "ttft"),
        **_stats_ms(tpots, "tpot"),
        **_stats_ms([gap for r in done for gap in r.itls_s], "itl"),
        **_stats_ms([r.e2e_s for r in done], "e2el"),
        "infercost_requested_isl": config.isl,
        "infercost_requested_osl": config.osl,
        "infercost_prompt_tokens_from": (
            "server usage" if done and all(r.usage_reported for r in done) else "requested isl"
        ),
    }
    return summary


#: ``progress(stage, done, total)``: called after each request (stage names the level).
Progress = Callable[[str, int, int], None]


async def _run_level(
    client: httpx.AsyncClient, config: LoadgenConfig, concurrency: int, first_index: int,
    progress: Progress | None = None,
) -> tuple[list[RequestResult], float]:  # fmt: skip
    results: list[RequestResult] = []
    issued = 0
    start = time.perf_counter()
    deadline = start + config.max_seconds
    stage = f"concurrency {concurrency}"

    async def client_loop() -> None:
        nonlocal issued
        while issued < config.max_requests and time.perf_counter() < deadline:
            index = first_index + issued
            issued += 1
            results.append(await send_request(client, config, index))
            if progress is not None:
                progress(stage, len(results), config.max_requests)

    await asyncio.gather(*(client_loop() for _ in range(concurrency)))
    return results, time.perf_counter() - start


async def run_sweep_async(
    config: LoadgenConfig, progress: Progress | None = None
) -> list[dict[str, object]]:
    """Run warm-up then every concurrency level; one vLLM-layout result per level.
    ``progress`` (optional) hears of every finished request.

    Raises:
        InputError: every request of the warm-up or of a level failed (the message quotes
            the first error: wrong URL, model name or API).
    """
    timeout = httpx.Timeout(config.request_timeout_s)
    limits = httpx.Limits(
        max_connections=max(config.concurrencies), max_keepalive_connections=None
    )
    async with httpx.AsyncClient(
        timeout=timeout, limits=limits, trust_env=False, follow_redirects=False
    ) as client:
        warmup = (
            max(config.concurrencies) if config.warmup_requests is None else config.warmup_requests
        )
        warm = await asyncio.gather(*(send_request(client, config, i) for i in range(warmup)))
        for result in warm:
            if not result.success:
                raise InputError(f"warm-up request to {config.url} failed: {result.error}")
        index = warmup
        summaries: list[dict[str, object]] = []
        for concurrency in config.concurrencies:
            results, duration_s = await _run_level(client, config, concurrency, index, progress)
            index += len(results)
            if not any(r.success for r in results):
                raise InputError(
                    f"every request at concurrency {concurrency} to {config.url} failed; "
                    f"first error: {results[0].error if results else 'none sent'}"
                )
            summaries.append(summarize(results, duration_s, config, concurrency))
    return summaries


def run_sweep(config: LoadgenConfig, progress: Progress | None = None) -> list[dict[str, object]]:
    """Blocking wrapper of :func:`run_sweep_async` (starts its own event loop)."""
    return asyncio.run(run_sweep_async(config, progress))


def write_results(summaries: Sequence[Mapping[str, object]], path: str | Path) -> Path:
    """Write the sweep as a JSON array of vLLM-layout result objects, atomically; returns the
    path.

    Raises:
        InputError: the folder does not exist or is not writable.
    """
    return write_atomic(Path(path), json.dumps(list(summaries), indent=1) + "\n")
