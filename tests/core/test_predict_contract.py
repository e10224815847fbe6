"""The `predict` contract of DESIGN.md: JSON keys pinned, exit codes, errors without tracebacks."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import infercost
from infercost import PREDICT_JSON_KEYS, predict
from infercost.cli import app
from infercost.errors import InputError, UnknownNameError

runner = CliRunner()

GOLDEN_KEYS = (
    "model",
    "gpu",
    "engine",
    "num_gpus",
    "tp",
    "pp",
    "ep",
    "dp",  # data-parallel ranks (issue 12: num_gpus = dp x tp x pp)
    "weight_dtype",
    "kv_dtype",
    "isl",
    "osl",
    "concurrency",
    "fits",
    "reason",
    "weights_bytes_per_gpu",
    "kv_bytes_per_token",
    "max_concurrency",
    "output_tok_s",
    "total_tok_s",
    "output_tok_s_per_gpu",
    "ttft_s",
    "tpot_s",
    "e2e_s",
    "usd_per_gpu_hour",
    "price_source",
    "usd_per_m_input",
    "usd_per_m_output",
    "usd_per_m_blended",
    "error_band",
    "explain",
)


def test_json_keys_are_pinned() -> None:
    assert PREDICT_JSON_KEYS == GOLDEN_KEYS
    p = predict("llama-3.1-8b", "H100", 1000, 300, concurrency=8)
    assert tuple(p.to_dict()) == GOLDEN_KEYS


def test_public_api_is_sorted_and_complete() -> None:
    # ruff RUF022 order: CONSTANTS, then Classes, then functions, each alphabetical.
    def style(n: str) -> tuple[bool, bool, str]:
        return (not n.isupper(), not n[0].isupper(), n)

    assert infercost.__all__ == sorted(infercost.__all__, key=style)
    for name in infercost.__all__:
        assert hasattr(infercost, name)


def test_issue_example_refuses_then_predicts_with_tp_2() -> None:
    base = [
        "predict",
        "--model",
        "meta-llama/Llama-3.1-70B-Instruct",
        "--gpu",
        "H100",
        "--isl",
        "1000",
        "--osl",
        "300",
        "--concurrency",
        "16",
    ]
    refused = runner.invoke(app, base)
    assert refused.exit_code == 3  # infercost.cli.exits: plain "no" answer
    assert "does not fit" in refused.output and "--tp 2" in refused.output
    ok = runner.invoke(app, [*base, "--tp", "2", "--json"])
    assert ok.exit_code == 0, ok.output
    data = json.loads(ok.output)
    assert data["fits"] is True and data["tp"] == 2 and data["output_tok_s"] > 0
    assert data["usd_per_m_output"] > data["usd_per_m_input"] > 0


def test_not_fitting_with_json_exits_0_with_nulls() -> None:
    res = runner.invoke(
        app,
        [
            "predict",
            "--model",
            "llama-3.1-70b",
            "--gpu",
            "H100",
            "--isl",
            "1000",
            "--osl",
            "300",
            "--concurrency",
            "16",
            "--json",
        ],
    )
    assert res.exit_code == 0
    data = json.loads(res.output)
    assert data["fits"] is False and data["output_tok_s"] is None and data["reason"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--model", "llama-3.1-8b", "--gpu", "H1000"], "Unknown GPU 'H1000'"),
        (["--model", "llama-99b", "--gpu", "H100"], "Unknown model"),
        (["--model", "llama-3.1-8b", "--gpu", "H100", "--kv-dtype", "fp3"], "--kv-dtype"),
        (["--model", "llama-3.1-8b", "--gpu", "H100", "--tp", "3"], "does not divide"),
        (["--model", "llama-3.1-8b", "--gpu", "H100", "--weight-dtype", "fp7"], "Unknown dtype"),
    ],
)
def test_user_errors_are_one_line_without_traceback(
    args: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from infercost.cli import main

    with pytest.raises(SystemExit) as info:
        main(["predict", *args, "--isl", "100", "--osl", "100", "--concurrency", "1"])
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert needle in " ".join(err.split())
    assert "Traceback" not in err


def test_user_errors_raise_project_exceptions_in_the_library() -> None:
    with pytest.raises(UnknownNameError):
        predict("llama-3.1-8b", "H1000", 100, 100, concurrency=1)
    with pytest.raises(InputError, match="exactly one of"):
        predict("llama-3.1-8b", "H100", 100, 100)
    with pytest.raises(InputError, match="isl must be a whole number"):
        predict("llama-3.1-8b", "H100", 0, 100, concurrency=1)


def test_explain_gives_a_trail_with_sources() -> None:
    p = predict("llama-3.1-8b", "H100", 1000, 300, concurrency=8, explain=True)
    assert p.explain is not None
    names = [t["name"] for t in p.explain]
    assert {"kv_bytes_per_token", "decode_step_s", "usd_per_m_output"} <= set(names)
    assert all(t["formula"] for t in p.explain)


def test_max_throughput_uses_kv_limited_batch() -> None:
    p = predict("llama-3.1-8b", "H100", 1000, 1000, max_throughput=True, engine="vllm")
    # vLLM caps running sequences at max_num_seqs 256 when the KV cache holds more.
    assert p.concurrency == min(p.max_concurrency, 256)


def test_catalog_listings_fit_80_columns_and_show_sources_on_request() -> None:
    narrow = CliRunner()
    res = narrow.invoke(app, ["gpus"], env={"COLUMNS": "80"})
    assert res.exit_code == 0 and "h100-sxm" in res.output
    src = narrow.invoke(app, ["gpus", "--sources"])
    assert "h100-sxm (2026-08-22): shared/reference/hardware.csv" in " ".join(src.output.split())
    models = narrow.invoke(app, ["models", "--json"])
    rows = json.loads(models.output)
    assert all(r["source"] and r["as_of"] for r in rows)
