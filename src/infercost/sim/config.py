"""One replica's engine description: step physics, limits, KV capacity, admission policy and
speculative decoding (plain inputs; ``infercost.predict.replica_config`` builds one from
catalog names)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from infercost.errors import InputError
from infercost.perf.step import StepModel
from infercost.sim.steptime import FastStep

ADMISSION_POLICIES = ("prompt", "full")
#: Longest pause a closed-loop client takes between requests (``--client-overhead``), s: an
#: hour; 1e9 s reported a 9e9 s run at 0 tok/s (docs/limits.md).
MAX_CLIENT_OVERHEAD_S = 3600.0


def expected_tokens_per_step(num_draft_tokens: int, acceptance_rate: float) -> float:
    """Expected tokens a verify step keeps per sequence: (1 - a^(k+1)) / (1 - a), = k + 1 at
    a = 1 (Leviathan et al. 2023, arXiv:2211.17192, eq. 1). At a = 0.8, k = 4: 3.3616."""
    a = acceptance_rate
    k = num_draft_tokens
    if a >= 1.0:
        return float(k + 1)
    return (1.0 - a ** (k + 1)) / (1.0 - a)


@dataclass(frozen=True, slots=True)
class SpecDecoding:
    """Speculative decoding.

    Attributes:
        num_draft_tokens: k drafts proposed per verify step (>= 1).
        acceptance_rate: a, probability each draft token is accepted (0..1).
        draft: step model of the draft model on the same GPUs, or None when drafting is
            free (n-gram / prompt-lookup proposers).

    Raises:
        InputError: k < 1 or a outside [0, 1].
    """

    num_draft_tokens: int
    acceptance_rate: float
    draft: StepModel | None = None

    def __post_init__(self) -> None:
        if self.num_draft_tokens < 1:
            raise InputError(f"--spec-tokens must be >= 1, got {self.num_draft_tokens}.")
        if not 0.0 <= self.acceptance_rate <= 1.0:
            raise InputError(f"--spec-acceptance must lie in [0, 1], got {self.acceptance_rate}.")

    @property
    def tokens_per_step(self) -> float:
        """E, expected tokens kept per verify step per sequence."""
        return expected_tokens_per_step(self.num_draft_tokens, self.acceptance_rate)


@dataclass(frozen=True, slots=True)
class ReplicaConfig:
    """One replica's engine limits and step physics.

    Attributes:
        step: per-GPU step constants (``perf.step.step_model``), one configuration.
        max_num_seqs: running sequences at most (vLLM ``max_num_seqs``).
        max_num_batched_tokens: tokens per iteration (chunked-prefill budget).
        kv_capacity_tokens: KV-cache tokens the replica holds (all blocks x block size).
        block_size: tokens per KV block (vLLM default 16).
        request_overhead_s: time from arrival until the scheduler sees a request (HTTP,
            tokenisation), seconds; counted in TTFT.
        admission: ``prompt`` (vLLM: reserve the prompt, preempt on shortfall) or ``full``
            (TensorRT-LLM GUARANTEED_NO_EVICT: reserve prompt + output, never preempt).
        prefix_caching: share KV blocks of requests with the same prefix id.
        spec: speculative decoding, or None.
        max_model_len: longest isl + osl accepted (longer requests are rejected), or None.

    Raises:
        InputError: non-positive limits or an unknown admission policy.
    """

    step: StepModel
    max_num_seqs: int
    max_num_batched_tokens: int
    kv_capacity_tokens: float
    block_size: int = 16
    request_overhead_s: float = 0.0
    admission: str = "prompt"
    prefix_caching: bool = True
    spec: SpecDecoding | None = None
    max_model_len: int | None = None

    def __post_init__(self) -> None:
        if self.max_num_seqs < 1 or self.max_num_batched_tokens < 1 or self.block_size < 1:
            raise InputError(
                "max_num_seqs, max_num_batched_tokens and block_size must be >= 1 "
                f"(got {self.max_num_seqs}, {self.max_num_batched_tokens}, {self.block_size})."
            )
        if not math.isfinite(self.kv_capacity_tokens) or self.kv_capacity_tokens <= 0:
            raise InputError(
                f"The KV cache holds {self.kv_capacity_tokens} tokens; the weights leave no room "
                "for it. Use more GPUs (--tp), a smaller --weight-dtype or --kv-dtype fp8."
            )
        if self.admission not in ADMISSION_POLICIES:
            raise InputError(
                f"Unknown admission policy {self.admission!r}; use one of {ADMISSION_POLICIES}."
            )
        if not math.isfinite(self.request_overhead_s) or self.request_overhead_s < 0:
            raise InputError(f"request_overhead_s must be >= 0, got {self.request_overhead_s}.")


def decode_iteration(cfg: ReplicaConfig, batch: int, context: float) -> tuple[float, float]:
    """One decode-only iteration of ``batch`` sequences at mean ``context`` tokens: its time
    (verify step plus k draft steps with speculation), seconds, and the output tokens per
    second it yields, batch x E / time."""
    fast = FastStep(cfg.step)
    spec = cfg.spec
    q = float(spec.num_draft_tokens + 1) if spec else 1.0
    t = fast.time_s(batch, batch * context, query_per_seq=q)
    if spec is not None and spec.draft is not None:
        t += spec.num_draft_tokens * FastStep(spec.draft).time_s(batch, batch * context)
    e = spec.tokens_per_step if spec else 1.0
    return t, batch * e / t


@dataclass(frozen=True, slots=True)
class ClosedLoop:
    """A closed-loop load, as benchmarks run it (vLLM ``bench serve --max-concurrency C``,
    InferenceMAX ``--num-prompts C*10 --max-concurrency C``, AIPerf, genai-perf): C clients
    each send one request at t = 0 and their next one ``client_overhead_s`` seconds after the
    previous one ends (its last token), until the workload's requests are all sent. A request's
    latencies count from its send time, as the benchmark client measures them.

    Attributes:
        concurrency: C, clients (requests in flight at most), >= 1.
        client_overhead_s: seconds between a request's last token and the client's next
            send (client-side processing), >= 0; not part of any latency.

    Raises:
        InputError: C < 1 or an overhead that is negative or not finite.
    """

    concurrency: int
    client_overhead_s: float = 0.0

    def __post_init__(self) -> None:
        if isinstance(self.concurrency, bool) or not isinstance(self.concurrency, int):
            raise InputError(f"--concurrency must be a whole number, got {self.concurrency!r}.")
        if self.concurrency < 1:
            raise InputError(f"--concurrency must be at least 1, got {self.concurrency}.")
        pause = self.client_overhead_s
        if not (math.isfinite(pause) and 0 <= pause <= MAX_CLIENT_OVERHEAD_S):
            why = (
                " (a client that waits over an hour between requests is not a closed loop; "
                "give --rate for sparse traffic)"
                if pause > MAX_CLIENT_OVERHEAD_S
                else ""
            )
            raise InputError(
                "--client-overhead must be a finite number of seconds in [0, 3,600], got "
                f"{pause:g}{why}."
            )


def check_closed_loop_options(
    concurrency: int | None,
    client_overhead_given: bool,
    conflicting: dict[str, bool],
    num_requests: int | None = None,
) -> None:
    """The closed-loop option checks shared by ``infercost simulate --concurrency`` and
    ``POST /api/simulate`` (one wording for both).

    Args:
        concurrency: C, or None for an open-loop run.
        client_overhead_given: whether a client pause (``--client-overhead``) was given.
        conflicting: the open-loop options that set arrivals, by flag name, and whether each
            was given (``{"--rate": True, "--trace": False, ...}``).
        num_requests: the requests of the run when given (``--num-requests``).

    Raises:
        InputError: an open-loop option beside ``--concurrency`` (naming the first given),
            ``--client-overhead`` without ``--concurrency``, or fewer requests than clients.
    """
    if concurrency is not None:
        for flag, given in conflicting.items():
            if given:
                raise InputError(
                    f"--concurrency runs a closed loop (each client sends its next request "
                    f"when the previous one ends), which sets the arrivals; drop {flag} (or "
                    "drop --concurrency for an open-loop run)."
                )
        if num_requests is not None and 0 < num_requests < concurrency:
            raise InputError(
                f"--num-requests {num_requests} is below --concurrency {concurrency}: only "
                f"{num_requests} clients would ever send. Give at least {concurrency} requests "
                "(benchmarks send 10 x C) or a lower --concurrency."
            )
    elif client_overhead_given:
        raise InputError(
            "--client-overhead needs --concurrency C (the pause of a closed-loop client "
            "between a response and its next request)."
        )
