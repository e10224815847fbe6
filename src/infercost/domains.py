"""The domain of every number a user can give infercost, declared once, and the checks on them.

Each input has one :class:`Domain` (kind, unit, bounds, and why the bounds are what they are),
keyed by the name the library argument and the CLI option share (``isl`` is ``--isl``). The
library entry points call :func:`check_args` on their arguments, the CLI checks every option
of every command through the same table (``infercost.cli.bounds``), and the REST models can
read the bounds from :data:`DOMAINS`. ``docs/limits.md`` is this table in words.

Three more guards live here, so every layer uses the same rule:

- :func:`check_work`: work sized by the user is estimated and refused past a documented limit
  *before* anything is allocated, with the estimate and how to raise the limit.
- :func:`check_outputs`: no ``inf``, ``nan`` or overflowed integer leaves infercost; the error
  names the inputs that produced it.
- :func:`check_predict_types`: the argument types of ``infercost.predict`` (a string for
  ``isl``, a list, None) become an :class:`~infercost.errors.InputError` naming the argument.

Nothing here reads files or prints.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from infercost.errors import InputError

#: The largest integer an output may hold: numpy's int64 overflows past it.
MAX_OUTPUT_INT = 2**63 - 1
#: Tokens in one request (prompt or output): no model's context is longer than 10^8 tokens.
MAX_TOKENS_PER_REQUEST = 100_000_000

Kind = Literal["int", "float"]


@dataclass(frozen=True, slots=True)
class Domain:
    """The values one input may take.

    Attributes:
        kind: ``int`` (whole numbers) or ``float``.
        unit: what the number counts ("tokens", "US$/GPU-hour", ...).
        lo, hi: bounds; ``lo_open`` / ``hi_open`` exclude them.
        allow_inf: ``+inf`` is a meaningful value (``--rate inf``: every request at t = 0).
        reason: why the bounds are these (shown in the error and in docs/limits.md).
    """

    kind: Kind
    unit: str
    lo: float
    hi: float
    lo_open: bool = False
    hi_open: bool = False
    allow_inf: bool = False
    reason: str = ""

    def describe(self) -> str:
        """The range in words: ``a whole number in [1, 100,000,000] tokens``."""
        what = "a whole number" if self.kind == "int" else "a finite number"
        left = "(" if self.lo_open else "["
        right = ")" if self.hi_open else "]"
        inf = " or inf" if self.allow_inf else ""
        unit = f" {self.unit}" if self.unit else ""
        return f"{what} in {left}{_fmt(self.lo)}, {_fmt(self.hi)}{right}{unit}{inf}"

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in the domain (NaN never does)."""
        if isinstance(value, float) and math.isnan(value):
            return False
        if self.allow_inf and value == math.inf:
            return True
        if isinstance(value, float) and math.isinf(value):
            return False
        if self.kind == "int" and not float(value).is_integer():
            return False
        above = value > self.lo if self.lo_open else value >= self.lo
        below = value < self.hi if self.hi_open else value <= self.hi
        return above and below


def _fmt(x: float) -> str:
    if x == int(x) and abs(x) < 1e15:
        return f"{int(x):,}"
    return f"{x:g}"


def _i(lo: float, hi: float, unit: str, reason: str = "") -> Domain:
    return Domain("int", unit, lo, hi, reason=reason)


def _f(
    lo: float,
    hi: float,
    unit: str,
    reason: str = "",
    *,
    lo_open: bool = False,
    hi_open: bool = False,
    allow_inf: bool = False,
) -> Domain:
    return Domain("float", unit, lo, hi, lo_open, hi_open, allow_inf, reason)


