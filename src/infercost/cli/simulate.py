"""``infercost simulate``: iteration-level serving simulation under an arrival process.

Resolves the deployment like ``predict`` (names -> catalog -> per-GPU step constants, KV
capacity), builds a workload (Poisson/gamma arrivals with length distributions, or a trace
file), runs :func:`infercost.sim.simulate` and prints latency percentiles, throughput,
goodput and the saturation verdict. An overloaded run prints OVERLOADED with the sustainable
rate and no percentiles (they grow with run length). ``--find-max-rate`` bisects for the
highest rate meeting the SLO.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from infercost.cli.bounds import checked
from infercost.cli.numbers import plain
from infercost.domains import ALL_AT_ONCE, check_work
from infercost.errors import InputError
from infercost.perf.step import step_model
from infercost.predict import (
    Resolved,
    replica_config,
    resolve,
)
from infercost.sim import (
    ClosedLoop,
    RequestSource,
    SimResult,
    Slo,
    SpecDecoding,
    Stats,
    TraceLoad,
    WorkloadStream,
    find_max_rate,
    gamma_arrival_plan,
    length_dist,
    load_trace,
    profile_arrival_plan,
    simulate,
)
from infercost.sim.config import check_closed_loop_options
from infercost.sim.engine import ProgressFn

#: Runs with more requests than this show a progress bar (plain output only).
PROGRESS_MIN_REQUESTS = 20_000
ARRIVALS = ("poisson", "gamma")


def register(app: typer.Typer) -> None:
    """Add ``simulate`` to ``app``."""
    app.command(
        "simulate",
        help="Simulate serving under an arrival process: tail latency, goodput, saturation.",
    )(simulate_cmd)


def _workload(
    rate: float,
    arrival: str,
    burstiness: float,
    num_requests: int | None,
    duration: float | None,
    isl: int,
    osl: int,
    length_kind: str,
    length_cv: float,
    prefix_share: float,
    num_prefixes: int,
    prefix_tokens: int,
    seed: int,
    profile: list[float] | None = None,
    profile_period_s: float = 86_400.0,
    max_work: float | None = None,
) -> WorkloadStream:
    """The requests, drawn in chunks as the simulation reads them (the same requests as
    ``synthetic_workload`` over the whole arrival array)."""
    rng = np.random.default_rng(seed)
    if profile is not None:
        plan = profile_arrival_plan(profile, profile_period_s, num_requests, duration, max_work)
    else:
        shape = 1.0 if arrival == "poisson" else burstiness
        plan = gamma_arrival_plan(rate, shape, num_requests, duration, max_work)
    return WorkloadStream(
        plan,
        length_dist(length_kind, isl, length_cv),
        length_dist(length_kind, osl, length_cv),
        rng,
        prefix_share,
        num_prefixes,
        prefix_tokens,
    )


def parse_profile(text: str) -> list[float]:
    """``"1,2.5,4"`` -> rates in req/s for equal segments of one period.

    Raises:
        InputError: an entry that is not a number.
    """
    try:
        return [float(x) for x in text.replace(";", ",").split(",") if x.strip()]
    except ValueError:
        raise InputError(
            f"--rate-profile {text!r} must be comma-separated rates in requests/s, one per "
            "equal segment of the period (24 for hourly rates over a day)."
        ) from None


@contextmanager
def _progress(enabled: bool, total: int) -> Iterator[ProgressFn | None]:
    if not enabled or total < PROGRESS_MIN_REQUESTS:
        yield None
        return
    with Progress(
        TextColumn("simulating"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,} requests"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("sim", total=total)

        def update(done: int, _total: int) -> None:
            bar.update(task, completed=done)

        yield update


def _ms(x: float | None) -> str:
    return "-" if x is None or not math.isfinite(x) else f"{x * 1e3:,.1f}"


def _render(res: SimResult, head: str, console: Console) -> None:
    s = res.summary
    sat = res.saturation
    console.print(head)
    if s.completed == 0:
        console.print(
            f"[red]No request completed[/red]: {s.rejected:,} of {s.num_requests:,} rejected "
            "(longer than the model's context or the whole KV cache). Shorten --isl/--osl or "
            "add GPUs (--tp)."
        )
        return
    console.print(
        f"requests {s.completed:,} completed, {s.rejected:,} rejected of {s.num_requests:,} "
        f"(mean ISL {s.isl_mean_tokens:,.1f}, OSL {s.osl_mean_tokens:,.1f} tokens); "
        f"{s.duration_s:,.1f} s; {s.request_throughput_req_s:,.2f} req/s, "
        f"{s.output_tok_s:,.0f} output tok/s, {s.total_tok_s:,.0f} total tok/s"
    )
    if s.rejected:
        console.print(
            f"[yellow]{s.rejected} request(s) rejected: longer than the model's context or "
            "the whole KV cache.[/yellow]"
        )
    if sat.overloaded:
        sus = sat.sustainable_rate_req_s
        console.print(
            f"[bold red]OVERLOADED[/bold red]: {escape(sat.reason)}. Sustainable rate "
            f"[bold]{sus:,.2f} req/s[/bold] per deployment ({len(res.replicas)} replica(s)). "
            "Latency percentiles of an unstable run grow with its length and are not shown; "
            "lower --rate or add --replicas."
            if sus is not None
            else f"[bold red]OVERLOADED[/bold red]: {escape(sat.reason)}."
        )
    else:
        table = Table(title="latency (ms)")
        for col in ("metric", "mean", "p50", "p90", "p95", "p99"):
            table.add_column(col, justify="right" if col != "metric" else "left")
        rows: list[tuple[str, Stats]] = [
            ("TTFT", s.ttft),
            ("TPOT", s.tpot),
            ("E2E", s.e2e),
            ("queueing", s.queue),
        ]
        for name, st in rows:
            table.add_row(name, *(_ms(v) for v in (st.mean, st.p50, st.p90, st.p95, st.p99)))
        console.print(table)
        console.print(f"ITL mean {_ms(s.itl_mean_s)} ms; saturation: {escape(sat.reason)}")
    d = res.to_dict()
    console.print(
        f"KV cache utilisation mean {d['kv_util_mean_frac']:.0%}, max "
        f"{d['kv_util_max_frac']:.0%}; preemptions {d['preemptions']:,}; "
        f"iterations {d['iterations']:,}"
    )
    if s.goodput_req_s is not None and s.slo_attainment_frac is not None:
        met = d["slo_met"]
        console.print(
            f"SLO: goodput {s.goodput_req_s:,.2f} req/s, attainment "
            f"{s.slo_attainment_frac:.1%}, p99 targets "
            + ("[green]met[/green]" if met else "[red]missed[/red]")
        )


def _check_flags(
    isl: int | None,
    osl: int | None,
    trace: str | None,
    rate: float | None,
    rate_profile: str | None,
    find_max: bool,
    arrival: str,
    burstiness: float | None,
    lengths: str,
    length_cv: float | None,
    spec_tokens: int,
    spec_acceptance: float | None,
    draft_model: str | None,
    seed: int,
    concurrency: int | None = None,
    client_overhead: float | None = None,
    duration: float | None = None,
    num_requests: int | None = None,
) -> None:
    """Refuse flags that contradict each other or would be silently ignored.

    Raises:
        InputError: the first such flag, naming the flag it needs or conflicts with.
    """
    if seed < 0:
        raise InputError(f"--seed must be a whole number >= 0, got {seed}.")
    check_closed_loop_options(
        concurrency,
        client_overhead is not None,
        {
            "--rate": rate is not None,
            "--rate-profile": rate_profile is not None,
            "--trace": trace is not None,
            "--find-max-rate": find_max,
            "--duration": duration is not None,
            "--arrival": arrival != "poisson",
            "--burstiness": burstiness is not None,
        },
        num_requests,
    )
    if trace is None:
        for name, v in (("--isl", isl), ("--osl", osl)):
            if v is None:
                raise InputError(
                    f"{name} is required without --trace (mean tokens per request, >= 1)."
                )
            if v < 1:
                raise InputError(f"{name} must be >= 1 token, got {v}.")
    if trace is not None and (rate is not None or find_max or rate_profile):
        raise InputError(
            "--trace replays its own arrivals; drop --rate / --rate-profile / --find-max-rate."
        )
    if rate_profile is not None and (rate is not None or find_max):
        raise InputError("--rate-profile sets the arrivals; drop --rate / --find-max-rate.")
    if find_max and rate is not None:
        raise InputError(
            "--find-max-rate searches for the rate itself; drop --rate (or drop "
            "--find-max-rate to simulate that rate)."
        )
    if trace is not None:
        for flag, given in (
            ("--isl", isl is not None),
            ("--osl", osl is not None),
            ("--length-dist", lengths != "fixed"),
            ("--length-cv", length_cv is not None),
            ("--arrival", arrival != "poisson"),
            ("--burstiness", burstiness is not None),
        ):
            if given:
                raise InputError(f"--trace gives its own arrivals and lengths; drop {flag}.")
    if length_cv is not None and lengths == "fixed":
        raise InputError(
            "--length-cv needs --length-dist normal or lognormal (lengths are fixed by default)."
        )
    if burstiness is not None and arrival != "gamma":
        raise InputError("--burstiness needs --arrival gamma (arrivals are Poisson by default).")
    if spec_tokens == 0:
        for flag, given in (
            ("--spec-acceptance", spec_acceptance is not None),
            ("--draft-model", draft_model is not None),
        ):
            if given:
                raise InputError(
                    f"{flag} needs --spec-tokens K (draft tokens per step; 0 = no speculation)."
                )


def simulate_cmd(
    model: Annotated[
        str | None, typer.Option(help="HF id, catalog id or common spelling.")
    ] = None,
    gpu: Annotated[
        str, typer.Option(help="Accelerator (H100, h100-sxm, MI300X-192GB, ...).")
    ] = "",
    isl: Annotated[int | None, typer.Option(help="Mean input tokens per request.")] = None,
    osl: Annotated[int | None, typer.Option(help="Mean output tokens per request.")] = None,
    model_config: Annotated[
        str | None, typer.Option(help="A Hugging Face config.json on disk instead of --model.")
    ] = None,
    num_gpus: Annotated[
        int | None, typer.Option(help="GPUs per replica (= tp; more GPUs: --replicas).")
    ] = None,
    tp: Annotated[int | None, typer.Option(help="Tensor parallelism.")] = None,
    pp: Annotated[int, typer.Option(help="Pipeline parallelism (only 1 is simulated).")] = 1,
    ep: Annotated[int, typer.Option(help="Expert parallelism (MoE).")] = 1,
    weight_dtype: Annotated[
        str | None, typer.Option(help="bf16, fp16, fp8, int8, int4, fp4/nvfp4, mxfp4, q8_0, q4_0.")
    ] = None,
    kv_dtype: Annotated[str, typer.Option(help="auto, bf16, fp16, fp8, int8.")] = "auto",
    engine: Annotated[str, typer.Option(help="vllm, sglang, trtllm, llamacpp.")] = "vllm",
    replicas: Annotated[int, typer.Option(help="Identical replicas behind the router.")] = 1,
    router: Annotated[str, typer.Option(help="round-robin or least-loaded.")] = "round-robin",
    rate: Annotated[
        float | None, typer.Option(help="Mean request rate, requests/s (inf: all at t = 0).")
    ] = None,
    arrival: Annotated[str, typer.Option(help="poisson or gamma.")] = "poisson",
    rate_profile: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated req/s for equal segments of --profile-period (e.g. 24 hourly "
            "rates): a non-homogeneous Poisson process instead of --rate."
        ),
    ] = None,
    profile_period: Annotated[
        float, typer.Option(help="Period of --rate-profile, seconds (default one day).")
    ] = 86_400.0,
    burstiness: Annotated[
        float | None,
        typer.Option(help="Gamma shape: 1 = Poisson, < 1 burstier (needs --arrival gamma)."),
    ] = None,
    trace: Annotated[
        str | None, typer.Option(help="Replay a CSV/JSONL trace instead of --rate.")
    ] = None,
    trace_time_scale: Annotated[
        float, typer.Option(help="Multiply the trace's inter-arrival times (0.5 = 2x faster).")
    ] = 1.0,
    duration: Annotated[float | None, typer.Option(help="Arrivals for this many seconds.")] = None,
    num_requests: Annotated[
        int | None, typer.Option(help="Number of requests (default 2000 without --duration).")
    ] = None,
    lengths: Annotated[
        str, typer.Option("--length-dist", help="fixed, normal or lognormal lengths.")
    ] = "fixed",
    length_cv: Annotated[
        float | None,
        typer.Option(
            help="Std / mean of the lengths (needs --length-dist normal or lognormal; "
            "default 0.5)."
        ),
    ] = None,
    prefix_share: Annotated[
        float, typer.Option(help="Fraction of requests starting with a shared prefix.")
    ] = 0.0,
    prefix_tokens: Annotated[int, typer.Option(help="Tokens of each shared prefix.")] = 0,
    num_prefixes: Annotated[int, typer.Option(help="Distinct shared prefixes.")] = 1,
    spec_tokens: Annotated[
        int, typer.Option(help="Speculative decoding: draft tokens k per step (0 = off).")
    ] = 0,
    spec_acceptance: Annotated[
        float | None,
        typer.Option(
            help="Speculative decoding: acceptance rate a per draft token (needs "
            "--spec-tokens; default 0.7)."
        ),
    ] = None,
    draft_model: Annotated[
        str | None,
        typer.Option(
            help="Draft model (same GPUs and TP; needs --spec-tokens); none = free drafts."
        ),
    ] = None,
    slo_ttft_p99: Annotated[float | None, typer.Option(help="SLO: p99 TTFT, seconds.")] = None,
    slo_tpot_p99: Annotated[float | None, typer.Option(help="SLO: p99 TPOT, seconds.")] = None,
    find_max_rate_flag: Annotated[
        bool,
        typer.Option("--find-max-rate", help="Search the highest rate meeting the SLO."),
    ] = False,
    concurrency: Annotated[
        int | None,
        typer.Option(
            help="Closed loop, as benchmarks run (vllm bench serve --max-concurrency): C "
            "clients send at t = 0, each sends its next request when its previous one ends; "
            "--num-requests in all (default 10 x C). Instead of --rate/--trace."
        ),
    ] = None,
    client_overhead: Annotated[
        float | None,
        typer.Option(
            help="Seconds a closed-loop client waits between a response and its next "
            "request (needs --concurrency; default 0)."
        ),
    ] = None,
    seed: Annotated[
        int, typer.Option(help="Random seed, >= 0 (arrivals, lengths, prefixes).")
    ] = 0,
    max_work: Annotated[
        float | None,
        typer.Option(
            help="Raise the work limit (simulated requests + 1,000 per replica; docs/limits.md)."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress output.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Simulate one deployment under load; OVERLOADED runs report the sustainable rate."""
    if not gpu:
        raise InputError("--gpu is required (for example --gpu H100).")
    if arrival not in ARRIVALS:
        raise InputError(f"Unknown --arrival {arrival!r}; use poisson or gamma.")
    _check_flags(
        isl, osl, trace, rate, rate_profile, find_max_rate_flag, arrival, burstiness, lengths,
        length_cv, spec_tokens, spec_acceptance, draft_model, seed, concurrency,
        client_overhead, duration, num_requests,
    )  # fmt: skip
    loop = (
        None
        if concurrency is None
        else ClosedLoop(concurrency, 0.0 if client_overhead is None else client_overhead)
    )
    isl_mean, osl_mean = isl or 0, osl or 0
    cv = 0.5 if length_cv is None else length_cv
    shape = 1.0 if burstiness is None else burstiness
    if rate is not None and not rate > 0:  # 0 would run a 1 req/s default; NaN fails too
        raise InputError(
            f"--rate must be a positive number of requests per second (or inf), got {plain(rate)}."
        )
    profile = parse_profile(rate_profile) if rate_profile is not None else None
    if (
        trace is None
        and rate is None
        and profile is None
        and not find_max_rate_flag
        and loop is None
    ):
        raise InputError(
            "Give --rate (requests/s), --rate-profile, --trace FILE, --concurrency C (closed "
            "loop), or --find-max-rate with an SLO."
        )
    if loop is not None:
        if num_requests is None:
            num_requests = 10 * loop.concurrency  # InferenceMAX: --num-prompts CONC * 10
            check_work("simulate", float(num_requests), max_work, "10 x --concurrency")
        rate = math.inf  # every request is available at t = 0; the clients pace them
    if num_requests is None and duration is None:
        num_requests = 2000
    slo = Slo(slo_ttft_p99, slo_tpot_p99)
    r = resolve(
        model,
        gpu,
        model_config=model_config,
        num_gpus=num_gpus,
        tp=tp,
        pp=pp,
        ep=ep,
        weight_dtype=weight_dtype,
        kv_dtype=kv_dtype,
        engine=engine,
    )
    spec = None
    d: Resolved | None = None
    if spec_tokens:
        draft_step = None
        if draft_model:
            d = resolve(draft_model, gpu, tp=r.tp, kv_dtype=kv_dtype, engine=engine)
            draft_step = step_model(
                d.model, d.acc, d.weight_fmt, d.kv_bytes_per_elem, d.engine, d.tp
            )
        acceptance = 0.7 if spec_acceptance is None else spec_acceptance
        spec = SpecDecoding(spec_tokens, acceptance, draft_step)
    loaded: TraceLoad | None = None
    wl: RequestSource
    if trace is not None:
        loaded = load_trace(trace, trace_time_scale)
        wl = loaded.workload
    else:
        wl_args = (arrival, shape, num_requests, duration, isl_mean, osl_mean, lengths, cv)
        wl = _workload(
            1.0 if rate is None else rate, *wl_args, prefix_share, num_prefixes, prefix_tokens,
            seed, profile, profile_period, max_work,
        )  # fmt: skip
    mean_isl, mean_osl = wl.mean_tokens()
    mean_ctx = float(mean_isl + mean_osl)
    cfg = replica_config(r, mean_ctx, spec, d)
    err = Console(stderr=True, highlight=False)
    if loaded is not None and loaded.quarantined:
        first = loaded.quarantined[0]
        err.print(
            f"[yellow]{len(loaded.quarantined)} trace row(s) quarantined[/yellow] (first: line "
            f"{first.line}: {escape(first.reason)}); replaying {wl.num_requests:,} rows."
        )
    search_out: dict[str, Any] | None = None
    if find_max_rate_flag:
        n = num_requests or max(int(wl.num_requests), 200)
        check_work(
            "simulate", 18.0 * (n + 1000.0 * replicas), max_work,
            "--find-max-rate (up to 18 runs) x (--num-requests + 1,000 x --replicas)",
        )  # fmt: skip

        def make(rt: float) -> WorkloadStream:
            return _workload(
                rt, arrival, shape, n, None, isl_mean, osl_mean, lengths, cv,
                prefix_share, num_prefixes, prefix_tokens, seed, None, 86_400.0, max_work,
            )  # fmt: skip

        search, probe = find_max_rate(
            make, cfg, slo, replicas=replicas, router=router, max_work=max_work
        )
        search_out = {
            "rate_req_s": search.rate_req_s,
            "sustainable_rate_req_s": probe.saturation.sustainable_rate_req_s,
            "probes": [{"rate_req_s": p, "passed": ok} for p, ok in search.probes],
            "reason": search.reason,
        }
        rate = search.rate_req_s if search.rate_req_s > 0 else None
        if rate is not None:
            wl = make(rate)
    res: SimResult | None = None
    if loop is not None or rate is not None or trace is not None or profile is not None:
        show = not (as_json or quiet) and sys.stderr.isatty()
        with _progress(show, wl.num_requests) as progress:
            res = simulate(
                wl,
                cfg,
                replicas=replicas,
                router=router,
                slo=slo if slo.is_set else None,
                progress=progress,
                max_work=max_work,
                closed_loop=loop,
            )
    head = (
        f"{r.model.id}: {replicas} replica(s) of {r.num_gpus}x {r.acc.id} (TP{r.tp}, "
        f"{r.weight_fmt.id}, "
        f"KV {r.kv_dtype}, engine {r.engine.id}); "
        + (
            f"closed loop of {loop.concurrency} client(s), {wl.num_requests:,} requests"
            if loop is not None
            else f"trace {trace}"
            if trace
            else f"rate profile over {plain(profile_period)} s"
            if profile
            else f"all {wl.num_requests:,} requests at t = 0"
            if rate is not None and math.isinf(rate)
            else f"{arrival} arrivals at {plain(rate)} req/s"
            if rate
            else ""
        )
    )
    if as_json:
        out: dict[str, Any] = {
            "model": r.model.id,
            "gpu": r.acc.id,
            "engine": r.engine.id,
            "num_gpus": r.num_gpus,
            "tp": r.tp,
            "weight_dtype": r.weight_fmt.id,
            "kv_dtype": r.kv_dtype,
            "arrival": "closed-loop"
            if loop is not None
            else "trace"
            if trace
            else "profile"
            if profile
            else ALL_AT_ONCE
            if rate is not None and math.isinf(rate)
            else arrival,
            "rate_req_s": None if rate is None or loop is not None or math.isinf(rate) else rate,
            "concurrency": None if loop is None else loop.concurrency,
            "seed": seed,
            "kv_capacity_tokens": cfg.kv_capacity_tokens,
            "quarantined_rows": len(loaded.quarantined) if loaded else 0,
            "result": res.to_dict() if res is not None else None,
            "max_rate_search": search_out,
        }
        sys.stdout.write(json.dumps(checked(out), indent=2) + "\n")
        return
    if res is not None:
        checked(res.to_dict())
    console = Console(highlight=False)
    if search_out is not None:
        sus = search_out["sustainable_rate_req_s"]
        console.print(
            f"max rate meeting the SLO: [bold]{search_out['rate_req_s']:,.2f} req/s[/bold] "
            f"(sustainable {sus:,.2f} req/s; {escape(search_out['reason'])})"
        )
    if res is not None:
        _render(res, head, console)
