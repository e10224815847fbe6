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
        ]
        data = run_json(args)
        assert data["static_replicas"] == 226
        assert data["static_usd_per_month"] == pytest.approx(325_440.0)
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
