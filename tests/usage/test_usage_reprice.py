"""Re-pricing a period under alternatives, against values derived by hand."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infercost.cli.usage import usage_app
from infercost.errors import InputError
from infercost.usage.ingest import ingest
from infercost.usage.ledger import Ledger
from infercost.usage.prices import PriceBook
from infercost.usage.reprice import reprice

HEADER = (
    "timestamp,provider,model,input_tokens,cached_input_tokens,output_tokens,team,request_id\n"
)

# r1 before the acme-1 price change (15 Aug), r2 after; neither prompt is above the
# 100,000-token tier (100,000 is not above it).
ROWS = [
    "2025-08-10T12:00:00Z,acme,acme-1,100000,0,50000,a,r1",
    "2025-08-20T12:00:00Z,acme,acme-1,80000,40000,10000,b,r2",
]


def load(ledger: Ledger, book: PriceBook, tmp_path: Path, rows: list[str]) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(HEADER + "".join(r + "\n" for r in rows))
    assert ingest(ledger, [path], prices=book).quarantined == 0


def alternatives(ledger: Ledger, book: PriceBook, *specs: str, **kw: object) -> dict[str, object]:
    rep = reprice(ledger.requests(), book, [], list(specs), **kw)  # type: ignore[arg-type]
    return {
        "actual": rep.actual_usd,
        **{a.spec: (a.low_usd, a.high_usd) for a in rep.alternatives},
    }


def test_api_alternatives_by_hand(ledger: Ledger, book: PriceBook, tmp_path: Path) -> None:
    load(ledger, book, tmp_path, ROWS)
    got = alternatives(ledger, book, "model:acme/acme-2", "tier:batch", "prices:2025-01-01",
                       "caching:0.5-1")  # fmt: skip
    # actual: r1 at $1/$4: 0.1M x 1 + 0.05M x 4 = 0.30;
    #         r2 at $2/$8/$0.20 cached: 0.04M x 2 + 0.04M x 0.20 + 0.01M x 8 = 0.168
    assert got["actual"] == Decimal("0.468")
    # acme-2 ($0.50/$2/$0.05): r1 0.1 x 0.5 + 0.05 x 2 = 0.15; r2 0.04 x 0.5 + 0.04 x 0.05
    # + 0.01 x 2 = 0.042
    assert got["model:acme/acme-2"] == (Decimal("0.192"), Decimal("0.192"))
    # batch: half of 0.468
    assert got["tier:batch"] == (Decimal("0.234"), Decimal("0.234"))
    # January's sheet for both: r1 0.30; r2 0.04 x 1 + 0.04 x 0.10 + 0.01 x 4 = 0.084
    assert got["prices:2025-01-01"] == (Decimal("0.384"), Decimal("0.384"))
    # caching 100 %: r1 0.1 x 0.10 + 0.2 = 0.21; r2 0.08 x 0.20 + 0.08 = 0.096 -> 0.306
    # caching 50 %: r1 0.05 x 1 + 0.05 x 0.10 + 0.2 = 0.255;
    #               r2 0.02 x 2 + 0.06 x 0.20 + 0.08 = 0.132 -> 0.387
    assert got["caching:0.5-1"] == (Decimal("0.306"), Decimal("0.387"))


def test_scope_where(ledger: Ledger, book: PriceBook, tmp_path: Path) -> None:
    load(ledger, book, tmp_path, ROWS)
    got = alternatives(ledger, book, "model:acme/acme-2", where={"team": "b"})
    assert got == {"actual": Decimal("0.168"),
                   "model:acme/acme-2": (Decimal("0.042"), Decimal("0.042"))}  # fmt: skip


def test_selfhost_fleet_by_hand(ledger: Ledger, book: PriceBook, tmp_path: Path) -> None:
    # two days; each day one busy hour (10:00) with 7,200,000 output tokens = 2,000 tok/s
    rows = [f"2025-08-0{d}T10:{m:02d}:00Z,acme,acme-1,1000,0,120000,a,d{d}m{m}"
            for d in (1, 2) for m in range(60)]  # fmt: skip
    load(ledger, book, tmp_path, rows)
    spec = ("selfhost:llama-3.1-8b@H100,tok_s=1000,gpu_hour_usd=2,headroom=0,spares=1,"
            "ops_usd_per_month=7300")  # fmt: skip
    rep = reprice(ledger.requests(), book, [], [spec])
    a = rep.alternatives[0]
    # period: 2 days = 48 h; people: $7,300 x 48 / 730 = $480; spare: 1 x 48 h x $2 = $96
    # high: ceil(2,000 / 1,000) = 2 replicas all period: 2 x 48 x $2 = $192 -> $768
    assert a.high_usd == Decimal(768)
    # low: autoscaled; 2 replicas from 09:50 (10-minute start lag) to 11:00 = 70 minutes,
    # 1 replica (the minimum) the other 1,370 minutes: (1,370 + 140) / 60 replica-hours a
    # day = 25.1667; x 2 days x $2 = $100.667 -> + $96 + $480 = $676.667
    assert a.low_usd == pytest.approx(Decimal("676.6667"), abs=Decimal("0.001"))
    assert a.detail["static_replicas"] == 2 and a.detail["peak_output_tok_s"] == 2000
    assert any("people: $7,300/month" in x for x in a.assumptions)


def test_bad_specs_are_input_errors(ledger: Ledger, book: PriceBook, tmp_path: Path) -> None:
    load(ledger, book, tmp_path, ROWS)
    for spec, text in (("nope", "is not an alternative"), ("tier:gold", "must be one of"),
                       ("caching:0.8-0.2", "LO <= HI"), ("prices:yesterday", "YYYY-MM-DD"),
                       ("selfhost:llama-3.1-8b", "MODEL@GPU"),
                       ("selfhost:llama-3.1-8b@H100,tok_s=10", "gpu_hour_usd too"),
                       ("model:acme-2", "PROVIDER/MODEL"),
                       # no LLM API price sheet before OpenAI's API (2020-06-11), none ahead
                       ("prices:1999-01-01", "no LLM API price sheet"),
                       ("prices:2999-01-01", "no LLM API price sheet")):  # fmt: skip
        with pytest.raises(InputError, match=text):
            reprice(ledger.requests(), book, [], [spec])


def test_reprice_cli_json(demo_ledger: Path, tmp_path: Path) -> None:
    args = ["reprice", "--ledger", str(demo_ledger), "--as", "caching:0.5", "--where",
            "team=search", "--json", "--html", str(tmp_path / "r.html")]  # fmt: skip
    res = CliRunner().invoke(usage_app, args)
    assert res.exit_code == 0, res.output
    got = json.loads(res.stdout)
    assert list(got) == ["from", "to", "where", "actual_usd", "unpriced", "alternatives"]
    alt = got["alternatives"][0]
    assert list(alt) == ["as", "complete", "low_usd", "high_usd", "change_low_usd",
                         "change_high_usd", "assumptions", "unpriced", "detail"]  # fmt: skip
    assert Decimal(alt["low_usd"]) < Decimal(got["actual_usd"])


def test_selfhost_gpus_key_sets_the_replica_size(
    ledger: Ledger, book: PriceBook, tmp_path: Path
) -> None:
    # ``gpus=`` without ``tok_s=`` is the replica's GPU count for the plan search (it was
    # ignored): Llama-3.1-8B fits one H100, and gpus=2 must give a 2-GPU replica
    load(ledger, book, tmp_path, ROWS)
    rep = reprice(ledger.requests(), book, [],
                  ["selfhost:llama-3.1-8b@H100,gpus=2,gpu_hour_usd=2"])  # fmt: skip
    (a,) = rep.alternatives
    replica = next(x for x in a.assumptions if x.startswith("replica:"))
    assert "2x" in replica or "TP2" in replica or "2 GPU" in replica, replica


def test_selfhost_light_traffic_takes_the_cheapest_fleet_not_the_best_full_batch(
    ledger: Ledger, book: PriceBook, tmp_path: Path
) -> None:
    # two requests in a month: one replica serves the busiest hour whatever its size, so the
    # fleet costs that replica's GPUs x $/h; the plan search's $/M-at-full-batch winner for
    # Llama-3.1-70B on H100 (fp8) at these lengths is 8 GPUs, the cheapest fleet a 2-GPU
    # replica (QA: a 6-GPU replica for 7 tok/s; before the fix the 8-GPU one was taken)
    from infercost.plan.fleet import replica_from_search

    load(ledger, book, tmp_path, ROWS)
    best_batch, _ = replica_from_search("llama-3.1-70b", "H100", 90000, 30000,
                                        weight_dtype="fp8", gpu_hour_usd=2.0)  # fmt: skip
    rep = reprice(ledger.requests(), book, [],
                  ["selfhost:llama-3.1-70b@H100,weight_dtype=fp8,gpu_hour_usd=2"])  # fmt: skip
    (a,) = rep.alternatives
    replica = next(x for x in a.assumptions if x.startswith("replica:"))
    chosen = int(replica.split("replica: ", 1)[1].split("x ", 1)[0])
    assert best_batch.gpus > 1
    assert chosen < best_batch.gpus
