"""FOCUS 1.2 rows and self-hosted prices for LiteLLM / Langfuse, against hand-derived values."""

from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from infercost.cli.usage import usage_app
from infercost.errors import InputError
from infercost.usage.export import (
    FOCUS_COLUMNS,
    focus_rows,
    langfuse_models,
    litellm_config,
    self_hosted_prices,
    write_focus,
)
from infercost.usage.ingest import ingest
from infercost.usage.ledger import Deployment, Ledger
from infercost.usage.prices import PriceBook
from infercost.usage.report import deployment_gpu_seconds

HEADER = (
    "timestamp,provider,model,input_tokens,cached_input_tokens,output_tokens,team,app,request_id\n"
)
ROWS = [
    "2025-08-10T12:00:00Z,acme,acme-1,100000,0,50000,a,bot,r1",
    "2025-08-20T12:00:00Z,acme,acme-1,80000,40000,10000,b,bot,r2",
]


def load(ledger: Ledger, book: PriceBook, tmp_path: Path, rows: list[str]) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(HEADER + "".join(r + "\n" for r in rows))
    assert ingest(ledger, [path], prices=book).quarantined == 0


def test_focus_rows_by_hand(ledger: Ledger, book: PriceBook, tmp_path: Path) -> None:
    load(ledger, book, tmp_path, ROWS)
    rows, start, end, unpriced = focus_rows(ledger.requests(), book, [])
    assert (start, end, unpriced) == (datetime(2025, 8, 10), datetime(2025, 8, 21), [])
    got = {(r["x_Team"], r["x_ChargeKind"]): r for r in rows}
    # r2's prompt: 80,000 = 40,000 uncached + 40,000 cached, so no cache_write row
    assert set(got) == {("a", "input"), ("a", "output"), ("b", "input"),
                        ("b", "cached_input"), ("b", "output")}  # fmt: skip
    a_in = got[("a", "input")]
    # r1 before 15 Aug: 100,000 tokens x $1/M = $0.10 billed and list
    assert (a_in["ConsumedQuantity"], a_in["ConsumedUnit"]) == (Decimal(100000), "Tokens")
    assert (a_in["BilledCost"], a_in["ListCost"]) == (Decimal("0.1"), Decimal("0.1"))
    assert (a_in["PricingQuantity"], a_in["PricingUnit"]) == (Decimal("0.1"), "1M Tokens")
    assert a_in["ListUnitPrice"] == Decimal(1)
    assert a_in["ChargePeriodStart"] == datetime(2025, 8, 10)
    assert a_in["ChargePeriodEnd"] == datetime(2025, 8, 11)
    assert a_in["BillingPeriodStart"] == datetime(2025, 8, 1)
    assert a_in["BillingPeriodEnd"] == datetime(2025, 9, 1)
    assert json.loads(a_in["Tags"]) == {"team": "a", "app": "bot", "service_tier": "standard"}
    assert a_in["ResourceId"] == "acme/acme-1" and a_in["ServiceName"] == "acme API"
    # r2's cache reads after 15 Aug: billed 40,000 x $0.20/M = $0.008; list at the input
    # rate 40,000 x $2/M = $0.08 (EffectiveCost < ListCost shows the caching discount)
    cached = got[("b", "cached_input")]
    assert (cached["BilledCost"], cached["EffectiveCost"]) == (Decimal("0.008"),) * 2
    assert (cached["ListCost"], cached["ListUnitPrice"]) == (Decimal("0.08"), Decimal(2))
    assert cached["ContractedUnitPrice"] == Decimal("0.2")
    # the rows add up to the report: 0.30 + 0.168 (test_usage_reprice derives both)
    assert sum(r["BilledCost"] for r in rows) == Decimal("0.468")


def test_focus_file_csv_and_parquet(ledger: Ledger, book: PriceBook, tmp_path: Path) -> None:
    load(ledger, book, tmp_path, ROWS)
    names = [n for n, _ in FOCUS_COLUMNS]
    for suffix in ("csv", "parquet"):
        target = tmp_path / f"focus.{suffix}"
        done = write_focus(target, ledger.requests(), book, [])
        assert (done.rows, done.billed_usd) == (5, Decimal("0.468"))
        table = pq.read_table(target) if suffix == "parquet" else pacsv.read_csv(target)
        assert table.column_names == names and table.num_rows == 5
    with pytest.raises(InputError, match=r"\.csv or \.parquet"):
        write_focus(tmp_path / "focus.xlsx", ledger.requests(), book, [])


