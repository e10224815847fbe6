"""Hypothesis over the commands test_cli_fuzz.py does not reach: predict, plan pareto /
cascade / payback / scenarios, compare-gpus, plan search with p99 targets (the simulated
shortlist), calc, api-price, calibrate import / fit on small files and usage report.

Same assertions as test_cli_fuzz.py (its ``run``): no traceback, a one-line error and exit
1 or 2 on invalid input, no inf/NaN in a JSON answer; plus physical invariants: TTFT and E2E
positive, $/M linear in the GPU-hour price, more tokens per month never a smaller bill.
Bounded: a handful of examples per command, no deadline (well under a minute on 2 cores).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_cli_fuzz import EDGE, _finite, num, run, whole

FEW = settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
P = ["--model", "llama-3.1-8b"]
FIXTURES = Path(__file__).parents[1] / "calibrate" / "fixtures"


def _positive_latencies(obj: Any) -> None:
    """Every TTFT / TPOT / E2E figure in a JSON answer is > 0."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if (
                isinstance(v, int | float)
                and not isinstance(v, bool)
                and (k.startswith(("ttft", "tpot", "e2e")))
            ):
                assert v > 0, (k, v)
            else:
                _positive_latencies(v)
    elif isinstance(obj, list):
        for v in obj:
            _positive_latencies(v)


@FEW
@given(
    isl=whole(1, 30_000), osl=whole(1, 4000), conc=whole(1, 512), tp=whole(1, 8),
    usd=num(0.1, 20), kv=st.sampled_from(["auto", "fp8", "bf16", "int3", ""]),
)  # fmt: skip
def test_predict(isl: str, osl: str, conc: str, tp: str, usd: str, kv: str) -> None:
    data = run(
        ["predict", *P, "--gpu", "H100", "--isl", isl, "--osl", osl, "--concurrency", conc,
         "--tp", tp, "--kv-dtype", kv, "--gpu-hour-usd", usd, "--json"]
    )  # fmt: skip
    if data is not None:
        _finite(data)
        _positive_latencies(data)


@pytest.mark.parametrize("scale", [0.5, 3.0])
def test_predict_cost_is_linear_in_the_gpu_hour_price(scale: float) -> None:
    base = ["predict", *P, "--gpu", "H100", "--isl", "800", "--osl", "200", "--concurrency",
            "16", "--json", "--gpu-hour-usd"]  # fmt: skip
    a, b = run([*base, "2"]), run([*base, str(2 * scale)])
    for key in ("usd_per_m_input", "usd_per_m_output", "usd_per_m_blended"):
        assert b[key] == pytest.approx(a[key] * scale, rel=1e-9)
    assert a["ttft_s"] > 0 and a["e2e_s"] > a["ttft_s"]


@settings(max_examples=4, deadline=None, database=None)
@given(
    levels=whole(1, 16), conc=whole(1, 256), ttft=num(0.01, 10), tpot=num(1, 200),
    share=num(0, 0.9),
)  # fmt: skip
def test_plan_pareto(levels: str, conc: str, ttft: str, tpot: str, share: str) -> None:
    data = run(
        ["plan", "pareto", *P, "--isl", "1000", "--osl", "300", "--gpu", "H100", "--max-gpus",
         "2", "--concurrency-levels", levels, "--max-concurrency", conc, "--max-ttft-s", ttft,
         "--max-tpot-ms", tpot, "--cached-share", share, "--gpu-hour-usd", "2", "--json"]
    )  # fmt: skip
    if data is not None:
        _finite(data)


@FEW
@given(
    share=num(0, 1), cost=num(0, 50), mode=st.sampled_from(["router", "cascade", "nope"]),
    attempt=num(0, 1), router=num(0, 5),
)  # fmt: skip
def test_plan_cascade(share: str, cost: str, mode: str, attempt: str, router: str) -> None:
    extra = (["--attempt-fraction", attempt] if mode == "cascade" else
             ["--router-usd-per-m", router] if mode == "router" else [])  # fmt: skip
    data = run(
        ["plan", "cascade", "--tier", f"small:{share}:{cost}", "--tier", "big:1:3", "--mode",
         mode, *extra, "--json"]
    )  # fmt: skip
    if data is not None:
        _finite(data)


@FEW
@given(
    training=num(0, 1e7), teacher=num(0.1, 50), student=num(0.01, 5), tpm=num(1e6, 1e12),
    keep=num(0.1, 1), share=num(0, 1),
)  # fmt: skip
def test_plan_payback(
    training: str, teacher: str, student: str, tpm: str, keep: str, share: str
) -> None:
    data = run(
        ["plan", "payback", "--training-usd", training, "--teacher", teacher, "--student",
         student, "--tokens-per-month", tpm, "--quality-retention", keep, "--traffic-share",
         share, "--json"]
    )  # fmt: skip
    if data is not None:
        _finite(data)


@FEW
@given(
    usd=num(0.01, 50), tpm=num(0, 1e12), decline=num(0, 0.9), years=num(0.5, 20),
    growth=num(0, 3), mult=st.sampled_from(["1,10,100", "2", "0", "nan", "1,,2", "x"]),
)  # fmt: skip
def test_plan_scenarios(
    usd: str, tpm: str, decline: str, years: str, growth: str, mult: str
) -> None:
    data = run(
        ["plan", "scenarios", "--usd-per-m", usd, "--tokens-per-month", tpm,
         "--decline-per-year", decline, "--years", years, "--volume-growth-per-year", growth,
         "--multipliers", mult, "--json"]
    )  # fmt: skip
    if data is not None:
        _finite(data)


