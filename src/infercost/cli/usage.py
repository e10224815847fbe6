"""``infercost usage ...``: the usage ledger (ingest, report, anomalies, forecast, reprice,
export, demo). No formulas here."""

from __future__ import annotations

import json
import sys
import tempfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from infercost.cli.numbers import plain
from infercost.errors import InputError
from infercost.report import usage_charts
from infercost.report.files import (
    checked_html_path,
    checked_output_path,
    checked_png_path,
    refuse_empty_input,
)
from infercost.report.plan_charts import write_charts
from infercost.report.text import amount_sig, usd_sig
from infercost.usage import queries, synth
from infercost.usage.anomalies import fmt_metric
from infercost.usage.export import (
    FOCUS_VERSION,
    SelfHostedPrice,
    langfuse_models,
    litellm_config,
    self_hosted_prices,
    write_focus,
    write_json,
)
from infercost.usage.ingest import ingest
from infercost.usage.ledger import Ledger, load_fleet
from infercost.usage.prices import PriceBook
from infercost.usage.report import period

usage_app = typer.Typer(
    help="Usage ledger: what real traffic cost, who spent it.", no_args_is_help=True
)
_out = Console()
WIDE_OUTPUT = 10_000
"""Console width for tables written to a file or pipe: a table is as wide as it needs to be,
so every figure is whole (a terminal gets its own width, cells folded)."""

