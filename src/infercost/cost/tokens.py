"""$/M input and $/M output tokens from a replica's $/hour and its operating point.

W1 ("the fundamental equation"): $/M tokens = $/hour / (tokens/s x 3600 / 1e6).
Input and output tokens are charged the GPU time their work takes: the prefill share of the
replica's time goes to input tokens, the rest to output tokens (DESIGN.md, "Cost per input
token vs output token").
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from infercost.units import S_PER_HOUR, TOKENS_PER_M

FloatArray = npt.NDArray[np.float64]
ArrayLike = float | int | FloatArray


def usd_per_m_tokens(usd_per_hour: ArrayLike, tok_s: ArrayLike) -> FloatArray:
    """$/hour / (tok/s x 3600 / 1e6). Example (W1): $10/h at 1,000 tok/s = $2.78/M."""
    return np.asarray(
        np.asarray(usd_per_hour, dtype=np.float64)
        / (np.asarray(tok_s, dtype=np.float64) * S_PER_HOUR / TOKENS_PER_M),
        dtype=np.float64,
    )


def split_usd_per_m(
    replica_usd_per_hour: ArrayLike,
    output_tok_s: ArrayLike,
    isl: ArrayLike,
    osl: ArrayLike,
    prefill_time_share: ArrayLike,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """($/M input, $/M output, $/M blended) at full utilisation.

    input tok/s = output tok/s x isl / osl; $/M input = $/h x prefill share / input tok/h;
    $/M output = $/h x (1 - prefill share) / output tok/h; blended = $/h / all tok/h.
    Scalars with positive token rates take the same operations on Python floats.
    """
    args = (replica_usd_per_hour, output_tok_s, isl, osl, prefill_time_share)
    if all(type(x) in (float, int, np.float64) for x in args) and output_tok_s > 0 and osl > 0:
        usd_f, out_f = float(replica_usd_per_hour), float(output_tok_s)
        share_f = float(prefill_time_share)
        in_f = out_f * float(isl) / float(osl)
        if in_f > 0:
            f = np.float64
            return (
                f(usd_f * share_f / (in_f * S_PER_HOUR / TOKENS_PER_M)),  # type: ignore[return-value]
                f(usd_f * (1.0 - share_f) / (out_f * S_PER_HOUR / TOKENS_PER_M)),
                f(usd_f / ((in_f + out_f) * S_PER_HOUR / TOKENS_PER_M)),
            )
    out = np.asarray(output_tok_s, dtype=np.float64)
    in_tok_s = out * np.asarray(isl, dtype=np.float64) / np.asarray(osl, dtype=np.float64)
    share = np.asarray(prefill_time_share, dtype=np.float64)
    usd = np.asarray(replica_usd_per_hour, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_in = usd_per_m_tokens(usd * share, in_tok_s)
        per_out = usd_per_m_tokens(usd * (1.0 - share), out)
        blended = usd_per_m_tokens(usd, in_tok_s + out)
    return per_in, per_out, blended
