"""Import benchmark result files into :class:`~infercost.calibrate.measurement.Measurement`.

One function per format, and :func:`import_file`, which detects the format from the content.
Each function returns every measurement in the file or raises
:class:`~infercost.errors.InputError` naming the file, the place and the field; it never drops a
row it cannot read. Facts a file does not state (the GPU, often the model, the parallelism)
come from keyword arguments (:class:`~infercost.calibrate._fields.Overrides`); they only fill
gaps: one that contradicts what the file states is an error naming the field and both values
(agreeing spellings such as ``H100`` for ``H100-SXM-80GB`` are accepted). Values are converted
to base units (seconds, tok/s, req/s).

Formats and the documentation each reader follows:

- ``calibration-csv``: the layout of ``shared/validation/calibration.csv`` (its README.md).
- ``vllm``: the result JSON of vLLM ``benchmarks/benchmark_serving.py --save-result`` and
  ``vllm bench serve`` (keys ``model_id``, ``request_rate``, ``max_concurrency``, ``completed``,
  ``output_throughput``, ``mean_ttft_ms`` ...; ``--metadata KEY=VALUE`` pairs sit at top
  level). A JSON array of such objects (as ``infercost calibrate run`` writes) is accepted.
- ``sglang``: ``python -m sglang.bench_serving --output-file``: JSON Lines, one result object
  per run (``backend``, ``dataset_name``, ``random_input_len``, ``mean_e2e_latency_ms`` ...).
- ``genai-perf``: NVIDIA genai-perf ``profile_export_genai_perf.json`` and AIPerf
  ``profile_export_aiperf.json``: metric blocks ``{"unit", "avg", "p50", "p99", ...}`` plus
  ``input_config``.
- ``guidellm``: the guidellm benchmark report JSON (``{"benchmarks": [...]}``, metrics as
  ``{"successful": {"mean", "median", "percentiles"}}`` status distributions).
- ``trtllm-bench``: the text report of ``trtllm-bench throughput`` (``= PERFORMANCE OVERVIEW``
  ``Key: value`` lines), both the older ``Token Throughput`` and newer ``Total Output
  Throughput`` wordings. Detected only by a ``= PERFORMANCE OVERVIEW`` banner line together
  with a ``Request Throughput (req/sec): <number>`` (or token throughput) line, so a text that
  merely mentions them (documentation) is not taken for a report. Also its ``--report_json``
  file (``engine``, ``world_info``, ``request_info``, ``performance`` objects).
- ``llama-bench``: ``llama-bench -o json`` / ``-o jsonl`` / ``-o csv`` (``n_prompt``,
  ``n_gen``, ``avg_ts``, ``avg_ns`` per test) and the default Markdown table (``-o md``).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Literal, Unpack, get_args

from infercost.calibrate._fields import (
    S_PER_US,
    Builder,
    Overrides,
    as_int,
    as_number,
    input_error,
    read_text,
)
from infercost.calibrate._offline_formats import (
    MARKDOWN_HEADER,
    import_llama_bench,
    import_trtllm_bench,
    import_trtllm_bench_json,
    import_trtllm_bench_text,
)
from infercost.calibrate._profile_formats import import_genai_perf_json, import_guidellm_json
from infercost.calibrate._serving_formats import import_sglang_jsonl, import_vllm_json
from infercost.calibrate.measurement import Measurement, Metric, Mode
from infercost.errors import InfercostError, InputError
from infercost.units import S_PER_MS

__all__ = [
    "FORMATS",
    "Format",
    "Overrides",
    "detect_format",
    "import_calibration_csv",
    "import_file",
    "import_genai_perf_json",
    "import_guidellm_json",
    "import_llama_bench",
    "import_sglang_jsonl",
    "import_trtllm_bench",
    "import_trtllm_bench_json",
    "import_trtllm_bench_text",
    "import_vllm_json",
    "parse_concurrency",
]

Format = Literal[
    "calibration-csv", "vllm", "sglang", "genai-perf", "guidellm", "trtllm-bench", "llama-bench"
]
FORMATS: tuple[str, ...] = get_args(Format)


# --------------------------------------------------------------------------------------------
# reading and format detection


# trtllm-bench: the banner line of the metrics section and a metric line with a number.
_TRT_BANNER = re.compile(r"^=\s*PERFORMANCE OVERVIEW\s*$", re.MULTILINE)
_TRT_METRIC_LINE = re.compile(
    r"^\s*(?:Request Throughput \(req/sec\)|Token Throughput \(tokens/sec\)"
    r"|Total Output Throughput \(tokens/sec\))\s*:\s*[-+]?\d[\d.eE+-]*\s*$",
    re.MULTILINE,
)


def _json_lines_or_none(text: str) -> list[object] | None:
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 1:
        return None
    try:
        return [json.loads(line) for line in lines]
    except json.JSONDecodeError:
        return None


def _kind_of_record(record: object) -> Format | None:
    if not isinstance(record, Mapping):
        return None
    if "avg_ts" in record and "n_prompt" in record:
        return "llama-bench"
    if "benchmarks" in record:
        return "guidellm"
    if isinstance(record.get("world_info"), Mapping) and isinstance(
        record.get("performance"), Mapping
    ):
        return "trtllm-bench"
    if isinstance(record.get("output_token_throughput"), Mapping) or isinstance(
        record.get("request_throughput"), Mapping
    ):
        return "genai-perf"
    if "mean_e2e_latency_ms" in record or "random_input_len" in record:
        return "sglang"
    if "output_throughput" in record and "completed" in record:
        return "vllm"
    return None


#: What to do about a file no importer can read.
_AS_WRITTEN = "pass the result file as the benchmark tool wrote it"


def csv_error(path: Path, line: int, err: csv.Error) -> InputError:
    """The error for a CSV line the csv module cannot read (a field past its 131,072
    characters, a NUL byte, an unterminated quote)."""
    return input_error(path, f"line {line}", f"cannot be read as CSV ({err}); {_AS_WRITTEN}")


@contextmanager
def _readable(path: Path) -> Iterator[None]:
    """Turn what a file no reader expects raises (JSON nested past Python's recursion limit,
    an integer of more than 4,300 digits, a CSV error not caught where it arose) into one
    :class:`InputError` naming the file and what to do.

    Raises:
        InputError: the file, the reason and what to pass instead.
    """
    try:
        yield
    except InfercostError:  # InputError is a ValueError: already says what is wrong
        raise
    except RecursionError:
        raise input_error(path, "", f"JSON nested too deeply to read; {_AS_WRITTEN}") from None
    except csv.Error as err:
        raise input_error(path, "", f"cannot be read as CSV ({err}); {_AS_WRITTEN}") from None
    except (ValueError, TypeError) as err:  # e.g. int() of a 200,000-digit cell
        raise input_error(path, "", f"cannot be read ({str(err)[:120]}); {_AS_WRITTEN}") from None


def detect_format(path: str | Path) -> Format:
    """The format of the result file at ``path``, judged from its content.

    Raises:
        InputError: the file cannot be read or matches none of :data:`FORMATS`.
    """
    path = Path(path)
    text = read_text(path)
    with _readable(path):
        return _detect(path, text)


def _detect(path: Path, text: str) -> Format:
    kind: Format | None = None
    if text.lstrip().startswith(("{", "[")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            records = _json_lines_or_none(text)
            kind = _kind_of_record(records[0]) if records else None
        else:
            kind = _kind_of_record(data[0] if isinstance(data, list) and data else data)
    if kind is None and _TRT_BANNER.search(text) and _TRT_METRIC_LINE.search(text):
        kind = "trtllm-bench"
    if kind is None:
        try:
            header = next(csv.reader(io.StringIO(text)), [])
        except csv.Error as err:
            raise csv_error(path, 1, err) from None
        columns = {column.strip() for column in header}
        if {"id", "metric", "concurrency", "value", "unit"} <= columns:
            kind = "calibration-csv"
        elif {"n_prompt", "n_gen", "avg_ts"} <= columns:
            kind = "llama-bench"
    if kind is None and MARKDOWN_HEADER.search(text):
        kind = "llama-bench"
    if kind is None:
        raise input_error(
            path,
            "",
            "format not recognised; supported: " + ", ".join(FORMATS) + " (a trtllm-bench "
            "report needs its '= PERFORMANCE OVERVIEW' section with a 'Request Throughput "
            "(req/sec): N' line). Pass format=... (CLI --format) if the file is one of them.",
        )
    return kind


def import_file(
    path: str | Path,
    *,
    format: Format | None = None,
    rejected: list[tuple[str, str]] | None = None,
    **overrides: Unpack[Overrides],
) -> list[Measurement]:
    """Import every measurement of the result file at ``path``.

    Args:
        path: a result file in one of :data:`FORMATS`.
        format: skip detection and read the file as this format.
        rejected: when a list is given, runs the file reports but that cannot be used (a
            calibration-CSV row that cannot be read, a guidellm benchmark whose requests
            mostly errored) are appended to it as (place, reason) and the import goes on;
            otherwise such a run stops the import.
        **overrides: facts the file does not state (``gpu``, ``model``, ``tp`` ...); one the
            file states must agree with it. The calibration CSV states everything and takes
            none.

    Raises:
        InputError: unreadable file, unknown format, a missing or malformed field (the
            message names the file, the place and the field), a fact that is stated nowhere,
            or an override that contradicts the file (names the field and both values).
        UnknownNameError: a ``gpu`` override the catalog does not know.
    """
    path = Path(path)
    kind = format or detect_format(path)
    if kind not in FORMATS:
        raise InputError(f"Unknown format {kind!r}; choose one of: {', '.join(FORMATS)}.")
    if kind == "calibration-csv" and overrides:
        raise InputError(
            f"{path}: the calibration CSV states every field itself; drop the options "
            f"{', '.join(sorted(overrides))}."
        )
    with _readable(path):
        if kind == "calibration-csv":
            return import_calibration_csv(path, rejected)
        if kind == "guidellm":
            return import_guidellm_json(path, rejected=rejected, **overrides)
        return _IMPORTERS[kind](path, **overrides)


# --------------------------------------------------------------------------------------------
# shared/validation/calibration.csv

CALIBRATION_CSV_COLUMNS: tuple[str, ...] = (
    "id", "source", "title", "date", "engine", "engine_version", "model", "gpu", "num_gpus",
    "tp", "pp", "weight_dtype", "kv_dtype", "isl", "osl", "concurrency", "metric", "value",
    "unit", "notes",
)  # fmt: skip

_LEADING_INT = re.compile(r"^\s*(\d+)\s*(?:\(.*\))?\s*$")
_MAX = re.compile(r"^\s*max\b", re.IGNORECASE)
_STATIC = re.compile(r"^\s*(?:static\s+)?batch\s*=\s*(\d+)\b", re.IGNORECASE)
_CLOSED = re.compile(r"^\s*concurrency\s*=\s*(\d+)\b", re.IGNORECASE)
_RATE = re.compile(r"^\s*request_rate\s*=\s*([0-9.]+|inf)\s*(?:qps)?\b", re.IGNORECASE)

_TIME_UNITS_S = {"ms": S_PER_MS, "s": 1.0, "us": S_PER_US}
_CSV_METRICS: dict[str, Metric] = {
    "ttft_mean": "ttft_mean_s",
    "first_token_latency": "ttft_mean_s",
    "ttft_median": "ttft_p50_s",
    "ttft_p50": "ttft_p50_s",
    "ttft_p99": "ttft_p99_s",
    "tpot_mean": "tpot_mean_s",
    "itl_mean": "itl_mean_s",
    "e2e_latency_mean": "e2e_mean_s",
    "request_throughput": "request_throughput_req_s",
    "prefill_throughput": "prefill_throughput_tok_s",
    "decode_throughput": "decode_throughput_tok_s",
    "output_throughput": "output_throughput_tok_s",
    "output_throughput_per_gpu": "output_throughput_per_gpu_tok_s",
}


def parse_concurrency(text: str) -> tuple[Mode, int | None, float | None]:
    """(mode, concurrency, request_rate_qps) from a calibration-CSV ``concurrency`` cell.

    ``max (offline; ...)`` -> max_throughput; ``static batch=8`` or ``batch=1 (...)`` ->
    static_batch 8 / 1; ``concurrency=16`` -> closed_loop 16; ``request_rate=4 qps`` ->
    request_rate 4.0; ``request_rate=inf`` -> request_rate with rate ``None`` (infinite).

    Raises:
        ValueError: the text matches none of these forms.
    """
    if _MAX.match(text):
        return "max_throughput", None, None
    if match := _STATIC.match(text):
        return "static_batch", int(match.group(1)), None
    if match := _CLOSED.match(text):
        return "closed_loop", int(match.group(1)), None
    if match := _RATE.match(text):
        rate = match.group(1).lower()
        return "request_rate", None, None if rate == "inf" else float(rate)
    raise ValueError(
        f"concurrency {text!r} is not one of 'max (...)', 'static batch=N', "
        "'concurrency=N', 'request_rate=X qps', 'request_rate=inf'"
    )


def _csv_metric(metric: str, unit: str) -> tuple[Metric, float]:
    """(Metric, factor to base units) for a CSV ``metric`` and ``unit``; ValueError if unknown."""
    if metric not in _CSV_METRICS:
        raise ValueError(f"metric {metric!r} is not one of {', '.join(_CSV_METRICS)}")
    name = _CSV_METRICS[metric]
    unit_key = unit.strip()
    if name.endswith("_s") and not name.endswith("tok_s") and not name.endswith("req_s"):
        if unit_key not in _TIME_UNITS_S:
            raise ValueError(f"unit {unit!r} of a latency must be one of ms, s, us")
        return name, _TIME_UNITS_S[unit_key]
    if name == "request_throughput_req_s":
        if unit_key != "req/s":
            raise ValueError(f"unit {unit!r} of request_throughput must be 'req/s'")
        return name, 1.0
    if not unit_key.startswith("tok/s"):
        raise ValueError(f"unit {unit!r} of a token throughput must start with 'tok/s'")
    per_gpu = unit_key.startswith("tok/s/GPU")
    if name == "output_throughput_tok_s" and per_gpu:
        return "output_throughput_per_gpu_tok_s", 1.0
    if name == "output_throughput_per_gpu_tok_s" and not per_gpu:
        raise ValueError(f"unit {unit!r} of output_throughput_per_gpu must be 'tok/s/GPU'")
    return name, 1.0


_LAYOUT_TOKEN = re.compile(r"\[layout ([^\]]*)\]")


def _csv_layout(row: Mapping[str, str], path: Path, where: str) -> dict[str, int]:
    """num_gpus, tp, pp, ep and dp of a calibration CSV row.

    The columns give num_gpus, tp and pp. A ``[layout gpus= tp= ep= adp= pp= replicas=]``
    token in the notes (closed_loop_hopper.csv) gives the physical layout, expert and
    attention-data parallelism included (one replica: ``replicas`` must be 1). A row with a
    blank ``tp`` whose notes name a ``DEPn`` layout (calibration_trtllm_1x.csv) is attention
    data parallelism with expert parallelism over its n GPUs: tp 1, dp = ep = n.

    Raises:
        InputError: a blank tp with neither, a layout token that does not add up, or one of
            several replicas.
    """
    token = _LAYOUT_TOKEN.search(row.get("notes", ""))
    if token is not None:
        parts = dict(kv.split("=", 1) for kv in token.group(1).split() if "=" in kv)
        try:
            lay = {k: int(parts[k]) for k in ("gpus", "tp", "ep", "adp", "pp", "replicas")}
        except (KeyError, ValueError):
            raise input_error(path, where, f"unreadable layout token {token.group(0)!r}") from None
        if lay["replicas"] != 1 or lay["gpus"] != lay["adp"] * lay["tp"] * lay["pp"]:
            raise input_error(
                path,
                where,
                f"layout {token.group(0)!r}: gpus must be adp x tp x pp of one replica",
            )
        return {
            "num_gpus": lay["gpus"], "tp": lay["tp"], "pp": lay["pp"], "ep": lay["ep"],
            "dp": lay["adp"],
        }  # fmt: skip
    num_gpus = as_int(row["num_gpus"], "num_gpus", path, where)
    if not row["tp"].strip() and re.search(r"\bDEP\d*\b", row.get("notes", "")):
        return {"num_gpus": num_gpus, "tp": 1, "pp": 1, "ep": num_gpus, "dp": num_gpus}
    return {
        "num_gpus": num_gpus,
        "tp": as_int(row["tp"], "tp", path, where),
        "pp": as_int(row["pp"], "pp", path, where),
    }


def _csv_length(text: str) -> int | None:
    """A fixed token count (``128``, ``1 (first token only)``), or None for a dataset name."""
    match = _LEADING_INT.match(text)
    return int(match.group(1)) if match else None


AMBIGUOUS_PER_GPU = "does not say whether this is per GPU or total"
"""The calibration CSV's note on a throughput whose unit may be per GPU or per replica."""
PER_GPU_READING = (
    "[infercost: read as per GPU. In the same TensorRT-LLM v0.6.1 document the H100 table is "
    "per GPU, and only the per-GPU reading keeps the A100 70B/7B throughput ratio (670/5,586 = "
    "0.12 at 128/128) near the H100 table's (2,657/19,694 = 0.13); as totals it is 0.03.]"
)
"""Why an ambiguous multi-GPU throughput is read per GPU (appended to the row's notes)."""


