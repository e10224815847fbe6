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


def regime_key(engine: str, acc: Accelerator, m: ModelArch, memory_bound_share: float) -> str:
    """'engine|generation|dense-or-moe|decode-or-prefill-bound'."""
    bound = "memory" if memory_bound_share >= 0.999 else "compute"
    return f"{engine}|{acc.generation}|{'moe' if m.is_moe else 'dense'}|{bound}"


def error_band_for(
    engine: str, acc: Accelerator, m: ModelArch, memory_bound_share: float
) -> dict[str, Any]:
    """Relative error band per metric for this regime, falling back to coarser keys.

    Returns a dict ``{"output_tok_s": 0.12, ..., "basis": "...", "extrapolating": bool}``.
    """
    bands = _bands()
    key = regime_key(engine, acc, m, memory_bound_share)
    parts = key.split("|")
    candidates = [
        key,
        "|".join(parts[:3]),
        "|".join(parts[:2]),
        parts[0],
    ]
    for cand in candidates:
        if cand in bands.get("regimes", {}):
            entry = dict(bands["regimes"][cand])
            entry["basis"] = f"held-out calibration error, regime {cand}"
            entry["extrapolating"] = cand != key and cand.count("|") < 2
            return entry
    pooled = bands.get("pooled")
    if pooled:
        entry = dict(pooled)
        entry["basis"] = "pooled held-out calibration error (no measurements in this regime)"
        entry["extrapolating"] = True
        return entry
    return {"basis": "uncalibrated: no error table shipped", "extrapolating": True}
