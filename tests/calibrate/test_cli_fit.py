"""`infercost calibrate fit`: fits a fixture, saves a dated profile that predict then uses."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from infercost.catalog import loader
from infercost.cli import app

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
    assert data["fits"]["vllm"]["rows"] == 7 and data["unused"] == []
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
    from infercost.errors import InputError

    # A profile with a 10x larger per-step overhead must slow a batch-1 decode step by
    # exactly the difference (50 ms - vLLM default 2 ms) in TPOT.
    prof = tmp_path / "p.toml"
    prof.write_text("[vllm]\nstep_overhead_s = 0.05\n")
    base = predict("llama-3.1-8b", "H100", 100, 50, concurrency=1)
    slow = predict("llama-3.1-8b", "H100", 100, 50, concurrency=1, profile=str(prof))
    assert (slow.tpot_s or 0) - (base.tpot_s or 0) == pytest.approx(0.05 - 0.002, rel=1e-9)
    with pytest.raises(InputError, match="no \\[trtllm\\] table"):
        predict("llama-3.1-8b", "H100", 100, 50, concurrency=1, engine="trtllm", profile=str(prof))
    prof.write_text("[vllm]\nmbu = 7\n")
    with pytest.raises(InputError, match="mbu"):
        predict("llama-3.1-8b", "H100", 100, 50, concurrency=1, profile=str(prof))
