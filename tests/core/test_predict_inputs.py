"""Inputs that used to give wrong answers or tracebacks (QA pass of 2026-11-30)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infercost import predict
from infercost.catalog import get_engine, get_model, load_model_config_file
from infercost.catalog.names import dtype_hint
from infercost.errors import InputError

BASE_CONFIG = Path(__file__).resolve().parents[2] / (
    "src/infercost/catalog/data/models/meta-llama__Llama-3.1-8B.json"
)


def _config(tmp_path: Path, **changes: Any) -> Path:
    cfg = json.loads(BASE_CONFIG.read_text())
    cfg.update(changes)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    return path


class TestQuantizedCheckpoints:
    def test_awq_config_is_costed_at_4_bits(self, tmp_path: Path) -> None:
        path = _config(tmp_path, quantization_config={"quant_method": "awq", "bits": 4})
        assert load_model_config_file(path).checkpoint_dtype == "int4"
        p = predict(model_config=str(path), gpu="H100", isl=100, osl=100, concurrency=1)
        # 8B: linear weights 32 x (41,943,040 attention + 176,160,768 MLP) = 6,979,321,856
        # at 4.15625 bits = 3,625,975,808 B, plus 16-bit embeddings, LM head and norms
        # (2 x 525,336,576 + 65 x 4096) x 2 B = 2,101,878,784 B: 5,727,854,592 B.
        assert p.weight_dtype == "int4"
        assert p.weights_bytes_per_gpu == 5_727_854_592

    def test_fp32_checkpoint_is_served_at_16_bits_with_a_note(self, tmp_path: Path) -> None:
        # engines load an fp32 checkpoint at 16 bits (vLLM --dtype auto: FP16); the default
        # says so instead of silently costing bf16 (QA), and fp32 is there to ask for
        path = _config(tmp_path, torch_dtype="float32")
        p = predict(model_config=str(path), gpu="H100", isl=100, osl=100, concurrency=1)
        assert p.weight_dtype == "bf16"
        assert any("the checkpoint is fp32" in n for n in p.notes)
        full = predict(model_config=str(path), gpu="H100", isl=100, osl=100, concurrency=1,
                       weight_dtype="fp32")  # fmt: skip
        assert full.weight_dtype == "fp32"
        # 32-bit weights: twice the 16-bit bytes
        assert full.weights_bytes_per_gpu == 2 * p.weights_bytes_per_gpu

    def test_compressed_tensors_fp8(self, tmp_path: Path) -> None:
        groups = {"group_0": {"weights": {"num_bits": 8, "type": "float"}}}
        qc = {"quant_method": "compressed-tensors", "config_groups": groups}
        path = _config(tmp_path, quantization_config=qc)
        assert load_model_config_file(path).checkpoint_dtype == "fp8"

    def test_unknown_quant_method_is_refused_not_costed_as_bf16(self, tmp_path: Path) -> None:
        path = _config(tmp_path, quantization_config={"quant_method": "hqq"})
        with pytest.raises(InputError, match="--weight-dtype"):
            load_model_config_file(path)

    @pytest.mark.parametrize(
        ("name", "fmt"),
        [
            ("hugging-quants/Meta-Llama-3.1-70B-Instruct-AWQ-INT4", "int4"),
            ("llama-3.1-70b-fp8", "fp8"),
            # NVIDIA's ModelOpt FP4 checkpoints (hf_quant_config quant_algo NVFP4)
            ("nvidia/DeepSeek-R1-0528-FP4", "nvfp4"),
            ("RedHatAI/Meta-Llama-3.1-8B-Instruct-quantized.w8a8", "int8"),
            ("meta-llama/Llama-3.1-8B", None),
        ],
    )
    def test_repository_names_announce_the_format(self, name: str, fmt: str | None) -> None:
        assert dtype_hint(name) == fmt

    def test_awq_repo_name_fits_one_h100(self) -> None:
        p = predict(
            "hugging-quants/Meta-Llama-3.1-70B-Instruct-AWQ-INT4", "H100", 1000, 300, concurrency=8
        )
        assert p.fits and p.weight_dtype == "int4"
        assert any("the format the name" in n and "int4" in n for n in p.notes)


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"num_attention_heads": 0}, "num_attention_heads must be a positive integer"),
        ({"num_hidden_layers": -4}, "num_hidden_layers must be a positive integer"),
        ({"num_hidden_layers": 32.5}, "num_hidden_layers must be a positive integer"),
        ({"num_attention_heads": True}, "num_attention_heads must be a positive integer"),
        ({"num_key_value_heads": 7}, "must divide num_attention_heads"),
        ({"num_key_value_heads": 64}, "must divide num_attention_heads"),
        ({"torch_dtype": "complex64"}, "torch_dtype"),
        ({"model_type": "mistral", "sliding_window": -5}, "sliding_window"),
        (
            {"model_type": "mixtral", "num_local_experts": 8, "num_experts_per_tok": 16},
            "num_experts_per_tok",
        ),
    ],
)
def test_invalid_configs_are_clear_errors(
    tmp_path: Path, changes: dict[str, Any], needle: str
) -> None:
    with pytest.raises(InputError, match=needle):
        load_model_config_file(_config(tmp_path, **changes))


def test_nan_and_non_utf8_configs(tmp_path: Path) -> None:
    nan = tmp_path / "nan.json"
    nan.write_text(BASE_CONFIG.read_text().replace('"hidden_size": 4096', '"hidden_size": NaN'))
    with pytest.raises(InputError, match="hidden_size"):
        load_model_config_file(nan)
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(InputError, match="not UTF-8"):
        load_model_config_file(binary)
    with pytest.raises(InputError, match="is a directory"):
        load_model_config_file(tmp_path)


def test_model_and_model_config_together_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not both"):
        predict("llama-3.1-8b", "H100", 10, 10, model_config=str(_config(tmp_path)), concurrency=1)


def test_context_limit_is_checked_before_memory() -> None:
    # 200,000 tokens exceed Llama-3.1's 131,072-token context: say that, not a KV shortfall.
    p = predict("llama-3.1-8b", "H100", 199_000, 1_000, concurrency=1)
    assert not p.fits and p.reason is not None and "context of 131072" in p.reason


def test_concurrency_above_the_engine_cap_queues() -> None:
    # vLLM runs at most 256 sequences (max_num_seqs): 512 clients get the throughput of 256,
    # and by Little's law E2E = N / request rate + o, with request rate = output tok/s / osl
    # and o the per-request time spent off the GPU (engine request overhead + its HTTP front
    # end, both online); the rest of E2E beyond (osl - 1) TPOT is queueing before the first
    # token.
    e = get_engine("vllm")
    o = e.request_overhead_s + e.frontend_overhead_s
    at_cap = predict("llama-3.1-8b", "H100", 1000, 300, concurrency=256)
    over = predict("llama-3.1-8b", "H100", 1000, 300, concurrency=512)
    assert over.output_tok_s == pytest.approx(at_cap.output_tok_s)
    assert over.tpot_s == pytest.approx(at_cap.tpot_s)
    e2e = 512 * 300 / at_cap.output_tok_s + o
    assert over.e2e_s == pytest.approx(e2e, rel=1e-9)
    assert over.ttft_s == pytest.approx(e2e - 299 * (at_cap.tpot_s or 0), rel=1e-9)
    assert (over.ttft_s or 0) > 1.5 * (at_cap.ttft_s or 0)


def test_one_output_token_has_no_tpot() -> None:
    p = predict("llama-3.1-8b", "H100", 1000, 1, concurrency=4)
    assert p.tpot_s is None and p.ttft_s is not None


class TestOffers:
    def test_tp1_on_an_8_gpu_instance_pays_the_instance_unless_packed(self) -> None:
        # p5.48xlarge: $98.32/h for 8 H100. One TP1 replica pays the whole instance
        # ($98.32 per used GPU-hour, the bundling rule); 8 packed replicas pay $12.29 each.
        kw = {"concurrency": 8, "offer": "aws-p5.48xlarge-on-demand-2025-01"}
        alone = predict("llama-3.1-8b", "H100", 1000, 300, **kw)  # type: ignore[arg-type]
        assert alone.usd_per_gpu_hour == pytest.approx(98.32)
        assert alone.price_source is not None and "whole instance billed" in alone.price_source
        packed = predict(
            "llama-3.1-8b",
            "H100",
            1000,
            300,
            pack_replicas=True,
            **kw,  # type: ignore[arg-type]
        )
        assert packed.usd_per_gpu_hour == pytest.approx(98.32 / 8)
        assert packed.price_source is not None and "8 replicas of 1 GPUs" in packed.price_source
        # on a 1-GPU offer there is nothing to pack: said, not silently ignored (QA)
        one = predict("llama-3.1-8b", "H100", 1000, 300, concurrency=8, pack_replicas=True)
        assert one.price_source is not None
        assert "--pack-replicas changes nothing" in one.price_source

    def test_spot_offers_are_refused_unless_allowed(self) -> None:
        with pytest.raises(InputError, match="spot"):
            predict(
                "llama-3.1-8b",
                "H100",
                100,
                100,
                concurrency=1,
                offer="gcp-a3-high-spot-2025-12-08",
            )
        p = predict(
            "llama-3.1-8b",
            "H100",
            100,
            100,
            concurrency=1,
            offer="gcp-a3-high-spot-2025-12-08",
            allow_spot=True,
        )
        assert p.usd_per_gpu_hour == pytest.approx(2.25)


def test_engine_vendor_and_ep_on_dense_models() -> None:
    with pytest.raises(InputError, match="runs on NVIDIA"):
        predict("llama-3.1-8b", "MI300X", 100, 100, concurrency=1, engine="trtllm")
    with pytest.raises(InputError, match="mixture-of-experts"):
        predict("llama-3.1-8b", "H100", 100, 100, concurrency=1, ep=2)


def test_json_mode_errors_are_json_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    from infercost.cli import main

    with pytest.raises(SystemExit):
        main(
            [
                "predict",
                "--model",
                "llama-3.1-8b",
                "--gpu",
                "H1000",
                "--isl",
                "10",
                "--osl",
                "10",
                "--concurrency",
                "1",
                "--json",
            ]
        )
    data = json.loads(capsys.readouterr().out)
    assert data["type"] == "UnknownNameError" and "H1000" in data["error"]


def test_quantized_catalog_model_names_resolve_to_the_base() -> None:
    assert get_model("Llama-3.1-8B-Instruct-AWQ").id.startswith("meta-llama/Llama-3.1-8B")


def test_pipeline_parallel_splits_weights_and_serialises_stages() -> None:
    # TP 4 and TP 2 x PP 2 both hold 1/4 of the weights per GPU (35.3 GB of 141.1 GB); with PP
    # every token crosses 2 stages one after the other, so TPOT is longer than with TP 4.
    tp4 = predict("llama-3.1-70b", "H100", 1000, 300, concurrency=32, tp=4)
    pp2 = predict("llama-3.1-70b", "H100", 1000, 300, concurrency=32, tp=2, pp=2)
    assert pp2.num_gpus == 4
    assert pp2.weights_bytes_per_gpu == pytest.approx(tp4.weights_bytes_per_gpu, rel=1e-6)
    assert (pp2.tpot_s or 0) > (tp4.tpot_s or 0)


def test_non_integer_quantization_bits_are_a_clear_error(tmp_path: Path) -> None:
    path = _config(tmp_path, quantization_config={"quant_method": "gptq", "bits": "four"})
    with pytest.raises(InputError, match="bits must be an integer"):
        load_model_config_file(path)