_TOKENS = _i(1, MAX_TOKENS_PER_REQUEST, "tokens", "no model has a context beyond 10^8 tokens")
_GPUS = _i(1, 4096, "GPUs", "no engine runs one replica on more than 4,096 GPUs")
_GPU_HOUR = _f(0, 10_000, "US$/GPU-hour", "far above any GPU rental: a typo", lo_open=True)
_PER_M = _f(0, 1e6, "US$ per million tokens", "API prices are under $1,000/M")
_CAPEX = _f(0, 1e9, "US$", "a per-GPU capital item beyond $10^9 is a typo")
_OPEX_MONTH = _f(0, 1e10, "US$/month", "beyond $10^10/month is a typo")
_FRACTION = _f(0, 1, "(fraction)", "a share of a whole")
_SECONDS_SLO = _f(1e-6, 86_400, "s", "a latency target beyond a day is not a target")
_MS_SLO = _f(1e-3, 3_600_000, "ms", "a per-token target beyond an hour is not a target")
_TOK_VOLUME = _f(0, 1e18, "tokens", "10^18 tokens is far beyond all traffic in the world")
_TOK_S = _f(1e-3, 1e9, "tokens/s", "one replica serves far fewer than 10^9 tokens/s")

#: One domain per input name (library argument = CLI option with dashes).
DOMAINS: dict[str, Domain] = {
    # token counts per request
    "isl": _TOKENS,
    "osl": _TOKENS,
    "prefix_tokens": _i(0, MAX_TOKENS_PER_REQUEST, "tokens", "at most a whole prompt"),
    # GPUs, replicas, requests, sequences
    "num_gpus": _GPUS,
    "tp": _GPUS,
    "pp": _GPUS,
    "ep": _GPUS,
    "dp": _GPUS,
    "num_nodes": _i(1, 4096, "nodes", "one deployment spans at most 4,096 GPUs"),
    "gpus_per_replica": _GPUS,
    "gpus_per_server": _i(1, 4096, "GPUs", "no server holds more than 4,096 GPUs"),
    "max_gpus": _i(1, 1024, "GPUs", "layouts up to 1,024 GPUs per replica are searched"),
    "replicas": _i(1, 100_000, "replicas", "10^5 replicas is beyond any fleet"),
    "spare_replicas": _i(0, 100_000, "replicas", "10^5 replicas is beyond any fleet"),
    "min_replicas": _i(0, 100_000, "replicas", "10^5 replicas is beyond any fleet"),
    "zones": _i(1, 100, "zones", "no provider offers 100 zones to one fleet"),
    "num_requests": _i(1, 1_000_000_000, "requests", "beyond any benchmark; work limits apply"),
    "max_requests": _i(1, 10_000_000, "requests", "a load test beyond 10^7 requests"),
    "min_tok_s_per_user": _f(
        0, 1e6, "tokens/s per user", "a TPOT of 1 µs; no engine decodes faster", lo_open=True
    ),
    "api_cache_write_usd_per_m": _PER_M,
    "cache_write_share": _FRACTION,
    "concurrency": _i(1, 1_000_000, "sequences", "no engine batches 10^6 sequences"),
    "max_concurrency": _i(1, 1_000_000, "sequences", "no engine batches 10^6 sequences"),
    "concurrency_levels": _i(1, 10_000, "levels", "more levels add nothing to a frontier"),
    "num_prefixes": _i(1, 10_000_000, "prefixes", "at most one per request"),
    "spec_tokens": _i(0, 64, "draft tokens", "engines draft at most a few tokens"),
    "draft_tokens": _i(1, 64, "draft tokens", "engines draft at most a few tokens"),
    "seed": _i(0, 2**32 - 1, "", "a 32-bit seed"),
    "top": _i(1, 100_000, "rows", ""),
    "families": _i(1, 10_000, "GPU families", ""),
    "rows": _i(2, 100_000, "rows", ""),
    "shortlist": _i(1, 100, "configurations", "each one is simulated"),
    "peak_hour": _i(0, 23, "hour of day", ""),
    "max_age_days": _i(0, 36_500, "days", "a century"),
    # prices
    "gpu_hour_usd": _GPU_HOUR,
    "reserved_usd_per_gpu_hour": _GPU_HOUR,
    "spot_usd_per_gpu_hour": _GPU_HOUR,
    "replica_usd_per_hour": _f(0, 1e7, "US$/hour", "far above any replica's rent", lo_open=True),
    "api_input_usd_per_m": _PER_M,
    "api_output_usd_per_m": _PER_M,
    "api_cached_input_usd_per_m": _PER_M,
    "api_usd_per_m": _PER_M,
    "usd_per_m": _PER_M,
    "router_usd_per_m": _PER_M,
    "gpu_price_usd": _f(0, 1e8, "US$", "no GPU costs $10^8", lo_open=True),
    "server_price_usd": _CAPEX,
    "networking_usd": _CAPEX,
    "hosting_usd": _CAPEX,
    "maintenance_usd_per_year": _CAPEX,
    "training_usd": _f(0, 1e12, "US$", "beyond $10^12 is a typo"),
    "ops_usd_per_month": _OPEX_MONTH,
    "people_usd_per_month": _OPEX_MONTH,
    "extra_ops_usd_per_month": _OPEX_MONTH,
    "usd_per_kwh": _f(0, 10, "US$/kWh", "electricity costs well under $1/kWh"),
    # physical quantities
    "power_w": _f(0, 100_000, "W", "one accelerator draws well under 100 kW", lo_open=True),
    "idle_power_w": _f(0, 100_000, "W", "one accelerator draws well under 100 kW"),
    "pue": _f(1, 5, "(ratio)", "facilities run at PUE 1.0-2.5"),
    "years": _f(0.01, 50, "years", "hardware life"),
    "months": _f(0, 600, "months", "fifty years"),
    "days_per_month": _f(1, 31, "days", "a month"),
    "hours_per_month": _f(1, 744, "hours", "a 31-day month"),
    "autoscaling_lag_min": _f(0, 1440, "minutes", "a day"),
    "scale_down_delay_min": _f(0, 1440, "minutes", "a day"),
    # shares and fractions
    "cached_share": _FRACTION,
    "prefix_share": _FRACTION,
    "input_share": _FRACTION,
    "max_spot_share": _FRACTION,
    "residual_value_fraction": _FRACTION,
    "traffic_share": _FRACTION,
    "attempt_fraction": _FRACTION,
    "utilization": _f(0.001, 1, "(fraction)", "a share of paid hours"),
    "max_utilization": _f(0.01, 1, "(fraction)", "a share of capacity"),
    "quality_retention": _f(0, 1, "(fraction)", "a share of quality", lo_open=True),
    "retry_share": _f(0, 1, "(fraction)", "a share of tokens", hi_open=True),
    "reasoning_share": _f(0, 1, "(fraction)", "a share of tokens", hi_open=True),
    "acceptance": _f(0, 1, "(probability)", "a probability", hi_open=True),
    "spec_acceptance": _f(0, 1, "(probability)", "a probability", hi_open=True),
    # latency targets
    "max_ttft_s": _SECONDS_SLO,
    "ttft_p99_s": _SECONDS_SLO,
    "slo_ttft_p99": _SECONDS_SLO,
    "slo_tpot_p99": _f(1e-6, 3600, "s", "a per-token target beyond an hour"),
    "max_tpot_ms": _MS_SLO,
    "tpot_p99_ms": _MS_SLO,
    # traffic
    "rate": _f(1e-6, 1e7, "requests/s", "10^7 req/s is beyond any deployment", allow_inf=True),
    "duration": _f(1e-6, 1e9, "s", "about 30 years of simulated time"),
    "profile_period": _f(1e-3, 1e9, "s", "about 30 years"),
    "trace_time_scale": _f(1e-6, 1e6, "(factor)", "a time stretch"),
    "burstiness": _f(1e-3, 1000, "(gamma shape)", "1 = Poisson"),
    "length_cv": _f(0, 10, "(std / mean)", "lengths spread wider are not a distribution"),
    "load": _f(1e-3, 10, "(rate / capacity)", "past 10x capacity every run is overloaded"),
    "tokens_per_day": _TOK_VOLUME,
    "output_tokens_per_day": _TOK_VOLUME,
    "tokens_per_month": _TOK_VOLUME,
    "output_tokens_per_month": _TOK_VOLUME,
    "requests_per_day": _f(0, 1e15, "requests", "beyond all traffic in the world"),
    # max ÷ mean of 24 hourly loads is at most 24 (the whole day in one hour)
    "peak_to_average": _f(
        1, 24, "(ratio)", "the busiest of 24 hours over their mean", hi_open=True
    ),
    "growth_per_month": _f(-0.99, 10, "(fraction/month)", "-99 % to 10x a month"),
    "volume_growth_per_year": _f(-0.99, 1000, "(fraction/year)", "-99 % to 1000x a year"),
    "decline_per_year": _f(-10, 0.99, "(fraction/year)", "prices cannot fall by 100 %"),
    "headroom": _f(0, 10, "(fraction)", "capacity above the peak, up to 10x"),
    "replica_output_tok_s": _TOK_S,
    "tok_s": _TOK_S,
    "elasticity": _f(-100, 100, "(ratio)", "a price elasticity"),
    "price_ratio": _f(1e-6, 1e6, "(ratio)", "a price multiple"),
    "volume_ratio": _f(1e-6, 1e6, "(ratio)", "a volume multiple"),
    "output_expansion": _f(1e-6, 1000, "(ratio)", "output tokens per input token"),
    "draft_step_ratio": _f(1e-6, 10, "(ratio)", "draft step time over target step"),
    # load generator
    "max_seconds": _f(1e-3, 604_800, "s", "a week"),
    "request_timeout": _f(1e-3, 86_400, "s", "a day"),
    # work limit
    "max_work": _f(1, 1e15, "work units", "see docs/limits.md"),
}


