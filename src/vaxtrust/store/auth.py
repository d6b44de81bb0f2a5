"""Sign-in for people: Argon2id passwords, API tokens, lock-out, and every attempt audited.

The one entry points are :func:`authenticate` (username and password) and
:func:`authenticate_token` (a token issued with :func:`issue_token`); both return the signed-in
:class:`~vaxtrust.store.scope.Actor` or raise :class:`~vaxtrust.errors.AuthenticationFailed` with
one message that never tells whether the user exists, is locked or typed a wrong password. The
reason goes to the audit trail (``login_failed``).

Failures are written to the caller's session before the error is raised: the caller must commit
that session even on failure (:func:`sign_in` does, for a whole transaction of its own), or the
failure counts and the audit events are lost with the rollback.

Lock-out: after :data:`USER_FAILURES_BEFORE_LOCK` consecutive failures for one username (whether
or not it is a user) or :data:`CLIENT_FAILURES_BEFORE_LOCK` from one client, further attempts are
refused for a back-off that doubles with each further failure (1 minute up to 1 hour), without
checking the password; attempts during a lock are audited but do not extend it. Failures older
than :data:`FAILURE_WINDOW` are forgotten.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import secrets
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from vaxtrust.errors import AuthenticationFailed, ConfigError, PermissionDenied
from vaxtrust.store import audit
from vaxtrust.store.scope import ADMIN_PREFIX, Actor, Role
from vaxtrust.store.tables import ApiToken, LoginThrottle, User

if TYPE_CHECKING:
    from vaxtrust.store.db import Store

# RFC 9106's second recommended option (Argon2id, 64 MiB, 3 passes), argon2-cffi's default.
# (The test suite swaps in a cheaper Argon2id; the parameters travel inside each hash.)
_HASHER = PasswordHasher()

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
USER_FAILURES_BEFORE_LOCK = 5
CLIENT_FAILURES_BEFORE_LOCK = 20
FAILURE_WINDOW = timedelta(minutes=15)
FIRST_LOCK = timedelta(minutes=1)
LONGEST_LOCK = timedelta(hours=1)
TOKEN_PREFIX = "vxt_"
DEFAULT_TOKEN_LIFETIME = timedelta(days=30)
LONGEST_TOKEN_LIFETIME = timedelta(days=365)

GENERIC_FAILURE = ("sign-in failed: unknown username or wrong password, or too many attempts "
                   "(wait a few minutes and try again)")


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


# ---------------------------------------------------------------- passwords

def check_password_policy(password: str, username: str) -> None:
    """Refuse passwords that are short, huge, or the username."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ConfigError(f"the password may have at most {MAX_PASSWORD_LENGTH} characters")
    if username.lower() in password.lower():
        raise ConfigError("the password must not contain the username")


def hash_password(password: str) -> str:
    """The Argon2id PHC string of ``password`` (salted; parameters inside the string)."""
    return _HASHER.hash(password)


