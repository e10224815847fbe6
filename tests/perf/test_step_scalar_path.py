"""The scalar path of ``mixed_step`` gives the array path's results to the bit.

``mixed_step`` takes Python floats through ``_mixed_step_scalar`` (issue 15: scalar
``predict()`` speed); the numpy implementation ``_mixed_step_array`` is the reference. Both do
the same IEEE double operations in the same order, so the results must be equal, not close.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from infercost.catalog import get_accelerator, get_engine, get_quant_format, load_models
from infercost.errors import InputError
from infercost.perf.step import (
    StepModel,
    _mixed_step_array,
    decode_step,
    mixed_step,
    prefill_step,
    scalar_step_constants,
    step_floats,
    step_model,
    with_expert_parallel,
)

FIELDS = ("memory_s", "compute_s", "comm_s", "overhead_s", "total_s", "read_bytes", "flop")

#: (decode seqs, decode context, prefill tokens, prefill context before, prefill seqs)
POINTS = [
    (1.0, 1.0, 0.0, 0.0, 0.0),
    (8.0, 1150.0, 0.0, 0.0, 0.0),
    (7.0, 1150.0, 1000.0, 0.0, 1.0),
    (0.0, 0.0, 8192.0, 4096.0, 1.0),
    (255.0, 70000.0, 3000.5, 120000.0, 2.5),
    (0.0, 0.0, 0.0, 0.0, 0.0),
    (31.0, 2.5, 17.0, 3.0, 4.0),
]


def _models() -> list[StepModel]:
    out = []
    engines = [get_engine("vllm"), get_engine("trtllm")]
    for arch, (gpu, tp, pp, ep, dp) in itertools.product(
        load_models(), [("H100", 1, 1, 1, 1), ("H200", 8, 2, 1, 1), ("L40S", 2, 1, 1, 2)]
    ):
        acc = get_accelerator(gpu)
        fmt = get_quant_format(
            arch.checkpoint_dtype if arch.checkpoint_dtype != "fp32" else "bf16"
        )
        if arch.num_heads % tp or arch.num_layers < pp:
            continue
        try:
            sm = step_model(arch, acc, fmt, 2.0, engines[tp % 2], tp, pp, ep)
        except InputError:
            continue
        if arch.is_moe and dp > 1:
            sm = with_expert_parallel(arch, sm, dp, tp, dp * tp, pp)
        out.append(sm)
    return out


MODELS = _models()


def test_the_catalog_gives_enough_step_models() -> None:
    assert len(MODELS) > 80


@pytest.mark.parametrize("point", POINTS)
def test_scalar_path_equals_array_path_bit_for_bit(point: tuple[float, ...]) -> None:
    for sm in MODELS:
        fast = mixed_step(sm, *point)
        ref = _mixed_step_array(sm, *point)
        for f in FIELDS:
            assert float(getattr(fast, f)) == float(getattr(ref, f)), (sm, point, f)


def test_numpy_scalar_and_0d_inputs_take_the_scalar_path_with_the_same_result() -> None:
    sm = MODELS[0]
    a = mixed_step(sm, np.asarray(8.0), np.float64(1150.0), 100, 0.0, np.asarray(1.0))
    b = _mixed_step_array(sm, 8.0, 1150.0, 100.0, 0.0, 1.0)
    assert isinstance(a.total_s, np.float64)
    assert all(float(getattr(a, f)) == float(getattr(b, f)) for f in FIELDS)


def test_arrays_still_broadcast() -> None:
    sm = MODELS[0]
    t = decode_step(sm, np.array([1.0, 8.0, 64.0]), np.array([[100.0], [1000.0]])).total_s
    assert t.shape == (2, 3)
    for i, ctx in enumerate((100.0, 1000.0)):
        for j, b in enumerate((1.0, 8.0, 64.0)):
            assert t[i, j] == float(decode_step(sm, b, ctx).total_s)
    assert np.shape(prefill_step(sm, np.array([128.0, 512.0])).total_s) == (2,)


def test_an_array_field_in_the_step_model_takes_the_array_path() -> None:
    sm = dataclasses.replace(MODELS[0], mbu=np.array([0.5, 0.8]))
    assert np.shape(decode_step(sm, 8.0, 1000.0).total_s) == (2,)


@pytest.mark.parametrize("point", POINTS)
def test_step_floats_equal_the_array_path_bit_for_bit(point: tuple[float, ...]) -> None:
    """The serving scalar paths read steps as floats (``step_floats``, no numpy scalars):
    the same bits as ``_mixed_step_array``, field for field in StepTime's order."""
    for sm in MODELS:
        c = scalar_step_constants(sm)
        assert c is not None, sm
        ref = _mixed_step_array(sm, *point)
        assert step_floats(c, *point) == tuple(float(getattr(ref, f)) for f in FIELDS), (
            sm,
            point,
        )


def test_no_scalar_constants_for_an_array_field_or_a_zero_divisor() -> None:
    """Where ``scalar_step_constants`` gives None, ``mixed_step`` (and the serving scalar
    paths, which then decline) take the array path: numpy's inf/nan, not a ZeroDivisionError."""
    assert scalar_step_constants(dataclasses.replace(MODELS[0], mbu=np.array([0.5, 0.8]))) is None
    zero_bw = dataclasses.replace(MODELS[0], mbu=0.0)
    assert scalar_step_constants(zero_bw) is None
    with np.errstate(divide="ignore", invalid="ignore"):
        assert np.isinf(float(decode_step(zero_bw, 8.0, 1000.0).memory_s))
