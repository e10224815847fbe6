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
    """The one model a run names; None (the file does not say which: --model must) when it
    names several, whose metrics the file mixes (QA: a two-model run was read as the
    first model's)."""
    if isinstance(value, list):
        names = list(dict.fromkeys(value))
        return names[0] if len(names) == 1 else None
    return value


def _phase(config_in: Mapping[str, object]) -> Mapping[str, object] | None:
    """AIPerf >= 0.8: the profiling phase of ``input_config.phases`` (a mapping by phase name,
    or a list of phases with ``name``); ``None`` when the layout has no phases."""
    phases = config_in.get("phases")
    if isinstance(phases, Mapping):
        found = phases.get("profiling")
        return found if isinstance(found, Mapping) else None
    if isinstance(phases, list):
        named = [p for p in phases if isinstance(p, Mapping)]
        for phase in named:
            if phase.get("name") == "profiling":
                return phase
        measured = [p for p in named if p.get("name") != "warmup"]
        return measured[0] if len(measured) == 1 else None
    return None


def _profile_layout(config_in: Mapping[str, object]) -> tuple[str, dict[str, object]]:
    """(layout name, {"model", "concurrency", "request_rate", "streaming", "service_kind",
    "backend"}) as ``input_config`` states them, for every published layout:

    - ``genai-perf <= 0.0.12``: top-level ``model`` (list), ``concurrency``, ``request_rate``,
      ``streaming``, ``service_kind``, ``backend``.
    - ``genai-perf >= 0.0.13`` (config-file rewrite): ``model_names`` (list),
      ``perf_analyzer.stimulus`` (``{"concurrency": N}`` or ``{"request_rate": X}``),
      ``endpoint.streaming`` / ``service_kind`` / ``backend``.
    - ``AIPerf < 0.8``: ``endpoint.model_names``, ``loadgen.concurrency`` /
      ``loadgen.request_rate``, ``endpoint.streaming``.
    - ``AIPerf >= 0.8``: ``models.items[].name``, ``phases.profiling.concurrency`` /
      ``rate`` (``phases`` a mapping by name or a list), ``endpoint.streaming``.
    """
    endpoint = opt_mapping(config_in, "endpoint") or {}
    models = opt_mapping(config_in, "models")
    phase = _phase(config_in)
    if models is not None or phase is not None:
        items = (models or {}).get("items")
        names = (
            [i.get("name") for i in items if isinstance(i, Mapping)]
            if isinstance(items, list)
            else []
        )
        phase = phase or {}
        rate = phase.get("rate", phase.get("request_rate"))
        return "AIPerf >= 0.8", {
            "model": _first_name(names),
            "concurrency": phase.get("concurrency"),
            "request_rate": rate,
            "streaming": endpoint.get("streaming"),
        }
    loadgen = opt_mapping(config_in, "loadgen")
    if loadgen is not None or "model_names" in endpoint:
        loadgen = loadgen or {}
        return "AIPerf < 0.8", {
            "model": _first_name(endpoint.get("model_names")),
            "concurrency": loadgen.get("concurrency"),
            "request_rate": loadgen.get("request_rate"),
            "streaming": endpoint.get("streaming"),
        }
    stimulus = opt_mapping(opt_mapping(config_in, "perf_analyzer") or {}, "stimulus")
    if "model_names" in config_in or stimulus is not None:
        stimulus = stimulus or {}
        return "genai-perf >= 0.0.13", {
            "model": _first_name(config_in.get("model_names")),
            "concurrency": stimulus.get("concurrency"),
            "request_rate": stimulus.get("request_rate"),
            "streaming": endpoint.get("streaming"),
            "service_kind": endpoint.get("service_kind"),
            "backend": endpoint.get("backend"),
        }
    return "genai-perf <= 0.0.12", {
        "model": _first_name(config_in.get("model")),
        "concurrency": config_in.get("concurrency"),
        "request_rate": config_in.get("request_rate"),
        "streaming": config_in.get("streaming"),
        "service_kind": config_in.get("service_kind"),
        "backend": config_in.get("backend"),
    }


