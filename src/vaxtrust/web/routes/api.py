"""The JSON API (``/api/v1``): every action of the pages, with the same authorisation.

Officers sign in with ``POST /session`` and send ``Authorization: Bearer TOKEN`` (or the page
cookie plus ``X-CSRF-Token``). Errors have one shape: ``{ok, status, error, errors}``.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import (
    APIRouter,
    BackgroundTasks,
    Depends,
    File,
    HTTPException,
    Query,
    Request,
)
from fastapi.responses import Response
from pydantic import BaseModel, Field

from vaxtrust.app import records as records_app
from vaxtrust.app import review
from vaxtrust.app import users as users_app
from vaxtrust.review import queue
from vaxtrust.store.scope import Actor, Role
from vaxtrust.store.tables import RECORD_STATUSES, REVIEW_STATES, SIGNING_STATES
from vaxtrust.web import batches, lookup, views
from vaxtrust.web.deps import (
    KeyId,
    RowId,
    acting,
    check_csrf,
    citizen_actor,
    citizen_session,
    require_officer,
    settings_of,
    store_of,
)
from vaxtrust.web.login import sign_in
from vaxtrust.web.routes.citizens import (
    begin_lookup,
    certificate_pdf,
    certificate_png,
    citizen_view,
)
from vaxtrust.web.routes.verifiers import verifier_of
from vaxtrust.web.sessions import SessionInfo, create_session, end_session


class ErrorBody(BaseModel):
    """The one error shape of the API."""

    ok: Literal[False] = False
    status: int
    error: str
    errors: list[str]


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"description": text, "model": ErrorBody} for status, text in (
        (400, "Bad input"), (401, "Not signed in"), (403, "Not allowed"), (404, "Not found"),
        (409, "Changed by someone else"), (422, "Not valid"), (429, "Too many requests"))}
router = APIRouter(responses=ERRORS)

Officer = Annotated[tuple[SessionInfo, Actor], Depends(require_officer)]


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class SessionOut(BaseModel):
    token: str
    csrf_token: str
    expires_in_minutes: int


class DecisionIn(BaseModel):
    action: Literal["accept", "reject_all", "edit", "defer"]
    note: str = Field(min_length=1, max_length=2000)
    rank: int | None = Field(None, ge=1, le=100)
    fields: dict[str, str] = Field(default_factory=dict)
    person_id: str | None = Field(None, max_length=32)
    version: int | None = Field(None, ge=1)


class UserIn(BaseModel):
    username: str = Field(min_length=2, max_length=64)
    role: Literal["ministry", "province", "facility", "commune_police", "citizen"]
    display_name: str | None = Field(None, max_length=200)
    province_code: str | None = Field(None, max_length=64)
    facility_id: str | None = Field(None, max_length=64)
    commune_code: str | None = Field(None, max_length=64)
    person_id: str | None = Field(None, max_length=32)
    password: str | None = Field(None, min_length=1, max_length=1024,
                                 description="First password (else set later)")


class VerifyIn(BaseModel):
    text: str = Field(min_length=1, max_length=8000)


class LookupIn(BaseModel):
    id_number: str = Field(min_length=1, max_length=40)
    dob: str = Field(min_length=1, max_length=40, description="YYYY-MM-DD or dd/mm/yyyy")
    phone: str = Field(min_length=1, max_length=40)


class CodeIn(BaseModel):
    challenge: str = Field(min_length=1, max_length=200)
    code: str = Field(min_length=1, max_length=20)


def _state_change(request: Request, info: SessionInfo) -> None:
    check_csrf(request, None, info)


# ---------------------------------------------------------------- officers

@router.post("/session", tags=["officers"], operation_id="session-create",
             response_model=SessionOut)
def session_create(request: Request, body: Credentials) -> SessionOut:
    """Sign in; the token goes in ``Authorization: Bearer``."""
    address = request.client.host if request.client else "unknown"
    actor = sign_in(store_of(request), body.username, body.password, address)
    if actor is None:
        raise HTTPException(401, "sign-in failed: unknown username or wrong password, or too "
                            "many attempts (wait a few minutes and try again)")
    minutes = settings_of(request).session_minutes
    info = create_session(store_of(request), minutes=minutes, username=actor.username)
    return SessionOut(token=info.token, csrf_token=info.csrf_token, expires_in_minutes=minutes)


@router.delete("/session", tags=["officers"], operation_id="session-delete", status_code=204)
def session_delete(request: Request, officer: Officer) -> Response:
    """Sign out (the token stops working at once)."""
    info, _ = officer
    _state_change(request, info)
    end_session(store_of(request), info.token)
    return Response(status_code=204)


@router.get("/me", tags=["officers"], operation_id="me-show")
def me(officer: Officer) -> dict[str, Any]:
    _, actor = officer
    return {"username": actor.username, "role": actor.role.value, "scope": actor.scope_label()}


@router.get("/dashboard", tags=["officers"], operation_id="dashboard-show")
def dashboard(request: Request, officer: Officer) -> dict[str, Any]:
    with acting(request, officer[1]) as (session, actor):
        return views.dashboard(session, actor).to_json()


@router.get("/review/items", tags=["review"], operation_id="review-list")
def review_list(
    request: Request, officer: Officer,
    reason: Annotated[str | None, Query(max_length=64)] = None,
    facility: Annotated[str | None, Query(max_length=64)] = None,
    state: Annotated[Literal["open", "deferred", "decided", "superseded"] | None, Query()] = None,
    older_than_days: Annotated[int, Query(ge=0, le=views.MAX_AGE_DAYS,
                                          description="Only items waiting longer (0: any)")] = 0,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> dict[str, Any]:
    states = [state] if state in REVIEW_STATES else list(queue.AWAITING)
    result = review.list_items(store_of(request), officer[1], review.ItemFilter(
        facility_id=facility, reason=reason, states=states,
        created_before=views.waiting_longer_than(older_than_days), page=page,
        page_size=page_size))
    return {"items": [asdict(item) for item in result.items], "total": result.total,
            "page": result.page, "pages": result.pages}


@router.get("/review/items/{item_id}", tags=["review"], operation_id="review-show")
def review_show(request: Request, officer: Officer, item_id: RowId) -> dict[str, Any]:
    return asdict(review.show_item(store_of(request), officer[1], item_id))


@router.post("/review/items/{item_id}/decision", tags=["review"], operation_id="review-decide")
def review_decide(request: Request, officer: Officer, item_id: RowId,
                  body: DecisionIn) -> dict[str, Any]:
    """Decide in one step, through the same code as ``vaxtrust review decide``."""
    info, actor = officer
    _state_change(request, info)
    values = {"action": body.action if body.action != "accept" else f"accept:{body.rank or ''}",
              "note": body.note, "person_id": body.person_id or ""}
    values.update({f"edit_{name}": value for name, value in body.fields.items()})
    decision = views.decision_from_form(values)
    if isinstance(decision, queue.EditFields):
        decision = queue.EditFields(dict(body.fields), body.note, body.person_id)
    result = review.decide(store_of(request), actor, item_id, decision,
                           expected_version=body.version)
    with acting(request, actor) as (session, actor):
        following = views.next_item_id(session, actor, item_id)
    return {**asdict(result), "next_item_id": following}


@router.get("/records", tags=["records"], operation_id="records-list")
def records_list(
    request: Request, officer: Officer,
    status: Annotated[Literal["verified", "corrected", "review", "unmatched", "rejected"] | None,
                      Query()] = None,
    facility: Annotated[str | None, Query(max_length=64)] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> dict[str, Any]:
    assert status is None or status in RECORD_STATUSES
    result = records_app.list_records(store_of(request), officer[1], status=status,
                                      facility_id=facility, page=page, page_size=page_size)
    return {"items": [asdict(record) for record in result.items], "total": result.total,
            "page": result.page, "pages": result.pages}


@router.get("/records/{record_id}", tags=["records"], operation_id="records-show")
def record_show(request: Request, officer: Officer, record_id: KeyId) -> dict[str, Any]:
    with acting(request, officer[1]) as (session, actor):
        view = views.record_page(session, actor, record_id)
        return {"record": views.record_json(view.record),
                "history": [asdict(value) for value in view.history], "events": view.events,
                "doses": [views.dose_json(dose) for dose in view.doses],
                "certificates": [views.certificate_json(c) for c in view.certificates]}


@router.get("/persons/{person_id}", tags=["records"], operation_id="persons-show")
def person_show(request: Request, officer: Officer, person_id: KeyId) -> dict[str, Any]:
    with acting(request, officer[1]) as (session, actor):
        view = views.person_page(session, actor, person_id)
        person = view.person
        return {"person": {"person_id": person.person_id, "full_name": person.full_name,
                           "dob": person.dob, "gender": person.gender,
                           "province_code": person.province_code},
                "records": [views.record_json(record) for record in view.records],
                "doses": [views.dose_json(dose) for dose in view.doses],
                "certificates": [views.certificate_json(c) for c in view.certificates]}


@router.get("/signing/tasks", tags=["signing"], operation_id="signing-list")
def signing_tasks(
    request: Request, officer: Officer,
    state: Annotated[Literal["pending", "claimed", "done", "failed"], Query()] = "pending",
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> dict[str, Any]:
    assert state in SIGNING_STATES
    return {"tasks": [asdict(task) for task in records_app.signing_tasks(
        store_of(request), officer[1], state=state, limit=limit)]}


@router.post("/signing/batches", tags=["signing"], operation_id="signing-batch-start",
             status_code=202)
def signing_batch_start(request: Request, officer: Officer) -> dict[str, Any]:
    """Start a signing batch (ministry only); poll its state with ``signing-batch-get``."""
    info, actor = officer
    _state_change(request, info)
    started = batches.start_batch(store_of(request), actor, request.app.state.batch_plan,
                                  runner=request.app.state.batch_runner)
    return started.to_json()


@router.get("/signing/batches", tags=["signing"], operation_id="signing-batch-list")
def signing_batch_list(request: Request, officer: Officer,
                       limit: Annotated[int, Query(ge=1, le=100)] = 5) -> dict[str, Any]:
    return {"batches": [view.to_json() for view in batches.recent_batches(
        store_of(request), officer[1], limit=limit)]}


@router.get("/signing/batches/{batch_id}", tags=["signing"], operation_id="signing-batch-get")
def signing_batch_get(request: Request, officer: Officer,
                      batch_id: RowId) -> dict[str, Any]:
    """A batch's state (running, done, failed), progress and result."""
    return batches.batch(store_of(request), officer[1], batch_id).to_json()


