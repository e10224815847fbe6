"""The web app's pages: ``GET /<page>?<inputs>`` renders the same library result that the
matching ``/api/<command>`` returns as JSON (``&format=json`` returns that JSON), so a link
reproduces the page. The inputs become the API's request models, so a page validates and
errs exactly as the endpoint does."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from plotly.subplots import make_subplots
from pydantic import BaseModel, ValidationError

from infercost.api.economics import CompareRequest, run_compare
from infercost.api.errors import validation_message
from infercost.api.plan import (
    FLEET_DOMAINS,
    BreakevenRequest,
    FleetRequest,
    SearchRequest,
    run_breakeven,
    run_fleet,
    run_search,
)
from infercost.api.predict import PredictRequest, run_predict
from infercost.api.respond import compute
from infercost.api.schema import LIMITS
from infercost.api.simulate import SimulateRequest, run_simulate
from infercost.catalog.names import closest
from infercost.catalog.pricing import STALE_AFTER_DAYS
from infercost.errors import InfercostError, InputError
from infercost.explain import readable
from infercost.report.charts_cost import compare_figure
from infercost.report.cost_tables import USD_PER_M_OUTPUT_SPLIT
from infercost.report.plan_charts import breakeven_figure, fleet_figure, search_figure
from infercost.report.plan_tables import USD_PER_M_ALL
from infercost.web.render import (
    PAGES,
    Field,
    Raw,
    card,
    cards,
    error_box,
    esc,
    example_values,
    figure,
    fmt,
    form,
    inputs_rule,
    page,
    table,
)
from infercost.web.usage_page import LEDGER_KEY, USAGE_FIELDS, usage_page

router = APIRouter(include_in_schema=False)

#: Page inputs that are comma-separated lists in the URL.
LIST_INPUTS = frozenset({"gpu_list", "weight_dtypes", "rates"})
#: Rates one simulate page may sweep.
MAX_RATES = 8


def parse(model: type[BaseModel], values: dict[str, Any]) -> Any:
    """``values`` (URL strings) as ``model``, keeping only its fields.

    Raises:
        InputError: what is wrong, named as the API names it.
    """
    known = {k: v for k, v in values.items() if k in model.model_fields}
    try:
        return model.model_validate(known, strict=False)  # URL values are strings
    except ValidationError as err:
        raise InputError(validation_message(err.errors())) from None


def _floats(text: str, name: str) -> list[float]:
    try:
        return [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise InputError(f"{name} must be comma-separated numbers, got {text!r}.") from None


def _names(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


Result = tuple[dict[str, Any], str]


# ---------------------------------------------------------------------------------- predict
PREDICT_FIELDS = (
    Field("model", "Model", "llama-3.1-70b"),
    Field("gpu", "GPU", "H100"),
    Field("num_gpus", "GPUs", "", "number", "dp x tp x pp"),
    Field("tp", "Tensor parallel", "2", "number", "auto"),
    Field("dp", "Data parallel", "", "number", "1"),
    Field("ep", "Expert parallel", "", "number", "1"),
    Field("weight_dtype", "Weights", "", hint="checkpoint"),
    Field("kv_dtype", "KV cache", "auto"),
    Field("isl", "Input tokens", "1000", "number"),
    Field("osl", "Output tokens", "300", "number"),
    # predict takes one of the two (the CLI's "Give exactly one of ...")
    Field("concurrency", "Concurrency", "16", "number", "or max throughput"),
    Field("max_throughput", "Max throughput", "", "checkbox"),
    Field("fixed_lengths", "Fixed lengths (lockstep waves)", "", "checkbox"),
    Field("engine", "Engine", "vllm"),
    Field("gpu_hour_usd", "$/GPU-hour", "", "number", "catalog offer"),
)

_BANDED = (("ttft_s", "TTFT", 1e3), ("tpot_s", "TPOT", 1e3), ("e2e_s", "E2E", 1.0))


def predict_page(values: dict[str, str]) -> Result:
    """One prediction with its error bands and the explain trail."""
    req = parse(PredictRequest, {**values, "explain": True})
    result, data = compute(run_predict, req)
    band = data["error_band"] or {}
    if not data["fits"]:
        body = error_box(f"{data['model']} on {data['num_gpus']}x {data['gpu']}: {data['reason']}")
    else:
        body = ""

    def pm(key: str) -> str:
        return f"± {band[key]:.0%} (held-out error)" if isinstance(band.get(key), float) else ""

    body += cards(
        [
            card("output_tok_s", "Output tokens/s (replica)", data["output_tok_s"], "tok/s",
                 pm("output_tok_s")),
            card("output_tok_s_per_gpu", "Output tokens/s per GPU", data["output_tok_s_per_gpu"],
                 "tok/s"),
            card("ttft_s", "TTFT", data["ttft_s"], "s", pm("ttft_s")),
            card("tpot_s", "TPOT", data["tpot_s"], "s", pm("tpot_s")),
            card("e2e_s", "End to end", data["e2e_s"], "s", pm("e2e_s")),
            card("usd_per_m_input", "$/M input", data["usd_per_m_input"], "US$"),
            card("usd_per_m_output", "$/M output", data["usd_per_m_output"], "US$"),
            card("usd_per_m_blended", "$/M blended", data["usd_per_m_blended"], "US$"),
            card("usd_per_gpu_hour", "$/GPU-hour", data["usd_per_gpu_hour"], "US$"),
            card("max_concurrency", "Max concurrency (KV)", data["max_concurrency"], "seqs"),
        ]
    )  # fmt: skip
    if data["price_source"]:
        body += f'<p id="price-source">Price: {esc(data["price_source"])}</p>'
    notes = getattr(result, "notes", ())
    if notes:  # what the CLI prints as note: lines (assumptions, queueing, KV rules)
        body += '<ul id="notes">' + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>"
    if data["fits"]:
        names = [f"{label} ({'ms' if scale > 1 else 's'})" for _, label, scale in _BANDED]
        ys = [data[k] * scale for k, _, scale in _BANDED]
        errs = [data[k] * scale * float(band.get(k) or 0.0) for k, _, scale in _BANDED]
        fig = go.Figure(
            go.Bar(x=names, y=ys, error_y={"type": "data", "array": errs, "visible": True},
                   marker_color="#2256c7", hovertemplate="%{x}: %{y:.4g}<extra></extra>")
        )  # fmt: skip
        fig.update_layout(
            title=f"Latency with held-out error bands: {data['model']} on {data['num_gpus']}x "
            f"{data['gpu']} at concurrency {data['concurrency']}",
            margin={"l": 50, "r": 20, "t": 60, "b": 40},
        )
        body += figure(fig, "chart-latency")
    trail = data["explain"] or []
    body += "<h2>How each figure was derived</h2>" + table(
        ["term", "value", "formula", "source"],
        [(t["name"], readable(t["value"], t["unit"]), t["formula"], t["source"]) for t in trail],
        [False, True],
        "explain",
    )
    return data, body


# ---------------------------------------------------------------------------------- compare
def _as_of(row: dict[str, Any]) -> Raw:
    """An offer's date, marked STALE as ``compare-gpus`` marks it."""
    mark = ' <span class="stale">STALE</span>' if row["stale"] else ""
    return Raw(esc(row["as_of"]) + mark)