_LOAD_FIELDS = {
    "genai-perf <= 0.0.12": "input_config.concurrency or input_config.request_rate",
    "genai-perf >= 0.0.13": "input_config.perf_analyzer.stimulus.concurrency or .request_rate",
    "AIPerf < 0.8": "input_config.loadgen.concurrency or input_config.loadgen.request_rate",
    "AIPerf >= 0.8": "input_config.phases.profiling.concurrency or .rate",
}


def import_genai_perf_json(path: str | Path, **overrides: Unpack[Overrides]) -> list[Measurement]:
    """Import a genai-perf or AIPerf profile export (``profile_export_*.json``).

    Reads metric blocks ``{"unit", "avg", "p50", "p99", "min", "max"}`` (genai-perf
    export_data/json_exporter.py; AIPerf docs/reference/json-export-schema.md; the first AIPerf
    releases nest them under ``records``): ``output_token_throughput`` (tokens/sec),
    ``request_throughput`` (requests/sec), ``time_to_first_token`` (avg, p50, p99),
    ``inter_token_latency`` (avg), ``request_latency`` (avg), ``input_sequence_length`` and
    ``output_sequence_length`` (avg, min, max); and from ``input_config`` the model, the load
    and whether the run streamed, in each published layout (:func:`_profile_layout`).
    Both tools define ``inter_token_latency`` per request as (request latency - TTFT) /
    (output tokens - 1), averaged over requests: that is vLLM's TPOT, so it imports as
    ``tpot_mean_s``. Latency units (ms, s, us, ns) are taken from each block's ``unit``.
    A run without streaming has no first token to time: the tools then report the whole
    request latency as TTFT, so TTFT and inter-token latency of such a run are dropped (noted).
    A Triton pipeline name as the model (``ensemble``) gives way to ``model`` (noted).

    Raises:
        InputError: a missing throughput block or field (named), an unknown unit, a load the
            file does not state (names the fields its layout uses; ``concurrency`` supplies
            it), or model/GPU/engine stated nowhere.
    """
    path = Path(path)
    data = parse_json(path, read_text(path))
    if not isinstance(data, Mapping):
        raise input_error(path, "", "expected one JSON object of metric blocks")
    tool = "AIPerf" if "aiperf_version" in data or "schema_version" in data else "genai-perf"
    config_in = opt_mapping(data, "input_config") or {}
    records = opt_mapping(data, "records")
    if records is not None and "request_throughput" not in data:
        tool = "AIPerf"
        data = records  # AIPerf 0.1: metric blocks under "records"
    layout, facts = _profile_layout(config_in)
    if layout.startswith("AIPerf"):
        tool = "AIPerf"
    stated: dict[str, object] = {"model": facts["model"]}
    if facts.get("service_kind") == "triton":
        stated["engine"] = _GENAI_ENGINE_OF_BACKEND.get(str(facts.get("backend")))
    config = resolve_config(path, "", stated, overrides, tool=tool)

    raw_rate, raw_concurrency = facts["request_rate"], facts["concurrency"]
    rate = rate_qps(raw_rate, "request_rate", path, "input_config")
    cap = (
        None
        if raw_concurrency is None
        else as_int(raw_concurrency, "concurrency", path, "input_config")
    )
    stated_load: tuple[Mode, int | None, float | None] | None = None
    if raw_rate is not None:
        stated_load = ("request_rate", cap, rate)
    elif cap is not None:
        stated_load = ("closed_loop", cap, None)
    elif "concurrency" not in overrides:
        raise input_error(
            path,
            "input_config",
            f"required field {_LOAD_FIELDS[layout]} is missing ({tool} layout {layout}); "
            "give the load with --concurrency (library: concurrency=...)",
        )
    mode, concurrency, qps = load_fact(
        path, "input_config", stated_load, overrides, ("closed_loop", 1, None)
    )
    streaming = facts["streaming"]
    streamed = _streamed(data, streaming, path)
    note = (
        ""
        if streamed
        else (
            "not a streaming run"
            + (
                " (input_config says streaming false)"
                if streaming is False
                else " (TTFT equals the request latency)"
            )
            + ": TTFT and inter-token latency are the whole request and were dropped"
        )
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
        notes=join_notes(
            f"{tool} profile export ({layout} layout)", note, length_note, str(config["notes"])
        ),
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
        if not streamed and key in ("time_to_first_token", "inter_token_latency"):
            continue
        value_s = _genai_latency_s(data, key, stat, path)
        if value_s is not None:
            builder.add(key, config, metric, value_s)  # type: ignore[arg-type]
    return builder.measurements


def _streamed(data: Mapping[str, object], streaming: object, path: Path) -> bool:
    """Whether the run streamed: ``input_config``'s flag when it states one, else whether the
    average TTFT differs from the average request latency (without streaming they are equal)."""
    if isinstance(streaming, bool):
        return streaming
    ttft = _genai_latency_s(data, "time_to_first_token", "avg", path)
    latency = _genai_latency_s(data, "request_latency", "avg", path)
    if ttft is None or latency is None:
        return True
    return abs(ttft - latency) > 1e-9 * max(latency, 1e-12)


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


MAX_ERRORED_FRACTION = 0.10
"""A guidellm benchmark in which more than this fraction of its requests errored is excluded:
its throughput counts only the successful requests, and its latencies describe a server that
was failing (guidellm issue #444), so neither says how the deployment performs."""


def _guidellm_model(
    report: Mapping[str, object], bench: Mapping[str, object], config: Mapping[str, object]
) -> object:
    """The model a guidellm benchmark names, in every published layout: ``config.backend.model``
    (>= 0.4, the backend's arguments), ``config.requests.model``, ``worker.backend_model``
    (0.2-0.3), then the report's arguments (``args.model``, ``args.backend_kwargs.model``,
    ``config.model`` / ``config.backend.model`` of the scenario)."""
    backend = opt_mapping(config, "backend") or {}
    attributes = opt_mapping(backend, "attributes") or {}
    worker = opt_mapping(bench, "worker") or {}
    args = opt_mapping(report, "args") or {}
    scenario = opt_mapping(report, "config") or {}
    candidates = (
        backend.get("model"),
        attributes.get("model"),
        (opt_mapping(config, "requests") or {}).get("model"),
        worker.get("backend_model"),
        args.get("model"),
        (opt_mapping(args, "backend_kwargs") or {}).get("model"),
        scenario.get("model"),
        (opt_mapping(scenario, "backend") or {}).get("model"),
    )
    return next((c for c in candidates if isinstance(c, str) and c.strip()), None)


def _guidellm_errors(
    metrics: Mapping[str, object], path: Path, where: str
) -> tuple[str, str | None]:
    """(note on the request totals, reason to exclude the benchmark or None)."""
    totals = opt_mapping(metrics, "request_totals")
    if totals is None:
        return "", None
    at = f"{where}.metrics.request_totals"
    total = as_int(totals.get("total", 0), "total", path, at)
    errored = as_int(totals.get("errored", 0), "errored", path, at)
    successful = as_int(totals.get("successful", 0), "successful", path, at)
    incomplete = as_int(totals.get("incomplete", 0), "incomplete", path, at)
    note = (
        f"{successful} of {total} requests successful, {errored} errored, {incomplete} incomplete"
    )
    if total > 0 and errored / total > MAX_ERRORED_FRACTION:
        return note, (
            f"{errored} of {total} requests errored ({errored / total:.0%}, more than "
            f"{MAX_ERRORED_FRACTION:.0%}): excluded, its figures describe a failing server; "
            "fix the run and rerun"
        )
    if successful < 1:
        return note, "no request succeeded: excluded; fix the run and rerun"
    return note, None


def import_guidellm_json(
    path: str | Path,
    *,
    rejected: list[tuple[str, str]] | None = None,
    **overrides: Unpack[Overrides],
) -> list[Measurement]:
    """Import a guidellm benchmark report (``guidellm benchmark --outputs json``).

    Reads, per entry of ``benchmarks`` (guidellm src/guidellm/benchmark/benchmark.py and
    schemas/generative/metrics.py; 0.2-0.3 and >= 0.4 layouts): the strategy
    (``args.strategy`` or ``config.strategy``: ``type_`` synchronous / concurrent with
    ``streams`` / throughput / constant or poisson with ``rate``), the model
    (:func:`_guidellm_model`), ``metrics.request_totals`` and the ``successful`` distributions
    of ``metrics``: ``requests_per_second`` and ``output_tokens_per_second`` (mean),
    ``time_to_first_token_ms`` (mean, median, percentiles.p99), ``inter_token_latency_ms``
    (mean; guidellm weights each request by output tokens - 1, so the mean is the mean gap
    between tokens: ``itl_mean_s``), ``request_latency`` (seconds, mean), ``prompt_token_count``
    and ``output_token_count`` (mean, or total_sum / count; min, max). guidellm's
    ``time_per_output_token_ms`` divides by all output tokens, unlike vLLM's TPOT, and is not
    imported. guidellm does not record the serving engine: pass ``engine``.

    A benchmark in which more than :data:`MAX_ERRORED_FRACTION` of the requests errored (or
    none succeeded) is excluded: appended to ``rejected`` as (place, reason) when a list is
    given, otherwise the import stops with that reason.

    Raises:
        InputError: no benchmarks, a missing metric or field (named), an excluded benchmark
            (without ``rejected``), every benchmark excluded, or model/GPU/engine stated
            nowhere.
    """
    path = Path(path)
    data = parse_json(path, read_text(path))
    benchmarks = data.get("benchmarks") if isinstance(data, Mapping) else None
    if not isinstance(data, Mapping) or not isinstance(benchmarks, list) or not benchmarks:
        raise input_error(path, "benchmarks", "expected a non-empty 'benchmarks' array")
    builder = Builder(path, path.stem)
    excluded: list[tuple[str, str]] = []
    for index, bench in enumerate(benchmarks):
        where = f"benchmarks[{index}]"
        if not isinstance(bench, Mapping):
            raise input_error(path, where, "each benchmark must be a JSON object")
        metrics = get_mapping(bench, "metrics", path, where)
        totals_note, exclude = _guidellm_errors(metrics, path, where)
        if exclude is not None:
            if rejected is None:
                raise input_error(path, where, exclude)
            excluded.append((where, f"{path} ({where}): {exclude}"))
            continue
        args = opt_mapping(bench, "args") or opt_mapping(bench, "config") or {}
        strategy = get_mapping(args, "strategy", path, f"{where}.args")
        stated_load = _guidellm_mode(strategy, path, where)
        mode, concurrency, qps = load_fact(
            path, f"{where}.args.strategy", stated_load, overrides, stated_load
        )
        config = resolve_config(
            path,
            where,
            {"model": _guidellm_model(data, bench, args)},
            overrides,
            tool="guidellm",
        )
        prompt = _guidellm_summary(metrics, "prompt_token_count", path, where, required=False)
        output = _guidellm_summary(metrics, "output_token_count", path, where, required=False)
        fixed = None
        if prompt and output and all(k in d for d in (prompt, output) for k in ("min", "max")):
            fixed = prompt["min"] == prompt["max"] and output["min"] == output["max"]
        isl, osl, dataset, length_note = lengths(
            path,
            where,
            overrides,
            isl_mean=_guidellm_mean(prompt, path, f"{where}.prompt_token_count"),
            osl_mean=_guidellm_mean(output, path, f"{where}.output_token_count"),
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
                f"guidellm benchmark {strategy.get('type_')}",
                totals_note,
                length_note,
                str(config["notes"]),
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
    if rejected is not None:
        rejected.extend(excluded)
    if not builder.measurements:
        raise input_error(
            path,
            "benchmarks",
            f"every benchmark was excluded (first: {excluded[0][1]})",
        )
    return builder.measurements


def _guidellm_mean(summary: Mapping[str, object] | None, path: Path, where: str) -> float | None:
    """The mean of a guidellm distribution: ``mean``, else ``total_sum`` / ``count``."""
    if summary is None:
        return None
    if summary.get("mean") is not None:
        return as_number(summary["mean"], "mean", path, where)
    total, count = (
        opt_number(summary, "total_sum", path, where),
        opt_number(summary, "count", path, where),
    )
    return total / count if total is not None and count else None
