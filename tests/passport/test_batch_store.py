"""sign-batch from the store's signing queue: certificates recorded, changes revoked, crashes healed."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.passport.conftest_keys import KEY_PASSPHRASE, KEYS_NOW, passphrase
from tests.store.cli import password_of
from tests.store.factory import with_second_dose_under_review
from vaxtrust.cli import app
from vaxtrust.errors import SigningKeyError
from vaxtrust.passport.batch import JOURNAL, IssuanceJournal, PersonToSign
from vaxtrust.passport.batch_store import (
    people_in_store,
    release_stale_claims,
    sign_chunk,
    sign_from_store,
)
from vaxtrust.passport.keystore import KeyStore
from vaxtrust.passport.signer import Signer
from vaxtrust.passport.trustlist import trust_list_of
from vaxtrust.passport.verify import verify_certificate
from vaxtrust.review.queue import AcceptCandidate, decide, list_items
from vaxtrust.store import signing
from vaxtrust.store.db import Store
from vaxtrust.store.publish import RunFolder, publish_run
from vaxtrust.store.scope import Actor, load_actor
from vaxtrust.store.tables import Certificate, Person, SigningTask

SIGN_AT = KEYS_NOW + timedelta(days=1)


def _publish_baseline(url: str, folder: Path) -> None:
    """A ministry user and the store tests' baseline run, published into the store at ``url``."""
    from tests.store.factory import baseline
    from vaxtrust.store.publish import RunFolder, publish_run
    from vaxtrust.store.users import add_user

    store = Store.open(url)
    with store.transaction() as session:
        add_user(session, by=None, username="minh", role="ministry", password=password_of("minh"))
    baseline().write(folder / "run1")
    with store.transaction() as session:
        publish_run(session, load_actor(session, "minh"), RunFolder.open(folder / "run1"))
    store.close()


@pytest.fixture(scope="module")
def published_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("signing-store")
    _publish_baseline(f"sqlite:///{folder / 'store.db'}", folder)
    return folder / "store.db"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A published store: a copy of the SQLite template, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "store.db"
        shutil.copy(request.getfixturevalue("published_template"), path)
        opened = Store.open(f"sqlite:///{path}")
        yield opened
        opened.close()
        return
    from tests.store.conftest import PostgresDatabases, pg_base_url

    databases = PostgresDatabases(pg_base_url())
    url = databases.create(f"{databases.prefix}_signing")
    try:
        _publish_baseline(url, tmp_path)
        opened = Store.open(url)
        yield opened
        opened.close()
    finally:
        databases.close()


@pytest.fixture
def minister(store: Store) -> Actor:
    with store.transaction() as session:
        return load_actor(session, "minh")


def _signer_for(keystore: KeyStore) -> Callable[[PersonToSign], tuple[str, Signer]]:
    signer = keystore.load_signer("vn-national", now=SIGN_AT, passphrase=passphrase(KEY_PASSPHRASE))
    return lambda person: ("vn-national", signer)


def _store_certificates(store: Store) -> dict[str, list[tuple[str, str]]]:
    with store.transaction() as session:
        rows = session.execute(select(Certificate.person_id, Certificate.uvci, Certificate.state)).all()
    found: dict[str, list[tuple[str, str]]] = {}
    for person_id, uvci, state in rows:
        found.setdefault(person_id, []).append((uvci, state))
    return found


def _queued(store: Store) -> set[str]:
    """People the published baseline run queued (all signable: verified, one known vaccine dose)."""
    with store.transaction() as session:
        return set(session.scalars(select(SigningTask.person_id).where(SigningTask.state == "pending")))


def _journal_current(journal: IssuanceJournal) -> dict[str, str]:
    return {row["person_id"]: row["uvci"] for rows in journal.current_certificates() for row in rows}


def test_the_queue_is_signed_and_the_store_records_each_certificate(
    store: Store, minister: Actor, keystore: KeyStore, tmp_path: Path
) -> None:
    queued = _queued(store)
    assert "001090000001" in queued
    with IssuanceJournal(tmp_path / JOURNAL) as journal:
        summary = sign_from_store(store, minister, journal, _signer_for(keystore), worker="test",
                                  now=lambda: SIGN_AT)
        current = _journal_current(journal)
        qr_texts = {row["person_id"]: row["qr_text"] for rows in journal.current_certificates()
                    for row in rows}
    assert summary.issued == len(queued) and set(current) == queued
    assert {person: [(uvci, "issued")] for person, uvci in current.items()} == _store_certificates(store)
    with store.transaction() as session:
        states = {task.state for task in session.scalars(select(SigningTask))}
    assert states == {"done"}
    trust = trust_list_of(keystore, now=SIGN_AT)
    verified = verify_certificate(qr_texts["001090000001"], trust, now=SIGN_AT)
    assert verified.payload["nam"]["fnt"] == "NGUYEN"
    with IssuanceJournal(tmp_path / JOURNAL) as journal:
        again = sign_from_store(store, minister, journal, _signer_for(keystore), worker="test",
                                now=lambda: SIGN_AT)
    assert (again.issued, again.already_issued) == (0, 0)  # nothing pending


