"""Citizens' complaints ("phản ánh", issue #15): the citizen's form and status page, the
officer's inbox and complaint page.

A thin shell over ``vaxtrust.app.complaints`` (the operations behind ``vaxtrust complaints``):
filing, listing, assigning, escalating, refusing and resolving are the app's, with its scope
and audit trail; resolving goes through the review decision path. See docs/complaints.md.
"""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from vaxtrust.app import complaints as complaints_app
from vaxtrust.complaints.grounds import GROUNDS
from vaxtrust.complaints.model import CATEGORY_TEXT, OPEN_STATES
from vaxtrust.complaints.standardise import Problem
from vaxtrust.errors import ConfigError, NotFound, ReviewConflict
from vaxtrust.store import records
from vaxtrust.store.scope import Actor
from vaxtrust.store.tables import COMPLAINT_STATES
from vaxtrust.web import complaint_views
from vaxtrust.web.complaint_views import Upload
from vaxtrust.web.deps import (
    PostedForm,
    RowId,
    acting,
    check_csrf,
    citizen_actor,
    citizen_session,
    form_text,
    form_version,
    render,
    require_officer,
    store_of,
)
from vaxtrust.web.sessions import SessionInfo

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
FINAL = ("resolved", "refused")


# ---------------------------------------------------------------- citizens

def citizen_outcomes(request: Request, actor: Actor) -> list[dict[str, Any]]:
    """The citizen's complaints, newest first, with the outcome of those settled."""
    store = store_of(request)
    rows = []
    for summary in complaints_app.citizen_complaints(store, actor):
        detail = (complaints_app.show_complaint(store, actor, summary.id)
                  if summary.state in FINAL else None)
        rows.append({"summary": summary, "ground": detail.refusal_ground if detail else None,
                     "note": detail.resolution_note if detail else None,
                     "settled_at": detail.resolved_at if detail else None})
    return rows


def _citizen_page(request: Request, info: SessionInfo, *, values: dict[str, str | None],
                  problems: dict[str, list[str]] | None = None,
                  status_code: int = 200) -> Response:
    actor = citizen_actor(info)
    return render(request, "citizen_complaints.html", {
        "complaints": citizen_outcomes(request, actor), "values": values,
        "problems": problems or {}, "categories": list(CATEGORY_TEXT),
        "vaccines": complaint_views.vaccine_choices(), "more_doses": complaint_views.MORE_DOSES,
        "filed": request.query_params.get("filed", "")[:12]},
        session=info, status_code=status_code)


def _prefilled(request: Request, actor: Actor) -> dict[str, str | None]:
    """The citizen's name, date of birth and ID number as the register holds them."""
    person_id = actor.person_id
    assert person_id is not None
    with acting(request, actor) as (session, actor):
        person = records.get_person(session, actor, person_id)
    day = person.dob or ""
    return {"full_name": person.full_name, "id_number": person.person_id,
            "dob": f"{day[8:10]}/{day[5:7]}/{day[0:4]}" if len(day) == 10 else day}


@router.get("/citizen/complaints")
def citizen_complaints(request: Request) -> Response:
    info = citizen_session(request)
    if info is None:
        return RedirectResponse("/citizen", status_code=303)
    return _citizen_page(request, info, values=_prefilled(request, citizen_actor(info)))


def file_from(request: Request, info: SessionInfo,
              upload: Upload) -> complaints_app.Filed | list[Problem]:
    """File the citizen's complaint (all problems at once; nothing stored unless all is well)."""
    if upload.too_large:
        return [Problem("attachment", "attachment_too_large")]
    return complaints_app.file_complaint(
        complaint_views.complaint_settings(request), store_of(request), citizen_actor(info),
        upload.values, attachment=upload.photo, notifier=complaint_views.notifier_of(request))


@router.post("/citizen/complaints")
async def citizen_file(request: Request) -> Response:
    info = await to_thread.run_sync(citizen_session, request)
    if info is None:
        return RedirectResponse("/citizen", status_code=303)
    form, upload = await complaint_views.read_complaint_form(request)
    if not upload.too_large:    # an unread body changes nothing: only the message answers it
        check_csrf(request, form, info)
    # triage and the photo's re-encoding take the store and the CPU: off the event loop
    filed = await to_thread.run_sync(file_from, request, info, upload)
    if isinstance(filed, list):
        return _citizen_page(request, info, values=upload.values,
                             problems=complaint_views.problem_messages(filed), status_code=400)
    return RedirectResponse(f"/citizen/complaints?filed={filed.complaint_id}#mine",
                            status_code=303)


# ---------------------------------------------------------------- officers

def inbox_filter(state: str, facility: str, overdue: bool, after: str,
                 limit: int = PAGE_SIZE) -> complaints_app.ComplaintFilter:
    """``state``: "" (open ones), "all", or one state; every filter narrows the scope only."""
    states = (COMPLAINT_STATES if state == "all" else
              (state,) if state in COMPLAINT_STATES else OPEN_STATES)
    return complaints_app.ComplaintFilter(states=states, facility_id=facility or None,
                                          overdue=overdue, after=after or None, limit=limit)


