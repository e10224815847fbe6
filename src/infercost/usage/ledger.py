"""The ledger: an embedded DuckDB file, read through ibis.

Tables: ``requests`` (the canonical record, :mod:`.schema`), ``quarantine`` (rows that broke
an invariant, with file, line and reason), ``ingests`` (one row per ingested file with its
counts) and ``deployments`` (self-hosted fleets that serve the ``self-hosted`` rows).
Ingest writes through DuckDB transactions (:mod:`.ingest`); every report is an ibis
expression over :meth:`Ledger.requests`, so the same code runs on any engine ibis supports
(:func:`infercost.usage.engines.on_spark`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import duckdb
import ibis
from ibis.backends.duckdb import Backend as DuckDBBackend

from infercost.errors import InputError

REQUESTS_DDL = """
CREATE TABLE IF NOT EXISTS requests (
  row_key VARCHAR NOT NULL, ts TIMESTAMP NOT NULL, provider VARCHAR NOT NULL,
  model VARCHAR NOT NULL, requests BIGINT NOT NULL, input_tokens BIGINT NOT NULL,
  cached_input_tokens BIGINT NOT NULL, cache_write_tokens BIGINT NOT NULL,
  output_tokens BIGINT NOT NULL, reasoning_tokens BIGINT NOT NULL, service_tier VARCHAR NOT NULL,
  context_tier VARCHAR, latency_s DOUBLE, status VARCHAR, team VARCHAR, app VARCHAR,
  "user" VARCHAR, api_key VARCHAR, tags VARCHAR, deployment VARCHAR,
  price_usd DECIMAL(38, 12), reported_usd DECIMAL(38, 12), source_format VARCHAR,
  source_file VARCHAR, source_line BIGINT
);
CREATE TABLE IF NOT EXISTS quarantine (
  row_key VARCHAR NOT NULL, source_format VARCHAR, source_file VARCHAR, source_line BIGINT,
  reason VARCHAR NOT NULL, raw VARCHAR
);
CREATE TABLE IF NOT EXISTS ingests (
  ingested_at TIMESTAMP, source_file VARCHAR, source_format VARCHAR, "read" BIGINT,
  ingested BIGINT,
  quarantined BIGINT, duplicates BIGINT
);
CREATE TABLE IF NOT EXISTS requests_daily (
  day TIMESTAMP NOT NULL, provider VARCHAR NOT NULL, model VARCHAR NOT NULL, deployment VARCHAR,
  service_tier VARCHAR NOT NULL, context_tier VARCHAR, explicit BOOLEAN NOT NULL,
  prompt DOUBLE, team VARCHAR, app VARCHAR, "user" VARCHAR, api_key VARCHAR, tags VARCHAR,
  requests HUGEINT, input_tokens HUGEINT, cached_input_tokens HUGEINT,
  cache_write_tokens HUGEINT, output_tokens HUGEINT, reasoning_tokens HUGEINT,
  price_usd DECIMAL(38, 12), "rows" BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS deployments (
  name VARCHAR PRIMARY KEY, model VARCHAR NOT NULL, gpu VARCHAR NOT NULL, gpus INTEGER NOT NULL,
  gpus_per_replica INTEGER NOT NULL, gpu_hour_usd VARCHAR NOT NULL, engine VARCHAR NOT NULL,
  weight_dtype VARCHAR, concurrency INTEGER
);
"""


PROMPT_FLOOR = 32_000
"""``requests_daily`` keeps a row's prompt (input tokens per request) only above this many
tokens: a report whose long-context thresholds are all at least this high reads the rollup
(genai-prices' lowest is 32,000), any other reads ``requests``."""

DAILY_KEYS = (
    "day", "provider", "model", "deployment", "service_tier", "context_tier", "explicit",
    "prompt", "team", "app", '"user"', "api_key", "tags",
)  # fmt: skip
_DAILY_SUMS = (
    "requests", "input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens",
    "reasoning_tokens",
)  # fmt: skip


def daily_sql(source: str, where: str = "true") -> str:
    """SQL aggregating the request rows of ``source`` (alias ``r``, rows ``where``) into
    ``requests_daily`` rows: one per day and everything a report groups by or prices by."""
    prompt = "r.input_tokens / greatest(r.requests, 1)"
    sums = ", ".join(f"sum(r.{name})" for name in _DAILY_SUMS)
    return f"""
SELECT date_trunc('day', r.ts), r.provider, r.model, r.deployment, r.service_tier,
  r.context_tier, r.price_usd IS NOT NULL, CASE WHEN {prompt} > {PROMPT_FLOOR} THEN {prompt} END,
  r.team, r.app, r."user", r.api_key, r.tags, {sums},
  sum(coalesce(CAST(r.price_usd AS DECIMAL(38, 12)), 0)), count(*)
FROM {source} r WHERE {where} GROUP BY ALL"""


@dataclass(frozen=True, slots=True)
class Deployment:
    """A self-hosted fleet serving one model.

    Attributes:
        name: the ``deployment`` value of its rows (default: the served model name).
        model: catalog model (spelling as ``infercost predict`` takes it).
        gpu: accelerator name.
        gpus: GPUs in the fleet, paid whether busy or idle.
        gpus_per_replica: GPUs per replica (tensor parallel size).
        gpu_hour_usd: $ per GPU-hour.
        engine: efficiency profile (``vllm``, ``sglang``, ...).
        weight_dtype: storage format (None: the checkpoint's).
        concurrency: requests in flight per replica for the physics (None: the largest
            batch that fits).
    """

    name: str
    model: str
    gpu: str
    gpus: int
    gpus_per_replica: int
    gpu_hour_usd: Decimal
    engine: str = "vllm"
    weight_dtype: str | None = None
    concurrency: int | None = None


def load_fleet(path: str | Path) -> list[Deployment]:
    """Deployments from a TOML file of ``[[deployment]]`` tables (keys as :class:`Deployment`).

    Raises:
        InputError: unreadable file, missing or bad key (named, with the table's index).
    """
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise InputError(
            f"cannot read fleet file {file} as UTF-8 TOML: {err}; give a TOML file of "
            "[[deployment]] tables."
        ) from err
    items = data.get("deployment")
    if not isinstance(items, list) or not items:
        raise InputError(f"fleet file {file} has no [[deployment]] tables; add one per fleet.")
    out = []
    for i, item in enumerate(items, start=1):
        out.append(_deployment(item, f"{file}, deployment {i}"))
    return out


def _deployment(item: Any, where: str) -> Deployment:
    try:
        gpus = int(item["gpus"])
        per = int(item.get("gpus_per_replica", 1))
        rate = Decimal(str(item["gpu_hour_usd"]))
        model = str(item["model"])
        gpu = str(item["gpu"])
    except KeyError as err:
        raise InputError(
            f"{where}: missing key {err.args[0]!r} (need model, gpu, gpus, gpu_hour_usd)."
        ) from None
    except (TypeError, ValueError, InvalidOperation) as err:
        raise InputError(
            f"{where}: {err}; gpus must be an integer and gpu_hour_usd a number."
        ) from None
    if gpus < 1 or per < 1 or gpus % per or rate < 0:
        raise InputError(
            f"{where}: need gpus >= 1, gpus a multiple of gpus_per_replica, gpu_hour_usd >= 0."
        )
    conc = item.get("concurrency")
    return Deployment(
        name=str(item.get("name", model)),
        model=model,
        gpu=gpu,
        gpus=gpus,
        gpus_per_replica=per,
        gpu_hour_usd=rate,
        engine=str(item.get("engine", "vllm")),
        weight_dtype=item.get("weight_dtype"),
        concurrency=int(conc) if conc is not None else None,
    )


class Ledger:
    """A usage ledger in a DuckDB file (created on first use).

    Raises:
        InputError: the file cannot be opened (locked by another process, not a DuckDB file,
            folder missing).
    """

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path).expanduser()
        if read_only and not self.path.exists():
            raise InputError(
                f"no ledger at {self.path}; create one with `infercost usage ingest FILE "
                f"--ledger {self.path}` or `infercost usage demo --out {self.path}`."
            )
        if not self.path.parent.exists():
            raise InputError(f"cannot create ledger {self.path}: the folder does not exist.")
        try:
            self.backend: DuckDBBackend = ibis.duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.Error as err:
            first = str(err).splitlines()[0]
            raise InputError(f"cannot open ledger {self.path}: {first}") from None
        self.raw: duckdb.DuckDBPyConnection = self.backend.con
        self.raw.execute("SET TimeZone = 'UTC'")
        if not read_only:
            fresh = not self._has("requests_daily")
            self.raw.execute(REQUESTS_DDL)
            if fresh or not self._daily_whole():
                self.rebuild_daily()

    def _has(self, table: str) -> bool:
        return self.raw.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND "
            "schema_name = 'main' AND table_name = ?",
            [table],
        ).fetchone() != (0,)

    def _daily_whole(self) -> bool:
        """``requests_daily`` holds every row of ``requests`` (written by this version)."""
        (same,) = self.raw.execute(
            'SELECT (SELECT coalesce(sum("rows"), 0) FROM requests_daily) = '
            "(SELECT count(*) FROM requests)"
        ).fetchone() or (False,)
        return bool(same)

    def rebuild_daily(self) -> None:
        """Rebuild ``requests_daily`` from ``requests`` in one transaction (compacting it:
        one row per group)."""
        self.raw.begin()
        try:
            self.raw.execute("DELETE FROM requests_daily")
            self.raw.execute(f"INSERT INTO requests_daily {daily_sql('requests')}")
            self.raw.commit()
        except BaseException:
            self.raw.rollback()
            raise

    def compact_daily(self) -> None:
        """Merge the ``requests_daily`` rows of one group (each ingest batch adds its own)."""
        keys = ", ".join(DAILY_KEYS)
        sums = ", ".join(f"sum({name})" for name in (*_DAILY_SUMS, "price_usd", '"rows"'))
        self.raw.begin()
        try:
            self.raw.execute(
                f"CREATE OR REPLACE TEMP TABLE _daily AS SELECT {keys}, {sums} FROM "
                "requests_daily GROUP BY ALL"
            )
            self.raw.execute("DELETE FROM requests_daily")
            self.raw.execute("INSERT INTO requests_daily SELECT * FROM _daily")
            self.raw.commit()
        except BaseException:
            self.raw.rollback()
            raise
        finally:
            self.raw.execute("DROP TABLE IF EXISTS _daily")

    def close(self) -> None:
        """Close the database file."""
        self.backend.disconnect()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def requests(self) -> ibis.Table:
        """The canonical request table as an ibis expression."""
        return self.backend.table("requests")

    def daily(self) -> ibis.Table | None:
        """``requests_daily``: the request rows summed per day and per everything a report
        groups or prices by (the prompt only above :data:`PROMPT_FLOOR`), kept in the same
        transaction as ``requests`` by :func:`~infercost.usage.ingest.ingest`; None when the
        ledger has none or it does not hold every request row (a ledger written before it
        existed, opened read-only)."""
        if not self._has("requests_daily") or not self._daily_whole():
            return None
        return self.backend.table("requests_daily")

    def quarantine(self) -> ibis.Table:
        """Quarantined rows (file, line, reason, raw text)."""
        return self.backend.table("quarantine")

    def deployments(self) -> list[Deployment]:
        """Registered self-hosted deployments."""
        rows = self.raw.execute(
            "SELECT name, model, gpu, gpus, gpus_per_replica, gpu_hour_usd, engine, "
            "weight_dtype, concurrency FROM deployments ORDER BY name"
        ).fetchall()
        return [
            Deployment(r[0], r[1], r[2], r[3], r[4], Decimal(r[5]), r[6], r[7], r[8]) for r in rows
        ]

    def add_deployments(self, items: Iterable[Deployment]) -> None:
        """Register (or replace, by name) self-hosted deployments."""
        for d in items:
            self.raw.execute(
                "INSERT OR REPLACE INTO deployments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [d.name, d.model, d.gpu, d.gpus, d.gpus_per_replica, str(d.gpu_hour_usd),
                 d.engine, d.weight_dtype, d.concurrency],
            )  # fmt: skip
