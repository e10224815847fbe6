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
    """One form input: query name, label, and its value in the page's worked example.

    ``example`` is used only when the page is opened with no inputs at all (the worked
    example, shown filled into the form); a request with any input computes from exactly
    the inputs it gives, the library's defaults for the rest (see :func:`inputs_rule`).
    ``hint`` (the placeholder) says what an empty field means.
    """

    name: str
    label: str
    example: str = ""
    kind: str = "text"  # text | number | checkbox
    hint: str = ""


def example_values(fields: Sequence[Field]) -> dict[str, str]:
    """The worked example's inputs: every field with an example value."""
    return {f.name: f.example for f in fields if f.example}


def form(fields: Sequence[Field], values: dict[str, str], action: str) -> str:
    """A GET form showing ``values`` (exactly the inputs computed; empty where absent):
    submitting it puts the whole state in the URL."""
    parts = [f'<form class="inputs" method="get" action="{esc(action)}" id="inputs">']
    for f in fields:
        value = values.get(f.name, "")
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


def inputs_rule(example: bool) -> str:
    """The sentence under the form saying where the page's inputs came from."""
    if example:
        text = (
            "No inputs given: this is the page's worked example, its values filled into the "
            "form. Once the URL carries any input, the page computes from exactly the inputs "
            "given; an empty or absent field takes the library's default, as the CLI and the "
            "REST API do."
        )
    else:
        text = (
            "Computed from exactly the inputs in the URL; an empty or absent field takes the "
            "library's default, as the CLI and the REST API do."
        )
    return f'<p class="rule" id="inputs-rule">{esc(text)}</p>'


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
