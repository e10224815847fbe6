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
