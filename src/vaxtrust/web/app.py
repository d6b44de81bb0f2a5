"""``create_app(settings)``: the FastAPI application of ``vaxtrust serve``.

Pages (Jinja2, server-rendered, Vietnamese first) for verifiers, citizens and officers, and a
JSON API under ``/api/v1`` with its OpenAPI schema at ``/api/v1/openapi.json``. Both call the
same store operations the CLI calls; authorisation is the store's scope layer.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vaxtrust import __version__
from vaxtrust.config import Settings, WebSettings, load_settings
from vaxtrust.errors import VaxtrustError
from vaxtrust.store.db import POOL_SIZE, Store
from vaxtrust.web import i18n, labels, lookup
from vaxtrust.web.async_store import AsyncStore
from vaxtrust.web.batches import BatchPlan, BatchThreads, interrupt_running
from vaxtrust.web.codes import CodeSender, sender_from_setting
from vaxtrust.web.ratelimit import Limit, RateLimits
from vaxtrust.web.security import SecurityHeaders, status_and_message
from vaxtrust.web.verifier import Verifier
from vaxtrust.web.views import RecentCounts

logger = logging.getLogger(__name__)
HERE = Path(__file__).parent
API_PREFIX = "/api/v1"
LANG_COOKIE = "vt_lang"
SERVE_OPTIONS_ENV = "VAXTRUST_SERVE_OPTIONS"


def templates() -> Jinja2Templates:
    engine = Jinja2Templates(directory=HERE / "templates")
    env = engine.env
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=i18n.gettext, ngettext=i18n.ngettext, newstyle=True)
    env.filters["fromjson"] = _json_list
    env.filters["number"] = _number
    env.filters["vaccine"] = _vaccine
    env.filters["day"] = _day
    env.filters["status_pair"] = lambda pair: (labels.label(pair[0]), pair[1])
    env.globals.update(label=labels.label, clabel=labels.complaint_label, languages=i18n.LANGUAGE_NAMES,
                       current_language=i18n.current_language, version=__version__,
                       fields=labels.FIELDS)
    return engine


def _vaccine(code: str | None) -> str:
    from vaxtrust.passport.schemas import display

    return str(display("vaccine-medicinal-product", code)) if code else ""


def _day(value: str | None) -> str:
    """An ISO date as Vietnamese write it (dd/mm/yyyy) on Vietnamese pages."""
    text = value or ""
    if i18n.current_language() == "vi" and len(text) == 10 and text[4] == text[7] == "-":
        return f"{text[8:10]}/{text[5:7]}/{text[0:4]}"
    return text


def _number(value: int | float) -> str:
    from babel.numbers import format_decimal

    return str(format_decimal(value, locale=i18n.current_language()))


def _json_list(text: str | None) -> list[str]:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return [str(item) for item in value] if isinstance(value, list) else []


def create_app(all_settings: Settings | None = None, *, store: Store | None = None,
               sender: CodeSender | None = None) -> FastAPI:
    """The app on ``all_settings`` (its ``store`` and ``web`` sections); tests may pass an
    opened ``store`` and a ``sender``."""
    all_settings = all_settings or load_settings()
    settings = _with_signing_journal(all_settings.web)
    verifier = Verifier(settings.trust_list, settings.revocation_list, list(settings.csca),
                        unpinned=settings.insecure_unpinned)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Sync routes run in anyio's worker threads: no more at once than the store's pool
        # keeps connections (more threads on a few cores only contend for the GIL).
        to_thread.current_default_thread_limiter().total_tokens = POOL_SIZE
        owned = store is None
        app.state.store = store or all_settings.open_store()
        app.state.limits = RateLimits(app.state.store, limits)
        if app.state.store.dialect == "postgresql":
            app.state.async_store = await AsyncStore.open(app.state.store)
        sweeper = asyncio.create_task(_sweep_every(app.state.store, lookup.SWEEP_SECONDS))
        if app.state.freeze_after_start:
            _freeze_what_lives_forever()
        yield
        sweeper.cancel()
        if app.state.async_store is not None:
            await app.state.async_store.close()
        if not await asyncio.to_thread(batch_threads.stop):
            logger.warning("a signing batch was still signing when the server stopped; the next "
                           "batch recovers its journal")
            interrupt_running(app.state.store)
        if owned:
            app.state.store.close()

    app = FastAPI(title="vaxtrust", version=__version__, lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url=f"{API_PREFIX}/openapi.json",
                  description="Cổng thông tin tiêm chủng COVID-19 / COVID-19 vaccination portal.")
    app.state.settings = settings
    app.state.all_settings = all_settings    # the complaints' section: attachments, deadlines
    app.state.verifier = verifier
    app.state.sender = sender or sender_from_setting(settings.code_sender)
    app.state.templates = templates()
    app.state.batch_plan = BatchPlan.from_settings(all_settings)
    batch_threads = app.state.batch_runner = BatchThreads()
    app.state.queue_counts = RecentCounts()
    app.state.async_store = None    # PostgreSQL: opened with the app (look-ups on the loop)
    app.state.freeze_after_start = False    # True in vaxtrust serve's workers
    window = settings.rate_window_minutes * 60
    limits = [Limit("address", settings.lookups_per_address, window),
              Limit("id", settings.lookups_per_id, window)]
    if store is not None:
        app.state.store = store

    app.add_middleware(LanguageOfRequest, secure=settings.secure_cookies)
    app.add_middleware(SecurityHeaders, hsts=settings.secure_cookies)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    _install_error_handlers(app)
    _include_routers(app)
    return app


async def _sweep_every(store: Store, seconds: float) -> None:
    """Expired look-up challenges and counts deleted every ``seconds`` (in a worker thread:
    the sweep is a sync transaction), until the app stops."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await asyncio.to_thread(lookup.sweep_expired, store)
        except Exception:   # a chore: the next turn tries again, the server goes on
            logger.exception("sweeping expired look-ups failed")


