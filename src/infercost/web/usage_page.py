"""The ``/usage`` dashboard: cost by dimension, unusual hours and the month-end forecast of
the service's ledger (``infercost serve --ledger FILE``), from the same request models and
``run_usage_*`` functions as ``/api/usage/...``. The ledger path comes from the service's
settings, never from the URL."""

from __future__ import annotations

from functools import partial
from typing import Any

from infercost.api.respond import compute
from infercost.api.usage import (
    NO_LEDGER,
    UsageAnomaliesRequest,
    UsageForecastRequest,
    UsageReportRequest,
    run_usage_anomalies,
    run_usage_forecast,
    run_usage_report,
)
from infercost.errors import InfercostError, InputError
from infercost.report.usage_charts import (
    anomalies_figure,
    forecast_figure,
    report_figure,
    spend_over_time_figure,
)
from infercost.web.render import Field, card, cards, esc, figure, table

#: Key under which the page handler passes the service's ledger path (any URL value of it is
#: dropped first).
LEDGER_KEY = "__ledger__"

USAGE_FIELDS = (
    Field("by", "Group by", "team", hint="team, app, model, api_key, day, tag:NAME"),
    Field("from", "From", "", hint="2025-08-01"),
    Field("to", "To", "", hint="exclusive"),
    Field("budget_usd", "Monthly budget $", "", "number", "none"),
)


def _period(values: dict[str, str]) -> dict[str, str]:
    return {k: values[k] for k in ("from", "to") if values.get(k)}


def usage_page(values: dict[str, str]) -> tuple[dict[str, Any], str]:
    """Spend by ``by`` with its chart and table, the unusual hours with their drivers, and
    the forecast of the ledger's last month (a forecast that cannot be made is a note, not an
    error of the page).

    Raises:
        InputError: no ledger configured, or a bad input (the API's message).
    """
    ledger = values.get(LEDGER_KEY) or ""
    if not ledger:
        raise InputError(NO_LEDGER)
    period = _period(values)
    rep_req = UsageReportRequest.model_validate({"by": values.get("by", "team"), **period})
    report, rep = compute(partial(run_usage_report, ledger=ledger), rep_req)
    an, anomalies = compute(
        partial(run_usage_anomalies, ledger=ledger), UsageAnomaliesRequest.model_validate(period)
    )
    fc_req = UsageForecastRequest.model_validate(
        {"budget_usd": values["budget_usd"]} if values.get("budget_usd") else {}
    )
    try:
        fc, forecast = compute(partial(run_usage_forecast, ledger=ledger), fc_req)
    except InfercostError as err:
        fc, forecast = None, {"error": str(err)}
    body = cards(
        [
            card("total_usd", "Total spend", float(rep["total_usd"]), "US$"),
            card("requests", "Requests", sum(r["requests"] for r in rep["rows"])),
            card("anomalies", "Unusual hours", len(anomalies["anomalies"])),
            card("month_end_usd", "Month-end forecast",
                 float(forecast["month_end_usd"]) if "month_end_usd" in forecast else None,
                 "US$"),
        ]
    )  # fmt: skip
    body += figure(report_figure(report), "chart-usage-report")
    by = values.get("by", "team")
    if "," not in by and by not in ("day", "hour"):
        daily = UsageReportRequest.model_validate({"by": f"day,{by}", **period})
        over_time, _ = compute(partial(run_usage_report, ledger=ledger), daily)
        body += figure(spend_over_time_figure(over_time), "chart-usage-over-time")
    body += table(
        [*rep["by"], "US$", "requests", "input tokens", "cached", "output tokens"],
        [
            [*(v if v is not None else "-" for v in r["key"].values()), float(r["usd"]),
             r["requests"], r["input_tokens"], r["cached_input_tokens"], r["output_tokens"]]
            for r in rep["rows"]
        ],
        [False] * len(rep["by"]) + [True] * 5, "usage-rows",
    )  # fmt: skip
    for u in rep["unpriced"]:
        body += f'<p class="warn">unpriced: {u["rows"]:,} rows: {esc(u["reason"])}</p>'
    body += "<h2>Unusual hours</h2>"
    if anomalies["anomalies"]:
        items = "".join(f"<li>{esc(a['message'])}</li>" for a in anomalies["anomalies"][:10])
        body += f'<ul id="anomalies">{items}</ul>'
        body += figure(anomalies_figure(an), "chart-usage-anomalies")
    else:
        body += "<p>No hour left its usual range.</p>"
    body += "<h2>Month-end forecast</h2>"
    if fc is not None:
        body += figure(forecast_figure(fc), "chart-usage-forecast")
    else:
        body += f"<p>{esc(forecast['error'])}</p>"
    return {"report": rep, "anomalies": anomalies, "forecast": forecast}, body
