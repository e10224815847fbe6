"""``infercost calibrate fit``: fit engine efficiencies to measurement files, save a profile."""

from __future__ import annotations

import json
import sys
import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from infercost.calibrate.error import in_sample
from infercost.calibrate.fit import (
    BOUNDS,
    DEQUANT_PARAM,
    FIT_PARAMS,
    FitResult,
    dequantising,
    fit_all,
    prepare_for_fit,
    profile_document,
    profiles_toml,
)
from infercost.calibrate.importers import import_file
from infercost.calibrate.measurement import Measurement
from infercost.domains import screen_measurements
from infercost.errors import InputError
from infercost.fileio import write_atomic


def register_fit(calibrate_app: typer.Typer) -> None:
    """Add ``fit`` to the ``calibrate`` group."""
    calibrate_app.command(
        "fit", short_help="Fit MBU, MFU and overheads per engine to result files; save a profile."
    )(fit_cmd)


def write_profile(out: Path, fits: dict[str, FitResult], today: date, provenance: str) -> None:
    """Write the fitted profile to ``out`` as TOML (:func:`profiles_toml`) and read it back
    before returning.

    Raises:
        InputError: the file cannot be written, or does not read back as the same profile.
    """
    document = profile_document(fits, today, provenance)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(out, profiles_toml(fits, today, provenance))
        back = tomllib.loads(out.read_text(encoding="utf-8"))
    except OSError as err:
        raise InputError(
            f"cannot write {str(out)!r} ({err.strerror or err}); choose a writable --out."
        ) from err
    except tomllib.TOMLDecodeError as err:
        raise InputError(
            f"{out}: the profile written does not read back as TOML ({err})."
        ) from err
    if back != document:
        raise InputError(f"{out}: the profile written reads back differently; please report this.")


#: In-sample median error above which --out refuses to save without --keep-poor-fit: a fit
#: this poor (predictions off by 2x on the typical row) almost always means a file states a
#: wrong unit or configuration (QA: *_ms fields holding seconds fitted to 34,690 %).
POOR_FIT = 1.0


def _at_bound(name: str, value: float) -> bool:
    """True when a fitted value sits on either end of its physical range (a floor of zero, e.g.
    no overhead, is a natural value and does not count)."""
    lo, hi = BOUNDS[name]
    tol = 1e-6 * (hi - lo)
    return abs(value - hi) <= tol or (lo != 0.0 and abs(value - lo) <= tol)