COMPARE_FIELDS = (
    Field("model", "Model", "llama-3.1-8b"),
    Field("isl", "Input tokens", "1000", "number"),
    Field("osl", "Output tokens", "300", "number"),
    Field("max_tpot_ms", "Max TPOT (ms)", "50", "number", "none"),
    Field("max_ttft_s", "Max TTFT (s)", "", "number", "none"),
    Field("engine", "Engine", "vllm"),
    Field("allow_spot", "Spot offers", "", "checkbox"),
)


def compare_page(values: dict[str, str]) -> Result:
    """Every offer's $/M output at its best configuration, and why each lost."""
    req = parse(CompareRequest, values)
    result, data = compute(run_compare, req)
    rows = data["results"]
    best = next((r for r in rows if r["usd_per_m_output"] is not None), None)
    flag = ""
    if best is not None:  # the headline says how old its price is, as the table does
        flag = f"as of {best['as_of']}" + (
            f" STALE: older than {STALE_AFTER_DAYS} days" if best["stale"] else ""
        )
    body = cards(
        [
            card("best_offer", "Cheapest offer", best["offer"] if best else None, band=flag),
            card("best_usd_per_m_output", USD_PER_M_OUTPUT_SPLIT,
                 best["usd_per_m_output"] if best else None, "US$"),
            card("best_gpu", "GPU", best["gpu"] if best else None),
            card("offers", "Offers compared", len(rows)),
        ]
    )  # fmt: skip
    body += figure(compare_figure(result), "chart-compare")
    body += table(
        ["#", "offer", "GPU", "kind", "GPUs", "weights", "$/GPU-h", "$/M in",
         USD_PER_M_OUTPUT_SPLIT, "why it lost", "as of"],
        [(r["rank"], r["offer"], r["gpu"], r["pricing_kind"], r["num_gpus"], r["weight_dtype"],
          r["usd_per_gpu_hour"], r["usd_per_m_input"], r["usd_per_m_output"], r["why"],
          _as_of(r)) for r in rows],
        [True, False, False, False, True, False, True, True, True],
        "offers",
    )  # fmt: skip
    notes = [data["precision_note"], data.get("engine_note")]
    stale = sum(1 for r in rows if r["stale"])
    if stale:  # the CLI's footnote
        notes.append(
            f"{stale} of {len(rows)} offer prices are older than {STALE_AFTER_DAYS} days "
            "(STALE); sources: infercost offers."
        )
    items = "".join(f"<li>{esc(n)}</li>" for n in notes if n)
    if items:
        body += f'<ul id="notes">{items}</ul>'
    return data, body


