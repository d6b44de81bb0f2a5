"""The complaints' JSON API (``/api/v1``): every action of the complaint pages, with the same
authorisation (the store's complaint scope) and the same operations (``vaxtrust.app``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from anyio import to_thread
from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from vaxtrust.app import complaints as complaints_app
from vaxtrust.complaints.grounds import BY_CODE
from vaxtrust.complaints.model import CATEGORY_TEXT
from vaxtrust.schema import COMPLAINT_DOSE_COLUMNS
from vaxtrust.store.records import MAX_PAGE_SIZE
from vaxtrust.web import complaint_views
from vaxtrust.web.deps import RowId, citizen_actor, citizen_session, require_officer, store_of
from vaxtrust.web.routes.api import ERRORS, Officer, _state_change
from vaxtrust.web.routes.complaints import citizen_outcomes, file_from, inbox_filter

router = APIRouter(responses=ERRORS, tags=["complaints"])
StateChoice = Literal["open", "all", "received", "assigned", "in_progress", "resolved",
                      "refused", "escalated"]


class AssignIn(BaseModel):
    assignee: str | None = Field(None, max_length=64, description="Default: yourself")
    facility_id: str | None = Field(None, max_length=64, description="Hand it to a facility")
    reason: str | None = Field(None, max_length=2000,
                               description="Required when reassigning")
    version: int | None = Field(None, ge=1, le=2**31 - 1)


class ResolveIn(BaseModel):
    note: str = Field(min_length=1, max_length=2000)
    record_id: str | None = Field(None, max_length=64,
                                  description="Another record than the proposal's (checked)")
    version: int | None = Field(None, ge=1, le=2**31 - 1)


class RefuseIn(BaseModel):
    ground: str = Field(max_length=40, description="One of the 13 grounds of 9458/BYT-CNTT",
                        json_schema_extra={"enum": list(BY_CODE)})
    note: str = Field(min_length=1, max_length=2000)
    version: int | None = Field(None, ge=1, le=2**31 - 1)


class EscalateIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)
    version: int | None = Field(None, ge=1, le=2**31 - 1)


def _text(description: str, limit: int = 200, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "maxLength": limit, "description": description, **extra}


FORM_SCHEMA: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": {
        "type": "object", "required": ["full_name", "dob", "phone", "id_number", "category"],
        "properties": {
            "full_name": _text("Họ và tên / full name"),
            "dob": _text("Ngày sinh dd/mm/yyyy / date of birth", 40),
            "gender": _text("Nam / Nữ", 10),
            "phone": _text("Số điện thoại Việt Nam / Vietnamese phone", 40),
            "id_number": _text("CCCD (12 digits) / CMND (9 digits)", 40),
            "address": _text("Địa chỉ / address"),
            "province": _text("Tỉnh / province"), "district": _text("Huyện / district"),
            "category": _text("Loại phản ánh / complaint type", 40, enum=list(CATEGORY_TEXT)),
            "vaccine": _text("Vắc xin / vaccine", 80), "dose_number": _text("Mũi / dose", 10),
            "vaccinated_on": _text("Ngày tiêm dd/mm/yyyy / vaccination date", 40),
            "facility_id": _text("Cơ sở tiêm / facility", 64),
            "description": _text("Nội dung / what is wrong", complaint_views.DESCRIPTION_LIMIT),
            **{f"{column}_{n}": _text(f"Mũi thứ {n} trong phản ánh / the complaint's dose {n}: "
                                      f"{column}", 80)
               for n in complaint_views.MORE_DOSES for column in COMPLAINT_DOSE_COLUMNS},
            "attachment": {"type": "string", "format": "binary",
                           "description": "Ảnh giấy xác nhận tiêm (JPEG, PNG, WebP)"},
        }}}}}}


# ---------------------------------------------------------------- citizens

@router.get("/citizen/complaints", operation_id="citizen-complaints-list")
def citizen_list(request: Request) -> dict[str, Any]:
    """The citizen's own complaints (after the one-time code): state, deadline, outcome."""
    info = citizen_session(request)
    if info is None:
        raise HTTPException(401, "look up your record first")
    return {"complaints": [
        {**complaint_views.summary_json(row["summary"]), "refusal_ground": row["ground"],
         "resolution_note": row["note"], "resolved_at": row["settled_at"]}
        for row in citizen_outcomes(request, citizen_actor(info))]}


@router.post("/citizen/complaints", operation_id="citizen-complaints-file", status_code=201,
             openapi_extra=FORM_SCHEMA)
