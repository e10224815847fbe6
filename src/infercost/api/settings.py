"""Service settings fixed at start-up: the limits one request may use, and the access token.

Nothing here is read from a request. ``infercost serve`` builds one :class:`ServiceSettings`
from its options and the environment and hands it to :func:`infercost.api.app.create_app`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

#: Environment variable holding the bearer token (``infercost serve --token`` wins).
TOKEN_ENV = "INFERCOST_TOKEN"


@dataclass(frozen=True, slots=True)
class Limits:
    """What one request may ask of the machine. Every figure is enforced before the work
    starts (sizes and counts) or while it runs (the timeout)."""

    max_body_bytes: int = 256 * 1024
    """A JSON body larger than this is refused with 413."""
    max_upload_bytes: int = 8 * 1024 * 1024
    """An uploaded result file larger than this is refused with 413."""
    max_uploads: int = 8
    """Files in one calibrate-fit request."""
    max_tokens: int = 10_000_000
    """Input or output tokens per request (isl, osl)."""
    max_count: int = 1_000_000
    """Any other whole-number input (GPUs, concurrency, replicas)."""
    max_sweep_gpus: int = 16
    """GPUs per replica a plan sweep may try (``max_gpus``)."""
    max_sweep_levels: int = 128
    """Concurrency levels per sweep."""
    max_list: int = 64
    """Entries in any list input (GPUs, dtypes, tiers, volumes, profile)."""
    max_sim_requests: int = 20_000
    """Requests one simulation may generate."""
    max_sim_duration_s: float = 3_600.0
    """Seconds of arrivals one simulation may generate."""
    max_p99_requests: int = 2_000
    """Requests per simulation in a plan search with p99 targets."""
    max_p99_shortlist: int = 12
    """Configurations simulated for p99 targets."""
    timeout_s: float = 30.0
    """A request whose work takes longer gets 504; the work itself counts against
    ``workers`` until it ends."""
    workers: int = 4
    """Library calls running at once; further requests wait (within ``timeout_s``)."""


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    """Everything the app needs, fixed when it starts."""

    token: str | None = None
    """Bearer token required on every request but ``/healthz``; None: no authentication."""
    limits: Limits = field(default_factory=Limits)
    ledger: str | None = None
    """The usage ledger the ``/api/usage`` endpoints and the ``/usage`` page read (opened
    read-only per request); None: those answer that the service has no ledger."""


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