# ----------------------------------------------------------------------------------- search
SEARCH_FIELDS = (
    Field("model", "Model", "llama-3.1-70b"),
    Field("isl", "Input tokens", "1000", "number"),
    Field("osl", "Output tokens", "300", "number"),
    Field("max_ttft_s", "Max TTFT (s)", "2", "number", "none"),
    Field("max_tpot_ms", "Max TPOT (ms)", "50", "number", "none"),
    Field("gpu_list", "GPUs (comma-separated)", "", hint="all"),
    Field("weight_dtypes", "Weight dtypes", "", hint="checkpoint + catalog"),
    Field("max_gpus", "Max GPUs/replica", "8", "number", "8"),
    Field("engine", "Engine", "vllm"),
)


def search_page(values: dict[str, str]) -> Result:
    """Cheapest configuration under the SLO, the priced frontier and each GPU's verdict."""
    args: dict[str, Any] = {**values, "gpu": _names(values.get("gpu_list")),
                            "weight_dtypes": _names(values.get("weight_dtypes"))}  # fmt: skip
    req = parse(SearchRequest, {k: v for k, v in args.items() if v is not None})
    outcome, data = compute(run_search, req)
    w = data["winner"] or {}
    body = ""
    if not w:
        body += error_box("No configuration meets the targets; see why each GPU lost below.")
    body += cards(
        [
            card("winner_gpu", "Winner", w.get("gpu")),
            card("winner_num_gpus", "GPUs per replica", w.get("num_gpus")),
            card("winner_weight_dtype", "Weights", w.get("weight_dtype")),
            card("winner_concurrency", "Concurrency", w.get("concurrency")),
            # the ranking metric, as plan search and the chart show it; then the split
            card("winner_usd_per_m_output_incl_input", USD_PER_M_ALL,
                 w.get("usd_per_m_output_incl_input"), "US$"),
            card("winner_usd_per_m_output", USD_PER_M_OUTPUT_SPLIT, w.get("usd_per_m_output"),
                 "US$"),
            card("winner_tpot_s", "TPOT", w.get("tpot_s"), "s"),
            card("winner_ttft_s", "TTFT", w.get("ttft_s"), "s"),
            card("candidates_evaluated", "Configurations evaluated", data["candidates_evaluated"]),
        ]
    )  # fmt: skip
    body += figure(search_figure(outcome.result), "chart-search")
    body += "<h2>Why each GPU lost</h2>" + table(
        ["GPU", "verdict", "detail", "cost vs winner"],
        [(f["gpu"], f["constraint"], f["detail"], f.get("cost_ratio")) for f in data["families"]],
        [False, False, False, True],
        "families",
    )
    return data, body


