"""Simulator speed: simulated requests per second of wall time for 10^5 requests.

One replica of Llama-3.1-8B on one H100 (vLLM profile: continuous batching, chunked prefill
with an 8,192-token budget, 256 sequences), log-normal prompts (mean 512) and outputs (mean
256), Poisson arrivals at the loads below. The baseline is the same scheduler stepped one
iteration at a time through ``perf.step.mixed_step`` (``simulate(..., reference=True)``), run
in this process on the first requests of the same workload; its rate is extrapolated.
Target (issue 7): 10^5 requests in under 10 s on a 2-core machine.

Run: python benchmarks/sim_speed.py [--requests 100000] [--baseline-requests 2000]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from infercost.perf.step import step_model
from infercost.predict import kv_budget_bytes_per_gpu, kv_bytes_per_seq_per_gpu, resolve
from infercost.sim import (
    LogNormal,
    ReplicaConfig,
    Workload,
    poisson_arrivals,
    simulate,
    synthetic_workload,
)

LOADS_REQ_S = (2.0, 15.0, 30.0)  # light, moderate, near the ~35 req/s capacity


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


def _workload(rate: float, n: int, seed: int = 0) -> Workload:
    rng = np.random.default_rng(seed)
    arr = poisson_arrivals(rate, rng, num_requests=n)
    return synthetic_workload(arr, LogNormal(512, 256, 4096), LogNormal(256, 128, 2048), rng)


def _head(wl: Workload, n: int) -> Workload:
    return Workload(
        wl.arrival_s[:n],
        wl.input_tokens[:n],
        wl.output_tokens[:n],
        wl.prefix_id[:n],
        wl.prefix_tokens[:n],
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--requests", type=int, default=100_000)
    ap.add_argument("--baseline-requests", type=int, default=2000)
    args = ap.parse_args()
    cfg = _config()
    print(f"CPU cores visible: {os.cpu_count()}; {args.requests:,} requests per run")
    print(
        f"{'load req/s':>10s} {'wall s':>8s} {'sim req/s wall':>15s} {'iterations':>11s} "
        f"{'runs':>9s} {'baseline req/s':>15s} {'speed-up':>9s} {'overloaded':>10s}"
    )
    worst_s = 0.0
    for rate in LOADS_REQ_S:
        wl = _workload(rate, args.requests)
        t0 = time.perf_counter()
        res = simulate(wl, cfg)
        wall = time.perf_counter() - t0
        worst_s = max(worst_s, wall)
        head = _head(wl, args.baseline_requests)
        t1 = time.perf_counter()
        ref = simulate(head, cfg, reference=True)
        ref_wall = time.perf_counter() - t1
        fast_head = simulate(head, cfg)
        agree = np.nanmax(
            np.abs(fast_head.requests.finish_s - ref.requests.finish_s) / ref.requests.finish_s
        )
        base_rate = args.baseline_requests / ref_wall
        print(
            f"{rate:10.1f} {wall:8.2f} {args.requests / wall:15,.0f} "
            f"{res.replicas[0].iterations:11,d} {res.replicas[0].decode_runs:9,d} "
            f"{base_rate:15,.0f} {args.requests / wall / base_rate:8.0f}x "
            f"{res.saturation.overloaded!s:>10s}   (finish times vs baseline: max rel diff "
            f"{agree:.1e}, from iterations with several prompt chunks, which mixed_step "
            "averages)"
        )
    verdict = "meets" if worst_s < 10.0 else "MISSES"
    print(
        f"slowest run: {worst_s:.2f} s for {args.requests:,} requests ({verdict} the 10 s target)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