@router.get("/officer/complaints")
def inbox(request: Request, state: str = "", facility: str = "", overdue: str = "",
          after: str = "") -> Response:
    info, actor = require_officer(request)
    query = inbox_filter(state[:20], facility[:64], overdue == "1", after[:200])
    found = complaints_app.list_complaints(store_of(request), actor, query)
    return render(request, "complaint_inbox.html", {
        "actor": actor, "page": found, "states": COMPLAINT_STATES,
        "filters": {"state": state, "facility": facility, "overdue": overdue == "1",
                    "after": after},
        "settled": request.query_params.get("settled", "")[:12]}, session=info)


def _complaint_page(request: Request, info: SessionInfo, actor: Actor, complaint_id: int, *,
                    error: str | None = None, values: dict[str, str] | None = None,
                    status_code: int = 200) -> Response:
    detail = complaints_app.show_complaint(store_of(request), actor, complaint_id)
    return render(request, "complaint.html", {
        "actor": actor, "detail": detail, "c": detail.summary,
        "rows": complaint_views.compare_rows(detail), "grounds": GROUNDS,
        "vaccines": complaint_views.vaccine_choices(), "error": error, "values": values or {},
        "done": request.query_params.get("done", "")[:20]},
        session=info, status_code=status_code)


@router.get("/officer/complaints/{complaint_id}")
def complaint(request: Request, complaint_id: RowId) -> Response:
    info, actor = require_officer(request)
    return _complaint_page(request, info, actor, complaint_id)


def _officer_action(request: Request, complaint_id: int, action: str,
                   form: FormData) -> Response:
    """One of the complaint page's forms, through the app's operation of the same name."""
    info, actor = require_officer(request)
    check_csrf(request, form, info)
    values = {key: form_text(form, key, limit=2000) for key in
              ("note", "reason", "ground", "record_id", "assignee", "facility_id", "version")}
    store, version = store_of(request), form_version(values)
    notifier = complaint_views.notifier_of(request)
    try:
        if action == "resolve":
            complaints_app.resolve(store, actor, complaint_id, note=values["note"],
                                   record_id=values["record_id"] or None,
                                   expected_version=version, notifier=notifier)
        elif action == "refuse":
            complaints_app.refuse(store, actor, complaint_id, ground=values["ground"],
                                  note=values["note"], expected_version=version,
                                  notifier=notifier)
        elif action == "assign":
            complaints_app.assign(store, actor, complaint_id,
                                  assignee=values["assignee"] or None,
                                  facility_id=values["facility_id"] or None,
                                  reason=values["reason"] or None, expected_version=version)
        else:
            complaints_app.escalate(store, actor, complaint_id, reason=values["reason"],
                                    expected_version=version)
    except (ConfigError, ReviewConflict, NotFound) as error:
        # The page itself answers 404 when the complaint is outside the officer's scope.
        return _complaint_page(request, info, actor, complaint_id, error=str(error),
                               values={**values, "action": action},
                               status_code=409 if isinstance(error, ReviewConflict) else 400)
    if action in ("resolve", "refuse"):
        return RedirectResponse(f"/officer/complaints?settled={complaint_id}", status_code=303)
    return RedirectResponse(f"/officer/complaints/{complaint_id}?done={action}",
                            status_code=303)


@router.post("/officer/complaints/{complaint_id}/resolve")
def resolve(request: Request, complaint_id: RowId, form: PostedForm) -> Response:
    return _officer_action(request, complaint_id, "resolve", form)


@router.post("/officer/complaints/{complaint_id}/refuse")
def refuse(request: Request, complaint_id: RowId, form: PostedForm) -> Response:
    return _officer_action(request, complaint_id, "refuse", form)


@router.post("/officer/complaints/{complaint_id}/assign")
def assign(request: Request, complaint_id: RowId, form: PostedForm) -> Response:
    return _officer_action(request, complaint_id, "assign", form)


@router.post("/officer/complaints/{complaint_id}/escalate")
def escalate(request: Request, complaint_id: RowId, form: PostedForm) -> Response:
    return _officer_action(request, complaint_id, "escalate", form)


@router.get("/officer/complaints/{complaint_id}/attachments/{sha256}")
def attachment(request: Request, complaint_id: RowId, sha256: str) -> Response:
    """The photo, only to an officer who may see the complaint (404 otherwise)."""
    _, actor = require_officer(request)
    files = complaints_app.attachment_store(complaint_views.complaint_settings(request))
    data, kind = complaints_app.attachment(store_of(request), actor, complaint_id, sha256[:64],
                                           files)
    return complaint_views.attachment_response(data, kind, complaint_id, sha256)
