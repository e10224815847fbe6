"""`infercost calibrate fit`: fits a fixture, saves a dated profile that predict then uses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infercost.catalog import loader
from infercost.cli import app, main

FIXTURE = Path(__file__).parent / "fixtures" / "vllm_bench_serve.json"
runner = CliRunner()


def test_fit_saves_a_profile_that_overrides_the_engine(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "engine_fits.toml"
    res = runner.invoke(app, ["calibrate", "fit", str(FIXTURE), "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    fitted = data["fits"]["vllm"]["values"]
    assert data["saved_to"] == str(out) and out.is_file()
    # The fixture's seven measurements are all usable (fixed 1024/128 lengths, known GPU).
    # The fixture's p99 TTFT has no steady-state prediction: listed, not silently dropped.
    assert data["fits"]["vllm"]["rows"] == 7
    assert data["unused"] == [
        {
            "id": "vllm_bench_serve-0005",
            "reason": "metric ttft_p99_s cannot be predicted in this mode",
        }
    ]
    monkeypatch.setenv("INFERCOST_CATALOG_DIR", str(tmp_path))
    loader.load_engines.cache_clear()
    try:
        vllm = next(e for e in loader.load_engines() if e.id == "vllm")
        assert abs(vllm.mbu - fitted["mbu"]) < 1e-5
        assert "vllm_bench_serve.json" in vllm.source
    finally:
        monkeypatch.delenv("INFERCOST_CATALOG_DIR")
        loader.load_engines.cache_clear()


def test_fit_of_an_unusable_file_is_a_clear_error(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from infercost.cli import main

    bad = tmp_path / "empty.json"
    bad.write_text("{}")
    with pytest.raises(SystemExit) as info:
        main(["calibrate", "fit", str(bad)])
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert "error:" in err and "empty.json" in err and "Traceback" not in err


def test_predict_uses_a_profile_file(tmp_path: Path) -> None:
    import pytest

    from infercost import predict

    # A profile with a 50 ms per-step overhead must slow a batch-1 decode step by exactly
    # the difference from the shipped vLLM profile's overhead in TPOT.
    from infercost.catalog import get_engine
    from infercost.errors import InputError

    shipped = get_engine("vllm").step_overhead_s
    prof = tmp_path / "p.toml"
    prof.write_text("[vllm]\nstep_overhead_s = 0.05\n")
    base = predict("llama-3.1-8b", "H100", 100, 50, concurrency=1)
    slow = predict("llama-3.1-8b", "H100", 100, 50, concurrency=1, profile=str(prof))
    assert (slow.tpot_s or 0) - (base.tpot_s or 0) == pytest.approx(0.05 - shipped, rel=1e-9)
    with pytest.raises(InputError, match="no \\[trtllm\\] table"):
        predict("llama-3.1-8b", "H100", 100, 50, concurrency=1, engine="trtllm", profile=str(prof))
    prof.write_text("[vllm]\nmbu = 7\n")
    with pytest.raises(InputError, match="mbu"):
        predict("llama-3.1-8b", "H100", 100, 50, concurrency=1, profile=str(prof))


def _error_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run the real entry point; return its stderr (one line expected) after exit code 1."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("error:") == 1
    return " ".join(err.split())


def test_unwritable_out_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    out = blocker / "engine_fits.toml"  # a path under a file cannot be created
    err = _error_line(["calibrate", "fit", str(FIXTURE), "--out", str(out)], capsys)
    assert "choose a writable --out" in err


PREDICT = [
    "predict",
    "--model",
    "llama-3.1-8b",
    "--gpu",
    "H100",
    "--isl",
    "512",
    "--osl",
    "64",
    "--concurrency",
    "8",
    "--engine",
    "vllm",
]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[vllm]\nstep_overhead_s = inf\n", "'step_overhead_s' must be a finite number"),
        ("[vllm]\nmbu = nan\n", "'mbu' must be a finite number"),
        ("[vllm]\nmbu = true\n", "field 'mbu' must be a number, got true"),
        ("[vllm]\nseq_overhed_s = 1e-6\n", "did you mean 'seq_overhead_s'?"),
        ("[vllm]\nmbu = 0.5\n[foo]\nmbu = 0.5\n", "unknown engine(s) foo"),
    ],
)
def test_bad_profiles_are_one_line_errors(
    tmp_path: Path, body: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text(body)
    assert message in _error_line([*PREDICT, "--profile", str(profile)], capsys)


def test_a_user_profile_flags_the_shipped_error_band(tmp_path: Path) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text("[vllm]\nmbu = 0.7\n")
    result = runner.invoke(app, [*PREDICT, "--profile", str(profile), "--json"])
    band = json.loads(result.output)["error_band"]
    assert band["extrapolating"] is True
    assert "profile" in band["basis"]


def test_a_measured_zero_is_a_one_line_error_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # QA: a trtllm-bench report with request_throughput_req_s 0 imported, then fit died in
    # ZeroDivisionError; a throughput or latency of 0 is no measurement
    real = Path(__file__).parent / "fixtures" / "real" / "trtllm_bench_report_gptoss_eagle.json"
    doc = json.loads(real.read_text())
    doc["performance"]["request_throughput_req_s"] = 0.0
    bad = tmp_path / "zero.json"
    bad.write_text(json.dumps(doc))
    for cmd in ("import", "fit"):
        line = _error_line(["calibrate", cmd, str(bad), "--gpu", "H200"], capsys)
        assert "request_throughput_req_s is 0: not a measurement" in line


def test_a_poor_fit_is_not_saved_unless_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # QA: a vLLM result whose *_ms fields hold seconds fitted to a 34,690 % in-sample error and
    # was saved all the same. With every latency 1000x too small the fit cannot be good.
    doc = json.loads((Path(__file__).parent / "fixtures" / "vllm_bench_serve.json").read_text())
    for key in list(doc):
        if key.endswith("_ms") and isinstance(doc[key], (int, float)):
            doc[key] = doc[key] / 1000.0
    bad = tmp_path / "seconds.json"
    bad.write_text(json.dumps(doc))
    out = tmp_path / "p.toml"
    argv = ["calibrate", "fit", str(bad), "--gpu", "H100", "--out", str(out), "--quiet"]
    line = _error_line(argv, capsys)
    assert "not saved: the fit's in-sample median error" in line and not out.exists()
    result = CliRunner().invoke(app, [*argv, "--keep-poor-fit"])
    assert result.exit_code == 0, result.output
    assert out.exists()


def test_fit_takes_the_facts_import_takes(tmp_path: Path) -> None:
    # QA: fit said "give the load with --concurrency" but had no such option, so a file that
    # does not state its load could be imported and never fitted
    src = Path(__file__).parent / "fixtures" / "profile_export_genai_perf.json"
    doc = json.loads(src.read_text())
    doc["input_config"].pop("concurrency", None)
    path = tmp_path / "noload.json"
    path.write_text(json.dumps(doc))
    base = ["calibrate", "fit", str(path), "--gpu", "H100", "--engine", "vllm", "--json"]
    without = CliRunner().invoke(app, base)
    assert without.exit_code != 0 and "--concurrency" in str(without.exception)
    given = CliRunner().invoke(app, [*base, "--concurrency", "16"])
    assert given.exit_code == 0, given.output
    assert json.loads(given.stdout)["fits"]


def test_a_fit_on_weight_only_experts_alone_says_mfu_carries_them(tmp_path: Path) -> None:
    # gpt-oss-20b (MXFP4 experts, W4A16 on H100) rows only: the weight-only experts'
    # efficiency cannot be told from MFU, so it is not fitted and the output says so
    header = (
        "id,source,title,date,engine,engine_version,model,gpu,num_gpus,tp,pp,weight_dtype,"
        "kv_dtype,isl,osl,concurrency,metric,value,unit,notes"
    )
    rows = [
        f"OSS-{i},s,t,,vLLM,0.11,openai/gpt-oss-20b,H100-SXM-80GB,1,1,1,mxfp4,auto,{isl},{osl},"
        f"concurrency={c},output_throughput,{v},tok/s (all GPUs),"
        for i, (isl, osl, c, v) in enumerate(
            ((1000, 1000, 8, 1200), (1000, 1000, 64, 5200), (8000, 1000, 16, 1500),
             (1000, 8000, 32, 2900))
        )
    ]  # fmt: skip
    f = tmp_path / "oss.csv"
    f.write_text("\n".join([header, *rows]) + "\n")
    res = runner.invoke(app, ["calibrate", "fit", str(f), "--quiet"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "every row runs weight-only experts" in res.output
    assert "not fitted" in res.output
    data = json.loads(runner.invoke(app, ["calibrate", "fit", str(f), "--quiet", "--json"]).output)
    assert "expert_dequant_efficiency" not in data["fits"]["vllm"]["values"]
