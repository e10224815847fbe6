"""The FastAPI app: one router per command group, assembled here with the shared pieces
(limits, authentication, the worker pool, the error shape) injected from
:class:`~infercost.api.settings.ServiceSettings`, never from globals or the request."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import HTMLResponse

from infercost import __version__
from infercost.api import calibrate, catalog, economics, plan, predict, simulate, usage
from infercost.api import errors as error_handlers
from infercost.api.docs_page import docs_html
from infercost.api.middleware import BodyLimit, TokenAuth
from infercost.api.respond import known_query_only
from infercost.api.runner import Runner
from infercost.api.settings import ServiceSettings

API_ROUTERS: tuple[APIRouter, ...] = (
    predict.router,
    catalog.router,
    economics.router,
    simulate.router,
    plan.router,
    calibrate.router,
    usage.router,
)


def create_app(
    settings: ServiceSettings | None = None, extra_routers: Iterable[APIRouter] = ()
) -> FastAPI:
    """The service; ``extra_routers`` (the web app's pages) are served by the same process."""
    settings = settings or ServiceSettings()
    runner = Runner(settings.limits)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        runner.close()

    app = FastAPI(
        title="infercost",
        version=__version__,
        summary="What LLM inference really costs: the infercost library over HTTP.",
        description=(
            "Each endpoint calls the same library function as the CLI command of the same "
            "name and returns that command's --json object. Errors: 400 with the CLI's "
            'message as {"error", "type"}; 422 for a body that does not match the schema; '
            "413 over the size limits; 504 over the time limit."
        ),
        lifespan=lifespan,
        # Swagger UI and ReDoc load from a CDN: blank pages offline. /docs is served below
        # from the same schema with nothing fetched from elsewhere.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.runner = runner
    error_handlers.install(app)
    for r in API_ROUTERS:
        app.include_router(r, dependencies=[Depends(known_query_only)])
    for r in extra_routers:
        app.include_router(r)

    @app.get("/api", tags=["service"], summary="The endpoints")
    def index() -> dict[str, object]:
        """The REST endpoints (method and path) and where their schemas are documented."""
        paths = sorted(
            (method.upper(), path)
            for path, methods in app.openapi().get("paths", {}).items()
            if path.startswith("/api/")
            for method in methods
        )
        return {
            "endpoints": [f"{method} {path}" for method, path in paths],
            "docs": "/docs",
            "openapi": "/openapi.json",
            "version": __version__,
        }

    @app.get("/docs", include_in_schema=False, response_class=HTMLResponse)
    def docs() -> HTMLResponse:
        """Every endpoint, its parameters and body fields, from /openapi.json (offline)."""
        return HTMLResponse(docs_html(app.openapi()))

    @app.get("/healthz", tags=["service"], summary="Liveness")
    def healthz() -> dict[str, str]:
        """``{"status": "ok"}`` while the service runs (no token needed)."""
        return {"status": "ok", "version": __version__}

    app.add_middleware(BodyLimit, limits=settings.limits)
    if settings.token:
        app.add_middleware(TokenAuth, token=settings.token)
    return app
