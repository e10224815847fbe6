"""``infercost plan ...``: every command's --json, table and --html; W2 flags; error exits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from infercost.cli import app, main

runner = CliRunner()

W2_FLAGS = [
    "plan",
    "breakeven",
    "--api-input-usd-per-m",
    "2.50",
    "--api-output-usd-per-m",
    "10.00",
    "--input-share",
    "0.5",
    "--gpu-hour-usd",
    "2.49",
    "--tok-s",
    "1500",
    "--ops-usd-per-month",
    "5000",
    "--days-per-month",
    "30",
]


@pytest.fixture(autouse=True)
def _no_user_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INFERCOST_CATALOG_DIR", raising=False)


def run_json(args: list[str]) -> dict[str, Any]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


def run_table_and_chart(args: list[str], tmp_path: Path) -> str:
    html = tmp_path / "chart.html"
    result = runner.invoke(app, [*args, "--html", str(html)], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    text = html.read_text()
    assert "plotly" in text.lower() and len(text) > 10_000
    return result.output


SEARCH = [
    "plan",
    "search",
    "--model",
    "llama-3.1-8b",
    "--isl",
    "1000",
    "--osl",
    "200",
    "--gpu",
    "h100",
    "--gpu",
    "l40s",
    "--max-tpot-ms",
    "40",
    "--gpu-hour-usd",
    "2",
]


class TestW2Flags:
    def test_breakeven_tokens_per_day(self) -> None:
        # W2: $6,817.70/month ÷ (30 x $6.25 ÷ 1e6) = 36,361,066.7 tokens/day (not the
        # article's "3-5 million": its API column is 30x what its inputs imply).
        data = run_json(W2_FLAGS)
        assert data["breakeven_tokens_per_day"] == pytest.approx(36_361_066.67)
        assert data["api_blended_usd_per_m"] == pytest.approx(6.25)

    def test_table_and_chart(self, tmp_path: Path) -> None:
        out = run_table_and_chart(W2_FLAGS, tmp_path)
        assert "Break-even: 36,361,067 tokens/day" in out

    def test_missing_flags_exit_1_without_traceback(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        with pytest.raises(SystemExit) as exc:
            main(["plan", "breakeven", "--tok-s", "1500"])
        assert exc.value.code == 1
        err = capsys.readouterr().err
        assert "Missing --api-input-usd-per-m" in err and "Traceback" not in err


class TestCommands:
    def test_search(self, tmp_path: Path) -> None:
        data = run_json(SEARCH)
        assert data["winner"] is not None
        assert {f["gpu"] for f in data["families"]} == {"h100-sxm", "l40s"}
        out = run_table_and_chart(SEARCH, tmp_path)
        assert "Cheapest configurations" in out and "binding constraint" in out

    def test_search_with_p99_targets(self) -> None:
        data = run_json([*SEARCH, "--tpot-p99-ms", "40", "--ttft-p99-s", "1", "--shortlist", "2"])
        assert data["p99"] is not None
        assert len(data["p99"]["shortlist"]) == 2

    def test_pareto(self, tmp_path: Path) -> None:
        args = ["plan", "pareto", *SEARCH[2:]]
        data = run_json(args)
        assert len(data["tpot_frontier"]) >= 2
        assert data["operating_point"] is not None
        assert "Frontier" in run_table_and_chart(args, tmp_path)

    def test_fleet_w5(self, tmp_path: Path) -> None:
        # W5 through the CLI: 226 GPUs, $325,440/month (see test_fleet.py).
        args = [
            "plan",
            "fleet",
            "--isl",
            "0",
            "--osl",
            "500",
            "--requests-per-day",
            "1e7",
            "--peak-to-average",
            "3",
            "--replica-output-tok-s",
            "1000",
            "--gpu-hour-usd",
            "2",
            "--days-per-month",
            "30",
        ]
        data = run_json(args)
        assert data["static_replicas"] == 226
        assert data["static_usd_per_month"] == pytest.approx(325_440.0)
        # the default month is 730 h: 226 x $2 x 730 = $329,960
        default_month = run_json(args[:-2])
        assert default_month["static_usd_per_month"] == pytest.approx(329_960.0)
        assert default_month["days_per_month"] == pytest.approx(730 / 24)
        assert "static replicas" in run_table_and_chart(args, tmp_path)

    def test_fleet_by_model_names_the_replica(self) -> None:
        data = run_json(
            [
                "plan",
                "fleet",
                "--isl",
                "1000",
                "--osl",
                "200",
                "--output-tokens-per-day",
                "1e8",
                "--model",
                "llama-3.1-8b",
                "--gpu",
                "h100",
                "--gpu-hour-usd",
                "2",
                "--max-tpot-ms",
                "40",
            ]
        )
        assert "h100-sxm" in data["replica"]["description"]

    def test_fleet_says_in_plain_text_when_a_kind_has_no_current_offer(self) -> None:
        # The shipped H100 SXM reserved/committed offers are dated 2025-07-22 and 2025-12-08;
        # its newest offer is 2026-11-09, 336 days after the later of them (> 180), so no
        # reserved price is current and the plain output says so (QA, issue 15).
        result = runner.invoke(
            app,
            ["plan", "fleet", "--isl", "1000", "--osl", "200", "--output-tokens-per-day",
             "1e8", "--model", "llama-3.1-8b", "--gpu", "h100", "--gpu-hour-usd", "2"],
            env={"COLUMNS": "200"},
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        text = " ".join(result.output.split())
        assert "no current reserved offer for h100-sxm" in text
        assert "(as of 2025-12-08)" in text and "(2026-11-09)" in text

    def test_hybrid(self, tmp_path: Path) -> None:
        # the two-level day of test_hybrid.py: best baseline one replica, $1,756.80
        profile = ",".join(["1"] * 12 + ["3"] * 12)
        args = [
            "plan",
            "hybrid",
            "--tokens-per-day",
            "17.28e6",
            "--profile",
            profile,
            "--tok-s",
            "100",
            "--replica-usd-per-hour",
            "1",
            "--api-usd-per-m",
            "4",
            "--days-per-month",
            "30",
        ]
        data = run_json(args)
        assert data["best_replicas"] == 1
        assert data["best_usd_per_month"] == pytest.approx(1756.8)
        assert "best hybrid" in run_table_and_chart(args, tmp_path)

    def test_cascade_w4(self, tmp_path: Path) -> None:
        args = [
            "plan",
            "cascade",
            "--tier",
            "1.5B:0.6:0.02",
            "--tier",
            "7B:0.3:0.05",
            "--tier",
            "70B:0.1:0.46",
        ]
        data = run_json(args)
        assert data["blended_usd_per_m"] == pytest.approx(0.073)
        assert round(data["times_cheaper"], 1) == 6.3
        assert "6.30x cheaper" in run_table_and_chart(args, tmp_path)

    def test_payback(self, tmp_path: Path) -> None:
        args = [
            "plan",
            "payback",
            "--training-usd",
            "50000",
            "--teacher",
            "0.46",
            "--student",
            "0.05",
            "--tokens-per-month",
            "3e9",
            "--traffic-share",
            "0.6",
            "--quality-retention",
            "0.9",
            "--model",
            "llama-3.1-8b",
            "--gpu",
            "h100",
            "--draft-tokens",
            "3",
            "--acceptance",
            "0.8",
            "--gpu-hour-usd",
            "2",
            "--max-tpot-ms",
            "40",
        ]
        data = run_json(args)
        assert data["distillation"]["payback_months"] == pytest.approx(50_000 / 655.2)
        assert data["speculative_decoding"]["throughput_ratio"] > 0
        assert "Distillation payback" in run_table_and_chart(args, tmp_path)

    def test_scenarios(self, tmp_path: Path) -> None:
        args = [
            "plan",
            "scenarios",
            "--usd-per-m",
            "1.0",
            "--tokens-per-month",
            "1e9",
            "--decline-per-year",
            "0.5",
            "--years",
            "2",
            "--price-ratio",
            "0.5",
            "--volume-ratio",
            "3",
            "--output-tokens-per-day",
            "5e9",
            "--osl",
            "500",
            "--isl",
            "0",
            "--peak-to-average",
            "3",
            "--replica-output-tok-s",
            "1000",
            "--gpu-hour-usd",
            "2",
        ]
        data = run_json(args)
        growth = data["growth"]["scenarios"]
        assert [row["replicas"] for row in growth] == [226, 2257, 22570]
        points = data["projection"]["points"]
        assert points[-1]["usd_per_m"] == pytest.approx(0.25)
        assert "Projection" in run_table_and_chart(args, tmp_path)

    def test_payback_needs_something_to_compute(self, capsys: pytest.CaptureFixture[str]) -> None:
        with pytest.raises(SystemExit) as exc:
            main(["plan", "payback"])
        assert exc.value.code == 1
        assert "Nothing to compute" in capsys.readouterr().err


def _error(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run through ``main``: exit 1, one message, no traceback; the message, one line."""
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return " ".join(err.split())


