"""``infercost predict``: one steady-state prediction (DESIGN.md contract)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from infercost.cli.exits import EXIT_NO_ANSWER
from infercost.predict import predict as predict_fn
from infercost.report.predict_table import render_prediction


def register(app: typer.Typer) -> None:
    """Add ``predict`` to ``app``."""
    app.command("predict", help="Predict fit, throughput, latency and $/M tokens.")(predict_cmd)


def predict_cmd(
    model: Annotated[
        str | None, typer.Option(help="HF id, catalog id or common spelling.")
    ] = None,
    gpu: Annotated[
        str, typer.Option(help="Accelerator (H100, h100-sxm, MI300X-192GB, ...).")
    ] = "",
    isl: Annotated[int | None, typer.Option(help="Input tokens per request.")] = None,
    osl: Annotated[int | None, typer.Option(help="Output tokens per request.")] = None,
    model_config: Annotated[
        str | None, typer.Option(help="A Hugging Face config.json on disk instead of --model.")
    ] = None,
    num_gpus: Annotated[
        int | None, typer.Option(help="GPUs of the deployment (= dp x tp x pp).")
    ] = None,
    tp: Annotated[int | None, typer.Option(help="Tensor parallelism.")] = None,
    pp: Annotated[int, typer.Option(help="Pipeline parallelism.")] = 1,
    ep: Annotated[
        int, typer.Option(help="Expert parallelism (MoE); up to dp x tp (DEP layouts).")
    ] = 1,
    dp: Annotated[
        int | None,
        typer.Option(help="Data-parallel ranks (vLLM --data-parallel-size, SGLang --dp)."),
    ] = None,
    weight_dtype: Annotated[
        str | None, typer.Option(help="bf16, fp16, fp8, int8, int4, fp4/nvfp4, mxfp4, q8_0, q4_0.")
    ] = None,
    kv_dtype: Annotated[str, typer.Option(help="auto, bf16, fp16, fp8, int8.")] = "auto",
    concurrency: Annotated[int | None, typer.Option(help="Requests in flight.")] = None,
    max_throughput: Annotated[
        bool, typer.Option("--max-throughput", help="Largest batch the KV cache holds.")
    ] = False,
    engine: Annotated[str, typer.Option(help="vllm, sglang, trtllm, llamacpp.")] = "vllm",
    profile: Annotated[
        str | None, typer.Option(help="Engine profile TOML from `infercost calibrate fit`.")
    ] = None,
    gpu_hour_usd: Annotated[float | None, typer.Option(help="Price of one GPU-hour, US$.")] = None,
    offer: Annotated[
        str | None, typer.Option(help="A catalog offer id (infercost offers).")
    ] = None,
    allow_spot: Annotated[
        bool, typer.Option("--allow-spot", help="Accept an interruptible spot --offer.")
    ] = False,
    pack_replicas: Annotated[
        bool,
        typer.Option("--pack-replicas", help="Share a multi-GPU instance among replicas."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    explain: Annotated[bool, typer.Option("--explain", help="Show the formula trail.")] = False,
) -> None:
    """Predict one deployment; exit 0 with fits=false in --json, exit 3 in plain output
    (:mod:`infercost.cli.exits`)."""
    if not gpu:
        raise typer.BadParameter("--gpu is required (for example --gpu H100).")
    if isl is None or osl is None:
        raise typer.BadParameter("--isl and --osl are required (tokens per request).")
    p = predict_fn(
        model,
        gpu,
        isl,
        osl,
        model_config=model_config,
        num_gpus=num_gpus,
        tp=tp,
        pp=pp,
        ep=ep,
        dp=dp,
        weight_dtype=weight_dtype,
        kv_dtype=kv_dtype,
        concurrency=concurrency,
        max_throughput=max_throughput,
        engine=engine,
        gpu_hour_usd=gpu_hour_usd,
        offer=offer,
        allow_spot=allow_spot,
        pack_replicas=pack_replicas,
        profile=profile,
        explain=explain,
    )
    if as_json:
        sys.stdout.write(json.dumps(p.to_dict(), indent=2) + "\n")
        return
    console = Console()
    if not p.fits:
        Console(stderr=True).print(
            f"[red]{p.model} on {p.num_gpus}x {p.gpu}:[/red] {escape(p.reason or '')}"
        )
        raise typer.Exit(code=EXIT_NO_ANSWER)
    render_prediction(p, console)
    for note in p.notes:
        console.print(f"[dim]note: {escape(note)}[/dim]", highlight=False, soft_wrap=True)
