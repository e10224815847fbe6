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
