"""``infercost plan ...``: decisions (search, pareto, fleet, breakeven, hybrid, cascade,
payback, scenarios).

Thin: each command parses its options, calls the library in ``infercost.plan`` and renders
the result as a rich table (``infercost.report.plan_tables``), one JSON object (``--json``)
and, with ``--html FILE``, a plotly chart (``infercost.report.plan_charts``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
import typer
from rich.console import Console

from infercost.catalog.pricing import PRICE_RULE, get_offer
from infercost.cli.bounds import checked, print_json
from infercost.cli.exits import exit_no_answer
from infercost.cli.numbers import plain
from infercost.cost.trend import price_elasticity
from infercost.errors import InputError
from infercost.plan.breakeven import BreakevenInputs, breakeven, inputs_from_names
from infercost.plan.candidate import Candidate
from infercost.plan.disagg_search import MAX_CONCURRENCY as MAX_DISAGG_CONCURRENCY
from infercost.plan.disagg_search import search_disagg
from infercost.plan.fleet import Replica, replica_from_search, size_fleet
from infercost.plan.hybrid import hybrid
from infercost.plan.pareto import pareto
from infercost.plan.payback import (
    DistillationPayback,
    FeatureRoi,
    distillation_payback,
    prefix_cache_roi,
    speculative_roi,
)
from infercost.plan.routing import cascade, parse_tier, tier_cost_usd_per_m
from infercost.plan.scenarios import (
    Generations,
    GrowthScenarios,
    growth_scenarios,
    hardware_generations,
    project,
)
from infercost.plan.search import search
from infercost.plan.tail import TailResult, search_p99
from infercost.plan.traffic import DAYS_PER_BILLING_MONTH, diurnal_profile, traffic
from infercost.report import plan_charts, plan_tables
from infercost.report.files import checked_html_path, checked_png_path
from infercost.units import HOURS_PER_MONTH

plan_app = typer.Typer(
    help="Decisions: cheapest configuration, frontier, fleet, self-host vs API, routing, "
    "payback, scenarios.",
    no_args_is_help=True,
)
_out = Console(highlight=False, soft_wrap=True)

JSON_OPT = typer.Option(False, "--json", help="Print one JSON object.")
HTML_OPT = typer.Option(
    None,
    "--html",
    help="Also write a plotly chart to this HTML file.",
    callback=checked_html_path,
)
PNG_OPT = typer.Option(
    None,
    "--png",
    help="Also write the chart as a PNG image (needs Chrome/Chromium).",
    callback=checked_png_path,
)


def register(app: typer.Typer) -> None:
    """Add the ``plan`` group to ``app``."""
    app.add_typer(plan_app, name="plan")


def _emit(
    data: dict[str, Any], as_json: bool, html: Path | None, png: Path | None,
    make: Callable[[], go.Figure] | None,
) -> bool:  # fmt: skip
    """Check the result (no inf/nan/overflowed integer), write the chart if asked (HTML,
    PNG; built by ``make`` only then), print JSON if asked. True when the caller should
    stop."""
    checked(data)
    if make is not None:
        plan_charts.write_charts(make, html, png)
    if as_json:
        print_json(data)
        return True
    return False


def _chart_note(html: Path | None, png: Path | None = None) -> None:
    for path in (html, png):
        if path is not None:
            _out.print(f"chart written to {path}", markup=False)


def _csv(text: str | None, name: str) -> list[str] | None:
    """Comma-separated names; None when the option is absent.

    Raises:
        InputError: the option is given but names nothing (``--weight-dtypes ""``).
    """
    if text is None:
        return None
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise InputError(f"{name} is empty; give comma-separated names, or drop the option.")
    return items


def _floats(text: str | None, name: str) -> list[float] | None:
    """Comma-separated numbers; None when the option is absent.

    Raises:
        InputError: a word that is not a number, or no number at all.
    """
    if text is None:
        return None
    try:
        values = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise InputError(f"{name} must be comma-separated numbers, got {text!r}.") from None
    if not values:
        raise InputError(f"{name} is empty; give comma-separated numbers, or drop the option.")
    return values


def _only_with(needs: str, *flags: tuple[str, object]) -> None:
    """Refuse flags that only take effect with ``needs`` (usually --model) when it is absent.

    Raises:
        InputError: the first such flag given.
    """
    for name, value in flags:
        if value is not None:
            raise InputError(f"{name} only applies with {needs}; give {needs} or drop {name}.")


def _from_catalog(cost: str) -> bool:
    """Whether a tier cost is read from the catalog (``api:MODEL``, ``MODEL@GPU``), not a
    $/M number."""
    try:
        float(cost)
    except ValueError:
        return True
    return False


def _model_needs(gpu: str | None, api_model: str | None) -> tuple[str, str]:
    """The full version of breakeven/hybrid needs both --gpu and --api-model with --model;
    returns them.

    Raises:
        InputError: naming exactly the flags that are missing.
    """
    if gpu is None or api_model is None:
        what = {"--gpu": "the accelerator to self-host on", "--api-model": "the API model to "
                "compare with"}  # fmt: skip
        missing = [n for n, v in (("--gpu", gpu), ("--api-model", api_model)) if v is None]
        raise InputError(
            f"--model needs {' and '.join(missing)} ({' and '.join(what[n] for n in missing)})."
        )
    return gpu, api_model


def _not_both(first: str, second: str, *flags: tuple[str, object]) -> None:
    """Refuse the flags of ``first`` when ``second`` is in use (they would be ignored).

    Raises:
        InputError: "give X or Y, not both", naming the flag given.
    """
    given = [name for name, value in flags if value is not None]
    if given:
        raise InputError(
            f"Give {first}, or {second}, not both ({', '.join(given)} would be ignored)."
        )


def _ms(value: float | None) -> float | None:
    return None if value is None else value / 1e3


def price_lines(rows: Sequence[Candidate | None]) -> list[str]:
    """One line per GPU behind ``rows``: the offer, its pricing kind and date (and STALE with
    its age), the $/GPU-hour, and the instance size where whole instances are billed; first
    the rule every GPU is priced by (docs/planning.md, Prices)."""
    shown = [c for c in rows if c is not None and c.offer]
    if not shown:
        return []
    if all(c.offer == "user" for c in shown):
        rate = shown[0].usd_per_gpu_hour or 0.0
        return [f"price: ${plain(rate)}/GPU-h for every GPU, given (--gpu-hour-usd)"]
    lines = [f"prices: {PRICE_RULE}"]
    seen: set[tuple[str, str]] = set()
    for c in shown:
        if (c.gpu, c.offer) in seen:
            continue
        seen.add((c.gpu, c.offer))
        offer = get_offer(c.offer)
        per_gpu = f"${float(offer.usd_per_gpu_hour):.2f}/GPU-h"
        bundle = (
            f" (${float(offer.usd_per_hour):.2f}/h per {offer.gpus_per_instance}-GPU instance, "
            "whole instances billed)"
            if offer.gpus_per_instance > 1
            else ""
        )
        stale = f", STALE: {offer.age_days()} days old" if offer.is_stale() else ""
        lines.append(
            f"  {c.gpu}: {per_gpu}{bundle} from {offer.id} ({offer.pricing_kind}, "
            f"as of {offer.as_of.isoformat()}{stale})"
        )
    return lines


def _print_prices(rows: Sequence[Candidate | None]) -> None:
    for line in price_lines(rows):
        _out.print(line, markup=False, highlight=False)


def _sweep_options(
    gpu: list[str] | None,
    weight_dtypes: str | None,
    kv_dtypes: str | None,
    max_gpus: int,
    concurrency_levels: int,
    max_concurrency: int | None,
    engine: str,
    gpu_hour_usd: float | None,
    allow_spot: bool,
    cached_share: float,
    max_work: float | None = None,
) -> dict[str, Any]:
    if max_concurrency is not None and max_concurrency < 1:
        raise InputError(f"--max-concurrency must be at least 1 sequence, got {max_concurrency}.")
    return {
        "gpus": gpu or None,
        "weight_dtypes": _csv(weight_dtypes, "--weight-dtypes"),
        "kv_dtypes": _csv(kv_dtypes, "--kv-dtypes"),
        "max_gpus": max_gpus,
        "concurrency_count": concurrency_levels,
        "max_concurrency": max_concurrency,
        "engine": engine,
        "gpu_hour_usd": gpu_hour_usd,
        "allow_spot": allow_spot,
        "cached_prefix_share": cached_share,
        "max_work": max_work,
    }


MODEL_OPT = typer.Option(..., help="Model (HF id, catalog id or common spelling).")
ISL_OPT = typer.Option(..., help="Input (prompt) tokens per request.")
OSL_OPT = typer.Option(..., help="Output tokens per request.")
TTFT_OPT = typer.Option(None, help="Mean time-to-first-token target, seconds.")
TPOT_OPT = typer.Option(None, help="Mean time-per-output-token target, milliseconds.")
GPU_OPT = typer.Option(None, "--gpu", help="Accelerator to include (repeat; default: all).")
WDT_OPT = typer.Option(
    None, help="Weight dtypes, comma-separated (default: checkpoint + every catalog format)."
)
KVDT_OPT = typer.Option(None, help="KV-cache dtypes, comma-separated (default: auto,fp8).")
MAXG_OPT = typer.Option(8, help="Largest replica, GPUs (every TP x PP layout up to it).")
CONC_OPT = typer.Option(64, help="Concurrency levels tried (1 .. max, near-geometric).")
MAXC_OPT = typer.Option(None, help="Largest concurrency (default: engine max_num_seqs).")
ENGINE_OPT = typer.Option("vllm", help="Efficiency profile: vllm, sglang, trtllm, llamacpp.")
RATE_OPT = typer.Option(None, help="One $/GPU-hour for every GPU instead of catalog offers.")
SPOT_OPT = typer.Option(
    False, "--allow-spot", help="Price every GPU at its spot offer (interruptible) instead."
)
CACHE_OPT = typer.Option(0.0, help="Share of each prompt served from the prefix cache.")
MAXW_OPT = typer.Option(
    None,
    "--max-work",
    help="Raise the work limit (grid configurations, simulated requests; docs/limits.md).",
)


def _disagg_dtypes(
    weight_dtypes: str | None, kv_dtypes: str | None, winner: Candidate | None
) -> dict[str, str]:
    """The weight and KV dtypes ``--disagg`` prices: the one given, else the aggregated
    winner's (so both sides compare like with like), else the checkpoint's.

    Raises:
        InputError: more than one value given for ``--disagg``.
    """
    out: dict[str, str] = {}
    for key, text, flag, pick in (
        (
            "weight_dtype",
            weight_dtypes,
            "--weight-dtypes",
            winner.weight_dtype if winner else None,
        ),
        ("kv_dtype", kv_dtypes, "--kv-dtypes", winner.kv_dtype if winner else None),
    ):
        names = _csv(text, flag)
        if names and len(names) > 1:
            raise InputError(
                f"--disagg takes one {flag} value (or none: the aggregated winner's)."
            )
        value = names[0] if names else pick
        if value is not None:
            out[key] = value
    return out


@plan_app.command("search")
def search_command(
    model: str = MODEL_OPT,
    isl: int = ISL_OPT,
    osl: int = OSL_OPT,
    max_ttft_s: float | None = TTFT_OPT,
    max_tpot_ms: float | None = TPOT_OPT,
    gpu: list[str] | None = GPU_OPT,
    weight_dtypes: str | None = WDT_OPT,
    kv_dtypes: str | None = KVDT_OPT,
    max_gpus: int = MAXG_OPT,
    concurrency_levels: int = CONC_OPT,
    max_concurrency: int | None = MAXC_OPT,
    engine: str = ENGINE_OPT,
    gpu_hour_usd: float | None = RATE_OPT,
    allow_spot: bool = SPOT_OPT,
    cached_share: float = CACHE_OPT,
    top: int = typer.Option(5, help="Runners-up to list."),
    families: int | None = typer.Option(None, help="Show only this many GPU families."),
    ttft_p99_s: float | None = typer.Option(None, help="p99 TTFT target, s (simulated)."),
    tpot_p99_ms: float | None = typer.Option(None, help="p99 TPOT target, ms (simulated)."),
    shortlist: int = typer.Option(6, help="Configurations simulated for p99 targets."),
    disagg: bool = typer.Option(
        False, "--disagg", help="Also search disaggregated prefill/decode (xPyD) on one --gpu."
    ),
    kv_link: str = typer.Option("ib", help="KV link for --disagg: ib, nvlink or ethernet."),
    load: float = typer.Option(0.8, help="Simulated arrival rate ÷ steady-state rate."),
    length_cv: float = typer.Option(0.0, help="Simulated length spread (std ÷ mean)."),
    num_requests: int = typer.Option(300, help="Requests per simulation."),
    max_work: float | None = MAXW_OPT,
    as_json: bool = JSON_OPT,
    html: Path | None = HTML_OPT,
    png: Path | None = PNG_OPT,
) -> None:
    """Cheapest configuration under TTFT/TPOT targets, runners-up, and why each GPU lost;
    with p99 targets, the cheapest short-listed configuration that meets them in simulation."""
    if families is not None and families < 1:
        raise InputError(f"--families must be at least 1 (GPU families to show), got {families}.")
    options = _sweep_options(
        gpu,
        weight_dtypes,
        kv_dtypes,
        max_gpus,
        concurrency_levels,
        max_concurrency,
        engine,
        gpu_hour_usd,
        allow_spot,
        cached_share,
        max_work,
    )
    result = search(
        model, isl, osl, max_ttft_s=max_ttft_s, max_tpot_s=_ms(max_tpot_ms), top=top, **options
    )
    tail: TailResult | None = None
    if ttft_p99_s is not None or tpot_p99_ms is not None:
        tail = search_p99(
            model,
            isl,
            osl,
            ttft_p99_s=ttft_p99_s,
            tpot_p99_s=_ms(tpot_p99_ms),
            shortlist=shortlist,
            load=load,
            num_requests=num_requests,
            length_cv=length_cv,
            max_ttft_s=max_ttft_s,
            max_tpot_s=_ms(max_tpot_ms),
            **options,
        )
    split = None
    if disagg:
        if not gpu or len(gpu) != 1:
            raise InputError("--disagg searches one GPU type: give exactly one --gpu.")
        # both sides priced from the same offer: the aggregated winner's (else the default)
        won = result.winner
        same_offer = won.offer if won and gpu_hour_usd is None and won.offer != "user" else None
        split = search_disagg(
            model, gpu[0], isl, osl, max_ttft_s=max_ttft_s, max_tpot_s=_ms(max_tpot_ms),
            max_gpus=max_gpus, max_concurrency=max_concurrency or MAX_DISAGG_CONCURRENCY,
            top=top, engine=engine, gpu_hour_usd=gpu_hour_usd, link=kv_link,
            offer=same_offer or None, allow_spot=allow_spot,
            **_disagg_dtypes(weight_dtypes, kv_dtypes, result.winner),
        )  # fmt: skip
    else:
        _only_with("--disagg", ("--kv-link", kv_link if kv_link != "ib" else None))
    data = result.to_dict()
    data["p99"] = tail.to_dict() if tail else None
    if split is not None:
        data["disaggregated"] = split.to_dict()
    if _emit(data, as_json, html, png, lambda: plan_charts.search_figure(result)):
        return
    plan_tables.render_search(_out, result, families, tail)
    shown = result.families[:families] if families else result.families
    _print_prices([result.winner, *result.runners_up, *(f.best for f in shown)])
    if split is not None:
        plan_tables.render_disagg_search(_out, split, result.winner)
    if tail is not None:
        plan_tables.render_tail(_out, tail)
    _chart_note(html, png)
    if result.winner is None:
        exit_no_answer(as_json)


@plan_app.command("pareto")
def pareto_command(
    model: str = MODEL_OPT,
    isl: int = ISL_OPT,
    osl: int = OSL_OPT,
    max_ttft_s: float | None = TTFT_OPT,
    max_tpot_ms: float | None = TPOT_OPT,
    gpu: list[str] | None = GPU_OPT,
    weight_dtypes: str | None = WDT_OPT,
    kv_dtypes: str | None = KVDT_OPT,
    max_gpus: int = MAXG_OPT,
    concurrency_levels: int = CONC_OPT,
    max_concurrency: int | None = MAXC_OPT,
    engine: str = ENGINE_OPT,
    gpu_hour_usd: float | None = RATE_OPT,
    allow_spot: bool = SPOT_OPT,
    cached_share: float = CACHE_OPT,
    rows: int = typer.Option(15, help="Frontier rows to print (thinned evenly)."),
    min_tok_s_per_user: float | None = typer.Option(
        None, help="Interactivity target: output tok/s each user sees (= 1000 ÷ TPOT ms)."
    ),
    max_work: float | None = MAXW_OPT,
    as_json: bool = JSON_OPT,
    html: Path | None = HTML_OPT,
    png: Path | None = PNG_OPT,
) -> None:
    """Frontier of $/M output vs TPOT and vs tokens/s per user; operating point for an SLO
    (a TPOT target, or an interactivity target in tok/s per user)."""
    if rows < 2:
        raise InputError(f"--rows must be at least 2, got {rows}.")
    max_tpot_s = _ms(max_tpot_ms)
    if min_tok_s_per_user is not None:
        if max_tpot_ms is not None:
            raise InputError(
                "Give --max-tpot-ms or --min-tok-s-per-user (the same target: tok/s per user "
                "= 1000 ÷ TPOT ms), not both."
            )
        if not (math.isfinite(min_tok_s_per_user) and min_tok_s_per_user > 0):
            raise InputError(
                f"--min-tok-s-per-user must be a positive number, got {min_tok_s_per_user!r}."
            )
        max_tpot_s = 1.0 / min_tok_s_per_user
    result = pareto(
        model,
        isl,
        osl,
        max_ttft_s=max_ttft_s,
        max_tpot_s=max_tpot_s,
        **_sweep_options(
            gpu,
            weight_dtypes,
            kv_dtypes,
            max_gpus,
            concurrency_levels,
            max_concurrency,
            engine,
            gpu_hour_usd,
            allow_spot,
            cached_share,
            max_work,
        ),
    )
    if _emit(result.to_dict(), as_json, html, png, lambda: plan_charts.pareto_figure(result)):
        return
    plan_tables.render_pareto(_out, result, rows)
    _print_prices([*result.tpot_frontier, result.operating_point])
    _chart_note(html, png)
    if result.operating_point is None:
        exit_no_answer(as_json)


@plan_app.command("fleet")
def fleet_command(
    isl: float = typer.Option(..., help="Input tokens per request (0 if unknown)."),
    osl: float = typer.Option(..., help="Output tokens per request."),
    output_tokens_per_day: float | None = typer.Option(None, help="Output tokens per day."),
    requests_per_day: float | None = typer.Option(None, help="Requests per day."),
    tokens_per_day: float | None = typer.Option(None, help="Input + output tokens per day."),
    profile: str | None = typer.Option(None, help="24 relative hourly loads, comma-separated."),
    peak_to_average: float | None = typer.Option(None, help="Busiest hour ÷ average."),
    peak_hour: int = typer.Option(14, help="Hour of the peak for --peak-to-average."),
    growth_per_month: float = typer.Option(0.0, help="Compound growth per month (0.1 = 10 %)."),
    months: float = typer.Option(0.0, help="Horizon to size for, months."),
    replica_output_tok_s: float | None = typer.Option(
        None, help="Output tok/s one replica sustains (instead of --model/--gpu)."
    ),
    gpus_per_replica: int | None = typer.Option(
        None, help="GPUs per replica (default 1; with --model, the replica size searched)."
    ),
    gpu_hour_usd: float | None = typer.Option(None, help="On-demand $/GPU-hour."),
    reserved_usd_per_gpu_hour: float | None = typer.Option(None, help="Reserved $/GPU-hour."),
    spot_usd_per_gpu_hour: float | None = typer.Option(None, help="Spot $/GPU-hour."),
    model: str | None = typer.Option(None, help="Model: size the replica by search."),
    gpu: str | None = typer.Option(None, help="Accelerator for --model."),
    weight_dtype: str | None = typer.Option(None, help="Weight dtype for --model."),
    kv_dtype: str | None = typer.Option(None, help="KV-cache dtype for --model."),
    num_gpus: int | None = typer.Option(None, help="Same as --gpus-per-replica."),
    max_ttft_s: float | None = TTFT_OPT,
    max_tpot_ms: float | None = TPOT_OPT,
    engine: str = ENGINE_OPT,
    headroom: float = typer.Option(0.3, help="Capacity above the peak (0.3 = 30 %)."),
    min_replicas: int = typer.Option(1, help="Replicas kept at all times."),
    autoscaling_lag_min: float = typer.Option(10.0, help="Minutes for a replica to start."),
    scale_down_delay_min: float = typer.Option(0.0, help="Minutes a replica is kept after."),
    days_per_month: float = typer.Option(
        DAYS_PER_BILLING_MONTH, help="Days in the billing month (730 h ÷ 24)."
    ),
    max_spot_share: float = typer.Option(0.5, help="Most of the burst on spot, 0-1."),
    as_json: bool = JSON_OPT,
    html: Path | None = HTML_OPT,
    png: Path | None = PNG_OPT,
) -> None:
    """Replicas at peak with headroom, autoscaled fleet, utilisation, $/month and the cheapest
    reserved / on-demand / spot mix."""
    t = traffic(
        isl=isl,
        osl=osl,
        output_tokens_per_day=output_tokens_per_day,
        requests_per_day=requests_per_day,
        tokens_per_day=tokens_per_day,
        profile=_floats(profile, "--profile"),
        peak_to_average=peak_to_average,
        peak_hour=peak_hour,
        growth_per_month=growth_per_month,
        months=months,
    )
    if gpus_per_replica is not None and num_gpus is not None and gpus_per_replica != num_gpus:
        raise InputError(
            f"--gpus-per-replica {gpus_per_replica} and --num-gpus {num_gpus} disagree; give one."
        )
    replica_gpus = gpus_per_replica if gpus_per_replica is not None else num_gpus
    if replica_gpus is not None and replica_gpus < 1:
        raise InputError(f"--gpus-per-replica must be >= 1, got {replica_gpus}.")
    if model is not None:
        if gpu is None:
            raise InputError("--model needs --gpu (the accelerator to size replicas on).")
        if replica_output_tok_s is not None:
            raise InputError(
                "Give --replica-output-tok-s or --model/--gpu (which size the replica by "
                "search), not both."
            )
        replica, _ = replica_from_search(
            model,
            gpu,
            round(isl) or 1,
            round(osl),
            max_ttft_s=max_ttft_s,
            max_tpot_s=_ms(max_tpot_ms),
            weight_dtype=weight_dtype,
            kv_dtype=kv_dtype,
            num_gpus=replica_gpus,
            engine=engine,
            gpu_hour_usd=gpu_hour_usd,
            reserved_usd_per_gpu_hour=reserved_usd_per_gpu_hour,
            spot_usd_per_gpu_hour=spot_usd_per_gpu_hour,
            traffic=t,
            headroom=headroom,
            min_replicas=min_replicas,
        )
    else:
        _only_with(
            "--model",
            ("--gpu", gpu),
            ("--weight-dtype", weight_dtype),
            ("--kv-dtype", kv_dtype),
            ("--max-ttft-s", max_ttft_s),
            ("--max-tpot-ms", max_tpot_ms),
        )
        if replica_output_tok_s is None or gpu_hour_usd is None:
            raise InputError(
                "Give --replica-output-tok-s and --gpu-hour-usd, or --model and --gpu to size "
                "the replica from the catalog."
            )
        n = 1 if replica_gpus is None else replica_gpus
        replica = Replica(
            replica_output_tok_s,
            n,
            gpu_hour_usd,
            reserved_usd_per_gpu_hour,
            spot_usd_per_gpu_hour,
            f"given: {n} GPU(s), {replica_output_tok_s:,.0f} output tok/s, "
            f"${plain(gpu_hour_usd)}/GPU-h",
        )
    plan = size_fleet(
        t,
        replica,
        headroom=headroom,
        min_replicas=min_replicas,
        autoscaling_lag_min=autoscaling_lag_min,
        scale_down_delay_min=scale_down_delay_min,
        days_per_month=days_per_month,
        max_spot_share=max_spot_share,
    )
    if _emit(plan.to_dict(), as_json, html, png, lambda: plan_charts.fleet_figure(plan)):
        return
    plan_tables.render_fleet(_out, plan)
    _chart_note(html, png)


@plan_app.command("breakeven")
def breakeven_command(
    api_input_usd_per_m: float | None = typer.Option(None, help="API $/M input tokens."),
    api_output_usd_per_m: float | None = typer.Option(None, help="API $/M output tokens."),
    input_share: float | None = typer.Option(None, help="Share of tokens that are input, 0-1."),
    gpu_hour_usd: float | None = typer.Option(None, help="$ per used GPU-hour."),
    tok_s: float | None = typer.Option(None, help="Tokens/s (input + output) per replica."),
    ops_usd_per_month: float = typer.Option(0.0, help="People/operations $/month."),
    gpus_per_replica: int | None = typer.Option(
        None, help="GPUs per replica (simple flags; default 1)."
    ),
    api_cached_input_usd_per_m: float | None = typer.Option(None, help="API $/M cached input."),
    cached_share: float = typer.Option(0.0, help="Share of input billed as cached, 0-1."),
    api_cache_write_usd_per_m: float | None = typer.Option(
        None, help="API $/M cache-write input (simple flags)."
    ),
    cache_write_share: float = typer.Option(
        0.0, help="Share of input written to the prompt cache, 0-1."
    ),
    max_utilization: float = typer.Option(1.0, help="Highest planned use of capacity, 0-1."),
    peak_to_average: float = typer.Option(1.0, help="Busiest hour ÷ average (sizing)."),
    spare_replicas: int = typer.Option(0, help="Spare replicas for failures (N + spare)."),
    min_replicas: int = typer.Option(1, help="Replicas kept at any volume."),
    hours_per_month: float = typer.Option(
        HOURS_PER_MONTH, help="GPU billing hours per month (8,760 ÷ 12)."
    ),
    days_per_month: float = typer.Option(
        DAYS_PER_BILLING_MONTH, help="Traffic days per month (730 h ÷ 24)."
    ),
    volumes: str | None = typer.Option(None, help="Tokens/day to tabulate, comma-separated."),
    model: str | None = typer.Option(None, help="Model to self-host (full version)."),
    gpu: str | None = typer.Option(None, help="Accelerator for --model."),
    offer: str | None = typer.Option(None, help="Offer id pricing the GPU (default: catalog)."),
    api_model: str | None = typer.Option(None, help="API model whose price sheet to use."),
    api_provider: str | None = typer.Option(None, help="API provider for --api-model."),
    isl: int | None = typer.Option(
        None, help="Input tokens per request (full version; default 1000)."
    ),
    osl: int | None = typer.Option(
        None, help="Output tokens per request (full version; default 300)."
    ),
    weight_dtype: str | None = typer.Option(None, help="Weight dtype for --model."),
    max_ttft_s: float | None = TTFT_OPT,
    max_tpot_ms: float | None = TPOT_OPT,
    engine: str | None = typer.Option(
        None, help="Efficiency profile for --model (default vllm): vllm, sglang, trtllm, ..."
    ),
    as_json: bool = JSON_OPT,
    html: Path | None = HTML_OPT,
    png: Path | None = PNG_OPT,
) -> None:
    """Self-host vs API: monthly cost curves and the break-even tokens per day."""
    common: dict[str, Any] = {
        "ops_usd_per_month": ops_usd_per_month,
        "max_utilization": max_utilization,
        "peak_to_average": peak_to_average,
        "spare_replicas": spare_replicas,
        "min_replicas": min_replicas,
        "hours_per_month": hours_per_month,
        "days_per_month": days_per_month,
    }
    if model is not None:
        gpu, api_model = _model_needs(gpu, api_model)
        _not_both(
            "the simple flags (--api-input-usd-per-m, --tok-s, ...)",
            "--model, --gpu and --api-model",
            ("--api-input-usd-per-m", api_input_usd_per_m),
            ("--api-output-usd-per-m", api_output_usd_per_m),
            ("--api-cached-input-usd-per-m", api_cached_input_usd_per_m),
            ("--api-cache-write-usd-per-m", api_cache_write_usd_per_m),
            ("--input-share", input_share),
            ("--tok-s", tok_s),
            ("--gpus-per-replica", gpus_per_replica),
        )
        inp = inputs_from_names(
            model,
            gpu,
            1000 if isl is None else isl,
            300 if osl is None else osl,
            api_model,
            api_provider=api_provider,
            offer=offer,
            gpu_hour_usd=gpu_hour_usd,
            max_ttft_s=max_ttft_s,
            max_tpot_s=_ms(max_tpot_ms),
            weight_dtype=weight_dtype,
            engine=engine or "vllm",
            cached_share=cached_share,
            cache_write_share=cache_write_share,
            **common,
        )
    else:
        _only_with(
            "--model",
            ("--gpu", gpu),
            ("--api-model", api_model),
            ("--api-provider", api_provider),
            ("--offer", offer),
            ("--weight-dtype", weight_dtype),
            ("--max-ttft-s", max_ttft_s),
            ("--max-tpot-ms", max_tpot_ms),
            ("--isl", isl),
            ("--osl", osl),
            ("--engine", engine),
        )
        missing = [
            name
            for name, v in (
                ("--api-input-usd-per-m", api_input_usd_per_m),
                ("--api-output-usd-per-m", api_output_usd_per_m),
                ("--input-share", input_share),
                ("--gpu-hour-usd", gpu_hour_usd),
                ("--tok-s", tok_s),
            )
            if v is None
        ]
        if missing:
            raise InputError(
                f"Missing {', '.join(missing)}; or give --model, --gpu and --api-model."
            )
        assert api_input_usd_per_m is not None and api_output_usd_per_m is not None
        assert input_share is not None and gpu_hour_usd is not None and tok_s is not None
        gpus_per_replica = 1 if gpus_per_replica is None else gpus_per_replica
        inp = BreakevenInputs(
            api_input_usd_per_m,
            api_output_usd_per_m,
            input_share,
            gpu_hour_usd,
            tok_s,
            gpus_per_replica=gpus_per_replica,
            api_cached_input_usd_per_m=api_cached_input_usd_per_m,
            cached_share=cached_share,
            api_cache_write_usd_per_m=api_cache_write_usd_per_m,
            cache_write_share=cache_write_share,
            description=(
                f"self-host: {gpus_per_replica} GPU(s) at ${plain(gpu_hour_usd)}/GPU-h, "
                f"{tok_s:,.0f} tok/s; API ${plain(api_input_usd_per_m)}/M in, "
                f"${plain(api_output_usd_per_m)}/M out, {input_share:.0%} input"
            ),
            **common,
        )
    vols = _floats(volumes, "--volumes")
    result = breakeven(inp, np.asarray(vols, dtype=np.float64) if vols else None)
    if _emit(result.to_dict(), as_json, html, png, lambda: plan_charts.breakeven_figure(result)):
        return
    plan_tables.render_breakeven(_out, result)
    _chart_note(html, png)


@plan_app.command("hybrid")
def hybrid_command(
    tokens_per_day: float = typer.Option(..., help="Input + output tokens per day."),
    profile: str | None = typer.Option(None, help="24 relative hourly loads, comma-separated."),
    peak_to_average: float | None = typer.Option(None, help="Busiest hour ÷ average."),
    peak_hour: int = typer.Option(14, help="Hour of the peak for --peak-to-average."),
    tok_s: float | None = typer.Option(None, help="Tokens/s (input + output) per replica."),
    replica_usd_per_hour: float | None = typer.Option(None, help="$ per replica-hour."),
    api_usd_per_m: float | None = typer.Option(None, help="API $/M at this token mix."),
    ops_usd_per_month: float = typer.Option(0.0, help="Operations $/month when self-hosting."),
    max_utilization: float = typer.Option(1.0, help="Highest planned use of capacity, 0-1."),
    days_per_month: float = typer.Option(
        DAYS_PER_BILLING_MONTH, help="Days in the billing month (730 h ÷ 24)."
    ),
    model: str | None = typer.Option(None, help="Model to self-host (priced from the catalog)."),
    gpu: str | None = typer.Option(None, help="Accelerator for --model."),
    api_model: str | None = typer.Option(None, help="API model for --model."),
    offer: str | None = typer.Option(None, help="Offer id for --model (e.g. a reserved one)."),
    gpu_hour_usd: float | None = typer.Option(None, help="$/GPU-hour for --model."),
    isl: int = typer.Option(1000, help="Input tokens per request (for --model)."),
    osl: int = typer.Option(300, help="Output tokens per request (for --model)."),
    max_tpot_ms: float | None = TPOT_OPT,
    as_json: bool = JSON_OPT,
    html: Path | None = HTML_OPT,
    png: Path | None = PNG_OPT,
) -> None:
    """Own replicas for the baseline, API for the peaks: the best baseline and the savings."""
    shape: list[float] | None = _floats(profile, "--profile")
    if peak_to_average is not None:
        if shape is not None:
            raise InputError("Give --profile or --peak-to-average, not both.")
        shape = [float(x) for x in diurnal_profile(peak_to_average, peak_hour)]
    if model is not None:
        gpu, api_model = _model_needs(gpu, api_model)
        _not_both(
            "--tok-s, --replica-usd-per-hour and --api-usd-per-m",
            "--model, --gpu and --api-model",
            ("--tok-s", tok_s),
            ("--replica-usd-per-hour", replica_usd_per_hour),
            ("--api-usd-per-m", api_usd_per_m),
        )
        inp = inputs_from_names(
            model,
            gpu,
            isl,
            osl,
            api_model,
            offer=offer,
            gpu_hour_usd=gpu_hour_usd,
            max_tpot_s=_ms(max_tpot_ms),
        )
        tok_s = inp.tok_s
        replica_usd_per_hour = inp.replica_usd_per_hour
        api_usd_per_m = inp.api_blended_usd_per_m
        if not as_json:
            _out.print(inp.description, markup=False)
    else:
        _only_with(
            "--model",
            ("--gpu", gpu),
            ("--api-model", api_model),
            ("--offer", offer),
            ("--gpu-hour-usd", gpu_hour_usd),
            ("--max-tpot-ms", max_tpot_ms),
        )
    if tok_s is None or replica_usd_per_hour is None or api_usd_per_m is None:
        raise InputError(
            "Give --tok-s, --replica-usd-per-hour and --api-usd-per-m, or --model, --gpu and "
            "--api-model."
        )
    result = hybrid(
        tokens_per_day,
        tok_s,
        replica_usd_per_hour,
        api_usd_per_m,
        profile=shape,
        ops_usd_per_month=ops_usd_per_month,
        max_utilization=max_utilization,
        days_per_month=days_per_month,
    )
    if _emit(result.to_dict(), as_json, html, png, lambda: plan_charts.hybrid_figure(result)):
        return
    plan_tables.render_hybrid(_out, result)
    _chart_note(html, png)


@plan_app.command("cascade")
def cascade_command(
    tier: list[str] = typer.Option(
        ...,
        "--tier",
        help="NAME:SHARE:COST, cheapest first (repeat). COST: $/M, api:MODEL or MODEL@GPU.",
    ),
    mode: str = typer.Option("router", help="router (served once) or cascade (escalate)."),
    attempt_fraction: float | None = typer.Option(
        None, help="cascade mode: share of an escalated attempt's tokens paid, 0-1 (default 1)."
    ),
    router_usd_per_m: float | None = typer.Option(
        None, help="router mode: classifier $/M tokens (default 0)."
    ),
    baseline: str | None = typer.Option(
        None, help="Baseline cost (default: the last tier): $/M, api:MODEL or MODEL@GPU."
    ),
    isl: int = typer.Option(1000, help="Input tokens per request (catalog costs)."),
    osl: int = typer.Option(300, help="Output tokens per request (catalog costs)."),
    as_json: bool = JSON_OPT,
    html: Path | None = HTML_OPT,
    png: Path | None = PNG_OPT,
) -> None:
    """Blended cost of routed or cascaded tiers and the saving against the baseline."""
    costs = [t.split(":", 2)[-1] for t in tier] + ([baseline] if baseline else [])
    if (isl, osl) != (1000, 300) and not any(_from_catalog(c) for c in costs):
        raise InputError(
            "--isl/--osl only apply to a tier or --baseline cost taken from the catalog "
            "(api:MODEL or MODEL@GPU); every cost given is a $/M number, so drop them."
        )
    tiers = [parse_tier(s, isl, osl) for s in tier]
    base = tier_cost_usd_per_m(baseline, isl, osl)[0] if baseline else None
    result = cascade(
        tiers,
        mode=mode,
        attempt_fraction=attempt_fraction,
        router_usd_per_m=router_usd_per_m,
        baseline_usd_per_m=base,
    )
    if _emit(result.to_dict(), as_json, html, png, lambda: plan_charts.cascade_figure(result)):
        return
    plan_tables.render_cascade(_out, result)
    _chart_note(html, png)


@plan_app.command("payback")
def payback_command(
    training_usd: float | None = typer.Option(None, help="Distillation: training cost, US$."),
    teacher: str | None = typer.Option(None, help="Teacher cost: $/M, api:MODEL or MODEL@GPU."),
    student: str | None = typer.Option(None, help="Student cost: $/M, api:MODEL or MODEL@GPU."),
    tokens_per_month: float | None = typer.Option(
        None, help="Distillation: tokens per month the teacher serves today (required)."
    ),
    traffic_share: float = typer.Option(1.0, help="Share of requests moved to the student."),
    quality_retention: float = typer.Option(1.0, help="Share of moved requests kept, 0-1."),
    extra_ops_usd_per_month: float = typer.Option(0.0, help="Extra operations $/month."),
    model: str | None = typer.Option(None, help="Serving features: the model."),
    gpu: str | None = typer.Option(None, help="Serving features: the accelerator."),
    isl: int = typer.Option(1000, help="Input tokens per request."),
    osl: int = typer.Option(300, help="Output tokens per request."),
    draft_tokens: int | None = typer.Option(None, help="Speculative decoding: k drafts."),
    acceptance: float = typer.Option(0.7, help="Speculative decoding: acceptance rate a."),
    draft_model: str | None = typer.Option(None, help="Draft model on the same GPUs."),
    draft_step_ratio: float | None = typer.Option(None, help="Draft step ÷ target step."),
    cached_share: float | None = typer.Option(None, help="Prefix caching: cached share."),
    output_tokens_per_month: float = typer.Option(0.0, help="For the monthly saving."),
    weight_dtype: str | None = typer.Option(None, help="Weight dtype of the operating point."),
    num_gpus: int | None = typer.Option(None, help="GPUs per replica of the operating point."),
    max_ttft_s: float | None = TTFT_OPT,
    max_tpot_ms: float | None = TPOT_OPT,
    gpu_hour_usd: float | None = typer.Option(None, help="$/GPU-hour (default: offers)."),
    engine: str = ENGINE_OPT,
    as_json: bool = JSON_OPT,
    html: Path | None = HTML_OPT,
    png: Path | None = PNG_OPT,
) -> None:
    """Distillation payback months; speculative-decoding and prefix-cache ROI at the
    operating point."""
    data: dict[str, Any] = {}
    fig: go.Figure | None = None
    distill: DistillationPayback | None = None
    features: list[FeatureRoi] = []
    if training_usd is None:
        _only_with(
            "--training-usd",
            ("--teacher", teacher),
            ("--student", student),
            ("--tokens-per-month", tokens_per_month),
        )
    if training_usd is not None:
        if teacher is None or student is None:
            raise InputError("Distillation needs --teacher and --student costs.")
        if tokens_per_month is None:
            raise InputError(
                "Distillation needs --tokens-per-month (the volume the student would take "
                "over); without it there is no saving to pay the training back."
            )
        distill = distillation_payback(
            training_usd,
            tier_cost_usd_per_m(teacher, isl, osl)[0],
            tier_cost_usd_per_m(student, isl, osl)[0],
            tokens_per_month,
            traffic_share=traffic_share,
            quality_retention=quality_retention,
            extra_ops_usd_per_month=extra_ops_usd_per_month,
        )
        data["distillation"] = distill.to_dict()
        fig = plan_charts.distillation_figure(distill)
    point: dict[str, Any] = {
        "max_ttft_s": max_ttft_s,
        "max_tpot_s": _ms(max_tpot_ms),
        "weight_dtype": weight_dtype,
        "num_gpus": num_gpus,
        "gpu_hour_usd": gpu_hour_usd,
        "engine": engine,
        "output_tokens_per_month": output_tokens_per_month,
    }
    if (draft_tokens is not None or cached_share is not None) and (model is None or gpu is None):
        raise InputError("Speculative decoding and prefix caching need --model and --gpu.")
    if draft_tokens is not None:
        assert model is not None and gpu is not None
        features.append(
            speculative_roi(
                model,
                gpu,
                isl,
                osl,
                num_draft_tokens=draft_tokens,
                acceptance_rate=acceptance,
                draft_model=draft_model,
                draft_step_ratio=draft_step_ratio,
                **point,
            )
        )
    if cached_share is not None:
        assert model is not None and gpu is not None
        features.append(
            prefix_cache_roi(model, gpu, isl, osl, cached_prefix_share=cached_share, **point)
        )
    if distill is None and not features:
        raise InputError(
            "Nothing to compute: give --training-usd (distillation), --draft-tokens "
            "(speculative decoding) or --cached-share (prefix caching)."
        )
    for f in features:
        key = "speculative_decoding" if f.feature.startswith("spec") else "prefix_caching"
        data[key] = f.to_dict()
        fig = fig or plan_charts.feature_figure(f)
    chart = fig
    if _emit(data, as_json, html, png, (lambda: chart) if chart is not None else None):
        return
    if distill is not None:
        plan_tables.render_distillation(_out, distill)
    for f in features:
        plan_tables.render_feature(_out, f)
    _chart_note(html, png)


@plan_app.command("scenarios")
def scenarios_command(
    usd_per_m: float | None = typer.Option(None, help="$/M today (default: from --model)."),
    tokens_per_month: float | None = typer.Option(
        None, help="Tokens per month today (without it: $/M only, $/month left at 0)."
    ),
    decline_per_year: float | None = typer.Option(
        None, help="Price decline per year, 0-1 (default: the hardware trend of --model)."
    ),
    years: float = typer.Option(5.0, help="Horizon, years (at most 50)."),
    volume_growth_per_year: float = typer.Option(0.0, help="Organic volume growth per year."),
    elasticity: float | None = typer.Option(
        None, help="Price elasticity of volume (<= 0; instead of the two ratios)."
    ),
    price_ratio: float | None = typer.Option(None, help="Observed new ÷ old price."),
    volume_ratio: float | None = typer.Option(None, help="Observed new ÷ old volume."),
    model: str | None = typer.Option(None, help="Model for the hardware-generation trend."),
    isl: int = typer.Option(1000, help="Input tokens per request."),
    osl: int = typer.Option(300, help="Output tokens per request."),
    gpu: list[str] | None = GPU_OPT,
    output_tokens_per_day: float | None = typer.Option(None, help="Growth: output tokens/day."),
    replica_output_tok_s: float | None = typer.Option(None, help="Growth: replica tok/s."),
    gpu_hour_usd: float | None = typer.Option(None, help="Growth: $/GPU-hour."),
    gpus_per_replica: int = typer.Option(1, help="Growth: GPUs per replica."),
    peak_to_average: float | None = typer.Option(None, help="Growth: busiest hour ÷ average."),
    multipliers: str = typer.Option("1,10,100", help="Growth multipliers, comma-separated."),
    output_expansion: float = typer.Option(1.0, help="Output tokens per request multiplier."),
    headroom: float = typer.Option(0.3, help="Growth: capacity above the peak."),
    api_input_usd_per_m: float | None = typer.Option(None, help="Growth: API $/M input."),
    api_output_usd_per_m: float | None = typer.Option(None, help="Growth: API $/M output."),
    as_json: bool = JSON_OPT,
    html: Path | None = HTML_OPT,
    png: Path | None = PNG_OPT,
) -> None:
    """Growth 1x/10x/100x, price projection with elasticity, and the hardware trend."""
    generations: Generations | None = None
    if model is not None:
        generations = hardware_generations(model, isl, osl, gpus=gpu or None)
    if elasticity is not None:
        _not_both(
            "--elasticity",
            "--price-ratio with --volume-ratio (which measure it)",
            ("--price-ratio", price_ratio),
            ("--volume-ratio", volume_ratio),
        )
    else:
        if (price_ratio is None) != (volume_ratio is None):
            raise InputError("Give both --price-ratio and --volume-ratio, or --elasticity.")
        elasticity = (
            price_elasticity(price_ratio, volume_ratio)
            if price_ratio is not None and volume_ratio is not None
            else 0.0
        )
        if elasticity > 0:
            raise InputError(
                f"--price-ratio {plain(price_ratio or 0.0)} with --volume-ratio "
                f"{plain(volume_ratio or 0.0)} "
                f"gives an elasticity of +{plain(elasticity, 3)}: volume moved with the price, "
                "not against "
                "it, so it is not a price response; give --elasticity (<= 0) instead."
            )
    if decline_per_year is None:
        if generations is None or generations.decline_per_year is None:
            raise InputError("Give --decline-per-year, or --model to take it from the catalog.")
        decline_per_year = generations.projected_decline_per_year
    if usd_per_m is None:
        if generations is None:
            raise InputError("Give --usd-per-m, or --model to take today's cheapest $/M.")
        usd_per_m = float(generations.usd_per_m.min())
    projection = project(
        usd_per_m,
        tokens_per_month or 0.0,
        decline_per_year=decline_per_year,
        years=years,
        volume_growth_per_year=volume_growth_per_year,
        elasticity=elasticity,
    )
    growth: GrowthScenarios | None = None
    if output_tokens_per_day is not None:
        if replica_output_tok_s is None or gpu_hour_usd is None:
            raise InputError("Growth needs --replica-output-tok-s and --gpu-hour-usd.")
        base = traffic(
            isl=isl,
            osl=osl,
            output_tokens_per_day=output_tokens_per_day,
            peak_to_average=peak_to_average,
        )
        growth = growth_scenarios(
            base,
            Replica(
                replica_output_tok_s,
                gpus_per_replica,
                gpu_hour_usd,
                description=f"{replica_output_tok_s:,.0f} output tok/s",
            ),
            multipliers=_floats(multipliers, "--multipliers") or [],
            headroom=headroom,
            output_expansion=output_expansion,
            api_input_usd_per_m=api_input_usd_per_m,
            api_output_usd_per_m=api_output_usd_per_m,
        )
    data: dict[str, Any] = {
        "projection": projection.to_dict(),
        "growth": growth.to_dict() if growth else None,
        "generations": generations.to_dict() if generations else None,
    }
    if _emit(
        data,
        as_json,
        html,
        png,
        lambda: plan_charts.scenarios_figure(projection, growth, generations),
    ):
        return
    plan_tables.render_scenarios(_out, projection, growth, generations)
    if tokens_per_month is None:
        _out.print(
            "assumed: no --tokens-per-month, so the projection's tokens/month and $/month are "
            "0; its $/M per year holds. Give today's volume for the monthly figures.",
            markup=False,
        )
    if generations is not None:
        _print_prices(list(generations.best))
    _chart_note(html, png)
