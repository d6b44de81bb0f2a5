"""A process killed in the middle of a publish or a decision leaves the store as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import ROOT
from tests.store.cli import credentials_env
from tests.store.conftest import snapshot
from vaxtrust.review.queue import list_items
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor
from vaxtrust.store.tables import Base

# Runs the real CLI in a child process, with one internal step wrapped so that the process
# SIGKILLs itself right after that step has written its rows, inside the open transaction.
_KILLER = """
import os, signal, importlib
module = importlib.import_module({module!r})
original = getattr(module, {function!r})
def crash(*args, **kwargs):
    result = original(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)
    return result
setattr(module, {function!r}, crash)
from vaxtrust.cli import main
main({argv!r})
"""


def _run_and_kill(module: str, function: str, argv: list[str]) -> None:
    code = textwrap.dedent(_KILLER.format(module=module, function=function, argv=argv))
    env = {**os.environ, **{k: v for k, v in credentials_env(argv).items() if v is not None}}
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=env)
    assert proc.returncode == -signal.SIGKILL, proc.stderr


def _without_sign_in(rows: dict[str, list[tuple[object, ...]]]) -> dict[str, list[tuple[object, ...]]]:
    """The snapshot minus what the command's sign-in committed before its work began (the time
    of the login, and the password re-hashed with production's Argon2 cost)."""
    columns = list(Base.metadata.tables["app_user"].columns.keys())
    changed = {columns.index("last_login_at"), columns.index("password_hash")}
    event_type = list(Base.metadata.tables["audit_event"].columns.keys()).index("event_type")
    return {**rows,
            "app_user": [tuple(None if i in changed else v for i, v in enumerate(row))
                         for row in rows["app_user"]],
            "audit_event": [row for row in rows["audit_event"]
                            if row[event_type] != "login_succeeded"]}


def test_a_killed_publish_leaves_the_store_unchanged(
    store: Store, store_url: str, actors: dict[str, Actor], run1: Path
) -> None:
    before = snapshot(store)
    store.close()
    _run_and_kill("vaxtrust.store.publish.apply", "write_review_items",
                  ["publish", str(run1), "--as", "minh", "--db", store_url])
    after = Store.open(store_url)
    assert _without_sign_in(snapshot(after)) == _without_sign_in(before)
    after.close()


def test_a_killed_decision_leaves_the_store_unchanged(
    published: Store, store_url: str, actors: dict[str, Actor]
) -> None:
    with published.transaction() as session:
        item = list_items(session, actors["hn01"]).items[0]
    before = snapshot(published)
    published.close()
    _run_and_kill("vaxtrust.review.queue", "_queue_affected",
                  ["review", "decide", str(item.id), "--accept", "1", "--as", "hn01",
                   "--db", store_url])
    after = Store.open(store_url)
    assert _without_sign_in(snapshot(after)) == _without_sign_in(before)
    with after.transaction() as session:     # and the item can still be decided
        assert list_items(session, actors["hn01"]).items[0].state == "open"
    after.close()
