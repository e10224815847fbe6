"""One app per test session, driven in process by FastAPI's test client (no mocks)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from infercost.api.app import create_app


@pytest.fixture(scope="session")
def client() -> Iterator[TestClient]:
    """A client of the real app with default settings (no token)."""
    with TestClient(create_app()) as c:
        yield c
