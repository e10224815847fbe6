"""One call per question asked of a ledger file: open it read-only, price with the catalog's
price book and the ledger's own deployments, answer. The CLI (``infercost usage ...``), the
REST service (``/api/usage/...``) and the web dashboard (``/usage``) all call these, so they
answer alike and fail with the same messages. Also the parsers of the text inputs they share
(dates, US$ amounts)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from infercost.errors import InputError
from infercost.usage.anomalies import AnomalyReport, detect
from infercost.usage.forecast import MAX_BUDGET_USD, Forecast, forecast
from infercost.usage.ingest import IngestResult, ingest
from infercost.usage.ledger import Ledger
from infercost.usage.prices import PriceBook
from infercost.usage.report import Report, priced_groups
from infercost.usage.reprice import Repricing, parse_where, reprice

# DuckDB refuses a second connection to one file with another configuration from the same
# process; the service answers usage questions one at a time.
_LOCK = threading.Lock()


def parse_when(text: str | None, name: str) -> datetime | None:
    """An ISO date or time (``2025-08-01``, ``2025-08-01T14:00Z``, ``...T00:00+02:00``) as a
    naive UTC datetime (an offset is converted to UTC; no offset is read as UTC).

    Raises:
        InputError: not ISO; the message names the option.
    """
    if text is None or text == "":
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InputError(f"{name} {text!r} is not an ISO date or time (2025-08-01).") from None
    if value.tzinfo is not None:  # an offset moves the instant: the ledger's times are UTC
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None)


def parse_usd(text: str | None, name: str, *, ceiling: Decimal = MAX_BUDGET_USD) -> Decimal | None:
    """An amount of US$ (``5000``, ``$5,000.50``, ``1e6``) as Decimal, at most ``ceiling``
    (default :data:`~infercost.usage.forecast.MAX_BUDGET_USD`).

    Raises:
        InputError: not a finite number, or above ``ceiling``; the message names the option.
    """
    if text is None or text == "":
        return None
    try:
        value = Decimal(text.strip().replace(",", "").lstrip("$"))
    except InvalidOperation:
        raise InputError(f"{name} {text!r} is not an amount of US$ (e.g. 5000).") from None
    if not value.is_finite():
        raise InputError(f"{name} {text!r} is not an amount of US$ (e.g. 5000).")
    if value > ceiling:
        raise InputError(
            f"{name} {text!r} is above the ceiling of ${ceiling:,.0f} "
            f"({f'{ceiling:.0e}'.replace('+', '')} US$); "
            "give an amount up to that."
        )
    return value


def report(
    ledger: str | Path, by: Sequence[str], start: datetime | None = None,
    end: datetime | None = None, *, allocate_idle: str = "line",
) -> Report:  # fmt: skip
    """Cost by dimension over ``[start, end)`` (:func:`infercost.usage.report.priced_groups`).

    Raises:
        InputError: a missing ledger, a bad dimension or period.
    """
    with _LOCK, Ledger(ledger, read_only=True) as book:
        return priced_groups(
            book.requests(), by, PriceBook(), book.deployments(), start, end,
            allocate_idle=allocate_idle, daily=book.daily(),
        )  # fmt: skip


def anomalies(
    ledger: str | Path, start: datetime | None = None, end: datetime | None = None, *,
    weeks: int = 4, trailing: bool = False, threshold: float = 4.0, min_requests: int = 10,
) -> AnomalyReport:  # fmt: skip
    """Unusual hours with their drivers (:func:`infercost.usage.anomalies.detect`).

    Raises:
        InputError: a missing ledger or a bad option.
    """
    with _LOCK, Ledger(ledger, read_only=True) as book:
        return detect(
            book.requests(), PriceBook(), book.deployments(), start, end, weeks=weeks,
            trailing=trailing, threshold=threshold, min_requests=min_requests,
        )  # fmt: skip


def month_forecast(
    ledger: str | Path, *, as_of: date | None = None, budget_usd: Decimal | None = None,
    level: int = 90,
) -> Forecast:  # fmt: skip
    """Month-end spend with an interval (:func:`infercost.usage.forecast.forecast`).

    Raises:
        InputError: a missing ledger, too little history, a bad level or budget.
    """
    with _LOCK, Ledger(ledger, read_only=True) as book:
        return forecast(
            book.requests(), PriceBook(), book.deployments(), as_of=as_of,
            budget_usd=budget_usd, level=level,
        )  # fmt: skip


def repricing(
    ledger: str | Path, specs: Sequence[str], where: Sequence[str] = (),
    start: datetime | None = None, end: datetime | None = None,
) -> Repricing:  # fmt: skip
    """The period under each alternative (:func:`infercost.usage.reprice.reprice`).

    Raises:
        InputError: a missing ledger, a malformed spec or scope.
    """
    with _LOCK, Ledger(ledger, read_only=True) as book:
        return reprice(
            book.requests(), PriceBook(), book.deployments(), specs, start, end,
            where=parse_where(where),
        )  # fmt: skip


def ingest_files(
    ledger: str | Path, paths: Sequence[str | Path], fmt: str = "auto"
) -> IngestResult:
    """Ingest ``paths`` into the ledger (:func:`infercost.usage.ingest.ingest`), one caller at
    a time with the read-only questions above.

    Raises:
        InputError: a missing ledger folder, a file that cannot be read, an unknown format.
    """
    with _LOCK, Ledger(ledger) as book:
        return ingest(book, [str(p) for p in paths], fmt)
