"""``GET /docs``: the REST API's documentation as one self-contained HTML page.

FastAPI's default ``/docs`` is Swagger UI, whose JavaScript and CSS load from a CDN
(cdn.jsdelivr.net): on a machine without internet access it is a blank page. This page is
built from the same OpenAPI schema (``/openapi.json``) with nothing fetched from elsewhere:
every endpoint with its summary, description, query parameters and request body fields
(type, default, description). For an interactive client, load ``/openapi.json`` into any
OpenAPI tool that runs locally.
"""

from __future__ import annotations

import html
from typing import Any

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:72rem;margin:1rem auto;padding:0 1rem;"
    "line-height:1.4}table{border-collapse:collapse;width:100%;margin:.4rem 0 1.2rem}"
    "td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}"
    "code{background:#f3f3f3;padding:0 .2rem}h2{margin-top:1.6rem;font-size:1.1rem}"
    ".m{font-weight:bold;font-family:monospace}"
)


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with a ``$ref`` to ``#/components/schemas/...`` followed."""
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        found = spec.get("components", {}).get("schemas", {}).get(ref.rsplit("/", 1)[1], {})
        return found if isinstance(found, dict) else {}
    return schema


def _type(schema: dict[str, Any], spec: dict[str, Any]) -> str:
    """A field's type in a few characters: ``integer``, ``number | null``, ``array of string``."""
    schema = _resolve(schema, spec)
    if "anyOf" in schema:
        return " | ".join(_type(s, spec) for s in schema["anyOf"])
    kind = schema.get("type")
    if kind == "array":
        return "array of " + _type(schema.get("items", {}), spec)
    if "enum" in schema:
        return " | ".join(repr(v) for v in schema["enum"])
    if kind is None and "title" in schema:
        return str(schema["title"])
    return str(kind or "any")


def _fields(rows: list[tuple[str, str, bool, object, str]]) -> str:
    if not rows:
        return ""
    body = "".join(
        f"<tr><td><code>{_e(name)}</code></td><td>{_e(kind)}</td>"
        f"<td>{'yes' if required else ''}</td>"
        f"<td>{'' if default is None else '<code>' + _e(default) + '</code>'}</td>"
        f"<td>{_e(text)}</td></tr>"
        for name, kind, required, default, text in rows
    )
    return (
        "<table><tr><th>field</th><th>type</th><th>required</th><th>default</th>"
        f"<th>description</th></tr>{body}</table>"
    )


def _operation(path: str, method: str, op: dict[str, Any], spec: dict[str, Any]) -> str:
    parts = [
        f'<h2 id="{_e(method + path)}"><span class="m">{_e(method.upper())}</span> '
        f"<code>{_e(path)}</code> {_e(op.get('summary', ''))}</h2>"
    ]
    if op.get("description"):
        parts.append(f"<p>{_e(op['description'])}</p>")
    params = [
        (
            p.get("name", ""),
            _type(p.get("schema", {}), spec),
            bool(p.get("required")),
            p.get("schema", {}).get("default"),
            p.get("description", "") or p.get("schema", {}).get("description", ""),
        )
        for p in op.get("parameters", [])
    ]
    if params:
        parts.append("<p>Query parameters:</p>" + _fields(params))
    content = op.get("requestBody", {}).get("content", {})
    for media, body in content.items():
        schema = _resolve(body.get("schema", {}), spec)
        required = set(schema.get("required", []))
        rows = [
            (
                name,
                _type(prop, spec),
                name in required,
                prop.get("default"),
                prop.get("description", ""),
            )
            for name, prop in schema.get("properties", {}).items()
        ]
        parts.append(f"<p>Body (<code>{_e(media)}</code>):</p>" + _fields(rows))
    return "".join(parts)


def docs_html(spec: dict[str, Any]) -> str:
    """The whole page for the OpenAPI document ``spec`` (no external resources)."""
    info = spec.get("info", {})
    ops = [
        (path, method, op)
        for path, methods in sorted(spec.get("paths", {}).items())
        for method, op in methods.items()
        if isinstance(op, dict)
    ]
    index = "".join(
        f'<li><a href="#{_e(m + p)}"><span class="m">{_e(m.upper())}</span> {_e(p)}</a> '
        f"{_e(op.get('summary', ''))}</li>"
        for p, m, op in ops
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{_e(info.get('title', 'API'))} REST API</title><style>{_STYLE}</style></head>"
        f"<body><h1>{_e(info.get('title', 'API'))} {_e(info.get('version', ''))}: REST API</h1>"
        f"<p>{_e(info.get('description', ''))}</p>"
        '<p>The machine-readable schema is <a href="/openapi.json"><code>/openapi.json</code>'
        "</a> (OpenAPI 3): load it into any OpenAPI tool you run locally for an interactive "
        "client. This page is served without any external script or stylesheet, so it works "
        "offline (the usual Swagger UI loads from a CDN).</p>"
        f"<ul>{index}</ul>{''.join(_operation(p, m, op, spec) for p, m, op in ops)}"
        "</body></html>"
    )
