"""How the calibration reads a row's expert-parallel degree (``calibrate.evaluate.served_ep``)."""

from __future__ import annotations

from infercost.calibrate.evaluate import served_ep
from infercost.calibrate.measurement import Measurement

#: The words the TensorRT-LLM 1.0 performance overview's MoE rows carry (calibration_trtllm_1x.csv)
EP_NOTE = (
    "MoE run: doc's MoE command passes --ep $ep_size (value not stated) and enables attention "
    "data parallelism."
)


def _row(tp: int, ep: int, notes: str) -> Measurement:
    return Measurement(
        id="X-1", source="s", engine="TensorRT-LLM", model="Qwen/Qwen3-235B-A22B", gpu="H200",
        num_gpus=tp, tp=tp, ep=ep, weight_dtype="fp8", kv_dtype="fp8", isl=1000, osl=1000,
        dataset=None, mode="max_throughput", concurrency=None, request_rate_qps=None,
        metric="output_throughput_tok_s", value=1.0, notes=notes,
    )  # fmt: skip


def test_ep_not_stated_is_the_whole_tp_group() -> None:
    # TP 8 with --ep given but not printed: EP 8 (moe_ep_size x moe_tp_size = tp, whole experts)
    assert served_ep(_row(8, 1, EP_NOTE)) == 8
    # a stated EP is kept; a row without the note keeps its EP; TP 1 has nothing to spread
    assert served_ep(_row(8, 4, EP_NOTE)) == 4
    assert served_ep(_row(8, 1, "")) == 1
    assert served_ep(_row(1, 1, EP_NOTE)) == 1
