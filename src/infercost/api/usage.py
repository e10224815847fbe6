"""``POST /api/usage/{ingest,report,anomalies,forecast,reprice}``: the usage ledger over HTTP.

The ledger is the one file ``infercost serve --ledger FILE`` names, fixed at start-up; no
request names a path. ``ingest`` takes one uploaded usage file (multipart, within the upload
limit), written to a private temporary folder and deleted after the request. Each endpoint
calls the function of :mod:`infercost.usage.queries` that the CLI command of the same name
calls and returns that command's ``--json`` object.

An error is the CLI's sentence with each option named by its JSON field (``"by"`` for
``--by``, ``"budget_usd"`` for ``--budget-usd``): :func:`json_names`.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from pydantic import ConfigDict, Field

from infercost.api.respond import respond
from infercost.api.schema import Name, Names
from infercost.api.schema import Request as Body
from infercost.api.uploads import display_name, renamed, save_uploads
from infercost.errors import InfercostError, InputError
from infercost.report.files import refuse_empty_input
from infercost.usage import queries
from infercost.usage.anomalies import AnomalyReport
from infercost.usage.forecast import Forecast
from infercost.usage.report import Report
from infercost.usage.reprice import Repricing

router = APIRouter(tags=["usage"])

NO_LEDGER = (
    "This service has no usage ledger: start it with `infercost serve --ledger FILE` "
    "(a DuckDB ledger written by `infercost usage ingest` or `usage demo`)."
)

When = Annotated[str | None, Field(max_length=40, pattern=r"\S", description="ISO date or time.")]


class _Period(Body):
    """A period ``[from, to)``; ``from``/``to`` in JSON (Python names ``start``/``end``)."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", allow_inf_nan=False, populate_by_name=True
    )

    start: str | None = Field(default=None, alias="from", max_length=40, pattern=r"\S")
    end: str | None = Field(default=None, alias="to", max_length=40, pattern=r"\S")


class UsageReportRequest(_Period):
    """``usage report`` options."""

    by: Annotated[str, Field(max_length=200)] = "team"
    allocate_idle: Name = "line"


class UsageAnomaliesRequest(_Period):
    """``usage anomalies`` options."""

    weeks: Annotated[int, Field(ge=1, le=52)] = 4
    trailing: bool = False
    threshold: Annotated[float, Field(gt=0, le=100)] = 4.0
    min_requests: Annotated[int, Field(ge=1, le=1_000_000)] = 10


class UsageForecastRequest(Body):
    """``usage forecast`` options."""

    budget_usd: Annotated[str, Field(max_length=40, pattern=r"\S")] | int | float | None = Field(
        default=None,
        description="Monthly budget in US$: a number or a string ('5000', '$5,000.50'), at "
        "most 1e12.",
    )
    as_of: When = None
    level: Annotated[int, Field(ge=50, le=99)] = 90


class UsageRepriceRequest(_Period):
    """``usage reprice`` options (``as``: the alternatives, ``where``: DIM=VALUE scope)."""

    alternatives: Names = Field(alias="as", min_length=1)
    where: Names = Field(default_factory=list)


def ledger_of(request: Request) -> str:
    """The service's ledger path.

    Raises:
        InputError: the service was started without one.
    """
    path: str | None = request.app.state.settings.ledger
    if not path:
        raise InputError(NO_LEDGER)
    return path


#: CLI option -> JSON field of the usage requests.
FIELDS = {
    "--from": "from",
    "--to": "to",
    "--by": "by",
    "--allocate-idle": "allocate_idle",
    "--weeks": "weeks",
    "--trailing": "trailing",
    "--threshold": "threshold",
    "--min-requests": "min_requests",
    "--budget-usd": "budget_usd",
    "--as-of": "as_of",
    "--level": "level",
    "--as": "as",
    "--where": "where",
}
_FLAGS = "|".join(sorted(map(re.escape, FIELDS), key=len, reverse=True))
_FLAG = re.compile(rf"(?<![\w-])({_FLAGS})(?![\w-])")


def api_message(text: str) -> str:
    """``text`` with each usage option (``--by``) named by its JSON field (``"by"``); a
    command line quoted in backticks is left as it is."""
    parts = text.split("`")
    for i in range(0, len(parts), 2):  # outside `...`
        parts[i] = _FLAG.sub(lambda m: f'"{FIELDS[m.group(1)]}"', parts[i])
    return "`".join(parts)


@contextmanager
def json_names() -> Iterator[None]:
    """Re-raise an infercost error with the options named by their JSON fields (same type,
    same attributes)."""
    try:
        yield
    except InfercostError as err:
        if err.args and isinstance(err.args[0], str):
            err.args = (api_message(err.args[0]), *err.args[1:])
        raise


def _budget(value: str | float | None) -> str | None:
    return None if value is None else str(value)