@cache
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so both answers cost the same time."""
    return _HASHER.hash("vaxtrust: no such user")


def _password_matches(stored: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# ---------------------------------------------------------------- lock-out

def _throttle(session: Session, key: str, now: datetime) -> LoginThrottle | None:
    row = session.get(LoginThrottle, key)
    if row is not None and row.last_failure_at < _text(now - FAILURE_WINDOW):
        row.failures, row.locked_until = 0, None
    return row


def _is_locked(session: Session, keys: list[str], now: datetime) -> bool:
    rows = [_throttle(session, key, now) for key in keys]
    return any(row is not None and row.locked_until is not None and row.locked_until > _text(now)
               for row in rows)


def _count_failure(session: Session, key: str, threshold: int, now: datetime) -> None:
    row = _throttle(session, key, now)
    if row is None:
        row = LoginThrottle(key=key, failures=0, last_failure_at=_text(now))
        session.add(row)
    row.failures += 1
    row.last_failure_at = _text(now)
    if row.failures >= threshold:
        lock = min(FIRST_LOCK * 2 ** (row.failures - threshold), LONGEST_LOCK)
        row.locked_until = _text(now + lock)
    session.flush()


def _forget_failures(session: Session, key: str) -> None:
    row = session.get(LoginThrottle, key)
    if row is not None:
        session.delete(row)
        session.flush()


def _user_key(username: str) -> str:
    return f"user:{username.strip().lower()[:190]}"


def _client_key(client: str) -> str:
    return f"client:{client[:190]}"


def _fail(session: Session, *, username: str, client: str, method: str, reason: str,
          now: datetime) -> AuthenticationFailed:
    """Count and audit one failure; the caller raises the returned error.

    Attempts refused by a lock are audited but not counted: hammering a locked name does not
    keep its owner out for longer.
    """
    if reason != "locked":
        if method == "password":
            _count_failure(session, _user_key(username), USER_FAILURES_BEFORE_LOCK, now)
        _count_failure(session, _client_key(client), CLIENT_FAILURES_BEFORE_LOCK, now)
    shown = username[:64] or "-"
    audit.append(session, [audit.LoginFailed(
        actor=shown, subject_id=f"user:{shown}"[:80], occurred_at=_text(now), method=method,
        client=client[:200], reason=reason)])
    return AuthenticationFailed(GENERIC_FAILURE)


def _succeed(session: Session, user: User, *, client: str, method: str, now: datetime) -> Actor:
    user.last_login_at = _text(now)
    audit.append(session, [audit.LoginSucceeded(
        actor=user.username, subject_id=f"user:{user.username}", occurred_at=_text(now),
        method=method, client=client[:200])])
    return Actor.from_user(user)


# ---------------------------------------------------------------- sign-in

def authenticate(session: Session, username: str, password: str, *, client: str,
                 now: datetime | None = None) -> Actor:
    """The user ``username`` if ``password`` is theirs, they are active and not locked out.

    Raises :class:`AuthenticationFailed` (after writing the failure to ``session``: commit it).
    """
    moment = _now(now)
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if _is_locked(session, [_user_key(username), _client_key(client)], moment):
        raise _fail(session, username=username, client=client, method="password",
                    reason="locked", now=moment)
    matches = _password_matches(user.password_hash if user else None, password)
    reason = ("unknown_user" if user is None else "no_password" if user.password_hash is None
              else "bad_password" if not matches else "inactive" if not user.active else None)
    if reason is not None or user is None:
        raise _fail(session, username=username, client=client, method="password",
                    reason=reason or "unknown_user", now=moment)
    if _HASHER.check_needs_rehash(user.password_hash or ""):
        user.password_hash = hash_password(password)
    _forget_failures(session, _user_key(username))
    return _succeed(session, user, client=client, method="password", now=moment)


def _token_digest(token: str) -> str:
    # Tokens are 256 random bits: a plain SHA-256 suffices (no dictionary to slow down).
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def authenticate_token(session: Session, token: str, *, client: str,
                       now: datetime | None = None) -> Actor:
    """The user a live API token was issued to. Raises :class:`AuthenticationFailed`."""
    moment = _now(now)
    digest = _token_digest(token)
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    user = session.get(User, row.user_id) if row is not None else None
    if _is_locked(session, [_client_key(client)], moment):
        reason: str | None = "locked"
    elif row is None or user is None:
        reason = "bad_token"
    elif row.revoked_at is not None or row.expires_at <= _text(moment):
        reason = "expired_token"
    elif not user.active:
        reason = "inactive"
    else:
        reason = None
    if reason is not None or row is None or user is None:
        raise _fail(session, username=user.username if user else "", client=client,
                    method="token", reason=reason or "bad_token", now=moment)
    row.last_used_at = _text(moment)
    return _succeed(session, user, client=client, method="token", now=moment)


def sign_in(store: Store, username: str, password: str, *, client: str,
            now: datetime | None = None) -> Actor:
    """:func:`authenticate` in a transaction of its own that keeps a failure's audit trail."""
    failure: AuthenticationFailed | None = None
    with store.transaction() as session:
        try:
            return authenticate(session, username, password, client=client, now=now)
        except AuthenticationFailed as error:
            failure = error
    raise failure


def sign_in_with_token(store: Store, token: str, *, client: str,
                       now: datetime | None = None) -> Actor:
    """:func:`authenticate_token` in a transaction of its own that keeps a failure's trail."""
    failure: AuthenticationFailed | None = None
    with store.transaction() as session:
        try:
            return authenticate_token(session, token, client=client, now=now)
        except AuthenticationFailed as error:
            failure = error
    raise failure