@router.get("/users", tags=["users"], operation_id="users-list")
def users_list(request: Request, officer: Officer) -> dict[str, Any]:
    return {"users": [asdict(user) for user in users_app.list_users(store_of(request),
                                                                     officer[1])]}


@router.post("/users", tags=["users"], operation_id="users-create", status_code=201)
def users_create(request: Request, officer: Officer, body: UserIn) -> dict[str, Any]:
    info, actor = officer
    _state_change(request, info)
    values = body.model_dump(exclude={"password"})
    if actor.role is Role.PROVINCE and not values["province_code"]:
        values["province_code"] = actor.province_code    # the store refuses any other province
    user = users_app.add_user(store_of(request), actor, users_app.NewUser(**values),
                              password=body.password)
    return {"username": user.username, "role": user.role}


# ---------------------------------------------------------------- verifiers

@router.post("/verify", tags=["verifiers"], operation_id="verify-text")
def verify_text(request: Request, body: VerifyIn) -> dict[str, Any]:
    """Verify ``HC1:`` text: valid or not, the reason code, the holder."""
    return verifier_of(request).verify_text(body.text).to_json()


@router.post("/verify/image", tags=["verifiers"], operation_id="verify-image")
def verify_image(request: Request,
                 image: Annotated[bytes, File(description="PNG/JPEG with the QR")]) \
        -> dict[str, Any]:
    if len(image) > settings_of(request).max_upload_bytes:
        raise HTTPException(413, "the upload is too large")
    return verifier_of(request).verify_image(image).to_json()


