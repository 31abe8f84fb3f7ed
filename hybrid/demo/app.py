"""The demo site as one ASGI application: REST API, OpenAPI document and HTML UI."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from hybrid.demo import api, web
from hybrid.demo.access import AccessDenied, NotFound
from hybrid.demo.data import TrackerStore
from hybrid.demo.sessions import SessionTable
from hybrid.demo.tracker import InvalidInput

OPENAPI_PATH = f"{api.API_PREFIX}/openapi.json"


def create_app(store: TrackerStore | None = None) -> FastAPI:
    app = FastAPI(
        title="Tracker demo site API",
        version="1.0.0",
        description=(
            "REST API of the hybrid-agent demo project tracker: users, projects, issues, comments, "
            "labels, milestones and members. Authenticate with `Authorization: Bearer <token>`. "
            "Lists are paginated with `page` and `per_page`; the total is in the X-Total-Count header."
        ),
        openapi_url=OPENAPI_PATH,
        docs_url=None,
        redoc_url=None,
        servers=[{"url": "/", "description": "this site"}],
    )
    app.state.store = store or TrackerStore()
    app.state.sessions = SessionTable()
    app.include_router(api.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).with_name("static")), name="static")
    app.include_router(web.router)
    _install_error_pages(app)
    return app


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(api.API_PREFIX)


def _install_error_pages(app: FastAPI) -> None:
    statuses = {NotFound: 404, AccessDenied: 403, InvalidInput: 422}

    async def handle(request: Request, exc: Exception) -> Response:
        status = statuses[type(exc)]
        if _is_api(request):
            return JSONResponse({"detail": str(exc)}, status_code=status)
        return web.render(request, "error.html.jinja", status_code=status, message=str(exc))

    for exc_type in statuses:
        app.add_exception_handler(exc_type, handle)

    async def needs_login(request: Request, exc: Exception) -> Response:
        return web.login_redirect(request)

    app.add_exception_handler(web.LoginRequired, needs_login)