def run_usage_report(req: UsageReportRequest, ledger: str) -> Report:
    """Cost by dimension, exactly as ``usage report``."""
    with json_names():
        return queries.report(
            ledger, req.by.split(","), queries.parse_when(req.start, "--from"),
            queries.parse_when(req.end, "--to"), allocate_idle=req.allocate_idle,
        )  # fmt: skip


def run_usage_anomalies(req: UsageAnomaliesRequest, ledger: str) -> AnomalyReport:
    """Unusual hours and their drivers, exactly as ``usage anomalies``."""
    with json_names():
        return queries.anomalies(
            ledger, queries.parse_when(req.start, "--from"),
            queries.parse_when(req.end, "--to"), weeks=req.weeks, trailing=req.trailing,
            threshold=req.threshold, min_requests=req.min_requests,
        )  # fmt: skip


def run_usage_forecast(req: UsageForecastRequest, ledger: str) -> Forecast:
    """Month-end spend, exactly as ``usage forecast``."""
    with json_names():
        when = queries.parse_when(req.as_of, "--as-of")
        return queries.month_forecast(
            ledger, as_of=when.date() if when else None,
            budget_usd=queries.parse_usd(_budget(req.budget_usd), "--budget-usd"),
            level=req.level,
        )  # fmt: skip


def run_usage_reprice(req: UsageRepriceRequest, ledger: str) -> Repricing:
    """The period under alternatives, exactly as ``usage reprice``."""
    with json_names():
        return queries.repricing(
            ledger, req.alternatives, req.where, queries.parse_when(req.start, "--from"),
            queries.parse_when(req.end, "--to"),
        )  # fmt: skip


@router.post("/api/usage/report", summary="Cost by dimension (usage report --json)")
async def usage_report_endpoint(body: UsageReportRequest, request: Request) -> dict[str, Any]:
    """What the ledger's traffic cost, by team, app, model, ... over a period."""
    return await respond(request, partial(run_usage_report, ledger=ledger_of(request)), body)


@router.post("/api/usage/anomalies", summary="Unusual hours (usage anomalies --json)")
async def usage_anomalies_endpoint(
    body: UsageAnomaliesRequest, request: Request
) -> dict[str, Any]:
    """Hours whose spend, tokens per request, cache hits or output share left their range."""
    return await respond(request, partial(run_usage_anomalies, ledger=ledger_of(request)), body)


@router.post("/api/usage/forecast", summary="Month-end spend (usage forecast --json)")
async def usage_forecast_endpoint(body: UsageForecastRequest, request: Request) -> dict[str, Any]:
    """Month-end spend with an interval and the day a budget is crossed."""
    return await respond(request, partial(run_usage_forecast, ledger=ledger_of(request)), body)


@router.post("/api/usage/reprice", summary="Re-price a period (usage reprice --json)")
async def usage_reprice_endpoint(body: UsageRepriceRequest, request: Request) -> dict[str, Any]:
    """What the period would have cost under other models, tiers, prices or self-hosting."""
    return await respond(request, partial(run_usage_reprice, ledger=ledger_of(request)), body)


#: Suffixes an uploaded usage file may keep (format detection reads them).
UPLOAD_SUFFIXES = (".jsonl", ".json", ".csv", ".parquet", ".ndjson")


def run_usage_ingest(path: Path, name: str, fmt: str, ledger: str) -> dict[str, Any]:
    """``usage ingest FILE --json`` for a saved upload (the upload's name in the answer)."""
    refuse_empty_input(path, name)
    result = queries.ingest_files(ledger, [path], fmt)
    unusable = result.unusable(fmt)
    if unusable:
        raise InputError(unusable)
    data = result.to_dict()
    text = json.dumps(data).replace(str(path), name)
    out: dict[str, Any] = json.loads(text)
    out["file"] = name
    out["ledger"] = Path(ledger).name  # the service's file name, not its path
    return out


@router.post("/api/usage/ingest", summary="Ingest an uploaded usage file (usage ingest --json)")
async def usage_ingest_endpoint(
    request: Request,
    file: Annotated[UploadFile, File(description="A usage file (JSONL, JSON, CSV, Parquet).")],
    format: Annotated[str, Form(max_length=20)] = "auto",
) -> dict[str, Any]:
    """Ingest one file into the service's ledger; broken rows are quarantined with their line
    and reason; a re-upload adds nothing (``read = ingested + quarantined + duplicates``)."""
    ledger = ledger_of(request)
    name = display_name(file, 0)
    if Path(name).suffix.lower() not in UPLOAD_SUFFIXES:
        raise InputError(
            f"{name}: a usage file ends in {', '.join(UPLOAD_SUFFIXES)} (the format is read "
            "from it and the first record)."
        )
    with tempfile.TemporaryDirectory(prefix="infercost-usage-") as tmp:
        saved = await save_uploads([file], Path(tmp), keep_suffix=True)
        try:
            result: dict[str, Any] = await request.app.state.runner.call(
                run_usage_ingest, saved[0][0], name, format, ledger
            )
        except InfercostError as err:
            raise renamed(err, saved) from None
        return result
