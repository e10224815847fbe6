"""The web app and the REST API in one FastAPI app (what ``infercost serve`` runs).

Static files are this package's ``static/`` folder and plotly.js from the installed plotly
package (no CDN: the pages work without a network).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import plotly
from fastapi import FastAPI, Form
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from infercost.api.app import create_app
from infercost.api.middleware import TOKEN_COOKIE
from infercost.api.settings import ServiceSettings
from infercost.web.pages import router
from infercost.web.render import esc, page

STATIC = Path(str(files("infercost.web") / "static"))
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
_MEDIA = {".js": "text/javascript", ".css": "text/css"}


def create_web_app(settings: ServiceSettings | None = None) -> FastAPI:
    """The REST service plus the pages at ``/`` and their static files."""
    settings = settings or ServiceSettings()
    app = create_app(settings, extra_routers=[router])

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        """``plotly.min.js``, ``app.js`` or ``style.css`` (only these names are served)."""
        if name == "plotly.min.js":
            path = PLOTLY_JS
        elif name in ("app.js", "style.css"):
            path = STATIC / name
        else:
            return Response("not found", status_code=404)
        return FileResponse(
            path, media_type=_MEDIA[path.suffix], headers={"cache-control": "max-age=3600"}
        )

    @app.get("/login", include_in_schema=False)
    def login_form() -> HTMLResponse:
        """Sign in with the service's token (sets an HttpOnly cookie)."""
        body = (
            '<form class="inputs" method="post" action="/login"><label>Token'
            '<input type="password" name="token" autocomplete="current-password"></label>'
            '<button type="submit">Sign in</button></form>'
        )
        return HTMLResponse(page("Sign in", "/login", body))

    @app.post("/login", include_in_schema=False)
    def login(token: str = Form(max_length=500)) -> Response:
        """Set the token cookie and go to the pages; the middleware checks it later."""
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
        return response

    _ = esc  # the pages escape everything through render.esc
    return app