def flag(name: str) -> str:
    """The CLI spelling of an argument name: ``num_requests`` -> ``--num-requests``."""
    return "--" + name.replace("_", "-")


def check_value(
    name: str, value: Any, domain: Domain | None = None, *, label: str | None = None
) -> None:
    """Raise unless ``value`` lies in ``name``'s domain (None, booleans and strings pass).

    Args:
        name: the input's name, a key of :data:`DOMAINS` (or any name with ``domain``).
        value: the number given.
        domain: a domain other than the table's (a command where ``isl`` may be 0).
        label: how to name the input in the message (default ``name``).

    Raises:
        InputError: "``label`` must be <domain>, got <value> (<reason>)."
    """
    d = domain or DOMAINS.get(name)
    if d is None or value is None or isinstance(value, bool | str):
        return
    if isinstance(value, list | tuple):
        for v in value:
            check_value(name, v, d, label=label)
        return
    if not isinstance(value, int | float):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise InputError(f"{label or name} must be {d.describe()}, got {value!r}.") from None
    if not d.contains(value):
        above = not (isinstance(value, float) and math.isnan(value)) and value > d.lo
        why = f" ({d.reason})" if d.reason and above else ""
        shown = f"{value:g}" if isinstance(value, float) else f"{value:,}"
        raise InputError(f"{label or name} must be {d.describe()}, got {shown}{why}.")


