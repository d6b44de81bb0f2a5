"""Users and their roles. The first user of an empty store must be a ministry user."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vaxtrust.errors import ConfigError, PermissionDenied, StoreError
from vaxtrust.store import audit
from vaxtrust.store.scope import Actor, Permission, Role
from vaxtrust.store.tables import Facility, Province, User, utc_now_text

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")

# Which scope field each role needs; every other scope field must stay empty.
_SCOPE_FIELD: dict[Role, str | None] = {
    Role.MINISTRY: None,
    Role.PROVINCE: "province_code",
    Role.FACILITY: "facility_id",
    Role.COMMUNE_POLICE: "commune_code",
    Role.CITIZEN: "person_id",
}
_OPTION = {"province_code": "--province", "facility_id": "--facility",
           "commune_code": "--commune", "person_id": "--person"}


def _check_scope(role: Role, scope: dict[str, str | None]) -> None:
    needed = _SCOPE_FIELD[role]
    if needed and not scope.get(needed):
        raise ConfigError(f"a {role} user needs {_OPTION[needed]}")
    # A facility user's province is derived from (or registers) the facility.
    allowed = {needed, "province_code"} if role is Role.FACILITY else {needed}
    extra = [name for name, value in scope.items() if value and name not in allowed]
    if extra:
        options = ", ".join(_OPTION[name] for name in extra)
        raise ConfigError(f"a {role} user cannot have {options}")


def _facility_province(session: Session, facility_id: str, province_code: str | None) -> str:
    facility = session.get(Facility, facility_id)
    if facility is not None:
        if province_code and province_code != facility.province_code:
            raise ConfigError(
                f"facility {facility_id} is in province {facility.province_code}, "
                f"not {province_code}"
            )
        return facility.province_code
    if not province_code:
        raise ConfigError(
            f"facility {facility_id} is not in the store yet: give its --province to register it"
        )
    if session.get(Province, province_code) is None:
        session.add(Province(code=province_code))
        session.flush()
    session.add(Facility(facility_id=facility_id, province_code=province_code))
    session.flush()
    return province_code


def add_user(
    session: Session, *, by: Actor | None, username: str, role: str,
    display_name: str | None = None, province_code: str | None = None,
    facility_id: str | None = None, commune_code: str | None = None,
    person_id: str | None = None,
) -> User:
    """Create a user. ``by`` is None only for the first (ministry) user of an empty store."""
    if not _USERNAME.match(username):
        raise ConfigError(
            f"username {username!r}: use 2-64 lower-case letters, digits, '.', '_' or '-'"
        )
    try:
        parsed_role = Role(role)
    except ValueError:
        raise ConfigError(f"role {role!r}: use one of {', '.join(Role)}") from None
    has_users = session.scalar(select(func.count()).select_from(User)) or 0
    if by is None:
        if has_users:
            raise PermissionDenied("the store has users: add new ones --as a ministry user")
        if parsed_role is not Role.MINISTRY:
            raise PermissionDenied("the first user of a store must have the ministry role")
    else:
        by.require(Permission.MANAGE_USERS)
    scope = {"province_code": province_code, "facility_id": facility_id,
             "commune_code": commune_code, "person_id": person_id}
    _check_scope(parsed_role, scope)
    if parsed_role is Role.FACILITY and facility_id:
        province_code = _facility_province(session, facility_id, province_code)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise StoreError(f"user {username!r} exists already")
    user = User(
        username=username, display_name=display_name, role=parsed_role.value,
        province_code=province_code, facility_id=facility_id, commune_code=commune_code,
        person_id=person_id, active=True, created_at=utc_now_text(),
    )
    session.add(user)
    session.flush()
    actor = Actor.from_user(user)
    audit.append(session, [audit.UserAdded(
        actor=by.username if by else username, subject_id=f"user:{username}",
        role=parsed_role.value, scope=actor.scope_label(),
    )])
    return user


def list_users(session: Session, *, by: Actor) -> Sequence[User]:
    by.require(Permission.MANAGE_USERS)
    return session.scalars(select(User).order_by(User.username)).all()
