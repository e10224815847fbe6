"""What an accelerator reaches, relative to the GPU the engine efficiencies were fitted on.

Datasheet peaks are not equally reachable on every GPU: a streaming kernel reaches 89 % of the
H100 SXM's 3.35 TB/s but 77 % of the MI300X's 5.3 TB/s, and the best large bf16 GEMM 80 % of
the H100's 989 TFLOP/s but 51 % of the MI300X's 1,307 (``catalog/data/achievable.csv``, each
figure with its source, conditions and date). The engine efficiencies (MBU, MFU) are fitted
on measurements that are almost all Hopper, so they hold Hopper's reachable share. On another
GPU the step model scales the peak by that GPU's measured share over the reference's:

    bandwidth used = datasheet bandwidth x MBU x (measured share on the GPU / on H100 SXM)
    FLOP/s used    = datasheet peak(dtype) x MFU x (measured share(dtype) / on H100 SXM)
    link used      = scale-up link x comm efficiency x (all-reduce bus bandwidth share / H100's)

The all-reduce figure is the collective library's bus bandwidth at its largest message over
the whole board (nccl-tests / rccl-tests all_reduce_perf), over the link's per-direction
datasheet bandwidth: 478.9 of 450 GB/s on 8 x H100 (NCCL with NVLink SHARP reduces in the
switch), 316.8 of 448 on 8 x MI300X (RCCL over xGMI), 231.6 of 300 on 8 x A100.

A GPU with no measured figure keeps Hopper's shares (factor 1: the documented prior), and its
prediction says so. A GPU with a measured GEMM at another dtype than the one asked uses the
nearest one it has (fp4 -> fp8 -> bf16, and back); the reference's FP4 share (Hopper has no
FP4 tensor cores) is its FP8 share.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from infercost.catalog.loader import load_accelerators, load_achieved
from infercost.catalog.schema import Accelerator, AchievedFigure
from infercost.units import GIGA, TERA

#: The GPU the shipped engine efficiencies were fitted on (most calibration rows are H100/H200
#: SXM; ``catalog/data/engine_fits.toml``).
REFERENCE_GPU = "h100-sxm"

#: The measured-GEMM kind that stands for each compute dtype, and the kinds to fall back on.
_GEMM_KIND = {
    "bf16": "gemm_bf16",
    "fp16": "gemm_bf16",
    "fp8": "gemm_fp8",
    "int8": "gemm_fp8",
    "fp4": "gemm_fp4",
}
_NEAREST = {
    "gemm_fp4": ("gemm_fp4", "gemm_fp8", "gemm_bf16"),
    "gemm_fp8": ("gemm_fp8", "gemm_bf16", "gemm_fp4"),
    "gemm_bf16": ("gemm_bf16", "gemm_fp8", "gemm_fp4"),
}
_KIND_DTYPE = {"gemm_bf16": "bf16", "gemm_fp8": "fp8", "gemm_fp4": "fp4"}


@dataclass(frozen=True, slots=True)
class AchievableScale:
    """Per-GPU factors on the datasheet peaks (1.0: as the reference GPU).

    Attributes:
        bandwidth: factor on device-memory bandwidth.
        gemm: factor on the dense FLOP/s per compute dtype (``bf16``, ``fp8``, ``fp4``, ...).
        collective: factor on the scale-up link's bandwidth for collectives.
        measured: whether any measured figure of this GPU was used (False: the prior).
        basis: one line naming the figures used, for ``--explain``.
    """

    bandwidth: float
    gemm: dict[str, float]
    measured: bool
    basis: str
    collective: float = 1.0

    def gemm_factor(self, dtype: str) -> float:
        """The factor on the dense peak at ``dtype`` (1.0 for a dtype with none)."""
        return self.gemm.get(dtype, 1.0)


def _figures(gpu_id: str) -> dict[str, AchievedFigure]:
    return {f.kind: f for f in load_achieved() if f.gpu == gpu_id}


def _share(acc: Accelerator, fig: AchievedFigure) -> float | None:
    """The measured figure over ``acc``'s datasheet peak of the same kind."""
    if fig.kind == "mem_bw":
        return fig.measured * TERA / acc.mem_bw_bytes_s
    if fig.kind == "allreduce_busbw":
        link = acc.interconnect_bytes_s
        return fig.measured * GIGA / link if link else None
    peak = acc.flop_s(_KIND_DTYPE[fig.kind])
    return fig.measured * TERA / peak if peak else None


def _gemm_factor(
    acc: Accelerator,
    figs: dict[str, AchievedFigure],
    ref: Accelerator,
    ref_figs: dict[str, AchievedFigure],
    kind: str,
) -> float | None:
    """The GPU's share over the reference's at the nearest kind the GPU has a figure for,
    like for like (the reference's FP4 share is its FP8 share: Hopper has no FP4)."""
    for k in _NEAREST[kind]:
        share = _share(acc, figs[k]) if k in figs else None
        if share is None:
            continue
        for rk in (k, "gemm_fp8"):
            base = _share(ref, ref_figs[rk]) if rk in ref_figs else None
            if base:
                return share / base
    return None


@functools.cache
def achievable_scale(gpu_id: str) -> AchievableScale:
    """The factors for the catalog accelerator ``gpu_id`` (see the module notes); an id the
    catalog does not hold (an accelerator built in code) gets the prior, factor 1."""
    by_id = {a.id: a for a in load_accelerators()}
    if gpu_id not in by_id or REFERENCE_GPU not in by_id:
        return AchievableScale(1.0, {}, False, f"no measured figure for {gpu_id}")
    acc, ref = by_id[gpu_id], by_id[REFERENCE_GPU]
    figs, ref_figs = _figures(gpu_id), _figures(REFERENCE_GPU)
    used: list[str] = []
    bandwidth = 1.0
    if "mem_bw" in figs and "mem_bw" in ref_figs:
        bandwidth = (_share(acc, figs["mem_bw"]) or 1.0) / (_share(ref, ref_figs["mem_bw"]) or 1.0)
        used.append(f"memory {figs['mem_bw'].measured:g} TB/s ({figs['mem_bw'].as_of})")
    gemm: dict[str, float] = {}
    for dtype, kind in _GEMM_KIND.items():
        factor = _gemm_factor(acc, figs, ref, ref_figs, kind)
        if factor is not None:
            gemm[dtype] = factor
    for kind in ("gemm_bf16", "gemm_fp8", "gemm_fp4"):
        if kind in figs:
            used.append(f"{_KIND_DTYPE[kind]} GEMM {figs[kind].measured:g} TFLOP/s")
    collective = 1.0
    ar = "allreduce_busbw"
    if ar in figs and ar in ref_figs:
        mine, base = _share(acc, figs[ar]), _share(ref, ref_figs[ar])
        if mine and base:
            collective = mine / base
            used.append(f"all-reduce {figs[ar].measured:g} GB/s")
    if gpu_id == REFERENCE_GPU:
        basis = "reference GPU of the engine efficiencies"
    elif used:
        basis = "measured: " + ", ".join(used) + " (catalog achievable.csv)"
    else:
        basis = (
            f"no measured figure for {gpu_id}: {REFERENCE_GPU}'s reachable shares of its "
            "peaks assumed"
        )
    return AchievableScale(bandwidth, gemm, bool(used), basis, collective)