def check_args(**values: Any) -> None:
    """Check library keyword arguments against :data:`DOMAINS` (names not in it pass).

    Raises:
        InputError: the first value outside its domain, naming the argument.
    """
    for name, value in values.items():
        check_value(name, value)


def check_context(isl: float, osl: float, context_tokens: int | None, model_id: str) -> None:
    """Refuse a request longer than the model's context.

    Raises:
        InputError: isl + osl > ``context_tokens`` (when the model states one).
    """
    if context_tokens and isl + osl > context_tokens:
        raise InputError(
            f"isl + osl = {int(isl + osl):,} tokens exceeds {model_id}'s context of "
            f"{context_tokens:,} tokens; use a shorter prompt or output."
        )


# --------------------------------------------------------------------------- work limits


@dataclass(frozen=True, slots=True)
class WorkLimit:
    """A documented ceiling on the work one call may do.

    Attributes:
        what: the unit of work ("simulated requests", "grid configurations").
        default: the limit without ``--max-work``.
        bytes_per_unit: memory one unit needs at most, bytes (for the estimate).
    """

    what: str
    default: float
    bytes_per_unit: float


#: The work limits, by command (docs/limits.md explains each).
WORK_LIMITS: dict[str, WorkLimit] = {
    # streaming simulator: time grows with requests (~6-8 us each on one core), memory with
    # requests in flight plus 20 B per request of latencies (docs/limits.md); the limit bounds
    # time (a few minutes), not memory.
    "simulate": WorkLimit("simulated requests (+ 1,000 per replica)", 5e6, 0.0),
    # the plan grid: G x W x P x K x C cells, about 40 float64 arrays each.
    "plan grid": WorkLimit("grid configurations", 5e6, 40 * 8.0),
    # p99 shortlist: simulated requests over the shortlisted configurations.
    "plan tail": WorkLimit("simulated requests", 2e6, 0.0),
    # load generator: prompt characters held in memory.
    "loadgen": WorkLimit("prompt tokens in flight", 1e7, 8.0),
}


