"""One measured figure from a serving benchmark, in base units.

Every importer in :mod:`infercost.calibrate.importers` turns a tool's result file into a list of
:class:`Measurement` objects; the fit (``calibrate/fit.py``) and the error report read only this
model. One row holds one metric, so a benchmark run that reports throughput, TTFT and ITL
becomes three measurements sharing the configuration fields.

Units: seconds for latencies (``*_s`` metrics), tokens per second for token throughputs
(``*_tok_s``), requests per second for ``request_throughput_req_s``. Throughputs are for the
whole replica (all its GPUs) unless the metric name says ``per_gpu``.

Metric definitions follow vLLM ``bench serve`` (benchmarks/benchmark_serving.py):

- ``ttft_*``: request sent to first output token received, queueing included.
- ``tpot_mean_s``: per request (E2E - TTFT) / (output tokens - 1), averaged over requests.
- ``itl_mean_s``: mean over every gap between consecutive streamed chunks of every request.
- ``e2e_mean_s``: request sent to last token received, averaged over requests.
- ``output_throughput_tok_s``: output tokens completed / benchmark duration.
- ``prefill_throughput_tok_s`` / ``decode_throughput_tok_s``: llama-bench ``pp``/``tg`` rates
  of a single sequence (prompt tokens / prompt time, generated tokens / generation time).
"""

from __future__ import annotations

import math
from typing import Literal, Self, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

Mode = Literal["max_throughput", "static_batch", "closed_loop", "request_rate"]
"""How load was applied.

``max_throughput``: offline, all requests queued at once, the engine picks the batch (limited by
KV-cache memory). ``static_batch``: a fixed batch of ``concurrency`` identical sequences.
``closed_loop``: ``concurrency`` clients, each sends its next request when the last one ends.
``request_rate``: open-loop arrivals at ``request_rate_qps`` (``None`` means infinite: all at
once), optionally capped at ``concurrency`` in flight.
"""

Metric = Literal[
    "output_throughput_tok_s",
    "output_throughput_per_gpu_tok_s",
    "request_throughput_req_s",
    "ttft_mean_s",
    "ttft_p50_s",
    "ttft_p99_s",
    "tpot_mean_s",
    "itl_mean_s",
    "e2e_mean_s",
    "prefill_throughput_tok_s",
    "decode_throughput_tok_s",
]
"""The metric names a :class:`Measurement` may carry; the suffix is the unit."""

MODES: tuple[str, ...] = get_args(Mode)
METRICS: tuple[str, ...] = get_args(Metric)


class Measurement(BaseModel):
    """One metric value measured on one deployment under one load.

    Attributes:
        id: unique within an import (``TRT017-0001`` for the calibration CSV,
            ``<file stem>-<n>`` for tool result files).
        source: where the number comes from (URL of the publication, or the file path).
        engine: serving engine as written by the source (``vLLM``, ``TensorRT-LLM``, ...).
        engine_version: version or commit as written; ``""`` when unknown.
        model: model name as written by the source; resolution to the catalog happens later.
        gpu: GPU name as written by the source (raw, not resolved).
        num_gpus: GPUs serving one replica.
        tp, pp, ep: tensor, pipeline and expert parallel degrees.
        dp: data-parallel (attention-DP) ranks; num_gpus = dp x tp x pp.
        weight_dtype, kv_dtype: as written (``fp8``, ``bf16``, ``auto``, ``q4_0``); the string
            ``"not stated"`` when the source does not say.
        isl, osl: input and output tokens per request when lengths are fixed; for tool files
            with varying lengths the mean per completed request, with ``dataset`` set. ``None``
            when the source gives no count (then ``dataset`` names the length distribution).
        dataset: the length distribution when lengths are not fixed; ``None`` otherwise.
        mode: how load was applied, see :data:`Mode`.
        concurrency: batch size for ``static_batch``, clients for ``closed_loop``, the in-flight
            cap for ``request_rate`` (``None``: no cap); ``None`` for ``max_throughput``.
        request_rate_qps: arrival rate for ``request_rate`` (``None``: infinite).
        metric: what ``value`` is, see :data:`Metric`.
        value: the measured figure in base units (s, tok/s, req/s).
        notes: caveats carried over from the source and added by the importer.

    Raises:
        pydantic.ValidationError: a field is out of range (non-positive GPU count, negative
            or non-finite value, concurrency given for ``max_throughput`` ...).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    source: str
    engine: str = Field(min_length=1)
    engine_version: str = ""
    model: str = Field(min_length=1)
    gpu: str = Field(min_length=1)
    num_gpus: int = Field(ge=1)
    tp: int = Field(ge=1)
    pp: int = Field(default=1, ge=1)
    ep: int = Field(default=1, ge=1)
    dp: int = Field(default=1, ge=1)
    weight_dtype: str = Field(min_length=1)
    kv_dtype: str = Field(min_length=1)
    isl: int | None = Field(ge=0)
    osl: int | None = Field(ge=0)
    dataset: str | None
    mode: Mode
    concurrency: int | None = Field(ge=1)
    request_rate_qps: float | None = Field(gt=0)
    metric: Metric
    value: float = Field(ge=0)
    notes: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not math.isfinite(self.value):
            raise ValueError(f"value must be finite, got {self.value}")
        if self.value == 0:
            # a throughput or latency of 0 is no measurement (a failed run, a unit slip): it
            # would divide by zero in every relative error
            raise ValueError(
                f"{self.metric} is 0: not a measurement (a failed run or a unit error)"
            )
        if self.request_rate_qps is not None and not math.isfinite(self.request_rate_qps):
            raise ValueError("request_rate_qps must be finite; use None for an infinite rate")
        if self.mode == "static_batch" and self.concurrency is None:
            raise ValueError("mode static_batch needs concurrency (the batch size)")
        if self.mode == "closed_loop" and self.concurrency is None:
            raise ValueError("mode closed_loop needs concurrency (the number of clients)")
        if self.mode != "request_rate" and self.request_rate_qps is not None:
            raise ValueError(
                f"request_rate_qps is only meaningful for mode request_rate, not {self.mode}"
            )
        if self.mode == "max_throughput" and self.concurrency is not None:
            raise ValueError("mode max_throughput has no concurrency (the engine picks it)")
        return self
