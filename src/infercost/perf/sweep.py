"""Broadcast grids: many deployments evaluated by one call of the step-time formulas.

:func:`stack_step_models` turns a list of per-configuration :class:`StepModel` (one per GPU x
TP x dtype, say) into one whose numeric fields are arrays of shape ``(n, 1, ..., 1)``; batch and
context arrays of shape ``(1, b, 1)`` / ``(1, 1, c)`` then broadcast against it, so
``mixed_step`` evaluates every combination at once (no Python loop per configuration).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from infercost.errors import InputError
from infercost.perf.step import StepModel

_SCALAR_FIELDS = {"num_experts", "experts_per_token", "hidden_size", "sliding_window"}


def stack_step_models(models: Sequence[StepModel], extra_dims: int = 2) -> StepModel:
    """Stack step models along a new leading axis of length ``len(models)``.

    Args:
        models: step models of the same architecture (routing, hidden size and sliding
            window must agree; hardware, dtype and parallelism may differ).
        extra_dims: trailing singleton axes to add, so the result broadcasts against
            ``extra_dims`` more grid axes.

    Returns:
        A StepModel whose numeric fields have shape ``(n,) + (1,) * extra_dims``.

    Raises:
        InputError: empty input, or models of different architectures.
    """
    if not models:
        raise InputError("stack_step_models needs at least one step model.")
    first = models[0]
    for m in models[1:]:
        for name in _SCALAR_FIELDS:
            if getattr(m, name) != getattr(first, name):
                raise InputError(f"Cannot stack step models that differ in {name}.")
    shape = (len(models),) + (1,) * extra_dims
    values: dict[str, object] = {}
    for f in dataclasses.fields(StepModel):
        if f.name in _SCALAR_FIELDS:
            values[f.name] = getattr(first, f.name)
        else:
            arr = np.array([float(np.asarray(getattr(m, f.name))) for m in models])
            values[f.name] = arr.reshape(shape)
    return StepModel(**values)  # type: ignore[arg-type]
