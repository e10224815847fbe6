"""Plotly charts for ``infercost plan ...`` (``--html FILE``): one figure per command.

Every figure is built from a plan result object; :func:`write_html` writes it as one
self-contained file (plotly.js inlined; no network when it is opened).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from infercost.errors import InputError
from infercost.fileio import write_atomic
from infercost.plan.breakeven import (
    Breakeven,
    crossings_tokens_per_day,
    self_host_cheaper_ranges,
)
from infercost.plan.candidate import Candidate
from infercost.plan.fleet import FleetPlan
from infercost.plan.hybrid import HybridResult
from infercost.plan.pareto import ParetoResult
from infercost.plan.payback import DistillationPayback, FeatureRoi
from infercost.plan.routing import CascadeResult
from infercost.plan.scenarios import Generations, GrowthScenarios, Projection
from infercost.plan.search import SearchResult

#: the most background points a Pareto chart draws (a seeded sample of the rest is dropped,
#: so the HTML stays a few MB at most); frontier and operating points are always drawn.
MAX_CLOUD_POINTS = 4000


def write_html(fig: go.Figure, path: Path) -> Path:
    """Write ``fig`` as a self-contained HTML file, atomically (the old file or the whole new
    one, never a truncated one), and return ``path``.

    Raises:
        InputError: the folder does not exist or is not writable.
    """
    write_atomic(path, fig.to_html(include_plotlyjs=True, full_html=True))
    return path


def write_png(fig: go.Figure, path: Path, width: int = 1200, height: int = 700) -> Path:
    """Write ``fig`` as a PNG image (kaleido, which drives a headless Chrome or Chromium),
    atomically, and return ``path``.

    Raises:
        InputError: no Chrome/Chromium for kaleido (how to get one is said), or the folder
            is not writable.
    """
    try:
        image = fig.to_image(format="png", width=width, height=height)
    except (RuntimeError, ValueError, OSError) as err:
        raise InputError(
            f"--png {path}: plotly could not render the image ({str(err).splitlines()[0]}); "
            "--png needs Chrome or Chromium (Debian: apt install chromium; or run "
            "`plotly_get_chrome`). --html writes the same chart without it."
        ) from None
    write_atomic(path, image)
    return path


def write_charts(
    make: Callable[[], go.Figure], html: Path | None, png: Path | None
) -> go.Figure | None:
    """Build the figure with ``make`` only when an ``--html`` or ``--png`` path is given, and
    write it to each; returns the figure (None when neither was asked for).

    Raises:
        InputError: as :func:`write_html` and :func:`write_png`.
    """
    if html is None and png is None:
        return None
    fig = make()
    if html is not None:
        write_html(fig, html)
    if png is not None:
        write_png(fig, png)
    return fig


def _label(c: Candidate) -> str:
    return f"{c.layout} {c.weight_dtype} KV {c.kv_dtype} b{c.concurrency}"


def search_figure(result: SearchResult) -> go.Figure:
    """Bars of each GPU family's cheapest $/M output; infeasible families listed with their
    binding constraint in the hover text at zero height."""
    fams = list(result.families)
    fams.reverse()
    fig = go.Figure()
    priced = [f for f in fams if f.best is not None]
    fig.add_trace(
        go.Bar(
            name="feasible",
            orientation="h",
            x=[f.best.usd_per_m_output_incl_input for f in priced if f.best],
            y=[f.gpu for f in priced],
            hovertext=[f"{_label(f.best)}; {f.constraint}: {f.detail}" for f in priced if f.best],
            hoverinfo="x+text",
        )
    )
    rest = [f for f in fams if f.best is None]
    fig.add_trace(
        go.Bar(
            name="rejected",
            orientation="h",
            x=[0.0] * len(rest),
            y=[f"{f.gpu} ({f.constraint})" for f in rest],
            hovertext=[f.detail for f in rest],
            hoverinfo="text",
        )
    )
    fig.update_layout(
        title=(
            f"{result.model}: cheapest $/M output per GPU (isl {result.isl}, osl {result.osl}; "
            f"{result.targets.describe()})"
        ),
        xaxis_title="US$ per million output tokens (prefill time included)",
        height=max(400, 22 * len(fams) + 150),
    )
    return fig


def _sample(n: int, limit: int) -> np.ndarray:
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).choice(n, limit, replace=False))


def pareto_figure(result: ParetoResult) -> go.Figure:
    """Cost against TPOT (left) and against output tokens/s per user (right): sampled
    configurations, the frontier, and the SLO operating point."""
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("$/M output vs TPOT", "$/M output vs output tok/s per user"),
    )
    idx = _sample(result.cloud_usd_per_m.size, MAX_CLOUD_POINTS)
    gpus = np.asarray(result.cloud_gpu)[idx] if result.cloud_gpu else np.asarray([])
    for col, x in ((1, result.cloud_tpot_s[idx] * 1e3), (2, result.cloud_tok_s_per_user[idx])):
        fig.add_trace(
            go.Scattergl(
                x=x,
                y=result.cloud_usd_per_m[idx],
                mode="markers",
                marker={"size": 3, "opacity": 0.35},
                name="configurations",
                text=gpus,
                showlegend=col == 1,
            ),
            row=1,
            col=col,
        )
    tf = result.tpot_frontier
    fig.add_trace(
        go.Scatter(
            x=[c.tpot_s * 1e3 for c in tf],
            y=[c.usd_per_m_output_incl_input for c in tf],
            mode="lines+markers",
            name="frontier",
            text=[_label(c) for c in tf],
        ),
        row=1,
        col=1,
    )
    uf = result.per_user_frontier
    fig.add_trace(
        go.Scatter(
            x=[result.osl / c.e2e_s for c in uf],
            y=[c.usd_per_m_output_incl_input for c in uf],
            mode="lines+markers",
            name="frontier (per user)",
            text=[_label(c) for c in uf],
        ),
        row=1,
        col=2,
    )
    op = result.operating_point
    if op is not None:
        for col, x in ((1, op.tpot_s * 1e3), (2, result.osl / op.e2e_s)):
            fig.add_trace(
                go.Scatter(
                    x=[x],
                    y=[op.usd_per_m_output_incl_input],
                    mode="markers",
                    marker={"size": 14, "symbol": "star"},
                    name=f"operating point ({result.targets.describe()})",
                    text=[_label(op)],
                    showlegend=col == 1,
                ),
                row=1,
                col=col,
            )
    fig.update_yaxes(type="log", title_text="US$ per M output tokens")
    fig.update_xaxes(title_text="TPOT (ms)", row=1, col=1)
    fig.update_xaxes(title_text="output tok/s per user (osl ÷ E2E)", type="log", row=1, col=2)
    fig.update_layout(
        title=f"{result.model}: cost-latency frontier (isl {result.isl}, osl "
        f"{result.osl}; {result.points:,} priced configurations)"
    )
    return fig


def fleet_figure(plan: FleetPlan) -> go.Figure:
    """Load and capacity over the day (static and autoscaled), and the static fleet month by
    month over the growth horizon."""
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=("Output tok/s over the day", "Fleet over the horizon")
    )
    minutes = np.arange(plan.autoscaled_replicas.size) / 60.0
    load = plan.average_output_tok_s * np.repeat(plan.traffic.profile, 60)
    cap = plan.replica.output_tok_s
    fig.add_trace(go.Scatter(x=minutes, y=load, name="demand"), row=1, col=1)
    fig.add_trace(
        go.Scatter(x=minutes, y=plan.autoscaled_replicas * cap, name="autoscaled capacity"),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=[0, 24],
            y=[plan.static_replicas * cap] * 2,
            name="static capacity",
            mode="lines",
            line={"dash": "dash"},
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(x=plan.growth_months, y=plan.growth_static_replicas, name="replicas (static)"),
        row=1,
        col=2,
    )
    fig.update_xaxes(title_text="hour of day", row=1, col=1)
    fig.update_xaxes(title_text="month", row=1, col=2)
    fig.update_layout(
        title=(
            f"Fleet: {plan.static_replicas} replicas static (${plan.static_usd_per_month:,.0f}"
            f"/month), autoscaled ${plan.autoscaled_usd_per_month:,.0f}/month; "
            f"{plan.replica.description}"
        )
    )
    return fig


def breakeven_figure(b: Breakeven) -> go.Figure:
    """API and self-host $/month against tokens per day, with the break-even volume."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=b.tokens_per_day, y=b.api_usd_per_month, name="API"))
    fig.add_trace(
        go.Scatter(
            x=b.tokens_per_day,
            y=b.self_host_usd_per_month,
            name="self-host",
            line={"shape": "hv"},
            text=[f"{r} replicas" for r in b.replicas],
        )
    )
    ranges = self_host_cheaper_ranges(b.inputs)
    top = float(np.max(b.tokens_per_day))
    for i, (lo, hi) in enumerate(ranges):
        fig.add_vrect(
            x0=lo, x1=hi if hi is not None else max(top, lo), fillcolor="green", opacity=0.08,
            line_width=0, annotation_text="self-host cheaper" if i == len(ranges) - 1 else "",
        )  # fmt: skip
    for x in crossings_tokens_per_day(b.inputs):
        fig.add_vline(x=x, line_dash="dot", annotation_text=f"{x:,.0f} tok/day")
    fig.update_xaxes(type="log", title_text="tokens per day (input + output)")
    fig.update_yaxes(type="log", title_text="US$ per month")
    fig.update_layout(title=f"Self-host vs API: {b.inputs.description}")
    return fig


