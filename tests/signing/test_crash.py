"""``kill -9`` at random points of store-mode and run-mode signing, then signing again into other
``--out`` folders (and the dead one): never two valid certificates for a person, and in the end
everyone signable holds exactly one."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import ROOT
from tests.passport.conftest_keys import SyntheticPerson, write_run
from tests.store.cli import password_of
from vaxtrust.errors import VaxtrustError
from vaxtrust.passport.keystore import KeyStore
from vaxtrust.passport.pki import Passphrase
from vaxtrust.passport.revocation import RevocationList, revocation_document
from vaxtrust.passport.trustlist import trust_list_of
from vaxtrust.passport.verify import verify_certificate
from vaxtrust.signing import queue
from vaxtrust.signing.journal import JOURNAL, IssuanceJournal
from vaxtrust.store.auth import administrator
from vaxtrust.store.db import Store
from vaxtrust.store.scope import load_actor
from vaxtrust.store.tables import Certificate
from vaxtrust.store.users import add_user

SECRET = "crash test passphrase"
ENV = {"VAXTRUST_KEY_PASSPHRASE": SECRET, "VAXTRUST_CSCA_PASSPHRASE": SECRET,
       "VAXTRUST_PASSWORD": password_of("minh")}
PEOPLE = 24
CLAIM = "5"  # several chunks, so a kill can land between them

# (target, how many calls may pass before the kill): the target is a function or method the
# batch calls; the process SIGKILLs itself right after the chosen call returned.
POINTS = [
    ("vaxtrust.signing.queue:claim_next", 3),
    ("vaxtrust.signing.queue:reserve_all", 5),
    ("vaxtrust.signing.batch:issue_certificates", 5),
    ("vaxtrust.signing.journal:IssuanceJournal.record_issued", PEOPLE),
    ("vaxtrust.signing.journal:IssuanceJournal.commit", 5),
    ("vaxtrust.signing.queue:confirm_all", 5),
    ("vaxtrust.signing.queue:confirm_issued", PEOPLE),  # recovery of the dead batch's journal
    ("vaxtrust.store.audit:append", 12),
    ("vaxtrust.signing.queue:finish", 10),
]
RUN_POINTS = [("vaxtrust.store.publish.apply:queue_signing", 1), *POINTS]

_KILLER = """
import os, signal, importlib, sys
module_name, _, attribute = {target!r}.partition(":")
owner = importlib.import_module(module_name)
*path, name = attribute.split(".")
for part in path:
    owner = getattr(owner, part)
original = getattr(owner, name)
calls = 0
def crash(*args, **kwargs):
    global calls
    result = original(*args, **kwargs)
    calls += 1
    if calls == {nth}:
        os.kill(os.getpid(), signal.SIGKILL)
    return result