FLEET_SIMPLE = [
    "plan", "fleet", "--isl", "1000", "--osl", "200", "--output-tokens-per-day", "1e8",
    "--replica-output-tok-s", "1000", "--gpu-hour-usd", "2",
]  # fmt: skip
FLEET_MODEL = [
    "plan", "fleet", "--isl", "1000", "--osl", "200", "--output-tokens-per-day", "1e8",
    "--model", "llama-3.1-8b", "--gpu", "h100", "--gpu-hour-usd", "2",
]  # fmt: skip
HYBRID_SIMPLE = [
    "plan", "hybrid", "--tokens-per-day", "1e9", "--tok-s", "1000",
    "--replica-usd-per-hour", "2", "--api-usd-per-m", "5",
]  # fmt: skip
SCENARIOS = ["plan", "scenarios", "--usd-per-m", "1", "--decline-per-year", "0.3"]
CASCADE = ["plan", "cascade", "--tier", "a:0.6:0.02", "--tier", "b:0.4:0.46"]


class TestConflictingFlags:
    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (
                [*FLEET_MODEL, "--replica-output-tok-s", "1000"],
                "Give --replica-output-tok-s or --model/--gpu (which size the replica by "
                "search), not both.",
            ),
            (
                [*FLEET_SIMPLE, "--gpu", "h100"],
                "--gpu only applies with --model; give --model or drop --gpu.",
            ),
            (
                [*FLEET_MODEL, "--gpus-per-replica", "4", "--num-gpus", "2"],
                "--gpus-per-replica 4 and --num-gpus 2 disagree; give one.",
            ),
            (
                [*HYBRID_SIMPLE, "--model", "llama-3.1-8b", "--gpu", "h100", "--api-model",
                 "gpt-4o"],
                "Give --tok-s, --replica-usd-per-hour and --api-usd-per-m, or --model, --gpu "
                "and --api-model, not both (--tok-s, --replica-usd-per-hour, --api-usd-per-m "
                "would be ignored).",
            ),
            (
                [*HYBRID_SIMPLE, "--api-model", "gpt-4o"],
                "--api-model only applies with --model; give --model or drop --api-model.",
            ),
            (
                [*W2_FLAGS, "--model", "llama-3.1-8b", "--gpu", "h100", "--api-model", "gpt-4o"],
                "Give the simple flags (--api-input-usd-per-m, --tok-s, ...), or --model, --gpu "
                "and --api-model, not both",
            ),
            (
                ["plan", "breakeven", "--model", "llama-3.1-8b", "--gpu", "H100"],
                # names only what is missing (QA: it listed the GPU that was given)
                "--model needs --api-model (the API model to compare with).",
            ),
            (
                [*SCENARIOS, "--elasticity", "-1", "--price-ratio", "0.5", "--volume-ratio", "3"],
                "Give --elasticity, or --price-ratio with --volume-ratio (which measure it), not "
                "both (--price-ratio, --volume-ratio would be ignored).",
            ),
            (
                [*CASCADE, "--mode", "cascade", "--router-usd-per-m", "0.01"],
                "--router-usd-per-m is the classifier of --mode router",
            ),
            (
                [*CASCADE, "--attempt-fraction", "0.5"],
                "--attempt-fraction applies to --mode cascade",
            ),
        ],
    )  # fmt: skip
    def test_refused_with_what_to_give(
        self, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert message in _error(args, capsys)

    def test_gpus_per_replica_is_honoured_with_model(self) -> None:
        # It used to be ignored with --model (the search picked its own replica size).
        data = run_json([*FLEET_MODEL, "--gpus-per-replica", "4"])
        assert data["replica"]["gpus"] == 4
        assert data["replica"]["description"].startswith("4x h100-sxm")
        assert run_json([*FLEET_SIMPLE, "--num-gpus", "2"])["replica"]["gpus"] == 2


class TestRefusedValues:
    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (
                ["plan", "payback", "--training-usd", "50000", "--teacher", "0.46", "--student",
                 "0.02"],
                "Distillation needs --tokens-per-month (the volume the student would take "
                "over)",
            ),
            (
                [*SCENARIOS, "--elasticity", "0.5"],
                "--elasticity must be a number <= 0",
            ),
            (
                [*SCENARIOS, "--price-ratio", "0.5", "--volume-ratio", "0.8"],
                "--price-ratio 0.5 with --volume-ratio 0.8 gives an elasticity of +0.322",
            ),
            (
                [*SCENARIOS, "--years", "1e6"],
                "--years must be a finite number in [0.01, 50] years, got 1e+06",
            ),
            (
                [*SEARCH, "--ttft-p99-s", "0"],
                "--ttft-p99-s must be a finite number in [1e-06, 86,400] s, got 0.",
            ),
            (
                [*SEARCH, "--families", "0"],
                "--families must be a whole number in [1, 10,000] GPU families, got 0.",
            ),
            (
                [*SEARCH, "--max-concurrency", "0"],
                "--max-concurrency must be a whole number in [1, 1,000,000] sequences, got 0.",
            ),
            ([*SEARCH, "--weight-dtypes", ""], "--weight-dtypes is empty"),
            ([*SEARCH, "--kv-dtypes", " , "], "--kv-dtypes is empty"),
            ([*W2_FLAGS, "--volumes", ""], "--volumes is empty"),
        ],
    )  # fmt: skip
    def test_refused(
        self, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert message in _error(args, capsys)

    def test_hybrid_with_a_huge_peak_answers(self) -> None:
        # 1e15 tokens/day at 1 tok/s per replica: a MemoryError (259 GiB) before.
        data = run_json(
            [
                "plan", "hybrid", "--tokens-per-day", "1e15", "--peak-to-average", "3",
                "--tok-s", "1", "--replica-usd-per-hour", "2.49", "--api-usd-per-m", "6.25",
            ]
        )  # fmt: skip
        assert data["pure_self_host_replicas"] == 34_722_222_223
        assert data["best_replicas"] == 0


class TestWording:
    def test_search_header_names_p99_targets(self) -> None:
        # only p99 targets: the header said "no latency target"
        result = runner.invoke(
            app, [*SEARCH[:-4], "--tpot-p99-ms", "40", "--shortlist", "1"], env={"COLUMNS": "200"}
        )
        assert result.exit_code == 0, result.output
        assert "p99 TPOT <= 40 ms (simulated; no mean target)" in result.output
        assert "no latency target" not in result.output
        assert "$/M output (all GPU time)" in result.output

    def test_tiny_targets_are_not_rounded_to_zero(self) -> None:
        result = runner.invoke(
            app, [*SEARCH[:-4], "--max-ttft-s", "0.004"], env={"COLUMNS": "200"}
        )
        # no configuration prefills 1,000 tokens in 4 ms: a plain "no" exits 3 (cli/exits.py)
        assert result.exit_code == 3, result.output
        assert "TTFT <= 0.004 s" in result.output

    def test_a_dearer_cascade_says_more_expensive(self) -> None:
        # 0.5 x 0.46 + 0.5 x 0.40 = $0.43/M against a $0.02/M baseline: 21.5x dearer
        result = runner.invoke(
            app, ["plan", "cascade", "--tier", "a:0.5:0.46", "--tier", "b:0.5:0.40",
                  "--baseline", "0.02"],
            env={"COLUMNS": "200"},
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert (
            "blended $0.430/M vs baseline $0.0200/M: 21.50x more expensive (2050.0% more than "
            "the baseline)" in result.output
        )
        assert "cheaper" not in result.output

    def test_negative_money_puts_the_sign_first(self) -> None:
        # student dearer than teacher: 1 x 0.46 - 0.90 = -$0.44 per M moved
        result = runner.invoke(
            app,
            ["plan", "payback", "--training-usd", "50000", "--teacher", "0.46", "--student",
             "0.9", "--tokens-per-month", "1e9"],
            env={"COLUMNS": "200"},
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert "-$0.440" in result.output and "-$440.00" in result.output  # 3 significant figures
        assert "$-" not in result.output


def test_breakeven_text_names_every_crossing() -> None:
    """Issue 15: API $0.88/M, one $2/h GPU at 1,000 tok/s. Self-hosting wins from
    48 / 0.88e-6 = 54,545,455 to 86,400,000 tok/day and again from 96 / 0.88e-6 =
    109,090,909 tok/day (one day = 24 GPU-hours here; tests/plan/test_breakeven.py)."""
    args = ["plan", "breakeven", "--api-input-usd-per-m", "0.88", "--api-output-usd-per-m",
            "0.88", "--input-share", "0.5", "--gpu-hour-usd", "2", "--tok-s", "1000",
            "--hours-per-month", "24", "--days-per-month", "1"]  # fmt: skip
    result = runner.invoke(app, args, env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    assert "from 54,545,455 to 86,400,000 and from 109,090,909 up" in result.output
    assert "Self-hosting stays cheaper from 109,090,909 tokens/day" in result.output
    data = run_json(args)
    assert data["crossings_tokens_per_day"] == pytest.approx([54545454.5, 86.4e6, 109090909.1])


def test_pareto_interactivity_target_is_a_tpot_target() -> None:
    """--min-tok-s-per-user 50 is TPOT <= 1000 / 50 = 20 ms: the same operating point as
    --max-tpot-ms 20; giving both is refused."""
    base = ["plan", "pareto", "--model", "llama-3.1-8b", "--isl", "1000", "--osl", "300",
            "--gpu", "H100", "--gpu-hour-usd", "2"]  # fmt: skip
    a = run_json([*base, "--min-tok-s-per-user", "50"])
    b = run_json([*base, "--max-tpot-ms", "20"])
    assert a["operating_point"] == b["operating_point"]
    assert a["operating_point"]["tpot_s"] <= 0.020
    both = runner.invoke(app, [*base, "--min-tok-s-per-user", "50", "--max-tpot-ms", "20"])
    assert both.exit_code == 1 and "not both" in str(both.exception)


def test_pareto_prints_the_interactivity_frontier() -> None:
    result = runner.invoke(
        app, ["plan", "pareto", "--model", "llama-3.1-8b", "--isl", "1000", "--osl", "300",
              "--gpu", "H100", "--gpu-hour-usd", "2", "--rows", "4"],
        env={"COLUMNS": "200"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Interactivity frontier: output tok/s per GPU vs tok/s per user" in result.output


def test_breakeven_options_of_the_full_version_are_refused_alone() -> None:
    """QA: --isl/--osl/--engine changed nothing with the simple flags; now they say so."""
    base = ["plan", "breakeven", "--api-input-usd-per-m", "1", "--api-output-usd-per-m", "1",
            "--input-share", "0.5", "--gpu-hour-usd", "2", "--tok-s", "1000"]  # fmt: skip
    for extra in (["--isl", "5000"], ["--osl", "10"], ["--engine", "sglang"]):
        r = runner.invoke(app, [*base, *extra])
        assert r.exit_code == 1 and "only applies with --model" in str(r.exception)


def test_predict_allow_spot_needs_an_offer() -> None:
    r = runner.invoke(app, ["predict", "--model", "llama-3.1-8b", "--gpu", "H100", "--isl", "100",
                            "--osl", "10", "--concurrency", "4", "--allow-spot"])  # fmt: skip
    assert r.exit_code == 1 and "--allow-spot only acts with --offer" in str(r.exception)


def test_scenarios_without_a_volume_says_the_monthly_figures_are_zero() -> None:
    # QA: every projection row showed "tokens/month 0, $/month $0.00" with no word why
    args = ["plan", "scenarios", "--usd-per-m", "0.5", "--decline-per-year", "0.3"]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "assumed: no --tokens-per-month" in result.output
    given = runner.invoke(app, [*args, "--tokens-per-month", "1e9"], env={"COLUMNS": "200"})
    assert given.exit_code == 0 and "assumed: no --tokens-per-month" not in given.output