# -------------------------------------------------------------------------------- breakeven
BREAKEVEN_FIELDS = (
    Field("model", "Model", "llama-3.1-8b", hint="or the simple figures"),
    Field("gpu", "GPU", "H100"),
    Field("api_model", "API model", "gpt-4o-mini"),
    Field("isl", "Input tokens", "1000", "number", "1000"),
    Field("osl", "Output tokens", "300", "number", "300"),
    Field("ops_usd_per_month", "Ops $/month", "5000", "number", "0"),
    Field("max_tpot_ms", "Max TPOT (ms)", "", "number", "none"),
    Field("gpu_hour_usd", "$/GPU-hour", "", "number", "catalog offer"),
    # simple mode (``plan breakeven --api-input-usd-per-m ... --tok-s ...``): leave the
    # model, GPU and API model empty
    Field("api_input_usd_per_m", "API $/M input", "", "number", "simple mode"),
    Field("api_output_usd_per_m", "API $/M output", "", "number", "simple mode"),
    Field("input_share", "Input share of tokens", "", "number", "simple mode"),
    Field("tok_s", "Replica tok/s", "", "number", "simple mode"),
)

#: Multiples of the ops cost shown in the sensitivity table.
OPS_MULTIPLES = (0.0, 0.5, 1.0, 2.0, 4.0)


def breakeven_page(values: dict[str, str]) -> Result:
    """Monthly cost curves over volume and the break-even volume's sensitivity to ops cost."""
    req = parse(BreakevenRequest, values)
    result, data = compute(run_breakeven, req)
    body = cards(
        [
            card("breakeven_tokens_per_day", "Break-even tokens/day",
                 data["breakeven_tokens_per_day"], "tok/day"),
            card("self_host_cheaper_from_tokens_per_day", "Self-host stays cheaper from",
                 data["self_host_cheaper_from_tokens_per_day"], "tok/day"),
            card("api_blended_usd_per_m", "API $/M (blended)", data["api_blended_usd_per_m"],
                 "US$"),
            card("self_host_usd_per_m_full_load", "Self-host $/M at full load",
                 data["self_host_usd_per_m_full_load"], "US$"),
            card("replica_usd_per_month", "Replica $/month", data["replica_usd_per_month"],
                 "US$"),
        ]
    )  # fmt: skip
    body += f"<p>{esc(data['description'])}</p>"
    if data["assumptions"]:
        items = "".join(f"<li>{esc(a)}</li>" for a in data["assumptions"])
        body += f'<p>Assumed (not given):</p><ul class="assumptions">{items}</ul>'
    if len(data["ranges"]) > 1:
        spans = " and ".join(
            f"{r['from_tokens_per_day']:,.0f}–{r['to_tokens_per_day']:,.0f}"
            if r["to_tokens_per_day"] is not None
            else f"from {r['from_tokens_per_day']:,.0f} up"
            for r in data["ranges"]
        )
        body += (
            "<p>Whole replicas make the costs cross more than once: self-hosting is cheaper "
            f"at {esc(spans)} tokens/day, the API in between.</p>"
        )
    body += figure(breakeven_figure(result), "chart-breakeven")
    # multiples of the ops cost given; with none (the library's 0), of one replica's cost
    if req.ops_usd_per_month > 0:
        base, of = req.ops_usd_per_month, "the ops cost given"
    else:
        base, of = data["replica_usd_per_month"], "one replica's $/month (no ops cost given)"
    rows = []
    for m in OPS_MULTIPLES:
        _, d = compute(run_breakeven, req.model_copy(update={"ops_usd_per_month": base * m}))
        rows.append((base * m, d["breakeven_tokens_per_day"], d["breakeven_tokens_per_month"]))
    sens = go.Figure(
        go.Scatter(x=[r[0] for r in rows], y=[r[1] for r in rows], mode="lines+markers",
                   hovertemplate="ops $%{x:,.0f}/month: %{y:.3s} tokens/day<extra></extra>")
    )  # fmt: skip
    sens.update_layout(
        title="Break-even volume vs people/operations cost",
        xaxis_title="ops US$/month",
        yaxis_title="break-even tokens/day",
        margin={"l": 60, "r": 20, "t": 50, "b": 50},
    )
    body += figure(sens, "chart-ops")
    scale = ", ".join(f"{m:g}" for m in OPS_MULTIPLES)
    body += f'<p id="ops-scale">Ops cost at {esc(scale)} x {esc(of)}, ${base:,.0f}/month.</p>'
    body += table(
        ["ops $/month", "break-even tokens/day", "tokens/month"], rows, [True, True, True], "ops"
    )
    return data, body


