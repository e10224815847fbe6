"""The economics commands: tco, offers, api-price(s); JSON figures and error exits."""

from __future__ import annotations

import json
import re
import sys
from datetime import date

import pytest
from typer.testing import CliRunner

from infercost.catalog.offers_refresh import fetch_gpuhunt_items
from infercost.catalog.pricing import default_offer
from infercost.cli import app, main
from infercost.errors import InputError

runner = CliRunner()

TCO_ARGS = [
    "tco",
    "--gpu-price-usd", "30000",
    "--power-w", "700",
    "--usd-per-kwh", "0.10",
    "--years", "3",
    "--hosting-usd", "5000",
    "--utilization", "0.9",
    "--json",
]  # fmt: skip


@pytest.fixture(autouse=True)
def _no_user_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INFERCOST_CATALOG_DIR", raising=False)


def run_json(args: list[str]) -> dict[str, object]:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.output)
    return data


class TestTco:
    def test_issue_command_gives_what_the_inputs_imply(self) -> None:
        # 700 W x 26,280 h = 18,396 kWh x $0.10 = $1,839.60; total 30,000 + 1,839.60 + 5,000 =
        # $36,839.60; 26,280 h x 0.9 = 23,652 h; 36,839.60 / 23,652 = $1.557568/GPU-hour.
        d = run_json(TCO_ARGS)
        assert d["electricity_usd"] == pytest.approx(1839.6)
        assert d["total_usd"] == pytest.approx(36839.6)
        assert d["hours_utilized"] == pytest.approx(23652)
        assert d["usd_per_gpu_hour"] == pytest.approx(36839.6 / 23652)
        assert d["inputs"]["power_billing"] == "all-hours"  # type: ignore[index]

    def test_power_billed_on_utilised_hours_only(self) -> None:
        # 700 W x 23,652 h = 16,556.4 kWh -> $1,655.64.
        d = run_json([*TCO_ARGS, "--power-billing", "utilized-hours"])
        assert d["electricity_usd"] == pytest.approx(1655.64)

    def test_plain_output_names_the_rate(self) -> None:
        result = runner.invoke(app, TCO_ARGS[:-1])
        assert result.exit_code == 0
        assert "$1.56/GPU-hour" in result.output  # cents above $1 (docs/cli.md); JSON keeps 1.5576
        assert "1,839.60" in result.output

    def test_power_from_the_gpu_tdp(self) -> None:
        args = [a for a in TCO_ARGS if a not in ("--power-w", "700")]
        d = run_json([*args, "--gpu", "h100-sxm"])
        assert d["inputs"]["power_w"] == 700.0  # type: ignore[index]  # H100 SXM TDP, 700 W

    def test_bad_utilization_exits_one_without_traceback(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        args = [*TCO_ARGS[:-3], "--utilization", "1.5"]
        with pytest.raises(SystemExit) as exit_info:
            main(args)
        assert exit_info.value.code == 1
        err = capsys.readouterr().err
        assert "utilization" in err
        assert "Traceback" not in err


class TestOffers:
    def test_filters_and_sorts_and_flags_stale(self) -> None:
        d = run_json(["offers", "--gpu", "A100-80GB", "--kind", "on-demand", "--all", "--json"])
        offers = d["offers"]
        assert isinstance(offers, list)
        # Per-GPU: 1.10, 1.39, 1.48, 1.60, 1.79, 2.50, 21.60/8 = 2.70, 22.32/8 = 2.79,
        # 27.44705/8 = 3.43088125 (see tests/catalog/test_pricing.py).
        assert [o["usd_per_gpu_hour"] for o in offers] == [
            1.10, 1.39, 1.48, 1.60, 1.79, 2.50, 2.70, 2.79, 3.43088125
        ]  # fmt: skip
        assert all(o["source"] and o["as_of"] for o in offers)
        # A price is stale past 180 days; the 2025 rows are past that on any date this runs on.
        assert all(o["stale"] == (o["age_days"] > 180) for o in offers)
        assert all(o["stale"] for o in offers if str(o["as_of"]).startswith("2025"))
        assert d["stale_count"] == sum(bool(o["stale"]) for o in offers)

    def test_superseded_offers_are_hidden_by_default_and_counted(self) -> None:
        # H100 SXM spot rows: 2026-09-20 (CoreWeave, $19.71 for 8 GPUs = $2.46375/GPU-h),
        # 2025-12-08 (GCP, $2.25), 2025-01-01 (GCP $4.25, AWS $42.50/8 = $5.3125). The newest
        # is 2026-09-20; 2025-12-08 is 286 days before it and 2025-01-01 627 days, both past
        # the 180-day window, so only the CoreWeave row is current and 3 are hidden.
        d = run_json(["offers", "--gpu", "H100", "--kind", "spot", "--json"])
        assert [o["id"] for o in d["offers"]] == ["coreweave-hgx-h100-spot-2026-09-20"]
        assert d["offers"][0]["usd_per_gpu_hour"] == pytest.approx(19.71 / 8)
        assert d["hidden_count"] == 3 and d["all"] is False
        every = run_json(["offers", "--gpu", "H100", "--kind", "spot", "--all", "--json"])
        # --all: the four rows by $/GPU-h: 2.25, 2.46375, 4.25, 5.3125; only one current.
        assert [o["usd_per_gpu_hour"] for o in every["offers"]] == pytest.approx(
            [2.25, 19.71 / 8, 4.25, 42.50 / 8]
        )
        assert [o["current"] for o in every["offers"]] == [False, True, False, False]
        assert every["hidden_count"] == 0
        plain = runner.invoke(app, ["offers", "--gpu", "H100", "--kind", "spot"])
        assert "3 superseded offer(s) hidden" in plain.output
        assert "--all lists them" in plain.output

    def test_80_columns_keeps_each_offer_id_whole(self) -> None:
        result = runner.invoke(app, ["offers", "--gpu", "H100"], env={"COLUMNS": "80"})
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        ids = [o["id"] for o in run_json(["offers", "--gpu", "H100", "--json"])["offers"]]
        for offer_id in ids:  # whole on a line of its own, so it can be copied into --offer
            assert offer_id in lines
        body = lines[1 : 1 + 2 * len(ids)]
        assert all(len(line) <= 80 for line in body)

    def test_plain_output_lists_sources_and_stale_note(self) -> None:
        result = runner.invoke(app, ["offers", "--gpu", "l4"], env={"COLUMNS": "200"})
        assert result.exit_code == 0
        assert "runpod-l4-on-demand-2025-07-22" in result.output
        assert "[1] article 'What Drives AI Inference Cost" in result.output
        assert "STALE" in result.output

    def test_unknown_kind_is_an_input_error(self, capsys: pytest.CaptureFixture[str]) -> None:
        with pytest.raises(SystemExit) as exit_info:
            main(["offers", "--kind", "hourly"])
        assert exit_info.value.code == 1
        assert "--kind must be one of" in capsys.readouterr().err

    def test_refresh_without_gpuhunt_says_what_to_install(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: object
    ) -> None:
        monkeypatch.setitem(sys.modules, "gpuhunt", None)  # import fails: no network either
        with pytest.raises(SystemExit) as exit_info:
            main(["offers", "refresh", "--out-dir", str(tmp_path)])
        assert exit_info.value.code == 1
        # (the CLI's rich printer currently drops the "[refresh]" markup-like text; the
        # library message below carries it in full)
        assert "needs the optional gpuhunt package: pip install" in capsys.readouterr().err

    def test_missing_gpuhunt_message_names_the_extra(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setitem(sys.modules, "gpuhunt", None)
        with pytest.raises(InputError, match=re.escape("pip install 'infercost[refresh]'")):
            fetch_gpuhunt_items()


class TestTcoTable:
    def test_formulas_read_one_way(self) -> None:
        # QA: "30000.0 + 0.0 ÷ 1" reads as (30000 + 0) ÷ 1 or 30000 + (0 ÷ 1); name the terms
        # and bracket the division.
        result = runner.invoke(
            app,
            ["tco", "--gpu-price-usd", "30000", "--server-price-usd", "40000",
             "--gpus-per-server", "8", "--power-w", "700", "--usd-per-kwh", "0.10",
             "--residual-value-fraction", "0.1"],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        text = " ".join(result.output.replace("│", " ").split())
        assert "GPU price $30,000 + (server price $40,000 ÷ 8 GPUs per server)" in text
        assert "purchase $35,000 x (1 - residual fraction 0.1)" in text
        assert "energy 18,396 kWh x PUE 1 x $0.1/kWh" in text
        assert "÷ 8 GPUs" in text and "30000.0 +" not in text


class TestApiPrice:
    def test_article_row_when_genai_prices_lacks_it(self) -> None:
        d = run_json(["api-price", "llama-70b", "--provider", "Groq", "--json"])
        assert (d["usd_per_m_input"], d["usd_per_m_output"]) == (0.59, 0.79)
        assert d["as_of"] == "2025-01-01"
        assert d["stale"] is True

    def test_newest_sheet_is_chosen_and_the_reason_printed(self) -> None:
        result = runner.invoke(app, ["api-price", "deepseek-v3", "--provider", "deepseek"])
        assert result.exit_code == 0, result.output
        text = " ".join(result.output.split())
        assert "│ input │ 0.27 │" in text and "│ output │ 1.1 │" in text
        assert "chosen: newest dated sheet: genai-prices" in text
        assert "is newer than our history (article 'LLM inference economics" in text
        d = run_json(["api-price", "deepseek-v3", "--json"])
        assert (d["model"], d["usd_per_m_input"], d["usd_per_m_output"]) == (
            "deepseek-chat", 0.27, 1.1,
        )  # fmt: skip
        assert str(d["chosen_because"]).startswith("newest dated sheet: genai-prices")

    def test_a_price_the_source_lacks_is_not_called_unpublished(self) -> None:
        result = runner.invoke(app, ["api-price", "claude-haiku"])
        assert result.exit_code == 0, result.output
        text = " ".join(result.output.replace("│", " ").split())
        assert "unpublished │" not in result.output
        assert (
            "input not in the price data (textbook chapter 'Cost modeling for inference: "
            "tokens, GPUs, dollars')" in text
        )

    def test_unknown_provider_of_a_model(self, capsys: pytest.CaptureFixture[str]) -> None:
        with pytest.raises(SystemExit) as exit_info:
            main(["api-price", "gpt-4o", "--provider", "nope"])
        assert exit_info.value.code == 1
        err = " ".join(capsys.readouterr().err.split())
        assert "Unknown API provider 'nope'. Providers that price 'gpt-4o': " in err
        assert "OpenAI" in err and "Did you mean" not in err

    def test_listing_an_unknown_provider_exits_one(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        with pytest.raises(SystemExit) as exit_info:
            main(["api-prices", "--provider", "nope"])
        assert exit_info.value.code == 1
        captured = capsys.readouterr()
        assert "Unknown API provider 'nope'. Providers with API prices: " in " ".join(
            captured.err.split()
        )
        assert "API prices, US$" not in captured.out  # no empty table

    def test_listing_shows_genai_prices_current_sheet_instead_of_our_old_row(self) -> None:
        # Our history has OpenAI gpt-4o at $2.50 / $10.00 as of 2025-01-01 (articles_2025.csv);
        # genai-prices (installed, offline) dates its data to its newest price change, later
        # than 2025-01-01, so the listing shows genai-prices' sheet and names the row it
        # replaced, exactly the sheet `api-price gpt-4o --provider openai` chooses.
        from infercost.cost.api import choose_api_price, genai_prices_as_of

        d = run_json(["api-prices", "--json"])
        sheets = {(s["provider"], s["model"]): s for s in d["api_prices"]}  # type: ignore[union-attr]
        row = sheets[("OpenAI", "gpt-4o")]
        assert str(row["source"]).startswith("genai-prices")
        assert row["replaces"] == {
            "model": "gpt-4o",
            "as_of": "2025-01-01",
            "source": (
                "article 'LLM inference economics: tokens per dollar' (early-2025 API table)"
            ),
        }
        chosen = choose_api_price("gpt-4o", "OpenAI").price
        assert row["usd_per_m_output"] == float(chosen.usd_per_m_output)  # type: ignore[arg-type]
        genai = d["genai_prices"]
        assert genai["data_as_of"] == genai_prices_as_of().isoformat()  # type: ignore[index]
        # A genai-prices sheet is stale by its data's date, not the day its price took effect.
        age = (date.fromisoformat(str(d["today"])) - genai_prices_as_of()).days
        assert row["stale"] is (age > 180)
        # A model genai-prices does not price keeps our row, dated and flagged: Groq llama-70b
        # as of 2025-01-01 is older than 180 days on any date after 2025-06-30.
        groq = sheets[("Groq", "llama-70b")]
        assert groq["as_of"] == "2025-01-01" and groq["stale"] is True and groq["replaces"] is None
        # The old row is no longer listed beside it.
        assert not any(
            s["as_of"] == "2025-01-01" and s["model"] == "gpt-4o" for s in sheets.values()
        )

    def test_history_lists_our_rows_as_recorded(self) -> None:
        d = run_json(["api-prices", "--history", "--json"])
        sheets = {(s["provider"], s["model"]): s for s in d["api_prices"]}  # type: ignore[union-attr]
        # articles_2025.csv: OpenAI gpt-4o 2.50 / 10.00, 2025-01 (read as 2025-01-01).
        row = sheets[("OpenAI", "gpt-4o")]
        assert (row["usd_per_m_input"], row["usd_per_m_output"]) == (2.5, 10.0)
        assert row["as_of"] == "2025-01-01" and row["stale"] is True
        assert d["replaced_count"] == 0

    def test_plain_listing_names_the_genai_prices_data_date(self) -> None:
        from infercost.cost.api import genai_prices_as_of

        result = runner.invoke(app, ["api-prices"], env={"COLUMNS": "80"})
        assert result.exit_code == 0, result.output
        text = " ".join(result.output.split())
        assert f"price data as of {genai_prices_as_of().isoformat()}" in text
        assert "gpt-4o (2025-01-01)" in text and "--history lists them" in text

    def test_unknown_model_exits_one(self, capsys: pytest.CaptureFixture[str]) -> None:
        with pytest.raises(SystemExit) as exit_info:
            main(["api-price", "no-such-model-xyz"])
        assert exit_info.value.code == 1
        assert "infercost api-prices" in capsys.readouterr().err


COST_ARGS = [
    "cost", "--model", "llama-3.1-70b", "--gpu", "H100", "--isl", "1000", "--osl", "300",
    "--num-gpus", "2", "--weight-dtype", "fp8", "--concurrency", "32",
]  # fmt: skip


class TestCost:
    def test_json_reports_list_and_all_in_rates(self) -> None:
        # $2/GPU-h at utilisation 0.5: effective rate 2 / 0.5 = $4/GPU-h, so every all-in $/M
        # is 2x the full-load figure.
        d = run_json([*COST_ARGS, "--gpu-hour-usd", "2", "--utilization", "0.5", "--json"])
        assert d["usd_per_gpu_hour_list"] == 2.0
        assert d["usd_per_gpu_hour_effective"] == pytest.approx(4.0)
        assert d["usd_per_m_output"] == pytest.approx(2 * d["usd_per_m_output_full_load"])  # type: ignore[operator]
        assert d["price_source"] == "user (--gpu-hour-usd)"

    def test_owned_hardware_prices_by_full_use_tco(self) -> None:
        # W3 inputs: 36,839.60 / 26,280 h = $1.40181 per GPU-hour at full use; the
        # deployment's utilisation (default 1) is applied once, by the overheads.
        d = run_json(
            [*COST_ARGS, "--gpu-price-usd", "30000", "--usd-per-kwh", "0.10",
             "--hosting-usd", "5000", "--json"]
        )  # fmt: skip
        assert d["usd_per_gpu_hour_list"] == pytest.approx(36839.6 / 26280)
        assert d["pricing_kind"] == "owned"

    def test_default_offer_is_named_and_flagged_stale(self) -> None:
        d = run_json([*COST_ARGS, "--json"])
        # H100 default: the 2026-11-09 RunPod Secure offer (lower median of the current
        # offers, tests/catalog/test_pricing.py); stale once older than 180 days, which
        # depends on today's date: the flag must say what the offer's own check says.
        assert "runpod-h100-sxm-secure-on-demand-2026-11-09" in str(d["price_source"])
        offer = default_offer("h100-sxm")
        assert offer is not None
        assert d["price_stale"] is offer.is_stale()

    def test_spot_offer_is_refused_without_opt_in(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        with pytest.raises(SystemExit) as exit_info:
            main([*COST_ARGS, "--offer", "gcp-a3-high-spot-2025-12-08"])
        assert exit_info.value.code == 1
        assert "spot" in capsys.readouterr().err

    def test_plain_table(self) -> None:
        result = runner.invoke(app, [*COST_ARGS, "--gpu-hour-usd", "2"], env={"COLUMNS": "160"})
        assert result.exit_code == 0, result.output
        assert "$/M output tokens" in result.output
        assert "user (--gpu-hour-usd)" in result.output

    def test_not_fitting_exits_three(self) -> None:
        args = [a if a != "fp8" else "bf16" for a in COST_ARGS]
        args[args.index("2")] = "1"
        result = runner.invoke(app, [*args, "--gpu-hour-usd", "2"])
        assert result.exit_code == 3  # infercost.cli.exits: plain "no" answer


class TestCompareGpus:
    def test_issue_example_ranks_offers(self, tmp_path: object) -> None:
        html = f"{tmp_path}/c.html"
        d = run_json(
            ["compare-gpus", "--model", "llama-3.1-70b", "--isl", "1000", "--osl", "300",
             "--json", "--html", html]
        )  # fmt: skip
        rows = d["results"]
        assert isinstance(rows, list)
        assert rows[0]["why"] == "cheapest $/M output"
        priced = [r["usd_per_m_output"] for r in rows if r["usd_per_m_output"] is not None]
        assert priced == sorted(priced)
        assert all(r["source"] and r["as_of"] for r in rows)
        with open(html) as fh:
            assert "plotly" in fh.read()

    def test_plain_table_with_latency_target(self) -> None:
        result = runner.invoke(
            app,
            ["compare-gpus", "--model", "llama-3.1-8b", "--isl", "500", "--osl", "200",
             "--max-tpot-ms", "30", "--top", "5"],
            env={"COLUMNS": "200"},
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert "TPOT <= 30 ms" in result.output
        assert "cheapest $/M output" in result.output
        # the column says how prefill is charged (plan search charges all GPU time)
        assert "$/M output (prefill charged to input)" in result.output

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            # was exit 0 with 47 rows "memory: Unknown dtype 'foo'"
            (["--weight-dtype", "foo"], "Unknown dtype 'foo'."),
            # was exit 0 with 47 rows labelled "memory"
            (
                ["--isl", "1000000"],
                "isl + osl = 1,000,300 tokens exceeds meta-llama/Llama-3.1-8B's context of "
                "131,072 tokens (config.json max_position_embeddings); use a shorter --isl or "
                "--osl.",
            ),
            (["--top", "0"], "--top must be a whole number in [1, 100,000] rows, got 0."),
        ],
    )
    def test_bad_input_is_one_error(
        self, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        base = ["compare-gpus", "--model", "llama-3.1-8b", "--isl", "1000", "--osl", "300"]
        with pytest.raises(SystemExit) as exc:
            main([*base, *args])
        assert exc.value.code == 1
        err = " ".join(capsys.readouterr().err.split())
        assert message in err and err.count("error:") == 1


class TestFlagNamesAndRanges:
    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (
                ["offers", "--provider", "nosuch"],
                "Unknown provider 'nosuch'. Known providers: AWS, Azure,",
            ),
            (["offers", "--provider", "runpd"], "Unknown provider 'runpd'. Did you mean: RunPod?"),
            (
                ["offers", "--max-age-days", "-1"],
                "--max-age-days must be a whole number in [0, 36,500] days, got -1.",
            ),
            (
                ["api-prices", "--max-age-days", "-5"],
                "--max-age-days must be a whole number in [0, 36,500] days",
            ),
            (
                ["cost", "--model", "llama-3.1-8b", "--gpu", "H100", "--isl", "100", "--osl",
                 "100", "--gpu-hour-usd", "2", "--replicas", "0"],
                "--replicas must be a whole number in [1, 100,000] replicas, got 0.",
            ),
            (
                ["cost", "--model", "llama-3.1-8b", "--gpu", "H100", "--isl", "100", "--osl",
                 "100", "--gpu-hour-usd", "2", "--retry-share", "1.5"],
                "--retry-share must be a finite number in [0, 1) (fraction), got 1.5",
            ),
            (
                ["tco", "--gpu-price-usd", "-5", "--usd-per-kwh", "0.1", "--power-w", "700"],
                "--gpu-price-usd must be a finite number in (0, 100,000,000] US$, got -5.",
            ),
        ],
    )  # fmt: skip
    def test_errors_name_the_flag(
        self, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        with pytest.raises(SystemExit) as exc:
            main(args)
        assert exc.value.code == 1
        assert message in " ".join(capsys.readouterr().err.split())

    def test_a_known_provider_in_any_case_lists_its_offers(self) -> None:
        d = run_json(["offers", "--provider", "lambda", "--json"])
        offers = d["offers"]
        assert isinstance(offers, list) and offers
        assert {o["provider"] for o in offers} == {"Lambda"}


def test_tco_names_the_tdp_it_assumed() -> None:
    """No --power-w with --gpu H100: the 700 W TDP (catalog) is used and named."""
    result = runner.invoke(
        app, ["tco", "--gpu-price-usd", "30000", "--usd-per-kwh", "0.1", "--gpu", "H100",
              "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["assumptions"] and "700 W per GPU" in data["assumptions"][0]


def test_cost_takes_fixed_lengths_and_prints_predicts_notes() -> None:
    # cost --fixed-lengths is predict(fixed_lengths=True) under the same price; the plain
    # output carries predict's note lines (vLLM running 52 where 49 full-length fit)
    from fastapi.testclient import TestClient

    from infercost.api.app import create_app
    from infercost.predict import predict

    base = ["cost", "--model", "llama-3.1-8b", "--gpu", "H100", "--isl", "8000", "--osl",
            "1000", "--concurrency", "52", "--gpu-hour-usd", "2"]  # fmt: skip
    fixed = json.loads(runner.invoke(app, [*base, "--fixed-lengths", "--json"]).stdout)
    lib = predict("llama-3.1-8b", "H100", 8000, 1000, concurrency=52, fixed_lengths=True,
                  gpu_hour_usd=2.0)  # fmt: skip
    assert fixed["prediction"]["ttft_s"] == pytest.approx(lib.ttft_s, rel=1e-12)
    plain = runner.invoke(app, base, env={"COLUMNS": "400"}).stdout
    assert "note: 52 sequences run although the KV cache holds 49" in plain
    body = {"model": "llama-3.1-8b", "gpu": "H100", "isl": 8000, "osl": 1000,
            "concurrency": 52, "gpu_hour_usd": 2.0, "fixed_lengths": True}  # fmt: skip
    got = TestClient(create_app()).post("/api/cost", json=body).json()
    assert got["prediction"]["ttft_s"] == pytest.approx(lib.ttft_s, rel=1e-12)
