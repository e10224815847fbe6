"""Speed of one scalar ``infercost.predict()`` call against llm-analysis's equivalent call.

Both run in this process, warm, interleaved in rounds (so load on a shared machine hits both
alike), with the garbage collector off while timing (as ``timeit`` does); the figure is the
median time per call.

infercost: ``predict("llama-3.1-8b", "H100", 1000, 300, concurrency=8)`` (names resolved,
fit, throughput, latency, $/M and error band, every call). A second figure varies the prompt
length every call (1000..1063 tokens), so nothing keyed on the workload can be reused between
calls: only per-deployment constants (the KV budget, the step constants) are.

llm-analysis (cli99/llm-analysis, ``pip install llm-analysis``; not a project dependency):
``LLMAnalysis(model, gpu, dtype, parallelism).inference(batch_size_per_gpu=8, seq_len=1000,
num_tokens_to_generate=300)`` per call, the model and GPU configs built once (as infercost's
catalog entries are cached). Model: Llama-3.1-8B's shapes (32 layers, 32 heads, 8 KV heads,
hidden 4096, vocab 128256) with a 2-matrix FFN of width 21504 = 1.5 x 14336 (llm-analysis
models an up/down MLP; 1.5x the width gives the gated MLP's weights); GPU: its
``h100-sxm-80gb`` config; dtype ``w16a16e16``; TP 1. Its logger is set to ERROR so that no
console output is timed. It ties the embeddings (7.50 B parameters against 8.03 B), which
does not change the amount of work per call.

Run: python benchmarks/predict_speed.py [--calls 500] [--rounds 7] [--profile]
Target: infercost at least 2x llm-analysis per call (ratio = llm-analysis time / infercost
time).

Measured (2 shared cores; the absolute figures move with the machine's load, the interleaved
ratio much less): before issue 15's pass 163 against 179 µs/call, 1.10x (fixed isl); after it
(closed_loop_mixed's scalar path, the deployment's memory constants and error band kept)
112-116 against 233-241 µs/call, 2.07x fixed isl and 2.05-2.07x with isl varying per call;
at 4b1ac1a 77.7-78.0 against 173-176 µs/call, 2.19-2.26x (load average 1.7-1.8). After the
second pass (the serving scalar paths step on floats, ``perf.step.step_floats``; the domain
checks and the error band's key lighter), eight runs at load average 1.1-1.3: 59.0-82.7
against 174-223 µs/call, 2.64-2.95x fixed isl and 2.64-2.93x with isl varying; 2.54x in one
run beside the test suite (load 2.2).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib.util
import logging
import pstats
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from infercost.predict import predict

TARGET_RATIO = 2.0
ARGS: dict[str, Any] = {"model": "llama-3.1-8b", "gpu": "H100", "isl": 1000, "osl": 300}


def infercost_call() -> object:
    return predict(ARGS["model"], ARGS["gpu"], ARGS["isl"], ARGS["osl"], concurrency=8)


def infercost_varying() -> Callable[[], object]:
    """predict() with a different prompt length on every call (1000..1063, cycling)."""
    state = {"i": 0}

    def call() -> object:
        state["i"] = (state["i"] + 1) % 64
        return predict(ARGS["model"], ARGS["gpu"], 1000 + state["i"], 300, concurrency=8)

    return call


def llm_analysis_call() -> Callable[[], object] | None:
    """The equivalent llm-analysis call, or None when the package is not installed."""
    if importlib.util.find_spec("llm_analysis") is None:
        return None
    from llm_analysis.analysis import LLMAnalysis, logger
    from llm_analysis.config import (
        ModelConfig,
        ParallelismConfig,
        get_dtype_config_by_name,
        get_gpu_config_by_name,
    )

    logger.setLevel(logging.ERROR)
    model = ModelConfig(
        name="meta-llama_Llama-3.1-8B",
        num_layers=32,
        n_head=32,
        hidden_dim=4096,
        vocab_size=128256,
        max_seq_len=131072,
        num_key_value_heads=8,
        ffn_embed_dim=21504,
        expansion_ratio=5.25,
        model_type="llama",
    )
    gpu = get_gpu_config_by_name("h100-sxm-80gb")
    dtype = get_dtype_config_by_name("w16a16e16")

    def call() -> object:
        analysis = LLMAnalysis(model, gpu, dtype, ParallelismConfig(tp_size=1, pp_size=1))
        return analysis.inference(batch_size_per_gpu=8, seq_len=1000, num_tokens_to_generate=300)

    return call


def time_calls(fn: Callable[[], object], calls: int) -> list[float]:
    out = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def count_asarray(fn: Callable[[], object]) -> int:
    """``np.asarray`` calls made by one call of ``fn`` (modules look it up on numpy)."""
    original = np.asarray
    n = 0

    def counting(*a: Any, **k: Any) -> Any:
        nonlocal n
        n += 1
        return original(*a, **k)

    np.asarray = counting  # type: ignore[assignment]
    try:
        fn()
    finally:
        np.asarray = original
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500, help="calls per round per contender")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of predict()")
    args = parser.parse_args()

    contenders: dict[str, Callable[[], object]] = {
        "infercost predict()": infercost_call,
        "infercost predict(), isl varies": infercost_varying(),
    }
    lla = llm_analysis_call()
    if lla is None:
        print("llm-analysis is not installed (pip install llm-analysis): timing infercost only.")
    else:
        contenders["llm-analysis inference()"] = lla
    for fn in contenders.values():  # warm: imports, catalog caches
        fn()
        fn()
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    gc.collect()
    gc.disable()  # as timeit does: a collection would land on whichever call allocates next
    try:
        for _ in range(max(args.rounds, 1)):
            for name, fn in contenders.items():
                samples[name] += time_calls(fn, args.calls)
    finally:
        gc.enable()
    median_us = {name: statistics.median(s) * 1e6 for name, s in samples.items()}

    print(
        f"{args.rounds} rounds x {args.calls} calls each, interleaved; median per call "
        f"(Llama-3.1-8B, H100, batch 8, isl 1000, osl 300)"
    )
    for name, us in median_us.items():
        print(f"  {name:34s} {us:9.1f} µs/call")
    print(f"  np.asarray calls per predict(): {count_asarray(infercost_call)}")
    if lla is not None:
        for name in ("infercost predict()", "infercost predict(), isl varies"):
            ratio = median_us["llm-analysis inference()"] / median_us[name]
            verdict = "meets" if ratio >= TARGET_RATIO else "misses"
            print(
                f"  {name}: {ratio:.2f}x llm-analysis per call ({verdict} the "
                f"{TARGET_RATIO:g}x target)"
            )
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(200):
            infercost_call()
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
