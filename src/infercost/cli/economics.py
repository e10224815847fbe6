"""Economics commands: ``tco``, ``offers`` (+ ``refresh``), ``api-price(s)``, ``cost``,
``compare-gpus``.

Thin: each command parses its options, calls one library function and renders the result as a
rich table or, with ``--json``, one JSON object. No arithmetic here.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from infercost.catalog import get_accelerator
from infercost.catalog.offers_refresh import refresh_offers
from infercost.catalog.pricing import (
    CATALOG_DIR_ENV,
    PRICING_KINDS,
    STALE_AFTER_DAYS,
    get_offer,
)
from infercost.cli.bounds import checked, print_json
from infercost.cli.exits import EXIT_NO_ANSWER, exit_no_answer
from infercost.cli.numbers import plain
from infercost.cost.api import choose_api_price, missing_price_text
from infercost.cost.gpu_hour import resolve_price
from infercost.cost.overheads import overheads, useful_fraction
from infercost.cost.tco import owned_hardware, power_from_tdp, tco
from infercost.errors import InputError
from infercost.plan.compare import compare_gpus
from infercost.plan.deployment_cost import deployment_cost
from infercost.report.charts_cost import compare_figure
from infercost.report.cost_tables import (
    render_compare_table,
    render_cost_table,
    render_tco_table,
)
from infercost.report.files import checked_html_path, checked_png_path
from infercost.report.listings import api_prices_data, check_max_age, offers_data, sheet_dict
from infercost.report.plan_charts import write_charts

_out = Console(highlight=False, soft_wrap=True)


def _print_json(obj: Any) -> None:
    print_json(obj)


def _stale_note(count: int, total: int, max_age_days: int, hint: str) -> str:
    return (
        f"[yellow]{count} of {total} prices are older than {max_age_days} days (STALE): "
        f"check them before use{hint}.[/yellow]"
    )


def tco_command(
    gpu_price_usd: float = typer.Option(..., help="Purchase price of one GPU, US$."),
    power_w: float | None = typer.Option(
        None, help="Average draw per GPU while serving, W (default: the --gpu's TDP)."
    ),
    usd_per_kwh: float = typer.Option(..., help="Electricity price, US$/kWh."),
    years: float = typer.Option(3.0, help="Depreciation life, years."),
    utilization: float = typer.Option(1.0, help="Share of hours doing paid work, 0-1."),
    hosting_usd: float = typer.Option(0.0, help="Hosting/colo/cooling over the life, US$."),
    pue: float = typer.Option(1.0, help="Facility power usage effectiveness (>= 1)."),
    power_billing: str = typer.Option(
        "all-hours",
        help="all-hours: power_w drawn every hour of the life; utilized-hours: power_w while "
        "busy and --idle-power-w while idle.",
    ),
    idle_power_w: float = typer.Option(0.0, help="Idle draw per GPU, W (utilized-hours)."),
    server_price_usd: float = typer.Option(0.0, help="Server price (chassis, CPUs), US$."),
    gpus_per_server: int = typer.Option(1, help="GPUs sharing --server-price-usd."),
    residual_value_fraction: float = typer.Option(
        0.0, help="Resale value at end of life, fraction of purchase."
    ),
    networking_usd: float = typer.Option(0.0, help="Networking over the life, per GPU, US$."),
    maintenance_usd_per_year: float = typer.Option(0.0, help="Support/repairs per GPU-year."),
    people_usd_per_month: float = typer.Option(0.0, help="This GPU's share of staff, US$/month."),
    gpu: str | None = typer.Option(None, help="Accelerator, to take --power-w from its TDP."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Owned-hardware total cost of ownership and the $/GPU-hour it implies."""
    power_w, assumed = power_from_tdp(power_w, gpu)
    if power_billing not in ("all-hours", "utilized-hours"):
        raise InputError(
            f"--power-billing must be all-hours or utilized-hours, got {power_billing!r}."
        )
    result = tco(
        owned_hardware(
            gpu_price_usd=gpu_price_usd,
            server_price_usd=server_price_usd,
            gpus_per_server=gpus_per_server,
            years=years,
            residual_value_fraction=residual_value_fraction,
            power_w=power_w,
            idle_power_w=idle_power_w,
            power_billing=power_billing,
            usd_per_kwh=usd_per_kwh,
            pue=pue,
            hosting_usd=hosting_usd,
            networking_usd=networking_usd,
            maintenance_usd_per_year=maintenance_usd_per_year,
            people_usd_per_month=people_usd_per_month,
            utilization=utilization,
        )
    )
    data = checked(result.to_dict())
    data["assumptions"] = assumed
    if as_json:
        _print_json(data)
        return
    render_tco_table(_out, result)
    for note in assumed:
        _out.print(f"assumed: {note}", markup=False, highlight=False)


