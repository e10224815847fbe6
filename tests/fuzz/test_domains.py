"""infercost.domains: ranges, work limits, output checks and predict's argument types."""

from __future__ import annotations

import math

import pytest

from infercost.domains import (
    DOMAINS,
    check_args,
    check_outputs,
    check_predict_types,
    check_value,
    check_work,
)
from infercost.errors import InputError


def test_bounds_are_inclusive_and_refuse_nan_inf_and_fractions() -> None:
    # isl: whole tokens in [1, 10^8]; both ends accepted, one past each refused.
    check_value("isl", 1)
    check_value("isl", 100_000_000)
    for bad in (0, 100_000_001, 1.5, math.nan, math.inf, 10**40):
        with pytest.raises(InputError, match="isl must be a whole number"):
            check_value("isl", bad)


def test_rate_accepts_inf_but_not_nan() -> None:
    check_value("rate", math.inf)  # every request at t = 0
    with pytest.raises(InputError, match="got nan"):
        check_value("rate", math.nan)


def test_absent_values_and_unknown_names_pass() -> None:
    check_args(isl=None, not_an_input=10**40, engine="vllm")


def test_every_domain_describes_itself_and_contains_a_value() -> None:
    for name, d in DOMAINS.items():
        assert d.lo <= d.hi, name
        assert d.describe(), name
        probe = d.hi if not d.hi_open else d.lo
        assert d.contains(probe) or d.lo_open, name


def test_work_limit_names_the_estimate_memory_and_flag() -> None:
    # plan grid: 320 bytes per configuration; 10^7 configurations = 3.2e9 B = 2.98 GiB.
    with pytest.raises(InputError) as exc:
        check_work("plan grid", 1e7, None, "the grid")
    msg = str(exc.value)
    assert "10,000,000 grid configurations" in msg and "3.0 GiB" in msg
    assert "--max-work" in msg and "5,000,000" in msg
    check_work("plan grid", 1e7, 2e7, "the grid")  # raised limit: accepted


def test_outputs_with_inf_nan_or_int64_overflow_are_refused_naming_inputs() -> None:
    check_outputs({"a": [1.0, {"b": 2**63 - 1}], "s": "inf"})  # a string is not a number
    for bad in (math.inf, math.nan, -(2**63), 2**64):
        with pytest.raises(InputError, match=r"x\.y came out as .*--usd-per-kwh=1e\+308"):
            check_outputs({"x": {"y": bad}}, {"--usd-per-kwh": 1e308})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"isl": "1000"}, "predict(): isl must be int, got str '1000'"),
        ({"osl": [300]}, "predict(): osl must be int, got list [300]"),
        ({"gpu": None}, "predict(): gpu is required, got None."),
        ({"isl": True}, "predict(): isl must be int, got bool True"),
        ({"isl": 10.5}, "predict(): isl must be int, got float 10.5"),
        ({"gpu_hour_usd": "2"}, "predict(): gpu_hour_usd must be int or float"),
        ({"model": 3}, "predict(): model must be str, got int 3"),
        ({"isl": 0}, "predict(): isl must be a whole number in [1, 100,000,000] tokens"),
        ({"gpu_hour_usd": math.inf}, "predict(): gpu_hour_usd must be a finite number"),
    ],
)
def test_predict_types_name_the_argument(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InputError) as exc:
        check_predict_types(**kwargs)
    assert message in str(exc.value)


def test_predict_types_accept_what_predict_takes() -> None:
    check_predict_types(
        model="llama-3.1-8b", gpu="H100", isl=1000, osl=300.0, tp=None, concurrency=8,
        max_throughput=False, gpu_hour_usd=2, engine="vllm",
    )  # fmt: skip
