"""Headers every answer carries, CSRF tokens, and the errors a client may see.

No answer ever holds a traceback or SQL: errors of the vaxtrust tree show their one-line
message (written for users), everything else a generic sentence; the details go to the log.
"""

from __future__ import annotations

import hmac
import logging
import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vaxtrust.errors import (
    AlreadyRunning,
    CertificateError,
    ConfigError,
    InputError,
    NotFound,
    PermissionDenied,
    ReviewConflict,
    StoreError,
    VaxtrustError,
)

logger = logging.getLogger(__name__)

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")
HEADERS = {
    b"content-security-policy": CSP.encode(),
    b"x-frame-options": b"DENY",
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"no-referrer",
    b"permissions-policy": b"camera=(self), microphone=(), geolocation=()",
    b"cross-origin-opener-policy": b"same-origin",
}
CSRF_COOKIE = "vt_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class SecurityHeaders:
    """Adds the security headers to every response; personal pages are never cached."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                given = message.get("headers", [])
                # A route may set a stricter policy of its own (an attachment: sandbox).
                own = [(k, v) for k, v in given if k.lower() == b"content-security-policy"]
                headers = [(k, v) for k, v in given if k.lower() not in HEADERS] + own
                headers += [(k, v) for k, v in HEADERS.items()
                            if not (own and k == b"content-security-policy")]
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                if self.hsts:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


def status_and_message(error: Exception) -> tuple[int, str]:
    """The HTTP status and the message a client may see for ``error``."""
    for kind, status in ((NotFound, 404), (PermissionDenied, 403), (ReviewConflict, 409),
                         (AlreadyRunning, 409),
                         (ConfigError, 400), (InputError, 400), (CertificateError, 400)):
        if isinstance(error, kind):
            return status, str(error)
    if isinstance(error, StoreError | VaxtrustError):
        # Store failures may quote the database's own message (SQL, table names): never shown.
        logger.error("store failure: %s", error)
        return 503, "the service is unavailable; try again later"
    logger.exception("unexpected error", exc_info=error)
    return 500, "internal error; it has been logged"
