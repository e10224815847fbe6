"""Readers, conventions, invariants, quarantine and idempotent re-ingest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infercost.errors import InputError
from infercost.usage.ingest import detect_format, ingest
from infercost.usage.ledger import Ledger

FIXTURES = Path(__file__).parent / "fixtures"

COLS = (
    "row_key, provider, model, requests, input_tokens, cached_input_tokens, "
    "cache_write_tokens, output_tokens, reasoning_tokens, service_tier, team"
)


def rows(ledger: Ledger, where: str = "true") -> dict[str, tuple[Any, ...]]:
    out = ledger.raw.execute(f"SELECT {COLS} FROM requests WHERE {where}").fetchall()
    return {r[0]: r[1:] for r in out}


def reasons(ledger: Ledger) -> dict[int, str]:
    got = ledger.raw.execute("SELECT source_line, reason FROM quarantine").fetchall()
    return dict(got)


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("openai_chat.jsonl", "openai"),
        ("openai_stream.jsonl", "openai"),
        ("openai_responses.jsonl", "openai"),
        ("openai_usage_export.json", "openai"),
        ("anthropic_messages.jsonl", "anthropic"),
        ("anthropic_usage_report.json", "anthropic"),
        ("litellm_spend_logs.csv", "litellm"),
        ("otel_spans.json", "otel"),
        ("vllm_requests.jsonl", "vllm"),
        ("generic.csv", "generic"),
    ],
)
def test_format_detected(name: str, fmt: str) -> None:
    assert detect_format(FIXTURES / name) == fmt


def test_openai_chat_conventions_and_quarantine(ledger: Ledger) -> None:
    res = ingest(ledger, [FIXTURES / "openai_chat.jsonl"])
    # 11 non-blank lines: A1, A2 stored; A1 again a duplicate; 8 broken
    assert res.to_dict() == {"read": 11, "ingested": 2, "quarantined": 8, "duplicates": 1,
                             "ledger": str(ledger.path)}  # fmt: skip
    got = rows(ledger)
    # prompt_tokens 1200 already include the 1024 cached: copied, not added
    assert got["chatcmpl-A1"] == ("openai", "gpt-4o-2024-08-06", 1, 1200, 1024, 0, 300, 0,
                                  "standard", "search")  # fmt: skip
    # completion_tokens 2000 already include the 1500 reasoning tokens
    assert got["chatcmpl-A2"][3:8] == (500, 0, 0, 2000, 1500)
    assert reasons(ledger) == {
        5: "no usage object (an error response); nothing to price",
        6: "cache reads (200) + writes (0) exceed input tokens (100)",
        7: "reasoning tokens (60) exceed output tokens (50)",
        8: "no created; every row needs a time to be priced at",
        9: "negative count: input -5, cached 0, cache write 0, output 50, reasoning 0, requests 1",
        10: "unknown model 'gpt-7-imaginary' at provider 'openai' and no explicit price_usd; "
        "add a price row under $INFERCOST_CATALOG_DIR/api_prices/ or a price_usd column",
        11: "not JSON (Expecting value at column 61)",
        12: "usage.prompt_tokens is 'many', not a whole number of tokens",
    }
    where = ledger.raw.execute("SELECT DISTINCT source_file FROM quarantine").fetchall()
    assert where == [(str(FIXTURES / "openai_chat.jsonl"),)]


def test_reingest_adds_nothing(ledger: Ledger) -> None:
    first = ingest(ledger, [FIXTURES / "openai_chat.jsonl"])
    again = ingest(ledger, [FIXTURES / "openai_chat.jsonl"])
    assert again.read == first.read == 11
    assert (again.ingested, again.quarantined, again.duplicates) == (0, 0, 11)
    assert ledger.raw.execute("SELECT count(*) FROM requests").fetchone() == (2,)
    assert ledger.raw.execute("SELECT count(*) FROM quarantine").fetchone() == (8,)


def test_stream_fragments(ledger: Ledger) -> None:
    res = ingest(ledger, [FIXTURES / "openai_stream.jsonl"])
    # S1: 2 fragments (duplicates of its final chunk) + final chunk stored;
    # S2: 2 fragments, no usage anywhere: first quarantined, second a duplicate
    assert (res.read, res.ingested, res.quarantined, res.duplicates) == (5, 1, 1, 3)
    assert rows(ledger)["chatcmpl-S1"][3:8] == (40, 0, 0, 12, 0)
    assert "stream_options.include_usage" in reasons(ledger)[4]


def test_responses_flex_tier(ledger: Ledger) -> None:
    ingest(ledger, [FIXTURES / "openai_responses.jsonl"])
    # input_tokens 3000 include 2048 cached; output 900 include 640 reasoning
    assert rows(ledger)["resp_R1"] == ("openai", "gpt-5", 1, 3000, 2048, 0, 900, 640, "flex",
                                       None)  # fmt: skip


def test_openai_usage_export(ledger: Ledger) -> None:
    ingest(ledger, [FIXTURES / "openai_usage_export.json"])
    got = sorted(v[2:10] for v in rows(ledger).values())
    # input_tokens include input_cached_tokens; requests = num_model_requests
    assert got == [(10, 10000, 0, 0, 4000, 0, "batch", "proj_search"),
                   (40, 50000, 20000, 0, 8000, 0, "standard", "proj_search")]  # fmt: skip


def test_anthropic_messages_add_cache_to_input(ledger: Ledger) -> None:
    res = ingest(ledger, [FIXTURES / "anthropic_messages.jsonl"])
    got = rows(ledger)
    # input = 100 uncached + 30000 cache read + 2000 cache write
    assert got["msg_01A"][3:8] == (32100, 30000, 2000, 500, 0)
    # Claude Code transcript line: 4 + 15000 + 1200
    assert got["msg_01C"][3:8] == (16204, 15000, 1200, 80, 0)
    assert reasons(ledger) == {4: "no timestamp; every row needs a time to be priced at"}
    assert res.quarantined == 1


def test_anthropic_usage_report(ledger: Ledger) -> None:
    ingest(ledger, [FIXTURES / "anthropic_usage_report.json"])
    got = ledger.raw.execute(
        "SELECT input_tokens, cached_input_tokens, cache_write_tokens, output_tokens, "
        "service_tier, context_tier, team FROM requests ORDER BY input_tokens"
    ).fetchall()
    # 1,000,000 uncached + 2,000,000 read + 100,000 written (5m) = 3,100,000
    team = "wrkspc_research"
    assert got == [(300000, 0, 0, 10000, "batch", "200k-1M", team),
                   (3100000, 2000000, 100000, 200000, "standard", "0-200k", team)]  # fmt: skip


def test_litellm_spend_logs(ledger: Ledger) -> None:
    ingest(ledger, [FIXTURES / "litellm_spend_logs.csv"])
    got = ledger.raw.execute(
        "SELECT row_key, provider, model, input_tokens, cached_input_tokens, output_tokens, "
        "team, api_key, latency_s, CAST(reported_usd AS VARCHAR), tags FROM requests "
        "ORDER BY row_key"
    ).fetchall()
    assert got[0] == ("ll-001", "openai", "gpt-4o", 1500, 1000, 200, "ops", "key-ops", 2.5,
                      "0.004500000000", '{"batch-report": "true", "nightly": "true"}')  # fmt: skip
    # hosted_vllm traffic is self-hosted, priced by the fleet, not at LiteLLM's $0
    assert got[1][:3] == ("ll-002", "self-hosted", "llama-3.1-8b")


def test_otel_spans_current_and_deprecated_names(ledger: Ledger) -> None:
    res = ingest(ledger, [FIXTURES / "otel_spans.json"])
    assert res.read == 2  # the HTTP span has no gen_ai usage: not a usage record
    got = rows(ledger)
    assert got["chatcmpl-OT1"][3:8] == (800, 512, 0, 120, 0)
    assert got["chatcmpl-OT1"][-1] == "support"  # from the resource attribute
    deprecated = got["otel:5b8efff798038103d269b633813fc60c:aaa19b7ec3c1b175"]
    assert deprecated[3:8] == (300, 0, 0, 900, 700)  # reasoning kept, not lost


def test_vllm_self_hosted_needs_a_deployment(ledger: Ledger, tmp_path: Path) -> None:
    res = ingest(ledger, [FIXTURES / "vllm_requests.jsonl"])
    # 'llama-8b-h100' is not registered, but the served model is a catalog model: kept
    assert (res.ingested, res.quarantined) == (2, 0)
    got = ledger.raw.execute(
        "SELECT provider, deployment, input_tokens, cached_input_tokens, output_tokens, "
        "latency_s FROM requests ORDER BY input_tokens"
    ).fetchall()
    assert got == [("self-hosted", "llama-8b-h100", 1000, 0, 600, 3.2),
                   ("self-hosted", "llama-8b-h100", 2000, 1000, 400, None)]  # fmt: skip
    unknown = tmp_path / "unknown.jsonl"
    unknown.write_text(
        '{"timestamp": 1754049600, "model": "house-llm", "deployment": "x", '
        '"meta_info": {"id": "u1", "prompt_tokens": 5, "completion_tokens": 5}}\n'
    )
    assert ingest(ledger, [unknown]).quarantined == 1


def test_generic_csv(ledger: Ledger) -> None:
    res = ingest(ledger, [FIXTURES / "generic.csv"])
    assert (res.read, res.ingested, res.quarantined) == (5, 2, 3)
    assert reasons(ledger) == {
        4: "cache reads (80) + writes (40) exceed input tokens (100)",
        5: "reasoning tokens (20) exceed output tokens (10)",
        6: "timestamp not-a-time is not ISO 8601 or Unix seconds",
    }
    # an unknown model with an explicit price is accepted
    price = ledger.raw.execute("SELECT price_usd FROM requests WHERE row_key = 'g-2'").fetchone()
    assert price is not None and str(price[0]) == "0.125000000000"


def test_generic_parquet_and_jsonl_agree(ledger: Ledger, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "timestamp": ["2025-08-01T00:00:00Z", "2025-08-01T01:00:00+01:00"],
        "provider": ["openai", "openai"], "model": ["gpt-4o-mini", "gpt-4o-mini"],
        "input_tokens": [10, 20], "output_tokens": [1, 2],
    })  # fmt: skip
    pq.write_table(table, tmp_path / "g.parquet")
    (tmp_path / "g.jsonl").write_text(
        '{"timestamp": "2025-08-01T00:00:00Z", "provider": "openai", "model": "gpt-4o-mini", '
        '"input_tokens": 10, "output_tokens": 1}\n\nnot json\n'
    )
    res = ingest(ledger, [tmp_path / "g.parquet", tmp_path / "g.jsonl"])
    # the JSONL row has the same values as the first Parquet row but no request id:
    # both are keyed by a hash of their values, so it is a duplicate; "not json" is line 3
    assert (res.read, res.ingested, res.quarantined, res.duplicates) == (4, 2, 1, 1)
    assert reasons(ledger)[3].startswith("not JSON")
    ts = ledger.raw.execute("SELECT CAST(ts AS VARCHAR) FROM requests ORDER BY ts").fetchall()
    # "01:00+01:00" is midnight UTC
    assert ts == [("2025-08-01 00:00:00",), ("2025-08-01 00:00:00",)]


def test_errors_are_one_line(ledger: Ledger, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        ingest(ledger, [tmp_path / "missing.jsonl"])
    with pytest.raises(InputError, match="--format 'xml' is unknown"):
        ingest(ledger, [FIXTURES / "generic.csv"], "xml")
    odd = tmp_path / "odd.txt"
    odd.write_text("hello\n")
    with pytest.raises(InputError, match="pass --format"):
        ingest(ledger, [odd])


@pytest.mark.parametrize("content", [b"", b"\xff\xfe\x00garbage"])
def test_empty_or_binary_csv_is_one_clear_error(tmp_path: Path, content: bytes) -> None:
    from infercost.errors import InputError
    from infercost.usage.ingest import _generic_batches

    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    with pytest.raises(InputError, match=r"cannot read .* as CSV"):
        list(_generic_batches(bad, 1000))