def _calibration_row(
    row: Mapping[str, str], row_id: str, path: Path, where: str, builder: Builder
) -> None:
    """Read one calibration-CSV row into ``builder``; InputError naming the cell otherwise."""
    try:
        mode, concurrency, rate = parse_concurrency(row["concurrency"])
    except ValueError as err:
        raise input_error(path, where, f"field 'concurrency': {err}") from None
    try:
        metric, factor = _csv_metric(row["metric"].strip(), row["unit"])
    except ValueError as err:
        raise input_error(path, where, f"field 'metric'/'unit': {err}") from None
    value = as_number(row["value"], "value", path, where)
    isl, osl = _csv_length(row["isl"]), _csv_length(row["osl"])
    datasets = [row[key].strip() for key, n in (("isl", isl), ("osl", osl)) if n is None]
    config: dict[str, object] = {
        "id": row_id,
        "source": row["source"].strip(),
        "engine": row["engine"].strip(),
        "engine_version": row["engine_version"].strip(),
        "model": row["model"].strip(),
        "gpu": row["gpu"].strip(),
        **_csv_layout(row, path, where),
        "weight_dtype": row["weight_dtype"].strip(),
        "kv_dtype": row["kv_dtype"].strip(),
        "isl": isl,
        "osl": osl,
        "dataset": " / ".join(datasets) if datasets else None,
        "mode": mode,
        "concurrency": concurrency,
        "request_rate_qps": rate,
        "notes": row["notes"],
    }
    num_gpus = config["num_gpus"]
    if (
        metric == "output_throughput_tok_s"
        and AMBIGUOUS_PER_GPU in row["notes"]
        and isinstance(num_gpus, int)
        and num_gpus > 1
    ):
        metric = "output_throughput_per_gpu_tok_s"
        config["notes"] = f"{row['notes']} {PER_GPU_READING}"
    builder.add(where, config, metric, value * factor)


