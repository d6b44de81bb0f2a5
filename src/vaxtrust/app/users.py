"""Who acts, and the users of the store (``docs/store.md``, roles and scope)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from vaxtrust.app._store import acting
from vaxtrust.errors import NotFound
from vaxtrust.store import auth, users
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor, load_actor
from vaxtrust.store.tables import ApiToken, User


@dataclass(frozen=True)
class UserView:
    username: str
    role: str
    scope: str
    active: bool
    display_name: str | None = None

    @classmethod
    def of(cls, user: User) -> UserView:
        return cls(user.username, user.role, Actor.from_user(user).scope_label(), user.active,
                   user.display_name)


def actor_named(store: Store, username: str) -> Actor:
    """The active user ``username`` as an actor, without credentials: for trusted code only.
    People sign in with ``vaxtrust.store.auth`` (``sign_in``, ``authenticate``)."""
    with store.transaction() as session:
        return load_actor(session, username)


@dataclass(frozen=True)
class NewUser:
    username: str
    role: str
    display_name: str | None = None
    province_code: str | None = None
    facility_id: str | None = None
    commune_code: str | None = None
    person_id: str | None = None


def add_user(store: Store, actor: Actor | None, new: NewUser, *,
             password: str | None = None) -> UserView:
    """Create a user; ``actor`` is None only for the first (ministry) user of an empty store.
    Without a password the user cannot sign in until one is set."""
    if actor is None:
        with store.transaction() as session:
            return _add(session, None, new, password)
    with acting(store, actor) as (session, by):
        return _add(session, by, new, password)


def _add(session: Session, by: Actor | None, new: NewUser, password: str | None) -> UserView:
    user = users.add_user(
        session, by=by, username=new.username, role=new.role, display_name=new.display_name,
        province_code=new.province_code, facility_id=new.facility_id,
        commune_code=new.commune_code, person_id=new.person_id, password=password)
    return UserView.of(user)


def set_password(store: Store, actor: Actor, username: str, password: str) -> None:
    """Set ``username``'s password: the actor's own, or one of a user they manage."""
    with acting(store, actor) as (session, by):
        users.set_password(session, by=by, username=username, password=password)


def deactivate_user(store: Store, actor: Actor, username: str, reason: str) -> int:
    """Deactivate a user the actor manages; returns how many API tokens were revoked."""
    with acting(store, actor) as (session, by):
        return users.deactivate_user(session, by=by, username=username, reason=reason)


@dataclass(frozen=True)
class TokenView:
    id: int
    name: str
    created_at: str
    expires_at: str
    revoked_at: str | None
    last_used_at: str | None
    secret: str | None = None
    """The token itself: only when just issued (the store keeps its hash)."""

    @classmethod
    def of(cls, token: ApiToken, secret: str | None = None) -> TokenView:
        return cls(token.id, token.name, token.created_at, token.expires_at, token.revoked_at,
                   token.last_used_at, secret)


def issue_token(store: Store, actor: Actor, name: str, lifetime: timedelta) -> TokenView:
    """A new API token for the actor themself; its secret is in the answer, once."""
    with acting(store, actor) as (session, by):
        row, secret = auth.issue_token(session, by, name=name, lifetime=lifetime)
        return TokenView.of(row, secret)


def list_tokens(store: Store, actor: Actor) -> list[TokenView]:
    with acting(store, actor) as (session, by):
        return [TokenView.of(row) for row in auth.list_tokens(session, by)]


def revoke_token(store: Store, actor: Actor, token_id: int) -> None:
    """Revoke one of the actor's own live tokens."""
    with acting(store, actor) as (session, by):
        user = session.scalar(select(User).where(User.username == by.username))
        if user is None or not auth.revoke_tokens(session, user, by=by.username,
                                                  token_id=token_id):
            raise NotFound(f"you hold no live token {token_id}")


def list_users(store: Store, actor: Actor) -> Sequence[UserView]:
    with acting(store, actor) as (session, by):
        return [UserView.of(user) for user in users.list_users(session, by=by)]
