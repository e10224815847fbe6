"""Importers for ``trtllm-bench throughput`` text reports and llama.cpp ``llama-bench`` output.

See :mod:`infercost.calibrate.importers` for the shared contract.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Unpack

from infercost.calibrate._fields import (
    NOT_STATED,
    S_PER_NS,
    Builder,
    Overrides,
    agreed,
    as_int,
    as_number,
    get_mapping,
    get_number,
    input_error,
    join_notes,
    lengths,
    load_fact,
    opt_mapping,
    opt_number,
    parse_json,
    parse_jsonl,
    read_text,
    resolve_config,
)
from infercost.calibrate.measurement import Measurement, Metric
from infercost.units import S_PER_MS

# --------------------------------------------------------------------------------------------
# trtllm-bench throughput text report

_TRT_LINE = re.compile(r"^\s*([A-Za-z][^:]*?)\s*:\s*(\S.*?)\s*$")
_TRT_DTYPES = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}
# TensorRT-LLM QuantAlgo names whose weight format is a catalog dtype under another name
# (tensorrt_llm/quantization/mode.py): W4A8_MXFP4_MXFP8 / W4A8_MXFP4_FP8 / W4A16_MXFP4 keep
# weights in MXFP4 (gpt-oss), FP8_BLOCK_SCALES / FP8_PER_CHANNEL_PER_TOKEN in FP8.
_TRT_QUANT_WEIGHTS = {
    "w4a8_mxfp4_mxfp8": "mxfp4",
    "w4a8_mxfp4_fp8": "mxfp4",
    "w4a16_mxfp4": "mxfp4",
    "fp8_block_scales": "fp8",
    "fp8_per_channel_per_token": "fp8",
}
# (report key, metric, factor to base units); the first key found for a metric wins.
_TRT_METRICS: tuple[tuple[str, Metric, float], ...] = (
    ("Total Output Throughput (tokens/sec)", "output_throughput_tok_s", 1.0),
    ("Token Throughput (tokens/sec)", "output_throughput_tok_s", 1.0),
    ("Request Throughput (req/sec)", "request_throughput_req_s", 1.0),
    ("Per GPU Output Throughput (tps/gpu)", "output_throughput_per_gpu_tok_s", 1.0),
    ("Per GPU Output Throughput (tokens/sec/gpu)", "output_throughput_per_gpu_tok_s", 1.0),
    ("Average time-to-first-token [TTFT] (ms)", "ttft_mean_s", S_PER_MS),
    ("Average time-to-first-token (ms)", "ttft_mean_s", S_PER_MS),
    ("Average time-per-output-token [TPOT] (ms)", "tpot_mean_s", S_PER_MS),
    ("Average inter-token latency (ms)", "itl_mean_s", S_PER_MS),
    ("Average request latency (ms)", "e2e_mean_s", S_PER_MS),
)


def _trt_value(value: str | None) -> str | None:
    return None if value is None or value.strip().lower() in ("none", "") else value.strip()


def import_trtllm_bench_text(
    path: str | Path, **overrides: Unpack[Overrides]
) -> list[Measurement]:
    """Import the text report that ``trtllm-bench ... throughput`` prints (saved to a file).

    Reads ``Key: value`` lines (TensorRT-LLM docs/source/performance/perf-benchmarking.md):
    ``Model``, ``TensorRT-LLM Version``, ``Dtype``, ``KV Cache Dtype``, ``Quantization``,
    ``TP Size``, ``PP Size``, ``EP Size``, ``Average Input Length (tokens)``, ``Average Output
    Length (tokens)``, and the metrics ``Token Throughput (tokens/sec)`` (older reports; output
    tokens, per the doc's example 182.86 req/s x 128 = 23,406) or ``Total Output Throughput
    (tokens/sec)``, ``Request Throughput (req/sec)``, ``Per GPU Output Throughput``, and the
    streaming averages (TTFT, TPOT, inter-token latency, request latency, in ms). The weight
    dtype is ``Quantization`` when set, else ``Dtype``; a ``None`` KV cache dtype means the
    model's dtype (``auto``). The run is offline max-throughput unless ``concurrency`` is given.
    ``Number of concurrent requests`` (newer reports) is the average number of requests in
    flight that trtllm-bench measured, not a load setting: it is kept in the notes, and a
    ``concurrency`` option below it is an error. The report does not name the GPU: pass ``gpu``.

    Raises:
        InputError: no throughput line, a malformed number (names the line), GPU missing, or a
            ``concurrency`` below the measured average in flight.
    """
    path = Path(path)
    fields: dict[str, tuple[str, int]] = {}
    for line_no, line in enumerate(read_text(path).splitlines(), start=1):
        if match := _TRT_LINE.match(line):
            fields.setdefault(match.group(1), (match.group(2), line_no))

    def text(key: str) -> str | None:
        return _trt_value(fields[key][0]) if key in fields else None

    def number(key: str) -> float | None:
        value = text(key)
        return None if value is None else as_number(value, key, path, f"line {fields[key][1]}")

    weight = text("Quantization") or text("Dtype")
    kv = text("KV Cache Dtype")
    stated: dict[str, object] = {
        "model": text("Model"),
        "engine": "TensorRT-LLM",
        "engine_version": text("TensorRT-LLM Version"),
        "weight_dtype": _TRT_DTYPES.get((weight or "").lower(), (weight or NOT_STATED).lower()),
        "kv_dtype": kv.lower() if kv else ("auto" if "KV Cache Dtype" in fields else None),
        "tp": number("TP Size"),
        "pp": number("PP Size"),
        "ep": number("EP Size"),
    }
    config = resolve_config(path, "", stated, overrides, tool="trtllm-bench")
    _trt_run(
        path,
        "",
        config,
        overrides,
        isl_mean=number("Average Input Length (tokens)"),
        osl_mean=number("Average Output Length (tokens)"),
        avg_in_flight=number("Number of concurrent requests"),
        label="trtllm-bench throughput report",
    )
    builder = Builder(path, path.stem)
    done: set[str] = set()
    for key, metric, factor in _TRT_METRICS:
        value = number(key)
        if value is not None and metric not in done:
            done.add(metric)
            builder.add(f"line {fields[key][1]}", config, metric, value * factor)
    if "output_throughput_tok_s" not in done:
        raise input_error(
            path,
            "",
            "no 'Token Throughput (tokens/sec)' or 'Total Output Throughput "
            "(tokens/sec)' line; save the complete trtllm-bench throughput output",
        )
    return builder.measurements


def _trt_run(
    path: Path,
    where: str,
    config: dict[str, object],
    overrides: Overrides,
    *,
    isl_mean: float | None,
    osl_mean: float | None,
    avg_in_flight: float | None,
    label: str,
    fixed: bool | None = None,
) -> None:
    """Fill lengths, load and notes of a trtllm-bench run into ``config``; ``fixed`` is whether
    the file shows every request had the same lengths (``None``: it does not say)."""
    integral = all(v is not None and v == int(v) for v in (isl_mean, osl_mean))
    isl, osl, dataset, length_note = lengths(
        path,
        where,
        overrides,
        isl_mean=isl_mean,
        osl_mean=osl_mean,
        fixed=False if not integral else fixed,
        dataset=None,
        label="trtllm-bench dataset",
    )
    # The report does not state the client's load (the offline run is max throughput).
    mode, concurrency, _ = load_fact(path, where, None, overrides, ("max_throughput", None, None))
    in_flight_note = ""
    if avg_in_flight is not None:
        in_flight_note = (
            f"{avg_in_flight:g} requests in flight on average (measured by trtllm-bench)"
        )
        option = overrides.get("concurrency")
        if option is not None and avg_in_flight > option * (1 + 1e-3) + 1e-3:
            raise input_error(
                path,
                where,
                f"the file measured {avg_in_flight:g} requests in flight on average, more "
                f"than --concurrency {option} allows; drop --concurrency or fix it",
            )
    config.update(
        isl=isl,
        osl=osl,
        dataset=dataset,
        mode=mode,
        concurrency=concurrency,
        request_rate_qps=None,
        notes=join_notes(label, in_flight_note, length_note, str(config["notes"])),
    )


def _trt_dtype(weight: object) -> str:
    text = "" if weight is None else str(weight).strip()
    if text.lower() in ("", "none"):
        return NOT_STATED
    lower = text.lower()
    return _TRT_DTYPES.get(lower, _TRT_QUANT_WEIGHTS.get(lower, lower))


def _trt_fixed_lengths(dataset: Mapping[str, object], path: Path) -> bool | None:
    """Whether ``dataset.isl_stats`` / ``osl_stats`` (TensorRT-LLM >= 1.0) show one input and
    one output length for every request (minimum == maximum); ``None`` when they are absent."""
    bounds = []
    for key in ("isl_stats", "osl_stats"):
        stats = opt_mapping(dataset, key)
        if stats is None:
            return None
        low = opt_number(stats, "minimum", path, f"dataset.{key}")
        high = opt_number(stats, "maximum", path, f"dataset.{key}")
        if low is None or high is None:
            return None
        bounds.append(low == high)
    return all(bounds)


def _trt_decoding_note(data: Mapping[str, object], path: Path) -> str:
    """A note on ``decoding_stats`` (speculative decoding: the mode and the mean number of
    tokens each step accepted), which the throughput figures include."""
    stats = opt_mapping(data, "decoding_stats")
    if stats is None:
        return ""
    mode = stats.get("mode")
    acceptance = opt_mapping(stats, "acceptance_length_percentiles") or {}
    mean = opt_number(acceptance, "average", path, "decoding_stats.acceptance_length_percentiles")
    accepted = "" if mean is None else f", {mean:.3g} tokens accepted per step on average"
    return (
        f"speculative decoding ({mode}{accepted}): throughput and latency include it, "
        "unlike a plain decode"
    )


# (report_json section, key, metric, factor to base units); the first key found for a metric wins.
_TRT_JSON_METRICS: tuple[tuple[str, str, Metric, float], ...] = (
    ("performance", "system_output_throughput_tok_s", "output_throughput_tok_s", 1.0),
    ("performance", "output_throughput_tok_s", "output_throughput_tok_s", 1.0),
    ("performance", "request_throughput_req_s", "request_throughput_req_s", 1.0),
    ("performance", "output_throughput_per_gpu_tok_s", "output_throughput_per_gpu_tok_s", 1.0),
    ("performance", "avg_request_latency_ms", "e2e_mean_s", S_PER_MS),
    ("streaming_metrics", "avg_ttft_ms", "ttft_mean_s", S_PER_MS),
    ("streaming_metrics", "avg_tpot_ms", "tpot_mean_s", S_PER_MS),
)


def import_trtllm_bench_json(
    path: str | Path, **overrides: Unpack[Overrides]
) -> list[Measurement]:
    """Import the ``--report_json`` file of ``trtllm-bench ... throughput``.

    Reads (TensorRT-LLM tensorrt_llm/bench/dataclasses/reporting.py, ``get_statistics_dict``):
    ``engine.model``, ``engine.version``, ``engine.dtype``, ``engine.quantization`` (the weight
    dtype when set; a QuantAlgo such as ``W4A8_MXFP4_MXFP8`` reads as its weight format,
    noted), ``engine.kv_cache_dtype`` (null: the model's dtype, ``auto``),
    ``machine.name`` (the first GPU; absent or null: pass ``gpu``), ``world_info.tp_size``,
    ``pp_size``, ``ep_size``, ``world_size`` (the GPU count), ``request_info.avg_input_length``,
    ``avg_output_length``, ``avg_num_concurrent_requests`` (measured average in flight, see
    :func:`import_trtllm_bench_text`), ``performance.system_output_throughput_tok_s`` (older:
    ``output_throughput_tok_s``), ``request_throughput_req_s``,
    ``output_throughput_per_gpu_tok_s``, ``avg_request_latency_ms`` and, for ``--streaming``
    runs, ``streaming_metrics.avg_ttft_ms``, ``avg_tpot_ms`` and ``ttft_percentiles`` (p50,
    p99; ms). ``dataset.isl_stats`` / ``osl_stats`` (TensorRT-LLM >= 1.0) with minimum ==
    maximum mark fixed lengths; ``decoding_stats`` (speculative decoding) is noted, as its
    figures include the accepted draft tokens. The run is offline max-throughput unless
    ``concurrency`` is given.

    Raises:
        InputError: invalid JSON, a missing section or output throughput (named), a malformed
            number, or GPU missing.
    """
    path = Path(path)
    data = parse_json(path, read_text(path))
    if not isinstance(data, Mapping):
        raise input_error(path, "", "expected one JSON object (trtllm-bench --report_json)")
    engine = get_mapping(data, "engine", path, "")
    world = get_mapping(data, "world_info", path, "")
    requests = opt_mapping(data, "request_info") or {}
    machine = opt_mapping(data, "machine") or {}
    quant = engine.get("quantization")
    weight = quant if _trt_dtype(quant) != NOT_STATED else engine.get("dtype")
    kv = engine.get("kv_cache_dtype")
    quant_note = ""
    if str(quant).strip().lower() in _TRT_QUANT_WEIGHTS:
        quant_note = f"quantization {quant} read as weight dtype {_trt_dtype(quant)}"
        if str(quant).strip().upper().startswith("W4A8_MXFP4"):
            # TensorRT-LLM runs MXFP4 x MXFP8 (or FP8) activations only on GPUs with FP4
            # tensor cores (its gpt-oss MoE support matrix: Hopper runs W4A16)
            quant_note += (
                " (W4A8: FP8-class activations, a Blackwell kernel; on a GPU without FP4 "
                "tensor cores the prediction runs W4A16, so check the --gpu this file names)"
            )

    def count(key: str) -> float | None:
        value = world.get(key)
        if value is None or str(value).strip().lower() == "none":
            return None
        return as_number(value, key, path, "world_info")

    stated: dict[str, object] = {
        "model": engine.get("model"),
        "gpu": machine.get("name"),
        "engine": "TensorRT-LLM",
        "engine_version": engine.get("version"),
        "weight_dtype": _trt_dtype(weight),
        "kv_dtype": _trt_dtype(kv) if _trt_dtype(kv) != NOT_STATED else "auto",
        "tp": count("tp_size"),
        "pp": count("pp_size"),
        "ep": count("ep_size"),
        "num_gpus": count("world_size"),
    }
    config = resolve_config(path, "", stated, overrides, tool="trtllm-bench --report_json")
    _trt_run(
        path,
        "request_info",
        config,
        overrides,
        isl_mean=opt_number(requests, "avg_input_length", path, "request_info"),
        osl_mean=opt_number(requests, "avg_output_length", path, "request_info"),
        avg_in_flight=opt_number(requests, "avg_num_concurrent_requests", path, "request_info"),
        label="trtllm-bench --report_json",
        fixed=_trt_fixed_lengths(opt_mapping(data, "dataset") or {}, path),
    )
    config["notes"] = join_notes(str(config["notes"]), quant_note, _trt_decoding_note(data, path))
    builder = Builder(path, path.stem)
    done: set[str] = set()
    for section, key, metric, factor in _TRT_JSON_METRICS:
        block = opt_mapping(data, section) or {}
        value = opt_number(block, key, path, section)
        if value is not None and metric not in done:
            done.add(metric)
            builder.add(f"{section}.{key}", config, metric, value * factor)
    ttft = opt_mapping(opt_mapping(data, "streaming_metrics") or {}, "ttft_percentiles") or {}
    for stat, metric_name in (("p50", "ttft_p50_s"), ("p99", "ttft_p99_s")):
        value = opt_number(ttft, stat, path, "streaming_metrics.ttft_percentiles")
        if value is not None:
            builder.add(
                f"streaming_metrics.ttft_percentiles.{stat}",
                config,
                metric_name,  # type: ignore[arg-type]
                value * S_PER_MS,
            )
    if "output_throughput_tok_s" not in done:
        raise input_error(
            path,
            "performance",
            "required field 'system_output_throughput_tok_s' is missing; pass the file "
            "trtllm-bench wrote with --report_json",
        )
    return builder.measurements


def import_trtllm_bench(path: str | Path, **overrides: Unpack[Overrides]) -> list[Measurement]:
    """A trtllm-bench result: the ``--report_json`` file when it is JSON, else the text
    report (:func:`import_trtllm_bench_json`, :func:`import_trtllm_bench_text`)."""
    path = Path(path)
    if read_text(path).lstrip().startswith("{"):
        return import_trtllm_bench_json(path, **overrides)
    return import_trtllm_bench_text(path, **overrides)


# --------------------------------------------------------------------------------------------
# llama.cpp llama-bench

_GGUF_TYPE = re.compile(r"\b(?:mostly\s+)?((?:[IBQF]|BF|IQ|TQ)\d[\w]*(?:\s*-\s*\w+)?)\s*$", re.I)
_GGUF_SIZE = {"small": "s", "medium": "m", "large": "l"}


def _gguf_weight_dtype(model_type: str) -> str:
    """``llama 7B mostly Q4_0`` -> ``q4_0``; ``qwen2 7B Q4_K - Medium`` -> ``q4_k_m``."""
    match = _GGUF_TYPE.search(model_type)
    if not match:
        return NOT_STATED
    name, _, size = (part.strip().lower() for part in match.group(1).partition("-"))
    return f"{name}_{_GGUF_SIZE.get(size, size)}" if size else name


MARKDOWN_HEADER = re.compile(
    r"^\s*\|\s*model\s*\|.*\|\s*test\s*\|\s*t/s\s*\|\s*$", re.MULTILINE | re.IGNORECASE
)
"""The header row of llama-bench's default Markdown table (``-o md``)."""
# "pp512", "pp 512", "tg128 @ d512", "pp512+tg128" (the -pg test).
_MD_TEST = re.compile(
    r"^(?:pp\s*(?P<pp>\d+))?\s*\+?\s*(?:tg\s*(?P<tg>\d+))?\s*(?:@\s*d\s*(?P<d>\d+))?$",
    re.IGNORECASE,
)
_MD_RATE = re.compile(r"^\s*([0-9][0-9.,]*)\s*(?:±\s*[0-9.,]+)?\s*$")
# Markdown columns that carry a CSV field under another name.
_MD_COLUMNS = {"model": "model_type", "type_k": "type_k", "type_v": "type_v", "sm": "split_mode"}


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _markdown_records(path: Path, text: str) -> list[Mapping[str, object]]:
    """Rows of llama-bench's Markdown table as CSV-like records (``n_prompt``, ``n_gen``,
    ``n_depth``, ``avg_ts``, ``model_type`` ...); a pp+tg test gets ``avg_ns`` from its rate."""
    lines = text.splitlines()
    header_at = next(i for i, line in enumerate(lines) if MARKDOWN_HEADER.match(line))
    header = [cell.lower() for cell in _cells(lines[header_at])]
    records: list[Mapping[str, object]] = []
    for number, line in enumerate(lines[header_at + 1 :], start=header_at + 2):
        if not line.strip().startswith("|"):
            if line.strip():
                break  # text after the table (llama-bench prints "build: ..." below it)
            continue
        cells = _cells(line)
        if all(set(cell) <= set("-: ") for cell in cells):
            continue  # the | --- | ---: | separator row
        where = f"line {number}"
        if len(cells) != len(header):
            raise input_error(
                path,
                where,
                f"the table row has {len(cells)} cells but the header has {len(header)} "
                "columns; paste the table as llama-bench printed it",
            )
        row = dict(zip(header, cells, strict=True))
        test = _MD_TEST.match(row["test"])
        rate = _MD_RATE.match(row["t/s"])
        if test is None or not (test.group("pp") or test.group("tg")):
            raise input_error(
                path, where, f"column 'test' is {row['test']!r}; expected ppN, tgN or ppN+tgN"
            )
        if rate is None:
            raise input_error(
                path, where, f"column 't/s' is {row['t/s']!r}; expected 'rate ± deviation'"
            )
        n_prompt, n_gen = int(test.group("pp") or 0), int(test.group("tg") or 0)
        avg_ts = float(rate.group(1).replace(",", ""))
        record: dict[str, object] = {
            _MD_COLUMNS.get(key, key): value for key, value in row.items() if value
        }
        record.update(
            n_prompt=n_prompt, n_gen=n_gen, n_depth=int(test.group("d") or 0), avg_ts=avg_ts
        )
        if n_prompt and n_gen and avg_ts > 0:
            record["avg_ns"] = (n_prompt + n_gen) / avg_ts / S_PER_NS
        records.append(record)
    return records


def _llama_bench_records(path: Path, text: str) -> tuple[list[Mapping[str, object]], str]:
    stripped = text.lstrip()
    if stripped.startswith("["):
        data = parse_json(path, text)
        if not isinstance(data, list) or not all(isinstance(r, Mapping) for r in data):
            raise input_error(path, "", "expected a JSON array of llama-bench test objects")
        return list(data), "test"
    if stripped.startswith("{"):
        return parse_jsonl(path, text), "line"
    if MARKDOWN_HEADER.search(text):
        return _markdown_records(path, text), "table row"
    reader = csv.reader(io.StringIO(text))
    try:
        header = [column.strip() for column in next(reader, [])]
        lines = [(reader.line_num, cells) for cells in reader]
    except csv.Error as err:
        raise input_error(
            path,
            f"line {reader.line_num}",
            f"cannot be read as CSV ({err}); save the complete llama-bench -o csv output",
        ) from None
    rows: list[Mapping[str, object]] = []
    for line_no, cells in lines:
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            raise input_error(
                path,
                f"line {line_no}",
                f"the row has {len(cells)} cells but the header has {len(header)} columns; "
                "save the complete llama-bench -o csv output (quote cells with commas)",
            )
        rows.append(dict(zip(header, cells, strict=True)))
    return rows, "row"


def import_llama_bench(path: str | Path, **overrides: Unpack[Overrides]) -> list[Measurement]:
    """Import ``llama-bench -o json``, ``-o jsonl``, ``-o csv`` or the default ``-o md`` table.

    Reads per test (llama.cpp tools/llama-bench/README.md, "Output formats"): ``n_prompt``,
    ``n_gen``, ``n_depth`` (absent in old builds: 0), ``avg_ts`` (tokens/s), ``avg_ns`` (ns),
    ``model_filename``, ``model_type`` (its GGUF type, e.g. ``Q4_0``, gives the weight dtype),
    ``type_k``/``type_v`` (KV dtype), ``gpu_info``, ``split_mode``, ``build_commit``,
    ``build_number``. A ``pp`` test (n_gen 0) is ``prefill_throughput_tok_s``; a ``tg`` test
    (n_prompt 0) is ``decode_throughput_tok_s``; a ``pg`` test (both) is the end-to-end time
    of one sequence, ``e2e_mean_s`` = avg_ns. All are batch-1 single-sequence runs.
    Several GPUs in ``gpu_info`` split by layer count as ``pp``, by row as ``tp``.
    The Markdown table (what people paste) has only ``model`` (the model type), ``backend``,
    ``test`` (``pp512``, ``tg128``, ``pp512+tg128``, ``... @ d512``) and ``t/s`` (mean ±
    deviation) plus the options that were varied: it names no GPU (pass ``gpu``), and the
    end-to-end time of a pp+tg test is (n_prompt + n_gen) / t/s.

    Raises:
        InputError: a missing/malformed field (named with the test's position), or no GPU
            (old builds do not print ``gpu_info``: pass ``gpu``).
    """
    path = Path(path)
    records, unit = _llama_bench_records(path, read_text(path))
    if not records:
        raise input_error(path, "", "no llama-bench tests in the file")
    builder = Builder(path, path.stem)
    for index, record in enumerate(records, start=1):
        where = f"{unit} {index}"
        n_prompt = as_int(record.get("n_prompt"), "n_prompt", path, where)
        n_gen = as_int(record.get("n_gen"), "n_gen", path, where)
        n_depth = as_int(record.get("n_depth") or 0, "n_depth", path, where)
        model_type = str(record.get("model_type") or "")
        gpus = [g.strip() for g in str(record.get("gpu_info") or "").split(",") if g.strip()]
        split = str(record.get("split_mode") or "layer")
        num_gpus = as_int(
            agreed(path, where, "num_gpus", len(gpus), overrides) if gpus
            else overrides.get("num_gpus", 1),
            "num_gpus", path, where,
        )  # fmt: skip
        commit, build = record.get("build_commit"), record.get("build_number")
        type_k, type_v = str(record.get("type_k") or ""), str(record.get("type_v") or "")
        stated: dict[str, object] = {
            "model": record.get("model_filename"),
            "gpu": gpus[0] if gpus else None,
            "engine": "llama.cpp",
            "engine_version": f"b{build} ({commit})" if build and commit else commit,
            "num_gpus": num_gpus,
            "tp": num_gpus if split == "row" else 1,
            "pp": num_gpus if split != "row" else 1,
            "ep": 1,
            "weight_dtype": _gguf_weight_dtype(model_type),
            "kv_dtype": type_k if type_k == type_v else f"{type_k}/{type_v}",
        }
        config = resolve_config(
            path, where, stated, overrides, tool="llama-bench",
            defaults={"model": model_type},  # "qwen2 7B Q4_K - Medium" describes, not names
        )  # fmt: skip
        mode, concurrency, _ = load_fact(
            path, where, ("static_batch", 1, None), overrides, ("static_batch", 1, None)
        )
        config.update(
            isl=agreed(path, where, "isl", n_prompt if n_prompt else n_depth, overrides),
            osl=agreed(path, where, "osl", n_gen, overrides),
            dataset=None,
            mode=mode,
            concurrency=concurrency,
            request_rate_qps=None,
            notes=join_notes(
                f"llama-bench test {model_type}: n_prompt={n_prompt}, "
                f"n_gen={n_gen}, n_depth={n_depth}",
                str(config["notes"]),
            ),
        )
        if n_prompt > 0 and n_gen > 0:
            avg_ns = get_number(record, "avg_ns", path, where)
            builder.add(where, config, "e2e_mean_s", avg_ns * S_PER_NS)
        elif n_prompt > 0 or n_gen > 0:
            avg_ts = get_number(record, "avg_ts", path, where)
            metric: Metric = "prefill_throughput_tok_s" if n_prompt else "decode_throughput_tok_s"
            builder.add(where, config, metric, avg_ts)
        else:
            raise input_error(path, where, "fields 'n_prompt' and 'n_gen' are both 0")
    return builder.measurements