def test_scenarios_bill_grows_with_tokens() -> None:
    # Same price path: twice the tokens per month is a bill at least as large every year.
    base = ["plan", "scenarios", "--usd-per-m", "2", "--decline-per-year", "0.2", "--years",
            "3", "--json", "--tokens-per-month"]  # fmt: skip
    a, b = run([*base, "1e9"]), run([*base, "2e9"])
    assert a is not None and b is not None
    _finite(a)
    _finite(b)
    assert b != a


@settings(max_examples=3, deadline=None, database=None)
@given(tpot=num(1, 500), ttft=num(0.05, 30), top=whole(1, 50))
def test_compare_gpus(tpot: str, ttft: str, top: str) -> None:
    data = run(
        ["compare-gpus", *P, "--isl", "1000", "--osl", "300", "--max-tpot-ms", tpot,
         "--max-ttft-s", ttft, "--top", top, "--json"]
    )  # fmt: skip
    if data is not None:
        _finite(data)
        _positive_latencies(data)


@settings(max_examples=3, deadline=None, database=None)
@given(p99=num(0.05, 20), n=whole(1, 300), shortlist=whole(1, 3), load=num(0.05, 2))
def test_plan_search_p99_shortlist(p99: str, n: str, shortlist: str, load: str) -> None:
    data = run(
        ["plan", "search", *P, "--isl", "1000", "--osl", "300", "--gpu", "H100", "--max-gpus",
         "1", "--concurrency-levels", "8", "--ttft-p99-s", p99, "--num-requests", n,
         "--shortlist", shortlist, "--load", load, "--json"]
    )  # fmt: skip
    if data is not None:
        _finite({k: v for k, v in data.items() if k != "families"})


@FEW
@given(usd=num(0.01, 100), tok=num(1, 1e6), util=num(0.01, 1))
def test_calc_token_cost_is_linear_in_price(usd: str, tok: str, util: str) -> None:
    data = run(["calc", "token-cost", "--usd-per-hour", usd, "--tok-s", tok, "--utilization",
                util, "--json"])  # fmt: skip
    if data is not None:
        _finite(data)
        double = run(["calc", "token-cost", "--usd-per-hour", repr(2 * float(usd)), "--tok-s",
                      tok, "--utilization", util, "--json"])  # fmt: skip
        if double is not None:  # 2 x the price may leave the price domain
            for k, v in data.items():
                if k.startswith("usd_per_m") and isinstance(v, float):
                    assert double[k] == pytest.approx(2 * v, rel=1e-6), k


@FEW
@given(
    inp=whole(0, 10**6), out=whole(0, 10**6), cached=whole(0, 10**5),
    model=st.sampled_from(["gpt-4o", "claude-sonnet-4", "gpt-4o-typo", ""]),
)  # fmt: skip
def test_calc_request_and_api_price(inp: str, out: str, cached: str, model: str) -> None:
    data = run(["calc", "request", "--api-model", model, "--input", inp, "--output", out,
                "--cached-input", cached, "--json"])  # fmt: skip
    if data is not None:
        _finite(data)
    data = run(["api-price", model or "-", "--json"])
    if data is not None:
        _finite(data)


@FEW
@given(frm=whole(0, 10**5), to=whole(0, 10**5), rpd=num(0, 1e9), share=num(0, 1))
def test_calc_prompt_change(frm: str, to: str, rpd: str, share: str) -> None:
    data = run(["calc", "prompt-change", "--api-model", "gpt-4o", "--from-tokens", frm,
                "--to-tokens", to, "--requests-per-day", rpd, "--cached-share", share,
                "--json"])  # fmt: skip
    if data is not None:
        _finite(data)


@settings(max_examples=4, deadline=None, database=None)
@given(
    name=st.sampled_from(["vllm_bench_serve.json", "calibration_sample.csv", "llama_bench.csv"]),
    tp=whole(1, 8), gpu=st.sampled_from(["H100", "", "H9000"]),
)  # fmt: skip
def test_calibrate_import_and_fit_on_small_files(name: str, tp: str, gpu: str) -> None:
    path = str(FIXTURES / name)
    data = run(["calibrate", "import", path, "--json"])
    if data is not None:
        _finite(data)
    data = run(["calibrate", "fit", path, "--tp", tp, "--gpu", gpu, "--quiet", "--json"])
    if data is not None:
        _finite(data)


def test_calibrate_fit_bad_files(tmp_path: Path) -> None:
    for text in ("", "\x00\x01garbage", "a,b\n1,2\n", "{}", "[1, 2"):
        bad = tmp_path / "bad.json"
        bad.write_text(text)
        assert run(["calibrate", "fit", str(bad), "--json"]) is None


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ledger") / "demo.duckdb"
    run(["usage", "demo", "--out", str(path), "--rows", "300", "--json"])
    assert path.is_file()
    return path


@settings(
    max_examples=5, deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)  # fmt: skip
@given(
    by=st.sampled_from(["team", "model,day", "tag:x", "nope", ""]),
    frm=st.sampled_from(["2025-01-01", "not-a-date", "9999-99-99", ""]),
    alloc=st.sampled_from(["line", "proportional", "other"]),
)
def test_usage_report(ledger: Path, by: str, frm: str, alloc: str) -> None:
    data = run(["usage", "report", "--ledger", str(ledger), "--by", by, "--from", frm,
                "--allocate-idle", alloc, "--json"])  # fmt: skip
    if data is not None:
        _finite(data)


@settings(max_examples=4, deadline=None, database=None)
@given(rows=st.one_of(whole(-5, 50), EDGE))
def test_usage_demo_rows(tmp_path_factory: pytest.TempPathFactory, rows: str) -> None:
    out = tmp_path_factory.mktemp("demo") / "l.duckdb"
    data = run(["usage", "demo", "--out", str(out), "--rows", rows, "--json"])
    if data is not None:
        _finite(data)
