"""How many requests the published offline benchmarks ran: the dataset sizes their documents
state, so that calibration scores each row as the finite run it was
(:func:`infercost.perf.serving.finite_run`), not as an endless steady state.

TensorRT-LLM's performance overviews prepare one synthetic fixed-length dataset per ISL/OSL
(``prepare_dataset.py token-norm-dist --num-requests=$num_requests``, standard deviations 0) and
queue all of it at once (``trtllm-bench throughput``); each document's "Preparing a Dataset"
section tables ``$num_requests`` per ISL/OSL ("for shorter input and output lengths, a larger
number of messages were used to guarantee that the system hit a steady state"). A run of 3,000
requests on an engine that holds 2,048 is two waves, not 1.46 of a steady state.
"""

from __future__ import annotations

from collections.abc import Mapping

from infercost.calibrate.measurement import Measurement

_V017 = "NVIDIA/TensorRT-LLM/blob/258c7540c03517def55d9a5aadfa9288af474e1b"
_V10 = "NVIDIA/TensorRT-LLM/blob/00f37686aa854010d68bcbd0f4ab000221541ca6"
_DEV = "NVIDIA/TensorRT-LLM/blob/03e27c7d5ff0c6e89f8328838c0a8e64f1b34f9d"

#: docs/source/performance/perf-overview.md at 258c754 (v0.17), its "Preparing a Dataset"
#: table, read 2026-12-08: (isl, osl) -> $num_requests
_V017_SIZES: Mapping[tuple[int, int], int] = {
    (128, 128): 30000,
    (128, 2048): 3000,
    (128, 4096): 1500,
    (2048, 128): 3000,
    (2048, 2048): 1500,
    (5000, 500): 1500,
    (1000, 1000): 3000,
    (500, 2000): 3000,
    (20000, 2000): 1000,
}

#: (isl, osl) -> $num_requests, per document (its "Preparing a Dataset" table, read 2026-12-08).
PERF_OVERVIEW_REQUESTS: Mapping[str, Mapping[tuple[int, int], int]] = {
    _V017: _V017_SIZES,
    # docs/source/performance/perf-overview.md at 00f3768 (1.0): v0.17's table plus 1000/2000
    _V10: {**_V017_SIZES, (1000, 2000): 1500},
    # docs/source/developer-guide/perf-overview.md at 03e27c7; its tables also print 1000/1000,
    # which its dataset table does not list: the 1.0 document's 1000/1000 size (3,000, the same
    # as 1024/1024) is taken for it
    _DEV: {
        (1024, 1024): 3000,
        (1000, 1000): 3000,
        (8192, 1024): 1500,
        (1024, 8192): 1500,
        (32768, 1024): 1000,
        (1024, 32768): 1000,
    },
}


def documented_requests(m: Measurement) -> int | None:
    """The number of requests the offline run behind ``m`` held, where its source document
    states it (:data:`PERF_OVERVIEW_REQUESTS`); None otherwise (other sources, online runs,
    a length pair the document does not table)."""
    if m.mode != "max_throughput" or m.isl is None or m.osl is None:
        return None
    for doc, table in PERF_OVERVIEW_REQUESTS.items():
        if doc in m.source:
            return table.get((m.isl, m.osl))
    return None
