"""Closed-loop load (issue 19): C clients, each sending its next request when its previous one
ends, as ``vllm bench serve --max-concurrency C``, InferenceMAX and AIPerf run; against hand
derivations and against the analytic model ``perf.serving.closed_loop_mixed``."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from sim_types import StepFactory
from typer.testing import CliRunner

from infercost.cli import app, main
from infercost.errors import InputError
from infercost.perf.serving import closed_loop_mixed
from infercost.predict import replica_config, resolve
from infercost.sim import ClosedLoop, ReplicaConfig, SimResult, Workload, simulate
from infercost.sim.steptime import FastStep

# conftest's step model: every iteration reads 1e10 weight bytes at 1e12 B/s = 10 ms. With
# linear_flop_per_token = 1e11 at 1e15 FLOP/s each token scheduled also costs 0.1 ms of
# compute, and the GEMM takes the larger of the two: an iteration of T tokens lasts
# max(10 ms, T x 0.1 ms).
FLOP_PER_TOKEN = 1e11


def _run(
    cfg: ReplicaConfig, n: int, isl: int | list[int], osl: int, loop: ClosedLoop, **kw: object
) -> SimResult:
    wl = Workload.from_arrays(np.zeros(n), isl, osl)
    return simulate(wl, cfg, closed_loop=loop, keep_requests=True, **kw)  # type: ignore[arg-type]


def _ttft_ms(res: SimResult) -> list[float]:
    t = res.requests
    assert t is not None
    return [round(float(x), 6) for x in (t.first_token_s - t.arrival_s) * 1e3]


def test_two_clients_short_prompts_by_hand(make_step: StepFactory) -> None:
    # C = 2 clients, prompts of 100 tokens, 5 output tokens, R = 6 requests, no overheads.
    # t = 0: both prompts fit one iteration (200 tokens <= 8,192): max(10, 200 x 0.1) = 20 ms,
    # which samples each request's first token: TTFT = 20 ms. Then osl - 1 = 4 decode
    # iterations of 2 tokens, 10 ms each (memory-bound): E2E = 20 + 40 = 60 ms,
    # TPOT = (E2E - TTFT) / 4 = 10 ms. Both clients send their next request at 60 ms and the
    # wave repeats: 3 waves end at 180 ms, so output throughput = 6 x 5 / 0.18 s = 166.67
    # tok/s, and 2 / 0.06 = 33.3 req/s.
    cfg = ReplicaConfig(make_step(linear_flop_per_token=FLOP_PER_TOKEN), 256, 8192, 1e6)
    res = _run(cfg, 6, 100, 5, ClosedLoop(2))
    s = res.summary
    assert _ttft_ms(res) == [20.0] * 6
    assert s.e2e.mean == pytest.approx(0.060, rel=1e-12)
    assert s.tpot.mean == pytest.approx(0.010, rel=1e-12)
    assert s.duration_s == pytest.approx(0.180, rel=1e-12)
    assert s.output_tok_s == pytest.approx(30 / 0.18, rel=1e-12)
    assert s.request_throughput_req_s == pytest.approx(6 / 0.18, rel=1e-12)
    # The analytic closed loop gives the same TTFT: its periodic wave is one iteration
    # holding the 2 prompts (20 ms) and its start-up burst is the same iteration.
    sp = closed_loop_mixed(cfg.step, 2, 100, 5, 8192, 0.0, 0.0, 3.0)
    assert float(sp.ttft_s) == pytest.approx(0.020, rel=1e-12)


def test_client_overhead_paces_the_loop_but_is_not_latency(make_step: StepFactory) -> None:
    # One client, 10-token prompt, 5 outputs, 100 ms between a response and the next send:
    # each request takes one prefill iteration + 4 decodes = 5 x 10 ms = 50 ms; sends at 0,
    # 0.15, 0.30 s, last token at 0.35 s. TTFT is 10 ms for all (the client's pause is
    # not in any latency); throughput = 3 x 5 / 0.35 s.
    cfg = ReplicaConfig(make_step(), 256, 8192, 1e6)
    res = _run(cfg, 3, 10, 5, ClosedLoop(1, client_overhead_s=0.1))
    t = res.requests
    assert t is not None
    np.testing.assert_allclose(t.arrival_s, [0.0, 0.15, 0.30], rtol=0, atol=1e-12)
    assert _ttft_ms(res) == [10.0] * 3
    assert res.summary.duration_s == pytest.approx(0.35, rel=1e-12)
    assert res.summary.output_tok_s == pytest.approx(15 / 0.35, rel=1e-12)
    assert res.to_dict()["closed_loop"] == {
        "concurrency": 1,
        "client_overhead_s": 0.1,
        "waves": 3.0,
    }


@pytest.mark.parametrize("overhead_ms", [0.0, 1.0])
def test_request_overhead_locks_two_groups_into_one_burst(
    make_step: StepFactory, overhead_ms: float
) -> None:
    # C = 4 prompts of 100 tokens, 6 outputs, budget 250 tokens, R = 12.
    # First wave (vLLM V1: running decodes first, then prompts in the rest of the budget,
    # chunked): iteration 1 = prompts 0, 1 and 50 tokens of prompt 2: 250 tokens, 25 ms;
    # iteration 2 = 2 decodes + the other 50 of prompt 2 + prompt 3 = 152 tokens, 15.2 ms.
    # Group A (0, 1) has its first token at 25 ms, group B (2, 3) at 40.2 ms; both then need
    # 5 decode steps, so A ends one iteration before B (A at 80.2 ms, B's last decode is the
    # next iteration).
    # - No request overhead: A's successors are queued when A ends and join the next
    #   iteration beside B's 2 decodes: 202 tokens = 20.2 ms; B ends with it and its
    #   successors join the one after, beside A's 2 decodes: 20.2 ms again. Every later
    #   TTFT is 20.2 ms and the groups stay one iteration apart (the analytic model's
    #   periodic wave: one iteration of prompts beside the running decodes).
    # - 1 ms of request overhead: A's successors are not there when B's last decode starts
    #   (10 ms, 4 tokens); when it ends B is done too, A's two prompts run alone
    #   (200 tokens, 20 ms), and B's successors, ready 1 ms after B ended, wait for that
    #   iteration and then take 20.2 ms beside A's decodes. TTFT_A = 1 + 9 (B's last
    #   decode still running) + 20 = 30 ms; TTFT_B = 1 + 19 (A's prompts) + 20.2 = 40.2 ms:
    #   the two groups now end one iteration apart again, so the pattern repeats.
    ov = overhead_ms / 1e3
    cfg = ReplicaConfig(
        make_step(linear_flop_per_token=FLOP_PER_TOKEN), 256, 250, 1e6, request_overhead_s=ov
    )
    res = _run(cfg, 12, 100, 6, ClosedLoop(4))
    first = [25.0 + overhead_ms] * 2 + [40.2 + overhead_ms] * 2
    later = [20.2] * 4 if overhead_ms == 0 else [30.0, 30.0, 40.2, 40.2]
    assert _ttft_ms(res) == pytest.approx(first + later + later, abs=1e-9)


@pytest.fixture(scope="module")
def llama8b_vllm() -> ReplicaConfig:
    """Llama-3.1-8B on one H100 with the vLLM profile, as ``infercost simulate`` builds it."""
    return replica_config(resolve("llama-3.1-8b", "H100", engine="vllm"), 1300.0)


@pytest.mark.parametrize("concurrency", [4, 16, 64])
def test_closed_loop_agrees_with_closed_loop_mixed(
    llama8b_vllm: ReplicaConfig, concurrency: int
) -> None:
    # Same step model, budget (8,192) and request overhead (0 here: see the next test),
    # isl 1000, osl 300, R = 10 C, fixed lengths. Measured (simulator vs analytic, after
    # closed_loop_mixed took Little's law for throughput and the pure decode step as TPOT
    # when the wave fits one iteration):
    #   C = 4:  TTFT, TPOT and tok/s equal to 3e-5
    #   C = 16: TTFT -1.9%, TPOT -3.7%, tok/s +3.7%
    #   C = 64: TTFT -0.6%, TPOT -0.3%, tok/s +0.3%
    # (before: C = 4 TPOT -2.4%, C = 64 tok/s -4.6%). C = 16: the first wave's prompts take
    # two iterations, so two groups of 8 run one decode step apart; the analytic TPOT
    # spreads the other prompts evenly over the decode phase.
    cfg = dataclasses.replace(llama8b_vllm, request_overhead_s=0.0)
    c = concurrency
    res = _run(cfg, 10 * c, 1000, 300, ClosedLoop(c))
    s = res.summary
    sp = closed_loop_mixed(cfg.step, c, 1000, 300, cfg.max_num_batched_tokens, 0.0, 0.0, 10.0)
    assert res.to_dict()["preemptions"] == 0
    assert s.ttft.mean == pytest.approx(float(sp.ttft_s), rel=0.03)
    assert s.tpot.mean == pytest.approx(float(sp.tpot_s), rel=0.04)
    assert s.output_tok_s == pytest.approx(float(sp.output_tok_s), rel=0.04)
    little = c * 300 / (float(sp.ttft_s) + 299 * float(sp.tpot_s))
    assert s.output_tok_s == pytest.approx(little, rel=0.04)


@pytest.mark.parametrize("overhead_s", [0.0, 0.010])
@pytest.mark.parametrize("concurrency", [4, 16, 64])
def test_random_lengths_arrive_spread_out_as_closed_loop_mixed_says(
    llama8b_vllm: ReplicaConfig, concurrency: int, overhead_s: float
) -> None:
    # InferenceMAX's client: lengths uniform in [0.8 x len, len] (here isl 800-1,000,
    # osl 240-300), R = 10 C. The simulator's waves break up, and closed_loop_mixed at the mean
    # lengths with wave_sync 0 (a request arrives alone beside the others' decodes; predict's
    # default, perf.serving.arrival_wave_sync) gives its TTFT; the lockstep waves (wave_sync 1)
    # are 2-4x too long. Measured (seed 1; analytic / simulator):
    #   no overhead: C = 4 TTFT 1.12x (wave_sync 1: 2.99x), C = 16 1.07x (4.15x), C = 64 0.97x
    #   (2.24x); TPOT within 1.6 %, tok/s within 4 %;
    #   10 ms overhead: C = 4 0.95x (2.13x), C = 16 0.91x (3.07x), C = 64 0.91x (2.01x).
    cfg = dataclasses.replace(llama8b_vllm, request_overhead_s=overhead_s)
    c = concurrency
    rng = np.random.default_rng(1)
    isl = rng.integers(800, 1001, 10 * c)
    osl = rng.integers(240, 301, 10 * c)
    wl = Workload.from_arrays(np.zeros(10 * c), isl.tolist(), osl.tolist())
    s = simulate(wl, cfg, closed_loop=ClosedLoop(c)).summary
    mean_isl, mean_osl = float(isl.mean()), float(osl.mean())
    budget = cfg.max_num_batched_tokens

    def analytic(sync: float):  # type: ignore[no-untyped-def]
        return closed_loop_mixed(
            cfg.step, c, mean_isl, mean_osl, budget, overhead_s, 0.0, 10.0, sync
        )

    spread, lockstep = analytic(0.0), analytic(1.0)
    assert float(spread.ttft_s) == pytest.approx(s.ttft.mean, rel=0.15)
    assert float(lockstep.ttft_s) > 1.9 * s.ttft.mean
    assert float(spread.tpot_s) == pytest.approx(s.tpot.mean, rel=0.03)
    assert float(spread.output_tok_s) == pytest.approx(s.output_tok_s, rel=0.05)


@pytest.mark.parametrize(
    ("isl", "osl", "concurrency"), [(8192, 1024, 64), (1024, 1024, 128), (1024, 8192, 64)]
)
def test_inferencemax_grid_spread_arrivals_agree_with_the_simulator(
    isl: int, osl: int, concurrency: int
) -> None:
    # InferenceMAX's grid (1k/1k, 1k/8k, 8k/1k; lengths uniform in [0.8, 1] x len, R = 10 C)
    # for Llama-3.1-70B fp8 on 4 H200 under the vLLM profile, no overhead, every sequence in
    # the KV cache (no preemption): the analytic closed loop with arrivals spread out (wave_sync
    # 0) against the simulator. Measured (analytic / simulator): TTFT 0.98x, 0.99x, 1.03x;
    # TPOT 1.03x, 1.02x, 1.01x (prefill time shares 0.48, 0.23, 0.02).
    r = resolve("llama-3.1-70b", "H200", engine="vllm", tp=4, weight_dtype="fp8")
    cfg = dataclasses.replace(replica_config(r, 9300.0), request_overhead_s=0.0)
    c = concurrency
    rng = np.random.default_rng(1)
    isls = rng.integers(int(0.8 * isl), isl + 1, 10 * c)
    osls = rng.integers(int(0.8 * osl), osl + 1, 10 * c)
    wl = Workload.from_arrays(np.zeros(10 * c), isls.tolist(), osls.tolist())
    res = simulate(wl, cfg, closed_loop=ClosedLoop(c))
    assert res.to_dict()["preemptions"] == 0
    s = res.summary
    sp = closed_loop_mixed(
        cfg.step, c, float(isls.mean()), float(osls.mean()), cfg.max_num_batched_tokens,
        0.0, 0.0, 10.0, 0.0,
    )  # fmt: skip
    assert float(sp.ttft_s) == pytest.approx(s.ttft.mean, rel=0.08)
    assert float(sp.tpot_s) == pytest.approx(s.tpot.mean, rel=0.05)


def test_profile_overhead_makes_fixed_length_groups_queue(llama8b_vllm: ReplicaConfig) -> None:
    # With a 10 ms request overhead (about the vLLM profile's) the simulator and closed_loop_mixed
    # part at C = 16 (simulator 323 ms mean TTFT, analytic 237 ms): the mechanism of
    # test_request_overhead_locks_two_groups_into_one_burst at full scale. The first wave's
    # 16 prompts of 1,000 tokens take two iterations (8,192-token budget: 8 prompts + 192
    # tokens, then the rest), so group A (8 requests) ends one decode iteration (d) before
    # group B. A's successors are ready 10 ms after A ends, after B's last decode (d < 10 ms),
    # so A's 8 prompts run alone (t_A: 8,000 tokens) and B's successors, ready during it,
    # follow beside A's 8 decodes (t_B): TTFT_A = 10 ms + t_A, TTFT_B = 10 ms - d + t_A + t_B.
    cfg = dataclasses.replace(llama8b_vllm, request_overhead_s=0.010)  # about the profile's
    ov = cfg.request_overhead_s
    res = _run(cfg, 160, 1000, 300, ClosedLoop(16))
    fast = FastStep(cfg.step)
    eff, pairs = 8 * fast.eff_context(0), 8 * fast.chunk_pairs(1000, 0)
    t_a = fast.time_s(0, 0.0, 8000, 8, eff, pairs)
    t_b = fast.time_s(8, 8 * 1000.0, 8000, 8, eff, pairs)
    d = fast.time_s(8, 8 * 1298.0)  # B's last decode: 8 sequences at 1,000 + 298 tokens
    assert d < ov
    t = res.requests
    assert t is not None
    ttft = t.first_token_s - t.arrival_s
    np.testing.assert_allclose(ttft[16:24], ov + t_a, rtol=1e-9)
    np.testing.assert_allclose(ttft[24:32], ov - d + t_a + t_b, rtol=1e-9)
    sp = closed_loop_mixed(cfg.step, 16, 1000, 300, cfg.max_num_batched_tokens, ov, 0.0, 10.0)
    assert res.summary.ttft.mean > 1.3 * float(sp.ttft_s)


@pytest.mark.parametrize("router", ["round-robin", "least-loaded"])
def test_replicas_share_the_clients(make_step: StepFactory, router: str) -> None:
    # 4 clients over 2 replicas: each replica holds 2 requests at a time (both routers:
    # the four sends of a wave alternate replicas, and each replica has the fewest
    # outstanding in turn). Each wave = 1 prefill iteration + 4 decodes = 50 ms, TTFT
    # 10 ms; 8 requests are 2 waves: 100 ms.
    cfg = ReplicaConfig(make_step(), 256, 8192, 1e6)
    res = _run(cfg, 8, 10, 5, ClosedLoop(4), replicas=2, router=router)
    assert _ttft_ms(res) == [10.0] * 8
    assert res.summary.duration_s == pytest.approx(0.100, rel=1e-12)
    t = res.requests
    assert t is not None
    assert sorted(t.replica.tolist()) == [0, 0, 0, 0, 1, 1, 1, 1]


def test_a_rejected_request_frees_its_client_at_once(make_step: StepFactory) -> None:
    # One client, lengths 10 / 1,000 / 10 prompt tokens (+5 outputs), max_model_len 100: the
    # second request is rejected when sent (at 50 ms, when the first ends), and the client
    # sends the third at once, which ends 50 ms later: duration 100 ms.
    cfg = ReplicaConfig(make_step(), 256, 8192, 1e6, max_model_len=100)
    res = _run(cfg, 3, [10, 1000, 10], 5, ClosedLoop(1))
    t = res.requests
    assert t is not None
    assert t.rejected.tolist() == [False, True, False]
    np.testing.assert_allclose(t.arrival_s, [0.0, 0.05, 0.05], rtol=0, atol=1e-12)
    assert res.summary.duration_s == pytest.approx(0.100, rel=1e-12)
    assert res.summary.completed == 2


def test_closed_loop_input_errors(make_step: StepFactory) -> None:
    for bad in (
        lambda: ClosedLoop(0),
        lambda: ClosedLoop(2, -1.0),
        lambda: ClosedLoop(2, math.nan),
        lambda: ClosedLoop(2.5),  # type: ignore[arg-type]
    ):
        with pytest.raises(InputError):
            bad()
    cfg = ReplicaConfig(make_step(), 256, 8192, 1e6)
    timed = Workload.from_arrays([0.0, 1.0], 10, 5)
    with pytest.raises(InputError, match="arrival times"):
        simulate(timed, cfg, closed_loop=ClosedLoop(2))


runner = CliRunner()
CLI = ["simulate", "--model", "llama-3.1-8b", "--gpu", "H100", "--isl", "1000", "--osl", "300"]


def test_cli_concurrency_runs_ten_waves_and_reports_mean_and_median() -> None:
    out = runner.invoke(app, [*CLI, "--concurrency", "4", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["arrival"] == "closed-loop"
    assert data["concurrency"] == 4
    assert data["rate_req_s"] is None
    res = data["result"]
    # Default R = 10 x C (InferenceMAX's --num-prompts CONC*10).
    assert res["num_requests"] == 40
    assert res["closed_loop"] == {"concurrency": 4, "client_overhead_s": 0.0, "waves": 10.0}
    assert res["overloaded"] is False
    # C = 4 prompts of 1,000 tokens fit one 8,192-token iteration and the waves repeat, so
    # every TTFT is the same: mean = median.
    assert res["ttft_s"]["mean"] == pytest.approx(res["ttft_s"]["p50"], rel=1e-9)


@pytest.mark.parametrize(
    ("extra", "flag"),
    [
        (["--rate", "3"], "--rate"),
        (["--rate-profile", "1,2"], "--rate-profile"),
        (["--find-max-rate", "--slo-ttft-p99", "1"], "--find-max-rate"),
        (["--duration", "60"], "--duration"),
        (["--arrival", "gamma"], "--arrival"),
    ],
)
def test_cli_concurrency_excludes_other_arrivals(
    extra: list[str], flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main([*CLI, "--concurrency", "4", *extra])
    assert exc.value.code != 0
    err = " ".join(capsys.readouterr().err.split())
    assert "--concurrency runs a closed loop" in err
    assert f"drop {flag} " in err


def test_cli_concurrency_excludes_trace(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["simulate", "--model", "llama-3.1-8b", "--gpu", "H100", "--concurrency", "4",
              "--trace", "requests.csv"])  # fmt: skip
    assert exc.value.code != 0
    assert "drop --trace" in " ".join(capsys.readouterr().err.split())


def test_cli_client_overhead_needs_concurrency(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([*CLI, "--rate", "3", "--client-overhead", "0.1"])
    assert exc.value.code != 0
    assert "--client-overhead needs --concurrency" in " ".join(capsys.readouterr().err.split())
