"""The QA pass over the usage commands: bounded budgets, checked seeds and dimensions, unknown
names in --as, one batch discount for price sheet and re-pricing, messages that name the
option given, forecasts without numpy warnings, whole numbers in piped tables, help text."""

from __future__ import annotations

import json
import math
import warnings
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from infercost.cli.usage import usage_app
from infercost.cost.api import api_price
from infercost.errors import InputError, UnknownNameError
from infercost.report.text import amount_sig
from infercost.usage import queries, synth
from infercost.usage.forecast import MAX_BUDGET_USD, _fit, forecast
from infercost.usage.ingest import ingest
from infercost.usage.ledger import Ledger
from infercost.usage.prices import PriceBook
from infercost.usage.report import check_dimensions
from infercost.usage.reprice import parse_where, reprice

HEADER = (
    "timestamp,provider,model,input_tokens,cached_input_tokens,output_tokens,service_tier,"
    "team,request_id\n"
)


def run(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(usage_app, list(args))
    text = res.output if res.exception is None else f"{res.output}{res.exception}"
    return res.exit_code, text


# 1. budgets ---------------------------------------------------------------------------------


def test_budget_ceiling_is_named_and_never_a_crash(demo_ledger: Path) -> None:
    assert Decimal("1e12") == MAX_BUDGET_USD
    assert queries.parse_usd("1e12", "--budget-usd") == Decimal("1000000000000")
    assert queries.parse_usd("$1,000,000,000,000", "--budget-usd") == Decimal("1e12")
    for text in ("1e30", "1e400", "1000000000000.01"):
        with pytest.raises(InputError, match=r"--budget-usd .* above the ceiling .*1e12 US\$"):
            queries.parse_usd(text, "--budget-usd")
    code, out = run("forecast", "--ledger", str(demo_ledger), "--budget-usd", "1e30", "--json")
    assert code == 1 and "--budget-usd '1e30' is above the ceiling" in out
    with (
        Ledger(demo_ledger, read_only=True) as led,
        pytest.raises(InputError, match=r"--budget-usd must lie in \[0, 1000000000000\]"),
    ):
        forecast(led.requests(), PriceBook(), led.deployments(), budget_usd=Decimal("1e13"))


# 2. demo ------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", ["-1", str(2**32)])
def test_demo_seed_checked_before_the_ledger_exists(tmp_path: Path, seed: str) -> None:
    out = tmp_path / "m6.duckdb"
    code, text = run("demo", "--out", str(out), "--rows", "50", "--seed", seed)
    assert code == 1 and "--seed must be between 0 and 4,294,967,295" in text
    assert not out.exists()
    assert synth.check_seed(0) == 0 and synth.check_seed(2**32 - 1) == 2**32 - 1


def test_demo_twice_says_the_rows_are_duplicates(tmp_path: Path) -> None:
    out = tmp_path / "month.duckdb"
    code, first = run("demo", "--out", str(out), "--rows", "300")
    assert code == 0 and first.startswith("wrote ")
    code, again = run("demo", "--out", str(out), "--rows", "300")
    assert code == 0 and "wrote nothing" in again and "duplicates" in again
    assert "--seed" in again and "--out" in again
    # another seed adds its own rows, the spike's included (their ids carry the seed)
    code, other = run("demo", "--out", str(out), "--rows", "300", "--seed", "8", "--json")
    added = json.loads(other)
    assert code == 0 and added["duplicates"] == 0 and added["ingested"] >= 300


# 3. --by ------------------------------------------------------------------------------------


def test_by_rejects_repeated_and_empty_dimensions(demo_ledger: Path) -> None:
    assert check_dimensions(["team", "model"]) == ["team", "model"]
    assert check_dimensions([]) == []  # the internal whole-period total
    for by, msg in (("team,team", "names 'team' twice"), ("", "has an empty dimension"),
                    ("team,,model", "has an empty dimension")):  # fmt: skip
        code, out = run("report", "--ledger", str(demo_ledger), "--by", by)
        assert code == 1 and f"--by {by!r} {msg}" in out


# 4, 5. --as model: names, batch discount ----------------------------------------------------

BATCH_CSV = """\
provider,model,usd_per_m_input,usd_per_m_output,usd_per_m_cached_input,usd_per_m_cache_write,batch_discount,context_tiers,as_of,source,notes
Acme,acme-1,1.00,4.00,0.10,,0.5,,2025-01-01,test sheet,
Acme,acme-3,1.00,4.00,,,,,2025-01-01,test sheet,
Acme,acme-3,1.00,4.00,,,0.5,,2025-09-01,test sheet,
"""


@pytest.fixture
def batch_book(tmp_path: Path) -> PriceBook:
    folder = tmp_path / "catalog"
    (folder / "api_prices").mkdir(parents=True)
    (folder / "api_prices" / "acme.csv").write_text(BATCH_CSV)
    return PriceBook((str(folder),), use_genai_prices=False)


def load(ledger: Ledger, book: PriceBook, tmp_path: Path, rows: list[str]) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(HEADER + "".join(r + "\n" for r in rows))
    assert ingest(ledger, [path], prices=book).quarantined == 0


def test_unknown_model_or_provider_in_as_is_an_unknown_name(
    ledger: Ledger, batch_book: PriceBook, tmp_path: Path
) -> None:
    load(ledger, batch_book, tmp_path, ["2025-08-10T12:00:00Z,acme,acme-1,10,0,10,standard,a,r1"])
    t = ledger.requests()
    with pytest.raises(
        UnknownNameError, match=r"unknown API provider 'acmee'.*Did you mean: Acme"
    ):
        reprice(t, batch_book, [], ["model:acmee/acme-1"])
    with pytest.raises(UnknownNameError, match=r"no API price for 'acme-4'.*Did you mean: acme-"):
        reprice(t, batch_book, [], ["model:acme/acme-4"])
    with pytest.raises(UnknownNameError, match=r"--as 'model:nope/nothing'"):
        reprice(t, batch_book, [], ["model:nope/nothing"])


def test_batch_discount_of_the_current_sheet_when_the_dated_one_has_none(
    ledger: Ledger, batch_book: PriceBook, tmp_path: Path
) -> None:
    sheet = batch_book.sheet_at("acme", "acme-3", date(2025, 8, 10))
    assert sheet is not None and sheet.as_of == date(2025, 1, 1)
    assert sheet.batch_discount == Decimal("0.5") and "from the current sheet" in sheet.notes
    load(ledger, batch_book, tmp_path,
         ["2025-08-10T12:00:00Z,acme,acme-3,1000000,0,500000,standard,a,r1"])  # fmt: skip
    rep = reprice(ledger.requests(), batch_book, [], ["tier:batch"])
    # 1M x $1/M + 0.5M x $4/M = 3.00; the batch tier at 50 % off: 1.50
    assert rep.actual_usd == Decimal("3")
    alt = rep.alternatives[0]
    assert (alt.low_usd, alt.high_usd, alt.unpriced) == (Decimal("1.5"), Decimal("1.5"), [])


def test_batch_discount_matches_the_api_price_sheet() -> None:
    book = PriceBook()
    for provider, model in (("openai", "gpt-4o-mini"), ("openai", "gpt-4o")):
        current = api_price(model, provider).batch_discount
        assert current == Decimal("0.5")  # `infercost api-price`: "batch API: 50% off"
        dated = book.sheet_at(provider, model, date(2025, 8, 10))
        assert dated is not None and dated.batch_discount == current


# 6. messages --------------------------------------------------------------------------------


def test_messages_name_the_option_given(demo_ledger: Path) -> None:
    with pytest.raises(InputError, match=r"^--where 'colour' is not a dimension"):
        parse_where(["colour=red"])
    code, out = run("reprice", "--ledger", str(demo_ledger), "--as", "tier:batch",
                    "--where", "team=nobody")  # fmt: skip
    assert code == 1 and "where team=nobody;" in out and "{" not in out
    code, out = run("report", "--ledger", str(demo_ledger), "--from", "2030-01-01")
    assert code == 1 and "--to" not in out
    assert "the period is empty: --from 2030-01-01 00:00 is after the ledger's last row" in out
    code, out = run("report", "--ledger", str(demo_ledger), "--to", "2020-01-01")
    assert code == 1 and "--to 2020-01-01 00:00 is before the ledger's first row" in out


# 7. forecast computation ----------------------------------------------------------------------


def test_fit_without_warnings_for_any_history_length() -> None:
    rng = np.random.default_rng(1)
    y = 100 + 20 * rng.standard_normal(31)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for n in range(3, 32):
            mean, lo, hi, name = _fit(y[:n], 4, 90)
            assert np.all(np.isfinite(mean)) and np.all(lo <= mean) and np.all(mean <= hi)
            season = "season_length=7" if n >= 15 else "season_length=1" if n >= 8 else ""
            assert season in name and (n >= 8 or "HistoricAverage" in name)
    # under 8 days the historic mean: [1, 2, 3] -> 2, sd 1, 90 % bound 2 -+ 1.6449 x sqrt(4/3)
    mean, lo, hi, _ = _fit(np.array([1.0, 2.0, 3.0]), 2, 90)
    half = 1.6448536269514722 * math.sqrt(4 / 3)
    assert mean == pytest.approx([2, 2]) and lo == pytest.approx([2 - half] * 2)
    assert hi == pytest.approx([2 + half] * 2)
    zero = _fit(np.zeros(10), 3, 90)
    assert all(np.all(a == 0) for a in zero[:3]) and zero[3].startswith("none")


def test_forecast_mid_month_has_no_warnings(demo_ledger: Path) -> None:
    with warnings.catch_warnings(), Ledger(demo_ledger, read_only=True) as led:
        warnings.simplefilter("error")
        for day in (4, 9, 15):
            fc = forecast(led.requests(), PriceBook(), led.deployments(),
                          as_of=date(2025, 8, day))  # fmt: skip
            assert fc.history_days == day - 1 and fc.month_end_low_usd <= fc.month_end_usd


# 8. piped tables ------------------------------------------------------------------------------


def test_piped_tables_keep_every_figure_whole(demo_ledger: Path) -> None:
    by = "team,model,user,api_key,app"
    code, out = run("report", "--ledger", str(demo_ledger), "--by", by)
    assert code == 0 and "…" not in out
    got = json.loads(run("report", "--ledger", str(demo_ledger), "--by", by, "--json")[1])
    for row in got["rows"]:
        # money below $1 to three significant figures (docs/cli.md)
        assert amount_sig(Decimal(row["usd"])) in out and f"{row['input_tokens']:,}" in out
    width = max(len(line) for line in out.splitlines())
    assert width > 80  # wider than a pipe's default console, no cell folded
    for args in (["forecast", "--as-of", "2025-08-20"], ["reprice", "--as", "tier:batch"],
                 ["anomalies"]):  # fmt: skip
        code, out = run(*args, "--ledger", str(demo_ledger))
        assert code == 0 and "…" not in out


# 9, 10. help and ingest -----------------------------------------------------------------------


def test_help_text_escapes_markup_and_keeps_summaries_on_one_line() -> None:
    res = CliRunner().invoke(usage_app, ["ingest", "--help"], env={"COLUMNS": "200"})
    assert "TOML of self-hosted [[deployment]]s." in res.output
    res = CliRunner().invoke(usage_app, ["--help"], env={"COLUMNS": "200"})
    rest = res.output[res.output.index("Commands") :].splitlines()[1:]
    panel = rest[: next(i for i, line in enumerate(rest) if line.startswith("╰"))]
    names = [line.split()[1] for line in panel]  # one line per command: no continuation
    assert names == ["ingest", "report", "anomalies", "forecast", "reprice", "export", "demo"]


def test_ingest_of_a_directory_says_so(tmp_path: Path) -> None:
    code, out = run("ingest", str(tmp_path), "--ledger", str(tmp_path / "l.duckdb"))
    assert code == 1 and f"{tmp_path} is a directory; pass the usage files in it" in out
    assert not (tmp_path / "l.duckdb").exists()


def test_a_file_wholly_quarantined_under_a_forced_format_says_so(tmp_path: Path) -> None:
    # an OpenAI file ingested as --format anthropic: all 11 rows quarantined (QA: exit 0 and
    # no word about the format); the note names the format, and a re-ingest with auto still
    # adds the file's 2 good rows
    src = str(Path(__file__).parent / "fixtures" / "openai_chat.jsonl")
    led = str(tmp_path / "l.duckdb")
    # issue 16: a file of which no row could be used is bad input: exit 1, one line
    res = CliRunner().invoke(usage_app, ["ingest", src, "--ledger", led, "--format", "anthropic"])
    assert res.exit_code == 1, res.output
    assert "none of its 11 rows could be used as --format anthropic" in str(res.exception)
    assert "re-run with --format auto" in str(res.exception)
    again = CliRunner().invoke(usage_app, ["ingest", src, "--ledger", led, "--json"])
    assert json.loads(again.stdout)["ingested"] == 2


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        # the ledger's times are UTC: an offset moves the instant (QA: +02:00 and -05:00 both
        # read as 00:00 UTC, so a report window silently missed rows)
        ("2025-09-01T00:00:00+02:00", datetime(2025, 8, 31, 22, 0)),
        ("2025-09-01T00:00:00-05:00", datetime(2025, 9, 1, 5, 0)),
        ("2025-08-31T22:00:00Z", datetime(2025, 8, 31, 22, 0)),
        ("2025-08-31T22:00:00z", datetime(2025, 8, 31, 22, 0)),
        ("2025-09-01", datetime(2025, 9, 1)),
    ],
)
def test_report_window_offsets_are_converted_to_utc(text: str, utc: datetime) -> None:
    assert queries.parse_when(text, "--from") == utc
