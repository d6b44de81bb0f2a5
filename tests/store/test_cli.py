"""The whole flow from the command line: users, publish, review, audit, signing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.store.cli import cli as _cli
from vaxtrust.errors import (
    AuthenticationFailed,
    ConfigError,
    NotFound,
    PermissionDenied,
    ReviewConflict,
    StoreError,
)


def _setup(store_url: str, run1: Path) -> None:
    _cli(store_url, "users", "add", "minh", "--role", "ministry", "--admin")
    _cli(store_url, "users", "add", "hn01", "--role", "facility", "--facility", "HN-01",
         "--province", "01", "--as", "minh")
    _cli(store_url, "users", "add", "hanoi", "--role", "province", "--province", "01",
         "--as", "minh")
    _cli(store_url, "publish", str(run1), "--as", "minh")


def test_the_whole_flow(store_url: str, run1: Path) -> None:
    _setup(store_url, run1)
    assert "nothing changed" in _cli(store_url, "publish", str(run1), "--as", "minh")
    listing = _cli(store_url, "review", "list", "--as", "hn01")
    assert "R3" in listing and "R6" not in listing and "1 in all" in listing
    shown = json.loads(_cli(store_url, "review", "show", "1", "--as", "hn01", "--json"))
    assert shown["item"]["record_id"] == "R3" and shown["item"]["version"] == 1
    assert [c["rank"] for c in shown["candidates"]] == [1, 2]
    decided = _cli(store_url, "review", "decide", "1", "--accept", "1", "--version", "1",
                   "--as", "hn01")
    assert "accept recorded" in decided and "001170000003" in decided
    with pytest.raises(ReviewConflict, match="already decided by hn01"):
        _cli(store_url, "review", "decide", "1", "--reject-all", "--note", "x", "--as", "hanoi")
    assert "audit chain intact" in _cli(store_url, "audit", "verify", "--as", "minh")
    history = _cli(store_url, "audit", "history", "R3", "--as", "hn01")
    assert "30/11/1907" in history and "1970-11-30" in history and "hn01" in history
    assert "review_decided" in _cli(store_url, "audit", "log", "--as", "minh")
    assert "HN-01" in _cli(store_url, "users", "list", "--as", "minh")
    assert "issue" in _cli(store_url, "signing", "list", "--as", "hn01")


def test_edit_and_defer_from_the_command_line(store_url: str, run1: Path) -> None:
    _setup(store_url, run1)
    _cli(store_url, "review", "decide", "1", "--defer", "--note", "ask police", "--as", "hn01")
    assert "deferred" in _cli(store_url, "review", "list", "--as", "hn01")
    with pytest.raises(ConfigError, match="dob"):
        _cli(store_url, "review", "decide", "1", "--edit", "dob=1971-11-30", "--note", "typo",
             "--as", "hn01")
    out = _cli(store_url, "review", "decide", "1", "--edit", "dob=30/11/1970", "--note", "typo",
               "--as", "hn01")
    assert "edit recorded" in out


@pytest.mark.parametrize(("args", "error", "message"), [
    (["review", "decide", "1", "--as", "hn01"], ConfigError, "choose exactly one"),
    (["review", "decide", "1", "--accept", "1", "--defer", "--as", "hn01"], ConfigError,
     "got --accept, --defer"),
    (["review", "decide", "1", "--edit", "dob", "--note", "n", "--as", "hn01"], ConfigError,
     "FIELD=VALUE"),
    (["review", "decide", "1", "--reject-all", "--as", "hn01"], ConfigError, "needs a --note"),
    (["review", "list", "--state", "closed", "--as", "hn01"], ConfigError, "--state closed"),
    (["review", "show", "99", "--as", "hn01"], NotFound, "no review item 99"),
    (["review", "list", "--as", "nobody"], AuthenticationFailed, "sign-in failed"),
    (["review", "list"], ConfigError, "say who you are"),
    (["review", "list", "--as", "minh", "--admin"], ConfigError, "not both"),
    (["audit", "verify", "--as", "hn01"], PermissionDenied, "may not read and verify"),
    (["users", "add", "x1", "--role", "facility", "--as", "minh"], ConfigError,
     "needs --facility"),
    (["users", "add", "x1", "--role", "citizen", "--person", "1", "--province", "01",
      "--as", "minh"], ConfigError, "cannot have --province"),
    (["users", "add", "X!", "--role", "ministry", "--as", "minh"], ConfigError, "username"),
    (["users", "add", "x1", "--role", "king", "--as", "minh"], ConfigError, "role 'king'"),
    (["users", "add", "hn01", "--role", "ministry", "--as", "minh"], StoreError,
     "exists already"),
    (["users", "add", "x2", "--role", "ministry", "--as", "hn01"], PermissionDenied,
     "may not manage users"),
])
def test_bad_commands_are_refused_clearly(
    store_url: str, run1: Path, args: list[str], error: type[Exception], message: str
) -> None:
    _setup(store_url, run1)
    with pytest.raises(error, match=message):
        _cli(store_url, *args)


def test_the_first_user_is_added_in_administrator_mode(store_url: str) -> None:
    with pytest.raises(ConfigError, match="say who you are"):
        _cli(store_url, "users", "add", "minh", "--role", "ministry")
    _cli(store_url, "users", "add", "minh", "--role", "ministry", "--admin")
    assert "minh" in _cli(store_url, "users", "list", "--as", "minh")
    log = _cli(store_url, "audit", "log", "--as", "minh")
    assert "admin_acted" in log and "os:" in log and "login_succeeded" in log


def test_errors_are_one_red_line_without_traceback(store_url: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "vaxtrust", "review", "list", "--as", "nobody", "--db", store_url],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
        env={**os.environ, "VAXTRUST_PASSWORD": "whatever it is 1"},
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "error: sign-in failed" in " ".join(proc.stderr.split())


def test_a_bad_store_url_is_refused() -> None:
    with pytest.raises(ConfigError, match="only sqlite and postgresql"):
        _cli("mysql://nobody@localhost/x", "users", "list", "--as", "minh")


def test_a_garbage_store_url_is_refused() -> None:
    with pytest.raises(ConfigError, match="not a database URL"):
        _cli("not a url", "users", "list", "--as", "minh")


def test_a_citizen_lists_only_their_own_records(store_url: str, run1: Path) -> None:
    _setup(store_url, run1)
    _cli(store_url, "users", "add", "an", "--role", "citizen", "--person", "001090000001",
         "--as", "minh")
    listed = _cli(store_url, "records", "list", "--as", "an")
    assert "R1" in listed and "1 in all" in listed and "R2" not in listed
    with pytest.raises(ConfigError, match="--status done"):
        _cli(store_url, "records", "list", "--status", "done", "--as", "an")


def test_store_upgrade_creates_a_new_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    assert "newest schema" in _cli(url, "store", "upgrade")
    assert "user minh added" in _cli(url, "users", "add", "minh", "--role", "ministry",
                                     "--admin")