# ------------------------------------------------------------------------------------ fleet
FLEET_FIELDS = (
    Field("model", "Model", "llama-3.1-8b"),
    Field("gpu", "GPU", "H100"),
    Field("isl", "Input tokens", "1000", "number"),
    Field("osl", "Output tokens", "300", "number"),
    Field("output_tokens_per_day", "Output tokens/day", "2e9", "number", "or requests/day"),
    Field("requests_per_day", "Requests/day", "", "number", "or output tokens/day"),
    Field("peak_to_average", "Peak ÷ average", "2.5", "number", "flat"),
    Field("max_tpot_ms", "Max TPOT (ms)", "50", "number", "none"),
    Field("headroom", "Headroom", "0.3", "number", "0.3"),
    Field("growth_per_month", "Growth/month", "0", "number", "0"),
    Field("months", "Months ahead", "0", "number", "0"),
)


def fleet_page(values: dict[str, str]) -> Result:
    """Replicas over the day, static vs autoscaled cost and the reserved/on-demand/spot mix."""
    req = parse(FleetRequest, values)
    plan, data = compute(run_fleet, req, FLEET_DOMAINS)
    mix = data["mix"] or {}
    body = cards(
        [
            card("static_replicas", "Replicas (static)", data["static_replicas"]),
            card("autoscaled_peak_replicas", "Peak replicas (autoscaled)",
                 data["autoscaled_peak_replicas"]),
            card("static_usd_per_month", "Static $/month", data["static_usd_per_month"], "US$"),
            card("autoscaled_usd_per_month", "Autoscaled $/month",
                 data["autoscaled_usd_per_month"], "US$"),
            card("mix_usd_per_month", "Best mix $/month", mix.get("usd_per_month"), "US$"),
            card("static_utilization", "Utilisation (static)", data["static_utilization"]),
        ]
    )  # fmt: skip
    body += f"<p>Replica: {esc(data['replica']['description'])}</p>"
    if data["assumptions"]:
        items = "".join(f"<li>{esc(a)}</li>" for a in data["assumptions"])
        body += f'<p>Assumed (not given):</p><ul class="assumptions">{items}</ul>'
    body += figure(fleet_figure(plan), "chart-fleet")
    return data, body


# --------------------------------------------------------------------------------- simulate
SIMULATE_FIELDS = (
    Field("model", "Model", "llama-3.1-8b"),
    Field("gpu", "GPU", "H100"),
    Field("tp", "Tensor parallel", "1", "number", "auto"),
    Field("isl", "Input tokens", "1000", "number"),
    Field("osl", "Output tokens", "300", "number"),
    Field("rates", "Rates (req/s)", "2,8,16,32", hint="required"),
    Field("num_requests", "Requests per rate", "300", "number", "2000"),
    Field("length_dist", "Lengths", "fixed", hint="fixed, normal, lognormal"),
    Field("seed", "Seed", "0", "number", "0"),
)


def _lat(res: dict[str, Any], metric: str) -> dict[str, float]:
    """A run's percentiles of ``metric``; an OVERLOADED run's are under ``unstable_latency``
    (measured, but they grow with the run's length)."""
    stats = res[metric] or (res.get("unstable_latency") or {}).get(metric)
    return stats or {"p50": float("nan"), "p99": float("nan")}


