"""Who acts, and the users of the store (``docs/store.md``, roles and scope)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vaxtrust.app._store import acting
from vaxtrust.store import users
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor, load_actor
from vaxtrust.store.tables import User


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
    """The active user ``username`` as an actor (the shells sign people in before this)."""
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


def add_user(store: Store, actor: Actor | None, new: NewUser) -> UserView:
    """Create a user; ``actor`` is None only for the first (ministry) user of an empty store."""
    with store.transaction() as session:
        by = load_actor(session, actor.username) if actor is not None else None
        user = users.add_user(
            session, by=by, username=new.username, role=new.role, display_name=new.display_name,
            province_code=new.province_code, facility_id=new.facility_id,
            commune_code=new.commune_code, person_id=new.person_id)
        return UserView.of(user)


def list_users(store: Store, actor: Actor) -> Sequence[UserView]:
    with acting(store, actor) as (session, by):
        return [UserView.of(user) for user in users.list_users(session, by=by)]
