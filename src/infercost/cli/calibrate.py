"""``infercost calibrate``: import measurements, measure an endpoint, fit efficiencies.

Commands:

- ``calibrate import FILE``: read a benchmark result file (any format of
  :mod:`infercost.calibrate.importers`) and show its measurements, or print them as JSON.
- ``calibrate run --endpoint URL ...``: closed-loop sweep of an OpenAI-compatible server
  (:mod:`infercost.calibrate.loadgen`), written in the vLLM ``bench serve`` result layout.
- ``calibrate fit``: fit engine efficiencies (cli/calibrate_fit.py, calibrate/fit.py).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.console import Console
from rich.table import Table

from infercost.calibrate.importers import FORMATS, Format, Overrides, detect_format, import_file
from infercost.calibrate.loadgen import Api, LoadgenConfig, run_sweep, write_results
from infercost.calibrate.measurement import Measurement
from infercost.cli.calibrate_fit import register_fit
from infercost.cli.numbers import plain
from infercost.domains import screen_measurements
from infercost.errors import InputError
from infercost.report.files import checked_output_path

calibrate_app = typer.Typer(
    name="calibrate",
    help="Import benchmark results, measure an OpenAI-compatible endpoint, fit efficiencies.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the ``calibrate`` group to ``app``."""
    app.add_typer(calibrate_app, name="calibrate")


# Options shared by `import` (facts a file may not state) and `run` (facts stored in the file).
# For `import` they only fill gaps: one that contradicts the file is an error.
GpuOpt = Annotated[
    str | None, typer.Option(help="GPU, a catalog name (H100-SXM-80GB, H100, ...).")
]
NumGpusOpt = Annotated[int | None, typer.Option(help="GPUs per replica (default tp x pp).")]
TpOpt = Annotated[int | None, typer.Option(help="Tensor parallelism.")]
PpOpt = Annotated[int | None, typer.Option(help="Pipeline parallelism.")]
EpOpt = Annotated[int | None, typer.Option(help="Expert parallelism.")]
EngineOpt = Annotated[str | None, typer.Option(help="Serving engine (vLLM, SGLang, ...).")]
EngineVersionOpt = Annotated[str | None, typer.Option(help="Engine version.")]
WeightDtypeOpt = Annotated[str | None, typer.Option(help="Weight dtype (bf16, fp8, ...).")]
KvDtypeOpt = Annotated[str | None, typer.Option(help="KV-cache dtype (auto, fp8, ...).")]


def _checked_out(path: Path) -> Path:
    """``--out`` of ``calibrate run``: writable before the sweep spends minutes measuring."""
    checked = checked_output_path(path, "--out")
    assert checked is not None
    return checked


def _facts(**values: object) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


