"""Hypothesis over the CLI's numeric options and the library's entry points.

Each example runs one command with options drawn from valid values, edge values and garbage
(nan, inf, negatives, 10^40). Asserted: no traceback (only a clean InfercostError / exit code),
no inf/NaN in a JSON answer, and physical invariants. Bounded: few examples per command and
no deadline, so the module runs in about a minute on 2 cores.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from infercost.cli import app
from infercost.cost.tokens import usd_per_m_tokens
from infercost.errors import InfercostError

runner = CliRunner()
FUZZ = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
EDGE = st.sampled_from(["nan", "inf", "-inf", "-1", "0", "1e308", "1e-300", BIG := "1" + "0" * 40])


def num(lo: float, hi: float) -> st.SearchStrategy[str]:
    """A valid number in [lo, hi], or an edge value."""
    return st.one_of(st.floats(lo, hi).map(lambda x: f"{x:.6g}"), EDGE)


def whole(lo: int, hi: int) -> st.SearchStrategy[str]:
    return st.one_of(st.integers(lo, hi).map(str), EDGE)


def run(args: list[str]) -> Any:
    """Invoke; assert no traceback; return parsed JSON on exit 0 with --json, else None."""
    res = runner.invoke(app, args)
    exc = res.exception
    assert exc is None or isinstance(exc, SystemExit | InfercostError), (args, repr(exc))
    if isinstance(exc, InfercostError):
        assert "\n" not in str(exc), str(exc)
    assert res.exit_code in (0, 1, 2), (args, res.exit_code)
    if res.exit_code == 0 and "--json" in args:
        assert "NaN" not in res.output and "Infinity" not in res.output, args
        return json.loads(res.output)
    return None


def _finite(obj: Any) -> None:
    if isinstance(obj, float):
        assert math.isfinite(obj)
    elif isinstance(obj, dict):
        for v in obj.values():
            _finite(v)
    elif isinstance(obj, list):
        for v in obj:
            _finite(v)


@FUZZ
@given(price=num(1, 1e6), kwh=num(0, 1), years=num(0.5, 10), util=num(0.1, 1), pue=num(1, 2))
def test_tco(price: str, kwh: str, years: str, util: str, pue: str) -> None:
    data = run(
        ["tco", "--gpu-price-usd", price, "--usd-per-kwh", kwh, "--years", years,
         "--utilization", util, "--pue", pue, "--gpu", "H100", "--json"]
    )  # fmt: skip
    if data is not None:
        _finite(data)


@FUZZ
@given(
    isl=whole(1, 4000), osl=whole(1, 2000), conc=whole(1, 256), rate=num(0.1, 20),
    util=num(0.1, 1), spare=whole(0, 4),
)  # fmt: skip
def test_cost(isl: str, osl: str, conc: str, rate: str, util: str, spare: str) -> None:
    data = run(
        ["cost", "--model", "llama-3.1-8b", "--gpu", "H100", "--isl", isl, "--osl", osl,
         "--concurrency", conc, "--gpu-hour-usd", rate, "--utilization", util,
         "--spare-replicas", spare, "--json"]
    )  # fmt: skip
    if data is not None:
        _finite(data)


@FUZZ
@given(
    isl=num(0, 4000), osl=num(1, 2000), tpd=num(1e6, 1e12), tok=num(10, 1e5),
    headroom=num(0, 1), usd=num(0.5, 10),
)  # fmt: skip
def test_plan_fleet(isl: str, osl: str, tpd: str, tok: str, headroom: str, usd: str) -> None:
    data = run(
        ["plan", "fleet", "--isl", isl, "--osl", osl, "--tokens-per-day", tpd,
         "--replica-output-tok-s", tok, "--gpu-hour-usd", usd, "--headroom", headroom, "--json"]
    )  # fmt: skip
    if data is not None:
        _finite(data)


@FUZZ
@given(
    tpd=num(1e6, 1e12), tok=num(10, 1e5), usd=num(0.5, 10), api=num(0.1, 100),
    ops=num(0, 1e5),
)  # fmt: skip
def test_plan_hybrid(tpd: str, tok: str, usd: str, api: str, ops: str) -> None:
    data = run(
        ["plan", "hybrid", "--tokens-per-day", tpd, "--tok-s", tok, "--replica-usd-per-hour",
         usd, "--api-usd-per-m", api, "--ops-usd-per-month", ops, "--json"]
    )  # fmt: skip
    if data is not None:
        _finite(data)
        assert data["best_replicas"] >= 0


@FUZZ
@given(share=num(0, 1), usd=num(0.5, 10), tok=num(10, 1e5), ops=num(0, 1e5), spare=whole(0, 8))
def test_plan_breakeven(share: str, usd: str, tok: str, ops: str, spare: str) -> None:
    data = run(
        ["plan", "breakeven", "--api-input-usd-per-m", "3", "--api-output-usd-per-m", "15",
         "--input-share", share, "--gpu-hour-usd", usd, "--tok-s", tok,
         "--ops-usd-per-month", ops, "--spare-replicas", spare, "--json"]
    )  # fmt: skip
    if data is not None:
        _finite(data)


@settings(max_examples=12, deadline=None, database=None)
@given(
    rate=num(0.5, 20), n=whole(1, 150), isl=whole(1, 2000), osl=whole(1, 300),
    period=num(10, 1e5), cv=num(0, 1),
)  # fmt: skip
def test_simulate(rate: str, n: str, isl: str, osl: str, period: str, cv: str) -> None:
    data = run(
        ["simulate", "--model", "llama-3.1-8b", "--gpu", "H100", "--isl", isl, "--osl", osl,
         "--rate", rate, "--num-requests", n, "--length-dist", "lognormal", "--length-cv", cv,
         "--json"]
    )  # fmt: skip
    if data is not None:
        res = data["result"]
        for key in ("ttft_s", "e2e_s"):
            if res[key] is not None and res[key]["mean"] is not None:
                assert res[key]["mean"] > 0
    run(["simulate", "--model", "llama-3.1-8b", "--gpu", "H100", "--isl", isl, "--osl", osl,
         "--rate-profile", "1,2", "--profile-period", period, "--num-requests", "50",
         "--json"])  # fmt: skip


@settings(max_examples=6, deadline=None, database=None)
@given(max_gpus=whole(1, 16), levels=whole(1, 64), conc=whole(1, 512), share=num(0, 0.9))
def test_plan_search(max_gpus: str, levels: str, conc: str, share: str) -> None:
    data = run(
        ["plan", "search", "--model", "llama-3.1-8b", "--isl", "1000", "--osl", "300",
         "--gpu", "H100", "--max-gpus", max_gpus, "--concurrency-levels", levels,
         "--max-concurrency", conc, "--cached-share", share, "--json"]
    )  # fmt: skip
    if data is not None:
        _finite({k: v for k, v in data.items() if k != "families"})


def test_more_requests_never_serve_fewer_tokens() -> None:
    # Same configuration, 50 then 100 requests of 200 + 50 tokens at 2 req/s: every request
    # completes, so total tokens served are 50 x 250 = 12,500 and 100 x 250 = 25,000.
    base = ["simulate", "--model", "llama-3.1-8b", "--gpu", "H100", "--isl", "200", "--osl",
            "50", "--rate", "2", "--json"]  # fmt: skip
    served = []
    for n in (50, 100):
        res = run([*base, "--num-requests", str(n)])["result"]
        served.append(res["completed"] * 250)
    assert served == [12_500, 25_000]


@pytest.mark.parametrize("scale", [1.0, 2.5, 10.0])
def test_cost_is_linear_in_the_gpu_hour_price(scale: float) -> None:
    # $/M = $/h / (tok/s x 3600) x 1e6: $2/h at 1,000 tok/s is 2 / 3.6e6 x 1e6 = $0.5556/M,
    # and scaling the price scales it exactly.
    assert usd_per_m_tokens(2.0 * scale, 1000.0) == pytest.approx(0.5556 * scale, rel=1e-3)
    a = run(["cost", "--model", "llama-3.1-8b", "--gpu", "H100", "--isl", "500", "--osl",
             "100", "--concurrency", "8", "--gpu-hour-usd", "2", "--json"])  # fmt: skip
    b = run(["cost", "--model", "llama-3.1-8b", "--gpu", "H100", "--isl", "500", "--osl",
             "100", "--concurrency", "8", "--gpu-hour-usd", str(2 * scale), "--json"])  # fmt: skip
    assert b["usd_per_m_output"] == pytest.approx(a["usd_per_m_output"] * scale, rel=1e-9)
