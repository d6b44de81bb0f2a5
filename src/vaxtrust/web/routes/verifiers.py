"""Verifier pages (no account): scan, upload or paste a certificate; one clear verdict."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from vaxtrust.web.deps import PostedForm, check_csrf, form_text, render
from vaxtrust.web.verifier import MAX_TEXT, Verdict, Verifier

router = APIRouter(include_in_schema=False)


def verifier_of(request: Request) -> Verifier:
    verifier: Verifier = request.app.state.verifier
    return verifier


@router.get("/verify")
def verify_form(request: Request) -> Response:
    return render(request, "verify.html", {"verdict": None,
                                           "configured": verifier_of(request).configured})


@router.post("/verify")
def verify_submit(request: Request, form: PostedForm) -> Response:
    check_csrf(request, form, None)
    verifier = verifier_of(request)
    upload = form.get("image")
    text = form_text(form, "text", limit=MAX_TEXT + 1)
    verdict: Verdict
    if isinstance(upload, UploadFile) and upload.filename:
        verdict = verifier.verify_image(upload.file.read())
    elif text:
        verdict = verifier.verify_text(text)
    else:
        verdict = Verdict(False, "no_qr", "give an image or the HC1: text")
    return render(request, "verify.html", {"verdict": verdict, "configured": verifier.configured})


@router.get("/verify/trust-list.json")
def trust_list(request: Request) -> Response:
    return Response(verifier_of(request).document("trust"), media_type="application/json",
                    headers={"Content-Disposition": "attachment; filename=trust-list.json"})


@router.get("/verify/revocation-list.json")
def revocation_list(request: Request) -> Response:
    return Response(verifier_of(request).document("revocation"), media_type="application/json",
                    headers={"Content-Disposition": "attachment; filename=revocation-list.json"})