def check_work(kind: str, units: float, max_work: float | None, how: str) -> None:
    """Refuse work past the limit before anything is allocated.

    Args:
        kind: a key of :data:`WORK_LIMITS`.
        units: the estimated work, in the limit's unit.
        max_work: a raised (or lowered) limit; None keeps the documented default.
        how: what sizes the work, in words ("--num-requests x --replicas").

    Raises:
        InputError: the estimate (and its memory) beyond the limit, and how to raise it.
    """
    lim = WORK_LIMITS[kind]
    if max_work is not None:
        check_value("max_work", max_work)
    limit = lim.default if max_work is None else max_work
    if not math.isfinite(units) or units > limit:
        mem = units * lim.bytes_per_unit
        mem_note = f" (about {mem / 2**30:,.1f} GiB of memory)" if lim.bytes_per_unit else ""
        shown = f"{units:,.0f}" if math.isfinite(units) and units < 1e15 else f"{units:.3g}"
        raise InputError(
            f"{kind}: {how} asks for {shown} {lim.what}{mem_note}, more than the limit of "
            f"{limit:,.0f}; lower them, or raise the limit with --max-work (library: "
            f"max_work=) if you have the time and memory."
        )


# --------------------------------------------------------------------------- outputs


def _bad_leaf(obj: Any, path: str) -> tuple[str, Any] | None:
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return None
    if isinstance(obj, float):
        return None if math.isfinite(obj) else (path, obj)
    if isinstance(obj, int):
        return None if -MAX_OUTPUT_INT <= obj <= MAX_OUTPUT_INT else (path, obj)
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            bad = _bad_leaf(v, f"{path}.{k}" if path else str(k))
            if bad:
                return bad
        return None
    if isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            bad = _bad_leaf(v, f"{path}[{i}]")
            if bad:
                return bad
        return None
    item = getattr(obj, "item", None)  # numpy scalar
    if callable(item):
        return _bad_leaf(item(), path)
    return None


def check_outputs(data: Any, inputs: Mapping[str, Any] | Iterable[tuple[str, Any]] = ()) -> None:
    """Raise if ``data`` (a dict/list tree of results) holds inf, nan or an int past int64.

    Args:
        data: the result about to leave infercost (a ``to_dict()``, a JSON object).
        inputs: the inputs that produced it (name -> value), named in the message.

    Raises:
        InputError: "<key> came out as <value> ...", naming ``inputs``.
    """
    bad = _bad_leaf(data, "")
    if bad is None:
        return
    items = list(inputs.items() if isinstance(inputs, Mapping) else inputs)
    given = ", ".join(f"{k}={v!r}" for k, v in items if v is not None and v is not False)
    raise InputError(
        f"{bad[0] or 'the result'} came out as {bad[1]!r}: the inputs "
        f"({given or 'as given'}) are beyond what infercost can compute; use smaller or "
        "realistic values."
    )


#: The exceptions an intermediate result past float or memory range raises; the CLI and the
#: REST service both answer them with :func:`overflow_error`.
OVERFLOW_ERRORS: tuple[type[BaseException], ...] = (OverflowError, FloatingPointError, MemoryError)


