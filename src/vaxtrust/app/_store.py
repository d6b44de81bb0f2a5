"""One store transaction as an actor, shared by the operations."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from vaxtrust.errors import StoreError, VaxtrustError
from vaxtrust.store import audit
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor, load_actor


def _operation_name() -> str:
    """``module.function`` of the operation that opened :func:`acting` (for the audit trail)."""
    frame = sys._getframe(3)   # this <- acting's body <- contextmanager's __enter__ <- operation
    return f"{frame.f_globals.get('__name__', '?')}.{frame.f_code.co_name}"


@contextmanager
def acting(store: Store, actor: Actor, *,
           subject: str | None = None) -> Iterator[tuple[Session, Actor]]:
    """A transaction in which ``actor`` is re-read: a user deactivated meanwhile is refused.

    The administrator (``vaxtrust.store.auth.administrator``) and a citizen of the web's
    one-time code (``Actor.is_code_citizen``) have no user row to re-read. When
    the operation fails (out of scope, not found, refused, a bad input), its work is rolled
    back and the refusal is kept in the audit trail (``action_refused``) in a transaction of
    its own, so probing what lies outside one's scope leaves a trace; ``subject`` names what
    the operation was about (default: the user).
    """
    operation = _operation_name()
    try:
        with store.transaction() as session:
            fixed = actor.is_administrator or actor.is_code_citizen
            yield session, actor if fixed else load_actor(session, actor.username)
    except VaxtrustError as error:
        _audit_refusal(store, actor, operation, error, subject or f"user:{actor.username}")
        raise


def _audit_refusal(store: Store, actor: Actor, operation: str, error: VaxtrustError,
                   subject: str) -> None:
    try:
        with store.transaction() as session:
            audit.append(session, [audit.ActionRefused(
                actor=actor.username, subject_id=subject[:80],
                action=operation, reason=f"{type(error).__name__}: {error}"[:2000])])
    except StoreError:
        pass    # the store itself failed: the operation's own error says so
