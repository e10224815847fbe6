"""``POST /api/calibrate/import`` and ``/api/calibrate/fit``: benchmark result files uploaded
as ``multipart/form-data``; each returns the command's ``--json`` object.

An upload is written to a private temporary folder under a name the service chooses (never
one the request names), read by the library's importer, and deleted with the folder. Messages
name the uploaded file by its client-side name instead of the temporary path. The fit's
profile comes back as TOML text (``profile_toml``) instead of being written anywhere.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Annotated, Any, cast

from fastapi import APIRouter, File, Form, Request, UploadFile

from infercost.api.uploads import renamed, save_uploads
from infercost.calibrate.error import in_sample
from infercost.calibrate.fit import fit_all, prepare_for_fit, profiles_toml
from infercost.calibrate.importers import FORMATS, Format, Overrides, detect_format, import_file
from infercost.calibrate.measurement import Measurement
from infercost.domains import screen_measurements
from infercost.errors import InfercostError, InputError

router = APIRouter(tags=["calibrate"])

FormName = Annotated[str | None, Form(max_length=200)]
FormInt = Annotated[int | None, Form(ge=-(10**6), le=10**6)]


def run_import(path: Path, name: str, fmt: str | None, overrides: Overrides) -> dict[str, Any]:
    """``calibrate import FILE --json`` for a saved upload."""
    if fmt is not None and fmt not in FORMATS:
        raise InputError(f"--format must be one of {', '.join(FORMATS)}.")
    kind = cast(Format, fmt) if fmt else detect_format(path)
    measurements = import_file(path, format=kind, **overrides)
    rejected: list[tuple[str, str]] = []
    measurements = screen_measurements(measurements, rejected)
    if not measurements:
        where, why = rejected[0] if rejected else (name, "no measurement")
        raise InputError(f"{name}: no usable measurement ({where}: {why}); fix the file.")
    counts = Counter(m.metric for m in measurements)
    return {
        "file": name,
        "format": kind,
        "count": len(measurements),
        "counts_by_metric": dict(sorted(counts.items())),
        "measurements": [m.model_dump(mode="json") for m in measurements],
    }


def run_fit(saved: list[tuple[Path, str]], overrides: dict[str, Any]) -> dict[str, Any]:
    """``calibrate fit FILES --json`` for saved uploads; the profile as TOML text."""
    measurements: list[Measurement] = []
    screened: list[tuple[str, str]] = []
    for path, _ in saved:
        measurements += import_file(path, **overrides)
    measurements = screen_measurements(measurements, screened)
    preps, unused = prepare_for_fit(measurements)
    unused = screened + unused
    fits = fit_all(preps)
    scored = in_sample(preps, fits)
    provenance = ", ".join(name for _, name in saved)
    return {
        "fits": {
            e: {"values": f.values, "loss": f.loss, "rows": f.num_rows} for e, f in fits.items()
        },
        "in_sample_median_ape": scored.median_ape,
        "in_sample_max_ape": scored.max_ape,
        "worst_id": scored.worst_id,
        "unused": [{"id": i, "reason": why} for i, why in unused + list(scored.not_scored)],
        "saved_to": None,
        "profile_toml": profiles_toml(fits, date.today(), provenance),
    }


def _facts(**values: object) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


@router.post("/api/calibrate/import", summary="Import an uploaded result file")
async def import_endpoint(
    request: Request,
    file: Annotated[UploadFile, File(description="A benchmark result file.")],
    format: FormName = None,
    model: FormName = None,
    gpu: FormName = None,
    num_gpus: FormInt = None,
    tp: FormInt = None,
    pp: FormInt = None,
    ep: FormInt = None,
    engine: FormName = None,
    engine_version: FormName = None,
    weight_dtype: FormName = None,
    kv_dtype: FormName = None,
    isl: FormInt = None,
    osl: FormInt = None,
    concurrency: FormInt = None,
) -> dict[str, Any]:
    """``calibrate import FILE --json``: the measurements of one vLLM / SGLang / TRT-LLM /
    genai-perf / guidellm / llama-bench / calibration-CSV file."""
    overrides = cast(
        Overrides,
        _facts(model=model, gpu=gpu, num_gpus=num_gpus, tp=tp, pp=pp, ep=ep, engine=engine,
               engine_version=engine_version, weight_dtype=weight_dtype, kv_dtype=kv_dtype,
               isl=isl, osl=osl, concurrency=concurrency),
    )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="infercost-upload-") as tmp:
        saved = await save_uploads([file], Path(tmp))
        try:
            return await request.app.state.runner.call(  # type: ignore[no-any-return]
                run_import, saved[0][0], saved[0][1], format, overrides
            )
        except InfercostError as err:
            raise renamed(err, saved) from None


@router.post("/api/calibrate/fit", summary="Fit engine efficiencies to uploaded results")
async def fit_endpoint(
    request: Request,
    file: Annotated[list[UploadFile], File(description="Result files (repeat the field).")],
    gpu: FormName = None,
    model: FormName = None,
    engine: FormName = None,
    tp: FormInt = None,
    weight_dtype: FormName = None,
    kv_dtype: FormName = None,
) -> dict[str, Any]:
    """``calibrate fit FILES --json``, with the fitted profile as TOML text to save and use
    with ``infercost predict --profile FILE``."""
    overrides = _facts(
        gpu=gpu, model=model, engine=engine, tp=tp, weight_dtype=weight_dtype, kv_dtype=kv_dtype
    )
    with tempfile.TemporaryDirectory(prefix="infercost-upload-") as tmp:
        saved = await save_uploads(file, Path(tmp))
        try:
            return await request.app.state.runner.call(  # type: ignore[no-any-return]
                run_fit, saved, overrides
            )
        except InfercostError as err:
            raise renamed(err, saved) from None
