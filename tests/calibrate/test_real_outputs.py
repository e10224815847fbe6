"""Importers on benchmark files as the tools write them today (issue 15).

``fixtures/real/`` holds outputs copied from public repositories and documentation (origins in
fixtures/README.md); the other fixtures used here are hand-written from each tool's documented
layout where no real file could be found. Every expected value is derived by hand from the
file, with the arithmetic in a comment.
"""

from __future__ import annotations

import json
import tomllib
from datetime import date
from pathlib import Path

import pytest

from infercost.calibrate.fit import FitResult
from infercost.calibrate.importers import (
    detect_format,
    import_file,
    import_genai_perf_json,
    import_guidellm_json,
    import_llama_bench,
    import_trtllm_bench,
    import_vllm_json,
)
from infercost.calibrate.measurement import Measurement
from infercost.cli.calibrate_fit import write_profile
from infercost.errors import InputError

FIXTURES = Path(__file__).parent / "fixtures"
REAL = FIXTURES / "real"


def by_metric(measurements: list[Measurement]) -> dict[str, Measurement]:
    keyed = {m.metric: m for m in measurements}
    assert len(keyed) == len(measurements)
    return keyed


def write_json(tmp_path: Path, name: str, data: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------
# vLLM benchmark_serving.py --save-result --append-result (JSON Lines)


class TestVllmAppendedResults:
    PATH = REAL / "vllm_benchmark_serving_append.jsonl"

    def test_json_lines_are_detected_and_read_as_three_runs(self) -> None:
        assert detect_format(self.PATH) == "vllm"
        ms = import_vllm_json(self.PATH)
        # 7 metrics per run: output/request throughput, TTFT mean/p50/p99, TPOT, ITL
        assert len(ms) == 3 * 7

    def test_first_run_values(self) -> None:
        run = by_metric(import_vllm_json(self.PATH)[:7])
        out = run["output_throughput_tok_s"]
        assert out.value == pytest.approx(2249.247363167692)
        assert run["request_throughput_req_s"].value == pytest.approx(8.325406649602808)
        assert run["ttft_mean_s"].value == pytest.approx(54.577085783294024e-3)
        assert run["ttft_p50_s"].value == pytest.approx(52.999333499883505e-3)
        assert run["ttft_p99_s"].value == pytest.approx(89.76647855975897e-3)
        assert run["tpot_mean_s"].value == pytest.approx(13.577995860227945e-3)
        assert run["itl_mean_s"].value == pytest.approx(13.505887271504633e-3)
        assert out.model == "meta-llama/Llama-3.2-3B-Instruct"
        assert out.engine == "vLLM"  # backend "vllm"
        # isl = 299,700 / 300 = 999; osl = 81,050 / 300 = 270.17 -> 270
        assert (out.isl, out.osl) == (999, 270)
        assert (out.mode, out.request_rate_qps, out.concurrency) == ("request_rate", 10.0, None)

    def test_gpu_with_a_count_is_four_gpus_of_that_kind(self) -> None:
        out = import_vllm_json(self.PATH)[0]
        # --metadata gpu=4xNVIDIA_L40S
        assert (out.gpu, out.num_gpus) == ("NVIDIA_L40S", 4)
        assert "'4xNVIDIA_L40S' read as 4 x NVIDIA_L40S" in out.notes

    def test_infinite_rate_in_the_third_run(self) -> None:
        third = import_vllm_json(self.PATH)[14]
        assert (third.mode, third.request_rate_qps) == ("request_rate", None)  # "inf"
        assert third.value == pytest.approx(11481.016525153933)
        # 240,163 / 900 = 266.85 -> 267
        assert third.osl == 267

    def test_agreeing_options_are_accepted(self) -> None:
        ms = import_vllm_json(
            self.PATH, gpu="L40S", model="meta-llama/Llama-3.2-3B-Instruct", num_gpus=4
        )
        assert ms[0].num_gpus == 4

    def test_a_gpu_count_that_contradicts_the_name_is_an_error(self) -> None:
        with pytest.raises(InputError, match=r"num_gpus 4.*--num-gpus gives 2"):
            import_vllm_json(self.PATH, num_gpus=2)

    def test_a_broken_line_names_it(self, tmp_path: Path) -> None:
        lines = self.PATH.read_text(encoding="utf-8").splitlines()
        path = tmp_path / "r.jsonl"
        path.write_text(lines[0] + "\n" + lines[1][:-5] + "\n", encoding="utf-8")
        with pytest.raises(InputError, match=r"line 2.*invalid JSON"):
            import_vllm_json(path)


# --------------------------------------------------------------------------------------------
# guidellm 0.6.0 report (config.backend.model, request_totals)


class TestGuidellmReport:
    PATH = REAL / "guidellm_v060_errored.json"

    def test_mostly_errored_benchmark_stops_the_import_with_the_counts(self) -> None:
        # 500 errored of 531 = 94% > 10%
        with pytest.raises(
            InputError, match=r"benchmarks\[0\].*500 of 531 requests errored \(94%"
        ):
            import_guidellm_json(self.PATH, gpu="H200", engine="vLLM")

    def test_with_a_rejected_list_it_is_reported_and_nothing_is_left(self) -> None:
        rejected: list[tuple[str, str]] = []
        with pytest.raises(InputError, match="every benchmark was excluded"):
            import_file(self.PATH, rejected=rejected, gpu="H200", engine="vLLM")
        assert [where for where, _ in rejected] == ["benchmarks[0]"]

    def _healthy(self, tmp_path: Path, benchmarks: int = 1) -> Path:
        data = json.loads(self.PATH.read_text(encoding="utf-8"))
        good = json.loads(json.dumps(data["benchmarks"][0]))
        good["metrics"]["request_totals"] = {
            "successful": 531, "errored": 0, "incomplete": 0, "total": 531,
        }  # fmt: skip
        data["benchmarks"] = (
            [good] * benchmarks if benchmarks == 1 else [data["benchmarks"][0], good]
        )
        return write_json(tmp_path, "g.json", data)

    def test_model_strategy_and_values_of_the_same_layout(self, tmp_path: Path) -> None:
        ms = by_metric(import_guidellm_json(self._healthy(tmp_path), gpu="H200", engine="vLLM"))
        out = ms["output_throughput_tok_s"]
        assert out.model == "deepseek-ai/DeepSeek-R1-0528"  # config.backend.model
        assert (out.mode, out.concurrency) == ("closed_loop", 32)  # concurrent, streams 32
        assert out.value == pytest.approx(51.76)
        assert ms["request_throughput_req_s"].value == pytest.approx(2.49)
        assert ms["ttft_mean_s"].value == pytest.approx(49.23e-3)
        assert ms["ttft_p50_s"].value == pytest.approx(48.7e-3)  # the median
        assert ms["ttft_p99_s"].value == pytest.approx(77.79e-3)
        assert ms["itl_mean_s"].value == pytest.approx(6.79e-3)
        # no mean: total_sum / count = 208,831 / 500 = 417.7 -> 418; 19,128 / 500 = 38.3 -> 38
        assert (out.isl, out.osl) == (418, 38)
        assert "531 of 531 requests successful" in out.notes

    def test_one_bad_benchmark_of_two_is_excluded_and_said(self, tmp_path: Path) -> None:
        rejected: list[tuple[str, str]] = []
        ms = import_file(self._healthy(tmp_path, 2), rejected=rejected, gpu="H200", engine="vLLM")
        assert {m.metric for m in ms} >= {"output_throughput_tok_s"}
        assert len(ms) == 6  # only benchmarks[1]: tok/s, req/s, TTFT mean/p50/p99, ITL
        assert rejected[0][0] == "benchmarks[0]" and "94%" in rejected[0][1]

    def test_older_worker_layout_still_reads_the_model(self) -> None:
        ms = import_guidellm_json(FIXTURES / "guidellm_benchmarks.json", gpu="H100", engine="vLLM")
        assert ms[0].model  # worker.backend_model (0.2-0.3 layout)


# --------------------------------------------------------------------------------------------
# llama-bench -o md (the default table), short CSV rows


class TestLlamaBenchMarkdown:
    def test_depth_table_from_the_readme(self) -> None:
        path = REAL / "llama_bench_md_depth.md"
        assert detect_format(path) == "llama-bench"
        pp, tg, pp_d, tg_d = import_llama_bench(path, gpu="H100")
        assert (pp.metric, pp.value, pp.isl) == ("prefill_throughput_tok_s", 7340.20, 512)
        assert (tg.metric, tg.value, tg.osl) == ("decode_throughput_tok_s", 120.60, 128)
        assert (pp_d.value, tg_d.value) == (6425.91, 116.71)
        assert "n_depth=512" in pp_d.notes and "n_depth=512" in tg_d.notes
        assert pp.weight_dtype == "q4_k_m"  # "qwen2 7B Q4_K - Medium"
        assert pp.model == "qwen2 7B Q4_K - Medium"  # the table names the type, not the file
        assert (pp.mode, pp.concurrency) == ("static_batch", 1)

    def test_older_spacing_pp_512(self) -> None:
        pp, tg = import_llama_bench(REAL / "llama_bench_md_old.md", gpu="H100")
        assert (pp.value, pp.isl, tg.value, tg.osl) == (2368.80, 512, 131.42, 128)
        assert pp.weight_dtype == "q4_0"

    def test_the_table_names_no_gpu(self) -> None:
        with pytest.raises(InputError, match="--gpu"):
            import_llama_bench(REAL / "llama_bench_md_old.md")

    def test_pp_tg_test_is_end_to_end_time_from_its_rate(self, tmp_path: Path) -> None:
        text = (REAL / "llama_bench_md_old.md").read_text(encoding="utf-8")
        text += (
            "| llama 7B mostly Q4_0 | 3.56 GiB | 6.74 B | CUDA | -1 | pp512+tg128 "
            "| 100.00 ± 1.00 |\n"
        )
        path = tmp_path / "t.md"
        path.write_text(text, encoding="utf-8")
        pg = import_llama_bench(path, gpu="H100")[2]
        # (512 + 128) tokens / 100 t/s = 6.4 s
        assert (pg.metric, pg.value, pg.isl, pg.osl) == (
            "e2e_mean_s",
            pytest.approx(6.4),
            512,
            128,
        )

    def test_a_cut_table_row_names_the_line(self, tmp_path: Path) -> None:
        text = (REAL / "llama_bench_md_old.md").read_text(encoding="utf-8")
        path = tmp_path / "t.md"
        path.write_text(text + "| llama 7B mostly Q4_0 | 3.56 GiB |\n", encoding="utf-8")
        with pytest.raises(InputError, match=r"line 5.*2 cells but the header has 7 columns"):
            import_llama_bench(path, gpu="H100")

    def test_a_short_csv_row_names_the_line_and_counts(self, tmp_path: Path) -> None:
        lines = (FIXTURES / "llama_bench.csv").read_text(encoding="utf-8").splitlines()
        header = lines[0].count(",") + 1
        short = ",".join(lines[1].split(",")[:3])
        path = tmp_path / "b.csv"
        path.write_text(lines[0] + "\n" + short + "\n", encoding="utf-8")
        with pytest.raises(InputError, match=rf"line 2.*3 cells but the header has {header}"):
            import_llama_bench(path, gpu="H100")


# --------------------------------------------------------------------------------------------
# trtllm-bench: text report with "Number of concurrent requests", --report_json


class TestTrtllmBench:
    TEXT = REAL / "trtllm_bench_multimodal.txt"

    def test_text_report_values(self) -> None:
        ms = by_metric(
            import_trtllm_bench(self.TEXT, gpu="H100", model="Qwen/Qwen2-VL-2B-Instruct")
        )
        assert ms["request_throughput_req_s"].value == pytest.approx(1.4439)
        assert ms["output_throughput_tok_s"].value == pytest.approx(185.8351)
        assert ms["output_throughput_per_gpu_tok_s"].value == pytest.approx(185.8351)
        assert ms["e2e_mean_s"].value == pytest.approx(3.6718441)
        out = ms["output_throughput_tok_s"]
        # 411.6 -> 412, 128.7 -> 129, means of varying lengths
        assert (out.isl, out.osl) == (412, 129) and out.dataset is not None
        assert out.mode == "max_throughput" and out.ep == 1  # "EP Size: None"
        assert "5.3019 requests in flight on average" in out.notes

    def test_a_concurrency_below_the_measured_average_is_an_error(self) -> None:
        with pytest.raises(InputError, match=r"5\.3019 requests in flight.*--concurrency 4"):
            import_trtllm_bench(self.TEXT, gpu="H100", model="qwen2-vl", concurrency=4)

    def test_a_concurrency_above_it_is_a_closed_loop(self) -> None:
        out = import_trtllm_bench(self.TEXT, gpu="H100", model="qwen2-vl", concurrency=8)[0]
        assert (out.mode, out.concurrency) == ("closed_loop", 8)

    def test_report_json(self) -> None:
        path = FIXTURES / "trtllm_bench_report.json"
        assert detect_format(path) == "trtllm-bench"
        ms = by_metric(import_file(path))
        out = ms["output_throughput_tok_s"]
        assert (out.model, out.gpu) == ("meta-llama/Llama-3.1-8B", "NVIDIA H100 80GB HBM3")
        assert (out.num_gpus, out.tp, out.pp, out.ep) == (2, 2, 1, 1)  # world_size, tp_size
        assert (out.weight_dtype, out.kv_dtype) == ("fp8", "fp8")  # quantization, kv_cache_dtype
        assert (out.engine, out.engine_version) == ("TensorRT-LLM", "1.0.0")
        assert (out.isl, out.osl, out.mode) == (128, 128, "max_throughput")
        assert out.value == 25600.0
        assert ms["request_throughput_req_s"].value == 200.0
        assert ms["output_throughput_per_gpu_tok_s"].value == 12800.0
        assert ms["e2e_mean_s"].value == pytest.approx(5.0)
        assert ms["ttft_mean_s"].value == pytest.approx(0.150)
        assert ms["tpot_mean_s"].value == pytest.approx(0.03819)
        assert (ms["ttft_p50_s"].value, ms["ttft_p99_s"].value) == (
            pytest.approx(0.140),
            pytest.approx(0.400),
        )
        assert "1000 requests in flight on average" in out.notes

    def test_report_json_without_output_throughput(self, tmp_path: Path) -> None:
        data = json.loads((FIXTURES / "trtllm_bench_report.json").read_text(encoding="utf-8"))
        del data["performance"]["system_output_throughput_tok_s"]
        with pytest.raises(InputError, match="system_output_throughput_tok_s"):
            import_file(write_json(tmp_path, "r.json", data))


class TestTrtllmBenchReportJsonReal:
    """trtllm-bench 1.1.0rc2 --report_json of gpt-oss-120b with Eagle speculative decoding
    (fixtures/README.md): no ``machine`` block, no ``streaming_metrics`` (no --streaming),
    ``dataset`` with ``isl_stats`` / ``osl_stats``, ``decoding_stats``."""

    PATH = REAL / "trtllm_bench_report_gptoss_eagle.json"

    def test_detected_and_the_gpu_must_be_given(self) -> None:
        assert detect_format(self.PATH) == "trtllm-bench"
        with pytest.raises(InputError, match=r"does not state the gpu.*--gpu"):
            import_file(self.PATH)  # no "machine" block in this file

    def test_values(self) -> None:
        ms = by_metric(import_trtllm_bench(self.PATH, gpu="H100"))
        # no streaming_metrics: no TTFT / TPOT rows
        assert set(ms) == {
            "output_throughput_tok_s",
            "request_throughput_req_s",
            "output_throughput_per_gpu_tok_s",
            "e2e_mean_s",
        }
        # 1,000 requests x 512 output tokens / 135.775587844 s = 3,770.93 tok/s
        assert ms["output_throughput_tok_s"].value == pytest.approx(3770.9282510215667)
        # 1,000 / 135.775587844 s = 7.3651 req/s
        assert ms["request_throughput_req_s"].value == pytest.approx(7.365094240276497)
        # 3,770.93 / world_size 8 = 471.37 tok/s per GPU
        assert ms["output_throughput_per_gpu_tok_s"].value == pytest.approx(471.36603137769583)
        # avg_request_latency_ms 68,564.387094662 ms = 68.564 s
        assert ms["e2e_mean_s"].value == pytest.approx(68.564387094662)

    def test_configuration(self) -> None:
        out = import_trtllm_bench(self.PATH, gpu="H100")[0]
        assert out.model == "openai/gpt-oss-120b"
        assert (out.engine, out.engine_version) == ("TensorRT-LLM", "1.1.0rc2")
        # tp_size 8, pp_size 1, ep_size 4, world_size 8: 8 GPUs = one tp x pp unit, dp 1
        assert (out.num_gpus, out.tp, out.pp, out.ep, out.dp) == (8, 8, 1, 4, 1)
        # quantization W4A8_MXFP4_MXFP8: MXFP4 weights; kv_cache_dtype null: auto
        assert (out.weight_dtype, out.kv_dtype) == ("mxfp4", "auto")
        assert "W4A8_MXFP4_MXFP8 read as weight dtype mxfp4" in out.notes
        # isl_stats / osl_stats minimum == maximum == 512: fixed lengths, no distribution
        assert (out.isl, out.osl, out.dataset) == (512, 512, None)
        assert "does not say if they varied" not in out.notes
        assert (out.mode, out.concurrency) == ("max_throughput", None)

    def test_in_flight_and_speculative_decoding_are_noted(self) -> None:
        out = import_trtllm_bench(self.PATH, gpu="H100")[0]
        # Little's law: 7.3651 req/s x 68.564 s = 504.98 = avg_num_concurrent_requests
        assert "504.983 requests in flight on average" in out.notes
        # decoding_stats: mode Eagle, acceptance_length_percentiles.average 2.3582
        assert "speculative decoding (Eagle, 2.36 tokens accepted per step" in out.notes

    def test_max_batch_size_is_not_the_client_load(self) -> None:
        # max_batch_size 10, yet 504.98 requests were in flight (queued ones count)
        with pytest.raises(InputError, match=r"504\.983 requests in flight.*--concurrency 10"):
            import_trtllm_bench(self.PATH, gpu="H100", concurrency=10)


# --------------------------------------------------------------------------------------------
# genai-perf / AIPerf input_config layouts, non-streaming runs, Triton "ensemble"


class TestProfileExports:
    AIPERF = FIXTURES / "profile_export_aiperf_v08.json"
    ENSEMBLE = FIXTURES / "profile_export_genai_perf_ensemble.json"

    def test_aiperf_08_phases_and_models_items(self) -> None:
        ms = by_metric(import_genai_perf_json(self.AIPERF, gpu="H100", engine="vLLM"))
        out = ms["output_throughput_tok_s"]
        assert out.model == "meta-llama/Llama-3.1-8B-Instruct"  # models.items[0].name
        assert (out.mode, out.concurrency) == ("closed_loop", 16)  # phases: profiling
        assert (out.isl, out.osl, out.dataset) == (512, 128, None)  # min == max
        assert out.value == 1024.0  # 8 req/s x 128
        assert ms["tpot_mean_s"].value == pytest.approx(14.173228e-3)  # (2000-200)/127 ms
        assert ms["ttft_mean_s"].value == pytest.approx(0.2)
        assert "AIPerf >= 0.8 layout" in out.notes

    def test_aiperf_phases_as_a_mapping(self, tmp_path: Path) -> None:
        data = json.loads(self.AIPERF.read_text(encoding="utf-8"))
        data["input_config"]["phases"] = {"profiling": {"type": "concurrency", "concurrency": 64}}
        out = import_genai_perf_json(
            write_json(tmp_path, "a.json", data), gpu="H100", engine="vLLM"
        )[0]
        assert out.concurrency == 64

    def test_aiperf_missing_load_names_the_field(self, tmp_path: Path) -> None:
        data = json.loads(self.AIPERF.read_text(encoding="utf-8"))
        for phase in data["input_config"]["phases"]:
            del phase["concurrency"]
        path = write_json(tmp_path, "a.json", data)
        with pytest.raises(InputError, match=r"phases\.profiling\.concurrency.*--concurrency"):
            import_genai_perf_json(path, gpu="H100", engine="vLLM")
        assert (
            import_genai_perf_json(path, gpu="H100", engine="vLLM", concurrency=3)[0].concurrency
            == 3
        )

    def test_old_genai_perf_layout_missing_load_names_its_field(self, tmp_path: Path) -> None:
        data = json.loads(
            (FIXTURES / "profile_export_genai_perf.json").read_text(encoding="utf-8")
        )
        data["input_config"].pop("concurrency", None)
        data["input_config"].pop("request_rate", None)
        with pytest.raises(
            InputError, match=r"input_config\.concurrency or input_config\.request_rate"
        ):
            import_genai_perf_json(write_json(tmp_path, "g.json", data), gpu="H100", engine="vLLM")

    def test_ensemble_needs_a_model_option(self) -> None:
        with pytest.raises(InputError, match=r"'ensemble'.*--model"):
            import_genai_perf_json(self.ENSEMBLE, gpu="H100")

    def test_ensemble_gives_way_to_the_option_and_nonstreaming_drops_ttft(self) -> None:
        ms = by_metric(import_genai_perf_json(self.ENSEMBLE, gpu="H100", model="llama-3.1-8b"))
        # streaming false: TTFT (= request latency) and ITL (= 0) are not measurements
        assert set(ms) == {"output_throughput_tok_s", "request_throughput_req_s", "e2e_mean_s"}
        out = ms["output_throughput_tok_s"]
        assert out.model == "llama-3.1-8b" and "'ensemble'" in out.notes
        assert out.engine == "TensorRT-LLM"  # service_kind triton, backend tensorrtllm
        assert (out.mode, out.concurrency) == ("closed_loop", 4)  # perf_analyzer.stimulus
        assert out.value == pytest.approx(682.6666667)
        assert ms["e2e_mean_s"].value == pytest.approx(1.5)
        assert "not a streaming run" in out.notes

    def test_streaming_not_stated_but_ttft_equals_latency(self, tmp_path: Path) -> None:
        data = json.loads(self.ENSEMBLE.read_text(encoding="utf-8"))
        del data["input_config"]["endpoint"]["streaming"]
        ms = import_genai_perf_json(write_json(tmp_path, "g.json", data), gpu="H100", model="x")
        assert "ttft_mean_s" not in {m.metric for m in ms}
        assert "TTFT equals the request latency" in ms[0].notes


class TestProfileExportsReal:
    """AIPerf 0.8.0 exports of aiperf's own audit run against its mock server (a bare CLI run
    and the Kubernetes operator's run of it) and a genai-perf Triton TensorRT-LLM ``ensemble``
    export pasted in perf_analyzer issue #298 (fixtures/README.md)."""

    BARE = REAL / "profile_export_aiperf_v080_bare.json"
    OPERATOR = REAL / "profile_export_aiperf_v080_operator.json"
    ENSEMBLE = REAL / "profile_export_genai_perf_ensemble_issue298.json"

    def test_aiperf_states_no_engine(self) -> None:
        assert detect_format(self.BARE) == "genai-perf"
        with pytest.raises(InputError, match=r"AIPerf output does not state the engine"):
            import_file(self.BARE, gpu="H100")

    def test_aiperf_bare_run(self) -> None:
        ms = by_metric(import_genai_perf_json(self.BARE, gpu="H100", engine="vLLM"))
        # no time_to_first_token / inter_token_latency blocks in the file
        assert set(ms) == {"output_throughput_tok_s", "request_throughput_req_s", "e2e_mean_s"}
        out = ms["output_throughput_tok_s"]
        assert out.model == "mock-model"  # input_config.models.items[0].name
        # phases: [{"name": "profiling", "concurrency": 4}]
        assert (out.mode, out.concurrency, out.request_rate_qps) == ("closed_loop", 4, None)
        # total_output_tokens 35,277 / benchmark_duration 0.034502655 s = 1,022,443 tok/s
        assert out.value == pytest.approx(1022443.0554692096)
        # request_count 64 / 0.034502655 s = 1,854.93 req/s
        assert ms["request_throughput_req_s"].value == pytest.approx(1854.929714829192)
        # request_latency avg 1.516322453125 ms
        assert ms["e2e_mean_s"].value == pytest.approx(1.516322453125e-3)
        # isl 550 (min == max); osl 35,277 / 64 = 551.2 -> 551, min 440 != max 653: varying
        assert (out.isl, out.osl) == (550, 551)
        assert out.dataset == "AIPerf inputs (isl/osl are means per completed request)"
        assert "AIPerf profile export (AIPerf >= 0.8 layout)" in out.notes
        assert "not a streaming run" not in out.notes  # endpoint.streaming absent

    def test_aiperf_operator_run_states_streaming_false(self) -> None:
        ms = by_metric(import_genai_perf_json(self.OPERATOR, gpu="H100", engine="vLLM"))
        assert set(ms) == {"output_throughput_tok_s", "request_throughput_req_s", "e2e_mean_s"}
        out = ms["output_throughput_tok_s"]
        # models: {"strategy": "round_robin", "items": [{"name": "mock-model"}]}
        assert (out.model, out.mode, out.concurrency) == ("mock-model", "closed_loop", 4)
        # 35,795 / 0.033086618 s = 1,081,857 tok/s; 64 / 0.033086618 s = 1,934.32 req/s
        assert out.value == pytest.approx(1081857.3237071251)
        assert ms["request_throughput_req_s"].value == pytest.approx(1934.3167681870655)
        assert ms["e2e_mean_s"].value == pytest.approx(0.838660125e-3)
        # osl 35,795 / 64 = 559.3 -> 559
        assert (out.isl, out.osl) == (550, 559)
        assert "not a streaming run (input_config says streaming false)" in out.notes

    def test_genai_perf_ensemble_needs_the_model(self) -> None:
        assert detect_format(self.ENSEMBLE) == "genai-perf"
        with pytest.raises(InputError, match=r"'ensemble'.*--model"):
            import_genai_perf_json(self.ENSEMBLE, gpu="H100")

    def test_genai_perf_ensemble_values(self) -> None:
        ms = by_metric(import_genai_perf_json(self.ENSEMBLE, gpu="H100", model="llama-3.1-8b"))
        # streaming false, TTFT block == request_latency block: both dropped, no ITL block
        assert set(ms) == {"output_throughput_tok_s", "request_throughput_req_s", "e2e_mean_s"}
        out = ms["output_throughput_tok_s"]
        assert out.engine == "TensorRT-LLM"  # service_kind triton, backend tensorrtllm
        assert (out.mode, out.concurrency) == ("closed_loop", 100)  # input_config.concurrency
        # 21.6218 req/s x mean OSL 567.84 = 12,277.7 tok/s
        assert out.value == pytest.approx(12277.70340876071)
        assert ms["request_throughput_req_s"].value == pytest.approx(21.621765653636075)
        # 4,610.6156 ms; Little's law: 21.62 req/s x 4.6106 s = 99.7 ~ 100 clients
        assert ms["e2e_mean_s"].value == pytest.approx(4.6106156361171425)
        # isl 200.85 -> 201, osl 567.84 -> 568, both varying (min != max)
        assert (out.isl, out.osl) == (201, 568)
        assert out.dataset == "genai-perf inputs (isl/osl are means per completed request)"
        assert "genai-perf profile export (genai-perf <= 0.0.12 layout)" in out.notes
        assert "not a streaming run (input_config says streaming false)" in out.notes


# --------------------------------------------------------------------------------------------
# calibrate fit --out: TOML written with tomli-w and read back


def test_profile_with_a_quote_in_the_file_name_reads_back(tmp_path: Path) -> None:
    fit = FitResult("vllm", {"mbu": 0.71234567, "mfu": 0.5}, 0.1234, 12, ('my "best" run',))
    provenance = 'runs/my "best" run.json'
    out = tmp_path / "engine_fits.toml"
    write_profile(out, {"vllm": fit}, date(2026, 1, 5), provenance)
    back = tomllib.loads(out.read_text(encoding="utf-8"))
    assert back["vllm"]["source"] == f"calibrate.fit on {provenance}"
    assert back["vllm"]["mbu"] == 0.712346  # 6 significant digits
    assert back["vllm"]["as_of"] == date(2026, 1, 5)
    assert back["vllm"]["fitted_on"].startswith('my "best" run (12 rows')


def test_the_api_profile_text_is_the_same_safe_toml() -> None:
    """The REST service returns profiles_toml's text: it parses, quote and all."""
    from infercost.calibrate.fit import profiles_toml

    fit = FitResult("vllm", {"mbu": 0.7}, 0.1, 3, ('x"y',))
    text = profiles_toml({"vllm": fit}, date(2026, 1, 5), 'run "1".json')
    assert tomllib.loads(text)["vllm"]["source"] == 'calibrate.fit on run "1".json'


def test_profile_write_to_a_missing_folder_parent_is_created(tmp_path: Path) -> None:
    fit = FitResult("vllm", {"mbu": 0.7}, 0.1, 3, ("a",))
    out = tmp_path / "new" / "engine_fits.toml"
    write_profile(out, {"vllm": fit}, date(2026, 1, 5), "a\nb")
    assert tomllib.loads(out.read_text(encoding="utf-8"))["vllm"]["mbu"] == 0.7


def test_gpus_beyond_one_tp_unit_are_data_parallel_replicas() -> None:
    """The llm-d run says gpu 4xNVIDIA_L40S with 4 decode replicas and no TP: 4 GPUs over
    tp x pp = 1 are 4 data-parallel replicas (QA: the fit refused it as dp 1 x tp 1 != 4)."""
    from infercost.calibrate.importers import import_file

    ms = import_file(REAL / "vllm_benchmark_serving_append.jsonl")
    assert {(m.num_gpus, m.tp, m.dp) for m in ms} == {(4, 1, 4)}
    assert "read as 4 data-parallel replicas" in ms[0].notes


def test_q4_k_m_is_a_catalog_format() -> None:
    """llama-bench's 'Q4_K - Medium' (GGUF Q4_K_M) resolves to q4_k_m, 4.85 bits per weight
    (Q4_K 4.5 bits for most tensors, Q6_K 6.5625 for ~15 % + the output tensor)."""
    from infercost.catalog import get_quant_format

    assert get_quant_format("Q4_K - Medium").id == "q4_k_m"
    assert get_quant_format("q4_k_m").bits_per_weight == 4.85
