"""`predict --help` says what the options do since the closed loop's lengths vary by default
(QA pass of 2026-12-07): --concurrency names the KV rule per engine (the mean context
isl + osl/2 on vLLM and SGLang, the full length elsewhere), --fixed-lengths the options it is
refused with, --max-throughput the full length on every engine, --weight-dtype the format a
-FP4/-FP8 name announces. Each claim is checked against the behaviour here; docs/planning.md's
claim that the planners follow the same rule is checked against `search`."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import infercost
from infercost.cli import app, main

LLAMA = ("llama-3.1-8b", "H100", 8000, 1000)  # 49 full-length sequences, 52 at the mean


def _help() -> str:
    result = CliRunner().invoke(app, ["predict", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    return " ".join(result.output.replace("│", " ").split())


def test_concurrency_help_names_the_kv_rule_of_each_engine() -> None:
    text = _help()
    assert "vLLM, SGLang and llama.cpp (KV allocated as tokens come" in text
    assert "fit sequences of the mean context isl + osl/2" in text
    assert "TensorRT-LLM and --fixed-lengths of the full isl + osl" in text
    # as it says: 52 run on vLLM where 49 full-length sequences fit; TensorRT-LLM queues
    vllm = infercost.predict(*LLAMA, concurrency=52)
    assert vllm.max_concurrency == 49
    assert any(n.startswith("52 sequences run although the KV cache holds 49") for n in vllm.notes)
    fixed = infercost.predict(*LLAMA, concurrency=52, fixed_lengths=True)
    assert any("the engine runs 49 at once" in n for n in fixed.notes)


def test_max_throughput_help_says_full_length_on_every_engine() -> None:
    text = " ".join(_help().split())
    assert "sequences of the full isl + osl" in text and "trtllm-bench" in text
    p = infercost.predict(*LLAMA, max_throughput=True)
    assert p.concurrency == p.max_concurrency == 49


@pytest.mark.parametrize("other", [["--max-throughput"], ["--concurrency", "8", "--disagg"]])
def test_fixed_lengths_help_names_what_it_is_refused_with(
    other: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert "Only with --concurrency; not with --max-throughput or --disagg." in _help()
    args = ["predict", "--model", "llama-3.1-8b", "--gpu", "H100", "--isl", "1000"]
    with pytest.raises(SystemExit) as done:
        main([*args, "--osl", "300", "--fixed-lengths", *other])
    assert done.value.code == 1
    assert "--fixed-lengths" in capsys.readouterr().err


def test_weight_dtype_help_names_the_format_a_name_announces() -> None:
    assert "a name ending -FP4, -NVFP4 or -FP8 says it, with a note" in _help()
    p = infercost.predict("nvidia/Llama-3.1-8B-Instruct-FP4", "B200", 1000, 300, concurrency=8)
    assert p.weight_dtype == "nvfp4"
    assert any(n.startswith("weights nvfp4: the format the name") for n in p.notes)


def test_planning_doc_rule_matches_search() -> None:
    doc = " ".join((Path(__file__).parents[2] / "docs" / "planning.md").read_text().split())
    assert "the mean context isl + osl / 2 on one that allocates KV as tokens come" in doc
    r = infercost.search("llama-3.1-8b", 8000, 1000, max_ttft_s=None, max_tpot_s=0.05,
                         gpus=["H100"])  # fmt: skip
    w = r.to_dict()["winner"]
    assert w["concurrency"] > w["max_concurrency"]


def test_cli_doc_quotes_the_notes_as_predict_prints_them() -> None:
    doc = " ".join((Path(__file__).parents[2] / "docs" / "cli.md").read_text().split())
    r1 = infercost.predict("nvidia/DeepSeek-R1-0528-FP4", "B200", 1000, 1000, tp=8,
                           engine="trtllm", concurrency=64)  # fmt: skip
    r2 = infercost.predict(*LLAMA, concurrency=53)
    for quoted, notes in (
        ("weights nvfp4: the format the name 'nvidia/DeepSeek-R1-0528-FP4' announces", r1.notes),
        ("52 sequences run although the KV cache holds 49 of their full 9,000 tokens", r2.notes),
        ("53 requests in flight but", r2.notes),
    ):
        assert quoted in doc
        assert any(n.startswith(quoted) for n in notes), quoted
    assert "notes" not in r2.to_dict()


def test_fixed_lengths_says_when_it_changes_nothing() -> None:
    # SGLang's prefill-first waves are the same with or without --fixed-lengths; a closed
    # loop of one running sequence has no waves: both say so; vLLM at 32 clients changes
    p = infercost.predict("llama-3.1-8b", "H100", 1000, 300, concurrency=32, engine="sglang",
                          fixed_lengths=True, gpu_hour_usd=1.0)  # fmt: skip
    assert any("--fixed-lengths changes nothing here: sglang's prefill-first" in n
               for n in p.notes)  # fmt: skip
    one = infercost.predict("llama-3.1-8b", "H100", 1000, 300, concurrency=1,
                            fixed_lengths=True, gpu_hour_usd=1.0)  # fmt: skip
    assert any("one sequence runs at a time" in n for n in one.notes)
    v = infercost.predict("llama-3.1-8b", "H100", 1000, 300, concurrency=32,
                          fixed_lengths=True, gpu_hour_usd=1.0)  # fmt: skip
    assert not any("--fixed-lengths changes nothing" in n for n in v.notes)