def test_a_changed_person_is_revoked_in_the_store_and_re_issued(
    store: Store, minister: Actor, keystore: KeyStore, tmp_path: Path
) -> None:
    with IssuanceJournal(tmp_path / JOURNAL) as journal:
        sign_from_store(store, minister, journal, _signer_for(keystore), worker="t", now=lambda: SIGN_AT)
        old = _journal_current(journal)["001090000001"]
    with store.transaction() as session:
        session.get(Person, "001090000001").full_name = "Nguyễn Văn Anh"  # type: ignore[union-attr]
        task = signing.queue_person(session, "001090000001", "name corrected")
        assert task is not None and task.action == "revoke_and_reissue"
    with IssuanceJournal(tmp_path / JOURNAL) as journal:
        summary = sign_from_store(store, minister, journal, _signer_for(keystore), worker="t",
                                  now=lambda: SIGN_AT)
        new = _journal_current(journal)["001090000001"]
        assert [revocation.uci for revocation in journal.revocations()] == [old]
    assert summary.reissued == 1
    assert sorted(_store_certificates(store)["001090000001"]) == sorted([(old, "revoked"), (new, "issued")])


def test_a_dose_an_officer_linked_is_on_the_certificate(
    store: Store, minister: Actor, keystore: KeyStore, tmp_path: Path
) -> None:
    # A newer run holds Lê Thị Cúc's second dose (Moderna, 15/10/2021) under review.
    with store.transaction() as session:
        publish_run(session, minister,
                    RunFolder.open(with_second_dose_under_review().write(tmp_path / "run2")))
    with store.transaction() as session:
        item = next(i for i in list_items(session, minister).items if i.record_id == "R9")
        decide(session, minister, item.id, AcceptCandidate(1))
    with IssuanceJournal(tmp_path / JOURNAL) as journal:
        sign_from_store(store, minister, journal, _signer_for(keystore), worker="t",
                        now=lambda: SIGN_AT)
        qr_texts = {row["person_id"]: row["qr_text"] for rows in journal.current_certificates()
                    for row in rows}
    certificate = verify_certificate(qr_texts["001170000003"], trust_list_of(keystore, now=SIGN_AT),
                                     now=SIGN_AT)
    vaccination = certificate.payload["v"][0]
    assert (vaccination["dn"], vaccination["mp"], vaccination["dt"]) == (2, "EU/1/20/1507",
                                                                         "2021-10-15")


def test_a_crash_between_journal_and_store_is_healed_without_a_second_certificate(
    store: Store, minister: Actor, keystore: KeyStore, tmp_path: Path
) -> None:
    signer_for = _signer_for(keystore)
    queued = _queued(store)
    # claim and sign into the journal, then "crash" before the store hears of it
    with store.transaction() as session:
        tasks = [(task.id, task.person_id) for task in signing.claim_next(session, minister, 10, worker="dead")]
        people = people_in_store(session, [person for _, person in tasks])
    with IssuanceJournal(tmp_path / JOURNAL) as journal:
        sign_chunk(tasks, people, journal, signer_for, lambda: SIGN_AT, timedelta(days=365), False)
        signed = _journal_current(journal)
    assert _store_certificates(store) == {}
    assert release_stale_claims(store, minister, older_than=timedelta(0), now=datetime.now(UTC)) == len(queued)
    with IssuanceJournal(tmp_path / JOURNAL) as journal:
        summary = sign_from_store(store, minister, journal, signer_for, worker="t", now=lambda: SIGN_AT)
        assert _journal_current(journal) == signed
    assert (summary.issued, summary.already_issued) == (0, len(queued))
    assert _store_certificates(store) == {person: [(uvci, "issued")] for person, uvci in signed.items()}


def test_a_failing_signer_leaves_the_chunk_claimed_and_unsigned(
    store: Store, minister: Actor, keystore: KeyStore, tmp_path: Path
) -> None:
    def broken(person: PersonToSign) -> tuple[str, Signer]:
        raise SigningKeyError("no token labelled 'gone'")

    with IssuanceJournal(tmp_path / JOURNAL) as journal, pytest.raises(SigningKeyError):
        sign_from_store(store, minister, journal, broken, worker="t", now=lambda: SIGN_AT)
    with IssuanceJournal(tmp_path / JOURNAL) as journal:
        assert _journal_current(journal) == {}
    with store.transaction() as session:
        assert {task.state for task in session.scalars(select(SigningTask))} == {"claimed"}


def test_sign_batch_from_the_store_on_the_command_line(store: Store, tmp_path: Path) -> None:
    url = str(store.engine.url)
    store.close()
    env = {"VAXTRUST_KEY_PASSPHRASE": KEY_PASSPHRASE, "VAXTRUST_CSCA_PASSPHRASE": KEY_PASSPHRASE}
    keys = str(tmp_path / "keys")  # made now: the command signs by the real clock
    for command in (["keys", "init-csca"], ["keys", "new-signer", "vn-national"]):
        assert CliRunner().invoke(app, ["passport", *command, "--keystore", keys], env=env).exit_code == 0
    args = ["passport", "sign-batch", "--keystore", keys, "--out", str(tmp_path / "o")]
    signed_in = {**env, "VAXTRUST_PASSWORD": password_of("minh"), "VAXTRUST_TOKEN": None}
    result = CliRunner().invoke(app, [*args, "--db", url, "--as", "minh"], env=signed_in)
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    assert "skipped 0" in result.output and not result.output.startswith("issued 0,")
    result = CliRunner().invoke(app, [*args, "--db", url], env=env)
    assert "--as" in str(result.exception)
    result = CliRunner().invoke(app, [*args, "--db", url, "--as", "minh", "--run", "x"],
                                env=signed_in)
    assert "not both" in str(result.exception)
