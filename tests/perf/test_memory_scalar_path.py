"""The scalar path of ``cache_bytes_per_sequence_per_gpu`` equals the array path to the bit.

Scalar ``predict()`` (issue 15) takes ``sequence_cache_terms``; the numpy formula, evaluated
here through a 0-d array context (which keeps the array path), is the reference.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from infercost.catalog import load_models
from infercost.perf.memory import cache_bytes_per_sequence_per_gpu, max_concurrency

CONTEXTS = (1.0, 300.0, 1300.0, 4097.5, 131072.0, 1_000_000.0)
LAYOUTS = ((1, 1), (2, 1), (4, 2), (8, 1), (16, 2), (64, 4))


@pytest.mark.parametrize("kv_bytes", [2.0, 1.0, 0.5])
def test_scalar_path_equals_array_path_for_every_catalogued_model(kv_bytes: float) -> None:
    checked = 0
    for m, ctx, (tp, pp) in itertools.product(load_models(), CONTEXTS, LAYOUTS):
        fast = cache_bytes_per_sequence_per_gpu(m, ctx, kv_bytes, tp, pp)
        ref = cache_bytes_per_sequence_per_gpu(m, np.asarray(ctx), kv_bytes, tp, pp)
        assert float(fast) == float(ref), (m.id, ctx, tp, pp)
        assert np.shape(fast) == ()
        checked += 1
    assert checked > 1000


def test_arrays_still_broadcast() -> None:
    m = load_models()[0]
    out = cache_bytes_per_sequence_per_gpu(
        m, np.array([100.0, 1000.0]), 2.0, np.array([[1], [2]]), 1
    )
    assert out.shape == (2, 2)
    assert out[1, 0] == float(cache_bytes_per_sequence_per_gpu(m, 100.0, 2.0, 2, 1))


@pytest.mark.parametrize(
    ("kv", "per_seq"),
    [(58.9e9, 170393600.0), (-3.0e9, 1.0e6), (0.0, 5.0), (1.0e6, 1.0e6), (123456.789, 0.001)],
)
def test_max_concurrency_scalar_path_equals_the_array_path(kv: float, per_seq: float) -> None:
    fast = max_concurrency(kv, per_seq)
    ref = max_concurrency(np.asarray(kv), np.asarray(per_seq))
    assert float(fast) == float(ref) and np.shape(fast) == ()
