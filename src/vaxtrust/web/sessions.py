"""Server-side sessions: an officer's after login, a citizen's after the one-time code.

The browser holds a random token; the store keeps only its SHA-256, the CSRF token and the
expiry (sliding: each request moves it forward). Logout deletes the row, so a copied cookie dies
with it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update

from vaxtrust.store.db import Store
from vaxtrust.store.tables import WebSession

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"   # the store's time text (tables.utc_now_text)


def store_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SessionInfo:
    token: str
    username: str | None
    person_id: str | None
    csrf_token: str


def create_session(store: Store, *, minutes: int, username: str | None = None,
                   person_id: str | None = None) -> SessionInfo:
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with store.transaction() as session:
        session.execute(delete(WebSession).where(WebSession.expires_at < store_time(now)))
        session.add(WebSession(token_hash=token_hash(token), username=username,
                               person_id=person_id, csrf_token=csrf,
                               created_at=store_time(now),
                               expires_at=store_time(now + timedelta(minutes=minutes))))
    return SessionInfo(token, username, person_id, csrf)


def load_session(store: Store, token: str | None, *, minutes: int) -> SessionInfo | None:
    """The live session of ``token`` (its expiry moved forward), or None."""
    if not token or len(token) > 200:
        return None
    now = datetime.now(UTC)
    with store.session() as session:
        row = session.scalar(select(WebSession).where(WebSession.token_hash == token_hash(token)))
    if row is None:
        return None
    if row.expires_at < store_time(now):
        end_session(store, token)
        return None
    renewed = store_time(now + timedelta(minutes=minutes))
    if renewed > store_time(datetime.fromisoformat(row.expires_at) + timedelta(seconds=60)):
        # Move the expiry at most once a minute: a read-only request need not write each time.
        with store.transaction() as session:
            session.execute(update(WebSession).where(
                WebSession.token_hash == row.token_hash).values(expires_at=renewed))
    return SessionInfo(token, row.username, row.person_id, row.csrf_token)


def end_session(store: Store, token: str | None) -> None:
    if not token:
        return
    with store.transaction() as session:
        session.execute(delete(WebSession).where(WebSession.token_hash == token_hash(token)))
