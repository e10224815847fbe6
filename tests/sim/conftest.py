"""Factories for simulator tests: synthetic step models whose times are easy to derive."""

from __future__ import annotations

from typing import Any

import pytest
from sim_types import StepFactory

from infercost.perf.step import StepModel


def _make_step(**kw: Any) -> StepModel:
    """A StepModel with round numbers. Defaults: 1e10 weight bytes read at 1e12 B/s with
    MBU 1 (10 ms per step), no KV cache, no FLOP, no communication, no overhead, so every
    iteration takes exactly 10 ms unless a test says otherwise."""
    fields: dict[str, Any] = {
        "dense_bytes": 1e10,
        "expert_bytes": 0.0,
        "num_experts": 0,
        "experts_per_token": 0,
        "kv_layer_token_bytes": 0.0,
        "full_layers": 1.0,
        "sliding_layers": 0.0,
        "sliding_window": 0.0,
        "linear_flop_per_token": 0.0,
        "lm_head_flop_per_seq": 0.0,
        "attn_flop_per_ctx": 0.0,
        "hidden_size": 1,
        "mem_bw_bytes_s": 1e12,
        "peak_flop_s": 1e15,
        "mbu": 1.0,
        "mfu": 1.0,
        "step_overhead_s": 0.0,
        "allreduce_latency_s": 0.0,
        "tp": 1,
        "pp": 1,
        "link_bytes_s": 1e11,
        "comm_efficiency": 1.0,
        "token_overhead_s": 0.0,
    }
    fields.update(kw)
    return StepModel(**fields)


@pytest.fixture
def make_step() -> StepFactory:
    """The factory (keyword overrides of the round-number StepModel)."""
    return _make_step
