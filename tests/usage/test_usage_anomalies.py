"""Anomalies: the seasonal baseline, and injected anomalies found with their drivers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from infercost.cli.usage import usage_app
from infercost.usage import synth
from infercost.usage.anomalies import AnomalyReport, _offsets, baseline, detect
from infercost.usage.ingest import ingest
from infercost.usage.ledger import Ledger
from infercost.usage.prices import PriceBook

# A leaked API key used for two hours on Wed 2025-08-13 10:00–12:00 by every team, each on
# its own model, 150 requests an hour at an explicit $0.25 each (1,000 in, 4,000 out).
LEAK_TEAMS = [(s[0], s[1], s[2], s[3]) for s in synth.STREAMS if s[0] != "research"]
LEAK_REQUESTS_PER_HOUR = 150
LEAK_USD = 0.25


def _leak_csv(path: Path) -> Path:
    lines = ["request_id,timestamp,provider,model,input_tokens,cached_input_tokens,"
             "output_tokens,team,app,user,api_key,price_usd"]  # fmt: skip
    for hour in (10, 11):
        for i in range(LEAK_REQUESTS_PER_HOUR):
            team, app, provider, model = LEAK_TEAMS[i % len(LEAK_TEAMS)]
            ts = f"2025-08-13T{hour:02d}:{(i * 23) % 60:02d}:00Z"
            lines.append(f"leak-{hour}-{i},{ts},{provider},{model},1000,0,4000,{team},{app},"
                         f"user-{i % 60:03d},key-leaked,{LEAK_USD}")  # fmt: skip
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, AnomalyReport]]:
    """The demo month (with its spike) plus the leaked key, and its anomaly report."""
    folder = tmp_path_factory.mktemp("anomalies")
    path = folder / "ledger.duckdb"
    with Ledger(path) as led:
        led.add_deployments(synth.FLEET)
        res = ingest(led, [synth.write_parquet(synth.month(50_000), folder / "m.parquet"),
                           _leak_csv(folder / "leak.csv")])  # fmt: skip
        assert res.quarantined == 0
        rep = detect(led.requests(), PriceBook(), led.deployments())
    yield path, rep


def test_baseline_is_the_median_of_the_same_hour_in_other_weeks() -> None:
    x = np.full(5 * 168, 100.0)
    t0 = 2 * 168 + 10
    x[t0] = 200.0
    offsets = _offsets(2, trailing=False)
    # weeks -2, -1, +1, +2 at the hour and either side: 12 references
    assert sorted(offsets.tolist()) == sorted(k * 168 + j for k in (-2, -1, 1, 2)
                                              for j in (-1, 0, 1))  # fmt: skip
    med, mad = baseline(x, offsets)
    # t0's references are all 100: median 100, MAD 0
    assert med[t0] == 100.0 and mad[t0] == 0.0
    # a week later the outlier is one of its 12 references: the median stays 100 (a mean
    # would be (11 x 100 + 200) / 12 = 108.3)
    assert med[t0 + 168] == 100.0 and mad[t0 + 168] == 0.0
    assert all(o < 0 for o in _offsets(2, trailing=True))


def test_demo_spike_found_with_its_team(month: tuple[Path, AnomalyReport]) -> None:
    _, rep = month
    cache = [a for a in rep.anomalies if a.metric == "cache_hit_rate" and a.direction == "down"]
    # synth: day SPIKE_DAY = 20 after 1 Aug (Thu 21 Aug) from 14:00 for three hours
    spike = [a for a in cache if a.start == datetime(2025, 8, 21, 14)]
    assert len(spike) == 1
    a = spike[0]
    assert a.end == datetime(2025, 8, 21, 17)
    d = a.drivers[0]
    assert (d.dimension, d.value) == ("team", "search")
    # by construction the search team's cached share is multiplied by 0.12 (then rounded down
    # to 64-token blocks, which only lowers it): its own hit rate falls to at most ~12 % of
    # its usual level
    assert 0.06 < d.observed / d.expected < 0.125
    assert d.explained > 0.5
    assert "cache hits fell from" in a.message and "team search" in a.message


def test_injected_leaked_key_found_with_its_key(month: tuple[Path, AnomalyReport]) -> None:
    _, rep = month
    spend = [a for a in rep.anomalies if a.metric == "spend_usd" and a.direction == "up"
             and a.start == datetime(2025, 8, 13, 10)]  # fmt: skip
    assert len(spend) == 1
    a = spend[0]
    assert a.end == datetime(2025, 8, 13, 12)
    d = a.drivers[0]
    # spread over four teams, apps and models, the key is the one value behind all of it:
    # it spends 150 x $0.25 = $37.50 an hour against nothing in other weeks
    assert (d.dimension, d.value) == ("api_key", "key-leaked")
    assert d.observed == pytest.approx(LEAK_REQUESTS_PER_HOUR * LEAK_USD)
    assert d.expected == 0.0
    assert d.explained == pytest.approx(1.0, abs=0.05)
    # each of the four streams carries a quarter of it; search runs two of them (qa-bot and
    # ranker), so the best team explains about half
    team = next(x for x in a.drivers if x.dimension == "team")
    assert (team.value, team.explained) == ("search", pytest.approx(0.5, abs=0.05))
    share = [x for x in rep.anomalies if x.metric == "output_share"
             and x.start == datetime(2025, 8, 13, 10)]  # fmt: skip
    assert share and share[0].drivers[0].value == "key-leaked"
    # its own output share: 4,000 ÷ (1,000 + 4,000) = 80 %
    assert share[0].drivers[0].observed == pytest.approx(0.8)


def test_anomalies_cli_json(month: tuple[Path, AnomalyReport], tmp_path: Path) -> None:
    path, _ = month
    html = tmp_path / "a.html"
    res = CliRunner().invoke(
        usage_app, ["anomalies", "--ledger", str(path), "--from", "2025-08-13",
                    "--to", "2025-08-14", "--json", "--html", str(html)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    got = json.loads(res.stdout)
    assert list(got) == ["from", "to", "baseline", "anomalies", "notes"]
    assert got["from"] == "2025-08-13T00:00:00"
    first = got["anomalies"][0]
    assert list(first) == ["metric", "from", "to", "direction", "observed", "expected",
                           "usual_low", "usual_high", "score", "drivers", "message"]  # fmt: skip
    assert all(a["from"].startswith("2025-08-13") for a in got["anomalies"])
    assert html.read_text().count("plotly") > 0


def test_bad_threshold_is_an_input_error(month: tuple[Path, AnomalyReport]) -> None:
    path, _ = month
    res = CliRunner().invoke(usage_app, ["anomalies", "--ledger", str(path), "--weeks", "0"])
    assert res.exit_code != 0
    assert "--weeks must lie in [1, 52]" in str(res.exception)


def test_a_ledger_without_history_says_it_has_no_baseline(tmp_path: Path) -> None:
    # QA: a one-day ledger printed "no hour left its usual range" (and notes []), a finding
    # it could not make: there were no other weeks to compare with
    fixtures = Path(__file__).parent / "fixtures" / "openai_chat.jsonl"
    with Ledger(tmp_path / "one.duckdb") as led:
        ingest(led, [fixtures])
    res = CliRunner().invoke(usage_app, ["anomalies", "--ledger", str(tmp_path / "one.duckdb")])
    assert res.exit_code == 0, res.output
    assert "no baseline" in res.output and "no hour left its usual range" not in res.output
