"""Rich tables for ``infercost plan ...``: one renderer per plan result."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from infercost.plan.breakeven import Breakeven, self_host_cheaper_ranges
from infercost.plan.candidate import Candidate
from infercost.plan.disagg_search import DisaggSearch
from infercost.plan.fleet import FleetPlan
from infercost.plan.hybrid import HybridResult
from infercost.plan.pareto import ParetoResult
from infercost.plan.payback import DistillationPayback, FeatureRoi
from infercost.plan.routing import CascadeResult
from infercost.plan.scenarios import Generations, GrowthScenarios, Projection
from infercost.plan.search import SearchResult
from infercost.plan.tail import TailResult
from infercost.report.text import usd, usd_sig


def _usd(x: float | None, places: int = 2) -> str:
    """Money: ``places`` 0 or 2 as given (monthly and hourly amounts); asked for more, a
    price per token is shown to three significant figures (docs/cli.md)."""
    return usd_sig(x) if places > 2 and x is not None and abs(x) < 1 else usd(x, min(places, 2))


def _config_row(c: Candidate) -> list[str]:
    return [
        f"{c.layout} {c.weight_dtype}/{c.kv_dtype}",
        str(c.concurrency),
        f"{c.output_tok_s:,.0f}",
        f"{c.ttft_s:.3f}",
        f"{c.tpot_s * 1e3:.1f}",
        _usd(c.usd_per_gpu_hour),
        _usd(c.usd_per_m_output_incl_input, 3),
    ]


#: Column label of the ranking metric: every GPU-second of the replica charged to output
#: tokens (``compare-gpus`` instead charges prefill to input: "prefill charged to input").
USD_PER_M_ALL = "$/M output (all GPU time)"

_CONFIG_COLS = (
    "config (weights/KV)",
    "batch",
    "tok/s",
    "TTFT s",
    "TPOT ms",
    "$/GPU-h",
    USD_PER_M_ALL,
)


def _config_table(title: str, rows: list[Candidate], rank: bool = True) -> Table:
    """Compact rows; $/M is output tokens with every GPU-second charged to them."""
    table = Table(title=title)
    if rank:
        table.add_column("#")
    for col in _CONFIG_COLS:
        table.add_column(
            col, overflow="fold", justify="left" if col.startswith("config") else "right"
        )
    for i, c in enumerate(rows, start=1):
        table.add_row(*([str(i)] if rank else []), *_config_row(c))
    return table


def search_targets_text(r: SearchResult, tail: TailResult | None = None) -> str:
    """The targets a search ran under: mean targets, p99 targets (simulated), or none."""
    p99 = tail.describe_targets() if tail is not None else ""
    if r.targets.is_set:
        return r.targets.describe() + (f"; {p99} (simulated)" if p99 else "")
    if p99:
        return f"{p99} (simulated; no mean target)"
    return r.targets.describe()


def render_search(
    console: Console,
    r: SearchResult,
    families: int | None = None,
    tail: TailResult | None = None,
) -> None:
    """Winner and runners-up, then each GPU family's verdict (the header names the p99
    targets of ``tail`` too)."""
    console.print(
        f"{r.model} ({r.engine}), isl {r.isl} / osl {r.osl}, {search_targets_text(r, tail)}: "
        f"{r.candidates_evaluated:,} configurations in {r.elapsed_s:.2f} s, "
        f"{r.feasible:,} feasible",
        markup=False,
    )
    ranked = [c for c in (r.winner, *r.runners_up) if c is not None]
    if ranked:
        console.print(
            _config_table(
                "Cheapest configurations (by $/M output, all GPU time charged to output)",
                ranked,
            )
        )
    else:
        console.print("[red]No configuration meets every constraint.[/red]")
    table = Table(title="GPU families: best configuration or binding constraint")
    for col in ("GPU", "verdict", USD_PER_M_ALL, "best configuration; why"):
        table.add_column(col, overflow="fold")
    for f in r.families[:families] if families else r.families:
        best = (
            f"{f.best.layout} {f.best.weight_dtype}/{f.best.kv_dtype} b{f.best.concurrency}; "
            if f.best
            else ""
        )
        table.add_row(
            f.gpu,
            f.constraint,
            _usd(f.best.usd_per_m_output_incl_input if f.best else None, 3),
            best + f.detail,
        )
    console.print(table)
    for note in r.notes:
        console.print(f"[yellow]note: {note}[/yellow]")


def _interactivity_table(front: Sequence[Candidate], rows: int) -> Table:
    """The interactivity frontier: output tok/s per GPU against tok/s per user (1 ÷ TPOT),
    fastest user first, thinned to ``rows``, with $/M output (all GPU time) at each point."""
    pts = list(front)
    if len(pts) > rows:
        step = (len(pts) - 1) / (rows - 1)
        pts = [pts[round(i * step)] for i in range(rows)]
    t = Table(title="Interactivity frontier: output tok/s per GPU vs tok/s per user")
    for col in ("config (weights/KV)", "batch", "tok/s per user", "tok/s per GPU", USD_PER_M_ALL):
        t.add_column(col, justify="left" if col.startswith("config") else "right")
    for c in pts:
        t.add_row(
            f"{c.layout} {c.weight_dtype}/{c.kv_dtype}",
            str(c.concurrency),
            f"{1.0 / c.tpot_s:,.1f}",
            f"{c.output_tok_s / c.num_gpus:,.0f}",
            _usd(c.usd_per_m_output_incl_input, 3),
        )
    return t


def render_pareto(console: Console, r: ParetoResult, rows: int = 15) -> None:
    """The TPOT frontier (thinned to ``rows``) and the operating point."""
    console.print(
        f"{r.model}, isl {r.isl} / osl {r.osl}: {r.points:,} priced configurations, "
        f"{len(r.tpot_frontier)} on the TPOT frontier, {len(r.per_user_frontier)} on the "
        "per-user frontier",
        markup=False,
    )
    front = list(r.tpot_frontier)
    if len(front) > rows:
        step = (len(front) - 1) / (rows - 1)
        front = [front[round(i * step)] for i in range(rows)]
    console.print(_config_table("Frontier: $/M output vs TPOT (fastest first)", front))
    console.print(_interactivity_table(r.per_user_frontier, rows))
    if r.operating_point is not None:
        console.print(
            _config_table(
                f"Operating point for {r.targets.describe()}", [r.operating_point], rank=False
            )
        )
    else:
        console.print(f"[red]No configuration meets {r.targets.describe()}.[/red]")
    for note in r.notes:
        console.print(f"note: {note}", style="yellow", markup=False)


def render_fleet(console: Console, p: FleetPlan) -> None:
    """Demand, static and autoscaled fleets, and the purchase mix."""
    console.print(f"replica: {p.replica.description}", markup=False)
    t = Table(title="Fleet sizing")
    t.add_column("figure")
    t.add_column("value", justify="right")
    t.add_column("how")
    rows = [
        (
            "average output tok/s",
            f"{p.average_output_tok_s:,.0f}",
            "output tokens/day x growth ÷ 86,400",
        ),
        ("peak output tok/s", f"{p.peak_output_tok_s:,.0f}", "average x max(profile)"),
        (
            "static replicas",
            f"{p.static_replicas:,} ({p.static_gpus:,} GPUs)",
            f"ceil(peak x (1 + {p.headroom:g}) ÷ {p.replica.output_tok_s:,.0f} tok/s)",
        ),
        ("static utilisation", f"{p.static_utilization:.1%}", "average ÷ capacity"),
        (
            "static $/month",
            _usd(p.static_usd_per_month, 0),
            f"replicas x ${p.replica.usd_per_hour:,.2f}/h x {p.days_per_month * 24:,.6g} h/month",
        ),
        ("static $/M output", _usd(p.static_usd_per_m_output, 4), "$/month ÷ M tokens/month"),
        (
            "autoscaled replica-hours/day",
            f"{p.autoscaled_replica_hours_per_day:,.1f}",
            f"lag {p.autoscaling_lag_min:g} min, min {p.min_replicas} replicas",
        ),
        ("autoscaled utilisation", f"{p.autoscaled_utilization:.1%}", ""),
        ("autoscaled $/month", _usd(p.autoscaled_usd_per_month, 0), ""),
        ("autoscaled $/M output", _usd(p.autoscaled_usd_per_m_output, 4), ""),
    ]
    if p.mix is not None:
        m = p.mix
        rows += [
            ("reserved replicas (mix)", f"{m.reserved_replicas:,}", "cheapest R over 0..peak"),
            (
                "on-demand / spot replica-h/day",
                f"{m.on_demand_replica_hours_per_day:,.1f} / {m.spot_replica_hours_per_day:,.1f}",
                "burst above the reserved baseline",
            ),
            (
                "mix $/month",
                _usd(m.usd_per_month, 0),
                f"saves {_usd(m.all_on_demand_usd_per_month - m.usd_per_month, 0)} vs all "
                "on-demand",
            ),
        ]
    for row in rows:
        t.add_row(*row)
    console.print(t)
    for note in p.assumptions:
        console.print(f"assumed: {note}", markup=False, highlight=False)


def render_breakeven(console: Console, b: Breakeven) -> None:
    """Break-even volume and a few curve points."""
    inp = b.inputs
    be = b.breakeven_tokens_per_day
    console.print(inp.description, markup=False)
    console.print(
        f"API blended {usd_sig(inp.api_blended_usd_per_m)}/M; self-host "
        f"{usd_sig(inp.self_host_usd_per_m_full_load)}/M at full load; replica "
        f"${inp.replica_usd_per_month:,.2f}/month + ops "
        f"${inp.ops_usd_per_month:,.2f}/month",
        markup=False,
    )
    if be is None:
        console.print(
            "[bold]No break-even:[/bold] one more replica costs at least what the API charges "
            "for the tokens it serves; the API is cheaper at every volume."
        )
    else:
        console.print(
            f"[bold]Break-even: {be:,.0f} tokens/day[/bold] ({be * inp.days_per_month:,.0f} "
            "tokens/month)"
        )
        ranges = self_host_cheaper_ranges(inp)
        if len(ranges) > 1:
            console.print(
                "Whole replicas make the costs cross more than once. Self-hosting is cheaper "
                + " and ".join(
                    f"from {lo:,.0f} to {hi:,.0f}" if hi is not None else f"from {lo:,.0f} up"
                    for lo, hi in ranges
                )
                + " tokens/day; the API is cheaper in between. "
                + f"[bold]Self-hosting stays cheaper from {ranges[-1][0]:,.0f} tokens/day.[/bold]"
            )
    for note in inp.assumptions:
        console.print(f"assumed: {note}", markup=False, highlight=False)
    t = Table(title="Monthly cost by daily volume")
    for col in ("tokens/day", "API $/month", "self-host $/month", "replicas", "cheaper"):
        t.add_column(col, justify="right")
    step = max(1, len(b.tokens_per_day) // 10)
    for i in range(0, len(b.tokens_per_day), step):
        a, s = b.api_usd_per_month[i], b.self_host_usd_per_month[i]
        t.add_row(
            f"{b.tokens_per_day[i]:,.0f}",
            _usd(float(a)),
            _usd(float(s)),
            str(b.replicas[i]),
            "API" if a < s else "self-host",
        )
    console.print(t)


def render_hybrid(console: Console, h: HybridResult) -> None:
    """Best baseline and the comparison with the pure options."""
    t = Table(title="Hybrid: own baseline + API overflow")
    t.add_column("option")
    t.add_column("own replicas", justify="right")
    t.add_column("tokens to API", justify="right")
    t.add_column("$/month", justify="right")
    best = h.best_index
    for name, i in (("pure API", 0), ("best hybrid", best), ("pure self-host", -1)):
        t.add_row(
            name,
            f"{h.baselines[i]:,}",
            f"{h.api_share[i]:.1%}",
            _usd(float(h.usd_per_month[i]), 0),
        )
    console.print(t)
    console.print(
        f"saving vs pure API {_usd(h.pure_api_usd_per_month - h.best_usd_per_month, 0)}/month, "
        f"vs pure self-host {_usd(h.pure_self_host_usd_per_month - h.best_usd_per_month, 0)}"
        "/month",
        markup=False,
    )


def render_cascade(console: Console, c: CascadeResult) -> None:
    """Tiers, their contributions and the saving."""
    t = Table(title=f"Cascade ({c.mode})")
    for col in ("tier", "share", "reach", "escalates", "$/M", "contribution", "source"):
        t.add_column(col, overflow="fold")
    for tier, r, e, k in zip(
        c.tiers, c.reach, c.escalation_rate, c.usd_per_m_by_tier, strict=True
    ):
        t.add_row(
            tier.name,
            f"{tier.share:.1%}",
            f"{r:.1%}",
            f"{e:.1%}",
            _usd(tier.usd_per_m, 4),
            _usd(k, 4),
            tier.source,
        )
    console.print(t)
    versus = (
        f"{c.times_cheaper:.2f}x cheaper ({c.saving_fraction:.1%} saved)"
        if c.blended_usd_per_m <= c.baseline_usd_per_m
        else f"{c.blended_usd_per_m / c.baseline_usd_per_m:.2f}x more expensive "
        f"({-c.saving_fraction:.1%} more than the baseline)"
    )
    console.print(
        f"blended {usd_sig(c.blended_usd_per_m)}/M vs baseline {usd_sig(c.baseline_usd_per_m)}/M: "
        + versus,
        markup=False,
    )


def render_distillation(console: Console, d: DistillationPayback) -> None:
    """Distillation payback figures."""
    t = Table(title="Distillation payback")
    t.add_column("figure")
    t.add_column("value", justify="right")
    t.add_row("saving per M tokens moved", _usd(d.saving_usd_per_m_moved, 4))
    t.add_row("monthly saving", _usd(d.monthly_saving_usd))
    t.add_row("training cost", _usd(d.training_usd))
    t.add_row("payback", "never" if d.payback_months is None else f"{d.payback_months:.1f} months")
    console.print(t)


def render_feature(console: Console, r: FeatureRoi) -> None:
    """Before/after figures of a serving feature."""
    op = r.operating_point
    console.print(
        f"{r.feature} at {op.layout} {op.weight_dtype} batch {op.concurrency}: {r.detail}",
        markup=False,
    )
    t = Table(title=r.feature)
    for col in ("", "before", "after"):
        t.add_column(col, justify="right")
    t.add_row("output tok/s", f"{r.output_tok_s_before:,.0f}", f"{r.output_tok_s_after:,.0f}")
    t.add_row("TTFT s", f"{r.ttft_s_before:.3f}", f"{r.ttft_s_after:.3f}")
    t.add_row("TPOT ms", f"{r.tpot_s_before * 1e3:.1f}", f"{r.tpot_s_after * 1e3:.1f}")
    t.add_row("$/M out (all)", _usd(r.usd_per_m_before, 4), _usd(r.usd_per_m_after, 4))
    console.print(t)
    saving = r.monthly_saving_usd
    if saving is not None and r.tokens_per_month:
        console.print(f"monthly saving {_usd(saving)}", markup=False)


def render_scenarios(
    console: Console,
    projection: Projection,
    growth: GrowthScenarios | None,
    generations: Generations | None,
) -> None:
    """Growth scenarios, the projection, and the hardware trend."""
    if growth is not None:
        t = Table(title=f"Growth (output expansion x{growth.output_expansion:g})")
        for col in (
            "scale",
            "output tok/day",
            "replicas",
            "GPUs",
            "self-host $/month",
            "API $/month",
        ):
            t.add_column(col, justify="right")
        for row in growth.to_dict()["scenarios"]:
            t.add_row(
                f"{row['multiplier']:g}x",
                f"{row['output_tokens_per_day']:,.0f}",
                str(row["replicas"]),
                str(row["gpus"]),
                _usd(row["self_host_usd_per_month"], 0),
                _usd(row["api_usd_per_month"], 0),
            )
        console.print(t)
    t = Table(title="Projection")
    for col in ("year", "$/M", "tokens/month", "$/month"):
        t.add_column(col, justify="right")
    for p in projection.to_dict()["points"]:
        if float(p["year"]).is_integer():
            t.add_row(
                f"{p['year']:g}",
                _usd(p["usd_per_m"], 4),
                f"{p['tokens_per_month']:,.0f}",
                _usd(p["usd_per_month"]),
            )
    console.print(t)
    if generations is not None:
        t = Table(title=f"{generations.model}: cheapest $/M by hardware generation")
        for col in ("year", "GPU", "$/M out (all)", "config"):
            t.add_column(col, overflow="fold")
        for g, y, u, c in zip(
            generations.gpus,
            generations.years,
            generations.usd_per_m,
            generations.configs,
            strict=True,
        ):
            t.add_row(str(y), g, _usd(float(u), 3), c)
        console.print(t)
        f = generations.annual_factor
        if f is not None and f >= 1.0:
            console.print(
                f"trend: x{f:.2f} cheaper per year of hardware generation (decline "
                f"{generations.decline_per_year:.0%}/year)",
                markup=False,
            )
        elif f is not None:
            console.print(
                f"trend: at today's offers newer hardware is x{1 / f:.2f} dearer per $/M per "
                "year of launch date; the projection assumes no decline unless "
                "--decline-per-year is given",
                markup=False,
            )


def render_tail(console: Console, t: TailResult) -> None:
    """The short-list simulated against p99 targets."""
    targets = t.describe_targets()
    table = Table(
        title=f"Short-list simulated ({targets}; Poisson at {t.load:.0%} of "
        f"steady-state rate, {t.num_requests} requests)"
    )
    for col in (
        "config (weights/KV)",
        "batch",
        "p99 TTFT s",
        "p99 TPOT ms",
        "$/M at load",
        "verdict",
    ):
        table.add_column(col, overflow="fold")
    for c in t.checks:
        k = c.config
        if not c.simulated:
            verdict = c.reason
        elif c.overloaded:
            verdict = "overloaded"
        else:
            verdict = "meets" if c.passes else "misses"
        table.add_row(
            f"{k.layout} {k.weight_dtype}/{k.kv_dtype}",
            str(k.concurrency),
            "-" if c.ttft_p99_s is None else f"{c.ttft_p99_s:.3f}",
            "-" if c.tpot_p99_s is None else f"{c.tpot_p99_s * 1e3:.1f}",
            _usd(c.usd_per_m_at_load, 3),
            verdict,
        )
    console.print(table)
    w = t.winner
    if w is None:
        console.print("[red]No short-listed configuration meets the p99 targets.[/red]")
    else:
        console.print(
            f"p99 winner: {w.config.layout} {w.config.weight_dtype}/{w.config.kv_dtype}, "
            f"batch cap {w.config.concurrency}, {_usd(w.usd_per_m_at_load, 3)}/M output",
            markup=False,
        )


def render_disagg_search(console: Console, r: DisaggSearch, aggregated: Candidate | None) -> None:
    """The cheapest disaggregated (xPyD) deployment beside the aggregated winner."""
    t = Table(title="Disaggregated prefill/decode (xPyD), cheapest per layout")
    for col in ("layout", "GPUs", "clients", "tok/s", "TTFT s", "TPOT ms", "bottleneck",
                USD_PER_M_ALL):  # fmt: skip
        t.add_column(col, justify="left" if col in ("layout", "bottleneck") else "right")
    for c in ([r.winner] if r.winner else []) + list(r.runners_up):
        p = c.prediction
        t.add_row(
            c.layout, str(p.num_gpus), str(p.concurrency), f"{p.output_tok_s or 0:,.0f}",
            f"{p.ttft_s or 0:.3f}", f"{(p.tpot_s or 0) * 1e3:.1f}", p.bottleneck or "-",
            _usd(c.usd_per_m_output_incl_input, 3),
        )  # fmt: skip
    console.print(t)
    if r.winner is None:
        console.print(f"No disaggregated layout meets the targets ({r.evaluated:,} points).")
        return
    if aggregated is not None and aggregated.usd_per_m_output_incl_input:
        ratio = r.winner.usd_per_m_output_incl_input / aggregated.usd_per_m_output_incl_input
        verdict = "cheaper" if ratio < 1 else "dearer"
        console.print(
            f"Disaggregated {r.winner.layout}: {_usd(r.winner.usd_per_m_output_incl_input, 3)}"
            f"/M output vs aggregated {aggregated.layout} "
            f"{_usd(aggregated.usd_per_m_output_incl_input, 3)}/M: {ratio:.2f}x ({verdict}); "
            f"both with weights {r.winner.prediction.weight_dtype} / KV "
            f"{r.winner.prediction.kv_dtype} (pin with --weight-dtypes / --kv-dtypes); "
            f"{r.evaluated:,} disaggregated points evaluated.",
            markup=False,
        )