@router.get("/trust-list", tags=["verifiers"], operation_id="trust-list-download")
def trust_list(request: Request) -> Response:
    return Response(verifier_of(request).document("trust"), media_type="application/json")


@router.get("/revocation-list", tags=["verifiers"], operation_id="revocation-list-download")
def revocation_list(request: Request) -> Response:
    return Response(verifier_of(request).document("revocation"), media_type="application/json")


# ---------------------------------------------------------------- citizens

@router.post("/citizen/lookup", tags=["citizens"], operation_id="citizen-lookup")
async def citizen_lookup(request: Request, body: LookupIn,
                         background: BackgroundTasks) -> dict[str, str]:
    """Always the same answer: a challenge; a code goes to the phone if the details match."""
    token = await begin_lookup(request, background, id_number=body.id_number, dob=body.dob,
                               phone=body.phone)
    return {"challenge": token}


@router.post("/citizen/code", tags=["citizens"], operation_id="citizen-code")
def citizen_code(request: Request, body: CodeIn) -> dict[str, Any]:
    person_id = lookup.check_code(store_of(request), body.challenge, body.code)
    if person_id is None:
        raise HTTPException(400, "the code is not valid or has expired")
    minutes = settings_of(request).citizen_session_minutes
    info = create_session(store_of(request), minutes=minutes, person_id=person_id)
    return {"token": info.token, "expires_in_minutes": minutes}


