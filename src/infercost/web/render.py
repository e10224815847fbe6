"""HTML building blocks for the pages: the layout, the form, number cards, tables and
embedded plotly figures. Every value is escaped; nothing here computes a figure."""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

#: (path, title) of every page, in the navigation's order.
PAGES: tuple[tuple[str, str], ...] = (
    ("/predict", "Predict"),
    ("/compare", "Compare GPUs"),
    ("/search", "Cheapest under SLO"),
    ("/breakeven", "Self-host vs API"),
    ("/fleet", "Fleet"),
    ("/simulate", "Simulate"),
    ("/usage", "Usage"),
)


def esc(value: object) -> str:
    """HTML-escaped text of ``value``."""
    return html.escape(str(value), quote=True)


def fmt(value: Any, digits: int = 4) -> str:
    """A number as people read it: ``12,345``, ``0.0421``, ``1.2e+09``; '-' for None."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value != 0 and (abs(value) >= 1e7 or abs(value) < 1e-3):
            return f"{value:.3g}"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.{digits}g}"
    return str(value)


@dataclass(frozen=True, slots=True)
class Field:
    """One form input: query name, label, default used when the URL does not set it.

    ``example_only``: the default belongs to the page's worked example (shown on a bare
    page); a URL with other inputs that leaves this one out gets the library's default, as
    the CLI and the API would (e.g. ``tp``). ``unless``: an input whose presence in the URL
    drops this default (``concurrency`` unless ``max_throughput``: predict takes one of the
    two).
    """

    name: str
    label: str
    default: str = ""
    kind: str = "text"  # text | number | checkbox
    hint: str = ""
    example_only: bool = False
    unless: str | None = None  # the default is not applied when the URL sets this input


def form(fields: Sequence[Field], values: dict[str, str], action: str) -> str:
    """A GET form: submitting it puts the whole state in the URL."""
    parts = [f'<form class="inputs" method="get" action="{esc(action)}" id="inputs">']
    for f in fields:
        value = values.get(f.name, "" if f.example_only and values else f.default)
        if f.kind == "checkbox":
            checked = " checked" if value in ("true", "on", "1") else ""
            parts.append(
                f'<label>{esc(f.label)}<input type="checkbox" name="{esc(f.name)}" '
                f'value="true"{checked}></label>'
            )
            continue
        mode = ' inputmode="decimal"' if f.kind == "number" else ""
        parts.append(
            f'<label>{esc(f.label)}<input name="{esc(f.name)}" value="{esc(value)}"'
            f'{mode} placeholder="{esc(f.hint)}"></label>'
        )
    parts.append('<button type="submit" id="submit">Compute</button></form>')
    return "".join(parts)


def card(key: str, label: str, value: Any, unit: str = "", band: str = "") -> str:
    """A number card; ``data-key`` and ``data-value`` hold the exact JSON value for tests."""
    raw = esc(json.dumps(value))
    extra = f'<div class="band">{esc(band)}</div>' if band else ""
    return (
        f'<div class="card" data-key="{esc(key)}" data-value="{raw}">'
        f'<div class="label">{esc(label)}</div>'
        f'<div class="value">{esc(fmt(value))} <small>{esc(unit)}</small></div>{extra}</div>'
    )


def cards(items: Iterable[str]) -> str:
    """A grid of :func:`card` blocks."""
    return '<div class="cards">' + "".join(items) + "</div>"


def table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[bool] = (),
    table_id: str = "",
) -> str:  # fmt: skip
    """A plain table (numbers right-aligned where ``numeric``), scrolling on a phone."""
    ident = f' id="{esc(table_id)}"' if table_id else ""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, v in enumerate(row):
            cls = ' class="num"' if i < len(numeric) and numeric[i] else ""
            text = v if isinstance(v, Raw) else esc(fmt(v))
            cells.append(f"<td{cls}>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<div class="scroll"><table{ident}><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


class Raw(str):
    """Already-escaped HTML for a table cell."""


def figure(fig: go.Figure, ident: str) -> str:
    """A chart placeholder and its figure as JSON (drawn by ``static/app.js``)."""
    data = fig.to_json().replace("</", "<\\/")
    return (
        f'<div class="chart" id="{esc(ident)}" data-figure="{esc(ident)}-data"></div>'
        f'<script type="application/json" id="{esc(ident)}-data">{data}</script>'
    )


def page(title: str, path: str, body: str, lead: str = "") -> str:
    """The whole document: navigation, the page's body, plotly and the drawing script."""
    nav = "".join(
        f'<a href="{p}"{" class=here" if p == path else ""}>{esc(t)}</a>' for p, t in PAGES
    )
    intro = f'<p class="lead">{esc(lead)}</p>' if lead else ""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)} · infercost</title>"
        '<link rel="icon" href="data:,"><link rel="stylesheet" href="/static/style.css">'
        '<script src="/static/plotly.min.js"></script></head><body>'
        f'<header><a class="brand" href="/">infercost</a><nav>{nav}'
        '<a href="/docs">API</a></nav></header>'
        f"<main><h1>{esc(title)}</h1>{intro}{body}</main>"
        "<footer>Every number on this page comes from the infercost library; the same "
        "request as JSON: add <code>format=json</code> to the URL, or use the REST API.</footer>"
        '<script src="/static/app.js"></script></body></html>'
    )


def error_box(message: str) -> str:
    """The user's mistake, in the library's words."""
    return f'<div class="error" id="error" role="alert">{esc(message)}</div>'
