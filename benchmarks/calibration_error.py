"""Prediction error on shared/validation/calibration.csv: leave-one-source-out, per source,
per engine, GPU, GPU family, model, model family and layout, with the roofline-only ablation and
the uncalibrated defaults beside it. Throughput, TTFT and TPOT/ITL each have their own rows.
Rows the file leaves unreadable (e.g. a concurrency the source did not state) are counted as
not scored, with the reason.

Run: python benchmarks/calibration_error.py [--csv PATH ...] [--write-bands]
(the other files: --csv ../shared/validation/calibration_trtllm_1x.csv,
--csv ../shared/validation/closed_loop_hopper.csv; --csv repeated scores several files, each
left one source out within itself, and reports them together)
--write-bands writes src/infercost/catalog/data/error_bands.json from the held-out errors of
the files given (the shipped bands: all three files, `--all --write-bands`).

--pooled holds each source out of all the files given together: its engine is fitted on every
other source of every file, as the shipped profile is, so the figure answers "how good is the
shipped model on a source it has not seen". ``--pooled --hold-out FILE`` holds out only the
sources of FILE (the new-source check of issue 12: ``--all --pooled --hold-out
calibration_trtllm_1x.csv``, about 5 minutes). Without --pooled a file's sources are fitted on
the other sources of the same file only.

--rows OUT.csv writes every held-out row (id, source, engine, model, GPU, layout, metric,
ISL, OSL, concurrency, measured, predicted, predicted / measured), so a cluster of misses can be
read row by row.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from infercost.calibrate.error import (
    ROOFLINE_ONLY,
    RowError,
    default_params,
    leave_one_source_out,
    score,
    source_prefix,
    summarize,
)
from infercost.calibrate.evaluate import Prepared, prepare, scorable
from infercost.calibrate.importers import import_calibration_csv
from infercost.errors import InfercostError
from infercost.perf.errors_band import ATTENTION_DP

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CSV = ROOT.parent / "shared" / "validation" / "calibration.csv"
METRIC_SHORT = {
    "output_throughput_tok_s": "thru",
    "output_throughput_per_gpu_tok_s": "thru/gpu",
    "ttft_mean_s": "TTFT",
    "itl_mean_s": "ITL",
    "tpot_mean_s": "TPOT",
    "e2e_mean_s": "E2E",
    "prefill_throughput_tok_s": "pp tok/s",
    "decode_throughput_tok_s": "tg tok/s",
    "request_throughput_req_s": "req/s",
}


def _table(title: str, stats: dict[tuple[str, str], tuple[int, float, float]]) -> None:
    print(f"\n{title}")
    print(f"  {'group':34s} {'metric':9s} {'n':>4s} {'median':>8s} {'p90':>8s}")
    for (group, metric), (n, med, p90) in stats.items():
        print(f"  {group:34s} {METRIC_SHORT.get(metric, metric):9s} {n:4d} {med:8.1%} {p90:8.1%}")


ALL_FILES = ("calibration.csv", "calibration_trtllm_1x.csv", "closed_loop_hopper.csv")


def _prepared(path: Path) -> list[Prepared]:
    """The scorable rows of one file, resolved; prints what was not scored and why."""
    rejected: list[tuple[str, str]] = []
    measurements = import_calibration_csv(path, rejected)
    preps, skipped = [], defaultdict(int)
    for _, why in rejected:
        skipped["unreadable row: " + why.split(": ", 1)[-1][:70]] += 1
    for m in measurements:
        why = scorable(m)
        if why:
            skipped[why] += 1
            continue
        try:
            preps.append(prepare(m))
        except InfercostError as err:
            skipped[str(err)[:80]] += 1
    print(
        f"{path.name}: {len(measurements) + len(rejected)} rows, {len(preps)} scored; "
        f"not scored: {dict(skipped)}"
    )
    return preps


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--csv", type=Path, action="append", default=None)
    ap.add_argument("--all", action="store_true", help="all three shared/validation files")
    ap.add_argument("--write-bands", action="store_true")
    ap.add_argument(
        "--pooled", action="store_true", help="fit each held-out source on all other files too"
    )
    ap.add_argument(
        "--hold-out", type=str, default=None, help="with --pooled: hold out this file's sources"
    )
    ap.add_argument("--rows", type=Path, default=None, help="write every held-out row to CSV")
    args = ap.parse_args()
    files: list[Path] = list(args.csv or [])
    if args.all:
        files += [DEFAULT_CSV.parent / name for name in ALL_FILES]
    files = files or [DEFAULT_CSV]
    for path in files:
        if not path.is_file():
            print(f"calibration file not found: {path}", file=sys.stderr)
            return 2
    t0 = time.perf_counter()
    held: list[RowError] = []
    defaults: list[RowError] = []
    roofline: list[RowError] = []
    fits = {}
    if args.hold_out and not args.pooled:
        print("--hold-out needs --pooled", file=sys.stderr)
        return 2
    per_file = {path: _prepared(path) for path in files}
    if args.pooled:
        union = [p for preps in per_file.values() for p in preps]
        hold = None
        if args.hold_out:
            named = [path for path in files if path.name == Path(args.hold_out).name]
            if not named:
                print(f"--hold-out {args.hold_out} is not among the files given", file=sys.stderr)
                return 2
            hold = sorted({source_prefix(p.m.id) for p in per_file[named[0]]})
        held, fits = leave_one_source_out(union, hold)
        scored = {r.id for r in held}
        for preps in per_file.values():
            mine = [p for p in preps if p.m.id in scored]
            engines = sorted({p.r.engine.id for p in mine})
            defaults += score(mine, {e: default_params(e) for e in engines})
            roofline += score(mine, dict.fromkeys(engines, ROOFLINE_ONLY))
    for preps in [] if args.pooled else per_file.values():
        file_held, file_fits = leave_one_source_out(preps)
        engines = sorted({p.r.engine.id for p in preps})
        held += file_held
        fits.update(file_fits)
        defaults += score(preps, {e: default_params(e) for e in engines})
        roofline += score(preps, dict.fromkeys(engines, ROOFLINE_ONLY))

    _table(
        "Leave-one-source-out (fit on the other sources of the same engine"
        + (", all files):" if args.pooled else ", same file):"),
        summarize(held, "source"),
    )
    _table(
        "Uncalibrated defaults (engines.toml literature values):", summarize(defaults, "source")
    )
    _table("Roofline-only ablation (MBU = MFU = 1, no overheads):", summarize(roofline, "source"))
    _table("Held-out error per engine:", summarize(held, "engine"))
    _table("Held-out error per GPU:", summarize(held, "gpu"))
    _table("Held-out error per GPU family:", summarize(held, "gpu_family"))
    _table("Held-out error per model:", summarize(held, "model"))
    _table("Held-out error per model family (architecture):", summarize(held, "model_family"))
    _table("Held-out error per layout:", summarize(held, "layout"))
    pooled = defaultdict(list)
    for r in held:
        pooled[r.metric].append(r.ape)
    print("\nPooled held-out:")
    for metric, v in sorted(pooled.items()):
        print(
            f"  {METRIC_SHORT.get(metric, metric):9s} n={len(v):4d} median {np.median(v):6.1%}"
            f" p90 {np.percentile(v, 90):6.1%}"
        )
    print("\nFits used for each held-out source:")
    for s, fit in fits.items():
        vals = ", ".join(f"{k}={v:.4g}" for k, v in fit.values.items())
        print(f"  {s}: {fit.engine} fitted on {','.join(fit.sources)} -> {vals}")
    print(f"\nwall time {time.perf_counter() - t0:.1f} s")
    if args.write_bands:
        write_bands(held)
    if args.rows is not None:
        write_rows(args.rows, held, [p for preps in per_file.values() for p in preps])
    return 0


def write_rows(path: Path, rows: list[RowError], preps: list[Prepared]) -> None:
    """Every held-out row with its workload and predicted / measured, as CSV."""
    by_key = {(p.m.id, p.m.metric): p for p in preps}
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "source", "engine", "model", "gpu", "layout", "metric", "isl", "osl",
                    "concurrency", "measured", "predicted", "ratio"])  # fmt: skip
        for r in rows:
            m = by_key[(r.id, r.metric)].m
            w.writerow([r.id, r.source, r.engine, r.model, r.gpu, r.layout, r.metric, m.isl,
                        m.osl, m.concurrency, r.measured, r.predicted,
                        r.predicted / r.measured])  # fmt: skip
    print(f"{len(rows)} held-out rows written to {path}")


_BAND_METRICS = {
    "output_throughput_tok_s": "output_tok_s",
    "output_throughput_per_gpu_tok_s": "output_tok_s",
    "ttft_mean_s": "ttft_s",
    "itl_mean_s": "tpot_s",
    "tpot_mean_s": "tpot_s",
    "e2e_mean_s": "e2e_s",
}


def write_bands(rows: list[RowError]) -> None:
    """Median held-out APE per regime (and coarser keys) and metric -> error_bands.json."""
    groups: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    pooled: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        metric = _BAND_METRICS.get(r.metric)
        if metric is None:
            continue
        parts = r.regime.split("|")
        for depth in (4, 3, 2, 1):
            groups["|".join(parts[:depth])][metric].append(r.ape)
        if r.layout.startswith("DEP"):  # attention DP + EP: its own band (perf.errors_band)
            groups["|".join([*parts[:3], ATTENTION_DP])][metric].append(r.ape)
        pooled[metric].append(r.ape)

    def med(d: dict[str, list[float]]) -> dict[str, float]:
        return {k: round(float(np.median(v)), 3) for k, v in d.items() if len(v) >= 3}

    out = {
        "description": "median absolute relative error of held-out (leave-one-source-out) "
        "predictions on the shared/validation files scored, per regime "
        "engine|gpu generation|dense or moe|memory- or compute-bound decode, and "
        "engine|gpu generation|moe|attention-dp for attention-DP + EP layouts",
        "regimes": {k: med(v) for k, v in sorted(groups.items()) if med(v)},
        "pooled": med(pooled),
    }
    path = ROOT / "src" / "infercost" / "catalog" / "data" / "error_bands.json"
    # write beside it and rename: a predict() reading the shipped file meanwhile (a test run
    # on the same checkout) sees the old file or the new one, never half of it
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(out, indent=1) + "\n")
    tmp.replace(path)
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
