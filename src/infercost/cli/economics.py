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
from infercost.cost.api import choose_api_price, list_api_prices, missing_price_text
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
from infercost.report.listings import check_max_age, offers_data
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
    help="Cloud GPU offers (dated snapshot), sorted by $/GPU-hour.", no_args_is_help=False
)


@offers_app.callback(invoke_without_command=True)
def offers_command(
    ctx: typer.Context,
    gpu: str | None = typer.Option(None, help="Accelerator (id or spelling: H100, a100-80gb)."),
    provider: str | None = typer.Option(None, help="Provider name (AWS, GCP, Lambda, ...)."),
    kind: str | None = typer.Option(None, help="Pricing kind: " + ", ".join(PRICING_KINDS)),
    max_age_days: int = typer.Option(STALE_AFTER_DAYS, help="Flag prices older than this."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """List offers: $/instance-hour, $/GPU-hour, source and date; stale prices flagged."""
    if ctx.invoked_subcommand is not None:
        return
    data = offers_data(gpu, provider, kind, max_age_days)
    rows = data["offers"]
    stale = data["stale_count"]
    if as_json:
        _print_json(data)
        return
    table = Table(title=f"GPU offers ({len(rows)}), cheapest GPU-hour first")
    for col, justify in (
        ("id", "left"),
        ("gpu", "left"),
        ("kind", "left"),
        ("GPUs", "right"),
        ("$/inst-h", "right"),
        ("$/GPU-h", "right"),
        ("as of", "left"),
        ("src", "right"),
    ):
        table.add_column(col, justify=justify, overflow="fold")  # type: ignore[arg-type]
    sources: list[str] = []
    for r in rows:
        if r["source"] not in sources:
            sources.append(str(r["source"]))
        as_of = str(r["as_of"]) + (" [yellow]STALE[/yellow]" if r["stale"] else "")
        table.add_row(
            str(r["id"]),
            str(r["gpu"]),
            str(r["pricing_kind"]),
            str(r["gpus_per_instance"]),
            f"{r['usd_per_hour']:.2f}",
            f"{r['usd_per_gpu_hour']:.3f}",
            as_of,
            f"[{sources.index(str(r['source'])) + 1}]",
        )
    _out.print(table)
    for i, src in enumerate(sources, start=1):
        _out.print(f"[{i}] {src}", markup=False)
    if stale:
        _out.print(
            _stale_note(stale, len(rows), max_age_days, ", or run `infercost offers refresh`")
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
    data = sheet.to_dict(today, max_age_days)
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
    _out.print(f"source: {escape(sheet.source)}; as of {sheet.as_of}{stale}")
    _out.print(f"chosen: {choice.reason}", markup=False)


def api_prices_command(
    provider: str | None = typer.Option(
        None, help="Only this provider; also lists every model genai-prices prices there."
    ),
    max_age_days: int = typer.Option(STALE_AFTER_DAYS, help="Flag prices older than this."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """List API price sheets (our dated history, your files, genai-prices per provider)."""
    check_max_age(max_age_days)
    today = date.today()
    sheets = [p.to_dict(today, max_age_days) for p in list_api_prices(provider)]
    stale = sum(1 for s in sheets if s["stale"])
    if as_json:
        _print_json({"api_prices": sheets, "stale_after_days": max_age_days})
        return
    table = Table(title="API prices, US$ per million tokens")
    for col in ("provider", "model", "input", "output", "cached in", "as of", "src"):
        table.add_column(col, overflow="fold")
    sources: list[str] = []
    for r in sheets:
        if r["source"] not in sources:
            sources.append(str(r["source"]))
        table.add_row(
            str(r["provider"]),
            str(r["model"]),
            *("-" if r[k] is None else str(r[k]) for k in _API_KEYS),
            str(r["as_of"]) + (" [yellow]STALE[/yellow]" if r["stale"] else ""),
            f"[{sources.index(str(r['source'])) + 1}]",
        )
    _out.print(table)
    for i, src in enumerate(sources, start=1):
        _out.print(f"[{i}] {src}", markup=False)
    if stale:
        _out.print(
            _stale_note(stale, len(sheets), max_age_days, " against the provider's price page")
        )
    if provider is None:
        _out.print("genai-prices prices many more models: pass --provider openai (or another).")


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