async def citizen_file(request: Request) -> Response:
    """File a complaint (multipart, with the photo); every problem is named at once, and
    nothing is stored unless there is none."""
    info = await to_thread.run_sync(citizen_session, request)
    if info is None:
        raise HTTPException(401, "look up your record first")
    form, upload = await complaint_views.read_complaint_form(request)
    if not upload.too_large:
        _state_change(request, info)
    # triage and the photo's re-encoding take the store and the CPU: off the event loop
    filed = await to_thread.run_sync(file_from, request, info, upload)
    if isinstance(filed, list):
        from vaxtrust.web.app import error_body

        return JSONResponse(error_body(400, "the complaint was not accepted",
                                       complaint_views.problem_lines(filed)), status_code=400)
    return JSONResponse({"complaint_id": filed.complaint_id, "deadline_at": filed.deadline_at,
                         "proposal": filed.proposal}, status_code=201)


# ---------------------------------------------------------------- officers

@router.get("/complaints", operation_id="complaints-list")
def complaints_list(
    request: Request, officer: Officer,
    state: Annotated[StateChoice, Query()] = "open",
    facility: Annotated[str | None, Query(max_length=64)] = None,
    overdue: bool = False,
    after: Annotated[str | None, Query(max_length=200,
                                       description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> dict[str, Any]:
    """The inbox: soonest deadline first, paged by keyset (``after``), never by offset."""
    found = complaints_app.list_complaints(store_of(request), officer[1], inbox_filter(
        "" if state == "open" else state, facility or "", overdue, after or "", limit))
    return {"items": [complaint_views.summary_json(item) for item in found.items],
            "next_cursor": found.next_cursor}


@router.get("/complaints/{complaint_id}", operation_id="complaints-show")
def complaints_show(request: Request, officer: Officer,
                    complaint_id: RowId) -> dict[str, Any]:
    """The claim, the triage proposal, the record and the register person."""
    return complaint_views.detail_json(
        complaints_app.show_complaint(store_of(request), officer[1], complaint_id))


@router.post("/complaints/{complaint_id}/assign", operation_id="complaints-assign")
def complaints_assign(request: Request, officer: Officer, complaint_id: RowId,
                      body: AssignIn) -> dict[str, Any]:
    info, actor = officer
    _state_change(request, info)
    return complaint_views.summary_json(complaints_app.assign(
        store_of(request), actor, complaint_id, assignee=body.assignee,
        facility_id=body.facility_id, reason=body.reason, expected_version=body.version))


@router.post("/complaints/{complaint_id}/escalate", operation_id="complaints-escalate")
def complaints_escalate(request: Request, officer: Officer, complaint_id: RowId,
                        body: EscalateIn) -> dict[str, Any]:
    info, actor = officer
    _state_change(request, info)
    return complaint_views.summary_json(complaints_app.escalate(
        store_of(request), actor, complaint_id, reason=body.reason,
        expected_version=body.version))


@router.post("/complaints/{complaint_id}/refuse", operation_id="complaints-refuse")
def complaints_refuse(request: Request, officer: Officer, complaint_id: RowId,
                      body: RefuseIn) -> dict[str, Any]:
    info, actor = officer
    _state_change(request, info)
    return complaint_views.summary_json(complaints_app.refuse(
        store_of(request), actor, complaint_id, ground=body.ground, note=body.note,
        expected_version=body.version, notifier=complaint_views.notifier_of(request)))


@router.post("/complaints/{complaint_id}/resolve", operation_id="complaints-resolve")
def complaints_resolve(request: Request, officer: Officer, complaint_id: RowId,
                       body: ResolveIn) -> dict[str, Any]:
    """Confirm the proposal (or name another record): the review decision path."""
    info, actor = officer
    _state_change(request, info)
    result = complaints_app.resolve(store_of(request), actor, complaint_id, note=body.note,
                                    record_id=body.record_id, expected_version=body.version,
                                    notifier=complaint_views.notifier_of(request))
    return {"complaint_id": result.complaint_id, "kind": result.kind,
            "record_id": result.record_id, "person_id": result.person_id,
            "decision_id": result.decision_id, "signing_queued": result.signing_queued}


@router.get("/complaints/{complaint_id}/attachments/{sha256}",
            operation_id="complaints-attachment",
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}},
                             "description": "The photo"}})
def complaints_attachment(request: Request, complaint_id: RowId,
                          sha256: Annotated[str, Path(pattern="^[0-9a-f]{64}$")]) -> Response:
    _, actor = require_officer(request)
    files = complaints_app.attachment_store(complaint_views.complaint_settings(request))
    data, kind = complaints_app.attachment(store_of(request), actor, complaint_id, sha256,
                                           files)
    return complaint_views.attachment_response(data, kind, complaint_id, sha256)
