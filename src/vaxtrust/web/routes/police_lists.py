"""The commune police lists of procedure 2262/BYT-CNTT on the web (issue 16): export a commune's
list, upload the police's answered list and see its outcome (applied, unchanged, rejected rows
with reasons; the rejects as Excel). The same calls and scope as ``vaxtrust lists``."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from vaxtrust.app import police_lists
from vaxtrust.errors import InputError
from vaxtrust.reports.police import ImportResult
from vaxtrust.reports.progress import admin_names
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor
from vaxtrust.web.deps import PostedForm, check_csrf, form_text, require_officer, store_of
from vaxtrust.web.routes.officers import page
from vaxtrust.web.routes.reports import MEDIA

router = APIRouter(prefix="/officer/lists", include_in_schema=False)
UPLOAD_SUFFIXES = (".xlsx", ".xlsm")


def _download(body: bytes, name: str) -> Response:
    return Response(body, media_type=MEDIA["xlsx"],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("")
def lists_page(request: Request) -> Response:
    info, actor = require_officer(request)
    store = store_of(request)
    return page(request, "police_lists.html", info, actor, {
        "communes": [(code, admin_names(code)[2])
                     for code in police_lists.communes(store, actor)],
        "exported": police_lists.exported_lists(store, actor),
        "imports": police_lists.recent_imports(store, actor)})


@router.post("/export")
def export(request: Request, form: PostedForm) -> Response:
    """One commune's list as Excel (a new list id each time: the store keeps its rows)."""
    info, actor = require_officer(request)
    check_csrf(request, form, info)
    return exported_list(store_of(request), actor, form_text(form, "commune", limit=12))


def exported_list(store: Store, actor: Actor, commune: str) -> Response:
    """One commune's list as an Excel download (the pages' and the API's export)."""
    with tempfile.TemporaryDirectory() as folder:
        made = police_lists.export_lists(store, actor, Path(folder), commune=commune)[0]
        return _download(made.path.read_bytes(), made.path.name)


@router.post("/import")
def import_answers(request: Request, form: PostedForm) -> Response:
    info, actor = require_officer(request)
    check_csrf(request, form, info)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InputError("choose the answered list (an .xlsx file) to upload")
    result = applied_list(store_of(request), actor, upload.filename, upload.file.read())
    return RedirectResponse(f"/officer/lists/imports/{result.import_id}", status_code=303)


def applied_list(store: Store, actor: Actor, file_name: str, body: bytes) -> ImportResult:
    """The police's answered list applied (the pages' and the API's import)."""
    name = Path(file_name).name
    if not name.lower().endswith(UPLOAD_SUFFIXES):
        raise InputError(f"{name}: the answered list is an Excel file (.xlsx)")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "answers.xlsx"
        path.write_bytes(body)
        return police_lists.import_list(store, actor, path, file_name=name)


def _import_id(text: str) -> int:
    if not text.isdigit() or len(text) > 9:
        raise HTTPException(404, f"no list import {text}")
    return int(text)


@router.get("/imports/{import_id}")
def outcome_page(request: Request, import_id: str) -> Response:
    info, actor = require_officer(request)
    result = police_lists.import_outcome(store_of(request), actor, _import_id(import_id))
    return page(request, "police_list_import.html", info, actor, {"result": result})


@router.get("/imports/{import_id}/rejects.xlsx")
def rejects(request: Request, import_id: str) -> Response:
    _info, actor = require_officer(request)
    return rejected_rows(police_lists.import_outcome(store_of(request), actor,
                                                     _import_id(import_id)))


def rejected_rows(result: ImportResult) -> Response:
    """An import's refused rows as an Excel download."""
    with tempfile.TemporaryDirectory() as folder:
        path = police_lists.write_rejects(result, Path(folder) / "rejects.xlsx")
        return _download(path.read_bytes(), f"2262-tu-choi-{result.import_id}.xlsx")