@calibrate_app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="A benchmark result file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    format: Annotated[
        str | None, typer.Option("--format", help=f"Skip detection: {', '.join(FORMATS)}.")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Model, when the file does not say.")] = None,
    gpu: GpuOpt = None,
    num_gpus: NumGpusOpt = None,
    tp: TpOpt = None,
    pp: PpOpt = None,
    ep: EpOpt = None,
    engine: EngineOpt = None,
    engine_version: EngineVersionOpt = None,
    weight_dtype: WeightDtypeOpt = None,
    kv_dtype: KvDtypeOpt = None,
    isl: Annotated[int | None, typer.Option(help="Input tokens per request.")] = None,
    osl: Annotated[int | None, typer.Option(help="Output tokens per request.")] = None,
    concurrency: Annotated[
        int | None, typer.Option(help="Closed-loop clients, when the file does not say.")
    ] = None,
) -> None:
    """Import FILE and show its measurements.

    Options supply facts the file does not state; one that contradicts the file is an error.
    """
    if format is not None and format not in FORMATS:
        raise typer.BadParameter(f"--format must be one of {', '.join(FORMATS)}.")
    overrides = cast(
        Overrides,
        _facts(model=model, gpu=gpu, num_gpus=num_gpus, tp=tp, pp=pp, ep=ep, engine=engine,
               engine_version=engine_version, weight_dtype=weight_dtype, kv_dtype=kv_dtype,
               isl=isl, osl=osl, concurrency=concurrency),
    )  # fmt: skip
    rejected: list[tuple[str, str]] = []
    kind = cast(Format, format) if format else detect_format(file)
    measurements = import_file(file, format=kind, rejected=rejected, **overrides)
    measurements = screen_measurements(measurements, rejected)
    if not measurements:
        where, why = rejected[0] if rejected else (str(file), "no measurement")
        raise InputError(f"{file}: no usable measurement ({where}: {why}); fix the file.")
    counts = Counter(m.metric for m in measurements)
    if as_json:
        payload = {
            "file": str(file),
            "format": kind,
            "count": len(measurements),
            "counts_by_metric": dict(sorted(counts.items())),
            "measurements": [m.model_dump() for m in measurements],
            "rejected": [{"where": where, "reason": why} for where, why in rejected],
        }
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    console = Console()
    console.print(_measurement_table(measurements, f"{file} ({kind})"))
    summary = ", ".join(f"{metric} {n}" for metric, n in sorted(counts.items()))
    console.print(f"{len(measurements)} measurements: {summary}", highlight=False)
    for where, why in rejected:
        console.print(f"[yellow]not imported[/yellow] {where}: {why}", highlight=False)


def _display_value(m: Measurement) -> str:
    if m.metric.endswith("_tok_s"):
        return f"{m.value:,.1f} tok/s"
    if m.metric.endswith("_req_s"):
        return f"{m.value:,.3f} req/s"
    return f"{m.value * 1e3:,.1f} ms"  # latencies are stored in seconds


def _load(m: Measurement) -> str:
    if m.mode == "max_throughput":
        return "max (offline)"
    if m.mode == "static_batch":
        return f"batch {m.concurrency}"
    if m.mode == "closed_loop":
        return f"{m.concurrency} clients"
    rate = "inf" if m.request_rate_qps is None else plain(m.request_rate_qps)
    cap = f", <= {m.concurrency} in flight" if m.concurrency else ""
    return f"{rate} qps{cap}"


def _measurement_table(measurements: list[Measurement], title: str) -> Table:
    table = Table(title=title)
    for column in ("id", "model", "gpu", "tp/pp/ep", "isl/osl", "load", "metric"):
        table.add_column(column, overflow="fold")
    table.add_column("value", justify="right", no_wrap=True)
    for m in measurements:
        lengths = m.dataset if m.isl is None or m.osl is None else f"{m.isl}/{m.osl}"
        table.add_row(
            m.id, m.model, f"{m.num_gpus}x {m.gpu}", f"{m.tp}/{m.pp}/{m.ep}", lengths or "",
            _load(m), m.metric, _display_value(m),
        )  # fmt: skip
    return table


