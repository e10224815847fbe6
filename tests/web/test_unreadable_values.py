"""A URL value that does not read as the number or boolean a page asks for is quoted in the
message (QA pass: ``/predict?isl=abc`` said "isl: Input should be a valid integer, unable to
parse string as an integer" without the text that failed, so a link with several numbers
left the reader to guess which value was meant). A page that names a DeepSeek-V3.2 variant
the catalog does not list computes V3.2, not DeepSeek-V3."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from infercost.web.app import create_web_app

BASE = {"model": "Qwen3.5-27B", "gpu": "H100", "isl": "1000", "osl": "300", "concurrency": "8"}


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_web_app()) as c:
        yield c


@pytest.mark.parametrize(
    ("key", "text", "message"),
    [
        ("isl", "abc", 'isl: Input should be a valid integer, unable to parse string as an '
         'integer, got "abc"'),
        # 1000.7 tokens is not a whole number: refused, not rounded
        ("isl", "1000.7", 'isl: Input should be a valid integer, unable to parse string as an '
         'integer, got "1000.7"'),
        ("tp", "nan", 'tp: Input should be a valid integer, unable to parse string as an '
         'integer, got "nan"'),
        ("max_throughput", "maybe", 'max_throughput: Input should be a valid boolean, unable '
         'to interpret input, got "maybe"'),
        ("gpu_hour_usd", "cheap", 'gpu_hour_usd: Input should be a valid number, unable to '
         'parse string as a number, got "cheap"'),
    ],
)  # fmt: skip
def test_an_unreadable_url_value_is_quoted(
    client: TestClient, key: str, text: str, message: str
) -> None:
    r = client.get("/predict", params={**BASE, key: text, "format": "json"})
    assert r.status_code == 400
    assert r.json() == {"error": message, "type": "InputError"}


def test_a_deepseek_v3_2_variant_page_computes_v3_2(client: TestClient) -> None:
    # deepseek-ai/DeepSeek-V3.2-FP8 is not catalogued: its family key is deepseek-v3-2
    # (DeepSeek-V3.2, MLA + DSA), no longer deepseek (DeepSeek-V3); -FP8 sets fp8 weights
    q = {**BASE, "model": "deepseek-ai/DeepSeek-V3.2-FP8", "gpu": "H200", "tp": "8"}
    r = client.get("/predict", params={**q, "format": "json"})
    assert r.status_code == 200, r.text
    assert r.json()["model"] == "deepseek-ai/DeepSeek-V3.2"
    assert r.json()["weight_dtype"] == "fp8"