@router.get("/citizen/record", tags=["citizens"], operation_id="citizen-record")
def citizen_record(request: Request) -> dict[str, Any]:
    info = citizen_session(request)
    if info is None:
        raise HTTPException(401, "look up your record first")
    view = citizen_view(request, citizen_actor(info))
    person = view["person"]
    certificate = view["certificate"]
    return {"full_name": person.full_name, "dob": person.dob,
            "records": [{"record_id": r.record_id, "status": r.status,
                         "vaccinated_on": r.original_vaccinated_on} for r in view["records"]],
            "doses": [views.dose_json(dose) for dose in view["doses"]],
            "certificate": views.certificate_json(certificate) if certificate else None}


@router.get("/citizen/certificate.pdf", tags=["citizens"], operation_id="citizen-certificate-pdf",
            response_class=Response, responses={200: {"content": {"application/pdf": {}}}})
def citizen_certificate_pdf(request: Request) -> Response:
    """The citizen's current certificate as the bilingual PDF."""
    return certificate_pdf(request)


@router.get("/citizen/certificate.png", tags=["citizens"], operation_id="citizen-certificate-png",
            response_class=Response, responses={200: {"content": {"image/png": {}}}})
def citizen_certificate_png(request: Request) -> Response:
    """The citizen's current certificate as its QR image."""
    return certificate_png(request)


@router.delete("/citizen/session", tags=["citizens"], operation_id="citizen-session-delete",
               status_code=204)
def citizen_session_delete(request: Request) -> Response:
    """Close the record (the citizen's token stops working at once)."""
    info = citizen_session(request)
    if info is None:
        raise HTTPException(401, "look up your record first")
    _state_change(request, info)
    end_session(store_of(request), info.token)
    return Response(status_code=204)


# FastAPI tries an included router's routes in order, twice per request (once to pick the router,
# once to pick the route): the look-up and the verifier, which come by the hundred a second, are
# tried first instead of after twenty others (~0.1 ms less per request). No other API path can
# match theirs, so the order changes no answer; the OpenAPI schema lists them first.
BUSIEST = ("citizen-lookup", "verify-text")
router.routes.sort(key=lambda route: getattr(route, "operation_id", None) not in BUSIEST)