def import_calibration_csv(
    path: str | Path, rejected: list[tuple[str, str]] | None = None
) -> list[Measurement]:
    """Import the calibration CSV layout (``shared/validation/calibration.csv``).

    Columns (README.md of that folder): id, source, title, date, engine, engine_version,
    model, gpu, num_gpus, tp, pp, weight_dtype, kv_dtype, isl, osl, concurrency, metric, value,
    unit, notes. ``isl``/``osl`` that are not counts name a dataset (kept in ``dataset``,
    both joined with `` / ``); ``concurrency`` is parsed by :func:`parse_concurrency`; ms values
    become seconds; ``output_throughput`` in ``tok/s/GPU`` becomes the per-GPU metric, and so
    does a multi-GPU ``output_throughput`` whose notes say the unit may be either
    (:data:`AMBIGUOUS_PER_GPU`; the reason is appended to its notes, :data:`PER_GPU_READING`).
    ``title`` and ``date`` are not kept; ``notes`` is kept verbatim.

    ``rejected``: when a list is given, a row whose cells cannot be read (a concurrency the
    source did not state, a blank GPU count) is appended to it as (id, reason) and the import
    goes on; otherwise such a row stops the import.

    Raises:
        InputError: a missing column, a malformed or repeated row, or (without ``rejected``) a
            row whose field cannot be read (names the line, the id and the column).
    """
    path = Path(path)
    text = read_text(path)
    reader = csv.DictReader(io.StringIO(text))
    try:
        fieldnames = reader.fieldnames or []
    except csv.Error as err:
        raise csv_error(path, 1, err) from None
    missing = [column for column in CALIBRATION_CSV_COLUMNS if column not in fieldnames]
    if missing:
        raise input_error(
            path,
            "header",
            f"missing column(s) {', '.join(missing)}; the layout is described "
            "in shared/validation/README.md",
        )
    builder = Builder(path, path.stem)
    seen: set[str] = set()
    for row in _dict_rows(reader, path):
        where = f"line {reader.line_num}, id {row.get('id')!r}"
        if None in row or any(row[column] is None for column in CALIBRATION_CSV_COLUMNS):
            raise input_error(path, where, "wrong number of cells; quote cells with commas")
        row_id = row["id"].strip()
        if row_id in seen:
            raise input_error(path, where, f"field 'id' repeats {row_id!r}; ids must be unique")
        seen.add(row_id)
        try:
            _calibration_row(row, row_id, path, where, builder)
        except InputError as err:
            if rejected is None:
                raise
            rejected.append((row_id, str(err)))
    if not builder.measurements:
        raise input_error(path, "", "the file has a header but no rows")
    return builder.measurements


def _dict_rows(reader: csv.DictReader[str], path: Path) -> Iterator[dict[str, str]]:
    """The rows of ``reader``; a line the csv module cannot read is :func:`csv_error`."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            raise csv_error(path, reader.reader.line_num, err) from None
        yield row


_IMPORTERS: dict[str, Callable[..., list[Measurement]]] = {
    "vllm": import_vllm_json,
    "sglang": import_sglang_jsonl,
    "genai-perf": import_genai_perf_json,
    "guidellm": import_guidellm_json,
    "trtllm-bench": import_trtllm_bench,
    "llama-bench": import_llama_bench,
}