def simulate_page(values: dict[str, str]) -> Result:
    """Latency percentiles against the request rate; OVERLOADED rates marked."""
    # ``rates`` is the page's sweep; one ``rate`` (the CLI's and the API's name) is a sweep
    # of one
    rates = _floats(values.get("rates") or values.get("rate") or "", "rates")
    if not rates or len(rates) > MAX_RATES:
        raise InputError(f"rates: give 1 to {MAX_RATES} comma-separated rates (req/s).")
    reqs = [parse(SimulateRequest, {**values, "rate": rate}) for rate in rates]
    n = reqs[0].num_requests
    if n is None and reqs[0].duration is None:  # run_simulate's defaults
        n = 10 * reqs[0].concurrency if reqs[0].concurrency is not None else 2000
    if n is not None and n * len(rates) > LIMITS.max_sim_requests:
        raise InputError(
            f"rates x num_requests = {n * len(rates):,} simulated requests; the page runs at "
            f"most {LIMITS.max_sim_requests:,} (fewer rates or requests)."
        )
    runs = []
    for req in reqs:
        _, d = compute(run_simulate, req)
        runs.append(d)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("TTFT (s)", "TPOT (ms)"))
    for metric, col, scale in (("ttft_s", 1, 1.0), ("tpot_s", 2, 1e3)):
        for q, dash in (("p50", "dot"), ("p99", "solid")):
            fig.add_trace(
                go.Scatter(x=rates, y=[_lat(r["result"], metric)[q] * scale for r in runs],
                           mode="lines+markers", name=f"{metric[:4].upper()} {q}",
                           line={"dash": dash}),
                row=1, col=col,
            )  # fmt: skip
        bad = [(x, r) for x, r in zip(rates, runs, strict=True) if r["result"]["overloaded"]]
        if bad:
            fig.add_trace(
                go.Scatter(x=[x for x, _ in bad],
                           y=[_lat(r["result"], metric)["p99"] * scale for _, r in bad],
                           mode="markers+text", text=["OVERLOADED"] * len(bad),
                           # left of the point and unclipped: the highest rate sits on the
                           # plot's right edge, where a centred label was cut off
                           textposition="top left", cliponaxis=False,
                           marker={"color": "#b3261e", "size": 12, "symbol": "x"},
                           name="OVERLOADED", showlegend=col == 1),
                row=1, col=col,
            )  # fmt: skip
    fig.update_xaxes(title_text="request rate (req/s)")
    fig.update_layout(
        title=f"{runs[0]['model']} on {runs[0]['num_gpus']}x {runs[0]['gpu']}: latency vs rate",
        margin={"l": 50, "r": 20, "t": 70, "b": 50},
    )
    rows = []
    for rate, r in zip(rates, runs, strict=True):
        res = r["result"]
        state = (
            Raw('<span class="overloaded">OVERLOADED</span>')
            if res["overloaded"]
            else Raw('<span class="fine">stable</span>')
        )
        ttft, tpot = _lat(res, "ttft_s"), _lat(res, "tpot_s")
        rows.append((rate, state, res["completed"], ttft["p50"], ttft["p99"], tpot["p50"],
                     tpot["p99"], res["output_tok_s"], res["sustainable_rate_req_s"]))  # fmt: skip
    last = runs[-1]["result"]
    body = cards(
        [
            card("last_ttft_p99_s", f"p99 TTFT at {fmt(rates[-1])} req/s",
                 _lat(last, "ttft_s")["p99"], "s"),
            card("last_tpot_p99_s", f"p99 TPOT at {fmt(rates[-1])} req/s",
                 _lat(last, "tpot_s")["p99"], "s"),
            card("overloaded_rates", "Overloaded rates",
                 sum(1 for r in runs if r["result"]["overloaded"])),
        ]
    )  # fmt: skip
    body += figure(fig, "chart-simulate")
    body += table(
        ["rate req/s", "state", "completed", "TTFT p50 s", "TTFT p99 s", "TPOT p50 s",
         "TPOT p99 s", "output tok/s", "sustainable req/s"],
        rows, [True, False, True, True, True, True, True, True, True], "runs",
    )  # fmt: skip
    return {"rates": rates, "runs": runs}, body


@dataclass(frozen=True, slots=True)
class Page:
    """One page: its inputs and the function that computes and renders it."""

    path: str
    title: str
    lead: str
    fields: tuple[Field, ...]
    run: Callable[[dict[str, str]], Result]
    needs_ledger: bool = False