def hybrid_figure(h: HybridResult) -> go.Figure:
    """Monthly cost against the number of own replicas, the best marked."""
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=h.baselines,
            y=h.usd_per_month,
            mode="lines+markers",
            name="$/month",
            text=[f"{s:.0%} of tokens to the API" for s in h.api_share],
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[h.best_replicas],
            y=[h.best_usd_per_month],
            mode="markers",
            marker={"size": 14, "symbol": "star"},
            name="best baseline",
        )
    )
    fig.update_xaxes(title_text="own replicas (baseline)")
    fig.update_yaxes(title_text="US$ per month")
    fig.update_layout(title="Hybrid: own baseline + API overflow")
    return fig


def cascade_figure(c: CascadeResult) -> go.Figure:
    """Each tier's contribution to the blended $/M beside the baseline."""
    fig = go.Figure()
    for t, contrib in zip(c.tiers, c.usd_per_m_by_tier, strict=True):
        fig.add_trace(go.Bar(x=["blend"], y=[contrib], name=f"{t.name} ({t.share:.0%})"))
    fig.add_trace(go.Bar(x=["baseline"], y=[c.baseline_usd_per_m], name="baseline"))
    fig.update_layout(
        barmode="stack",
        yaxis_title="US$ per M tokens",
        title=f"{c.mode}: {c.blended_usd_per_m:.4f} $/M, {c.times_cheaper:.2f}x cheaper",
    )
    return fig


