"""Step-time model over a broadcast grid vs a per-configuration Python loop (same run).

Grid: every catalogued accelerator with a bf16 or fp8 figure x TP {1, 2, 4, 8} x weight dtype
{bf16, fp8} x 64 batch sizes x 64 context lengths, for Llama-3.1-70B under the vLLM profile.
Target (issue 3): >= 1e5 configurations per second on a 2-core machine.

Run: python benchmarks/sweep_speed.py
"""

from __future__ import annotations

import time

import numpy as np

from infercost.catalog import get_engine, get_model, get_quant_format, load_accelerators
from infercost.errors import InputError
from infercost.perf.step import StepModel, mixed_step, step_model
from infercost.perf.sweep import stack_step_models


def build() -> list[StepModel]:
    m = get_model("llama-3.1-70b")
    eng = get_engine("vllm")
    out = []
    for acc in load_accelerators():
        for dtype in ("bf16", "fp8"):
            for tp in (1, 2, 4, 8):
                try:
                    out.append(step_model(m, acc, get_quant_format(dtype), 2.0, eng, tp=tp))
                except InputError:
                    continue  # accelerator without a published tensor figure (A10G)
    return out


def main() -> None:
    models = build()
    batch = np.unique(np.geomspace(1, 1024, 64).round())
    batch = np.concatenate([batch, np.arange(1100, 1100 + (64 - batch.size) * 10, 10)])[:64]
    context = np.linspace(128, 32768, 64)
    t0 = time.perf_counter()
    grid = stack_step_models(models)
    res = mixed_step(grid, batch[None, :, None], context[None, None, :])
    total = res.total_s
    t_grid = time.perf_counter() - t0
    n = total.size
    print(
        f"grid: {len(models)} deployments x {batch.size} batches x {context.size} contexts "
        f"= {n:,} configurations in {t_grid * 1e3:.1f} ms -> {n / t_grid:,.0f} configs/s"
    )

    sample = 2000
    rng = np.random.default_rng(0)
    idx = rng.integers(0, [len(models), batch.size, context.size], size=(sample, 3))
    t0 = time.perf_counter()
    loop_vals = [
        float(mixed_step(models[i], float(batch[j]), float(context[k])).total_s) for i, j, k in idx
    ]
    t_loop = time.perf_counter() - t0
    per_s_loop = sample / t_loop
    print(
        f"loop: {sample} configurations one by one in {t_loop * 1e3:.0f} ms -> "
        f"{per_s_loop:,.0f} configs/s"
    )
    print(f"speed-up of the broadcast grid: {n / t_grid / per_s_loop:,.0f}x")
    worst = max(
        abs(v - float(total[i, j, k])) / v for v, (i, j, k) in zip(loop_vals, idx, strict=True)
    )
    print(f"max relative difference grid vs loop on the sample: {worst:.1e}")


if __name__ == "__main__":
    main()
