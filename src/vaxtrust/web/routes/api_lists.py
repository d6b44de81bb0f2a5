"""The commune police lists of procedure 2262/BYT-CNTT under ``/api/v1/lists`` (issue 16): what
the pages at ``/officer/lists`` do, through the same calls and scope (``vaxtrust.app.police_lists``):
export a commune's list, apply the police's answered list, read an import's outcome and its
refused rows."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, File, HTTPException, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from vaxtrust.app import police_lists
from vaxtrust.web.deps import RowId, settings_of, store_of
from vaxtrust.web.routes.api import ERRORS, Officer, _state_change
from vaxtrust.web.routes.police_lists import applied_list, exported_list, rejected_rows
from vaxtrust.web.routes.reports import MEDIA

router = APIRouter(prefix="/lists", tags=["lists"], responses=ERRORS)
WORKBOOK: dict[int | str, dict[str, Any]] = {200: {"content": {MEDIA["xlsx"]: {}}, "description": "The list as Excel"}}


class ExportIn(BaseModel):
    commune: str = Field(min_length=1, max_length=12, description="The commune's code")


@router.get("", operation_id="lists-overview")
def overview(request: Request, officer: Officer) -> dict[str, Any]:
    """Communes with records to authenticate, the lists exported and the recent imports."""
    store, actor = store_of(request), officer[1]
    return {"communes": police_lists.communes(store, actor),
            "exported": police_lists.exported_lists(store, actor),
            "imports": [asdict(result) for result in police_lists.recent_imports(store, actor)]}


@router.post("/export", operation_id="lists-export", response_class=Response,
             responses=WORKBOOK)
def export(request: Request, officer: Officer, body: ExportIn) -> Response:
    """One commune's list as Excel (a new list id each time)."""
    _state_change(request, officer[0])
    return exported_list(store_of(request), officer[1], body.commune)


@router.post("/import", operation_id="lists-import", status_code=201)
def import_answers(request: Request, officer: Officer,
                   file: Annotated[UploadFile, File(description="The answered list (.xlsx)")]) \
        -> dict[str, Any]:
    """Apply the police's answered list: each answer a review decision; refused rows with why."""
    _state_change(request, officer[0])
    if file.size is not None and file.size > settings_of(request).max_upload_bytes:
        raise HTTPException(413, "the upload is too large")
    result = applied_list(store_of(request), officer[1], file.filename or "", file.file.read())
    return asdict(result)


@router.get("/imports/{import_id}", operation_id="lists-import-show")
def import_show(request: Request, officer: Officer, import_id: RowId) -> dict[str, Any]:
    """An import's outcome: applied, unchanged, unanswered and refused rows."""
    return asdict(police_lists.import_outcome(store_of(request), officer[1], import_id))


@router.get("/imports/{import_id}/rejects.xlsx", operation_id="lists-import-rejects",
            response_class=Response, responses=WORKBOOK)
def import_rejects(request: Request, officer: Officer, import_id: RowId) -> Response:
    """An import's refused rows as Excel."""
    return rejected_rows(police_lists.import_outcome(store_of(request), officer[1], import_id))
