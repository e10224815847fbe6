"""Invariants every shipped catalog entry must satisfy (the data is tested, not only the code)."""

from __future__ import annotations

import csv
import json
from datetime import date
from importlib import resources
from pathlib import Path

import pytest

from infercost.catalog import (
    get_accelerator,
    get_model,
    load_accelerators,
    load_engines,
    load_models,
    load_quant_formats,
)

TODAY = date.today()  # no catalog figure is dated in the future
CALIBRATION_CSV = Path(__file__).resolve().parents[3] / "shared" / "validation" / "calibration.csv"


def test_every_accelerator_is_sourced_dated_and_positive() -> None:
    accs = load_accelerators()
    # 25 rows of shared/reference/hardware.csv + GH200 96 GB, GH200 144 GB, RTX PRO 6000 BSE,
    # GB300 (issue 19).
    assert len(accs) == 29
    for a in accs:
        assert len(a.source) > 10, a.id
        assert a.as_of <= TODAY, a.id
        assert a.memory_bytes > 1e9 and a.mem_bw_bytes_s > 1e11, a.id


def test_accelerator_ids_and_aliases_are_unique() -> None:
    seen: dict[str, str] = {}
    for a in load_accelerators():
        for spelling in (a.id, *a.aliases):
            key = spelling.lower()
            assert key not in seen or seen[key] == a.id, (spelling, a.id, seen.get(key))
            seen[key] = a.id


def test_fp8_is_never_slower_than_bf16_where_both_exist() -> None:
    for a in load_accelerators():
        if "fp8" in a.dense_flop_s and "bf16" in a.dense_flop_s:
            assert a.dense_flop_s["fp8"] >= a.dense_flop_s["bf16"], a.id


def test_unsupported_dtypes_are_absent_not_borrowed() -> None:
    # Ampere has no FP8 tensor cores (hardware.csv notes); A10G publishes no tensor figures.
    assert get_accelerator("A100-SXM4-80GB").flop_s("fp8") is None
    assert get_accelerator("a10g").dense_flop_s == {}
    # B300 cut INT8 to ~153.5 TOPS dense (hardware.csv): not copied from FP8's 4500.
    assert get_accelerator("b300").flop_s("int8") == pytest.approx(153.5e12)


def test_h100_memory_is_80_gib() -> None:
    # nvidia-smi reports 81559 MiB usable of 81920 MiB on an H100 80GB: vendor "GB" is GiB.
    assert get_accelerator("H100").memory_bytes == 80 * 2**30


def test_every_shipped_model_config_parses_and_is_sourced() -> None:
    models = load_models()
    files = [
        p.name
        for p in resources.files("infercost.catalog.data").joinpath("models").iterdir()
        if p.name.endswith(".json") and not p.name.endswith(".hf_quant_config.json")
    ]
    # 30 configs of the first catalog + the 20 current models of shared/reference/models/current
    # + the 6 of commit e1b7807 (GLM-4.7, GLM-4.7-Flash, Qwen3-VL-235B-A22B-Instruct,
    # Qwen3-14B, DeepSeek-R1-Distill-Qwen-32B, Mistral-7B-Instruct-v0.3) + the 30 copied from
    # aiconfigurator @ 095f58a5 in the ninth session (docs/models.md, models.csv rows)
    # + 6 widely deployed models from verbatim config.json copies (Mistral-Nemo-Instruct-2407,
    # Phi-3-mini-4k/128k-instruct, Phi-3-medium-4k-instruct, gemma-2-9b-it,
    # granite-3.3-8b-instruct; tests/catalog/test_more_models.py)
    assert len(models) == len(files) == 92
    ids = [m.id for m in models]
    assert len(ids) == len(set(ids))
    for m in models:
        assert m.as_of <= TODAY and "config.json" in m.source


def test_quant_formats_and_engines_are_sourced() -> None:
    for f in load_quant_formats():
        assert f.source and f.as_of <= TODAY
    for e in load_engines():
        assert e.source and e.as_of <= TODAY


@pytest.mark.skipif(not CALIBRATION_CSV.is_file(), reason="shared/validation not beside repo")
def test_every_calibration_gpu_and_model_resolves() -> None:
    with CALIBRATION_CSV.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    for name in {r["gpu"] for r in rows}:
        get_accelerator(name)
    for name in {r["model"] for r in rows}:
        get_model(name)


def test_error_bands_file_is_valid_json_with_pooled_figures() -> None:
    text = resources.files("infercost.catalog.data").joinpath("error_bands.json").read_text()
    data = json.loads(text)
    assert 0 < data["pooled"]["output_tok_s"] < 1
