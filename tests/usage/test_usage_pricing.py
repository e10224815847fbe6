"""Price at the request's date, tiers, cache and reasoning billing, GPU-second allocation."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from infercost.usage.ingest import ingest
from infercost.usage.ledger import Deployment, Ledger
from infercost.usage.prices import PriceBook
from infercost.usage.report import deployment_gpu_seconds, priced_groups

HEADER = (
    "timestamp,provider,model,input_tokens,cached_input_tokens,cache_write_tokens,"
    "output_tokens,reasoning_tokens,service_tier,team,request_id\n"
)


def load(ledger: Ledger, book: PriceBook, tmp_path: Path, lines: list[str]) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(HEADER + "".join(line + "\n" for line in lines))
    res = ingest(ledger, [path], prices=book)
    assert res.quarantined == 0


def usd_by_team(ledger: Ledger, book: PriceBook, deployments: list[Deployment] | None = None,
                **kw: str) -> dict[str | None, Decimal]:  # fmt: skip
    rep = priced_groups(ledger.requests(), ["team"], book, deployments or [], **kw)  # type: ignore[arg-type]
    assert rep.unpriced == []
    return {r.key["team"]: r.usd for r in rep.rows}


def test_price_in_force_at_timestamp(ledger: Ledger, book: PriceBook, tmp_path: Path) -> None:
    load(ledger, book, tmp_path, [
        "2025-08-14T23:59:59Z,acme,acme-1,50000,0,0,50000,0,standard,before,r1",
        "2025-08-15T00:00:00Z,acme,acme-1,50000,0,0,50000,0,standard,after,r2",
    ])  # fmt: skip
    got = usd_by_team(ledger, book)
    # before 15 Aug: 0.05M x $1 + 0.05M x $4 = 0.25; from 15 Aug: 0.05M x $2 + 0.05M x $8 = 0.5
    assert got == {"before": Decimal("0.25"), "after": Decimal("0.5")}


def test_long_context_tier_applies_to_whole_request(
    ledger: Ledger, book: PriceBook, tmp_path: Path
) -> None:
    load(ledger, book, tmp_path, [
        "2025-08-01T00:00:00Z,acme,acme-1,100000,0,0,1000,0,standard,at,r1",
        "2025-08-01T00:00:00Z,acme,acme-1,100001,0,0,1000,0,standard,above,r2",
    ])  # fmt: skip
    got = usd_by_team(ledger, book)
    # 100,000 is not above the threshold: 0.1M x $1 + 0.001M x $4 = 0.104
    # 100,001 is: every token at the tier, 0.100001M x $3 + 0.001M x $12 = 0.312003
    assert got == {"at": Decimal("0.104"), "above": Decimal("0.312003")}


def test_cached_billed_once_reasoning_as_output(
    ledger: Ledger, book: PriceBook, tmp_path: Path
) -> None:
    load(ledger, book, tmp_path, [
        "2025-08-01T00:00:00Z,acme,acme-1,100000,60000,10000,50000,40000,standard,t,r1",
    ])  # fmt: skip
    got = usd_by_team(ledger, book)
    # uncached 30k x $1/M = 0.03; cached 60k x $0.10/M = 0.006 (not also at $1);
    # written 10k x $1.25/M = 0.0125; output 50k (40k of it reasoning) x $4/M = 0.2
    assert got == {"t": Decimal("0.2485")}


def test_batch_and_flex_discount(ledger: Ledger, book: PriceBook, tmp_path: Path) -> None:
    load(ledger, book, tmp_path, [
        "2025-08-01T00:00:00Z,acme,acme-1,100000,0,0,0,0,batch,b,r1",
        "2025-08-01T00:00:00Z,acme,acme-1,100000,0,0,0,0,flex,f,r2",
    ])  # fmt: skip
    # 0.1M x $1 x (1 - 0.5) each
    assert usd_by_team(ledger, book) == {"b": Decimal("0.05"), "f": Decimal("0.05")}


def test_priority_without_price_is_unpriced(
    ledger: Ledger, book: PriceBook, tmp_path: Path
) -> None:
    load(ledger, book, tmp_path, ["2025-08-01T00:00:00Z,acme,acme-1,10,0,0,10,0,priority,p,r1"])
    rep = priced_groups(ledger.requests(), ["team"], book, [])
    assert rep.rows == [] and rep.total_usd == 0
    assert rep.unpriced[0]["rows"] == 1 and "priority" in rep.unpriced[0]["reason"]


def test_report_window(ledger: Ledger, book: PriceBook, tmp_path: Path) -> None:
    from datetime import datetime

    load(ledger, book, tmp_path, [
        "2025-08-01T00:00:00Z,acme,acme-1,100000,0,0,0,0,standard,a,r1",
        "2025-08-02T00:00:00Z,acme,acme-1,100000,0,0,0,0,standard,a,r2",
    ])  # fmt: skip
    rep = priced_groups(ledger.requests(), ["team"], book, [], datetime(2025, 8, 2),
                        datetime(2025, 8, 3))  # fmt: skip
    assert rep.total_usd == Decimal("0.1") and rep.rows[0].requests == 1  # 0.1M x $1


def test_gpu_second_allocation_with_idle_line(
    ledger: Ledger, book: PriceBook, tmp_path: Path
) -> None:
    fleet = Deployment("llama", "llama-3.1-8b", "H100", 2, 1, Decimal("2.50"))
    ledger.add_deployments([fleet])
    path = tmp_path / "self.csv"
    path.write_text(
        "timestamp,provider,model,deployment,input_tokens,cached_input_tokens,output_tokens,"
        "team,request_id\n"
        "2025-08-01T01:00:00Z,self-hosted,llama-3.1-8b,llama,3000,1000,500,a,s1\n"
        "2025-08-01T02:00:00Z,self-hosted,llama-3.1-8b,llama,1000,0,300,b,s2\n"
    )
    ingest(ledger, [path], prices=book)
    rep = priced_groups(ledger.requests(), ["team"], book, ledger.deployments())
    got = {r.key["team"]: r.usd for r in rep.rows}
    # the fleet: 2 GPUs x 24 h (the data's one day) x $2.50 = $120
    assert rep.total_usd == Decimal(120)
    # GPU-s at the period's mean lengths (isl 2000, osl 400), uncached prompt tokens only
    per = deployment_gpu_seconds(fleet, 2000, 400)
    gpu_s_a = 2000 * per.per_input_token_s + 500 * per.per_output_token_s
    gpu_s_b = 1000 * per.per_input_token_s + 300 * per.per_output_token_s
    rate = Decimal(120) / Decimal(2 * 24 * 3600)  # $ per paid GPU-second
    assert got["a"] == pytest.approx(Decimal(gpu_s_a) * rate, rel=Decimal("1e-12"))
    assert got["b"] == pytest.approx(Decimal(gpu_s_b) * rate, rel=Decimal("1e-12"))
    assert got["(idle: llama)"] == Decimal(120) - got["a"] - got["b"]
    assert got["a"] > 0 and got["(idle: llama)"] > Decimal(119)
    # proportional allocation spreads the idle cost over users by GPU-seconds
    shared = priced_groups(ledger.requests(), ["team"], book, ledger.deployments(),
                           allocate_idle="proportional")  # fmt: skip
    split = {r.key["team"]: r.usd for r in shared.rows}
    assert set(split) == {"a", "b"}
    assert split["a"] + split["b"] == Decimal(120)
    assert split["a"] / split["b"] == pytest.approx(Decimal(gpu_s_a / gpu_s_b))


def test_batch_cache_reads_follow_the_provider_rule(tmp_path: Path) -> None:
    """A user price file for OpenAI gpt-4.1 with a batch discount and no batch cache columns:
    the sourced rule (catalog.pricing.BATCH_CACHE_RULES: OpenAI's Batch table lists no
    cached-input rate for GPT-4.1) keeps cached input at its standard rate in a batch, while
    Flex takes the discount off cached input too (OpenAI's Flex table: o3 cached $0.25 of
    $0.50). Anthropic's Message Batches halve cache reads and writes."""
    folder = tmp_path / "catalog"
    (folder / "api_prices").mkdir(parents=True)
    (folder / "api_prices" / "mine.csv").write_text(
        "provider,model,usd_per_m_input,usd_per_m_output,usd_per_m_cached_input,"
        "usd_per_m_cache_write,batch_discount,context_tiers,as_of,source,notes\n"
        "OpenAI,gpt-4.1,2.00,8.00,0.50,,0.5,,2025-01-01,contract,\n"
        "Anthropic,claude-x,3.00,15.00,0.30,3.75,0.5,,2025-01-01,contract,\n"
    )
    book = PriceBook((str(folder),), use_genai_prices=False)
    with Ledger(tmp_path / "l.duckdb") as ledger:
        path = tmp_path / "rows.csv"
        path.write_text(
            HEADER
            + "2025-08-01T00:00:00Z,openai,gpt-4.1,500000,400000,0,10000,0,batch,b,r1\n"
            + "2025-08-01T00:00:00Z,openai,gpt-4.1,500000,400000,0,10000,0,flex,f,r2\n"
            + "2025-08-01T00:00:00Z,anthropic,claude-x,130000,100000,10000,2000,0,batch,a,r3\n"
        )
        assert ingest(ledger, [path], prices=book).quarantined == 0
        got = usd_by_team(ledger, book)
    # batch: uncached 100k x $1 = 0.10; cached 400k x $0.50 (standard) = 0.20;
    #        output 10k x $4 = 0.04 -> 0.34
    # flex:  0.10 + 400k x $0.25 = 0.10 + 0.04 -> 0.24
    # anthropic batch: 20k x $1.50 = 0.03; 100k x $0.15 = 0.015; 10k x $1.875 = 0.01875;
    #        2k x $7.50 = 0.015 -> 0.07875
    assert got == {"b": Decimal("0.34"), "f": Decimal("0.24"), "a": Decimal("0.07875")}


