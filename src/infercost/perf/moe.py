"""Mixture-of-experts routing: how many distinct experts a batch touches."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def expected_experts_touched(
    num_experts: int, experts_per_token: int, tokens: float | FloatArray
) -> FloatArray:
    """Expected distinct routed experts per MoE layer for ``tokens`` tokens.

    E x (1 - (1 - k/E)^T), assuming each token picks k of E experts uniformly and tokens route
    independently (balanced load, the assumption of auxiliary-loss-balanced routers).
    At T = 1 this is k; as T grows it tends to E (every expert's weights are read).

    Args:
        num_experts: routed experts E (0 for a dense model gives 0).
        experts_per_token: k.
        tokens: tokens in the step (scalar or array, any shape).

    Returns:
        Array of the same shape as ``tokens``.
    """
    t = np.asarray(tokens, dtype=np.float64)
    if num_experts == 0:
        return np.zeros_like(t)
    miss = 1.0 - experts_per_token / num_experts
    return num_experts * (1.0 - np.power(miss, np.maximum(t, 0.0)))
