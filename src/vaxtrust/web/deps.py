"""What routes share: the store, the session of the request, the officer acting, CSRF, pages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from vaxtrust.config import WebSettings
from vaxtrust.errors import InputError, PermissionDenied
from vaxtrust.store.db import Store
from vaxtrust.store.scope import CITIZEN_PREFIX, Actor, Role, load_actor
from vaxtrust.web.security import CSRF_COOKIE, CSRF_FIELD, CSRF_HEADER, new_token, tokens_match
from vaxtrust.web.sessions import SessionInfo, end_session, load_session

SESSION_COOKIE = "vt_session"
CITIZEN_COOKIE = "vt_citizen"
MAX_FORM_FIELDS = 50

# Ids in paths, bounded like the store's keys (a 4-byte integer, a key of at most 64
# characters): anything longer is a 422, never a failed query.
MAX_ROW_ID = 2**31 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
KeyId = Annotated[str, Path(min_length=1, max_length=64)]


def form_row_id(value: str) -> int | None:
    """A row id or version typed in a form field, or None when it is not one (other digits
    than 0-9, or beyond the store's keys: a wrong value, never a failed query)."""
    if not (value.isascii() and value.isdigit()) or len(value) > len(str(MAX_ROW_ID)):
        return None
    number = int(value)
    return number if 1 <= number <= MAX_ROW_ID else None


def form_version(values: dict[str, str]) -> int | None:
    """The version a page was drawn at, from its form; None when the form sent none. One no
    page can have given (``abc``, ``¹``, past the store's keys) is a version nothing has (0),
    so the action is refused as stale (409), never a failed query."""
    typed = values.get("version", "")
    return None if not typed else form_row_id(typed) or 0


def settings_of(request: Request) -> WebSettings:
    settings: WebSettings = request.app.state.settings
    return settings


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def officer_session(request: Request) -> SessionInfo | None:
    token = bearer(request) or request.cookies.get(SESSION_COOKIE)
    info = load_session(store_of(request), token, minutes=settings_of(request).session_minutes)
    return info if info is not None and info.username else None


def citizen_session(request: Request) -> SessionInfo | None:
    token = bearer(request) or request.cookies.get(CITIZEN_COOKIE)
    info = load_session(store_of(request), token,
                        minutes=settings_of(request).citizen_session_minutes)
    return info if info is not None and info.person_id else None


def require_officer(request: Request) -> tuple[SessionInfo, Actor]:
    """The signed-in officer, else a redirect to the login page (pages) or 401 (API)."""
    info = officer_session(request)
    if info is None:
        if request.url.path.startswith("/api/"):
            raise HTTPException(401, "sign in first", headers={"WWW-Authenticate": "Bearer"})
        target = quote(request.url.path, safe="/")
        raise HTTPException(303, headers={"Location": f"/officer/login?next={target}"})
    assert info.username is not None
    with store_of(request).transaction() as session:
        actor = load_actor(session, info.username)
    if actor.role is Role.CITIZEN:
        raise PermissionDenied("citizens look up their record on the citizen pages")
    return info, actor


def citizen_actor(info: SessionInfo) -> Actor:
    """A citizen who proved the one-time code: the store's citizen scope, their person only."""
    assert info.person_id is not None
    return Actor(username=f"{CITIZEN_PREFIX}{info.person_id}", role=Role.CITIZEN,
                 person_id=info.person_id)


@contextmanager
def acting(request: Request, actor: Actor) -> Iterator[tuple[Session, Actor]]:
    with store_of(request).transaction() as session:
        yield session, actor


async def read_form(request: Request) -> FormData:
    """The posted form, within the upload limit (parts larger than it are refused)."""
    limit = settings_of(request).max_upload_bytes
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit + 64_000:
        raise HTTPException(413, "the upload is too large")
    try:
        return await request.form(max_files=1, max_fields=MAX_FORM_FIELDS, max_part_size=limit)
    except HTTPException:
        raise
    except Exception as error:  # multipart errors: malformed or too large
        raise InputError(f"the form could not be read ({type(error).__name__})") from None


# A posted form as a route's parameter: FastAPI reads it on the event loop, then runs a sync
# route (one that does the store's work) in a worker thread.
PostedForm = Annotated[FormData, Depends(read_form)]


def csrf_expected(request: Request, session: SessionInfo | None) -> str | None:
    return session.csrf_token if session is not None else request.cookies.get(CSRF_COOKIE)


def check_csrf(request: Request, form: FormData | None, session: SessionInfo | None) -> None:
    """A state-changing request must carry the page's token (form field or X-CSRF-Token)."""
    if bearer(request) and session is not None:
        return      # not sent by a browser on its own: no cross-site forgery possible
    given = request.headers.get(CSRF_HEADER)
    if given is None and form is not None:
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not tokens_match(csrf_expected(request, session), given):
        raise HTTPException(403, "the form expired or came from another site; reload the page")


def render(request: Request, template: str, context: dict[str, Any], *,
           session: SessionInfo | None = None, status_code: int = 200) -> Response:
    """A page with a CSRF token for its forms (the session's, else a cookie's)."""
    settings = settings_of(request)
    cookie_token = request.cookies.get(CSRF_COOKIE)
    token = session.csrf_token if session else (cookie_token or new_token())
    page: Response = request.app.state.templates.TemplateResponse(
        request, template, {"csrf_token": token, "session": session, **context},
        status_code=status_code)
    if session is None and not cookie_token:
        page.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict",
                        secure=settings.secure_cookies)
    return page


def sign_out(request: Request, form: FormData, cookie: str, session: SessionInfo | None,
             to: str) -> Response:
    """End the session of ``cookie`` (the form's CSRF token checked) and go to ``to``."""
    check_csrf(request, form, session)
    end_session(store_of(request), request.cookies.get(cookie))
    response = RedirectResponse(to, status_code=303)
    response.delete_cookie(cookie)
    return response


def form_text(form: FormData, name: str, *, limit: int = 500) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""
