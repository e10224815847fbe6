"""The stages of ``predict()`` one by one (issue 12): memory and KV capacity, load, serving
point with queueing, price, and the --explain trail read off in stage order."""

from __future__ import annotations

import pytest

from infercost.catalog import get_engine
from infercost.predict import (
    kv_budget_bytes_per_gpu,
    load_stage,
    memory_stage,
    predict,
    price_stage,
    refusal,
    request_overhead_s,
    resolve,
    serve,
    serving_stage,
)

# Llama-3.1-8B: 32 layers, 8 KV heads of 128 dims (config.json); bf16 KV = 2 bytes.
KV_PER_TOKEN = 2 * 32 * 8 * 128 * 2  # K and V: 131,072 B


def test_memory_stage_kv_per_token_per_sequence_and_fit() -> None:
    r = resolve("llama-3.1-8b", "H100", kv_dtype="bf16")
    mem = memory_stage(r, 1300.0)
    assert mem.kv_bytes_per_token == KV_PER_TOKEN
    # one GPU holds the whole sequence's KV: 1,300 x 131,072 = 170,393,600 B
    assert mem.kv_bytes_per_seq_per_gpu == 1300 * KV_PER_TOKEN
    weights, workspace, kv_avail = kv_budget_bytes_per_gpu(r)
    assert (mem.weights_bytes_per_gpu, mem.workspace_bytes) == (weights, workspace)
    assert mem.max_concurrency_rank == int(kv_avail // (1300 * KV_PER_TOKEN))
    # TP2 splits the 8 KV heads over two GPUs: half a sequence per GPU
    r2 = resolve("llama-3.1-8b", "H100", num_gpus=2, tp=2, kv_dtype="bf16")
    assert memory_stage(r2, 1300.0).kv_bytes_per_seq_per_gpu == 1300 * KV_PER_TOKEN / 2


def test_refusal_names_the_context_limit() -> None:
    r = resolve("llama-3.1-8b", "H100")
    why = refusal(r, memory_stage(r, 200_000.0), 1)
    assert why is not None and "context of 131072" in why
    assert refusal(r, memory_stage(r, 1300.0), 8) is None


def test_load_stage_caps_queues_and_offline_batch() -> None:
    r = resolve("llama-3.1-8b", "H100")
    mem = memory_stage(r, 1300.0)
    cap = get_engine("vllm").max_num_seqs  # 256
    # 600 clients: the engine runs min(600, 256, KV-limited) and queues the rest, said
    load = load_stage(r, mem, 600, 1000, 300)
    assert load.batch == 600 and load.online
    assert load.running_rank == min(600.0, cap, mem.max_concurrency_rank)
    assert load.notes and "queues the rest" in load.notes[0]
    # 8 clients run at once, nothing said
    small = load_stage(r, mem, 8, 1000, 300)
    assert (small.running_rank, small.notes) == (8.0, ())
    # two data-parallel ranks share 600 clients: 300 each, capped per rank
    r_dp = resolve("llama-3.1-8b", "H100", num_gpus=2, dp=2)
    dp_load = load_stage(r_dp, memory_stage(r_dp, 1300.0), 600, 1000, 300)
    assert dp_load.running_rank == min(300.0, cap, memory_stage(r_dp, 1300.0).max_concurrency_rank)
    # offline: the largest batch that fits under the engine's cap, not online
    offline = load_stage(r, mem, None, 1000, 300)
    assert not offline.online
    assert offline.batch == min(mem.max_concurrency_rank, offline.offline_cap)


def test_serving_stage_queueing_by_littles_law() -> None:
    r = resolve("llama-3.1-8b", "H100")
    mem = memory_stage(r, 1300.0)
    running = load_stage(r, mem, 8, 1000, 300)
    sp, queue_s = serving_stage(r, running, 1000, 300)
    assert queue_s == 0.0
    assert float(sp.ttft_s) == float(serve(r, 8.0, 1000.0, 300.0).ttft_s)
    over = load_stage(r, mem, 600, 1000, 300)
    sp_q, queue_q = serving_stage(r, over, 1000, 300)
    at_cap = serve(r, over.running_rank, 1000.0, 300.0)
    # E2E = N / request rate + per-request overhead (engine + HTTP front end, online)
    e2e = 600 / float(at_cap.request_s) + request_overhead_s(r, online=True)
    assert float(sp_q.e2e_s) == pytest.approx(e2e, rel=1e-12)
    assert float(sp_q.ttft_s) == pytest.approx(e2e - 299 * float(at_cap.tpot_s), rel=1e-12)
    assert queue_q == pytest.approx(float(sp_q.ttft_s) - float(at_cap.ttft_s), rel=1e-12)


def test_price_stage_splits_the_replica_hour() -> None:
    # $2/GPU-h on 2 GPUs = $4/h. $/M output = 4 x (1 - share) / (out tok/s x 3600 / 1e6);
    # input tok/s = out tok/s x isl / osl; $/M input = 4 x share / (in tok/s x 3600 / 1e6)
    r = resolve("llama-3.1-8b", "H100", num_gpus=2, tp=2)
    load = load_stage(r, memory_stage(r, 1300.0), 16, 1000, 300)
    sp, _ = serving_stage(r, load, 1000, 300)
    price = price_stage(r, sp, 1000, 300, 2.0, None, False, False)
    out = float(sp.output_tok_s)
    share = float(sp.prefill_time_share)
    assert price.usd_per_gpu_hour == 2.0
    assert price.usd_per_m_output == pytest.approx(4 * (1 - share) / (out * 3600 / 1e6))
    assert price.usd_per_m_input == pytest.approx(4 * share / (out * 1000 / 300 * 3600 / 1e6))
    assert price.usd_per_m_blended == pytest.approx(4 / (out * 1300 / 300 * 3600 / 1e6))


def test_explain_reads_the_stages_in_order() -> None:
    p = predict(
        "llama-3.1-8b", "H100", 20000, 200, concurrency=600, gpu_hour_usd=2.0, explain=True
    )
    names = [t["name"] for t in p.explain or []]
    assert names == [
        "total_params", "active_params",  # layout and precision
        "weights_bytes_per_gpu", "kv_bytes_per_token", "kv_bytes_available_per_gpu",
        "max_concurrency",  # memory and KV capacity
        "decode_step_s", "prefill_marginal_s",  # step time
        "output_tok_s", "queueing", "ttft_s", "tpot_s",  # serving point
        "usd_per_m_output", "usd_per_m_input",  # price
    ]  # fmt: skip
    offline = predict("llama-3.1-8b", "H100", 1000, 300, max_throughput=True, explain=True)
    offline_names = [t["name"] for t in offline.explain or []]
    # the offline batch is chosen in the load stage, between memory and step time
    assert offline_names.index("max_concurrency") + 1 == offline_names.index("concurrency")
    assert offline_names.index("concurrency") + 1 == offline_names.index("decode_step_s")


@pytest.mark.parametrize("engine", ["sglang", "vllm", "trtllm"])
def test_fewer_clients_than_data_parallel_ranks(engine: str) -> None:
    # 4 ranks, 1 or 2 clients: the deployment completes N / E2E requests per second (Little's
    # law), osl tokens each; it must not count 4 ranks' worth of clients (a bug found for
    # SGLang's prefill-first path: 438 tok/s reported where its own E2E implied 109.5).
    for clients in (1, 2):
        p = predict(
            "llama-3.1-8b", "H100", 1000, 1000, num_gpus=4, dp=4, engine=engine,
            concurrency=clients,
        )  # fmt: skip
        assert p.output_tok_s == pytest.approx(clients * 1000 / (p.e2e_s or 0), rel=1e-9)
