"""Planners price from current offers (plan.prices.current_offers), and a disaggregated search
is priced from the same offer as the aggregated one it is compared with."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from typer.testing import CliRunner

from infercost.catalog.pricing import Offer, current_offers
from infercost.cli import app


def _offer(oid: str, gpu: str, kind: str, usd: str, as_of: date) -> Offer:
    return Offer(
        id=oid, provider="p", instance="1x", gpu=gpu, gpus_per_instance=1, pricing_kind=kind,
        usd_per_hour=Decimal(usd), as_of=as_of, source="test",
    )  # fmt: skip


def test_an_offer_the_market_moved_past_does_not_win() -> None:
    # H100 on-demand: newest 2026-11-09; 2026-06-01 is 161 days older (kept, <= 180);
    # 2026-01-01 is 312 days older (dropped). Reserved: its only offer is old, and is kept
    # (a GPU and kind whose only price is old still has that price, flagged stale).
    pool = [
        _offer("new", "h100-sxm", "on-demand", "3.99", date(2026, 11, 9)),
        _offer("mid", "h100-sxm", "on-demand", "2.99", date(2026, 6, 1)),
        _offer("old", "h100-sxm", "on-demand", "1.49", date(2026, 1, 1)),
        _offer("res", "h100-sxm", "reserved-1y", "1.70", date(2025, 7, 22)),
        _offer("l40s", "l40s", "on-demand", "0.86", date(2025, 8, 12)),
    ]
    kept = {o.id for o in current_offers(pool)}
    assert kept == {"new", "mid", "res", "l40s"}


def test_disaggregated_side_is_priced_from_the_aggregated_winners_offer() -> None:
    args = ["plan", "search", "--model", "llama-3.1-8b", "--isl", "1000", "--osl", "300",
            "--max-tpot-ms", "30", "--gpu", "H100", "--max-gpus", "4", "--disagg",
            "--json"]  # fmt: skip
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    offer = d["winner"]["offer"]
    split = d["disaggregated"]["winner"]
    assert f"offer {offer};" in split["price_source"]
    # one offer of one GPU per instance: the same $/GPU-hour on both sides
    assert split["usd_per_gpu_hour"] == d["winner"]["usd_per_gpu_hour"]


def test_allow_spot_with_a_typed_rate_is_refused() -> None:
    # --allow-spot only chooses among offers; with --gpu-hour-usd it changed nothing (QA)
    args = ["plan", "search", "--model", "llama-3.1-8b", "--isl", "1000", "--osl", "300",
            "--gpu-hour-usd", "2", "--allow-spot"]  # fmt: skip
    res = CliRunner().invoke(app, args)
    assert res.exit_code != 0
    assert "--allow-spot chooses among catalog offers" in str(res.output) + str(res.exception)


SEARCH_70B = ["plan", "search", "--model", "llama-3.1-70b", "--isl", "1000", "--osl", "300",
              "--max-tpot-ms", "50"]  # fmt: skip


def test_search_prices_each_gpu_as_predict_does_one_kind_named_in_the_text() -> None:
    # QA: search priced h100-sxm at $1.70, runpod-h100-reserved-1y-2025-07-22 (a 2025
    # reservation) beside other GPUs' on-demand prices, while predict/cost/fleet used $3.99.
    # The rule (catalog.pricing.family_offer): the lower median of the current on-demand
    # offers. H100 SXM on-demand within 180 days of the newest (2026-11-09), $/GPU-h:
    # 2.69, 2.99, 3.20, 3.49, 3.85, 3.99 (runpod secure, 2026-11-09), 3.99 (lambda 8x,
    # 2026-09-25), 4.29, 6.155, 6.88, 12.29 -> 11 offers, index (11 - 1) // 2 = 5 -> the
    # newer $3.99, runpod-h100-sxm-secure-on-demand-2026-11-09 (1 GPU per instance, so a
    # 2-GPU replica pays $3.99 per used GPU-hour).
    res = CliRunner().invoke(app, [*SEARCH_70B, "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    h100 = next(f for f in d["families"] if f["gpu"] == "h100-sxm")["best"]
    assert h100["offer"] == "runpod-h100-sxm-secure-on-demand-2026-11-09"
    assert h100["usd_per_gpu_hour"] == 3.99
    assert (h100["pricing_kind"], h100["price_as_of"]) == ("on-demand", "2026-11-09")
    priced = [f["best"] for f in d["families"] if f["best"]]
    assert {b["pricing_kind"] for b in priced} == {"on-demand"}
    assert not any("reserved" in b["offer"] or "committed" in b["offer"] for b in priced)
    # the text names each row's offer, kind and date, and STALE where only an old one exists
    text = CliRunner().invoke(app, SEARCH_70B, env={"COLUMNS": "250"}).output
    assert (
        "h100-sxm: $3.99/GPU-h from runpod-h100-sxm-secure-on-demand-2026-11-09 "
        "(on-demand, as of 2026-11-09)"
    ) in text
    # mi325x's only on-demand offer is dated 2026-05-18: used, and flagged
    assert "from tensorwave-mi325x-on-demand-2026-05-18 (on-demand, as of 2026-05-18" in text
    assert "STALE" in text.split("tensorwave-mi325x-on-demand-2026-05-18 (on-demand")[1][:60]


def test_pareto_text_names_offer_kind_and_date() -> None:
    args = ["plan", "pareto", "--model", "llama-3.1-8b", "--isl", "1000", "--osl", "300",
            "--gpu", "H100", "--max-gpus", "2"]  # fmt: skip
    res = CliRunner().invoke(app, args, env={"COLUMNS": "250"})
    assert res.exit_code == 0, res.output
    assert (
        "h100-sxm: $3.99/GPU-h from runpod-h100-sxm-secure-on-demand-2026-11-09 "
        "(on-demand, as of 2026-11-09)"
    ) in res.output


def test_a_typed_rate_is_named_once() -> None:
    res = CliRunner().invoke(
        app, [*SEARCH_70B, "--gpu", "H100", "--gpu-hour-usd", "2"], env={"COLUMNS": "250"}
    )
    assert res.exit_code == 0, res.output
    assert "price: $2/GPU-h for every GPU, given (--gpu-hour-usd)" in res.output