def overflow_error(err: BaseException, inputs: Mapping[str, Any]) -> InputError:
    """The user error for an intermediate result that overflowed (one of
    :data:`OVERFLOW_ERRORS`), naming the inputs the user set (the same line from the CLI and
    the REST service)."""
    shown = ", ".join(f"{k}={v!r}" for k, v in inputs.items()) or "the defaults"
    return InputError(
        f"An intermediate result overflowed ({type(err).__name__}) for {shown}; "
        "use smaller or more realistic values."
    )


# --------------------------------------------------------------------------- pairs

#: Options that only act together with another: {command: {option: (needed, ...)}}. An
#: option given without any of the ones it needs would be silently ignored, so it is refused
#: (:func:`check_needs`), by the CLI (``infercost.cli.bounds``, before the command runs) and
#: by the REST service (the request bodies name their command) alike. Names are the library
#: argument names (``peak_hour`` is ``--peak-hour``).
NEEDS: dict[str, dict[str, tuple[str, ...]]] = {
    "cost": {
        **dict.fromkeys(
            ("usd_per_kwh", "years", "hosting_usd", "power_w", "pue"), ("gpu_price_usd",)
        ),
        "allow_spot": ("offer",),
    },
    "tco": {
        "idle_power_w": ("power_billing",),
        "gpus_per_server": ("server_price_usd",),
    },
    "plan search": dict.fromkeys(
        ("shortlist", "load", "length_cv", "num_requests"), ("ttft_p99_s", "tpot_p99_ms")
    ),
    "plan fleet": {
        "peak_hour": ("peak_to_average",),
        "max_spot_share": ("spot_usd_per_gpu_hour", "model"),
        "engine": ("model",),
    },
    "plan hybrid": {
        "peak_hour": ("peak_to_average",),
        "isl": ("model",),
        "osl": ("model",),
    },
    "plan breakeven": {
        "api_cached_input_usd_per_m": ("cached_share",),
        "api_cache_write_usd_per_m": ("cache_write_share",),
        "engine": ("model",),
    },
    "plan payback": {
        **dict.fromkeys(("acceptance", "draft_model", "draft_step_ratio"), ("draft_tokens",)),
        **dict.fromkeys(
            (
                "model",
                "gpu",
                "weight_dtype",
                "num_gpus",
                "max_ttft_s",
                "max_tpot_ms",
                "gpu_hour_usd",
                "engine",
                "output_tokens_per_month",
            ),
            ("draft_tokens", "cached_share"),
        ),
    },
    "plan scenarios": {
        **dict.fromkeys(
            (
                "replica_output_tok_s",
                "gpu_hour_usd",
                "gpus_per_replica",
                "peak_to_average",
                "multipliers",
                "output_expansion",
                "headroom",
                "api_input_usd_per_m",
                "api_output_usd_per_m",
            ),
            ("output_tokens_per_day",),
        ),
        "gpu": ("model",),
        "isl": ("model", "output_tokens_per_day"),
        "osl": ("model", "output_tokens_per_day"),
    },
    "simulate": {
        "profile_period": ("rate_profile",),
        "trace_time_scale": ("trace",),
        "num_prefixes": ("prefix_share",),
        "prefix_tokens": ("prefix_share",),
    },
}

#: How a :data:`NEEDS` message names what is needed when a flag alone does not say it.
NEED_TEXT: dict[tuple[str, str], str] = {
    ("tco", "idle_power_w"): "--power-billing utilized-hours",
}


def check_needs(command: str, given: Iterable[str]) -> None:
    """Refuse an option of ``command`` given without any option it acts with (:data:`NEEDS`).

    Args:
        command: the command (``"plan fleet"``), as the CLI spells it.
        given: the argument names the user set (on the command line, even at the default
            value; in a REST body, any field sent with a value other than null).

    Raises:
        InputError: "--x only applies with --y; give --y or drop --x." for the first such
            option (in the table's order).
    """
    names = set(given)
    for name, needed in NEEDS.get(command, {}).items():
        if name in names and not names.intersection(needed):
            need = NEED_TEXT.get((command, name)) or " or ".join(flag(n) for n in needed)
            raise InputError(
                f"{flag(name)} only applies with {need}; give {need} or drop {flag(name)}."
            )


