"""One store transaction as an actor, shared by the operations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor, load_actor


@contextmanager
def acting(store: Store, actor: Actor) -> Iterator[tuple[Session, Actor]]:
    """A transaction in which ``actor`` is re-read: a user deactivated meanwhile is refused.

    The administrator (``vaxtrust.store.auth.administrator``) has no user row to re-read.
    """
    with store.transaction() as session:
        yield session, actor if actor.is_administrator else load_actor(session, actor.username)
