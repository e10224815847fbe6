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
    get_number,
    input_error,
    join_notes,
    lengths,
    load_fact,
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
    The report does not name the GPU: pass ``gpu``.

    Raises:
        InputError: no throughput line, a malformed number (names the line), or GPU missing.
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
    isl_mean, osl_mean = (
        number("Average Input Length (tokens)"),
        number("Average Output Length (tokens)"),
    )
    integral = all(v is not None and v == int(v) for v in (isl_mean, osl_mean))
    isl, osl, dataset, length_note = lengths(
        path,
        "",
        overrides,
        isl_mean=isl_mean,
        osl_mean=osl_mean,
        fixed=False if not integral else None,
        dataset=None,
        label="trtllm-bench dataset",
    )
    # The report does not state the client's load (the offline run is max throughput).
    mode, concurrency, _ = load_fact(path, "", None, overrides, ("max_throughput", None, None))
    config.update(
        isl=isl,
        osl=osl,
        dataset=dataset,
        mode=mode,
        concurrency=concurrency,
        request_rate_qps=None,
        notes=join_notes("trtllm-bench throughput report", length_note, str(config["notes"])),
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


def _llama_bench_records(path: Path, text: str) -> tuple[list[Mapping[str, object]], str]:
    stripped = text.lstrip()
    if stripped.startswith("["):
        data = parse_json(path, text)
        if not isinstance(data, list) or not all(isinstance(r, Mapping) for r in data):
            raise input_error(path, "", "expected a JSON array of llama-bench test objects")
        return list(data), "test"
    if stripped.startswith("{"):
        return parse_jsonl(path, text), "line"
    reader = csv.DictReader(io.StringIO(text))
    rows: list[Mapping[str, object]] = []
    for row in reader:
        if None in row:
            raise input_error(path, f"line {reader.line_num}", "more cells than header columns")
        rows.append(dict(row))
    return rows, "row"


def import_llama_bench(path: str | Path, **overrides: Unpack[Overrides]) -> list[Measurement]:
    """Import ``llama-bench -o json``, ``-o jsonl`` or ``-o csv`` output.

    Reads per test (llama.cpp tools/llama-bench/README.md, "Output formats"): ``n_prompt``,
    ``n_gen``, ``n_depth`` (absent in old builds: 0), ``avg_ts`` (tokens/s), ``avg_ns`` (ns),
    ``model_filename``, ``model_type`` (its GGUF type, e.g. ``Q4_0``, gives the weight dtype),
    ``type_k``/``type_v`` (KV dtype), ``gpu_info``, ``split_mode``, ``build_commit``,
    ``build_number``. A ``pp`` test (n_gen 0) is ``prefill_throughput_tok_s``; a ``tg`` test
    (n_prompt 0) is ``decode_throughput_tok_s``; a ``pg`` test (both) is the end-to-end time
    of one sequence, ``e2e_mean_s`` = avg_ns. All are batch-1 single-sequence runs.
    Several GPUs in ``gpu_info`` split by layer count as ``pp``, by row as ``tp``.

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
