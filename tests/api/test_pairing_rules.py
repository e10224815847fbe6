"""An option that only acts with another (``infercost.domains.NEEDS``) given alone gets the
same one-line refusal from the library's rule, the CLI and the REST service (400), for each
rule of ``plan fleet``, ``plan breakeven`` and ``plan payback``.

The acceptance run of issue 16 (docs/limits.md) found the REST bodies answering 200 with the
option silently ignored: the rule lived in the CLI layer only.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infercost.cli import main
from infercost.domains import NEEDS, check_needs
from infercost.errors import InputError

#: A valid call of each command in which none of the needed options is given.
BASE: dict[str, dict[str, Any]] = {
    "plan fleet": {
        "isl": 0,
        "osl": 500,
        "requests_per_day": 1e7,
        "replica_output_tok_s": 1000,
        "gpu_hour_usd": 2,
    },
    "plan breakeven": {
        "api_input_usd_per_m": 2.5,
        "api_output_usd_per_m": 10,
        "input_share": 0.5,
        "gpu_hour_usd": 2.49,
        "tok_s": 1500,
    },
    "plan payback": {
        "training_usd": 1e4,
        "teacher": "api:gpt-4o",
        "student": "0.05",
        "tokens_per_month": 1e9,
    },
}

#: A value inside its domain for each option (the default where there is one: an option
#: typed at its default value is still given).
VALUES: dict[str, Any] = {
    "peak_hour": 14,
    "max_spot_share": 0.5,
    "engine": "vllm",
    "api_cached_input_usd_per_m": 1.25,
    "api_cache_write_usd_per_m": 3.0,
    "acceptance": 0.7,
    "draft_model": "llama-3.2-1b",
    "draft_step_ratio": 0.1,
    "model": "llama-3.1-8b",
    "gpu": "H100",
    "weight_dtype": "fp8",
    "num_gpus": 1,
    "max_ttft_s": 2.0,
    "max_tpot_ms": 50.0,
    "gpu_hour_usd": 2.0,
    "output_tokens_per_month": 1e9,
}

RULES = [
    (command, option, needed) for command in BASE for option, needed in NEEDS[command].items()
]


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _expected(option: str, needed: tuple[str, ...]) -> str:
    need = " or ".join(_flag(n) for n in needed)
    return f"{_flag(option)} only applies with {need}; give {need} or drop {_flag(option)}."


def _args(body: dict[str, Any]) -> list[str]:
    return [a for k, v in body.items() for a in (_flag(k), str(v))]


def test_every_rule_of_the_three_commands_is_covered() -> None:
    covered = {(c, o) for c, o, _ in RULES}
    assert covered == {(c, o) for c in BASE for o in NEEDS[c]}
    assert {"engine", "peak_hour", "max_spot_share"} <= set(NEEDS["plan fleet"])
    assert "engine" in NEEDS["plan breakeven"]


@pytest.mark.parametrize(("command", "option", "needed"), RULES)
def test_library_rule_refuses_the_option_alone(
    command: str, option: str, needed: tuple[str, ...]
) -> None:
    with pytest.raises(InputError) as err:
        check_needs(command, {*BASE[command], option})
    assert str(err.value) == _expected(option, needed)
    check_needs(command, {*BASE[command], option, needed[0]})  # with its partner: accepted


@pytest.mark.parametrize(("command", "option", "needed"), RULES)
def test_cli_refuses_the_option_alone_with_the_same_line(
    command: str, option: str, needed: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main([*command.split(), *_args(BASE[command]), *_args({option: VALUES[option]}), "--json"])
    assert exit_info.value.code == 1
    assert json.loads(capsys.readouterr().out)["error"] == _expected(option, needed)


@pytest.mark.parametrize(("command", "option", "needed"), RULES)
def test_rest_answers_400_with_the_same_line(
    command: str, option: str, needed: tuple[str, ...], client: TestClient
) -> None:
    url = "/api/" + command.replace(" ", "/")
    r = client.post(url, json={**BASE[command], option: VALUES[option]})
    assert r.status_code == 400, r.text
    assert r.json() == {"error": _expected(option, needed), "type": "InputError"}


@pytest.mark.parametrize("command", list(BASE))
def test_rest_base_bodies_are_accepted(command: str, client: TestClient) -> None:
    r = client.post("/api/" + command.replace(" ", "/"), json=BASE[command])
    assert r.status_code == 200, r.text


def test_rest_null_is_not_given(client: TestClient) -> None:
    """A field sent as null is absent (``engine`` is not nullable, so payback's ``model``)."""
    r = client.post("/api/plan/payback", json={**BASE["plan payback"], "model": None})
    assert r.status_code == 200, r.text


def test_rest_option_with_its_partner_is_accepted(client: TestClient) -> None:
    body = {**BASE["plan fleet"], "peak_hour": 9, "peak_to_average": 2.0}
    assert client.post("/api/plan/fleet", json=body).status_code == 200
