"""Citizen pages (no account): look up one's own record with a one-time code, see the doses,
download the certificate."""

from __future__ import annotations

from functools import partial
from typing import Any

from anyio import to_thread
from fastapi import APIRouter, BackgroundTasks, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from vaxtrust.signing import queue as signing
from vaxtrust.store import records
from vaxtrust.store.scope import Actor
from vaxtrust.web import lookup
from vaxtrust.web.async_store import AsyncStore
from vaxtrust.web.certificates import qr_text_of
from vaxtrust.web.codes import CodeSender, is_local
from vaxtrust.web.deps import (
    CITIZEN_COOKIE,
    PostedForm,
    acting,
    check_csrf,
    citizen_actor,
    citizen_session,
    form_text,
    read_form,
    render,
    settings_of,
    sign_out,
    store_of,
)
from vaxtrust.web.sessions import create_session

router = APIRouter(include_in_schema=False)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def begin_lookup(request: Request, background: BackgroundTasks, *, id_number: str,
                       dob: str, phone: str) -> str:
    """Start a look-up (same answer whoever it is); the code is sent after the answer.

    On PostgreSQL it stays on the event loop (the async pool); on SQLite it runs in a worker
    thread, as sync routes do."""
    settings = settings_of(request)
    details: dict[str, Any] = {
        "address": client_address(request), "id_number": id_number, "dob_text": dob,
        "phone_text": phone, "minutes": settings.code_minutes, "tries": settings.code_tries}
    database: AsyncStore | None = request.app.state.async_store
    if database is not None:
        started = await lookup.start_lookup_async(database, request.app.state.limits, **details)
    else:
        started = await to_thread.run_sync(partial(
            lookup.start_lookup, store_of(request), request.app.state.limits, **details))
    if started is None:
        raise HTTPException(429, "too many look-ups; try again later")
    token, to_send = started
    if to_send is not None:
        sender: CodeSender = request.app.state.sender
        # A local sender on the loop; any other (a gateway may block) as a sync task, which
        # Starlette runs in a worker thread.
        if is_local(sender):
            background.add_task(_send_on_the_loop, sender, *to_send, minutes=settings.code_minutes)
        else:
            background.add_task(sender.send, *to_send, minutes=settings.code_minutes)
    return token


async def _send_on_the_loop(sender: CodeSender, phone: str, code: str, *, minutes: int) -> None:
    sender.send(phone, code, minutes=minutes)


@router.get("/citizen")
def lookup_form(request: Request) -> Response:
    return render(request, "citizen_lookup.html", {"error": None})


@router.post("/citizen/lookup")
async def lookup_submit(request: Request, background: BackgroundTasks) -> Response:
    form = await read_form(request)
    check_csrf(request, form, None)
    values = {name: form_text(form, name, limit=40) for name in ("id_number", "dob", "phone")}
    if not all(values.values()):
        return render(request, "citizen_lookup.html",
                      {"error": "missing", "values": values}, status_code=400)
    token = await begin_lookup(request, background, id_number=values["id_number"],
                               dob=values["dob"], phone=values["phone"])
    return render(request, "citizen_code.html", {"challenge": token, "error": False})


@router.post("/citizen/code")
def code_submit(request: Request, form: PostedForm) -> Response:
    check_csrf(request, form, None)
    token = form_text(form, "challenge", limit=200)
    person_id = lookup.check_code(store_of(request), token, form_text(form, "code", limit=20))
    if person_id is None:
        return render(request, "citizen_code.html", {"challenge": token, "error": True},
                      status_code=400)
    settings = settings_of(request)
    info = create_session(store_of(request), minutes=settings.citizen_session_minutes,
                          person_id=person_id)
    response = RedirectResponse("/citizen/record", status_code=303)
    response.set_cookie(CITIZEN_COOKIE, info.token, httponly=True, samesite="strict",
                        secure=settings.secure_cookies,
                        max_age=settings.citizen_session_minutes * 60)
    return response


def citizen_view(request: Request, actor: Actor) -> dict[str, Any]:
    """The citizen's own records, doses and current certificate, read in the citizen scope."""
    person_id = actor.person_id
    assert person_id is not None
    with acting(request, actor) as (session, actor):
        own = list(records.list_records(session, actor, page_size=100).items)
        certificates = list(signing.active_certificates(session, actor, person_id))
        # Last: its one access event takes the audit chain's lock, held until the commit.
        person, doses = records.person_with_doses(session, actor, person_id)
    current = certificates[0] if certificates else None
    has_qr = bool(current and qr_text_of(settings_of(request).journals, current.uvci))
    return {"person": person, "records": own, "doses": list(doses), "certificate": current,
            "has_qr": has_qr}


@router.get("/citizen/record")
def citizen_record(request: Request) -> Response:
    info = citizen_session(request)
    if info is None:
        return RedirectResponse("/citizen", status_code=303)
    return render(request, "citizen_record.html", citizen_view(request, citizen_actor(info)),
                  session=info)


def current_qr(request: Request) -> str:
    info = citizen_session(request)
    if info is None:
        raise HTTPException(401, "look up your record first")
    actor = citizen_actor(info)
    person_id = actor.person_id
    assert person_id is not None
    with acting(request, actor) as (session, actor):
        certificates = signing.active_certificates(session, actor, person_id)
        uvci = certificates[0].uvci if certificates else None
    text = qr_text_of(settings_of(request).journals, uvci) if uvci else None
    if text is None:
        raise HTTPException(404, "no certificate to download yet")
    return text


@router.get("/citizen/certificate.png")
def certificate_png(request: Request) -> Response:
    from vaxtrust.passport import qr

    return Response(qr.png(current_qr(request), scale=6), media_type="image/png")


@router.get("/citizen/certificate.pdf")
def certificate_pdf(request: Request) -> Response:
    from vaxtrust.passport.pdf import certificate_pdf as make_pdf
    from vaxtrust.passport.verify import decode, validity

    text = current_qr(request)
    decoded = decode(text)
    issued_at, expires_at = validity(decoded)
    document = make_pdf(decoded.payload, text, issued_at=issued_at, expires_at=expires_at,
                        issuing_country=decoded.issuer_country or "VN")
    return Response(document, media_type="application/pdf",
                    headers={"Content-Disposition": "attachment; filename=chung-nhan-tiem.pdf"})


@router.post("/citizen/logout")
def citizen_logout(request: Request, form: PostedForm) -> Response:
    return sign_out(request, form, CITIZEN_COOKIE, citizen_session(request), "/citizen")