# ---------------------------------------------------------------- tokens

def issue_token(session: Session, actor: Actor, *, name: str,
                lifetime: timedelta = DEFAULT_TOKEN_LIFETIME,
                now: datetime | None = None) -> tuple[ApiToken, str]:
    """A new API token for the signed-in ``actor`` (a user acts only for themself).

    Returns the stored row and the token text, which is shown once and never stored.
    """
    if lifetime <= timedelta(0) or lifetime > LONGEST_TOKEN_LIFETIME:
        raise ConfigError(f"a token lives between a minute and {LONGEST_TOKEN_LIFETIME.days} days")
    if not name.strip() or len(name) > 100:
        raise ConfigError("name the token (what it is for) in 1-100 characters")
    user = session.scalar(select(User).where(User.username == actor.username))
    if user is None or not user.active:
        raise ConfigError("only a store user can hold API tokens (administrator mode cannot)")
    moment = _now(now)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name.strip(), token_hash=_token_digest(token),
                   created_at=_text(moment), expires_at=_text(moment + lifetime))
    session.add(row)
    session.flush()
    audit.append(session, [audit.TokenIssued(
        actor=actor.username, subject_id=f"user:{user.username}", occurred_at=_text(moment),
        token_id=row.id, name=row.name, expires_at=row.expires_at)])
    return row, token


def revoke_tokens(session: Session, user: User, *, by: str, token_id: int | None = None,
                  now: datetime | None = None) -> int:
    """Revoke one live token of ``user`` (or all of them); returns how many were revoked."""
    moment = _text(_now(now))
    query = select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None),
                                   ApiToken.expires_at > moment)
    if token_id is not None:
        query = query.where(ApiToken.id == token_id)
    rows = list(session.scalars(query))
    if rows:
        session.execute(update(ApiToken).where(ApiToken.id.in_([r.id for r in rows]))
                        .values(revoked_at=moment))
        audit.append(session, [audit.TokenRevoked(
            actor=by, subject_id=f"user:{user.username}", occurred_at=moment, token_id=r.id)
            for r in rows])
    return len(rows)


def list_tokens(session: Session, actor: Actor) -> list[ApiToken]:
    """The signed-in user's own tokens, newest first."""
    user = session.scalar(select(User).where(User.username == actor.username))
    if user is None:
        return []
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                .order_by(ApiToken.id.desc())))


# ---------------------------------------------------------------- administrator mode

def _owns_store(store: Store, uid: int) -> bool:
    """True when ``uid`` owns the SQLite file, or the PostgreSQL connection is the tables' owner."""
    if store.dialect == "sqlite":
        database = store.engine.url.database
        if not database or database == ":memory:":
            return False
        return Path(database).stat().st_uid == uid
    with store.engine.connect() as connection:
        owner = connection.scalar(text(
            "SELECT tableowner = current_user OR (SELECT rolsuper FROM pg_roles "
            "WHERE rolname = current_user) FROM pg_tables WHERE tablename = 'audit_event'"))
    return bool(owner)


def administrator(store: Store, *, command: str, uid: int | None = None) -> Actor:
    """Administrator mode: the operating-system account that owns the deployment acts with the
    ministry's rights, as ``os:ACCOUNT`` in the audit trail (``admin_acted``).

    Allowed only when this process's user owns the SQLite store file, or (PostgreSQL) connects as
    the role that owns the tables; the application role of a least-privilege deployment does not.
    """
    effective = os.geteuid() if uid is None else uid
    if not _owns_store(store, effective):
        raise PermissionDenied(
            "administrator mode is for the account that owns the store (the SQLite file's "
            "owner, or PostgreSQL's table owner): sign in as a user instead")
    try:
        account = pwd.getpwuid(effective).pw_name
    except KeyError:
        account = str(effective)
    actor = Actor(username=f"{ADMIN_PREFIX}{account}"[:64], role=Role.MINISTRY)
    with store.transaction() as session:
        audit.append(session, [audit.AdminActed(
            actor=actor.username, subject_id=f"admin:{account}"[:80], os_user=account,
            uid=effective, command=command[:200])])
    return actor