def distillation_figure(d: DistillationPayback, months: int = 24) -> go.Figure:
    """Net position (saving x months - training) month by month."""
    fig = go.Figure(
        go.Scatter(x=list(range(months + 1)), y=d.cumulative_usd(months), name="net US$")
    )
    fig.add_hline(y=0.0, line_dash="dot")
    fig.update_xaxes(title_text="months after launch")
    fig.update_yaxes(title_text="US$ (cumulative saving - training)")
    pb = "never" if d.payback_months is None else f"{d.payback_months:.1f} months"
    fig.update_layout(title=f"Distillation payback: {pb}")
    return fig


def feature_figure(r: FeatureRoi) -> go.Figure:
    """Throughput and TPOT before and after the feature."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("output tok/s", "TPOT (ms)"))
    fig.add_trace(
        go.Bar(x=["before", "after"], y=[r.output_tok_s_before, r.output_tok_s_after]),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(x=["before", "after"], y=[r.tpot_s_before * 1e3, r.tpot_s_after * 1e3]),
        row=1,
        col=2,
    )
    fig.update_layout(title=f"{r.feature}: {r.detail}", showlegend=False)
    return fig


def scenarios_figure(
    projection: Projection,
    growth: GrowthScenarios | None = None,
    generations: Generations | None = None,
) -> go.Figure:
    """Price, volume and spend over time; the growth scenarios and the hardware generations
    when given."""
    cols = 1 + (growth is not None) + (generations is not None)
    titles = ["Projection over time"]
    if growth is not None:
        titles.append("Growth scenarios ($/month)")
    if generations is not None:
        titles.append("$/M by hardware generation")
    fig = make_subplots(rows=1, cols=cols, subplot_titles=titles)
    t = projection.years
    fig.add_trace(go.Scatter(x=t, y=projection.usd_per_m, name="$/M"), row=1, col=1)
    fig.add_trace(go.Scatter(x=t, y=projection.usd_per_month, name="spend $/month"), row=1, col=1)
    fig.add_trace(
        go.Scatter(x=t, y=projection.tokens_per_month / 1e6, name="volume (M tokens/month)"),
        row=1,
        col=1,
    )
    fig.update_yaxes(type="log", row=1, col=1)
    fig.update_xaxes(title_text="years from now", row=1, col=1)
    col = 2
    if growth is not None:
        labels = [f"{m:g}x" for m in growth.multipliers]
        fig.add_trace(
            go.Bar(x=labels, y=growth.self_host_usd_per_month, name="self-host"), row=1, col=col
        )
        if growth.api_usd_per_month is not None:
            fig.add_trace(go.Bar(x=labels, y=growth.api_usd_per_month, name="API"), row=1, col=col)
        fig.update_yaxes(type="log", row=1, col=col)
        col += 1
    if generations is not None:
        fig.add_trace(
            go.Scatter(
                x=generations.years,
                y=generations.usd_per_m,
                mode="markers+text",
                text=list(generations.gpus),
                textposition="top center",
                name="best $/M",
            ),
            row=1,
            col=col,
        )
        fig.update_yaxes(type="log", row=1, col=col)
    fig.update_layout(title="Scenarios and projections")
    return fig
