"""A request whose shape is wrong says what was wrong and what to send (QA pass: a body sent
without ``Content-Type: application/json``, as ``curl -d`` does, or a JSON array got "body:
Input should be a valid dictionary or object to extract fields from"; a misspelt query
parameter such as ``GET /api/offers?gpux=h100`` was dropped in silence and every offer came
back, and ``?model=a&model=b`` kept the last)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

PREDICT = {"model": "llama-3.1-8b", "gpu": "H100", "isl": 1000, "osl": 300, "concurrency": 8}
SEND = 'send one JSON object, e.g. {"isl": 1000}.'


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        # a JSON document sent as a form (curl -d's default) or as text reaches the model as
        # raw bytes: the header is what to fix
        (
            b'{"isl": 1000}',
            "application/x-www-form-urlencoded",
            "The request body was not sent as JSON (read as raw bytes): send it with the header "
            'Content-Type: application/json, as one JSON object, e.g. {"isl": 1000}.',
        ),
        (
            b'{"isl": 1000}',
            "text/plain",
            "The request body was not sent as JSON (read as raw bytes): send it with the header "
            'Content-Type: application/json, as one JSON object, e.g. {"isl": 1000}.',
        ),
        # valid JSON that is not an object names the JSON type it was
        (b"[]", "application/json", f"The request body is an array, not a JSON object; {SEND}"),
        (b'"x"', "application/json", f"The request body is a string, not a JSON object; {SEND}"),
        (b"3", "application/json", f"The request body is a number, not a JSON object; {SEND}"),
        (b"null", "application/json", f"The request body is null, not a JSON object; {SEND}"),
        (b"true", "application/json", f"The request body is a boolean, not a JSON object; {SEND}"),
    ],
)
def test_a_body_that_is_not_one_json_object_says_what_to_send(
    client: TestClient, body: bytes, content_type: str, message: str
) -> None:
    r = client.post("/api/predict", content=body, headers={"content-type": content_type})
    assert r.status_code == 422
    assert r.json() == {"error": message, "type": "ValidationError"}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "/api/offers?gpux=h100",
            "Unknown query parameter 'gpux' (did you mean gpu?). GET /api/offers takes: gpu, "
            "provider, kind, max_age_days, all.",
        ),
        (
            "/api/offers?max_age=30",
            "Unknown query parameter 'max_age' (did you mean max_age_days?). GET /api/offers "
            "takes: gpu, provider, kind, max_age_days, all.",
        ),
        (
            "/api/models?family=qwen",
            "Unknown query parameter 'family': GET /api/models takes no query parameters.",
        ),
        (
            "/api/api-price?model=gpt-4o&model=claude-3-5-sonnet",
            "Query parameter 'model' is given more than once; give it once.",
        ),
    ],
)
def test_unknown_or_repeated_query_parameters_are_refused(
    client: TestClient, url: str, message: str
) -> None:
    r = client.get(url)
    assert r.status_code == 400
    assert r.json() == {"error": message, "type": "InputError"}


def test_a_post_endpoint_refuses_inputs_in_the_url(client: TestClient) -> None:
    # ?isl=8000 beside a body with isl 1000 would have been ignored: the answer for 1000
    r = client.post("/api/predict?isl=8000", json=PREDICT)
    assert r.status_code == 400
    assert r.json()["error"] == (
        "Unknown query parameter 'isl': POST /api/predict takes no query parameters (send its "
        "inputs as a JSON body)."
    )


def test_the_parameters_an_endpoint_takes_still_work(client: TestClient) -> None:
    # every offer listed under gpu=h100 is an H100 part; all=true is the alias of show_all
    r = client.get("/api/offers", params={"gpu": "h100-sxm", "all": "true", "max_age_days": 90})
    assert r.status_code == 200, r.text
    offers = r.json()["offers"]
    assert offers and {o["gpu"] for o in offers} == {"h100-sxm"}
    assert client.get("/api/api-price", params={"model": "gpt-4o"}).status_code == 200
    assert client.post("/api/predict", json=PREDICT).status_code == 200
