"""``infercost predict``: one steady-state prediction (DESIGN.md contract)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from infercost.cli.exits import EXIT_NO_ANSWER
from infercost.errors import InputError
from infercost.predict import predict as predict_fn
from infercost.report.predict_table import render_prediction
from infercost.report.text import wrapped


def _disagg_opt(text: str) -> Any:
    """A ``--prefill-*``/``--decode-*``/``--kv-*`` option, shown in its own help panel."""
    return typer.Option(help=text, rich_help_panel="Disaggregated prefill/decode")


def _print_notes(console: Console, notes: Sequence[str]) -> None:
    """Each note wrapped to the terminal, continuation lines under its first word."""
    for note in notes:
        for line in wrapped(note, console.width - 1, "note: "):
            console.print(line, highlight=False, style="dim", markup=False, soft_wrap=True)


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
    num_nodes: Annotated[
        int | None,
        typer.Option(
            help="Nodes (scale-up domains: an 8-GPU board, an NVL72 rack) the GPUs spread "
            "over; traffic between them takes the scale-out network. Default: as few as hold "
            "them."
        ),
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
        str | None,
        typer.Option(
            help="bf16, fp16, fp8, int8, int4, fp4/nvfp4, mxfp4, q8_0, q4_0. Default: the "
            "checkpoint's (a name ending -FP4, -NVFP4 or -FP8 says it, with a note).",
        ),
    ] = None,
    kv_dtype: Annotated[str, typer.Option(help="auto, bf16, fp16, fp8, int8.")] = "auto",
    concurrency: Annotated[
        int | None,
        typer.Option(
            help="Requests in flight: a closed loop of N clients. Past the KV cache the rest "
            "queue (their wait is in TTFT); vLLM, SGLang and llama.cpp (KV allocated as "
            "tokens come, --disagg's decode pool too) fit sequences of the mean context "
            "isl + osl/2, TensorRT-LLM and --fixed-lengths of the full isl + osl.",
        ),
    ] = None,
    max_throughput: Annotated[
        bool,
        typer.Option(
            "--max-throughput",
            help="An offline run: the largest batch the KV cache holds (sequences of the full "
            "isl + osl) under the caps the engine's offline benchmark configures per rank "
            "(trtllm: trtllm-bench's own sizing, decode steps padded to its CUDA-graph "
            "sizes; others: their offline max_num_seqs); --explain says which.",
        ),
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
    fixed_lengths: Annotated[
        bool,
        typer.Option(
            "--fixed-lengths",
            help="Every request exactly --isl/--osl (a fixed-length benchmark): a closed "
            "loop's requests stay in lockstep waves. Default: lengths vary (real traffic, "
            "random-length benchmarks), so requests arrive spread out. Only with "
            "--concurrency; not with --max-throughput or --disagg.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    explain: Annotated[bool, typer.Option("--explain", help="Show the formula trail.")] = False,
    disagg: Annotated[
        bool,
        typer.Option(
            "--disagg",
            help="Disaggregated prefill/decode: a prefill pool and a decode pool "
            "(--prefill-*/--decode-*; each defaults to --tp/--pp/--ep/--dp).",
            rich_help_panel="Disaggregated prefill/decode",
        ),
    ] = False,
    prefill_tp: Annotated[int | None, _disagg_opt("Prefill worker TP.")] = None,
    prefill_pp: Annotated[int | None, _disagg_opt("Prefill worker PP.")] = None,
    prefill_ep: Annotated[int | None, _disagg_opt("Prefill worker EP.")] = None,
    prefill_dp: Annotated[int | None, _disagg_opt("Prefill worker DP ranks.")] = None,
    prefill_workers: Annotated[int, _disagg_opt("Prefill workers (x of xPyD).")] = 1,
    prefill_max_batch_tokens: Annotated[
        int | None, _disagg_opt("Prompt tokens per prefill iteration (default: the engine's).")
    ] = None,
    decode_tp: Annotated[int | None, _disagg_opt("Decode worker TP.")] = None,
    decode_pp: Annotated[int | None, _disagg_opt("Decode worker PP.")] = None,
    decode_ep: Annotated[int | None, _disagg_opt("Decode worker EP.")] = None,
    decode_dp: Annotated[int | None, _disagg_opt("Decode worker DP ranks.")] = None,
    decode_workers: Annotated[int, _disagg_opt("Decode workers (y of xPyD).")] = 1,
    decode_max_batch: Annotated[
        int | None, _disagg_opt("Sequences per decode worker at most (default: KV, engine).")
    ] = None,
    kv_link: Annotated[
        str, _disagg_opt("KV transfer link: ib (InfiniBand/RoCE), nvlink, ethernet.")
    ] = "ib",
    kv_link_gbps: Annotated[
        float | None, _disagg_opt("Per-GPU KV link bandwidth, Gb/s (instead of the link's).")
    ] = None,
    kv_overlap: Annotated[
        bool,
        typer.Option(
            "--kv-overlap/--no-kv-overlap",
            help="Stream the KV layer by layer during the prefill, or move it after.",
            rich_help_panel="Disaggregated prefill/decode",
        ),
    ] = True,
) -> None:
    """Predict one deployment; exit 0 with fits=false in --json, exit 3 in plain output
    (:mod:`infercost.cli.exits`)."""
    if not gpu:
        raise typer.BadParameter("--gpu is required (for example --gpu H100).")
    if isl is None or osl is None:
        raise typer.BadParameter("--isl and --osl are required (tokens per request).")
    pools = {
        "prefill_tp": prefill_tp, "prefill_pp": prefill_pp, "prefill_ep": prefill_ep,
        "prefill_dp": prefill_dp, "prefill_max_batch_tokens": prefill_max_batch_tokens,
        "decode_tp": decode_tp, "decode_pp": decode_pp, "decode_ep": decode_ep,
        "decode_dp": decode_dp, "decode_max_batch": decode_max_batch,
        "kv_link_gbps": kv_link_gbps,
        "prefill_workers": None if prefill_workers == 1 else prefill_workers,
        "decode_workers": None if decode_workers == 1 else decode_workers,
        "kv_link": None if kv_link == "ib" else kv_link,
        "kv_overlap": None if kv_overlap else False,
    }  # fmt: skip
    given = [k for k, v in pools.items() if v is not None]
    if given and not disagg:
        names = ", ".join("--" + k.replace("_", "-") for k in given)
        verb, them = ("applies", "it") if len(given) == 1 else ("apply", "them")
        raise InputError(f"{names} {verb} only with --disagg; add --disagg or drop {them}.")
    if disagg and fixed_lengths:
        raise InputError(
            "--fixed-lengths applies to aggregated predictions: with --disagg each request's "
            "prompt is prefilled by the prefill pool, not in waves beside the decodes."
        )
    if disagg and num_nodes is not None:
        raise InputError("--num-nodes applies to aggregated predictions, not with --disagg.")
    if disagg:
        _predict_disagg(
            model=model, gpu=gpu, isl=isl, osl=osl, model_config=model_config,
            num_gpus=num_gpus, tp=tp, pp=pp, ep=ep, dp=dp, weight_dtype=weight_dtype,
            kv_dtype=kv_dtype, concurrency=concurrency, max_throughput=max_throughput,
            engine=engine, profile=profile, gpu_hour_usd=gpu_hour_usd, offer=offer,
            allow_spot=allow_spot, pack_replicas=pack_replicas, as_json=as_json,
            explain=explain, prefill=(prefill_tp, prefill_pp, prefill_ep, prefill_dp,
            prefill_workers, prefill_max_batch_tokens), decode=(decode_tp, decode_pp,
            decode_ep, decode_dp, decode_workers, decode_max_batch), kv_link=kv_link,
            kv_link_gbps=kv_link_gbps, kv_overlap=kv_overlap,
        )  # fmt: skip
        return
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
        num_nodes=num_nodes,
        fixed_lengths=fixed_lengths,
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
    _print_notes(console, p.notes)


def _predict_disagg(
    *,
    model: str | None,
    gpu: str,
    isl: int,
    osl: int,
    model_config: str | None,
    num_gpus: int | None,
    tp: int | None,
    pp: int,
    ep: int,
    dp: int | None,
    weight_dtype: str | None,
    kv_dtype: str,
    concurrency: int | None,
    max_throughput: bool,
    engine: str,
    profile: str | None,
    gpu_hour_usd: float | None,
    offer: str | None,
    allow_spot: bool,
    pack_replicas: bool,
    as_json: bool,
    explain: bool,
    prefill: tuple[int | None, int | None, int | None, int | None, int, int | None],
    decode: tuple[int | None, int | None, int | None, int | None, int, int | None],
    kv_link: str,
    kv_link_gbps: float | None,
    kv_overlap: bool,
) -> None:
    """``predict --disagg``: :func:`infercost.disagg.predict_disagg`, each pool's layout
    defaulting to --tp/--pp/--ep/--dp."""
    from infercost.disagg import Pool, predict_disagg

    if num_gpus is not None:
        raise InputError(
            "--num-gpus does not apply with --disagg: the GPUs are the pools' workers x "
            "their layouts (--prefill-workers, --prefill-tp, --decode-workers, --decode-tp)."
        )
    if max_throughput:
        raise InputError("--disagg needs --concurrency N, not --max-throughput.")
    if explain:
        raise InputError("--explain is not available with --disagg; use --json for the terms.")

    def pool(spec: tuple[int | None, int | None, int | None, int | None, int, int | None],
             tokens: bool) -> Pool:  # fmt: skip
        ptp, ppp, pep, pdp, workers, cap = spec
        return Pool(
            tp=ptp or tp or 1,
            pp=ppp or pp,
            ep=pep or ep,
            dp=pdp or dp or 1,
            workers=workers,
            max_batch_tokens=cap if tokens else None,
            max_batch=None if tokens else cap,
        )

    d = predict_disagg(
        model,
        gpu,
        isl,
        osl,
        prefill=pool(prefill, True),
        decode=pool(decode, False),
        concurrency=concurrency,
        link=kv_link,
        link_gbps=kv_link_gbps,
        overlap=kv_overlap,
        model_config=model_config,
        weight_dtype=weight_dtype,
        kv_dtype=kv_dtype,
        engine=engine,
        profile=profile,
        gpu_hour_usd=gpu_hour_usd,
        offer=offer,
        allow_spot=allow_spot,
        pack_replicas=pack_replicas,
    )
    if as_json:
        sys.stdout.write(json.dumps(d.to_dict(), indent=2) + "\n")
        return
    if not d.fits:
        Console(stderr=True).print(
            f"[red]{d.model} on {d.prefill_workers}P{d.decode_workers}D x {d.gpu}:[/red] "
            f"{escape(d.reason or '')}"
        )
        raise typer.Exit(code=EXIT_NO_ANSWER)
    console = Console()
    _render_disagg(d, console)
    _print_notes(console, d.notes)


def _render_disagg(d: Any, console: Console) -> None:
    """The disaggregated prediction as a two-column table (presentation only)."""
    from rich.table import Table

    from infercost.report.text import usd_sig

    def f(value: float | None, scale: float = 1.0, digits: int = 2, unit: str = "") -> str:
        return "—" if value is None else f"{value * scale:,.{digits}f}{unit}"

    def usd(value: float | None) -> str:
        return "—" if value is None else usd_sig(value)

    def layout(lay: dict[str, int]) -> str:
        dp = f"DP {lay['dp']} x " if lay["dp"] > 1 else ""
        return f"{dp}TP {lay['tp']} x PP {lay['pp']}, EP {lay['ep']} ({lay['gpus']} GPUs)"

    t = Table(
        title=f"{d.model} on {d.num_gpus}x {d.gpu} ({d.engine}), "
        f"disaggregated {d.prefill_workers}P{d.decode_workers}D",
        show_header=False,
    )
    t.add_column("quantity", style="bold")
    t.add_column("value")
    rows = [
        ("prefill workers", f"{d.prefill_workers} x {layout(d.prefill_layout)}"),
        ("decode workers", f"{d.decode_workers} x {layout(d.decode_layout)}"),
        ("weights / KV dtype", f"{d.weight_dtype} / {d.kv_dtype}"),
        ("ISL / OSL, concurrency", f"{d.isl} / {d.osl} tokens, {d.concurrency} in flight"),
        (
            "KV per request",
            f"{f(d.kv_transfer_bytes, 1e-6, 1, ' MB')} ({f(d.kv_bytes_per_token, 1e-3, 1)} kB "
            "per token)",
        ),
        (
            "KV link",
            f"{d.kv_link}, {f(d.kv_link_bytes_s * 8, 1e-9, 0, ' Gb/s')} per GPU, "
            f"{'overlapped layer by layer' if d.kv_overlap else 'after the prefill'}",
        ),
        (
            "KV transfer (exposed)",
            f"{f(d.kv_transfer_s, 1e3, 2, ' ms')} ({f(d.kv_transfer_exposed_s, 1e3, 2, ' ms')})",
        ),
        ("request overhead (incl. HTTP front end)", f(d.request_overhead_s, 1e3, 1, " ms")),
        ("prefill queue", f(d.prefill_queue_s, 1e3, 1, " ms")),
        (
            "prefill",
            f"{f(d.prefill_s, 1e3, 1, ' ms')} ({f(d.prefill_batch, 1, 2)} prompts "
            f"per iteration, at most {d.prefill_max_batch})",
        ),
        ("decode-slot wait", f(d.decode_queue_s, 1e3, 1, " ms")),
        ("first decode step", f(d.first_decode_step_s, 1e3, 1, " ms")),
        ("TTFT", f(d.ttft_s, 1e3, 1, " ms")),
        ("TPOT", f(d.tpot_s, 1e3, 1, " ms")),
        ("E2E", f(d.e2e_s, 1, 2, " s")),
        ("decode batch per worker", f"{f(d.decode_batch, 1, 1)} (at most {d.decode_max_batch})"),
        ("prefill utilisation", f(d.prefill_utilization, 100, 0, " %")),
        ("output throughput", f(d.output_tok_s, 1, 0, " tok/s")),
        ("output per GPU", f(d.output_tok_s_per_gpu, 1, 0, " tok/s")),
        (
            "balanced P:D",
            f"{f(d.balanced_prefill_to_decode_ratio, 1, 2)} prefill per decode worker "
            f"(now {d.prefill_workers}:{d.decode_workers}); bottleneck: {d.bottleneck}"
            + (f"; {d.saturated} pool saturated" if d.saturated else ""),
        ),
        ("$/GPU-hour", usd(d.usd_per_gpu_hour)),
        ("$/M input tokens", usd(d.usd_per_m_input)),
        ("$/M output tokens", usd(d.usd_per_m_output)),
        ("$/M blended", usd(d.usd_per_m_blended)),
    ]
    for k, v in rows:
        t.add_row(k, v)
    console.print(t)
    if d.price_source:
        console.print(f"[dim]price: {escape(d.price_source)}[/dim]", highlight=False)
