"""Error bands: the held-out calibration error of comparable configurations.

``calibrate/fit.py`` writes ``catalog/data/error_bands.json``: for each regime key
(engine, GPU family, dense/MoE, memory- or compute-bound) the median and p90 absolute relative
error per metric on held-out sources. A prediction looks up its regime; a configuration with
no measured neighbour says "extrapolating".
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from infercost.catalog.schema import Accelerator, ModelArch


@functools.cache
def _bands() -> dict[str, Any]:
    ref = resources.files("infercost.catalog.data").joinpath("error_bands.json")
    if not ref.is_file():
        return {}
    data: dict[str, Any] = json.loads(ref.read_text("utf-8"))
    return data


def is_memory_bound(memory_bound_share: float) -> bool:
    """Whether a step whose memory-bound share is this counts as memory bound in the bands'
    regime key (:func:`regime_key`: the only way the share enters a band)."""
    return memory_bound_share >= 0.999


def regime_key(engine: str, acc: Accelerator, m: ModelArch, memory_bound_share: float) -> str:
    """'engine|generation|dense-or-moe|decode-or-prefill-bound'."""
    bound = "memory" if is_memory_bound(memory_bound_share) else "compute"
    return f"{engine}|{acc.generation}|{'moe' if m.is_moe else 'dense'}|{bound}"


#: The regime suffix of attention-DP + EP layouts (DEP): their held-out error is kept apart,
#: since the model is further off on them (docs/accuracy.md) than on TP layouts of the same
#: engine and GPU generation.
ATTENTION_DP = "attention-dp"


def error_band_for(
    engine: str,
    acc: Accelerator,
    m: ModelArch,
    memory_bound_share: float,
    attention_dp: bool = False,
) -> dict[str, Any]:
    """Relative error band per metric for this regime.

    For each metric the most specific regime key that has a held-out figure for it is used
    (engine|generation|moe|attention-dp for an attention-DP + EP layout, then
    engine|generation|dense-or-moe|bound, then coarser keys, then the pooled figure).

    A prediction widens E2E's band with :func:`widen_e2e_band`, which needs its figures.

    Returns:
        ``{"output_tok_s": 0.12, "ttft_s": ..., "tpot_s": ..., "basis": {...},
        "extrapolating": bool}``; ``extrapolating`` is True when the engine or the GPU
        generation has no measurements at all.
    """
    bands = _bands()
    regimes: dict[str, dict[str, float]] = bands.get("regimes", {})
    key = regime_key(engine, acc, m, memory_bound_share)
    parts = key.split("|")
    candidates = ["|".join(parts[:depth]) for depth in (4, 3, 2, 1)]
    if attention_dp:  # a DEP layout: its own held-out error first, where measured
        candidates.insert(0, "|".join([*parts[:3], ATTENTION_DP]))
    out: dict[str, Any] = {}
    basis: dict[str, str] = {}
    metrics = sorted({k for r in regimes.values() for k in r} | set(bands.get("pooled", {})))
    for metric in metrics:
        for cand in candidates:
            if metric in regimes.get(cand, {}):
                out[metric] = regimes[cand][metric]
                basis[metric] = cand
                break
        else:
            if metric in bands.get("pooled", {}):
                out[metric] = bands["pooled"][metric]
                basis[metric] = "pooled"
    out["basis"] = {
        "description": "median |error| of held-out (leave-one-source-out) predictions",
        "regime_used": basis,
    }
    unmeasured_gpu = "|".join(parts[:2]) not in regimes
    uncalibrated = uncalibrated_parts(m)
    if unmeasured_gpu or uncalibrated:
        # no calibration row has this engine on this GPU generation, or these layer kinds:
        # the held-out error elsewhere is no measure for them, so the band is widened (x2)
        # and flagged
        for metric in metrics:
            if isinstance(out.get(metric), float):
                out[metric] = 2.0 * out[metric]
    out["extrapolating"] = unmeasured_gpu or bool(uncalibrated)
    if unmeasured_gpu:
        out["basis"]["gpu"] = (
            f"no calibration measurements for {engine} on {acc.generation} GPUs; bands doubled"
        )
    if uncalibrated:
        out["basis"]["architecture"] = (
            "no calibration measurements for " + ", ".join(uncalibrated) + "; bands doubled"
        )
    return out


def uncalibrated_parts(m: ModelArch) -> list[str]:
    """Layer kinds of ``m`` that no row of the shipped calibration data exercises. The three
    files hold dense and MoE GQA/MHA models with full or sliding attention, MLA (DeepSeek-R1
    and V3, Kimi-K2.5), DeepSeek sparse attention (GLM-5) and gated DeltaNet (Qwen3.5-397B);
    none has Mamba2 layers or chunked attention (Llama 4)."""
    parts = []
    if m.num_mamba_layers:
        parts.append("Mamba2 layers")
    if m.num_chunked_layers:
        parts.append("chunked attention")
    return parts


def widen_e2e_band(band: dict[str, Any], ttft_s: float, e2e_s: float) -> None:
    """Widen ``band["e2e_s"]`` (in place) to what E2E's parts imply: at least the
    throughput's band (in a closed loop tok/s = N x osl / E2E; E2E's own held-out figure comes
    from a few offline end-to-end rows), and at least the TTFT and TPOT bands weighted by their
    shares of E2E = TTFT + (osl - 1) x TPOT (QA: E2E +-15 % beside TPOT +-21 % where decode
    was 98 % of E2E). ``band`` is one prediction's own copy with a ``basis``."""
    used: dict[str, str] = band["basis"]["regime_used"]
    thru, e2e = band.get("output_tok_s"), band.get("e2e_s")
    if isinstance(thru, float) and isinstance(e2e, float) and thru > e2e:
        band["e2e_s"] = thru
        used["e2e_s"] = f"{used['output_tok_s']} (throughput: tok/s = N x osl / E2E)"
    b_ttft, b_tpot, b_e2e = band.get("ttft_s"), band.get("tpot_s"), band.get("e2e_s")
    if not (isinstance(b_ttft, float) and isinstance(b_tpot, float) and isinstance(b_e2e, float)):
        return
    if not e2e_s > 0:
        return
    parts = (b_ttft * ttft_s + b_tpot * max(e2e_s - ttft_s, 0.0)) / e2e_s
    if parts > b_e2e:
        band["e2e_s"] = round(parts, 3)
        used["e2e_s"] = (
            "TTFT and TPOT bands weighted by their shares of E2E (E2E = TTFT + (osl - 1) x TPOT)"
        )
