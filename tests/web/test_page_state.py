"""Page state lives in the URL: the worked example's optional choices do not leak into a
shared link that leaves them out (QA: a link without tp got the example's tp 2)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from infercost.predict import predict
from infercost.web.app import create_web_app


def test_link_without_tp_gets_the_library_default() -> None:
    with TestClient(create_web_app()) as client:
        q = "model=llama-3.1-8b&gpu=H100&isl=1000&osl=300&concurrency=64&format=json"
        data = client.get(f"/predict?{q}").json()
    lib = predict("llama-3.1-8b", "H100", 1000, 300, concurrency=64).to_dict()
    assert (data["tp"], data["num_gpus"]) == (1, 1) == (lib["tp"], lib["num_gpus"])
    assert data["output_tok_s"] == lib["output_tok_s"]


def test_bare_page_shows_the_worked_example() -> None:
    with TestClient(create_web_app()) as client:
        data = client.get("/predict?format=json").json()
    assert (data["model"], data["tp"]) == ("meta-llama/Llama-3.1-70B", 2)


def test_predict_page_takes_fixed_lengths_and_shows_the_notes() -> None:
    # the checkbox is predict(fixed_lengths=True); the page lists the notes the CLI prints
    # (here vLLM running 52 sequences where 49 full-length ones fit, 8,000/1,000 on an H100)
    q = "model=llama-3.1-8b&gpu=H100&isl=8000&osl=1000&concurrency=52"
    with TestClient(create_web_app()) as client:
        fixed = client.get(f"/predict?{q}&fixed_lengths=on&format=json").json()
        html = client.get(f"/predict?{q}").text
    lib = predict("llama-3.1-8b", "H100", 8000, 1000, concurrency=52, fixed_lengths=True)
    assert fixed["ttft_s"] == lib.ttft_s
    assert '<ul id="notes">' in html and "52 sequences run although the KV cache holds 49" in html


def test_a_link_with_max_throughput_is_not_given_the_examples_concurrency() -> None:
    # max_throughput in the URL alone is predict(max_throughput=True); before, the form's
    # example concurrency (16) was added and the page answered "Give exactly one of ..."
    q = "model=llama-3.1-8b&gpu=H100&isl=1000&osl=300&max_throughput=true&format=json"
    with TestClient(create_web_app()) as client:
        data = client.get(f"/predict?{q}").json()
    lib = predict("llama-3.1-8b", "H100", 1000, 300, max_throughput=True)
    assert data["concurrency"] == lib.concurrency and data["output_tok_s"] == lib.output_tok_s
