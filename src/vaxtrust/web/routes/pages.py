"""The portal's front page, the language switch and a health check."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from vaxtrust.web import i18n
from vaxtrust.web.app import LANG_COOKIE
from vaxtrust.web.deps import officer_session, render, settings_of

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request) -> Response:
    return render(request, "home.html", {}, session=officer_session(request))


@router.get("/lang/{language}")
def switch_language(request: Request, language: str, next: str = "/") -> Response:
    """Set the language cookie and go back (only to a path on this site)."""
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    if language in i18n.LANGUAGES:
        response.set_cookie(LANG_COOKIE, language, max_age=365 * 86400, samesite="lax",
                            secure=settings_of(request).secure_cookies, httponly=True)
    return response


@router.get("/healthz")
def health() -> dict[str, str]:
    return {"status": "ok"}
