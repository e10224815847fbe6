"""Plotly charts for ``infercost usage ...`` (``--html FILE``): one figure per command.

Each figure is built from a usage result object and written with
:func:`infercost.report.plan_charts.write_html` (self-contained, atomic).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from infercost.usage.anomalies import AnomalyReport
from infercost.usage.report import Report

if TYPE_CHECKING:
    from infercost.usage.forecast import Forecast
    from infercost.usage.reprice import Repricing

_TITLES = {
    "spend_usd": "spend per hour (US$)",
    "tokens_per_request": "tokens per request",
    "cache_hit_rate": "cache-hit rate",
    "output_share": "output share",
}


def report_figure(rep: Report) -> go.Figure:
    """Bars of spend per report row."""
    labels = [" / ".join(str(v) for v in r.key.values()) for r in rep.rows]
    fig = go.Figure(go.Bar(x=labels, y=[float(r.usd) for r in rep.rows]))
    fig.update_layout(
        title=f"Spend by {', '.join(rep.by) or 'total'}, {rep.start:%Y-%m-%d} to "
        f"{rep.end:%Y-%m-%d}",
        yaxis_title="US$",
    )
    return fig


def anomalies_figure(r: AnomalyReport) -> go.Figure:
    """One panel per metric: the hourly value, its usual range (shaded) and baseline, and the
    anomalous hours marked."""
    fig = make_subplots(
        rows=len(r.series),
        cols=1,
        shared_xaxes=True,
        subplot_titles=[_TITLES[s.metric] for s in r.series],
    )
    for row, s in enumerate(r.series, start=1):
        first = row == 1
        fig.add_trace(
            go.Scatter(x=s.hours, y=s.high, line={"width": 0}, showlegend=False, hoverinfo="skip"),
            row=row,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=s.hours,
                y=np.maximum(s.low, 0.0),
                fill="tonexty",
                fillcolor="rgba(100,150,250,0.2)",
                line={"width": 0},
                name="usual range",
                showlegend=first,
            ),
            row=row,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=s.hours,
                y=s.expected,
                line={"dash": "dot", "color": "grey"},
                name="seasonal baseline",
                showlegend=first,
            ),
            row=row,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=s.hours,
                y=s.value,
                line={"color": "black", "width": 1},
                name="observed",
                showlegend=first,
            ),
            row=row,
            col=1,
        )
        for a in r.anomalies:
            if a.metric != s.metric:
                continue
            fig.add_vrect(
                x0=a.start, x1=a.end, fillcolor="red", opacity=0.25, line_width=0, row=row, col=1
            )
    fig.update_layout(
        height=250 * max(len(r.series), 1),
        title=f"Anomalies {r.start:%Y-%m-%d} to {r.end:%Y-%m-%d}: {len(r.anomalies)} found "
        f"(|z| >= {r.threshold:g} against the same weekday and hour in other weeks)",
    )
    return fig


def forecast_figure(f: Forecast) -> go.Figure:
    """Cumulative spend of the month: actual, forecast with its interval, and the budget."""
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=f.days_actual,
            y=[float(x) for x in f.cumulative_actual],
            name="actual",
            mode="lines+markers",
        )
    )
    if f.days_forecast:
        fig.add_trace(
            go.Scatter(
                x=f.days_forecast,
                y=[float(x) for x in f.cumulative_high],
                line={"width": 0},
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=f.days_forecast,
                y=[float(x) for x in f.cumulative_low],
                fill="tonexty",
                fillcolor="rgba(100,150,250,0.25)",
                line={"width": 0},
                name=f"{f.level}% interval",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=f.days_forecast,
                y=[float(x) for x in f.cumulative_mean],
                name="forecast",
                line={"dash": "dash"},
            )
        )
    if f.budget_usd is not None:
        fig.add_hline(
            y=float(f.budget_usd),
            line_dash="dot",
            line_color="red",
            annotation_text=f"budget ${f.budget_usd:,.0f}",
        )
    fig.update_layout(
        title=f"{f.month}: month-end spend ${f.month_end_usd:,.0f} "
        f"(${f.month_end_low_usd:,.0f} to ${f.month_end_high_usd:,.0f}, {f.level}%)",
        yaxis_title="US$ (cumulative)",
    )
    return fig


def reprice_figure(r: Repricing) -> go.Figure:
    """The period's actual cost beside each alternative's range."""
    names = ["actual", *[a.name for a in r.alternatives]]
    mid = [float(r.actual_usd), *[float((a.low_usd + a.high_usd) / 2) for a in r.alternatives]]
    plus = [0.0, *[float((a.high_usd - a.low_usd) / 2) for a in r.alternatives]]
    fig = go.Figure(
        go.Bar(x=names, y=mid, error_y={"type": "data", "array": plus, "visible": True})
    )
    fig.update_layout(
        title=f"Re-priced {r.start:%Y-%m-%d} to {r.end:%Y-%m-%d} (bars: the range's middle, "
        "whiskers: its ends)",
        yaxis_title="US$",
    )
    return fig


def spend_over_time_figure(rep: Report) -> go.Figure:
    """Stacked bars of spend per day, one colour per value of the report's second dimension
    (``rep`` grouped by ``day`` then one dimension); idle fleet capacity, which has no day,
    is left out of the bars and named in the title."""
    if not rep.by or rep.by[0] != "day":
        raise ValueError("spend_over_time_figure needs a report grouped by day first")
    dim = rep.by[1] if len(rep.by) > 1 else None
    series: dict[str, dict[str, float]] = {}
    idle = 0.0
    for r in rep.rows:
        day = r.key.get("day")
        if day is None or str(day).startswith("("):
            idle += float(r.usd)
            continue
        label = str(r.key.get(dim)) if dim else "spend"
        series.setdefault(label, {})[str(day)[:10]] = float(r.usd)
    fig = go.Figure()
    for label, by_day in sorted(series.items(), key=lambda kv: -sum(kv[1].values())):
        days = sorted(by_day)
        fig.add_trace(go.Bar(x=days, y=[by_day[d] for d in days], name=label))
    idle_text = f"; idle fleet capacity ${idle:,.0f} not shown by day" if idle else ""
    fig.update_layout(
        barmode="stack",
        title=f"Spend per day by {dim or 'total'}, {rep.start:%Y-%m-%d} to {rep.end:%Y-%m-%d}"
        f"{idle_text}",
        yaxis_title="US$ per day",
    )
    return fig
