"""Property-based fuzz of every endpoint from the OpenAPI schema (schemathesis): whatever a
request sends, the answer is never a 500. Bounded: a few examples per operation."""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error

from infercost.api.app import create_app
from infercost.api.settings import Limits, ServiceSettings

# A short timeout keeps the bounded fuzz fast; a 504 is an answer, not a server error.
schema = schemathesis.openapi.from_asgi(
    "/openapi.json", create_app(ServiceSettings(limits=Limits(timeout_s=5.0)))
)


@schema.parametrize()
@hypothesis.settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(hypothesis.HealthCheck),
)
@pytest.mark.filterwarnings("ignore")
def test_no_request_is_a_server_error(case: schemathesis.Case) -> None:
    response = case.call()
    case.validate_response(response, checks=[not_a_server_error])
    assert response.status_code != 500 or response.status_code == 504, response.text
