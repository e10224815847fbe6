"""Rich rendering of a :class:`~infercost.predict.Prediction` (presentation only)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from infercost.explain import readable
from infercost.predict import Prediction
from infercost.report.text import usd_sig, wrapped


def _fmt(value: float | None, scale: float = 1.0, digits: int = 2, unit: str = "") -> str:
    if value is None:
        return "—"
    return f"{value * scale:,.{digits}f}{unit}"


def _usd(value: float | None) -> str:
    """US dollars to three significant figures below $1: $0.00421, $0.127, $1.94, $12.29."""
    if value is None:
        return "—"
    return usd_sig(value)


def render_prediction(p: Prediction, console: Console) -> None:
    """Print the prediction as a two-column table, then the explain trail if present."""
    t = Table(title=f"{p.model} on {p.num_gpus}x {p.gpu} ({p.engine})", show_header=False)
    t.add_column("quantity", style="bold")
    t.add_column("value")
    band = p.error_band or {}

    def b(key: str, value: float | None) -> str:
        """The band beside a figure; none beside a figure there is not (osl 1: no TPOT)."""
        v = band.get(key)
        return f"  ±{v:.0%}" if isinstance(v, float) and value is not None else ""

    rows = [
        (
            "parallelism",
            (f"DP {p.dp} x " if p.dp > 1 else "") + f"TP {p.tp} x PP {p.pp}, EP {p.ep}",
        ),
        ("weights / KV dtype", f"{p.weight_dtype} / {p.kv_dtype}"),
        ("ISL / OSL", f"{p.isl} / {p.osl} tokens"),
        ("concurrency (max KV-limited)", f"{p.concurrency} ({p.max_concurrency})"),
        ("weights per GPU", _fmt(p.weights_bytes_per_gpu, 1e-9, 1, " GB")),
        ("KV cache per token", _fmt(p.kv_bytes_per_token, 1e-3, 1, " kB")),
        (
            "output throughput",
            _fmt(p.output_tok_s, 1, 0, " tok/s") + b("output_tok_s", p.output_tok_s),
        ),
        ("total throughput", _fmt(p.total_tok_s, 1, 0, " tok/s")),
        ("output per GPU", _fmt(p.output_tok_s_per_gpu, 1, 0, " tok/s")),
        ("TTFT", _fmt(p.ttft_s, 1e3, 1, " ms") + b("ttft_s", p.ttft_s)),
        ("TPOT", _fmt(p.tpot_s, 1e3, 1, " ms") + b("tpot_s", p.tpot_s)),
        ("E2E", _fmt(p.e2e_s, 1, 2, " s") + b("e2e_s", p.e2e_s)),
        ("$/GPU-hour", _usd(p.usd_per_gpu_hour)),
        ("$/M input tokens", _usd(p.usd_per_m_input)),
        ("$/M output tokens", _usd(p.usd_per_m_output)),
        ("$/M blended", _usd(p.usd_per_m_blended)),
    ]
    for k, v in rows:
        t.add_row(k, v)
    console.print(t)
    if p.price_source:
        console.print(f"[dim]price: {escape(p.price_source)}[/dim]", highlight=False)
    if band and band.get("calibrated") is False:
        raw_basis = band.get("basis")
        basis_text = raw_basis.get("profile", "") if isinstance(raw_basis, dict) else ""
        console.print(
            "[dim]error band: none for your --profile (uncalibrated: the shipped bands are the "
            "held-out error of the shipped profile, not of this one). "
            + escape(str(basis_text))
            + "[/dim]"
        )
    elif band:
        figures = ", ".join(
            f"{label} ±{band[key]:.0%}"
            for key, label in (
                ("output_tok_s", "throughput"),
                ("ttft_s", "TTFT"),
                ("tpot_s", "TPOT"),
                ("e2e_s", "E2E"),
            )
            if isinstance(band.get(key), float) and getattr(p, key) is not None
        )
        raw_basis = band.get("basis")
        basis: dict[str, Any] = raw_basis if isinstance(raw_basis, dict) else {}
        if not band.get("extrapolating"):
            why = ""
        elif "architecture" in basis or "gpu" in basis:
            reasons = [str(basis[k]) for k in ("gpu", "architecture") if k in basis]
            why = " — extrapolating: " + "; ".join(reasons)
        else:
            why = " — extrapolating: no measurements for this engine and GPU family"
        console.print(
            f"[dim]error band (median held-out calibration error): {figures or 'none'}"
            + escape(why)
            + "[/dim]"
        )
    if p.explain:
        render_explain(p.explain, console)


def render_explain(terms: list[dict[str, Any]], console: Console) -> None:
    """The explain trail: each term's value in readable units (thousands separators, SI in
    brackets, ms for short times; no scientific notation), then its formula and source wrapped
    to the terminal with a hanging indent."""
    width = console.width - 1  # a line exactly as wide as the terminal wraps on some
    console.print("[bold]explain[/bold] (formula trail, in evaluation order)")
    for term in terms:
        shown = readable(term["value"], str(term["unit"]))
        console.print(
            f"  [bold]{escape(str(term['name']))}[/bold] = {escape(shown)}", highlight=False
        )
        for line in wrapped(str(term["formula"]), width, "      "):
            console.print(line, highlight=False, style="dim", markup=False, soft_wrap=True)
        if term["source"]:
            for line in wrapped(str(term["source"]), width, "      source: ", "        "):
                console.print(line, highlight=False, style="dim", markup=False, soft_wrap=True)