def test_self_hosted_prices_pay_the_fleet(ledger: Ledger, book: PriceBook, tmp_path: Path) -> None:
    fleet = Deployment("llama-8b", "llama-3.1-8b", "H100", 2, 1, Decimal("2.50"))
    ledger.add_deployments([fleet])
    rows = [f"2025-08-0{d}T{h:02d}:00:00Z,self-hosted,llama-8b,2000,500,300,a,bot,s{d}{h}"
            for d in (1, 2) for h in range(24)]  # fmt: skip
    load(ledger, book, tmp_path, rows)
    (p,) = self_hosted_prices(ledger.requests(), [fleet])
    # two days: 2 GPUs x 48 h x $2.50 = $240
    assert p.fleet_usd == Decimal(240)
    # the period's 48 requests at these prices pay exactly the fleet:
    # 48 x (1,500 uncached x $/in + 300 x $/out) = $240
    paid = 48 * (1500 * p.input_usd_per_token + 300 * p.output_usd_per_token)
    assert paid == pytest.approx(Decimal(240), rel=Decimal("1e-20"))
    # and input ÷ output = prefill ÷ decode GPU-seconds per token of the physics
    per = deployment_gpu_seconds(fleet, 2000, 300)
    ratio = p.input_usd_per_token / p.output_usd_per_token
    assert float(ratio) == pytest.approx(per.per_input_token_s / per.per_output_token_s)
    lite = litellm_config([p])["model_list"][0]
    assert lite["litellm_params"]["model"] == "hosted_vllm/llama-3.1-8b"
    assert lite["model_info"]["input_cost_per_token"] == float(p.input_usd_per_token) > 0
    assert lite["model_info"]["output_cost_per_token"] == float(p.output_usd_per_token) > 0
    (lf,) = langfuse_models([p], datetime(2025, 8, 1))
    assert lf["unit"] == "TOKENS" and lf["startDate"] == "2025-08-01T00:00:00Z"
    assert re.match(lf["matchPattern"], "hosted_vllm/LLAMA-3.1-8B")
    assert re.match(lf["matchPattern"], "llama-8b")
    assert not re.match(lf["matchPattern"], "llama-3.1-8b-instruct")


def test_export_cli(demo_ledger: Path, tmp_path: Path) -> None:
    out = [tmp_path / "f.parquet", tmp_path / "ll.json", tmp_path / "lf.json"]
    res = CliRunner().invoke(usage_app, ["export", "--ledger", str(demo_ledger), "--focus",
                                         str(out[0]), "--litellm", str(out[1]), "--langfuse",
                                         str(out[2]), "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    got = json.loads(res.stdout)
    report = CliRunner().invoke(usage_app, ["report", "--ledger", str(demo_ledger), "--json"])
    # the FOCUS rows bill what the report totals, idle fleet time included
    assert got["billed_usd"] == json.loads(report.stdout)["total_usd"]
    assert [h["deployment"] for h in got["self_hosted"]] == ["llama-3.1-8b"]
    assert all(p.exists() for p in out)
    res = CliRunner().invoke(usage_app, ["export", "--ledger", str(demo_ledger)])
    assert "give --focus FILE" in str(res.exception)


def test_export_says_when_self_hosted_rates_carry_idle_time(
    demo_ledger: Path, tmp_path: Path
) -> None:
    # the demo fleet is busy a fraction of a percent of the month (QA: $306.79/M output
    # exported without a word); the text output names it and the rate at full use, which is
    # the exported rate x the utilisation
    args = ["export", "--ledger", str(demo_ledger), "--litellm", str(tmp_path / "ll.json")]
    res = CliRunner().invoke(usage_app, args)
    assert res.exit_code == 0, res.output
    got = CliRunner().invoke(usage_app, [*args, "--json"])
    (hosted,) = json.loads(got.stdout)["self_hosted"]
    assert hosted["utilization"] < 0.2
    full = float(hosted["usd_per_m_output"]) * hosted["utilization"]
    text = " ".join(res.stdout.split())  # the console wraps long lines
    assert "carry its idle GPU-hours" in text
    printed = re.search(r"rate at full use is about \$([0-9.,]+)/M", text)
    assert printed is not None, text
    assert float(printed.group(1).replace(",", "")) == pytest.approx(full, rel=2e-3)
