"""``infercost calibrate import`` and ``calibrate run`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_openai import FakeOpenAIServer

from infercost.cli import main

FIXTURES = Path(__file__).parent / "fixtures"


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_import_json_counts_and_values(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        ["calibrate", "import", str(FIXTURES / "vllm_bench_serve.json"), "--json"], capsys
    )
    assert code == 0
    payload = json.loads(out)
    assert (payload["format"], payload["count"]) == ("vllm", 7)
    assert payload["counts_by_metric"]["ttft_p99_s"] == 1
    first = payload["measurements"][0]
    assert (first["metric"], first["value"], first["concurrency"]) == (
        "output_throughput_tok_s", 640.0, 16,
    )  # fmt: skip


def test_import_table_ends_with_the_count(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        ["calibrate", "import", str(FIXTURES / "llama_bench.json"), "--model", "llama-2-7b"],
        capsys,
    )
    assert code == 0
    assert "3 measurements: decode_throughput_tok_s 1, e2e_mean_s 1" in " ".join(out.split())


def test_missing_gpu_is_one_line_naming_the_option(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(
        ["calibrate", "import", str(FIXTURES / "trtllm_bench_v017.txt")], capsys
    )
    assert code == 1
    assert "does not state the gpu; give it with --gpu" in " ".join(err.split())
    assert "Traceback" not in err


def test_run_writes_a_file_that_imports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "sweep.json"
    with FakeOpenAIServer(0.05, 200.0) as server:
        code, out, _ = run_cli(
            ["calibrate", "run", "--endpoint", server.url, "--model", "fake", "--isl", "8",
             "--osl", "4", "--concurrency", "1,2", "--max-requests", "2", "--out", str(out_file),
             "--gpu", "L4", "--engine", "vLLM", "--json"],
            capsys,
        )  # fmt: skip
    assert code == 0
    levels = json.loads(out)["levels"]
    assert [(level["max_concurrency"], level["completed"]) for level in levels] == [(1, 2), (2, 2)]
    code, out, _ = run_cli(["calibrate", "import", str(out_file), "--json"], capsys)
    payload = json.loads(out)
    assert payload["count"] == 2 * 8  # per level: 2 throughputs + 3 TTFT + TPOT + ITL + E2E
    assert {m["gpu"] for m in payload["measurements"]} == {"L4"}


def test_run_rejects_a_bad_concurrency_list(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(
        ["calibrate", "run", "--endpoint", "http://127.0.0.1:9", "--model", "m", "--out", "x",
         "--concurrency", "1,two"],
        capsys,
    )  # fmt: skip
    assert code == 2
    assert "give integers like 1,2,4" in " ".join(err.split())


def test_import_refuses_options_that_relabel_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(
        ["calibrate", "import", str(FIXTURES / "vllm_bench_serve.json"), "--gpu", "H100",
         "--model", "llama-3.1-70b"],
        capsys,
    )  # fmt: skip
    assert (code, out) == (1, "")
    text = " ".join(err.split())
    assert (
        "the file says model 'meta-llama/Llama-3.1-8B-Instruct', but --model gives "
        "'llama-3.1-70b'; drop --model or fix the file" in text
    )
    assert "Traceback" not in err


def test_import_of_a_markdown_file_names_the_supported_formats(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run_cli(["calibrate", "import", str(FIXTURES / "README.md")], capsys)
    assert code == 1
    assert "format not recognised; supported: calibration-csv, vllm" in " ".join(err.split())
    assert "Traceback" not in err
