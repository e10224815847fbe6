"""Importers for vLLM ``bench serve`` JSON and SGLang ``bench_serving`` JSON Lines.

See :mod:`infercost.calibrate.importers` for the shared contract.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Unpack

from infercost.calibrate._fields import (
    Builder,
    Overrides,
    as_int,
    get_number,
    input_error,
    join_notes,
    lengths,
    load_fact,
    load_mode,
    opt_number,
    parse_json,
    parse_jsonl,
    rate_qps,
    read_text,
    resolve_config,
)
from infercost.calibrate.measurement import Measurement, Metric
from infercost.units import S_PER_MS

# --------------------------------------------------------------------------------------------
# vLLM bench serve / benchmark_serving.py and SGLang bench_serving

_ENGINE_OF_BACKEND = {
    "vllm": "vLLM",
    "vllm-chat": "vLLM",
    "sglang": "SGLang",
    "sglang-native": "SGLang",
    "sglang-oai": "SGLang",
    "sglang-oai-chat": "SGLang",
    "lmdeploy": "LMDeploy",
    "lmdeploy-chat": "LMDeploy",
    "tgi": "TGI",
    "trt": "TensorRT-LLM",
    "tensorrt-llm": "TensorRT-LLM",
    "deepspeed-mii": "DeepSpeed-MII",
    "scalellm": "ScaleLLM",
}

# (result key in ms, metric): the latency statistics both vLLM and SGLang write.
_SERVING_LATENCIES: tuple[tuple[str, Metric], ...] = (
    ("mean_ttft_ms", "ttft_mean_s"),
    ("median_ttft_ms", "ttft_p50_s"),
    ("p99_ttft_ms", "ttft_p99_s"),
    ("mean_tpot_ms", "tpot_mean_s"),
    ("mean_itl_ms", "itl_mean_s"),
)
_METADATA_KEYS = (
    "gpu",
    "num_gpus",
    "tp",
    "pp",
    "ep",
    "weight_dtype",
    "kv_dtype",
    "engine",
    "engine_version",
    "model",
)


def _serving_records(path: Path, data: object) -> list[Mapping[str, object]]:
    items: list[object] = data if isinstance(data, list) else [data]
    records = [item for item in items if isinstance(item, Mapping)]
    if not records or len(records) != len(items):
        raise input_error(path, "", "expected a JSON object (or an array of them) per run")
    return records


def _serving_run(
    builder: Builder,
    record: Mapping[str, object],
    where: str,
    overrides: Overrides,
    *,
    tool: str,
    e2e_key: str,
) -> None:
    """Measurements of one vLLM- or SGLang-layout result object."""
    path = builder.path
    completed = get_number(record, "completed", path, where)
    if completed < 1:
        raise input_error(
            path, where, "field 'completed' is 0: no request succeeded; fix the run and rerun"
        )
    total_in = get_number(record, "total_input_tokens", path, where)
    total_out = get_number(record, "total_output_tokens", path, where)
    stated: dict[str, object] = {k: record[k] for k in _METADATA_KEYS if k in record}
    stated.setdefault("model", record.get("model_id"))
    backend = str(record.get("backend", ""))
    if backend in _ENGINE_OF_BACKEND:
        stated.setdefault("engine", _ENGINE_OF_BACKEND[backend])
    config = resolve_config(path, where, stated, overrides, tool=tool)
    if "request_rate" not in record:
        raise input_error(path, where, "required field 'request_rate' is missing")
    rate = rate_qps(record["request_rate"], "request_rate", path, where)
    cap = record.get("max_concurrency")
    max_concurrency = None if cap is None else as_int(cap, "max_concurrency", path, where)
    stated_load = load_mode(rate, max_concurrency)
    mode, concurrency, qps = load_fact(path, where, stated_load, overrides, stated_load)
    fixed = _all_equal(record.get("input_lens"), record.get("output_lens"))
    dataset = record.get("dataset_name")
    isl, osl, dataset_label, length_note = lengths(
        path,
        where,
        overrides,
        isl_mean=total_in / completed,
        osl_mean=total_out / completed,
        fixed=_sglang_fixed(record) if fixed is None else fixed,
        dataset=str(dataset) if dataset else None,
        label="varying lengths",
    )
    config.update(
        isl=isl,
        osl=osl,
        dataset=dataset_label,
        mode=mode,
        concurrency=concurrency,
        request_rate_qps=qps,
        notes=join_notes(
            f"{tool} result: {int(completed)} requests completed"
            + (f", {record['failed']} failed" if record.get("failed") else ""),
            length_note,
            str(config["notes"]),
        ),
    )
    builder.add(
        where,
        config,
        "output_throughput_tok_s",
        get_number(record, "output_throughput", path, where),
    )
    builder.add(
        where,
        config,
        "request_throughput_req_s",
        get_number(record, "request_throughput", path, where),
    )
    for key, metric in (*_SERVING_LATENCIES, (e2e_key, "e2e_mean_s")):
        value_ms = opt_number(record, key, path, where)
        if value_ms is not None:
            builder.add(where, config, metric, value_ms * S_PER_MS)


def _all_equal(input_lens: object, output_lens: object) -> bool | None:
    """Whether the detailed per-request lengths were all equal (None when not saved)."""
    if not isinstance(input_lens, list) or not isinstance(output_lens, list):
        return None
    done = [(i, o) for i, o in zip(input_lens, output_lens, strict=False) if o]
    if not done:
        return None
    return len({i for i, _ in done}) == 1 and len({o for _, o in done}) == 1


def _sglang_fixed(record: Mapping[str, object]) -> bool | None:
    """SGLang random dataset: lengths are fixed only with ``random_range_ratio`` 1."""
    if str(record.get("dataset_name", "")).startswith("random"):
        ratio = record.get("random_range_ratio")
        if isinstance(ratio, int | float):
            return float(ratio) == 1.0
    if record.get("dataset_name") in ("sharegpt", "mmmu", "burstgpt"):
        return False
    return None


def import_vllm_json(path: str | Path, **overrides: Unpack[Overrides]) -> list[Measurement]:
    """Import a vLLM ``bench serve`` / ``benchmark_serving.py --save-result`` JSON file.

    Reads (vLLM benchmarks/benchmark_serving.py, vllm/benchmarks/serve.py): ``model_id``,
    ``backend``, ``request_rate`` (number or ``"inf"``), ``max_concurrency``, ``completed``,
    ``total_input_tokens``, ``total_output_tokens``, ``output_throughput`` (tok/s),
    ``request_throughput`` (req/s) and, when present, ``mean_ttft_ms``, ``median_ttft_ms``,
    ``p99_ttft_ms``, ``mean_tpot_ms``, ``mean_itl_ms``, ``mean_e2el_ms`` (ms -> s). Top-level
    ``--metadata`` keys ``gpu``, ``tp``, ``pp``, ``ep``, ``num_gpus``, ``engine``,
    ``engine_version``, ``weight_dtype``, ``kv_dtype`` are read as facts. ``isl``/``osl`` are
    the per-request means (total tokens / completed); with ``--save-detailed`` lengths, they
    are marked fixed or varying. An array of result objects, or JSON Lines of them (what
    ``--save-result --append-result`` writes: one run per line), is read as a sweep. A
    ``--metadata gpu=4xNVIDIA_L40S`` is read as 4 GPUs of that kind.

    Raises:
        InputError: missing/malformed field (named), no completed request, or model/GPU/engine
            stated nowhere (backends ``openai``/``openai-chat`` do not name the engine).
    """
    path = Path(path)
    builder = Builder(path, path.stem)
    text = read_text(path)
    try:
        data: object = json.loads(text)
    except json.JSONDecodeError:
        # --append-result writes one result object per line (JSON Lines).
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) < 2 or not lines[0].lstrip().startswith("{"):
            parse_json(path, text)  # raises with the line of the error
        data = list(parse_jsonl(path, text))
    records = _serving_records(path, data)
    for index, record in enumerate(records):
        where = f"run {index + 1}" if len(records) > 1 else ""
        _serving_run(
            builder, record, where, overrides, tool="vLLM bench serve", e2e_key="mean_e2el_ms"
        )
    return builder.measurements


def import_sglang_jsonl(path: str | Path, **overrides: Unpack[Overrides]) -> list[Measurement]:
    """Import an SGLang ``bench_serving --output-file`` JSON Lines file (one run per line).

    Reads (sglang python/sglang/bench_serving.py): ``backend``, ``dataset_name``,
    ``request_rate``, ``max_concurrency``, ``random_range_ratio``, ``completed``,
    ``total_input_tokens``, ``total_output_tokens``, ``output_throughput``,
    ``request_throughput``, ``mean_e2e_latency_ms``, ``mean_ttft_ms``, ``median_ttft_ms``,
    ``p99_ttft_ms``, ``mean_tpot_ms``, ``mean_itl_ms``. The result holds no model name: pass
    ``model`` unless a ``model_id`` key was added. Lengths are fixed only for the random dataset
    with ``random_range_ratio`` 1; otherwise isl/osl are means and ``dataset`` is set.

    Raises:
        InputError: a malformed line, missing field (named), or model/GPU stated nowhere.
    """
    path = Path(path)
    builder = Builder(path, path.stem)
    records = parse_jsonl(path, read_text(path))
    for number, record in enumerate(records, start=1):
        _serving_run(
            builder,
            record,
            f"record {number}",
            overrides,
            tool="SGLang bench_serving",
            e2e_key="mean_e2e_latency_ms",
        )
    return builder.measurements
