"""Simulator speed and memory: 10^6 requests, streamed, against an in-memory baseline.

One replica of Llama-3.1-8B on one H100 (vLLM profile: continuous batching, chunked prefill
with an 8,192-token budget, 256 sequences), log-normal prompts (mean 512) and outputs (mean
256), Poisson arrivals at the loads below. Each load is simulated twice, each run in a child
process of its own so that its peak RSS (``ru_maxrss``) is its own:

- **baseline**: the workload materialized (``synthetic_workload``: every request's arrays in
  memory) and every per-request timing kept (``keep_requests=True``), the memory model of the
  simulator before streaming;
- **streamed**: the same requests drawn in chunks (``WorkloadStream``) and reduced to five
  latencies per request as they finish (float32 past 2^21 requests).

Both runs must give the same summary (same requests, same scheduler; float32 rounding
only). A third figure is the reference stepper (every iteration through
``perf.step.mixed_step``) on the first ``--baseline-requests`` requests, extrapolated.

Targets (issue 16): 10^6 requests in under 5 s on 2 cores; memory proportional to requests
in flight. Recorded before streaming (commit 0d31bcf, this 2-core machine, ``/usr/bin/time
-v infercost simulate --model llama-3.1-8b --gpu H100 --isl 1000 --osl 300 --rate 5
--num-requests 1000000 --json``): 48.6 s wall, 796 MB peak RSS. After the decode-line
fast path (2026-12-07, same command, machine at load 3): 53.4 s -> 29.8 s wall (37.7 ->
24.7 s user), 174 MB; this benchmark at 15 req/s: streamed 37.6 s, 154 MB. After the loop
in locals, fed chunks and batched records (2026-12-07, second pass, load 3-5): streamed CPU
seconds 13-21 at 2/15/30 req/s against 21-28 before, 155 MB. Third pass (2026-12-07,
load 2.7-3.7, ``--before-src`` with the simulator of ab81bba): streamed CPU seconds 9.46 ->
7.92, 9.10 -> 7.80 and 8.70 -> 6.39 at 2/15/30 req/s, 155-157 MB; 10^7 requests at 30 req/s
(``--streamed-only``) 63 s of CPU and 326 MB. Fourth pass (2026-12-07, load 2.4-2.6,
``--before-src`` with the simulator of 2b4d1a7, engine profiles of 3ff857b): streamed CPU
seconds 6.67 -> 4.15, 6.50 -> 4.21 and 5.12 -> 3.80 at 2/15/30 req/s, 122-126 MB: under the
5 s target in CPU time at every load (wall time up to 5.3 s here, 6.6 s at load 4). Fifth
pass (2026-12-07, load 2.0-2.9, ``--before-src`` with 482e244's simulator over the same
profiles, alternating child runs): streamed CPU seconds 4.29-4.51 -> 4.01-4.02, 4.11-4.39 ->
3.99-4.12 and 4.09-4.44 -> 4.05-4.11 at 2/15/30 req/s, 124-131 MB (no quiet-machine figure);
docs/simulator.md "Measured figures" has the details.

The verdict is judged on the slowest streamed run's CPU seconds (``time.process_time`` of
its process): on a machine shared with other work the wall time also counts the time the
run waited for a core.

Run: python benchmarks/sim_speed.py [--requests 1000000] [--loads 2,15,30]
     [--streamed-only] [--before-src DIR]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import subprocess
import sys
import time
from typing import Any

import numpy as np

from infercost.perf.step import step_model
from infercost.predict import kv_budget_bytes_per_gpu, kv_bytes_per_seq_per_gpu, resolve
from infercost.sim import (
    LogNormal,
    ReplicaConfig,
    SimResult,
    Workload,
    WorkloadStream,
    gamma_arrival_plan,
    simulate,
    synthetic_workload,
)

TARGET_S = 5.0


def _config() -> ReplicaConfig:
    r = resolve("llama-3.1-8b", "H100", engine="vllm")
    sm = step_model(r.model, r.acc, r.weight_fmt, r.kv_bytes_per_elem, r.engine, r.tp, r.pp, r.ep)
    _, _, kv = kv_budget_bytes_per_gpu(r)
    return ReplicaConfig(
        sm,
        r.engine.max_num_seqs,
        r.engine.max_num_batched_tokens,
        kv / kv_bytes_per_seq_per_gpu(r, 768.0) * 768.0,
        request_overhead_s=r.engine.request_overhead_s,
    )


def _stream(rate: float, n: int, seed: int = 0) -> WorkloadStream:
    plan = gamma_arrival_plan(rate, 1.0, num_requests=n, max_work=float(n) + 1e3)
    return WorkloadStream(
        plan, LogNormal(512, 256, 4096), LogNormal(256, 128, 2048), np.random.default_rng(seed)
    )


def _materialized(rate: float, n: int, seed: int = 0) -> Workload:
    rng = np.random.default_rng(seed)
    plan = gamma_arrival_plan(rate, 1.0, num_requests=n, max_work=float(n) + 1e3)
    return synthetic_workload(
        plan.materialize(rng), LogNormal(512, 256, 4096), LogNormal(256, 128, 2048), rng
    )


def _figures(res: SimResult) -> dict[str, Any]:
    s = res.summary
    return {
        "completed": s.completed,
        "ttft_p99": s.ttft.p99,
        "e2e_mean": s.e2e.mean,
        "tpot_p50": s.tpot.p50,
        "output_tok_s": s.output_tok_s,
        "overloaded": res.saturation.overloaded,
        "iterations": res.replicas[0].iterations,
    }


def _child(kind: str, rate: float, n: int, out: Any) -> None:
    cfg = _config()
    t0 = time.perf_counter()
    c0 = time.process_time()
    if kind == "streamed":
        res = simulate(_stream(rate, n), cfg, max_work=n + 1e4, keep_requests=False)
    else:
        res = simulate(_materialized(rate, n), cfg, max_work=n + 1e4, keep_requests=True)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3  # KiB on Linux
    out.send((wall, cpu, rss_mb, _figures(res)))


def _run(kind: str, rate: float, n: int) -> tuple[float, float, float, dict[str, Any]]:
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_child, args=(kind, rate, n, send))
    p.start()
    result: tuple[float, float, float, dict[str, Any]] = recv.recv()
    p.join()
    return result


def _run_tree(src: str, rate: float, n: int) -> tuple[float, float, float, dict[str, Any]]:
    """The streamed run with the package from another source tree (``--before-src``): this
    script in a child interpreter whose ``PYTHONPATH`` puts ``src`` first."""
    env = {**os.environ, "PYTHONPATH": src}
    cmd = [sys.executable, __file__, "--child-streamed", str(rate), "--requests", str(n)]
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    wall, cpu, mb, fig = json.loads(out.strip().splitlines()[-1])
    return wall, cpu, mb, fig


def _reference_rate(rate: float, n: int) -> float:
    wl = _materialized(rate, n)
    t0 = time.perf_counter()
    simulate(wl, _config(), reference=True)
    return n / (time.perf_counter() - t0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--requests", type=int, default=1_000_000)
    ap.add_argument("--loads", default="2,15,30", help="req/s, comma-separated")
    ap.add_argument("--baseline-requests", type=int, default=2000)
    ap.add_argument(
        "--streamed-only",
        action="store_true",
        help="skip the in-memory baseline and the reference stepper (for 10^7 requests)",
    )
    ap.add_argument(
        "--before-src",
        metavar="DIR",
        help="also run the streamed case with the package under DIR (e.g. a copy of src/ at "
        "an earlier commit) and print the CPU ratio",
    )
    ap.add_argument("--child-streamed", type=float, help=argparse.SUPPRESS)
    args = ap.parse_args()
    n = args.requests
    if args.child_streamed is not None:
        wall, cpu, mb, fig = _run("streamed", args.child_streamed, n)
        print(json.dumps([wall, cpu, mb, fig]))
        return 0
    loads = [float(x) for x in args.loads.split(",")]
    print(f"CPU cores visible: {os.cpu_count()}; {n:,} requests per run; one child process each")
    print(
        f"{'load req/s':>10s} {'run':>9s} {'wall s':>8s} {'CPU s':>7s} {'peak RSS MB':>12s} "
        f"{'sim req/s':>10s} {'ttft p99 s':>11s} {'e2e mean s':>11s} {'overloaded':>10s}"
    )
    worst_s = 0.0
    worst_cpu = 0.0
    worst_mb = 0.0
    for rate in loads:
        kinds = ("streamed",) if args.streamed_only else ("baseline", "streamed")
        rows = {kind: _run(kind, rate, n) for kind in kinds}
        if args.before_src:
            rows["before"] = _run_tree(args.before_src, rate, n)
        for kind, (wall, cpu, mb, f) in rows.items():
            print(
                f"{rate:10.1f} {kind:>9s} {wall:8.2f} {cpu:7.2f} {mb:12.0f} {n / wall:10,.0f} "
                f"{f['ttft_p99']:11.4g} {f['e2e_mean']:11.4g} {f['overloaded']!s:>10s}"
            )
        worst_s = max(worst_s, rows["streamed"][0])
        worst_cpu = max(worst_cpu, rows["streamed"][1])
        worst_mb = max(worst_mb, rows["streamed"][2])
        if "before" in rows:
            b, a = rows["before"], rows["streamed"]
            print(
                f"{'':10s} streamed vs --before-src: CPU {b[1]:.2f} s -> {a[1]:.2f} s "
                f"({b[1] / a[1]:.2f}x), same summary {b[3] == a[3]}"
            )
        if args.streamed_only:
            continue
        base, streamed = rows["baseline"][3], rows["streamed"][3]
        worst_diff = max(
            abs(streamed[k] - base[k]) / abs(base[k]) if base[k] else abs(streamed[k])
            for k in ("ttft_p99", "e2e_mean", "tpot_p50", "output_tok_s")
        )
        same = streamed["completed"] == base["completed"] and (
            streamed["iterations"] == base["iterations"]
        )
        ref = _reference_rate(rate, args.baseline_requests)
        print(
            f"{'':10s} streamed vs baseline: same requests and iterations {same}, largest "
            f"relative difference of the summary {worst_diff:.1e} (float32 latencies past "
            f"2^21 requests); reference stepper {ref:,.0f} req/s "
            f"({n / rows['streamed'][0] / ref:.0f}x slower than streamed)"
        )
    verdict = "meets" if worst_cpu < TARGET_S else "MISSES"
    print(
        f"slowest streamed run: {worst_cpu:.2f} s of CPU for {n:,} requests ({verdict} the "
        f"{TARGET_S:g} s target); longest wall time {worst_s:.2f} s (on a machine shared "
        f"with other work it also counts waiting for a core); largest peak RSS "
        f"{worst_mb:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