def _concurrencies(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise typer.BadParameter(f"--concurrency {text!r}: give integers like 1,2,4.") from None
    if not values:
        raise typer.BadParameter("--concurrency is empty; give integers like 1,2,4.")
    return values


@calibrate_app.command("run")
def run_cmd(
    endpoint: Annotated[str, typer.Option(help="Server base URL, e.g. http://127.0.0.1:8000.")],
    model: Annotated[str, typer.Option(help="Model name the server expects.")],
    out: Annotated[
        Path,
        typer.Option(
            help="Result file to write (JSON, vLLM layout); checked before any request.",
            callback=_checked_out,
        ),
    ],
    isl: Annotated[int, typer.Option(help="Input tokens per request (approximate).")] = 1024,
    osl: Annotated[int, typer.Option(help="Output tokens per request.")] = 128,
    concurrency: Annotated[str, typer.Option(help="Closed-loop clients to sweep.")] = "1,2,4,8",
    max_requests: Annotated[int, typer.Option(help="Requests per level (at most).")] = 64,
    max_seconds: Annotated[
        float, typer.Option(help="No request of a level starts after this many seconds.")
    ] = 120.0,
    api: Annotated[str, typer.Option(help="completions or chat.")] = "completions",
    ignore_eos: Annotated[
        bool, typer.Option(help="Send ignore_eos so every request makes osl tokens.")
    ] = True,
    request_timeout: Annotated[float, typer.Option(help="Timeout of one request, s.")] = 600.0,
    api_key: Annotated[
        str | None, typer.Option(help="Bearer token, if the server needs one.")
    ] = None,
    gpu: GpuOpt = None,
    num_gpus: NumGpusOpt = None,
    tp: TpOpt = None,
    pp: PpOpt = None,
    ep: EpOpt = None,
    engine: EngineOpt = None,
    engine_version: EngineVersionOpt = None,
    weight_dtype: WeightDtypeOpt = None,
    kv_dtype: KvDtypeOpt = None,
    max_work: Annotated[
        float | None,
        typer.Option(help="Raise the work limit (prompt tokens in flight; docs/limits.md)."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress output.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the level summaries as JSON.")
    ] = False,
) -> None:
    """Measure ENDPOINT at each concurrency and write OUT; contacts nothing but ENDPOINT."""
    if api not in ("completions", "chat"):
        raise typer.BadParameter("--api must be 'completions' or 'chat'.")
    if api_key is not None and not (api_key.isascii() and api_key.isprintable()):
        raise InputError(
            "--api-key must be printable ASCII (it is sent in the Authorization header); "
            "check for a pasted non-ASCII character or line break."
        )
    metadata = {
        key: str(value)
        for key, value in _facts(gpu=gpu, num_gpus=num_gpus, tp=tp, pp=pp, ep=ep, engine=engine,
                                 engine_version=engine_version, weight_dtype=weight_dtype,
                                 kv_dtype=kv_dtype).items()
    }  # fmt: skip
    config = LoadgenConfig(
        endpoint=endpoint, model=model, isl=isl, osl=osl,
        concurrencies=_concurrencies(concurrency), max_requests=max_requests,
        max_seconds=max_seconds, api=cast(Api, api), ignore_eos=ignore_eos,
        request_timeout_s=request_timeout, api_key=api_key, metadata=metadata,
        max_work=max_work,
    )  # fmt: skip
    if quiet or as_json:
        summaries = run_sweep(config)
    else:
        from rich.progress import Progress as Bar

        with Bar(console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task("requests", total=config.max_requests)

            def tick(stage: str, done: int, total: int) -> None:
                bar.update(task, description=stage, completed=done, total=total)

            summaries = run_sweep(config, tick)
    try:
        path = write_results(summaries, out)
    except OSError as err:
        raise InputError(f"cannot write {out}: {err.strerror}; choose another --out.") from None
    keys = ("max_concurrency", "completed", "failed", "duration", "output_throughput",
            "request_throughput", "mean_ttft_ms", "p99_ttft_ms", "mean_tpot_ms", "mean_itl_ms",
            "mean_e2el_ms")  # fmt: skip
    if as_json:
        compact = [{key: s[key] for key in keys} for s in summaries]
        sys.stdout.write(json.dumps({"out": str(path), "levels": compact}, indent=2) + "\n")
        return
    table = Table(title=f"{config.url} ({model}, isl ~{isl}, osl {osl})")
    for column in ("clients", "done", "failed", "out tok/s", "req/s", "TTFT ms", "p99 TTFT ms",
                   "TPOT ms", "ITL ms", "E2E ms"):  # fmt: skip
        table.add_column(column, justify="right")
    for s in summaries:
        table.add_row(
            str(s["max_concurrency"]), str(s["completed"]), str(s["failed"]),
            *(f"{cast(float, s[key]):,.1f}" for key in keys[4:]),
        )  # fmt: skip
    console = Console()
    console.print(table)
    console.print(f"wrote {path}; read it back with: infercost calibrate import {path}")


# --- `calibrate fit` ----------------------------------------------------------------------------
# Defined in cli/calibrate_fit.py (library code in calibrate/fit.py).
register_fit(calibrate_app)