def test_long_context_tier_cache_write_price(tmp_path: Path) -> None:
    """A price file tier with a cache-write price (5th field): above 100,000 prompt tokens
    cache writes cost $2.50/M instead of $1.25/M. 10,000 uncached + 100,000 written =
    110,000 > 100,000: 0.01M x $3 + 0.1M x $2.50 = 0.03 + 0.25 = 0.28."""
    folder = tmp_path / "catalog"
    (folder / "api_prices").mkdir(parents=True)
    (folder / "api_prices" / "t.csv").write_text(
        "provider,model,usd_per_m_input,usd_per_m_output,usd_per_m_cached_input,"
        "usd_per_m_cache_write,batch_discount,context_tiers,as_of,source,notes\n"
        "Acme,acme-9,1.00,4.00,0.10,1.25,,100000:3.00:12.00:0.30:2.50,2025-01-01,test,\n"
    )
    book = PriceBook((str(folder),), use_genai_prices=False)
    with Ledger(tmp_path / "l.duckdb") as ledger:
        path = tmp_path / "rows.csv"
        path.write_text(
            HEADER + "2025-08-01T00:00:00Z,acme,acme-9,110000,0,100000,0,0,standard,w,r1\n"
        )
        assert ingest(ledger, [path], prices=book).quarantined == 0
        assert usd_by_team(ledger, book) == {"w": Decimal("0.28")}
