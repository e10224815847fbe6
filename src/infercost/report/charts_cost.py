"""Cost charts (plotly HTML): $/M output per offer for ``infercost compare-gpus --html``."""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go

from infercost.plan.compare import Comparison, OfferResult
from infercost.report.plan_charts import write_html


def _label(r: OfferResult) -> str:
    return r.offer.id + (" (stale)" if r.stale else "")


def compare_figure(comparison: Comparison) -> go.Figure:
    """Horizontal bars of $/M output at each offer's best configuration, cheapest on top.

    Offers whose GPU cannot serve the model are left out of the bars (they have no cost) and
    listed in the subtitle count. Hover text names the configuration, the price and why the
    offer lost.
    """
    rows = [r for r in comparison.results if r.usd_per_m_output is not None]
    rows.reverse()  # plotly draws the first category at the bottom
    gpus = sorted({r.offer.gpu for r in rows})
    fig = go.Figure()
    for gpu in gpus:
        mine = [r for r in rows if r.offer.gpu == gpu]
        fig.add_trace(
            go.Bar(
                name=gpu,
                orientation="h",
                x=[r.usd_per_m_output for r in mine],
                y=[_label(r) for r in mine],
                hovertext=[
                    f"{r.config.num_gpus}x {gpu} {r.config.weight_dtype}, batch "
                    f"{r.config.prediction.concurrency}; ${r.usd_per_gpu_hour:.2f}/used GPU-h; "
                    f"{r.why}; {r.offer.source}, as of {r.offer.as_of}"
                    if r.config is not None and r.usd_per_gpu_hour is not None
                    else r.why
                    for r in mine
                ],
                hoverinfo="x+text",
            )
        )
    target = []
    if comparison.max_tpot_s is not None:
        target.append(f"TPOT ≤ {comparison.max_tpot_s * 1000:.0f} ms")
    if comparison.max_ttft_s is not None:
        target.append(f"TTFT ≤ {comparison.max_ttft_s:.2f} s")
    missing = len(comparison.results) - len(rows)
    fig.update_layout(
        title=(
            f"{comparison.model}: $/M output tokens by offer (isl {comparison.isl}, osl "
            f"{comparison.osl}; {', '.join(target) or 'max throughput'}"
            + (f"; {missing} offers cannot serve it" if missing else "")
            + ")"
        ),
        xaxis_title="US$ per million output tokens (best configuration per offer)",
        barmode="overlay",
        height=max(400, 22 * len(rows) + 150),
        yaxis={"categoryorder": "array", "categoryarray": [_label(r) for r in rows]},
    )
    return fig


def write_compare_html(comparison: Comparison, path: Path) -> Path:
    """Write the chart as a self-contained HTML file (plotly.js inlined; no network),
    atomically.

    Raises:
        InputError: the folder does not exist or is not writable.
    """
    return write_html(compare_figure(comparison), path)
