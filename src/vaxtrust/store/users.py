"""Users and their roles. The first user of an empty store must be a ministry user.

Who manages whom: a ministry user (or the administrator) manages every user; a province user
manages the province and facility users of its own province. Every user may change their own
password. Sign-in itself is :mod:`vaxtrust.store.auth`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, false, func, select, true
from sqlalchemy.orm import Session

from vaxtrust.errors import ConfigError, NotFound, PermissionDenied, StoreError
from vaxtrust.store import audit, auth
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


def _known_province(session: Session, facility_id: str) -> str | None:
    facility = session.get(Facility, facility_id)
    return facility.province_code if facility is not None else None


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


def _managed_users(by: Actor) -> ColumnElement[bool]:
    """The WHERE clause on ``app_user`` for the users ``by`` may manage."""
    match by.role:
        case Role.MINISTRY:
            return true()
        case Role.PROVINCE:
            return and_(User.province_code == by.province_code,
                        User.role.in_((Role.PROVINCE.value, Role.FACILITY.value)))
        case _:
            return false()


def _require_manages(by: Actor, role: Role, province_code: str | None) -> None:
    by.require(Permission.MANAGE_USERS)
    if by.role is Role.PROVINCE and (
            role not in (Role.PROVINCE, Role.FACILITY) or province_code != by.province_code):
        raise PermissionDenied(
            f"user {by.username} may manage only province and facility users of province "
            f"{by.province_code}")


def _managed_user(session: Session, by: Actor, username: str) -> User:
    """A user ``by`` may manage; another scope's user is 'not found', as is an unknown one."""
    by.require(Permission.MANAGE_USERS)
    user = session.scalar(select(User).where(User.username == username, _managed_users(by)))
    if user is None:
        raise NotFound(f"no user {username!r} that you manage")
    return user


def add_user(
    session: Session, *, by: Actor | None, username: str, role: str,
    display_name: str | None = None, province_code: str | None = None,
    facility_id: str | None = None, commune_code: str | None = None,
    person_id: str | None = None, password: str | None = None,
) -> User:
    """Create a user, with a password when given (else they cannot sign in until one is set).

    ``by`` is None only for the first (ministry) user of an empty store.
    """
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
    scope = {"province_code": province_code, "facility_id": facility_id,
             "commune_code": commune_code, "person_id": person_id}
    _check_scope(parsed_role, scope)
    if parsed_role is Role.FACILITY and facility_id:
        # A province officer's new facility lands in that officer's province.
        if (by is not None and by.role is Role.PROVINCE and not province_code
                and session.get(Facility, facility_id) is None):
            province_code = by.province_code
        if by is not None and by.role is Role.PROVINCE:
            _require_manages(by, parsed_role, _known_province(session, facility_id)
                             or province_code)
        province_code = _facility_province(session, facility_id, province_code)
    if by is not None:
        _require_manages(by, parsed_role, province_code)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise StoreError(f"user {username!r} exists already")
    if password is not None:
        auth.check_password_policy(password, username)
    now = utc_now_text()
    user = User(
        username=username, display_name=display_name, role=parsed_role.value,
        province_code=province_code, facility_id=facility_id, commune_code=commune_code,
        person_id=person_id, active=True, created_at=now,
        password_hash=auth.hash_password(password) if password is not None else None,
        password_changed_at=now if password is not None else None,
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
    """The users ``by`` manages."""
    by.require(Permission.MANAGE_USERS)
    return session.scalars(select(User).where(_managed_users(by)).order_by(User.username)).all()


def set_password(session: Session, *, by: Actor, username: str, password: str) -> None:
    """Set ``username``'s password: their own, or one of a user ``by`` manages."""
    if by.username == username:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise NotFound(f"no user {username!r}")
    else:
        user = _managed_user(session, by, username)
    auth.check_password_policy(password, username)
    user.password_hash = auth.hash_password(password)
    user.password_changed_at = utc_now_text()
    session.flush()
    audit.append(session, [audit.PasswordChanged(
        actor=by.username, subject_id=f"user:{username}", self_service=by.username == username)])


def deactivate_user(session: Session, *, by: Actor, username: str, reason: str) -> int:
    """Deactivate a user ``by`` manages and revoke their tokens; returns the tokens revoked.

    The last active ministry user stays: without one, only the administrator could manage users.
    """
    if not reason.strip():
        raise ConfigError("say why the user is deactivated (--reason)")
    user = _managed_user(session, by, username)
    if not user.active:
        raise StoreError(f"user {username!r} is deactivated already")
    if user.role == Role.MINISTRY.value:
        ministers = session.scalar(select(func.count()).select_from(User).where(
            User.role == Role.MINISTRY.value, User.active)) or 0
        if ministers <= 1:
            raise PermissionDenied(f"{username!r} is the last active ministry user")
    user.active = False
    session.flush()
    revoked = auth.revoke_tokens(session, user, by=by.username)
    audit.append(session, [audit.UserDeactivated(
        actor=by.username, subject_id=f"user:{username}", reason=reason.strip(),
        tokens_revoked=revoked)])
    return revoked