# --------------------------------------------------------------------------- predict types

#: The types ``infercost.predict`` accepts per argument (numbers as int/float, names as str).
PREDICT_ARG_TYPES: dict[str, tuple[type, ...]] = {
    "model": (str,),
    "gpu": (str,),
    "isl": (int,),
    "osl": (int,),
    "model_config": (str,),
    "num_gpus": (int,),
    "tp": (int,),
    "dp": (int,),
    "pp": (int,),
    "ep": (int,),
    "num_nodes": (int,),
    "weight_dtype": (str,),
    "kv_dtype": (str,),
    "concurrency": (int,),
    "max_throughput": (bool,),
    "fixed_lengths": (bool,),
    "engine": (str,),
    "gpu_hour_usd": (int, float),
    "offer": (str,),
}
_REQUIRED = ("gpu", "isl", "osl")


def check_predict_types(**args: Any) -> None:
    """Check the arguments of ``infercost.predict`` before anything else touches them.

    Types first (a string for ``isl``, a list, None where a value is required, a float
    token count such as 1000.5, a bool for a number), then each number against
    :data:`DOMAINS`. Arguments not in :data:`PREDICT_ARG_TYPES` pass unchecked; None is
    accepted for the optional ones. An integral float (``1000.0``) is accepted for an int.

    Raises:
        InputError: naming the argument, the type or range expected, and the value given.
    """
    for name, value in args.items():
        types = PREDICT_ARG_TYPES.get(name)
        if types is None:
            continue
        if value is None:
            if name in _REQUIRED:
                raise InputError(f"predict(): {name} is required, got None.")
            continue
        ok = isinstance(value, types) and (bool in types or not isinstance(value, bool))
        if not ok and types == (int,) and isinstance(value, float) and value.is_integer():
            ok = True
        if not ok:
            want = " or ".join(t.__name__ for t in types)
            raise InputError(
                f"predict(): {name} must be {want}, got {type(value).__name__} {value!r:.60}."
            )
        domain = DOMAINS.get(name)
        if domain is not None and not domain.contains(value):  # a number (the types above)
            check_value(name, value, domain, label=f"predict(): {name}")  # raises, naming why


# --------------------------------------------------------------------------- measurements

#: Token counts of a measurement: 0 is a run without a prompt or without output (llama-bench
#: ``tg``/``pp`` rows).
_MEASURED_TOKENS = _i(0, MAX_TOKENS_PER_REQUEST, "tokens", "no model has a context beyond 10^8")

#: The fields of an imported benchmark measurement checked against :data:`DOMAINS`.
MEASUREMENT_FIELDS = ("num_gpus", "tp", "pp", "ep", "dp", "isl", "osl", "concurrency")


def screen_measurements(items: list[Any], rejected: list[tuple[str, str]]) -> list[Any]:
    """The measurements whose layout, token counts and concurrency lie in their domains and
    whose value is finite; each other one goes to ``rejected`` as ``(id, reason)``.

    ``items`` are :class:`~infercost.calibrate.measurement.Measurement` objects (duck-typed:
    this module imports nothing above it).
    """
    kept = []
    for m in items:
        reason = None
        for name in MEASUREMENT_FIELDS:
            value = getattr(m, name, None)
            dom = _MEASURED_TOKENS if name in ("isl", "osl") else DOMAINS[name]
            if value is not None and not dom.contains(value):
                reason = f"{name} {value!r} is outside {dom.describe()}"
                break
        value = getattr(m, "value", None)
        if reason is None and isinstance(value, float) and not math.isfinite(value):
            reason = f"value {value!r} is not finite"
        if reason is None:
            kept.append(m)
        else:
            rejected.append((str(getattr(m, "id", "?")), reason))
    return kept


# --------------------------------------------------------------------------- simulate output

#: The ``arrival`` of a ``--rate inf`` run in --json: every request at t = 0 (its
#: ``rate_req_s`` is null: JSON carries no infinity and infercost prints none).
ALL_AT_ONCE = "all-at-once"
