"""Sign-in: Argon2id passwords, one generic failure, lock-out, tokens, deactivation, admin mode."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.store.cli import cli, invoke, password_of
from vaxtrust.errors import AuthenticationFailed, ConfigError, NotFound, PermissionDenied
from vaxtrust.store import auth
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor, Role
from vaxtrust.store.tables import AuditEventRow, User
from vaxtrust.store.users import add_user, deactivate_user, list_users, set_password

T0 = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
CLIENT = "198.51.100.7"


def _events(store: Store, event_type: str) -> list[dict[str, object]]:
    with store.transaction() as session:
        rows = session.scalars(select(AuditEventRow).where(AuditEventRow.event_type == event_type)
                               .order_by(AuditEventRow.seq))
        return [{"actor": r.actor, **json.loads(r.payload)} for r in rows]


def _sign_in(store: Store, username: str, password: str, at: datetime = T0,
             client: str = CLIENT) -> Actor:
    return auth.sign_in(store, username, password, client=client, now=at)


def test_the_right_password_signs_in_and_is_audited(
        store: Store, actors: dict[str, Actor]) -> None:
    actor = _sign_in(store, "hanoi", password_of("hanoi"))
    assert actor == actors["hanoi"]
    assert _events(store, "login_succeeded")[-1] == {
        "actor": "hanoi", "method": "password", "client": CLIENT}
    with store.transaction() as session:
        stored = session.scalar(select(User.password_hash).where(User.username == "hanoi"))
    assert stored is not None and stored.startswith("$argon2id$")
    assert password_of("hanoi") not in stored


def test_every_failure_gives_the_same_message_and_an_audited_reason(
        store: Store, actors: dict[str, Actor]) -> None:
    with store.transaction() as session:
        add_user(session, by=actors["minh"], username="nopass", role="ministry")
        deactivate_user(session, by=actors["minh"], username="hn02", reason="left")
    messages = set()
    for username, password in [("hanoi", "wrong password 123"), ("ghost", "wrong password 123"),
                               ("nopass", "wrong password 123"), ("hn02", password_of("hn02"))]:
        with pytest.raises(AuthenticationFailed) as caught:
            _sign_in(store, username, password)
        messages.add(str(caught.value))
    assert messages == {auth.GENERIC_FAILURE}
    assert "ghost" not in auth.GENERIC_FAILURE
    assert [(e["actor"], e["reason"]) for e in _events(store, "login_failed")] == [
        ("hanoi", "bad_password"), ("ghost", "unknown_user"), ("nopass", "no_password"),
        ("hn02", "inactive")]


def test_repeated_failures_lock_the_name_out_for_a_growing_while(
        store: Store, actors: dict[str, Actor]) -> None:
    for attempt in range(auth.USER_FAILURES_BEFORE_LOCK):
        with pytest.raises(AuthenticationFailed):
            _sign_in(store, "hanoi", "guess number 00", T0 + timedelta(seconds=attempt),
                     client=f"10.0.0.{attempt}")
    # Locked: even the right password is refused, with the same message, from any client.
    with pytest.raises(AuthenticationFailed, match="sign-in failed"):
        _sign_in(store, "hanoi", password_of("hanoi"), T0 + timedelta(seconds=30), "10.9.9.9")
    assert _events(store, "login_failed")[-1]["reason"] == "locked"
    # The lock lasts a minute from the last counted failure ...
    actor = _sign_in(store, "hanoi", password_of("hanoi"), T0 + timedelta(seconds=65))
    assert actor.username == "hanoi"
    # ... and success forgets the failures.
    with pytest.raises(AuthenticationFailed):
        _sign_in(store, "hanoi", "one more guess 1", T0 + timedelta(seconds=70))
    assert _sign_in(store, "hanoi", password_of("hanoi"), T0 + timedelta(seconds=71))


def test_the_lock_doubles_with_each_further_failure(
        store: Store, actors: dict[str, Actor]) -> None:
    for _ in range(auth.USER_FAILURES_BEFORE_LOCK):
        with pytest.raises(AuthenticationFailed):
            _sign_in(store, "hanoi", "guess number 00", T0)
    at = T0 + timedelta(seconds=61)                       # the 1-minute lock is over
    with pytest.raises(AuthenticationFailed):             # 6th failure: locked for 2 minutes
        _sign_in(store, "hanoi", "guess number 00", at)
    for later in (110, 119):                              # refused, and not counted
        with pytest.raises(AuthenticationFailed):
            _sign_in(store, "hanoi", password_of("hanoi"), at + timedelta(seconds=later))
    assert _sign_in(store, "hanoi", password_of("hanoi"), at + timedelta(seconds=121))


def test_unknown_names_lock_out_like_users_so_a_lock_reveals_nothing(
        store: Store, actors: dict[str, Actor]) -> None:
    for name in ("ghost", "hanoi"):
        for _ in range(auth.USER_FAILURES_BEFORE_LOCK):
            with pytest.raises(AuthenticationFailed):
                _sign_in(store, name, "guess number 00", client=f"client-{name}")
    reasons = [e["reason"] for e in _events(store, "login_failed")]
    assert reasons.count("locked") == 0
    with pytest.raises(AuthenticationFailed):
        _sign_in(store, "ghost", "guess number 00", client="x")
    with pytest.raises(AuthenticationFailed):
        _sign_in(store, "hanoi", "guess number 00", client="y")
    assert [e["reason"] for e in _events(store, "login_failed")][-2:] == ["locked", "locked"]


def test_one_client_guessing_many_names_is_locked_out(
        store: Store, actors: dict[str, Actor]) -> None:
    for attempt in range(auth.CLIENT_FAILURES_BEFORE_LOCK):
        with pytest.raises(AuthenticationFailed):
            _sign_in(store, f"name{attempt}", "guess number 00")
    with pytest.raises(AuthenticationFailed):
        _sign_in(store, "hanoi", password_of("hanoi"))
    assert _sign_in(store, "hanoi", password_of("hanoi"), client="203.0.113.1")


def test_old_failures_are_forgotten(store: Store, actors: dict[str, Actor]) -> None:
    for attempt in range(auth.USER_FAILURES_BEFORE_LOCK - 1):
        with pytest.raises(AuthenticationFailed):
            _sign_in(store, "hanoi", "guess number 00", T0 + timedelta(seconds=attempt))
    later = T0 + auth.FAILURE_WINDOW + timedelta(minutes=1)
    with pytest.raises(AuthenticationFailed):
        _sign_in(store, "hanoi", "guess number 00", later)
    assert _events(store, "login_failed")[-1]["reason"] == "bad_password"
    assert _sign_in(store, "hanoi", password_of("hanoi"), later + timedelta(seconds=1))


@pytest.mark.parametrize(("password", "message"), [
    ("short", "at least 12"), ("x" * 1025, "at most 1024"), ("hanoi-is-my-home", "username")])
def test_weak_passwords_are_refused(store: Store, actors: dict[str, Actor], password: str,
                                    message: str) -> None:
    with store.transaction() as session, pytest.raises(ConfigError, match=message):
        set_password(session, by=actors["hanoi"], username="hanoi", password=password)


def test_a_user_changes_their_own_password(store: Store, actors: dict[str, Actor]) -> None:
    with store.transaction() as session:
        set_password(session, by=actors["hn01"], username="hn01", password="a brand new one 7")
    with pytest.raises(AuthenticationFailed):
        _sign_in(store, "hn01", password_of("hn01"))
    assert _sign_in(store, "hn01", "a brand new one 7")
    assert _events(store, "password_changed")[-1] == {"actor": "hn01", "self_service": True}


def test_a_province_manages_only_its_own_provinces_users(
        store: Store, actors: dict[str, Actor]) -> None:
    hanoi = actors["hanoi"]
    with store.transaction() as session:
        assert {u.username for u in list_users(session, by=hanoi)} == {"hanoi", "hn01", "hn02"}
        set_password(session, by=hanoi, username="hn01", password="reset by province 1")
        add_user(session, by=hanoi, username="hn03", role="facility", facility_id="HN-03",
                 password="a new facility 22")
    with store.transaction() as session, pytest.raises(NotFound, match="hcm01"):
        set_password(session, by=hanoi, username="hcm01", password="taken over now 1")
    with store.transaction() as session, pytest.raises(NotFound, match="minh"):
        deactivate_user(session, by=hanoi, username="minh", reason="coup")
    with store.transaction() as session, pytest.raises(PermissionDenied, match="province 01"):
        add_user(session, by=hanoi, username="hcm9", role="facility", facility_id="HCM-01")
    with store.transaction() as session, pytest.raises(PermissionDenied, match="province 01"):
        add_user(session, by=hanoi, username="boss", role="ministry")
    with store.transaction() as session, pytest.raises(PermissionDenied, match="manage users"):
        set_password(session, by=actors["hn01"], username="hn02", password="not my account 1")


def test_deactivation_stops_sign_in_and_revokes_tokens(
        store: Store, actors: dict[str, Actor]) -> None:
    with store.transaction() as session:
        _, token = auth.issue_token(session, actors["hn01"], name="nightly", now=T0)
    assert auth.sign_in_with_token(store, token, client=CLIENT, now=T0).username == "hn01"
    with store.transaction() as session:
        assert deactivate_user(session, by=actors["hanoi"], username="hn01", reason="left") == 1
    for attempt in (lambda: _sign_in(store, "hn01", password_of("hn01")),
                    lambda: auth.sign_in_with_token(store, token, client=CLIENT, now=T0)):
        with pytest.raises(AuthenticationFailed):
            attempt()
    assert _events(store, "user_deactivated")[-1] == {
        "actor": "hanoi", "reason": "left", "tokens_revoked": 1}


def test_the_last_ministry_user_stays(store: Store, actors: dict[str, Actor]) -> None:
    with store.transaction() as session, pytest.raises(PermissionDenied, match="last active"):
        deactivate_user(session, by=actors["minh"], username="minh", reason="leaving")


def test_tokens_expire_are_stored_hashed_and_can_be_revoked(
        store: Store, actors: dict[str, Actor]) -> None:
    with store.transaction() as session:
        row, token = auth.issue_token(session, actors["hanoi"], name="report script",
                                      lifetime=timedelta(days=2), now=T0)
        assert token.startswith(auth.TOKEN_PREFIX) and token not in row.token_hash
    assert auth.sign_in_with_token(store, token, client=CLIENT, now=T0 + timedelta(days=1))
    for at, guess in ((T0 + timedelta(days=2), token), (T0, token + "x"), (T0, "")):
        with pytest.raises(AuthenticationFailed, match="sign-in failed"):
            auth.sign_in_with_token(store, guess, client=CLIENT, now=at)
    with store.transaction() as session:
        user = session.scalar(select(User).where(User.username == "hanoi"))
        assert user is not None
        assert auth.revoke_tokens(session, user, by="hanoi", now=T0) == 1
    with pytest.raises(AuthenticationFailed):
        auth.sign_in_with_token(store, token, client=CLIENT, now=T0)
    assert [e["reason"] for e in _events(store, "login_failed")] == [
        "expired_token", "bad_token", "bad_token", "expired_token"]


def test_tokens_have_bounded_lives(store: Store, actors: dict[str, Actor]) -> None:
    with store.transaction() as session, pytest.raises(ConfigError, match="365 days"):
        auth.issue_token(session, actors["hanoi"], name="forever", lifetime=timedelta(days=400))
    admin = Actor(username="os:root", role=Role.MINISTRY)
    with store.transaction() as session, pytest.raises(ConfigError, match="administrator"):
        auth.issue_token(session, admin, name="admin")


def test_administrator_mode_needs_the_stores_owner(store: Store, tmp_path: Path) -> None:
    owner = Path(str(store.engine.url.database)).stat().st_uid if store.dialect == "sqlite" \
        else None
    if owner is not None:
        with pytest.raises(PermissionDenied, match="owns the store"):
            auth.administrator(store, command="vaxtrust users add", uid=owner + 4242)
    actor = auth.administrator(store, command="vaxtrust users add")
    assert actor.role is Role.MINISTRY and actor.username.startswith("os:")
    event = _events(store, "admin_acted")[-1]
    assert event["command"] == "vaxtrust users add" and event["actor"] == actor.username


# ---------------------------------------------------------------- the command line

def test_the_command_line_needs_the_users_password(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    cli(url, "users", "add", "minh", "--role", "ministry", "--admin")
    cli(url, "users", "add", "hanoi", "--role", "province", "--province", "01", "--as", "minh")
    assert "hanoi" in cli(url, "users", "list", "--as", "minh")
    with pytest.raises(AuthenticationFailed, match="sign-in failed"):
        cli(url, "users", "list", "--as", "minh", env={"VAXTRUST_PASSWORD": password_of("hanoi")})
    result = invoke(["users", "list", "--as", "minh", "--db", url],
                    env={"VAXTRUST_PASSWORD": None})
    assert isinstance(result.exception, ConfigError)
    assert "VAXTRUST_PASSWORD" in str(result.exception)


def test_passwd_deactivate_and_tokens_on_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    cli(url, "users", "add", "minh", "--role", "ministry", "--admin")
    made = cli(url, "users", "add", "hanoi", "--role", "province", "--province", "01",
               "--generate-password", "--as", "minh")
    generated = made.split("(shown once): ")[1].split()[0]
    assert cli(url, "users", "list", "--as", "hanoi", env={"VAXTRUST_PASSWORD": generated})
    cli(url, "users", "passwd", "hanoi", env={"VAXTRUST_PASSWORD": generated})
    assert cli(url, "users", "list", "--as", "hanoi")          # the new password works
    issued = cli(url, "users", "token", "issue", "--name", "nightly", "--as", "hanoi")
    token = issued.split("VAXTRUST_TOKEN=")[1].split()[0]
    assert "hanoi" in cli(url, "users", "list", env={"VAXTRUST_TOKEN": token})
    with pytest.raises(ConfigError, match="another user"):
        cli(url, "users", "list", "--as", "minh", env={"VAXTRUST_TOKEN": token})
    assert "nightly" in cli(url, "users", "token", "list", env={"VAXTRUST_TOKEN": token})
    out = cli(url, "users", "deactivate", "hanoi", "--reason", "moved", "--as", "minh")
    assert "1 API token(s) revoked" in out
    with pytest.raises(AuthenticationFailed):
        cli(url, "users", "list", env={"VAXTRUST_TOKEN": token})
    with pytest.raises(AuthenticationFailed):
        cli(url, "users", "list", "--as", "hanoi")
    assert "no" in cli(url, "users", "list", "--admin")