class LanguageOfRequest:
    """Sets the request's language (``?lang=``, else the cookie, else Vietnamese) and keeps a
    chosen one in the cookie. Plain ASGI: Starlette's ``BaseHTTPMiddleware`` would cost every
    request a task and a stream."""

    def __init__(self, app: ASGIApp, *, secure: bool) -> None:
        self.app, self.secure = app, secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        chosen = request.query_params.get("lang")
        i18n.set_language(i18n.pick_language(chosen, request.cookies.get(LANG_COOKIE), None))
        if chosen not in i18n.LANGUAGES:
            await self.app(scope, receive, send)
            return
        keep = Response()
        keep.set_cookie(LANG_COOKIE, chosen, max_age=365 * 86400, samesite="lax",
                        secure=self.secure, httponly=True)

        async def with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []),
                                      *(item for item in keep.raw_headers
                                        if item[0] == b"set-cookie")]
            await send(message)

        await self.app(scope, receive, with_cookie)


def _with_signing_journal(settings: WebSettings) -> WebSettings:
    """The settings with the signing page's journal among those citizens download from."""
    if settings.signing_out is None:
        return settings
    from vaxtrust.signing.journal import JOURNAL

    journal = settings.signing_out / JOURNAL
    if journal in settings.journals:
        return settings
    return settings.model_copy(update={"journals": [*settings.journals, journal]})


def app_from_environment() -> FastAPI:
    """uvicorn's factory in every worker of ``vaxtrust serve``: the settings the command
    resolved (file in ``VAXTRUST_CONFIG``, its options as JSON in ``SERVE_OPTIONS_ENV``)."""
    import os

    overrides = json.loads(os.environ.get(SERVE_OPTIONS_ENV) or "{}")
    app = create_app(load_settings(None, **overrides))
    app.state.freeze_after_start = True
    return app


def _freeze_what_lives_forever() -> None:
    """Moves every object alive now (modules, settings, the app, its routes and store: what a
    worker keeps until it stops) out of the cyclic garbage collector's sight.

    Why: under load, what requests in flight hold survives the young collections, so the
    collector runs a full collection every few seconds, and a full collection scanned these
    ~170 k objects too: 100-550 ms with the event loop stopped (logged in a bench worker at
    1 M records), which every request in flight waited out, the look-up's p95. Frozen, a full
    collection scans only what requests left behind. Only ``vaxtrust serve``'s workers do it
    (its factory asks for it): tests start many apps in one process."""
    gc.collect()      # cyclic garbage of the start-up is freed, not frozen
    gc.freeze()


def _include_routers(app: FastAPI) -> None:
    from vaxtrust.web.routes import (
        api,
        api_lists,
        api_reports,
        citizens,
        complaints,
        complaints_api,
        officers,
        pages,
        police_lists,
        reports,
        verifiers,
    )

    # FastAPI matches a request against each route in turn (an included router's prefix is not
    # checked first): the API, whose look-ups and verifications come by the hundred a second,
    # goes first (~120 us less per API request at 1 M, ~80 us more per page, which renders in
    # milliseconds anyway). No page path starts with /api/v1, so the order changes no answer.
    app.include_router(api.router, prefix=API_PREFIX)
    app.include_router(pages.router)
    app.include_router(verifiers.router)
    app.include_router(citizens.router)
    app.include_router(complaints.router)
    app.include_router(officers.router)
    app.include_router(reports.router)
    app.include_router(police_lists.router)
    app.include_router(api_reports.router, prefix=API_PREFIX)
    app.include_router(api_lists.router, prefix=API_PREFIX)
    app.include_router(complaints_api.router, prefix=API_PREFIX)


def error_body(status: int, message: str, errors: list[str] | None = None) -> dict[str, Any]:
    """The one JSON error shape of /api/v1."""
    return {"ok": False, "status": status, "error": message, "errors": errors or [message]}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX + "/") or request.url.path == API_PREFIX


def error_response(request: Request, status: int, message: str,
                   errors: list[str] | None = None) -> Response:
    if _is_api(request):
        return JSONResponse(error_body(status, message, errors), status_code=status)
    page: Response = request.app.state.templates.TemplateResponse(
        request, "error.html", {"status": status, "message": message, "session": None},
        status_code=status)
    return page


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(VaxtrustError)
    async def vaxtrust_error(request: Request, error: VaxtrustError) -> Response:
        status, message = status_and_message(error)
        return error_response(request, status, message)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        problems = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
                    for e in error.errors()]
        return error_response(request, 422, "the request is not valid", problems)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code in (301, 302, 303, 307) and error.headers:
            return Response(status_code=error.status_code, headers=error.headers)
        message = str(error.detail) if error.detail else "error"
        response = error_response(request, error.status_code, message)
        for key, value in (error.headers or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        status, message = status_and_message(error)
        return error_response(request, status, message)
