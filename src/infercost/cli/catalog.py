"""``infercost models``, ``infercost gpus`` and ``infercost engines``: list the catalog."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from infercost.catalog import (
    load_engines,
    load_quant_formats,
)
from infercost.cli.numbers import plain
from infercost.report.listings import gpus_rows, models_rows


def register(app: typer.Typer) -> None:
    """Add the catalog listing commands to ``app``."""
    app.command("models", help="List catalogued models with parameter counts and sources.")(models)
    app.command("gpus", help="List catalogued accelerators with figures and sources.")(gpus)
    app.command("engines", help="List engine efficiency profiles.")(engines)
    app.command("dtypes", help="List weight/KV storage formats (bits per weight, sources).")(
        dtypes
    )


def _print_sources(rows: Sequence[Mapping[str, object]]) -> None:
    """One line per entry: id (as of): source."""
    console = Console()
    for r in rows:
        console.print(
            f"[bold]{escape(str(r['id']))}[/bold] ({r['as_of']}): {escape(str(r['source']))}",
            highlight=False,
        )


def models(
    as_json: Annotated[bool, typer.Option("--json")] = False,
    sources: Annotated[bool, typer.Option("--sources", help="Print each entry's source.")] = False,
) -> None:
    """Every catalogued model."""
    rows = models_rows()
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    if sources:
        _print_sources(rows)
        return
    t = Table(title="models (sources: infercost models --sources)")
    for col in ("id", "total B", "active B", "architecture", "dtype"):
        t.add_column(col, overflow="fold")
    for r in rows:
        t.add_row(
            str(r["id"]),
            f"{float(str(r['total_params'])) / 1e9:.1f}",
            f"{float(str(r['active_params'])) / 1e9:.1f}",
            str(r["architecture"]),
            str(r["checkpoint_dtype"]),
        )
    Console().print(t)


def gpus(
    as_json: Annotated[bool, typer.Option("--json")] = False,
    sources: Annotated[bool, typer.Option("--sources", help="Print each entry's source.")] = False,
) -> None:
    """Every catalogued accelerator."""
    rows = gpus_rows()
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    if sources:
        _print_sources(rows)
        return
    t = Table(
        title="accelerators: dense tensor TFLOP/s (blank = unsupported or unpublished); "
        "sources: infercost gpus --sources"
    )
    for col in ("id", "GiB", "TB/s", "bf16", "fp8", "int8", "fp4", "link GB/s", "as of"):
        t.add_column(col, overflow="fold")
    for r in rows:
        f = r["dense_tflop_s"]
        assert isinstance(f, dict)
        t.add_row(
            str(r["id"]),
            f"{r['memory_gib']:.0f}",
            f"{r['mem_bw_tb_s']:.2f}",
            *(f"{f[k]:.0f}" if k in f else "" for k in ("bf16", "fp8", "int8", "fp4")),
            f"{r['interconnect_gb_s_per_direction']:.0f}"
            if r["interconnect_gb_s_per_direction"]
            else "PCIe",
            str(r["as_of"]),
        )
    Console().print(t)


def engines(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every engine profile."""
    rows = [e.model_dump(mode="json") for e in load_engines()]
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    t = Table(title="engine profiles")
    for col in (
        "id",
        "MBU",
        "MFU",
        "W4A16 MoE x MFU",
        "step ms",
        "req ms",
        "SWA KV",
        "mem frac",
        "max seqs",
        "fitted on",
    ):
        t.add_column(col, overflow="fold")
    for e in load_engines():
        t.add_row(
            e.id,
            f"{e.mbu:.2f}",
            f"{e.mfu:.2f}",
            f"{e.expert_dequant_efficiency:.2f}",
            f"{e.step_overhead_s * 1e3:.2f}",
            f"{e.request_overhead_s * 1e3:.1f}",
            e.sliding_window_kv,
            f"{e.usable_memory_fraction:.2f}",
            str(e.max_num_seqs),
            e.fitted_on or "literature defaults",
        )
    Console().print(t)


def dtypes(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every weight/KV storage format with its bits per weight and compute dtype."""
    rows = [f.model_dump(mode="json") for f in load_quant_formats()]
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    t = Table(title="storage formats (--weight-dtype / --kv-dtype)")
    for col in ("id", "bits/weight", "compute", "fallback", "aliases", "source"):
        t.add_column(col, overflow="fold")
    for f in load_quant_formats():
        t.add_row(
            f.id,
            plain(f.bits_per_weight),
            f.compute_dtype
            + (f" (on GPUs with {f.compute_requires})" if f.compute_requires else ""),
            f.fallback_compute_dtype,
            ", ".join(f.aliases),
            f.source[:60],
        )
    Console().print(t)
