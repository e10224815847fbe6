"""Terminal tables for ``infercost tco``, ``infercost cost`` and ``infercost compare-gpus``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

from infercost.cost.money import round_usd
from infercost.cost.tco import TcoBreakdown
from infercost.report.text import usd, usd_sig

#: Column label of ``compare-gpus``' ranking: decode time charged to output, prefill to input
#: (``plan search`` charges all GPU time to output: "all GPU time").
USD_PER_M_OUTPUT_SPLIT = "$/M output (prefill charged to input)"


def _money(x: Any) -> str:
    return usd_sig(x)


def _n(value: Decimal | float | int) -> str:
    """A number as people write it: thousands separated, no trailing ``.0``."""
    return f"{Decimal(str(value)).normalize():,f}"


def tco_formulas(result: TcoBreakdown) -> dict[str, str]:
    """How each TCO line is computed, with names, units and parentheses so that the text reads
    one way only ("GPU price $30,000 + (server price $0 ÷ 1 GPUs per server)")."""
    hw = result.inputs
    energy_kwh = result.energy_kwh.quantize(Decimal("0.1"))
    return {
        "purchase": f"GPU price ${_n(hw.gpu_price_usd)} + (server price "
        f"${_n(hw.server_price_usd)} ÷ {hw.gpus_per_server} GPUs per server)",
        "residual value": f"purchase x residual fraction {_n(hw.residual_value_fraction)}",
        "depreciation": f"purchase ${_n(round_usd(result.purchase_usd))} x (1 - residual "
        f"fraction {_n(hw.residual_value_fraction)})",
        "electricity": f"energy {_n(energy_kwh)} kWh x PUE {_n(hw.pue)} x "
        f"${_n(hw.usd_per_kwh)}/kWh",
        "hosting": "given (--hosting-usd)",
        "networking": "given (--networking-usd)",
        "maintenance": f"${_n(hw.maintenance_usd_per_year)}/year x {_n(hw.years)} years",
        "people": f"${_n(hw.people_usd_per_month)}/month x 12 x {_n(hw.years)} years",
        "total": "depreciation + electricity + hosting + networking + maintenance + people",
    }


def render_tco_table(console: Console, result: TcoBreakdown) -> None:
    """The owned-hardware TCO table with each line's formula, and the $/GPU-hour it implies."""
    how = tco_formulas(result)
    table = Table(title="Owned GPU: total cost of ownership (per GPU, whole life)")
    table.add_column("component")
    table.add_column("US$", justify="right")
    table.add_column("how")
    for name, value in (
        ("purchase", result.purchase_usd),
        ("residual value", -result.residual_value_usd),
        ("depreciation", result.depreciation_usd),
        ("electricity", result.electricity_usd),
        ("hosting", result.hosting_usd),
        ("networking", result.networking_usd),
        ("maintenance", result.maintenance_usd),
        ("people", result.people_usd),
        ("total", result.total_usd),
    ):
        table.add_row(name, f"{round_usd(value):,}", how[name])
    console.print(table, markup=False)
    console.print(
        f"energy {result.energy_kwh:,.1f} kWh ({result.inputs.power_billing}); "
        f"{result.hours_utilized:,.0f} of {result.hours_total:,.0f} h utilised"
    )
    console.print(
        f"[bold]{usd_sig(result.usd_per_gpu_hour)}/GPU-hour[/bold] at utilisation "
        f"{result.inputs.utilization} ({usd_sig(result.usd_per_gpu_hour_full_use)} at 100 %)"
    )


def render_cost_table(console: Console, data: dict[str, Any]) -> None:
    """The all-in cost table of one deployment (``DeploymentCost.to_dict()``)."""
    p = data["prediction"]
    console.print(
        f"{p['model']} on {p['num_gpus']}x {p['gpu']} ({p['weight_dtype']}, {p['engine']}), "
        f"isl {p['isl']} / osl {p['osl']}, batch {p['concurrency']}: "
        f"{p['output_tok_s']:,.0f} output tok/s, TTFT {p['ttft_s']:.3f} s, "
        f"TPOT {p['tpot_s'] * 1000:.1f} ms",
        markup=False,
    )
    table = Table(title="Cost per token, all in (US$)")
    table.add_column("metric")
    table.add_column("all in", justify="right")
    table.add_column("full load, list price", justify="right")
    rows = (
        ("$/M input tokens", "usd_per_m_input", "usd_per_m_input_full_load"),
        ("$/M output tokens", "usd_per_m_output", "usd_per_m_output_full_load"),
        ("$/M blended (this isl:osl mix)", "usd_per_m_blended", None),
        ("$/M useful output tokens", "usd_per_m_useful_output", None),
        ("$ per request", "usd_per_request", None),
        ("$ per 1k requests", "usd_per_1k_requests", None),
        ("$/GPU-hour", "usd_per_gpu_hour_effective", "usd_per_gpu_hour_list"),
    )
    for label, key, full in rows:
        table.add_row(label, _money(data[key]), _money(data[full]) if full else "")
    console.print(table)
    console.print(f"price: {data['price_source']}", markup=False)
    console.print(
        f"utilisation {data['utilization']:.0%}, replicas {data['replicas_needed']} needed / "
        f"{data['replicas_paid']} paid ({data['gpus_paid']} GPUs), ops "
        f"${data['ops_usd_per_month']:,.0f}/month; fleet ${data['fleet_usd_per_month']:,.0f}"
        f"/month; useful share of output {data['useful_fraction']:.0%}",
        markup=False,
    )


def render_compare_table(console: Console, data: dict[str, Any], top: int | None) -> None:
    """Ranked offers with configuration, $/M and why each lost (``Comparison.to_dict()``)."""
    target = []
    if data["max_tpot_s"] is not None:
        target.append(f"TPOT <= {data['max_tpot_s'] * 1000:g} ms")
    if data["max_ttft_s"] is not None:
        target.append(f"TTFT <= {data['max_ttft_s']:g} s")
    rows = data["results"][:top] if top else data["results"]
    table = Table(
        title=f"{data['model']}, isl {data['isl']} / osl {data['osl']}, "
        f"{', '.join(target) or 'max throughput'}: offers by $/M output"
    )
    for col in (
        "#",
        "offer",
        "config",
        "$/GPU-h",
        "$/M in",
        USD_PER_M_OUTPUT_SPLIT,
        "why",
        "as of",
    ):
        table.add_column(col, overflow="fold")
    for r in rows:
        lower = data["weight_dtype_choice"] == "auto" and (
            r["weight_dtype"] != data["checkpoint_weight_dtype"]
        )
        config = (
            f"{r['num_gpus']}x {r['gpu']} {r['weight_dtype']}{'*' if lower else ''} "
            f"b{r['concurrency']}"
            if r["fits"]
            else f"{r['gpu']}: none"
        )
        table.add_row(
            str(r["rank"]),
            r["offer"],
            config,
            usd(r["usd_per_gpu_hour"], 2),
            _money(r["usd_per_m_input"]),
            _money(r["usd_per_m_output"]),
            r["why"],
            r["as_of"] + (" [yellow]STALE[/yellow]" if r["stale"] else ""),
        )
    console.print(table)
    if data["precision_note"]:
        console.print(f"* {data['precision_note']}", markup=False, highlight=False)
    if data.get("engine_note"):
        console.print(f"* {data['engine_note']}", markup=False, highlight=False)
    stale = sum(1 for r in data["results"] if r["stale"])
    if stale:
        console.print(
            f"[yellow]{stale} of {len(data['results'])} offer prices are older than 180 days "
            "(STALE); sources: infercost offers.[/yellow]"
        )