offers_app = typer.Typer(
    help="Cloud GPU offers (dated snapshot), cheapest $/GPU-hour first: the current ones, "
    f"superseded rows (dated more than {STALE_AFTER_DAYS} days before the newest offer for the "
    "same GPU and kind) hidden and counted; --all lists them.\n\n"
    "Examples: infercost offers --gpu H100; infercost offers --kind spot --all; "
    "infercost offers refresh",
    short_help="Cloud GPU offers (dated snapshot), sorted by $/GPU-hour.",
    no_args_is_help=False,
)


@offers_app.callback(invoke_without_command=True)
def offers_command(
    ctx: typer.Context,
    gpu: str | None = typer.Option(None, help="Accelerator (id or spelling: H100, a100-80gb)."),
    provider: str | None = typer.Option(None, help="Provider name (AWS, GCP, Lambda, ...)."),
    kind: str | None = typer.Option(None, help="Pricing kind: " + ", ".join(PRICING_KINDS)),
    max_age_days: int = typer.Option(STALE_AFTER_DAYS, help="Flag prices older than this."),
    show_all: bool = typer.Option(
        False,
        "--all",
        help="Also list superseded offers: those dated more than "
        f"{STALE_AFTER_DAYS} days before the newest offer for the same GPU and kind.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """List current offers: $/instance-hour, $/GPU-hour, source and date; stale prices
    flagged. Superseded offers (a newer price exists for the same GPU and kind) are hidden
    unless --all; the planners and the default offer never use them."""
    if ctx.invoked_subcommand is not None:
        return
    data = offers_data(gpu, provider, kind, max_age_days, show_all=show_all)
    if as_json:
        _print_json(data)
        return
    render_offers(_out, data)


def _print_table_or_lines(
    console: Console,
    table: Table,
    title: str,
    lines: list[str],
    sources: list[str],
    empty: str,
) -> None:
    """``table`` when it fits the terminal, else ``title`` and two ``lines`` per row (ids kept
    whole); ``empty`` (e.g. "none match") instead when there are no rows; then the numbered
    ``sources`` the rows cite."""
    if empty:
        console.print(f"{title}: {empty}.", markup=False, highlight=False)
    elif console.measure(table, options=console.options.update_width(10**4)).maximum <= (
        console.width
    ):
        console.print(table)
    else:
        console.print(title, markup=False, style="italic")
        for line in lines:
            console.print(line, markup=False, highlight=False)
    for i, src in enumerate(sources, start=1):
        console.print(f"[{i}] {src}", markup=False, soft_wrap=False)


def render_offers(console: Console, data: dict[str, Any]) -> None:
    """The offers listing: a table where it fits the terminal, else two lines per offer (the
    id whole, so that it can be copied into --offer, then its figures)."""
    rows: list[dict[str, Any]] = data["offers"]
    hidden = int(data["hidden_count"])
    what = f"{len(rows)}" if data["all"] else f"{len(rows)} current"
    title = f"GPU offers ({what}), cheapest GPU-hour first"
    sources: list[str] = []
    for r in rows:
        if r["source"] not in sources:
            sources.append(str(r["source"]))
    table = Table(title=title)
    columns = ("id", "gpu", "kind", "GPUs", "$/inst-h", "$/GPU-h", "as of", "src")
    for col in columns:
        table.add_column(
            col, justify="left" if col in ("id", "gpu", "kind", "as of") else "right", no_wrap=True
        )
    lines: list[str] = []
    for r in rows:
        stale = " STALE" if r["stale"] else ""
        old = "" if r.get("current", True) else " superseded"
        src = f"[{sources.index(str(r['source'])) + 1}]"
        figures = (
            str(r["gpu"]),
            str(r["pricing_kind"]),
            str(r["gpus_per_instance"]),
            f"{r['usd_per_hour']:.2f}",
            f"{r['usd_per_gpu_hour']:.3f}",
        )
        table.add_row(
            escape(str(r["id"])),
            *figures,
            f"{r['as_of']}[yellow]{stale}{old}[/yellow]",
            escape(src),
        )
        gpus = int(r["gpus_per_instance"])
        lines.append(str(r["id"]))
        lines.append(
            f"  {r['gpu']} {r['pricing_kind']} ${r['usd_per_gpu_hour']:.3f}/GPU-h"
            + (f" ({gpus} GPUs ${r['usd_per_hour']:.2f}/h)" if gpus > 1 else "")
            + f" {r['as_of']}{stale}{old} {src}"
        )
    _print_table_or_lines(console, table, title, lines, sources, "" if rows else "none match")
    if data["stale_count"]:
        console.print(
            _stale_note(
                data["stale_count"],
                len(rows),
                data["stale_after_days"],
                ", or run `infercost offers refresh`",
            ),
            soft_wrap=False,
        )
    if hidden:
        console.print(
            f"{hidden} superseded offer(s) hidden (dated more than {data['current_window_days']} "
            "days before the newest offer for the same GPU and kind): --all lists them.",
            markup=False,
            highlight=False,
            soft_wrap=False,
        )


@offers_app.command("refresh")
def offers_refresh_command(
    out_dir: Path | None = typer.Option(
        None,
        help=f"User catalog directory to write offers/gpuhunt_<date>.csv into "
        f"(default: the first ${CATALOG_DIR_ENV} entry, else ~/.infercost/catalog).",
    ),
) -> None:
    """Fetch current offers through gpuhunt (network) and write a new dated snapshot file."""
    if out_dir is None:
        env = [p for p in os.environ.get(CATALOG_DIR_ENV, "").split(os.pathsep) if p]
        out_dir = Path(env[0]) if env else Path.home() / ".infercost" / "catalog"
    path, count, quarantined = refresh_offers(out_dir)
    _out.print(f"wrote {count} offers to {path}")
    if quarantined:
        _out.print(f"[yellow]{len(quarantined)} items not imported[/yellow] (first 10):")
        for q in quarantined[:10]:
            _out.print(f"  {q.item}: {q.reason}")
    if str(out_dir) not in os.environ.get(CATALOG_DIR_ENV, "").split(os.pathsep):
        _out.print(f"set {CATALOG_DIR_ENV}={out_dir} so that infercost reads the new file.")


def api_price_command(
    model: str = typer.Argument(..., help="API model name (gpt-4o, claude-sonnet-4, ...)."),
    provider: str | None = typer.Option(None, help="Provider id (openai, anthropic, ...)."),
    max_age_days: int = typer.Option(STALE_AFTER_DAYS, help="Flag prices older than this."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """An API price sheet: $/M input, output, cached input, cache write, batch, tiers.

    Your price files win; otherwise the newest dated sheet among genai-prices and our history.
    """
    check_max_age(max_age_days)
    choice = choose_api_price(model, provider)
    sheet = choice.price
    today = date.today()
    data = sheet_dict(sheet, today, max_age_days)
    if as_json:
        data["chosen_because"] = choice.reason
        data["considered"] = [
            {"source": p.source, "as_of": p.as_of.isoformat(), "model": p.model}
            for p in choice.considered
        ]
        _print_json(data)
        return
    table = Table(title=f"{sheet.provider} {sheet.model} (US$ per million tokens)")
    table.add_column("token kind")
    table.add_column("$/M", justify="right")
    for key in (
        "usd_per_m_input",
        "usd_per_m_output",
        "usd_per_m_cached_input",
        "usd_per_m_cache_write",
    ):
        value = data[key]
        table.add_row(
            key.removeprefix("usd_per_m_"),
            missing_price_text(sheet) if value is None else str(value),
        )
    _out.print(table)
    batch = sheet.batch_text()
    if batch is not None:
        _out.print(f"batch API: {batch}", markup=False, highlight=False)
    for t in sheet.context_tiers:
        extra = "".join(
            f", {label} ${value}/M"
            for label, value in (
                ("cached input", t.usd_per_m_cached_input),
                ("cache write", t.usd_per_m_cache_write),
            )
            if value is not None
        )
        _out.print(
            f"prompts above {t.above_input_tokens:,} tokens: input ${t.usd_per_m_input}/M, "
            f"output ${t.usd_per_m_output}/M{extra}"
        )
    if sheet.notes:
        _out.print(f"notes: {sheet.notes}", markup=False)
    stale = " [yellow]STALE[/yellow]" if data["stale"] else ""
    checked = f" (data as of {data['data_as_of']})" if data["data_as_of"] else ""
    since = "in force since" if data["data_as_of"] else "as of"
    _out.print(f"source: {escape(sheet.source)}; {since} {sheet.as_of}{checked}{stale}")
    _out.print(f"chosen: {choice.reason}", markup=False)


def api_prices_command(
    provider: str | None = typer.Option(
        None, help="Only this provider; also lists every model genai-prices prices there."
    ),
    max_age_days: int = typer.Option(STALE_AFTER_DAYS, help="Flag prices older than this."),
    history: bool = typer.Option(
        False,
        "--history",
        help="Our dated rows as recorded (from articles), without replacing them by newer "
        "genai-prices sheets.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """List API price sheets: genai-prices' current sheet where it has the model, else our
    dated history (STALE past --max-age-days); your price files first.

    Examples: infercost api-prices; infercost api-prices --provider openai;
    infercost api-prices --history
    """
    data = api_prices_data(provider, max_age_days, history=history)
    if as_json:
        _print_json(data)
        return
    render_api_prices(_out, data, provider)


def render_api_prices(console: Console, data: dict[str, Any], provider: str | None) -> None:
    """The API price listing: a table where it fits the terminal, else two lines per sheet."""
    sheets: list[dict[str, Any]] = data["api_prices"]
    genai = data["genai_prices"]
    title = "API prices, US$ per million tokens" + (
        " (our dated history, as recorded)" if data["history"] else ""
    )
    sources: list[str] = []
    for r in sheets:
        if r["source"] not in sources:
            sources.append(str(r["source"]))
    table = Table(title=title)
    for col in ("provider", "model", "input", "output", "cached in", "as of", "src"):
        table.add_column(col, no_wrap=True, justify="left" if col in _LEFT else "right")
    lines: list[str] = []
    for r in sheets:
        prices = ["-" if r[k] is None else plain(r[k]) for k in _API_KEYS]
        dollars = ["-" if r[k] is None else f"${plain(r[k])}/M" for k in _API_KEYS]
        stale = " STALE" if r["stale"] else ""
        src = f"[{sources.index(str(r['source'])) + 1}]"
        table.add_row(
            escape(str(r["provider"])),
            escape(str(r["model"])),
            *prices,
            f"{r['as_of']}[yellow]{stale}[/yellow]",
            escape(src),
        )
        lines.append(f"{r['provider']} {r['model']}")
        lines.append(
            f"  input {dollars[0]}, output {dollars[1]}, cached input {dollars[2]}; "
            f"{r['as_of']}{stale} {src}"
        )
    _print_table_or_lines(console, table, title, lines, sources, "" if sheets else "none")
    console.print(
        f"genai-prices {genai['version']} (installed with infercost, read offline): price "
        f"data as of {genai['data_as_of']}, its newest recorded price change; a genai-prices "
        "row is dated when its price took effect where genai-prices records that, else with "
        "the data's date.",
        markup=False,
        highlight=False,
        soft_wrap=False,
    )
    if data["replaced_count"]:
        replaced = ", ".join(
            f"{r['replaces']['model']} ({r['replaces']['as_of']})"
            for r in sheets
            if r.get("replaces")
        )
        console.print(
            f"{data['replaced_count']} of our dated rows replaced by newer genai-prices sheets: "
            f"{replaced}; --history lists them as recorded.",
            markup=False,
            highlight=False,
            soft_wrap=False,
        )
    if data["stale_count"]:
        console.print(
            _stale_note(
                data["stale_count"],
                len(sheets),
                data["stale_after_days"],
                " against the provider's price page",
            ),
            soft_wrap=False,
        )
    if provider is None:
        console.print(
            "genai-prices prices many more models: pass --provider openai (or another).",
            markup=False,
            highlight=False,
            soft_wrap=False,
        )


_LEFT = ("provider", "model", "as of")
_API_KEYS = ("usd_per_m_input", "usd_per_m_output", "usd_per_m_cached_input")


def cost_command(
    model: str | None = typer.Option(None, help="HF id, catalog id or common spelling."),
    gpu: str = typer.Option(..., help="Accelerator (H100, h100-sxm, MI300X, ...)."),
    isl: int = typer.Option(..., help="Input tokens per request."),
    osl: int = typer.Option(..., help="Output tokens per request."),
    model_config: str | None = typer.Option(None, help="A config.json on disk instead."),
    num_gpus: int | None = typer.Option(None, help="GPUs per replica (= tp x pp)."),
    tp: int | None = typer.Option(None, help="Tensor parallelism."),
    pp: int = typer.Option(1, help="Pipeline parallelism."),
    ep: int = typer.Option(1, help="Expert parallelism (MoE)."),
    weight_dtype: str | None = typer.Option(None, help="bf16, fp8, int4, fp4, ..."),
    kv_dtype: str = typer.Option("auto", help="auto, bf16, fp16, fp8, int8."),
    concurrency: int | None = typer.Option(None, help="Requests in flight."),
    max_throughput: bool = typer.Option(
        False, "--max-throughput", help="Largest batch the KV cache holds."
    ),
    fixed_lengths: bool = typer.Option(
        False,
        "--fixed-lengths",
        help="Every request exactly --isl/--osl (a fixed-length benchmark's lockstep "
        "waves; as predict --fixed-lengths). Default: lengths vary.",
    ),
    engine: str = typer.Option("vllm", help="vllm, sglang, trtllm, llamacpp."),
    gpu_hour_usd: float | None = typer.Option(None, help="Price of one GPU-hour, US$."),
    offer: str | None = typer.Option(None, help="Catalog offer id (infercost offers)."),
    allow_spot: bool = typer.Option(False, help="Accept a spot offer's interruption risk."),
    gpu_price_usd: float | None = typer.Option(
        None, help="Owned hardware: GPU purchase price, US$ (prices by TCO)."
    ),
    usd_per_kwh: float | None = typer.Option(None, help="Owned: electricity, US$/kWh."),
    years: float = typer.Option(3.0, help="Owned: depreciation life, years."),
    hosting_usd: float = typer.Option(0.0, help="Owned: hosting over the life, US$/GPU."),
    power_w: float | None = typer.Option(None, help="Owned: draw per GPU, W (default TDP)."),
    pue: float = typer.Option(1.0, help="Owned: facility PUE."),
    utilization: float = typer.Option(1.0, help="Share of paid capacity serving, 0-1."),
    replicas: int = typer.Option(1, help="Replicas the traffic needs."),
    spare_replicas: int = typer.Option(0, help="Spare replicas (N+1 = 1)."),
    zones: int = typer.Option(1, help="Zones; >1 sizes the fleet to survive a zone loss."),
    ops_usd_per_month: float = typer.Option(0.0, help="People/operations, US$/month."),
    retry_share: float = typer.Option(0.0, help="Share of output tokens lost to retries."),
    reasoning_share: float = typer.Option(
        0.0, help="Share of output tokens that are hidden reasoning (not useful)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """All-in $/M input, output, blended, per request and per useful token of a deployment."""
    acc = get_accelerator(gpu)
    owned = None
    if gpu_price_usd is not None:
        if usd_per_kwh is None:
            raise InputError("Owned hardware needs --usd-per-kwh (electricity price).")
        draw = power_w if power_w is not None else acc.tdp_w
        if draw is None:
            raise InputError(f"{acc.id} has no catalogued TDP; give --power-w.")
        owned = tco(
            owned_hardware(
                gpu_price_usd=gpu_price_usd, power_w=draw, usd_per_kwh=usd_per_kwh,
                years=years, hosting_usd=hosting_usd, pue=pue,
            )
        )  # fmt: skip
    replica_gpus = num_gpus or (tp or 1) * pp
    price = resolve_price(
        acc.id, replica_gpus, gpu_hour_usd=gpu_hour_usd,
        offer=get_offer(offer) if offer else None, owned=owned, allow_spot=allow_spot,
    )  # fmt: skip
    result = deployment_cost(
        price,
        overheads(
            utilization=utilization, replicas_needed=replicas, spare_replicas=spare_replicas,
            zones=zones, ops_usd_per_month=ops_usd_per_month,
        ),
        useful_fraction=useful_fraction(retry_share=retry_share, reasoning_share=reasoning_share),
        model=model, gpu=acc.id, isl=isl, osl=osl, model_config=model_config,
        num_gpus=num_gpus, tp=tp, pp=pp, ep=ep, weight_dtype=weight_dtype, kv_dtype=kv_dtype,
        concurrency=concurrency, max_throughput=max_throughput, engine=engine,
        fixed_lengths=fixed_lengths,
    )  # fmt: skip
    data = checked(result.to_dict())
    if as_json:
        _print_json(data)
        return
    pred = result.prediction
    if not result.fits:
        Console(stderr=True).print(
            f"{pred.model} on {pred.num_gpus}x {pred.gpu}: {pred.reason}", markup=False
        )
        raise typer.Exit(code=EXIT_NO_ANSWER)
    render_cost_table(_out, data)
    for note in pred.notes:  # as predict prints them (KV rules, queueing, assumptions)
        _out.print(f"note: {note}", markup=False)


def compare_gpus_command(
    model: str = typer.Option(..., help="HF id, catalog id or common spelling."),
    isl: int = typer.Option(..., help="Input tokens per request."),
    osl: int = typer.Option(..., help="Output tokens per request."),
    max_tpot_ms: float | None = typer.Option(None, help="Latency target: TPOT, ms."),
    max_ttft_s: float | None = typer.Option(None, help="Latency target: TTFT, s."),
    engine: str = typer.Option("vllm", help="vllm, sglang, trtllm, llamacpp."),
    allow_spot: bool = typer.Option(False, help="Include spot offers."),
    weight_dtype: list[str] | None = typer.Option(
        None, help="Weight dtypes to try (default: checkpoint dtype + native fp8/fp4)."
    ),
    top: int | None = typer.Option(None, help="Show only the first N rows."),
    html: Path | None = typer.Option(
        None, help="Also write a plotly chart to this HTML file.", callback=checked_html_path
    ),
    png: Path | None = typer.Option(
        None,
        help="Also write the chart as a PNG (needs Chrome/Chromium).",
        callback=checked_png_path,
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Rank every GPU offer by $/M output at its best configuration, and say why each lost."""
    if top is not None and top < 1:
        raise InputError(f"--top must be at least 1 (rows to show), got {top}.")
    result = compare_gpus(
        model, isl, osl, engine=engine, allow_spot=allow_spot,
        weight_dtypes=weight_dtype if weight_dtype else None,
        max_tpot_s=max_tpot_ms / 1000 if max_tpot_ms is not None else None,
        max_ttft_s=max_ttft_s,
    )  # fmt: skip
    data = checked(result.to_dict())
    write_charts(lambda: compare_figure(result), html, png)
    if as_json:
        _print_json(data)
        return
    render_compare_table(_out, data, top)
    for path in (html, png):
        if path is not None:
            _out.print(f"chart written to {path}")
    if not any(r["fits"] for r in data["results"]):
        exit_no_answer(as_json)


def register(app: typer.Typer) -> None:
    """Add this group's commands to ``app``."""
    app.command("tco")(tco_command)
    app.add_typer(offers_app, name="offers")
    app.command("api-price")(api_price_command)
    app.command("api-prices")(api_prices_command)
    app.command("cost")(cost_command)
    app.command("compare-gpus")(compare_gpus_command)
