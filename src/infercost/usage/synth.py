"""A realistic synthetic month of traffic, for ``usage demo``, tests and the benchmark.

Teams and apps with their own models, a diurnal curve (quiet at night, peak mid-afternoon
UTC) and a weekly one (weekends at 35 %), prompt-cache hits that vary by app, reasoning
tokens on a reasoning model, a self-hosted model on a registered fleet, and one injected
anomaly: on ``SPIKE_DAY`` from ``SPIKE_HOUR`` for three hours the ``search`` team's cache
hits collapse and its volume triples (a deploy that broke the prompt prefix).
Deterministic for a seed.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from infercost.errors import InputError
from infercost.fileio import atomic_writer
from infercost.usage.ledger import Deployment
from infercost.usage.schema import SELF_HOSTED

MONTH_START = datetime(2025, 8, 1)
DAYS = 31
SPIKE_DAY = 20
SPIKE_HOUR = 14
MAX_SEED = 2**32 - 1
"""The largest seed (numpy's seeds are 0 to 2^32 - 1 here, so ``--seed`` is checked, not
passed to numpy to fail)."""

# team, app, provider, model, share of requests, mean prompt, mean output, cache-hit share,
# reasoning share of output
STREAMS = (
    ("search", "qa-bot", "openai", "gpt-4o-mini", 0.34, 1800, 250, 0.62, 0.0),
    ("search", "ranker", "openai", "gpt-4o", 0.08, 3000, 120, 0.40, 0.0),
    ("support", "triage", "openai", "o3-mini", 0.12, 900, 1400, 0.10, 0.7),
    ("legal", "contracts", "anthropic", "claude-sonnet-4-5", 0.10, 12000, 800, 0.70, 0.0),
    ("research", "summarizer", SELF_HOSTED, "llama-3.1-8b", 0.36, 2500, 400, 0.30, 0.0),
)

FLEET = (
    Deployment(
        name="llama-3.1-8b",
        model="llama-3.1-8b",
        gpu="H100",
        gpus=2,
        gpus_per_replica=1,
        gpu_hour_usd=Decimal("2.50"),
    ),
)
"""The demo's self-hosted fleet: two H100s at $2.50/GPU-hour serving Llama 3.1 8B."""


