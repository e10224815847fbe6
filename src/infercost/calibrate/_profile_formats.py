"""Importers for genai-perf / AIPerf profile exports and guidellm benchmark reports.

See :mod:`infercost.calibrate.importers` for the shared contract.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Unpack

from infercost.calibrate._fields import (
    S_PER_NS,
    S_PER_US,
    Builder,
    Overrides,
    as_int,
    get_mapping,
    get_number,
    input_error,
    join_notes,
    lengths,
    load_fact,
    opt_mapping,
    opt_number,
    parse_json,
    rate_qps,
    read_text,
    resolve_config,
)
from infercost.calibrate.measurement import Measurement, Mode
from infercost.units import S_PER_MS

# --------------------------------------------------------------------------------------------
# NVIDIA genai-perf / AIPerf profile export

_LATENCY_UNITS_S = {"ms": S_PER_MS, "s": 1.0, "sec": 1.0, "us": S_PER_US, "ns": S_PER_NS}
_GENAI_ENGINE_OF_BACKEND = {"tensorrtllm": "TensorRT-LLM", "vllm": "vLLM"}


def _genai_stat(
    data: Mapping[str, object], key: str, stat: str, path: Path, *, required: bool
) -> tuple[float, str] | None:
    """(value, unit) of ``data[key][stat]``; None when an optional block or stat is absent."""
    if key not in data:
        if required:
            raise input_error(path, "", f"required metric block {key!r} is missing")
        return None
    block = get_mapping(data, key, path, "")
    if stat not in block and not required:
        return None
    value = get_number(block, stat, path, f"{key}")
    return value, str(block.get("unit", "")).strip()


def _genai_latency_s(data: Mapping[str, object], key: str, stat: str, path: Path) -> float | None:
    found = _genai_stat(data, key, stat, path, required=False)
    if found is None:
        return None
    value, unit = found
    if unit not in _LATENCY_UNITS_S:
        raise input_error(
            path, key, f"field 'unit' is {unit!r}; expected one of {', '.join(_LATENCY_UNITS_S)}"
        )
    return value * _LATENCY_UNITS_S[unit]


def _genai_rate(data: Mapping[str, object], key: str, units: set[str], path: Path) -> float:
    found = _genai_stat(data, key, "avg", path, required=True)
    assert found is not None  # required=True raises instead
    value, unit = found
    if unit not in units:
        raise input_error(path, key, f"field 'unit' is {unit!r}; expected {sorted(units)}")
    return value


def _first_name(value: object) -> object:
    return value[0] if isinstance(value, list) and value else value


def import_genai_perf_json(path: str | Path, **overrides: Unpack[Overrides]) -> list[Measurement]:
    """Import a genai-perf or AIPerf profile export (``profile_export_*.json``).

    Reads metric blocks ``{"unit", "avg", "p50", "p99", "min", "max"}`` (genai-perf
    export_data/json_exporter.py; AIPerf docs/reference/json-export-schema.md):
    ``output_token_throughput`` (tokens/sec), ``request_throughput`` (requests/sec),
    ``time_to_first_token`` (avg, p50, p99), ``inter_token_latency`` (avg), ``request_latency``
    (avg), ``input_sequence_length`` and ``output_sequence_length`` (avg, min, max); and from
    ``input_config`` the model (``model`` list in genai-perf, ``endpoint.model_names`` in
    AIPerf), ``concurrency`` and ``request_rate`` (top level or under ``loadgen``).
    Both tools define ``inter_token_latency`` per request as (request latency - TTFT) /
    (output tokens - 1), averaged over requests: that is vLLM's TPOT, so it imports as
    ``tpot_mean_s``. Latency units (ms, s, us, ns) are taken from each block's ``unit``.

    Raises:
        InputError: a missing throughput block or field (named), an unknown unit, or
            model/GPU/engine stated nowhere.
    """
    path = Path(path)
    data = parse_json(path, read_text(path))
    if not isinstance(data, Mapping):
        raise input_error(path, "", "expected one JSON object of metric blocks")
    tool = "AIPerf" if "aiperf_version" in data or "schema_version" in data else "genai-perf"
    config_in = opt_mapping(data, "input_config") or {}
    endpoint = opt_mapping(config_in, "endpoint") or {}
    loadgen = opt_mapping(config_in, "loadgen") or {}
    stated: dict[str, object] = {
        "model": _first_name(config_in.get("model") or endpoint.get("model_names")),
    }
    if config_in.get("service_kind") == "triton":
        stated["engine"] = _GENAI_ENGINE_OF_BACKEND.get(str(config_in.get("backend")))
    config = resolve_config(path, "", stated, overrides, tool=tool)

    raw_rate = loadgen.get("request_rate", config_in.get("request_rate"))
    raw_concurrency = loadgen.get("concurrency", config_in.get("concurrency"))
    rate = rate_qps(raw_rate, "input_config.request_rate", path, "")
    cap = (
        None
        if raw_concurrency is None
        else as_int(raw_concurrency, "input_config.concurrency", path, "")
    )
    note = ""
    stated_load: tuple[Mode, int | None, float | None] | None = None
    if raw_rate is not None:
        stated_load = ("request_rate", cap, rate)
    elif cap is not None:
        stated_load = ("closed_loop", cap, None)
    elif "concurrency" not in overrides:
        note = f"concurrency not in input_config; {tool}'s default of 1 assumed"
    mode, concurrency, qps = load_fact(
        path, "input_config", stated_load, overrides, ("closed_loop", 1, None)
    )

    isl_block = opt_mapping(data, "input_sequence_length") or {}
    osl_block = opt_mapping(data, "output_sequence_length") or {}
    fixed: bool | None = None
    if all(k in block for block in (isl_block, osl_block) for k in ("min", "max")):
        fixed = isl_block["min"] == isl_block["max"] and osl_block["min"] == osl_block["max"]
    isl, osl, dataset, length_note = lengths(
        path,
        "",
        overrides,
        isl_mean=opt_number(isl_block, "avg", path, "input_sequence_length"),
        osl_mean=opt_number(osl_block, "avg", path, "output_sequence_length"),
        fixed=fixed,
        dataset=None,
        label=f"{tool} inputs",
    )
    config.update(
        isl=isl,
        osl=osl,
        dataset=dataset,
        mode=mode,
        concurrency=concurrency,
        request_rate_qps=qps,
        notes=join_notes(f"{tool} profile export", note, length_note, str(config["notes"])),
    )
    builder = Builder(path, path.stem)
    builder.add(
        "output_token_throughput",
        config,
        "output_throughput_tok_s",
        _genai_rate(data, "output_token_throughput", {"tokens/sec", "tokens/s"}, path),
    )
    builder.add(
        "request_throughput",
        config,
        "request_throughput_req_s",
        _genai_rate(data, "request_throughput", {"requests/sec", "requests/s"}, path),
    )
    for key, stat, metric in (
        ("time_to_first_token", "avg", "ttft_mean_s"),
        ("time_to_first_token", "p50", "ttft_p50_s"),
        ("time_to_first_token", "p99", "ttft_p99_s"),
        ("inter_token_latency", "avg", "tpot_mean_s"),
        ("request_latency", "avg", "e2e_mean_s"),
    ):
        value_s = _genai_latency_s(data, key, stat, path)
        if value_s is not None:
            builder.add(key, config, metric, value_s)  # type: ignore[arg-type]
    return builder.measurements


# --------------------------------------------------------------------------------------------
# guidellm benchmark report


def _guidellm_summary(
    metrics: Mapping[str, object], key: str, path: Path, where: str, *, required: bool
) -> Mapping[str, object] | None:
    """The ``successful`` distribution of ``metrics[key]`` (None if optional and absent)."""
    if key not in metrics and not required:
        return None
    block = get_mapping(metrics, key, path, f"{where}.metrics")
    return get_mapping(block, "successful", path, f"{where}.metrics.{key}")


def _guidellm_mode(
    strategy: Mapping[str, object], path: Path, where: str
) -> tuple[Mode, int | None, float | None]:
    kind = str(strategy.get("type_", ""))
    if kind == "synchronous":
        return "closed_loop", 1, None
    if kind == "concurrent":
        return (
            "closed_loop",
            as_int(strategy.get("streams"), "strategy.streams", path, where),
            None,
        )
    if kind == "throughput":
        cap = strategy.get("max_concurrency")
        return (
            "request_rate",
            None if cap is None else as_int(cap, "max_concurrency", path, where),
            None,
        )
    if kind in ("constant", "poisson", "async"):
        return "request_rate", None, rate_qps(strategy.get("rate"), "strategy.rate", path, where)
    raise input_error(
        path,
        where,
        f"field 'strategy.type_' is {kind!r}; expected synchronous, concurrent, "
        "throughput, constant or poisson",
    )


def import_guidellm_json(path: str | Path, **overrides: Unpack[Overrides]) -> list[Measurement]:
    """Import a guidellm benchmark report (``guidellm benchmark --outputs json``).

    Reads, per entry of ``benchmarks`` (guidellm src/guidellm/benchmark/benchmark.py and
    schemas/generative/metrics.py): the strategy (``args.strategy`` or ``config.strategy``:
    ``type_`` synchronous / concurrent with ``streams`` / throughput / constant or poisson with
    ``rate``), the model (``worker.backend_model``) and the ``successful`` distributions of
    ``metrics``: ``requests_per_second`` and ``output_tokens_per_second`` (mean),
    ``time_to_first_token_ms`` (mean, median, percentiles.p99), ``inter_token_latency_ms``
    (mean; guidellm weights each request by output tokens - 1, so the mean is the mean gap
    between tokens: ``itl_mean_s``), ``request_latency`` (seconds, mean), ``prompt_token_count``
    and ``output_token_count`` (mean, min, max). guidellm's ``time_per_output_token_ms`` divides
    by all output tokens, unlike vLLM's TPOT, and is not imported. guidellm does not record the
    serving engine: pass ``engine``.

    Raises:
        InputError: no benchmarks, a missing metric or field (named), or model/GPU/engine
            stated nowhere.
    """
    path = Path(path)
    data = parse_json(path, read_text(path))
    benchmarks = data.get("benchmarks") if isinstance(data, Mapping) else None
    if not isinstance(benchmarks, list) or not benchmarks:
        raise input_error(path, "benchmarks", "expected a non-empty 'benchmarks' array")
    builder = Builder(path, path.stem)
    for index, bench in enumerate(benchmarks):
        where = f"benchmarks[{index}]"
        if not isinstance(bench, Mapping):
            raise input_error(path, where, "each benchmark must be a JSON object")
        args = opt_mapping(bench, "args") or opt_mapping(bench, "config") or {}
        strategy = get_mapping(args, "strategy", path, f"{where}.args")
        stated_load = _guidellm_mode(strategy, path, where)
        mode, concurrency, qps = load_fact(
            path, f"{where}.args.strategy", stated_load, overrides, stated_load
        )
        worker = opt_mapping(bench, "worker") or {}
        config = resolve_config(
            path, where, {"model": worker.get("backend_model")}, overrides, tool="guidellm"
        )
        metrics = get_mapping(bench, "metrics", path, where)
        prompt = _guidellm_summary(metrics, "prompt_token_count", path, where, required=False)
        output = _guidellm_summary(metrics, "output_token_count", path, where, required=False)
        fixed = None
        if prompt and output and all(k in d for d in (prompt, output) for k in ("min", "max")):
            fixed = prompt["min"] == prompt["max"] and output["min"] == output["max"]
        isl, osl, dataset, length_note = lengths(
            path,
            where,
            overrides,
            isl_mean=opt_number(prompt or {}, "mean", path, f"{where}.prompt_token_count"),
            osl_mean=opt_number(output or {}, "mean", path, f"{where}.output_token_count"),
            fixed=fixed,
            dataset=None,
            label="guidellm data",
        )
        config.update(
            isl=isl,
            osl=osl,
            dataset=dataset,
            mode=mode,
            concurrency=concurrency,
            request_rate_qps=qps,
            notes=join_notes(
                f"guidellm benchmark {strategy.get('type_')}", length_note, str(config["notes"])
            ),
        )
        rps = _guidellm_summary(metrics, "requests_per_second", path, where, required=True)
        tps = _guidellm_summary(metrics, "output_tokens_per_second", path, where, required=True)
        assert rps is not None and tps is not None  # required=True raises instead
        builder.add(
            where,
            config,
            "output_throughput_tok_s",
            get_number(tps, "mean", path, f"{where}.output_tokens_per_second"),
        )
        builder.add(
            where,
            config,
            "request_throughput_req_s",
            get_number(rps, "mean", path, f"{where}.requests_per_second"),
        )
        ttft = _guidellm_summary(metrics, "time_to_first_token_ms", path, where, required=False)
        if ttft is not None:
            at = f"{where}.time_to_first_token_ms"
            builder.add(at, config, "ttft_mean_s", get_number(ttft, "mean", path, at) * S_PER_MS)
            builder.add(at, config, "ttft_p50_s", get_number(ttft, "median", path, at) * S_PER_MS)
            percentiles = opt_mapping(ttft, "percentiles") or {}
            if "p99" in percentiles:
                builder.add(
                    at, config, "ttft_p99_s", get_number(percentiles, "p99", path, at) * S_PER_MS
                )
        itl = _guidellm_summary(metrics, "inter_token_latency_ms", path, where, required=False)
        if itl is not None:
            at = f"{where}.inter_token_latency_ms"
            builder.add(at, config, "itl_mean_s", get_number(itl, "mean", path, at) * S_PER_MS)
        e2e = _guidellm_summary(metrics, "request_latency", path, where, required=False)
        if e2e is not None:
            at = f"{where}.request_latency"
            builder.add(at, config, "e2e_mean_s", get_number(e2e, "mean", path, at))
    return builder.measurements
