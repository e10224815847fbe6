"""Importers: every format's fixture imports with values checked by hand, bad files fail loudly.

Fixtures are hand-written from each tool's documented format (see fixtures/README.md, which
also shows the arithmetic behind the expected values).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from infercost.calibrate.importers import (
    detect_format,
    import_calibration_csv,
    import_file,
    import_genai_perf_json,
    import_guidellm_json,
    import_llama_bench,
    import_sglang_jsonl,
    import_trtllm_bench_text,
    import_vllm_json,
    parse_concurrency,
)
from infercost.calibrate.measurement import Measurement
from infercost.errors import InputError, UnknownNameError

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_CSV = Path(__file__).resolve().parents[3] / "shared" / "validation" / "calibration.csv"


def by_metric(measurements: list[Measurement]) -> dict[str, Measurement]:
    """The measurements of one run keyed by metric (fails if a metric repeats)."""
    keyed: dict[str, Measurement] = {m.metric: m for m in measurements}
    assert len(keyed) == len(measurements)
    return keyed


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


class TestSharedCalibrationCsv:
    @pytest.fixture(scope="class")
    def rows(self) -> dict[str, Measurement]:
        if not SHARED_CSV.exists():
            pytest.skip(f"{SHARED_CSV} is not present in this checkout")
        measurements = import_calibration_csv(SHARED_CSV)
        return {m.id: m for m in measurements}

    def test_all_601_rows_import_with_unique_ids(self, rows: dict[str, Measurement]) -> None:
        assert len(rows) == 601

    def test_metric_counts_match_the_metric_and_unit_columns(
        self, rows: dict[str, Measurement]
    ) -> None:
        # Column counts of the CSV: output_throughput in 'tok/s (all GPUs)' 400 + "as labelled
        # 'out tok/s'" 11, of which the 4 multi-GPU rows with an ambiguous unit are read per
        # GPU (8 + 4 per-GPU rows); ttft_mean 74 + first_token_latency 10; the rest one-to-one.
        counts = Counter(m.metric for m in rows.values())
        assert counts == {
            "output_throughput_tok_s": 407,
            "ttft_mean_s": 84,
            "itl_mean_s": 73,
            "request_throughput_req_s": 11,
            "e2e_mean_s": 9,
            "output_throughput_per_gpu_tok_s": 12,
            "prefill_throughput_tok_s": 3,
            "decode_throughput_tok_s": 2,
        }

    def test_offline_max_throughput_row(self, rows: dict[str, Measurement]) -> None:
        m = rows["TRT017-0001"]  # 29526.04 tok/s (all GPUs), Llama-3.1-8B H200 FP8 TP1 128/128
        assert (m.metric, m.value) == ("output_throughput_tok_s", 29526.04)
        assert m.mode == "max_throughput"
        assert (m.isl, m.osl, m.tp, m.num_gpus, m.concurrency) == (128, 128, 1, 1, None)
        assert (m.weight_dtype, m.kv_dtype, m.engine_version) == ("fp8", "fp8", "0.17")
        assert m.notes.startswith("Table cell: model 'LLaMA v3.1 8B', TP 1")

    def test_request_rate_row_converts_ms_to_seconds(self, rows: dict[str, Measurement]) -> None:
        m = rows["TRT014-0001"]  # ttft_mean 62 ms at request_rate=2 qps, 70B TP4
        assert m.metric == "ttft_mean_s"
        assert m.value == pytest.approx(0.062)
        assert (m.mode, m.request_rate_qps, m.concurrency) == ("request_rate", 2.0, None)
        assert (m.tp, m.num_gpus, m.kv_dtype) == (4, 4, "not stated")

    def test_infinite_request_rate_row(self, rows: dict[str, Measurement]) -> None:
        m = rows["TRT014-0016"]  # request_rate=INF qps, ttft_mean 9123 ms
        assert (m.mode, m.request_rate_qps) == ("request_rate", None)
        assert m.value == pytest.approx(9.123)

    def test_static_batch_rows(self, rows: dict[str, Measurement]) -> None:
        e2e = rows["VLLMCI-0001"]  # static batch=8, e2e_latency_mean 834.059 ms
        assert (e2e.metric, e2e.mode, e2e.concurrency) == ("e2e_mean_s", "static_batch", 8)
        assert e2e.value == pytest.approx(0.834059)
        per_gpu = rows["TRT061-0001"]  # static batch=768, 19694 tok/s/GPU
        assert per_gpu.metric == "output_throughput_per_gpu_tok_s"
        assert (per_gpu.value, per_gpu.concurrency) == (19694.0, 768)
        # A100 70B TP4, "tok/s (as labelled 'out tok/s')", notes: per GPU or total unstated.
        ambiguous = rows["TRT061-0017"]
        assert ambiguous.metric == "output_throughput_per_gpu_tok_s"
        assert ambiguous.value == 670.0
        assert "read as per GPU" in ambiguous.notes
        one_gpu = rows["TRT061-0013"]  # same label, TP 1: per GPU and total are the same
        assert one_gpu.metric == "output_throughput_tok_s"
        first_token = rows["TRT061-0020"]  # first_token_latency 7 ms, osl '1 (first token only)'
        assert (first_token.metric, first_token.osl) == ("ttft_mean_s", 1)
        assert first_token.value == pytest.approx(0.007)

    def test_dataset_rows_keep_the_length_distribution(self, rows: dict[str, Measurement]) -> None:
        m = rows["VLLMCI-0019"]  # ShareGPT at request_rate=1 qps (Poisson, fixed seed)
        assert (m.isl, m.osl) == (None, None)
        assert m.dataset == "ShareGPT (200 sampled prompts; variable) / ShareGPT (variable)"
        assert (m.metric, m.value, m.request_rate_qps) == (
            "request_throughput_req_s", 0.989745, 1.0,
        )  # fmt: skip

    def test_llama_cpp_decode_row(self, rows: dict[str, Measurement]) -> None:
        m = rows["LLAMACPP-0002"]  # tg128 at 61.03 t/s, batch=1 (single sequence)
        assert (m.metric, m.value, m.isl, m.osl) == ("decode_throughput_tok_s", 61.03, 0, 128)
        assert (m.mode, m.concurrency, m.weight_dtype) == ("static_batch", 1, "f16")


class TestParseConcurrency:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("max (offline; all requests queued at once)", ("max_throughput", None, None)),
            ("static batch=8", ("static_batch", 8, None)),
            ("batch=1 (single sequence)", ("static_batch", 1, None)),
            ("concurrency=16", ("closed_loop", 16, None)),
            ("request_rate=4 qps", ("request_rate", None, 4.0)),
            ("request_rate=0.5 qps (Poisson)", ("request_rate", None, 0.5)),
            ("request_rate=inf", ("request_rate", None, None)),
            ("request_rate=INF qps", ("request_rate", None, None)),
        ],
    )
    def test_forms(self, text: str, expected: tuple[object, ...]) -> None:
        assert parse_concurrency(text) == expected

    def test_unknown_form_is_refused(self) -> None:
        with pytest.raises(ValueError, match="'qps=4' is not one of"):
            parse_concurrency("qps=4")


class TestCalibrationCsvFixture:
    def test_sample_imports(self) -> None:
        rows = {m.id: m for m in import_file(FIXTURES / "calibration_sample.csv")}
        assert set(rows) == {"TRT017-0001", "TRT017-0002", "TRT014-0016", "VLLMCI-0019",
                             "LLAMACPP-0002"}  # fmt: skip
        assert rows["TRT017-0002"].value == 28836.77

    def test_missing_column_is_named(self, tmp_path: Path) -> None:
        text = (FIXTURES / "calibration_sample.csv").read_text().replace(",unit,", ",units,", 1)
        with pytest.raises(InputError, match=r"header.*missing column\(s\) unit"):
            import_calibration_csv(write(tmp_path, "bad.csv", text))

    def test_bad_concurrency_names_line_id_and_field(self, tmp_path: Path) -> None:
        lines = (FIXTURES / "calibration_sample.csv").read_text().splitlines()
        lines[1] = lines[1].replace("max (offline; all requests queued at once)", "lots")
        with pytest.raises(InputError, match=r"line 2, id 'TRT017-0001'.*'concurrency'.*'lots'"):
            import_calibration_csv(write(tmp_path, "bad.csv", "\n".join(lines)))

    def test_bad_value_is_named(self, tmp_path: Path) -> None:
        text = (FIXTURES / "calibration_sample.csv").read_text().replace("29526.04", '"29,526"')
        with pytest.raises(InputError, match=r"field 'value' must be a number, got '29,526'"):
            import_calibration_csv(write(tmp_path, "bad.csv", text))

    def test_duplicate_id_is_refused(self, tmp_path: Path) -> None:
        text = (
            (FIXTURES / "calibration_sample.csv").read_text().replace("TRT017-0002", "TRT017-0001")
        )
        with pytest.raises(InputError, match="repeats 'TRT017-0001'"):
            import_calibration_csv(write(tmp_path, "bad.csv", text))

    def test_options_are_refused_because_the_csv_states_everything(self) -> None:
        with pytest.raises(InputError, match="drop the options gpu"):
            import_file(FIXTURES / "calibration_sample.csv", gpu="H100")


class TestVllmJson:
    def test_fixture(self) -> None:
        ms = by_metric(import_vllm_json(FIXTURES / "vllm_bench_serve.json"))
        tput = ms["output_throughput_tok_s"]
        # model_id, backend vllm, --metadata gpu=H100-SXM-80GB tp=1; inf rate + cap 16.
        assert (tput.model, tput.engine, tput.gpu, tput.tp, tput.num_gpus) == (
            "meta-llama/Llama-3.1-8B-Instruct", "vLLM", "H100-SXM-80GB", 1, 1,
        )  # fmt: skip
        assert (tput.mode, tput.concurrency, tput.request_rate_qps) == ("closed_loop", 16, None)
        assert (tput.isl, tput.osl, tput.value) == (1024, 128, 640.0)  # 204800/200, 25600/200
        assert ms["request_throughput_req_s"].value == 5.0
        assert ms["ttft_mean_s"].value == pytest.approx(0.1205)
        assert ms["ttft_p50_s"].value == pytest.approx(0.110)
        assert ms["ttft_p99_s"].value == pytest.approx(0.250)
        assert ms["tpot_mean_s"].value == pytest.approx(0.0234)
        assert ms["itl_mean_s"].value == pytest.approx(0.0232)
        assert "e2e_mean_s" not in ms  # e2el is not in the default --percentile-metrics

    def test_sweep_array_and_overrides(self, tmp_path: Path) -> None:
        run = json.loads((FIXTURES / "vllm_bench_serve.json").read_text())
        del run["gpu"], run["tp"]  # options fill only what the file does not state
        second = {**run, "request_rate": 2.0, "max_concurrency": None, "mean_e2el_ms": 3100.0}
        path = write(tmp_path, "sweep.json", json.dumps([run, second]))
        ms = import_file(path, gpu="H200-SXM-141GB", tp=2)
        assert len(ms) == 7 + 8  # the second run adds mean_e2el_ms
        assert {m.gpu for m in ms} == {"H200-SXM-141GB"}
        assert {(m.tp, m.num_gpus) for m in ms} == {(2, 2)}
        last = by_metric(ms[7:])
        assert (last["e2e_mean_s"].mode, last["e2e_mean_s"].request_rate_qps) == (
            "request_rate", 2.0,
        )  # fmt: skip
        assert last["e2e_mean_s"].value == pytest.approx(3.1)

    def test_missing_output_throughput_is_named(self, tmp_path: Path) -> None:
        run = json.loads((FIXTURES / "vllm_bench_serve.json").read_text())
        del run["output_throughput"]
        with pytest.raises(InputError, match="'output_throughput' is missing"):
            import_vllm_json(write(tmp_path, "r.json", json.dumps(run)))

    def test_generic_openai_backend_needs_engine(self, tmp_path: Path) -> None:
        run = json.loads((FIXTURES / "vllm_bench_serve.json").read_text())
        run["backend"] = run["endpoint_type"] = "openai-chat"
        path = write(tmp_path, "r.json", json.dumps(run))
        with pytest.raises(InputError, match=r"does not state the engine.*--engine"):
            import_vllm_json(path)
        assert {m.engine for m in import_vllm_json(path, engine="SGLang")} == {"SGLang"}

    def test_zero_completed_is_refused(self, tmp_path: Path) -> None:
        run = json.loads((FIXTURES / "vllm_bench_serve.json").read_text())
        run["completed"] = 0
        with pytest.raises(InputError, match="'completed' is 0"):
            import_vllm_json(write(tmp_path, "r.json", json.dumps(run)))


class TestSglangJsonl:
    def test_fixture(self) -> None:
        ms = import_sglang_jsonl(
            FIXTURES / "sglang_bench_serving.jsonl", model="meta-llama/Llama-3.1-8B-Instruct",
            gpu="H100-SXM-80GB",
        )  # fmt: skip
        first, second = by_metric(ms[:8]), by_metric(ms[8:])
        tput = first["output_throughput_tok_s"]
        assert (tput.engine, tput.value, tput.isl, tput.osl, tput.dataset) == (
            "SGLang", 1024.0, 1024, 256, None,
        )  # fmt: skip
        assert (tput.mode, tput.request_rate_qps, tput.concurrency) == ("request_rate", 4.0, None)
        assert first["e2e_mean_s"].value == pytest.approx(2.9003)  # 80 + 255 x 11.06 ms
        assert first["tpot_mean_s"].value == pytest.approx(0.01106)
        assert first["itl_mean_s"].value == pytest.approx(0.01105)
        share = second["request_throughput_req_s"]
        assert (share.value, share.isl, share.osl) == (20.0, 220, 190)
        assert share.request_rate_qps is None  # Infinity
        assert share.dataset == "sharegpt (isl/osl are means per completed request)"

    def test_sglang_output_has_no_model_name(self) -> None:
        with pytest.raises(InputError, match=r"record 1.*does not state the model.*--model"):
            import_sglang_jsonl(FIXTURES / "sglang_bench_serving.jsonl", gpu="H100")

    def test_bad_line_is_named(self, tmp_path: Path) -> None:
        text = (FIXTURES / "sglang_bench_serving.jsonl").read_text() + "{not json\n"
        with pytest.raises(InputError, match=r"line 3.*invalid JSON"):
            import_sglang_jsonl(write(tmp_path, "s.jsonl", text), model="m", gpu="H100")


class TestGenaiPerfJson:
    def test_genai_perf_fixture(self) -> None:
        ms = by_metric(import_genai_perf_json(
            FIXTURES / "profile_export_genai_perf.json", gpu="L40S-48GB", engine="vLLM",
        ))  # fmt: skip
        tput = ms["output_throughput_tok_s"]
        assert (tput.model, tput.value, tput.isl, tput.osl, tput.dataset) == (
            "meta-llama/Llama-3.1-8B-Instruct", 819.2, 550, 256, None,
        )  # fmt: skip
        assert (tput.mode, tput.concurrency) == ("closed_loop", 8)
        assert ms["request_throughput_req_s"].value == 3.2
        assert ms["ttft_mean_s"].value == pytest.approx(0.045)
        assert ms["ttft_p50_s"].value == pytest.approx(0.044)
        assert ms["ttft_p99_s"].value == pytest.approx(0.070)
        assert ms["tpot_mean_s"].value == pytest.approx(0.0096)  # genai-perf ITL = vLLM TPOT
        assert ms["e2e_mean_s"].value == pytest.approx(2.493)  # 45 + 255 x 9.6 ms

    def test_aiperf_fixture(self) -> None:
        ms = by_metric(import_file(
            FIXTURES / "profile_export_aiperf.json", gpu="H100-SXM-80GB", engine="vLLM",
        ))  # fmt: skip
        tput = ms["output_throughput_tok_s"]
        assert (tput.model, tput.isl, tput.osl) == ("Qwen/Qwen3-0.6B", 550, 128)
        assert tput.dataset == "AIPerf inputs (isl/osl are means per completed request)"
        assert (tput.mode, tput.request_rate_qps, tput.concurrency) == ("request_rate", 10.0, 32)
        assert ms["ttft_p99_s"].value == pytest.approx(0.190)

    def test_unknown_unit_is_named(self, tmp_path: Path) -> None:
        data = json.loads((FIXTURES / "profile_export_genai_perf.json").read_text())
        data["time_to_first_token"]["unit"] = "fortnights"
        path = write(tmp_path, "p.json", json.dumps(data))
        with pytest.raises(InputError, match=r"\(time_to_first_token\).*'fortnights'"):
            import_genai_perf_json(path, gpu="H100", engine="vLLM")

    def test_missing_throughput_block_is_named(self, tmp_path: Path) -> None:
        data = json.loads((FIXTURES / "profile_export_genai_perf.json").read_text())
        del data["request_throughput"]
        path = write(tmp_path, "p.json", json.dumps(data))
        with pytest.raises(InputError, match="'request_throughput' is missing"):
            import_genai_perf_json(path, gpu="H100", engine="vLLM")


class TestGuidellmJson:
    def test_fixture(self) -> None:
        ms = import_guidellm_json(
            FIXTURES / "guidellm_benchmarks.json", gpu="A100-SXM4-80GB", engine="vLLM"
        )
        first, second = by_metric(ms[:7]), by_metric(ms[7:])
        tput = first["output_throughput_tok_s"]
        assert (tput.mode, tput.concurrency, tput.value, tput.isl, tput.osl) == (
            "closed_loop", 4, 484.8, 256, 128,
        )  # fmt: skip
        assert tput.model == "meta-llama/Llama-3.1-8B-Instruct"
        assert first["ttft_mean_s"].value == pytest.approx(0.040)
        assert first["ttft_p50_s"].value == pytest.approx(0.038)  # median 40 - 2 ms
        assert first["itl_mean_s"].value == pytest.approx(0.008)
        assert first["e2e_mean_s"].value == pytest.approx(1.056)  # request_latency is seconds
        assert first["request_throughput_req_s"].value == pytest.approx(3.788)
        rate = second["request_throughput_req_s"]
        assert (rate.mode, rate.request_rate_qps, rate.value) == ("request_rate", 2.5, 2.5)

    def test_guidellm_needs_the_engine(self) -> None:
        with pytest.raises(InputError, match=r"benchmarks\[0\].*engine"):
            import_guidellm_json(FIXTURES / "guidellm_benchmarks.json", gpu="A100")

    def test_unknown_strategy_is_named(self, tmp_path: Path) -> None:
        data = json.loads((FIXTURES / "guidellm_benchmarks.json").read_text())
        data["benchmarks"][1]["args"]["strategy"]["type_"] = "sometimes"
        path = write(tmp_path, "g.json", json.dumps(data))
        with pytest.raises(InputError, match=r"benchmarks\[1\].*'strategy.type_' is 'sometimes'"):
            import_guidellm_json(path, gpu="H100", engine="vLLM")


class TestTrtllmBenchText:
    def test_v017_report(self) -> None:
        ms = by_metric(import_trtllm_bench_text(FIXTURES / "trtllm_bench_v017.txt",
                                                gpu="H100-SXM-80GB"))  # fmt: skip
        tput = ms["output_throughput_tok_s"]
        assert (tput.model, tput.engine, tput.engine_version) == (
            "meta-llama/Llama-3.1-8B", "TensorRT-LLM", "0.17.0",
        )  # fmt: skip
        assert (tput.weight_dtype, tput.kv_dtype, tput.tp, tput.pp) == ("fp8", "fp8", 1, 1)
        assert (tput.mode, tput.isl, tput.osl, tput.value) == ("max_throughput", 128, 128, 21000.5)
        assert ms["request_throughput_req_s"].value == 164.0664
        assert set(ms) == {"output_throughput_tok_s", "request_throughput_req_s"}

    def test_pytorch_streaming_report(self) -> None:
        ms = by_metric(import_file(FIXTURES / "trtllm_bench_pytorch.txt", gpu="H200-SXM-141GB",
                                   concurrency=64))  # fmt: skip
        tput = ms["output_throughput_tok_s"]
        assert (tput.tp, tput.ep, tput.num_gpus, tput.kv_dtype) == (4, 1, 4, "auto")
        assert (tput.mode, tput.concurrency, tput.value) == ("closed_loop", 64, 2969.6)
        assert ms["output_throughput_per_gpu_tok_s"].value == 742.4  # 2969.6 / 4
        assert ms["ttft_mean_s"].value == pytest.approx(0.510)
        assert ms["tpot_mean_s"].value == pytest.approx(0.0209814)
        assert ms["e2e_mean_s"].value == pytest.approx(21.974)

    def test_report_without_throughput_is_refused(self, tmp_path: Path) -> None:
        text = "\n".join(
            line for line in (FIXTURES / "trtllm_bench_v017.txt").read_text().splitlines()
            if not line.startswith("Token Throughput")
        )  # fmt: skip
        with pytest.raises(InputError, match="no 'Token Throughput"):
            import_trtllm_bench_text(write(tmp_path, "t.txt", text), gpu="H100")

    def test_gpu_is_required(self) -> None:
        with pytest.raises(InputError, match=r"does not state the gpu.*--gpu"):
            import_trtllm_bench_text(FIXTURES / "trtllm_bench_v017.txt")


class TestLlamaBench:
    def test_json(self) -> None:
        pp, tg, pg = import_llama_bench(FIXTURES / "llama_bench.json")
        assert (pp.metric, pp.value) == ("prefill_throughput_tok_s", 7100.0)
        assert (pp.isl, pp.osl) == (512, 0)
        assert (tg.metric, tg.value, tg.isl, tg.osl) == ("decode_throughput_tok_s", 118.9, 0, 128)
        assert (pg.metric, pg.isl, pg.osl) == ("e2e_mean_s", 512, 128)
        assert pg.value == pytest.approx(1.15)  # 1,150,000,000 ns
        assert (pp.gpu, pp.engine, pp.engine_version) == (
            "NVIDIA GeForce RTX 4090", "llama.cpp", "b5163 (8cf427ff)",
        )  # fmt: skip
        assert (pp.weight_dtype, pp.kv_dtype, pp.mode, pp.concurrency) == (
            "q4_0", "f16", "static_batch", 1,
        )  # fmt: skip

    def test_csv_two_gpus_split_by_layer(self) -> None:
        pp, tg = import_file(FIXTURES / "llama_bench.csv", model="Qwen/Qwen2.5-7B-Instruct")
        assert (pp.model, pp.weight_dtype, pp.kv_dtype) == (
            "Qwen/Qwen2.5-7B-Instruct", "q4_k_m", "q8_0",
        )  # fmt: skip
        assert (pp.num_gpus, pp.pp, pp.tp) == (2, 2, 1)
        assert pp.value == pytest.approx(7285.676949)
        assert (tg.metric, tg.isl, tg.osl) == ("decode_throughput_tok_s", 512, 128)  # depth 512

    def test_bad_rate_is_named(self, tmp_path: Path) -> None:
        text = (FIXTURES / "llama_bench.csv").read_text().replace('"119.915244"', '"fast"')
        with pytest.raises(InputError, match=r"row 2.*'avg_ts' must be a number, got 'fast'"):
            import_llama_bench(write(tmp_path, "b.csv", text))


class TestFactsFromOptions:
    """Options fill only what a file does not state; a contradiction names field and values."""

    def test_model_option_contradicting_the_file_is_refused(self) -> None:
        with pytest.raises(
            InputError,
            match=r"the file says model 'meta-llama/Llama-3\.1-8B-Instruct', but --model gives "
            r"'llama-3\.1-70b'; drop --model or fix the file",
        ):
            import_file(FIXTURES / "vllm_bench_serve.json", gpu="H100", model="llama-3.1-70b")

    def test_llama_bench_csv_keeps_its_model_and_gpus(self) -> None:
        path = FIXTURES / "llama_bench.csv"
        with pytest.raises(InputError, match=r"row 1\).*the file says model 'models/Qwen2\.5"):
            import_file(path, model="llama-3.1-8b")
        with pytest.raises(
            InputError,
            match=r"the file says gpu 'NVIDIA GeForce RTX 4080', but --gpu gives 'H100'; drop",
        ):
            import_file(path, gpu="H100")
        with pytest.raises(InputError, match=r"the file says num_gpus 2, but --num-gpus gives 1"):
            import_file(path, num_gpus=1)

    def test_agreeing_spellings_are_accepted_and_the_file_wins(self) -> None:
        ms = import_file(
            FIXTURES / "vllm_bench_serve.json", gpu="H100", model="llama-3.1-8b", tp=1,
            engine="vllm", concurrency=16, isl=1024,
        )  # fmt: skip
        assert {(m.gpu, m.model, m.engine, m.tp, m.concurrency) for m in ms} == {
            ("H100-SXM-80GB", "meta-llama/Llama-3.1-8B-Instruct", "vLLM", 1, 16)
        }

    @pytest.mark.parametrize(
        ("facts", "message"),
        [
            ({"tp": 2}, "the file says tp 1, but --tp gives 2"),
            ({"isl": 2048}, "the file says isl 1024, but --isl gives 2048"),
            ({"engine": "SGLang"}, "the file says engine 'vLLM', but --engine gives 'SGLang'"),
            (
                {"concurrency": 8},
                "the file says the load is a closed loop of 16 clients, but --concurrency "
                "gives 8; drop --concurrency or fix the file",
            ),
        ],
    )
    def test_each_stated_fact_is_checked(self, facts: dict[str, object], message: str) -> None:
        with pytest.raises(InputError, match=re.escape(message)):
            import_file(FIXTURES / "vllm_bench_serve.json", **facts)  # type: ignore[arg-type]

    def test_trtllm_file_model_wins_over_a_different_option(self) -> None:
        with pytest.raises(
            InputError, match=re.escape("the file says model 'meta-llama/Llama-3.1-8B'")
        ):
            import_file(FIXTURES / "trtllm_bench_v017.txt", gpu="H100", model="qwen2.5-7b")
        with pytest.raises(InputError, match="the file says weight_dtype 'fp8'"):
            import_file(FIXTURES / "trtllm_bench_v017.txt", gpu="H100", weight_dtype="bf16")

    def test_unknown_gpu_option_lists_candidates(self) -> None:
        with pytest.raises(UnknownNameError, match=r"Unknown GPU 'H10'\. Did you mean: .*h100"):
            import_file(FIXTURES / "sglang_bench_serving.jsonl", model="llama-3.1-8b", gpu="H10")

    def test_names_unknown_to_the_catalog_are_noted(self) -> None:
        pp, _ = import_file(FIXTURES / "llama_bench.csv")
        assert "GPU 'NVIDIA GeForce RTX 4080' is not in the catalog" in pp.notes
        aiperf = import_file(FIXTURES / "profile_export_aiperf.json", gpu="H100", engine="vLLM")
        # Qwen/Qwen3-0.6B joined the catalog in the ninth session: no note for it now
        assert "is not in the catalog" not in aiperf[0].notes
        assert aiperf[0].model == "Qwen/Qwen3-0.6B"
        unknown = import_file(
            FIXTURES / "sglang_bench_serving.jsonl", model="acme/house-model-7b", gpu="H100"
        )
        assert "model 'acme/house-model-7b' is not in the catalog" in unknown[0].notes
        assert unknown[0].model == "acme/house-model-7b"  # kept: it may be a user's model


class TestDetection:
    @pytest.mark.parametrize(
        ("name", "kind"),
        [
            ("calibration_sample.csv", "calibration-csv"),
            ("vllm_bench_serve.json", "vllm"),
            ("sglang_bench_serving.jsonl", "sglang"),
            ("profile_export_genai_perf.json", "genai-perf"),
            ("profile_export_aiperf.json", "genai-perf"),
            ("guidellm_benchmarks.json", "guidellm"),
            ("trtllm_bench_v017.txt", "trtllm-bench"),
            ("trtllm_bench_pytorch.txt", "trtllm-bench"),
            ("llama_bench.json", "llama-bench"),
            ("llama_bench.csv", "llama-bench"),
        ],
    )
    def test_each_fixture_is_recognised(self, name: str, kind: str) -> None:
        assert detect_format(FIXTURES / name) == kind

    def test_markdown_that_mentions_trtllm_bench_is_not_a_report(self) -> None:
        # fixtures/README.md names '= PERFORMANCE OVERVIEW' and 'Request Throughput (req/sec)'.
        with pytest.raises(
            InputError, match=r"README\.md: format not recognised; supported: calibration-csv"
        ):
            detect_format(FIXTURES / "README.md")

    def test_trtllm_banner_without_a_metric_line_is_not_a_report(self, tmp_path: Path) -> None:
        text = "= PERFORMANCE OVERVIEW\nRequest Throughput (req/sec) is the rate.\n"
        with pytest.raises(InputError, match="format not recognised"):
            detect_format(write(tmp_path, "notes.txt", text))

    def test_unknown_content_lists_the_formats(self, tmp_path: Path) -> None:
        with pytest.raises(InputError, match="format not recognised; supported: calibration-csv"):
            import_file(write(tmp_path, "x.txt", "hello\n"))

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(InputError, match="no such file"):
            import_file(tmp_path / "absent.json")


_HEADER = (
    "id,source,title,date,engine,engine_version,model,gpu,num_gpus,tp,pp,weight_dtype,"
    "kv_dtype,isl,osl,concurrency,metric,value,unit,notes\n"
)


def _rows(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "rows.csv"
    path.write_text(_HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def test_calibration_csv_layouts_dep_and_layout_token(tmp_path: Path) -> None:
    # calibration_trtllm_1x.csv: blank tp, 'DEP8' in the notes -> tp 1, dp = ep = 8.
    # closed_loop_hopper.csv: the '[layout ...]' token gives tp, ep, attention-DP and pp.
    path = _rows(
        tmp_path,
        "A-1,s,t,,TensorRT-LLM,1.0,deepseek-ai/DeepSeek-R1,H200,8,,1,fp8,fp8,1000,1000,"
        "max (offline),output_throughput,100,tok/s (all GPUs),DEP8 layout",
        "A-2,s,t,,SGLang,0.5,deepseek-ai/DeepSeek-R1,H200,8,8,1,fp8,fp8,1000,1000,"
        "concurrency=64,ttft_mean,500,ms,x [layout gpus=8 tp=8 ep=8 adp=1 pp=1 replicas=1]",
        "A-3,s,t,,vLLM,0.9,deepseek-ai/DeepSeek-R1,H200,8,8,1,fp8,fp8,1000,1000,"
        "concurrency=64,ttft_mean,500,ms,x [layout gpus=8 tp=1 ep=8 adp=8 pp=1 replicas=1]",
    )
    got = {m.id: (m.num_gpus, m.tp, m.pp, m.ep, m.dp) for m in import_calibration_csv(path)}
    assert got == {"A-1": (8, 1, 1, 8, 8), "A-2": (8, 8, 1, 8, 1), "A-3": (8, 1, 1, 8, 8)}


def test_calibration_csv_unreadable_rows_are_listed_not_dropped(tmp_path: Path) -> None:
    path = _rows(
        tmp_path,
        "B-1,s,t,,vLLM,0.9,llama-3.1-8b,H100,1,1,1,bf16,bf16,1000,1000,"
        "not stated (batch_size=28),ttft_mean,500,ms,x",
        "B-2,s,t,,vLLM,0.9,llama-3.1-8b,H100,1,1,1,bf16,bf16,1000,1000,"
        "concurrency=4,ttft_mean,50,ms,x",
    )
    with pytest.raises(InputError, match=r"B-1.*concurrency"):
        import_calibration_csv(path)
    rejected: list[tuple[str, str]] = []
    kept = import_calibration_csv(path, rejected)
    assert [m.id for m in kept] == ["B-2"]
    assert [r[0] for r in rejected] == ["B-1"] and "not stated" in rejected[0][1]


def test_a_run_naming_several_models_needs_model(tmp_path: Path) -> None:
    # QA: a genai-perf run over two models was read as the first one's, silently; its metrics
    # mix both, so the importer asks which one (--model / model=)
    src = Path(__file__).parent / "fixtures" / "profile_export_genai_perf.json"
    doc = json.loads(src.read_text())
    doc["input_config"]["model"] = [
        "meta-llama/Llama-3.1-8B-Instruct",
        "meta-llama/Llama-3.1-70B-Instruct",
    ]
    path = tmp_path / "two.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match="does not state the model"):
        import_file(path, gpu="H100", engine="vllm")
    got = import_file(path, gpu="H100", engine="vllm", model="meta-llama/Llama-3.1-70B-Instruct")
    assert {m.model for m in got} == {"meta-llama/Llama-3.1-70B-Instruct"}
