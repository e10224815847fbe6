"""Bounded loopback load test of ``infercost serve``: requests/s and p50/p99 latency for
``POST /api/predict`` and ``POST /api/plan/search``, beside the in-process library call.

Starts the service on a free loopback port, sends a fixed number of requests (stopping early
at a fixed duration) from ``--clients`` concurrent connections, and prints one table. The
target on 2 cores: predict >= 300 requests/s with p99 < 100 ms and no errors.

    python benchmarks/api_load.py [--requests 3000] [--search-requests 60] [--clients 8]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import time
from typing import Any

import httpx
import numpy as np

from infercost.plan.search import search
from infercost.predict import predict

PREDICT = {"model": "llama-3.1-8b", "gpu": "H100", "isl": 1000, "osl": 300, "concurrency": 16}
SEARCH = {"model": "llama-3.1-8b", "isl": 1000, "osl": 300, "max_tpot_ms": 50, "gpu": ["H100"]}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _row(name: str, n: int, errors: int, elapsed: float, lat: list[float]) -> str:
    a = np.asarray(lat) * 1e3
    p50, p99 = (np.percentile(a, 50), np.percentile(a, 99)) if a.size else (np.nan, np.nan)
    return f"{name:<34} {n:>6} {errors:>6} {n / elapsed:>10.1f} {p50:>9.2f} {p99:>9.2f}"


async def _load(
    url: str, body: dict[str, Any], total: int, clients: int, max_s: float
) -> tuple[int, int, float, list[float]]:
    lat: list[float] = []
    errors = 0
    sent = 0
    deadline = time.perf_counter() + max_s
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def worker() -> None:
            nonlocal sent, errors
            while sent < total and time.perf_counter() < deadline:
                sent += 1
                t = time.perf_counter()
                r = await client.post(url, json=body)
                lat.append(time.perf_counter() - t)
                if r.status_code != 200:
                    errors += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - start
    return len(lat), errors, elapsed, lat


def _in_process(fn: Any, n: int) -> tuple[int, int, float, list[float]]:
    lat = []
    start = time.perf_counter()
    for _ in range(n):
        t = time.perf_counter()
        fn()
        lat.append(time.perf_counter() - t)
    return n, 0, time.perf_counter() - start, lat


def main() -> None:
    """Run the load test and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=3000, help="predict requests")
    ap.add_argument("--search-requests", type=int, default=60, help="plan search requests")
    ap.add_argument("--clients", type=int, default=8, help="concurrent connections")
    ap.add_argument("--max-seconds", type=float, default=60.0, help="stop each run after")
    args = ap.parse_args()

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "infercost", "serve", "--port", str(port), "--log-level",
         "warning"],
    )  # fmt: skip
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        for body, path in ((PREDICT, "/api/predict"), (SEARCH, "/api/plan/search")):
            httpx.post(base + path, json=body, timeout=60).raise_for_status()  # warm caches
        predict(**PREDICT)
        search("llama-3.1-8b", 1000, 300, max_tpot_s=0.05, gpus=["H100"])

        print(f"{'run':<34} {'reqs':>6} {'errors':>6} {'req/s':>10} {'p50 ms':>9} {'p99 ms':>9}")
        print(_row("predict, in-process (baseline)", *_in_process(
            lambda: predict(**PREDICT), min(args.requests, 1000))))  # fmt: skip
        res = asyncio.run(
            _load(base + "/api/predict", PREDICT, args.requests, args.clients, args.max_seconds)
        )
        print(_row(f"POST /api/predict, {args.clients} clients", *res))
        print(_row("plan search, in-process (baseline)", *_in_process(
            lambda: search("llama-3.1-8b", 1000, 300, max_tpot_s=0.05, gpus=["H100"]),
            min(args.search_requests, 30))))  # fmt: skip
        res = asyncio.run(
            _load(base + "/api/plan/search", SEARCH, args.search_requests, min(args.clients, 4),
                  args.max_seconds)
        )  # fmt: skip
        print(_row(f"POST /api/plan/search, {min(args.clients, 4)} clients", *res))
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
