"""Scalar paths of ``steady_state``, ``closed_loop_mixed`` and ``split_usd_per_m`` equal their
array paths to the bit (issue 15: scalar ``predict()`` speed). 0-d arrays keep the array path,
the reference."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from infercost.catalog import get_accelerator, get_engine, get_quant_format, load_models
from infercost.cost.tokens import split_usd_per_m
from infercost.errors import InputError
from infercost.perf.serving import ServingPoint, _Figures, closed_loop_mixed, steady_state
from infercost.perf.step import step_model

FIELDS = ServingPoint.__slots__


def _models() -> list[object]:
    out = []
    for arch, (gpu, tp) in itertools.product(load_models(), [("H100", 1), ("H200", 8)]):
        fmt = get_quant_format(
            arch.checkpoint_dtype if arch.checkpoint_dtype != "fp32" else "bf16"
        )
        if arch.num_heads % tp:
            continue
        try:
            out.append(step_model(arch, get_accelerator(gpu), fmt, 2.0, get_engine("vllm"), tp))
        except InputError:
            continue
    return out


MODELS = _models()
POINTS = [
    (1.0, 128.0, 1.0, 8192.0, 0.0, 0.0),
    (8.0, 1000.0, 300.0, 8192.0, 0.012, 0.0),
    (64.0, 20000.0, 200.0, 2048.0, 0.0, 0.5),
    (255.0, 3000.0, 3000.0, 8192.0, 0.02, 0.1),
    (600.0, 20000.0, 200.0, 8192.0, 0.0, 0.0),  # the token budget binds: array path
]


@pytest.mark.parametrize("point", POINTS)
def test_steady_state_scalar_equals_array(point: tuple[float, ...]) -> None:
    for sm in MODELS:
        fast = steady_state(sm, *point)  # type: ignore[arg-type]
        ref = steady_state(sm, *map(np.asarray, point))  # type: ignore[arg-type]
        for f in FIELDS:
            assert float(getattr(fast, f)) == float(getattr(ref, f)), (sm, point, f)


@pytest.mark.parametrize(
    "args",
    [(3.49, 889.92, 1000, 300, 0.0189), (16.0, 12345.6, 128, 1, 0.5), (2.0, 1.0, 1, 4096, 0.999)],
)
def test_split_usd_per_m_scalar_equals_array(args: tuple[float, ...]) -> None:
    fast = split_usd_per_m(*args)
    ref = split_usd_per_m(*map(np.asarray, args))
    assert [float(x) for x in fast] == [float(x) for x in ref]


@pytest.mark.parametrize(
    "point",
    [*POINTS, (0.5, 500.0, 100.0, 8192.0, 0.0, 0.0), (16.0, 700.0, 50.0, 4096.0, 0.01, 0.3)],
)
@pytest.mark.parametrize("wave_sync", [1.0, 0.75, 0.0])
def test_closed_loop_mixed_scalar_equals_array(point: tuple[float, ...], wave_sync: float) -> None:
    """The closed loop's scalar path (synchronised waves and waves over several iterations,
    fewer clients than one, desynchronised arrivals) against its array path."""
    for sm in MODELS:
        for waves in (10.0, 1.0):
            fast = closed_loop_mixed(sm, *point, waves, wave_sync)  # type: ignore[arg-type]
            ref = closed_loop_mixed(
                sm,  # type: ignore[arg-type]
                *map(np.asarray, (*point, waves, wave_sync)),
            )
            for f in FIELDS:
                assert float(getattr(fast, f)) == float(getattr(ref, f)), (sm, point, f)


def test_scalar_figures_follow_the_serving_point_fields() -> None:
    """The scalar paths build a ServingPoint from their figures by position."""
    assert _Figures._fields == FIELDS


def test_a_step_model_without_scalar_constants_takes_the_array_path() -> None:
    """A divisor that is not positive (no bandwidth: mbu 0) gives no scalar step constants;
    the scalar paths then decline, and scalar inputs get the array path's figures (numpy's
    inf and nan, no ZeroDivisionError)."""
    sm = dataclasses.replace(MODELS[0], mbu=0.0)  # type: ignore[type-var]
    point = (8.0, 1000.0, 300.0, 8192.0, 0.012, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        fast = closed_loop_mixed(sm, *point, 10.0, 0.0)  # type: ignore[arg-type]
        ref = closed_loop_mixed(sm, *map(np.asarray, (*point, 10.0, 0.0)))  # type: ignore[arg-type]
    for f in FIELDS:
        np.testing.assert_array_equal(getattr(fast, f), getattr(ref, f), err_msg=f)