LedgerOpt = Annotated[Path, typer.Option("--ledger", help="DuckDB ledger file.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
HtmlOpt = Annotated[
    Path | None,
    typer.Option("--html", help="Write a chart (HTML).", callback=checked_html_path),
]
PngOpt = Annotated[
    Path | None,
    typer.Option(
        "--png",
        help="Write the chart as a PNG (needs Chrome/Chromium).",
        callback=checked_png_path,
    ),
]
FromOpt = Annotated[str | None, typer.Option("--from", help="Start (ISO), inclusive.")]
ToOpt = Annotated[str | None, typer.Option("--to", help="End (ISO), exclusive.")]


def _when(text: str | None, name: str) -> datetime | None:
    _not_blank(text, name)
    return queries.parse_when(text, name)


def _genai_version() -> str:
    """The installed genai-prices package's version (the API price sheets it ships)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("genai-prices")
    except PackageNotFoundError:
        return "(not installed)"


def _not_blank(text: str | None, name: str) -> None:
    """Refuse ``--from ""`` and the like: an empty value would act as no value."""
    if text is not None and not text.strip():
        raise InputError(f"{name} is empty; give a value (see --help) or drop {name}.")


def _table(*headers: str, title: str | None = None) -> Table:
    """A table whose cells fold rather than end in an ellipsis: a figure is never cut."""
    table = Table(title=title)
    for header in headers:
        table.add_column(header, overflow="fold")
    return table


def _print_table(table: Table) -> None:
    """On a terminal, at its width; piped or redirected (80 columns by default), as wide as
    the table needs, so no number is cut or folded."""
    if _out.is_terminal:
        _out.print(table)
        return
    Console(file=_out.file, width=WIDE_OUTPUT, highlight=False).print(table)


#: Below this fleet utilisation ``usage export`` says that its self-hosted rates carry idle time.
LOW_UTILISATION = 0.2


@usage_app.command("ingest")
def ingest_cmd(
    files: Annotated[list[Path], typer.Argument(help="Usage files (JSONL, JSON, CSV, Parquet).")],
    ledger: LedgerOpt,
    fmt: Annotated[
        str,
        typer.Option("--format", help="auto|openai|anthropic|litellm|otel|vllm|langfuse|generic"),
    ] = "auto",
    fleet: Annotated[
        Path | None, typer.Option("--fleet", help="TOML of self-hosted \\[\\[deployment]]s.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Ingest usage files; broken rows are quarantined with file, line and reason."""
    for given in files:
        if given.is_dir():
            raise InputError(
                f"{given} is a directory; pass the usage files in it (e.g. {given}/*.jsonl), "
                "not the directory."
            )
        refuse_empty_input(given)
    with Ledger(ledger) as book:
        if fleet is not None:
            book.add_deployments(load_fleet(fleet))
        total_bytes = sum(f.stat().st_size for f in files if f.is_file())
        show = not as_json and total_bytes > 20_000_000
        with Progress(
            TextColumn("ingest"), BarColumn(), TextColumn("{task.completed:,.0f} records"),
            disable=not show, transient=True,
        ) as bar:  # fmt: skip
            task = bar.add_task("ingest", total=None)
            result = ingest(
                book, [str(f) for f in files], fmt,
                on_progress=lambda n: bar.update(task, completed=n),
            )  # fmt: skip
    skipped = result.skipped_note()
    if skipped:
        print(f"note: {skipped}", file=sys.stderr)
    unusable = result.unusable(fmt)
    if unusable:  # exit 1: a file of which nothing could be used is not usage data
        raise InputError(unusable)
    if as_json:
        print(json.dumps(result.to_dict()))
        return
    table = _table("file", "format", "read", "ingested", "quarantined", "duplicates")
    for f in result.files:
        table.add_row(f["file"], f["format"], *(f"{f[k]:,}" for k in
                      ("read", "ingested", "quarantined", "duplicates")))  # fmt: skip
    _print_table(table)
    if result.quarantined:
        _out.print(
            f"{result.quarantined:,} rows quarantined: see the quarantine table of {ledger}."
        )


@usage_app.command("report")
def report_cmd(
    ledger: LedgerOpt,
    by: Annotated[
        str,
        typer.Option(
            "--by",
            help="DIM[,DIM]: team, app, user, api_key, model, "
            "provider, service_tier, day, hour, tag:NAME",
        ),
    ] = "team",
    start: FromOpt = None,
    end: ToOpt = None,
    allocate_idle: Annotated[
        str, typer.Option("--allocate-idle", help="line (own row) or proportional")
    ] = "line",
    html: HtmlOpt = None,
    png: PngOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Cost by dimension over a period, priced at each request's date."""
    rep = queries.report(
        ledger, by.split(","), _when(start, "--from"), _when(end, "--to"),
        allocate_idle=allocate_idle,
    )  # fmt: skip
    write_charts(lambda: usage_charts.report_figure(rep), html, png)
    if as_json:
        print(json.dumps(rep.to_dict()))
        return
    table = _table(*rep.by, "US$", "requests", "input tok", "cached", "output tok",
                   title=f"{rep.start:%Y-%m-%d} to {rep.end:%Y-%m-%d}")  # fmt: skip
    for r in rep.rows:
        table.add_row(*(str(v) if v is not None else "-" for v in r.key.values()),
                      amount_sig(r.usd), f"{r.requests:,}", f"{r.input_tokens:,}",
                      f"{r.cached_input_tokens:,}", f"{r.output_tokens:,}")  # fmt: skip
    _print_table(table)
    _out.print(f"total US$ {amount_sig(rep.total_usd)}")
    _out.print(
        "prices: each API request at the sheet in force on its day (infercost's dated sheets "
        f"and genai-prices {_genai_version()}: `infercost api-price MODEL --provider P` "
        "shows a sheet, `infercost api-prices --history` ours); self-hosted rows at their "
        "deployment's cost",
        highlight=False,
    )
    for u in rep.unpriced:
        _out.print(f"[yellow]unpriced[/yellow] {u['rows']:,} rows: {u['reason']}", highlight=False)
    for note in rep.notes:
        _out.print(f"note: {note}", highlight=False)


@usage_app.command("anomalies")
def anomalies_cmd(
    ledger: LedgerOpt,
    start: FromOpt = None,
    end: ToOpt = None,
    weeks: Annotated[
        int, typer.Option("--weeks", help="Weeks either side (or before) for the baseline.")
    ] = 4,
    trailing: Annotated[
        bool, typer.Option("--trailing", help="Baseline from earlier weeks only.")
    ] = False,
    threshold: Annotated[
        float, typer.Option("--threshold", help="Robust z-score that counts as unusual.")
    ] = 4.0,
    min_requests: Annotated[
        int, typer.Option("--min-requests", help="Requests an hour needs for ratio metrics.")
    ] = 10,
    html: HtmlOpt = None,
    png: PngOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Unusual hours: spend, tokens, cache hits or output share out of their usual range.

    Hours whose spend, tokens per request, cache-hit rate or output share leave their usual
    range for that weekday and hour, each with the team, model or key that drives it."""
    rep = queries.anomalies(
        ledger, _when(start, "--from"), _when(end, "--to"), weeks=weeks, trailing=trailing,
        threshold=threshold, min_requests=min_requests,
    )  # fmt: skip
    write_charts(lambda: usage_charts.anomalies_figure(rep), html, png)
    if as_json:
        print(json.dumps(rep.to_dict()))
        return
    table = _table("metric", "when (UTC)", "observed", "usual", "z", "driver", "explains",
                   title=f"Anomalies {rep.start:%Y-%m-%d} to {rep.end:%Y-%m-%d}")  # fmt: skip
    for a in rep.anomalies:
        d = a.drivers[0] if a.drivers else None
        table.add_row(
            a.metric, f"{a.start:%a %m-%d %H:%M}–{a.end:%H:%M}",
            fmt_metric(a.metric, a.observed),
            f"{fmt_metric(a.metric, a.expected)} ({fmt_metric(a.metric, a.low)}–"
            f"{fmt_metric(a.metric, a.high)})", f"{a.score:.1f}",
            f"{d.dimension} {d.value}: {fmt_metric(a.metric, d.expected)} → "
            f"{fmt_metric(a.metric, d.observed)}" if d else "-",
            f"{d.explained:.0%}" if d else "-",
        )  # fmt: skip
    _print_table(table)
    if not rep.anomalies and not any(n.startswith("no baseline") for n in rep.notes):
        _out.print("no hour left its usual range.")
    for a in rep.anomalies[:3]:
        _out.print(a.message, highlight=False)
    for note in rep.notes:
        _out.print(f"note: {note}", highlight=False)


def _money(text: str | None, name: str) -> Decimal | None:
    _not_blank(text, name)
    return queries.parse_usd(text, name)


@usage_app.command("forecast")
def forecast_cmd(
    ledger: LedgerOpt,
    budget_usd: Annotated[
        str | None, typer.Option("--budget-usd", help="Monthly budget; say when it is crossed.")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="First day not known (default: after the last row)."),
    ] = None,
    level: Annotated[int, typer.Option("--level", help="Interval level, %.")] = 90,
    html: HtmlOpt = None,
    png: PngOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Month-end spend with an interval, and the day a budget is crossed.

    statsforecast over the daily spend; the self-hosted fleets as a fixed cost per day."""
    when = _when(as_of, "--as-of")
    fc = queries.month_forecast(
        ledger, as_of=when.date() if when else None,
        budget_usd=_money(budget_usd, "--budget-usd"), level=level,
    )  # fmt: skip
    write_charts(lambda: usage_charts.forecast_figure(fc), html, png)
    if as_json:
        print(json.dumps(fc.to_dict()))
        return
    _out.print(
        f"{fc.month}: month-end spend [bold]{usd_sig(fc.month_end_usd)}[/bold] "
        f"({usd_sig(fc.month_end_low_usd)} to {usd_sig(fc.month_end_high_usd)}, "
        f"{fc.level} %); {usd_sig(fc.actual_to_date_usd)} spent before {fc.as_of}."
    )
    if fc.days_forecast:
        fixed = fc.fixed_usd_per_day
        title = fc.model + (
            f"; each day adds the fleet's fixed ${fixed:,.2f}" if fixed else ""
        )  # the model forecasts the variable spend; the table shows the whole day
        table = _table("day", "forecast US$", f"{fc.level} % interval", title=title)
        for d, m, lo, hi in zip(fc.days_forecast, fc.daily_mean, fc.daily_low, fc.daily_high,
                                strict=True):  # fmt: skip
            table.add_row(
                f"{d:%a %Y-%m-%d}", amount_sig(m), f"{amount_sig(lo)} – {amount_sig(hi)}"
            )
        _print_table(table)
    c = fc.crossing
    if c is not None:
        if c.actual is not None:
            _out.print(f"budget ${fc.budget_usd:,.2f} was crossed on {c.actual}.")
        elif c.expected or c.earliest:
            _out.print(
                f"budget ${fc.budget_usd:,.2f} crossed on {c.expected or 'no day this month'} "
                f"(earliest {c.earliest}, latest {c.latest or 'not this month'})."
            )
        else:
            _out.print(f"budget ${fc.budget_usd:,.2f} holds this month.")
    for note in fc.notes:
        _out.print(f"note: {note}", highlight=False)


@usage_app.command("reprice")
def reprice_cmd(
    ledger: LedgerOpt,
    alternatives: Annotated[
        list[str],
        typer.Option(
            "--as",
            help="model:PROVIDER/MODEL, tier:batch, prices:YYYY-MM-DD, caching:LO[-HI], "
            "selfhost:MODEL@GPU[,key=value...] (repeatable; docs/usage.md)",
        ),
    ],
    where: Annotated[
        list[str] | None, typer.Option("--where", help="DIM=VALUE scope (repeatable).")
    ] = None,
    start: FromOpt = None,
    end: ToOpt = None,
    html: HtmlOpt = None,
    png: PngOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """What the period would have cost another way: ranges with their assumptions.

    On another model, service tier or price date, with prompt caching, or self-hosted."""
    rep = queries.repricing(
        ledger, alternatives, where or [], _when(start, "--from"), _when(end, "--to")
    )
    write_charts(lambda: usage_charts.reprice_figure(rep), html, png)
    if as_json:
        print(json.dumps(rep.to_dict()))
        return
    scope = ", ".join(f"{k}={v}" for k, v in rep.where.items()) or "all rows"
    table = _table("as", "US$", "change",
                   title=f"{rep.start:%Y-%m-%d} to {rep.end:%Y-%m-%d} ({scope}): actual "
                   f"{usd_sig(rep.actual_usd)}")  # fmt: skip
    for a in rep.alternatives:
        cost = (amount_sig(a.low_usd) if a.low_usd == a.high_usd
                else f"{amount_sig(a.low_usd)} – {amount_sig(a.high_usd)}")  # fmt: skip
        lo, hi = a.low_usd - rep.actual_usd, a.high_usd - rep.actual_usd
        change = (amount_sig(lo, plus=True) if lo == hi
                  else f"{amount_sig(lo, plus=True)} to {amount_sig(hi, plus=True)}")  # fmt: skip
        if a.unpriced:
            cost += " (incomplete)"
        table.add_row(a.spec, cost, change)
    _print_table(table)
    for a in rep.alternatives:
        _out.print(f"[bold]{a.spec}[/bold]", highlight=False)
        for text in a.assumptions:
            _out.print(f"  - {text}", highlight=False)
        for u in a.unpriced:
            _out.print(f"[yellow]{a.spec}: unpriced[/yellow] {u['rows']:,} rows: {u['reason']}",
                       highlight=False)  # fmt: skip
    for u in rep.unpriced:
        _out.print(f"[yellow]actual: unpriced[/yellow] {u['rows']:,} rows: {u['reason']}",
                   highlight=False)  # fmt: skip


@usage_app.command("export")
def export_cmd(
    ledger: LedgerOpt,
    focus: Annotated[
        Path | None, typer.Option("--focus", help="FOCUS 1.2 cost rows (.csv or .parquet).")
    ] = None,
    litellm: Annotated[
        Path | None,
        typer.Option("--litellm", help="LiteLLM model_list with self-hosted $/token (JSON)."),
    ] = None,
    langfuse: Annotated[
        Path | None,
        typer.Option("--langfuse", help="Langfuse model definitions with self-hosted prices."),
    ] = None,
    start: FromOpt = None,
    end: ToOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """FOCUS 1.2 cost rows, and self-hosted $/token for LiteLLM and Langfuse.

    With the self-hosted prices, LiteLLM and Langfuse stop showing $0 for those models."""
    if focus is None and litellm is None and langfuse is None:
        raise InputError("give --focus FILE, --litellm FILE and/or --langfuse FILE.")
    for flag, path in (("--focus", focus), ("--litellm", litellm), ("--langfuse", langfuse)):
        checked_output_path(path, flag)
    out: dict[str, Any] = {}
    done = None
    hosted: list[SelfHostedPrice] = []
    with Ledger(ledger, read_only=True) as book:
        lo, hi = _when(start, "--from"), _when(end, "--to")
        if focus is not None:
            done = write_focus(focus, book.requests(), PriceBook(), book.deployments(), lo, hi)
            out.update(done.to_dict())
        if litellm is not None or langfuse is not None:
            hosted = self_hosted_prices(book.requests(), book.deployments(), lo, hi)
            out["self_hosted"] = [p.to_dict() for p in hosted]
            first = lo or period(book.requests(), None, None)[0]
            if litellm is not None:
                write_json(litellm, litellm_config(hosted))
                out["litellm"] = str(litellm)
            if langfuse is not None:
                write_json(langfuse, langfuse_models(hosted, first))
                out["langfuse"] = str(langfuse)
    if as_json:
        print(json.dumps(out))
        return
    if done is not None:
        _out.print(
            f"FOCUS {FOCUS_VERSION}: {done.rows:,} cost rows, billed ${done.billed_usd:,.2f} "
            f"-> {done.path}", highlight=False,
        )  # fmt: skip
    for p in hosted:
        _out.print(
            f"{p.deployment}: ${p.input_usd_per_token * 1_000_000:,.4f}/M input, "
            f"${p.output_usd_per_token * 1_000_000:,.4f}/M output (fleet utilisation "
            f"{p.utilization:.1%})", highlight=False,
        )  # fmt: skip
        if p.utilization < LOW_UTILISATION:
            _out.print(
                f"note: {p.deployment} was busy {p.utilization:.1%} of the time, so these "
                "rates carry its idle GPU-hours (the period's tokens pay the whole fleet); "
                "the rate at full use is about "
                f"${plain(float(p.output_usd_per_token * Decimal(str(p.utilization)) * 10**6), 4)}"
                "/M "
                "output. Right-size the fleet, or export a busier period.",
                highlight=False,
            )
    for flag in ("litellm", "langfuse"):
        if flag in out:
            _out.print(f"{flag} prices -> {out[flag]}", highlight=False)
    if (litellm or langfuse) and not hosted:
        _out.print("no registered self-hosted fleet served rows in the period.")


@usage_app.command("demo")
def demo_cmd(
    out: Annotated[Path, typer.Option("--out", help="Ledger file to create or extend.")],
    rows: Annotated[int, typer.Option("--rows", help="Requests in the month.")] = 50_000,
    seed: Annotated[
        int, typer.Option("--seed", help=f"Random seed, 0 to {synth.MAX_SEED:,}.")
    ] = 7,
    as_json: JsonOpt = False,
) -> None:
    """Write a realistic synthetic month of usage into a ledger.

    Teams, seasonality, cache hits, a spike and a self-hosted fleet (August 2025)."""
    if rows < 1 or rows > 20_000_000:
        raise InputError(f"--rows must be between 1 and 20,000,000, got {rows}.")
    synth.check_seed(seed)  # before the ledger file exists
    with Ledger(out) as book, tempfile.TemporaryDirectory() as tmp:
        book.add_deployments(synth.FLEET)
        path = synth.write_parquet(synth.month(rows, seed), Path(tmp) / "demo.parquet")
        result = ingest(book, [path])
    if as_json:
        print(json.dumps(result.to_dict()))
    elif result.ingested == 0 and result.duplicates:
        _out.print(
            f"wrote nothing: the {result.duplicates:,} requests of seed {seed} are already in "
            f"{out} (duplicates). For more traffic pass another --seed; for a fresh ledger "
            "another --out.", highlight=False,
        )  # fmt: skip
    else:
        _out.print(f"wrote {result.ingested:,} requests of August 2025 into {out}; try "
                   f"`infercost usage report --ledger {out} --by team,model`",
                   highlight=False)  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add the ``usage`` group to ``app``."""
    app.add_typer(usage_app, name="usage")
