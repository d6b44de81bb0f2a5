"""Officer pages (login): dashboard, review queue and items, records, people, signing, users."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from vaxtrust.app import review
from vaxtrust.app import users as users_app
from vaxtrust.errors import ConfigError, NotFound, PermissionDenied, ReviewConflict
from vaxtrust.review import queue
from vaxtrust.store.scope import Actor, Permission, Role
from vaxtrust.store.tables import REVIEW_STATES
from vaxtrust.web import batches, views
from vaxtrust.web.deps import (
    SESSION_COOKIE,
    KeyId,
    PostedForm,
    RowId,
    acting,
    check_csrf,
    form_text,
    form_version,
    officer_session,
    render,
    require_officer,
    settings_of,
    sign_out,
    store_of,
)
from vaxtrust.web.login import sign_in
from vaxtrust.web.sessions import SessionInfo, create_session

router = APIRouter(prefix="/officer", include_in_schema=False)


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") else "/officer"


@router.get("/login")
def login_form(request: Request, next: str = "/officer") -> Response:
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login")
def login_submit(request: Request, form: PostedForm) -> Response:
    # A sync route (in a worker thread): Argon2id takes tens of milliseconds of CPU, which on
    # the event loop would hold up every other request of this worker.
    check_csrf(request, form, None)
    username, password = form_text(form, "username", limit=64), form_text(form, "password",
                                                                           limit=1024)
    target = _safe_next(form_text(form, "next") or "/officer")
    address = request.client.host if request.client else "unknown"
    actor = sign_in(store_of(request), username, password, address)
    if actor is None:
        return render(request, "login.html", {"next": target, "error": "failed",
                                              "username": username}, status_code=401)
    settings = settings_of(request)
    info = create_session(store_of(request), minutes=settings.session_minutes,
                          username=actor.username)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, info.token, httponly=True, samesite="strict",
                        secure=settings.secure_cookies)
    return response


@router.post("/logout")
def logout(request: Request, form: PostedForm) -> Response:
    return sign_out(request, form, SESSION_COOKIE, officer_session(request), "/officer/login")


def page(request: Request, template: str, info: SessionInfo, actor: Actor,
         context: dict[str, Any], status_code: int = 200) -> Response:
    return render(request, template, {"actor": actor, **context}, session=info,
                  status_code=status_code)


@router.get("")
def dashboard(request: Request) -> Response:
    info, actor = require_officer(request)
    with acting(request, actor) as (session, actor):
        board = views.dashboard(session, actor)
    return page(request, "dashboard.html", info, actor, {"board": board})


@router.get("/review")
def review_queue(request: Request, reason: str = "", facility: str = "", state: str = "",
                 older_than_days: Annotated[int, Query(ge=0, le=views.MAX_AGE_DAYS)] = 0,
                 page_number: Annotated[int, Query(ge=1, le=1_000_000)] = 1) -> Response:
    info, actor = require_officer(request)
    states = [state] if state in REVIEW_STATES else list(queue.AWAITING)
    counts: views.RecentCounts = request.app.state.queue_counts
    key = (actor, reason, facility, tuple(states), older_than_days)
    known = counts.get(key)
    items = review.list_items(store_of(request), actor, review.ItemFilter(
        facility_id=facility or None, reason=reason or None, states=states,
        created_before=views.waiting_longer_than(older_than_days), page=page_number),
        total=known)
    if known is None:
        counts.put(key, items.total)
    return page(request, "review_queue.html", info, actor, {
        "items": items, "filters": {"reason": reason, "facility": facility, "state": state,
                                    "older_than_days": older_than_days}})


def _item_page(request: Request, info: SessionInfo, actor: Actor, item_id: int,
               error: str | None = None, status_code: int = 200,
               values: dict[str, str] | None = None) -> Response:
    detail = review.show_item(store_of(request), actor, item_id)
    return page(request, "review_item.html", info, actor, {
        "detail": detail, "rows": views.compare_rows(detail), "error": error,
        "values": values or {}, "editable": queue.EDITABLE_FIELDS}, status_code=status_code)


@router.get("/review/{item_id}")
def review_item(request: Request, item_id: RowId) -> Response:
    info, actor = require_officer(request)
    return _item_page(request, info, actor, item_id)


@router.post("/review/{item_id}/decide")
def review_decide(request: Request, item_id: RowId, form: PostedForm) -> Response:
    info, actor = require_officer(request)
    check_csrf(request, form, info)
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    try:
        decision = views.decision_from_form(values)
        # The same operation as `vaxtrust review decide`: one path, one audit trail.
        review.decide(store_of(request), actor, item_id, decision,
                      expected_version=form_version(values))
    except (ConfigError, ReviewConflict) as error:
        return _item_page(request, info, actor, item_id, str(error),
                          409 if isinstance(error, ReviewConflict) else 400, values)
    with acting(request, actor) as (session, actor):
        following = views.next_item_id(session, actor, item_id)
    target = f"/officer/review/{following}?decided={item_id}" if following \
        else f"/officer/review?decided={item_id}"
    return RedirectResponse(target, status_code=303)


@router.get("/records/{record_id}")
def record(request: Request, record_id: KeyId) -> Response:
    info, actor = require_officer(request)
    with acting(request, actor) as (session, actor):
        view = views.record_page(session, actor, record_id)
    return page(request, "record.html", info, actor, {"view": view})


@router.get("/persons/{person_id}")
def person(request: Request, person_id: KeyId) -> Response:
    info, actor = require_officer(request)
    with acting(request, actor) as (session, actor):
        view = views.person_page(session, actor, person_id)
    return page(request, "person.html", info, actor, {"view": view})


@router.get("/signing")
def signing_page(request: Request, started: int = 0) -> Response:
    info, actor = require_officer(request)
    with acting(request, actor) as (session, actor):
        view = views.signing_page(session, actor)
    recent = (batches.recent_batches(store_of(request), actor)
              if actor.role is Role.MINISTRY else None)
    return page(request, "signing.html", info, actor, {
        "view": view, "batches": recent, "started": started,
        "can_start": request.app.state.batch_plan is not None})


@router.post("/signing/batches")
def signing_start(request: Request, form: PostedForm) -> Response:
    """Start a signing batch (ministry only); the page then shows its progress."""
    info, actor = require_officer(request)
    check_csrf(request, form, info)
    started = batches.start_batch(store_of(request), actor, request.app.state.batch_plan,
                                  runner=request.app.state.batch_runner)
    return RedirectResponse(f"/officer/signing?started={started.id}#batches", status_code=303)


def _users(request: Request, actor: Actor) -> list[Any]:
    return [(user.username, user.role, user.scope, user.active)
            for user in users_app.list_users(store_of(request), actor)]


@router.get("/users")
def users(request: Request) -> Response:
    info, actor = require_officer(request)
    return page(request, "users.html", info, actor, {"users": _users(request, actor),
                                                     "error": None, "created": None})


@router.post("/users")
def users_create(request: Request, form: PostedForm) -> Response:
    info, actor = require_officer(request)
    check_csrf(request, form, info)
    role = form_text(form, "role", limit=20)
    scope = {name: form_text(form, name, limit=64) or None
             for name in ("province_code", "facility_id", "commune_code", "person_id")}
    if actor.role is Role.PROVINCE and not scope["province_code"]:
        scope["province_code"] = actor.province_code    # the store refuses any other province
    username = form_text(form, "username", limit=64)
    try:
        users_app.add_user(store_of(request), actor, users_app.NewUser(
            username=username, role=role,
            display_name=form_text(form, "display_name", limit=200) or None, **scope),
            password=form_text(form, "password", limit=1024) or None)
    except (ConfigError, NotFound, PermissionDenied) as error:
        if isinstance(error, PermissionDenied):
            actor.require(Permission.MANAGE_USERS)
        return page(request, "users.html", info, actor, {
            "users": _users(request, actor), "error": str(error), "created": None}, 400)
    return page(request, "users.html", info, actor, {
        "users": _users(request, actor), "error": None, "created": username})