setattr(owner, name, crash)
from vaxtrust.cli import main
main({argv!r})
"""


def _cli(argv: list[str], *, kill_at: tuple[str, int] | None = None) -> subprocess.CompletedProcess[str]:
    if kill_at is None:
        code = f"from vaxtrust.cli import main\nmain({argv!r})"
    else:
        code = textwrap.dedent(_KILLER.format(target=kill_at[0], nth=kill_at[1], argv=argv))
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**_environ(), **ENV})


def _environ() -> dict[str, str]:
    import os

    # The test store's audit key comes with the child; every other VAXTRUST setting stays behind.
    return {key: value for key, value in os.environ.items()
            if not key.startswith("VAXTRUST") or key == "VAXTRUST_AUDIT_KEY"}


def _people() -> list[SyntheticPerson]:
    return [SyntheticPerson(f"P{index:03d}", "Nguyễn Văn An", "1980-01-01",
                            province="01" if index % 2 else "79",
                            doses=[("2021-08-02", "EU/1/21/1529")]) for index in range(PEOPLE)]


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    """A key store made now: the command line signs by the real clock."""
    directory = tmp_path / "keys"
    now = datetime.now(UTC)
    store = KeyStore.create(directory, country="VN", common_name="VN CSCA crash", now=now,
                            passphrase=Passphrase.of(SECRET))
    store.new_signer("vn-national", csca_passphrase=Passphrase.of(SECRET), now=now,
                     key_passphrase=Passphrase.of(SECRET))
    return directory


def _point(seed: int, points: list[tuple[str, int]]) -> tuple[str, int]:
    chooser = random.Random(seed)
    target, most = chooser.choice(points)
    return target, chooser.randint(1, most)


def _valid_certificates(url: str, keys: Path, outs: list[Path]) -> dict[str, set[str]]:
    """Per person, every certificate in any journal that a verifier would accept now."""
    store = Store.open(url)
    try:
        actor = administrator(store, command="test_crash")  # the ministry's view of the store
        with store.transaction() as session:
            revoked = list(queue.revocations(session, actor, country="VN"))
            issued = dict(session.execute(select(Certificate.person_id, func.count())
                                          .where(Certificate.state == "issued")
                                          .group_by(Certificate.person_id)).all())
    finally:
        store.close()
    assert all(count == 1 for count in issued.values())
    now = datetime.now(UTC) + timedelta(minutes=1)
    listed = RevocationList.from_document(revocation_document(revoked, country="VN", now=now), now=now)
    trust = trust_list_of(KeyStore.open(keys), now=now)
    valid: dict[str, set[str]] = {}
    for out in outs:
        if not (out / JOURNAL).is_file():
            continue
        with IssuanceJournal(out / JOURNAL) as journal:
            rows = journal._db.execute("SELECT person_id, uvci, qr_text FROM certificates").fetchall()
        for person_id, uvci, qr_text in rows:
            try:
                verify_certificate(qr_text, trust, now=now, revocation=listed)
            except VaxtrustError:
                continue
            valid.setdefault(person_id, set()).add(uvci)
    return valid


def _sign_after_a_kill(args: list[str], outs: list[Path], kill_at: tuple[str, int]) -> None:
    """Kill the first signing at ``kill_at``; sign again into a new folder, then the dead one."""
    killed = _cli([*args, "--out", str(outs[0])], kill_at=kill_at)
    assert killed.returncode in (-signal.SIGKILL, 0), killed.stderr  # 0: the point was not reached
    for out in (outs[1], outs[0]):
        again = _cli([*args, "--out", str(out), "--reclaim-after", "0"])
        assert again.returncode == 0, f"{kill_at}: {again.stderr}"


def _check(url: str, keys: Path, outs: list[Path], signable: set[str], kill_at: tuple[str, int]) -> None:
    valid = _valid_certificates(url, keys, outs)
    doubled = {person: uvcis for person, uvcis in valid.items() if len(uvcis) > 1}
    assert doubled == {}, f"killed at {kill_at}: two valid certificates"
    assert set(valid) == signable, f"killed at {kill_at}"


@pytest.fixture
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store holding the synthetic run, its people queued for signing."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
        yield from _published(url, tmp_path)
        return
    from tests.store.conftest import PostgresDatabases, pg_base_url

    databases = PostgresDatabases(pg_base_url())
    try:
        yield from _published(databases.create(f"{databases.prefix}_crash"), tmp_path)
    finally:
        databases.close()


def _published(url: str, tmp_path: Path) -> Iterator[str]:
    from vaxtrust.app.publish import publish

    run, _ = write_run(tmp_path / "data", _people())
    store = Store.open(url)
    with store.transaction() as session:
        add_user(session, by=None, username="minh", role="ministry", password=password_of("minh"))
    with store.transaction() as session:
        minister = load_actor(session, "minh")
    publish(store, minister, run)
    store.close()
    yield url


def _store_mode(store_url: str, keys: Path, tmp_path: Path, seed: int) -> None:
    kill_at = _point(seed, POINTS)
    outs = [tmp_path / "out-dead", tmp_path / "out-new"]
    args = ["passport", "sign-batch", "--keystore", str(keys), "--db", store_url, "--as", "minh",
            "--claim", CLAIM]
    _sign_after_a_kill(args, outs, kill_at)
    _check(store_url, keys, outs, {person.person_id for person in _people()}, kill_at)


def _run_mode(keys: Path, tmp_path: Path, seed: int) -> None:
    kill_at = _point(seed, RUN_POINTS)
    run, _ = write_run(tmp_path / "data", _people())
    outs = [tmp_path / "out-dead", tmp_path / "out-new"]
    args = ["passport", "sign-batch", "--keystore", str(keys), "--run", str(run),
            "--claim", CLAIM]
    _sign_after_a_kill(args, outs, kill_at)
    _check(f"sqlite:///{keys / 'store.db'}", keys, outs, {person.person_id for person in _people()},
           kill_at)


@pytest.mark.slow
def test_store_mode_signing_killed_between_journal_and_store(store_url: str, keys: Path,
                                                              tmp_path: Path) -> None:
    kill_at = ("vaxtrust.signing.journal:IssuanceJournal.commit", 2)
    outs = [tmp_path / "out-dead", tmp_path / "out-new"]
    args = ["passport", "sign-batch", "--keystore", str(keys), "--db", store_url, "--as", "minh",
            "--claim", CLAIM]
    _sign_after_a_kill(args, outs, kill_at)
    _check(store_url, keys, outs, {person.person_id for person in _people()}, kill_at)


@pytest.mark.slow
def test_run_mode_signing_killed_between_journal_and_store(keys: Path, tmp_path: Path) -> None:
    kill_at = ("vaxtrust.signing.journal:IssuanceJournal.commit", 3)
    run, _ = write_run(tmp_path / "data", _people())
    outs = [tmp_path / "out-dead", tmp_path / "out-new"]
    args = ["passport", "sign-batch", "--keystore", str(keys), "--run", str(run),
            "--claim", CLAIM]
    _sign_after_a_kill(args, outs, kill_at)
    _check(f"sqlite:///{keys / 'store.db'}", keys, outs, {person.person_id for person in _people()},
           kill_at)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(8))
def test_store_mode_signing_killed_at_random_points(store_url: str, keys: Path, tmp_path: Path,
                                                    seed: int) -> None:
    _store_mode(store_url, keys, tmp_path, seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(100, 108))
def test_run_mode_signing_killed_at_random_points(keys: Path, tmp_path: Path, seed: int) -> None:
    _run_mode(keys, tmp_path, seed)


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
@pytest.mark.parametrize("seed", range(200, 204))
def test_store_mode_signing_on_postgresql_killed_at_random_points(store_url: str, keys: Path,
                                                                 tmp_path: Path, seed: int) -> None:
    _store_mode(store_url, keys, tmp_path, seed)