PAGE_SPECS: tuple[Page, ...] = (
    Page("/predict", "Predict one deployment",
         "Fit, throughput, latency and $/M tokens, with the held-out error of each figure and "
         "the formula trail.", PREDICT_FIELDS, predict_page),
    Page("/compare", "Compare GPUs",
         "Every cloud offer's $/M output at its cheapest configuration, and why each lost.",
         COMPARE_FIELDS, compare_page),
    Page("/search", "Cheapest configuration under an SLO",
         "Every GPU x layout x dtype x concurrency, priced; the cheapest meeting the targets.",
         SEARCH_FIELDS, search_page),
    Page("/breakeven", "Self-host vs API",
         "Monthly cost over volume, the break-even volume, and how it moves with the people "
         "and operations cost.", BREAKEVEN_FIELDS, breakeven_page),
    Page("/fleet", "Fleet plan",
         "Replicas for a daily traffic profile with headroom; static vs autoscaled vs the "
         "cheapest reserved / on-demand / spot mix.", FLEET_FIELDS, fleet_page),
    Page("/simulate", "Simulate under load",
         "Iteration-level simulation at each request rate: latency percentiles, and where the "
         "replica is OVERLOADED.", SIMULATE_FIELDS, simulate_page),
    Page("/usage", "Usage and spend",
         "What the ledger's traffic cost by team, app or model, the hours that left their "
         "usual range and why, and the month-end forecast.", USAGE_FIELDS, usage_page,
         needs_ledger=True),
)  # fmt: skip


def page_inputs(spec: Page, request: Request) -> tuple[dict[str, str], bool]:
    """The inputs a page computes from, and whether they are its worked example.

    The rule, the same on every page: a URL with no inputs (nothing but ``format``) is the
    page's worked example (its fields' ``example`` values). A URL with any input computes
    from exactly the inputs it gives; an empty or absent one is not given, so it takes the
    library's default (the CLI's and the REST API's), and the example never fills it in.
    """
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "format"]
    _check_names(spec, [k for k, _ in query])
    given = {k: v.strip() for k, v in query if v.strip()}
    given.pop(LEDGER_KEY, None)  # the ledger is the service's, never the URL's
    if not query:
        return example_values(spec.fields), True
    return given, False


def _check_names(spec: Page, names: list[str]) -> None:
    """An unknown or repeated query parameter is an error, as an unknown or repeated key is
    for the REST API: a misspelt ``gpu_hour`` must not be dropped in silence.

    Raises:
        InputError: naming the parameter, the closest known one and the page's inputs.
    """
    known = [f.name for f in spec.fields]
    for name in names:
        if name not in known:
            near = closest(name, known, 1)
            hint = f" (did you mean {near[0]}?)" if near else ""
            raise InputError(
                f"Unknown parameter {name!r}{hint}. {spec.path} takes: "
                f"{', '.join(known)}, and format=json."
            )
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError(f"Parameter {twice[0]!r} is given more than once; give it once.")


def _handler(spec: Page) -> Callable[[Request], Any]:
    async def handle(request: Request) -> Response:
        want_json = request.query_params.get("format", "").strip().lower() == "json"
        try:
            values, example = page_inputs(spec, request)
        except InputError as err:
            if want_json:
                return JSONResponse({"error": str(err), "type": type(err).__name__}, 400)
            html = page(spec.title, spec.path, error_box(str(err)), spec.lead)
            return HTMLResponse(html, status_code=400)
        shown = dict(values)
        if spec.needs_ledger:
            values[LEDGER_KEY] = request.app.state.settings.ledger or ""
        try:
            data, body = await request.app.state.runner.call(spec.run, values)
            status = 200
        except InfercostError as err:
            data, body, status = (
                {"error": str(err), "type": type(err).__name__},
                error_box(str(err)),
                400,
            )
        if want_json:
            return JSONResponse(data, status_code=status)
        inputs = form(spec.fields, shown, spec.path) + inputs_rule(example)
        html = page(spec.title, spec.path, inputs + body, spec.lead)
        return HTMLResponse(html, status_code=status)

    handle.__name__ = f"page_{spec.path.strip('/')}"
    handle.__doc__ = f"The {spec.title} page (HTML; JSON with format=json)."
    return handle


for _spec in PAGE_SPECS:
    router.add_api_route(_spec.path, _handler(_spec), methods=["GET"])


@router.get("/")
def index() -> HTMLResponse:
    """The list of pages."""
    items = "".join(
        f'<li><a href="{s.path}">{esc(s.title)}</a>: {esc(s.lead)}</li>' for s in PAGE_SPECS
    )
    body = f'<ul class="pages">{items}</ul><p>REST API: <a href="/docs">/docs</a>.</p>'
    assert len(PAGES) == len(PAGE_SPECS)
    return HTMLResponse(page("What does LLM inference really cost?", "/", body))