def hourly_weights() -> np.ndarray:
    """Relative request rate for each hour of the month (mean 1)."""
    hours = np.arange(DAYS * 24)
    hod = hours % 24
    dow = (MONTH_START.weekday() + hours // 24) % 7
    diurnal = 0.25 + np.exp(-0.5 * ((hod - 14) / 4.0) ** 2)
    weekly = np.where(dow >= 5, 0.35, 1.0)
    w = diurnal * weekly
    return np.asarray(w / w.mean(), dtype=np.float64)


def check_seed(seed: int) -> int:
    """``seed`` if it lies in 0 to :data:`MAX_SEED`.

    Raises:
        InputError: a seed outside that range (naming ``--seed``).
    """
    if not 0 <= seed <= MAX_SEED:
        raise InputError(f"--seed must be between 0 and {MAX_SEED:,} (2^32 - 1), got {seed}.")
    return seed


def month(rows: int, seed: int = 7, spike: bool = True) -> pa.Table:
    """``rows`` requests of the synthetic month in the generic layout (see docs/usage.md);
    request ids carry the seed, so months of different seeds add up in one ledger.

    Raises:
        InputError: a seed outside 0 to :data:`MAX_SEED`.
    """
    rng = np.random.default_rng(check_seed(seed))
    w = hourly_weights()
    hour = rng.choice(w.size, size=rows, p=w / w.sum())
    stream = rng.choice(len(STREAMS), size=rows, p=np.array([s[4] for s in STREAMS]))
    ts_us = (
        np.datetime64(MONTH_START, "us")
        + hour.astype("timedelta64[h]").astype("timedelta64[us]")
        + rng.integers(0, 3_600_000_000, size=rows).astype("timedelta64[us]")
    )
    prompt = np.array([s[5] for s in STREAMS])[stream]
    out = np.array([s[6] for s in STREAMS])[stream]
    hit = np.array([s[7] for s in STREAMS])[stream]
    rsn = np.array([s[8] for s in STREAMS])[stream]
    input_tokens = np.maximum(1, rng.lognormal(np.log(prompt), 0.5)).astype(np.int64)
    output_tokens = np.maximum(1, rng.lognormal(np.log(out), 0.6)).astype(np.int64)
    cached_share = hit * rng.uniform(0.8, 1.0, size=rows)
    if spike:
        in_spike = (hour >= SPIKE_DAY * 24 + SPIKE_HOUR) & (hour < SPIKE_DAY * 24 + SPIKE_HOUR + 3)
        search = np.isin(stream, [0, 1])
        cached_share = np.where(in_spike & search, cached_share * 0.12, cached_share)
    cached = np.where(rng.uniform(size=rows) < 0.9, input_tokens * cached_share, 0).astype(
        np.int64
    )
    cached = np.minimum(cached // 64 * 64, input_tokens)
    reasoning = (output_tokens * rsn).astype(np.int64)
    users = np.array([f"user-{i:03d}" for i in range(60)])[rng.integers(0, 60, size=rows)]
    teams = np.array([s[0] for s in STREAMS])[stream]
    table = pa.table(
        {
            "request_id": pa.array([f"demo-{seed}-{i}" for i in range(rows)]),
            "timestamp": pa.array(ts_us, type=pa.timestamp("us")),
            "provider": pa.array(np.array([s[2] for s in STREAMS])[stream]),
            "model": pa.array(np.array([s[3] for s in STREAMS])[stream]),
            "input_tokens": pa.array(input_tokens),
            "cached_input_tokens": pa.array(cached),
            "output_tokens": pa.array(output_tokens),
            "reasoning_tokens": pa.array(reasoning),
            "team": pa.array(teams),
            "app": pa.array(np.array([s[1] for s in STREAMS])[stream]),
            "user": pa.array(users),
            "api_key": pa.array(np.char.add("key-", teams)),
        }
    )
    if spike:  # the spike's extra volume: search traffic tripled for three hours
        extra = _spike_extra(table, rng, seed)
        table = pa.concat_tables([table, extra])
    return table


def _spike_extra(table: pa.Table, rng: np.random.Generator, seed: int) -> pa.Table:
    ts = table.column("timestamp").to_numpy()
    start = np.datetime64(MONTH_START, "us") + np.timedelta64(SPIKE_DAY * 24 + SPIKE_HOUR, "h")
    mask = (ts >= start) & (ts < start + np.timedelta64(3, "h"))
    mask &= np.asarray(table.column("team").to_pylist()) == "search"
    idx = np.flatnonzero(mask)
    picked = np.concatenate([idx, idx])
    extra = table.take(pa.array(picked))
    ids = pa.array([f"spike-{seed}-{i}" for i in range(len(picked))], type=pa.string())
    jitter = rng.integers(0, 60_000_000, size=len(picked)).astype("timedelta64[us]")
    extra = extra.set_column(0, "request_id", ids)
    return extra.set_column(
        1,
        "timestamp",
        pa.array(extra.column("timestamp").to_numpy() + jitter, type=pa.timestamp("us")),
    )


def write_parquet(table: pa.Table, path: str | Path) -> Path:
    """Write ``table`` as Parquet, atomically."""
    with atomic_writer(path, binary=True) as fh:
        pq.write_table(table, fh)
    return Path(path)


def write_openai_jsonl(table: pa.Table, path: str | Path) -> Path:
    """Write the API rows of ``table`` as OpenAI Chat Completions bodies, one per line."""
    cols = table.to_pydict()
    epoch = MONTH_START.timestamp()
    with atomic_writer(path) as fh:
        for i in range(table.num_rows):
            when = cols["timestamp"][i]
            body = {
                "id": cols["request_id"][i],
                "object": "chat.completion",
                "created": int(epoch + (when - MONTH_START).total_seconds()),
                "model": cols["model"][i] if cols["provider"][i] == "openai" else "gpt-4o-mini",
                "usage": {
                    "prompt_tokens": cols["input_tokens"][i],
                    "completion_tokens": cols["output_tokens"][i],
                    "total_tokens": cols["input_tokens"][i] + cols["output_tokens"][i],
                    "prompt_tokens_details": {"cached_tokens": cols["cached_input_tokens"][i]},
                    "completion_tokens_details": {"reasoning_tokens": cols["reasoning_tokens"][i]},
                },
                "metadata": {
                    "team": cols["team"][i],
                    "app": cols["app"][i],
                    "user": cols["user"][i],
                },
            }
            fh.write(json.dumps(body, separators=(",", ":")) + "\n")
    return Path(path)