def fit_cmd(
    files: Annotated[list[Path], typer.Argument(help="Result files (any importable format).")],
    gpu: Annotated[str | None, typer.Option(help="GPU, when the files do not say.")] = None,
    model: Annotated[str | None, typer.Option(help="Model, when the files do not say.")] = None,
    engine: Annotated[str | None, typer.Option(help="Engine, when the files do not say.")] = None,
    tp: Annotated[int | None, typer.Option(help="Tensor parallelism of the runs.")] = None,
    weight_dtype: Annotated[str | None, typer.Option(help="Weight dtype of the runs.")] = None,
    kv_dtype: Annotated[str | None, typer.Option(help="KV-cache dtype of the runs.")] = None,
    num_gpus: Annotated[int | None, typer.Option(help="GPUs per replica of the runs.")] = None,
    pp: Annotated[int | None, typer.Option(help="Pipeline parallelism of the runs.")] = None,
    ep: Annotated[int | None, typer.Option(help="Expert parallelism of the runs.")] = None,
    isl: Annotated[int | None, typer.Option(help="Input tokens per request.")] = None,
    osl: Annotated[int | None, typer.Option(help="Output tokens per request.")] = None,
    concurrency: Annotated[
        int | None, typer.Option(help="Closed-loop clients, when the files do not say.")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Write the fitted profile (TOML) here, e.g. DIR/engine_fits.toml."),
    ] = None,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", help="No progress lines (they go to stderr, one per stage)."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    keep_poor_fit: Annotated[
        bool,
        typer.Option(
            "--keep-poor-fit",
            help=f"Save with --out even when the in-sample median error exceeds "
            f"{POOR_FIT:.0%} (usually a unit or configuration error in the files).",
        ),
    ] = False,
) -> None:
    """Fit MBU, MFU and overheads per engine to result files, report the in-sample error of
    the fit; save with --out FILE and use it with
    `infercost predict --profile FILE` (or INFERCOST_CATALOG_DIR=DIR when FILE is
    DIR/engine_fits.toml).

    Time: a few seconds for one result file of a few dozen runs; the shipped calibration
    set (shared/validation: calibration.csv, calibration_trtllm_1x.csv,
    closed_loop_hopper.csv, about 3,500 measurements over four engines) takes about 2 to 3
    minutes on 2 CPU cores (2 min 49 s measured 2026-12-07 on a shared 2-core machine).
    Progress (one line per engine and stage) goes to stderr, the results to stdout.
    """
    overrides: dict[str, Any] = {
        k: v
        for k, v in {
            "gpu": gpu,
            "model": model,
            "engine": engine,
            "tp": tp,
            "weight_dtype": weight_dtype,
            "kv_dtype": kv_dtype,
            "num_gpus": num_gpus,
            "pp": pp,
            "ep": ep,
            "isl": isl,
            "osl": osl,
            "concurrency": concurrency,
        }.items()
        if v is not None
    }
    measurements: list[Measurement] = []
    rejected: list[tuple[str, str]] = []
    for path in files:
        measurements += import_file(path, rejected=rejected, **overrides)
    measurements = screen_measurements(measurements, rejected)
    preps, unused = prepare_for_fit(measurements)
    unused = rejected + unused
    err_console = Console(stderr=True, highlight=False)

    def progress(line: str) -> None:
        err_console.print(line, markup=False)

    fits = fit_all(preps, progress=None if quiet or as_json else progress)
    scored = in_sample(preps, fits)
    not_scored = list(scored.not_scored)
    median = scored.median_ape if scored.median_ape is not None else float("nan")
    worst = (scored.max_ape if scored.max_ape is not None else float("nan"), scored.worst_id)
    rows_scored = len(preps) - len(not_scored)
    if out is not None and median > POOR_FIT and not keep_poor_fit:
        raise InputError(
            f"not saved: the fit's in-sample median error is {median:.0%} (worst "
            f"{worst[0]:.0%} on {worst[1]}), so the profile would predict no better; the files "
            "likely state a wrong unit, GPU, TP or dtype. Fix them, or pass --keep-poor-fit "
            "to save it anyway."
        )
    if out is not None:
        provenance = ", ".join(str(p) for p in files)
        write_profile(out, fits, date.today(), provenance)
    if as_json:
        sys.stdout.write(
            json.dumps(
                {
                    "fits": {
                        e: {"values": f.values, "loss": f.loss, "rows": f.num_rows}
                        for e, f in fits.items()
                    },
                    "in_sample_median_ape": median,
                    "in_sample_max_ape": worst[0],
                    "worst_id": worst[1],
                    "unused": [{"id": i, "reason": why} for i, why in unused + not_scored],
                    "saved_to": str(out) if out else None,
                },
                indent=2,
            )
            + "\n"
        )
        return
    console = Console()
    t = Table(title="fitted engine efficiencies")
    for col in (
        "engine",
        "rows",
        "MBU",
        "MFU",
        "step ms",
        "µs/seq",
        "all-reduce µs",
        "comm eff",
        "req ms",
        "weight-only experts",
    ):
        t.add_column(col)
    for e, f in fits.items():
        v = f.values
        t.add_row(
            e,
            str(f.num_rows),
            f"{v['mbu']:.3f}",
            f"{v['mfu']:.3f}",
            f"{v['step_overhead_s'] * 1e3:.2f}",
            f"{v['seq_overhead_s'] * 1e6:.2f}",
            f"{v['allreduce_latency_s'] * 1e6:.1f}",
            f"{v['comm_efficiency']:.2f}",
            f"{v['request_overhead_s'] * 1e3:.1f}",
            # the weight-only experts' share of MFU, where rows set it (calibrate.fit)
            f"{v[DEQUANT_PARAM]:.3f} x MFU" if DEQUANT_PARAM in v else "not fitted",
        )
    console.print(t)
    if len(preps) < 12:
        console.print(
            f"[yellow]only {len(preps)} measurements: parameters the data does not pin down "
            "stay near the engine's defaults (weak prior); check the in-sample error.[/yellow]"
        )
    console.print(
        f"in-sample median absolute error: {median:.1%} over {rows_scored} measurements; "
        f"largest {worst[0]:.1%} ({worst[1]})",
        highlight=False,
    )
    for e, f in fits.items():
        own = [p for p in preps if p.r.engine.id == e]
        if own and all(dequantising(p) for p in own):
            console.print(
                f"[yellow]{e}: every row runs weight-only experts (e.g. MXFP4 on Hopper), so "
                "their slowdown cannot be told from MFU: the MFU above includes it. Fit with "
                "rows of other models too before using this profile for them.[/yellow]"
            )
        at_bound = [
            name
            for name in (*FIT_PARAMS, DEQUANT_PARAM)
            if name in f.values and _at_bound(name, f.values[name])
        ]
        if at_bound:
            console.print(
                f"[yellow]{e}: {', '.join(at_bound)} at the edge of the physical range: the "
                "data pushes past what the model can explain there; check the rows with the "
                "largest errors before relying on this profile.[/yellow]"
            )
    if not_scored:
        console.print(
            f"[yellow]{len(not_scored)} measurement(s) not predictable, so neither fitted nor "
            f"scored[/yellow] (first: {not_scored[0][0]}: {not_scored[0][1]})",
            highlight=False,
        )
    if median > 0.2:
        console.print(
            f"[yellow]in-sample error {median:.0%} is large: the profile will not predict "
            "better than that; check that the files state the right GPU, TP and dtypes.[/yellow]"
        )
    if unused:
        console.print(
            f"[yellow]{len(unused)} measurements not used[/yellow] (first: "
            f"{unused[0][0]}: {unused[0][1]})",
            highlight=False,
        )
    if out is not None:
        via_dir = (
            f" or INFERCOST_CATALOG_DIR={out.parent}" if out.name == "engine_fits.toml" else ""
        )
        console.print(f"saved to {out}; use it with `infercost predict --profile {out}`{via_dir}")
