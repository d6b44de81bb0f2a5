"""Signing the store's queue: certificates recorded, changes revoked, crashes healed, and never two
current certificates for a person, whichever journal signs."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from tests.passport.conftest_keys import KEY_PASSPHRASE, KEYS_NOW, passphrase
from tests.store.cli import password_of
from tests.store.factory import with_second_dose_under_review
from vaxtrust.cli import app
from vaxtrust.errors import SigningKeyError
from vaxtrust.passport.keystore import KeyStore
from vaxtrust.passport.revocation import RevocationList, revocation_document
from vaxtrust.passport.signer import Signer
from vaxtrust.passport.trustlist import trust_list_of
from vaxtrust.passport.verify import verify_certificate
from vaxtrust.review.queue import AcceptCandidate, decide, list_items
from vaxtrust.signing import batch, queue
from vaxtrust.signing.batch import BatchSummary, release_stale_claims, sign_from_store
from vaxtrust.signing.journal import JOURNAL, IssuanceJournal
from vaxtrust.signing.people import PersonToSign
from vaxtrust.store.db import Store
from vaxtrust.store.publish import RunFolder, publish_run
from vaxtrust.store.scope import Actor, load_actor
from vaxtrust.store.tables import Certificate, Person, SigningTask

SIGN_AT = KEYS_NOW + timedelta(days=1)


def _publish_baseline(url: str, folder: Path) -> None:
    """A ministry user and the store tests' baseline run, published into the store at ``url``."""
    from tests.store.factory import baseline
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


def _sign(store: Store, actor: Actor, keystore: KeyStore, out: Path) -> BatchSummary:
    with IssuanceJournal(out / JOURNAL) as journal:
        return sign_from_store(store, actor, journal, _signer_for(keystore), worker="test",
                               now=lambda: SIGN_AT)


def _store_certificates(store: Store, *states: str) -> dict[str, list[tuple[str, str]]]:
    with store.transaction() as session:
        rows = session.execute(select(Certificate.person_id, Certificate.uvci, Certificate.state)
                               .where(Certificate.state.in_(states or ("issued", "revoked")))).all()
    found: dict[str, list[tuple[str, str]]] = {}
    for person_id, uvci, state in rows:
        found.setdefault(person_id, []).append((uvci, state))
    return found


def _queued(store: Store) -> set[str]:
    """People the published baseline run queued (all signable: verified, one known vaccine dose)."""
    with store.transaction() as session:
        return set(session.scalars(select(SigningTask.person_id).where(SigningTask.state == "pending")))


def _journal_current(out: Path) -> dict[str, str]:
    with IssuanceJournal(out / JOURNAL) as journal:
        return {row["person_id"]: row["uvci"] for rows in journal.current_certificates() for row in rows}


def _valid_everywhere(store: Store, keystore: KeyStore, *outs: Path) -> dict[str, set[str]]:
    """Per person, the certificates of every journal that verify against the trust list and the
    store's revocation list: what a holder could show."""
    with store.transaction() as session:
        minister = load_actor(session, "minh")
        revoked = list(queue.revocations(session, minister, country="VN"))
    listed = RevocationList.from_document(revocation_document(revoked, country="VN", now=SIGN_AT),
                                          now=SIGN_AT)
    trust = trust_list_of(keystore, now=SIGN_AT)
    valid: dict[str, set[str]] = {}
    for out in outs:
        with IssuanceJournal(out / JOURNAL) as journal:
            rows = [row for chunk in journal.current_certificates() for row in chunk]
            rows += [dict(zip(("person_id", "uvci", "qr_text"), row, strict=True)) for row in
                     journal._db.execute("SELECT person_id, uvci, qr_text FROM certificates "
                                         "WHERE revoked_at IS NOT NULL")]
        for row in rows:
            try:
                verify_certificate(str(row["qr_text"]), trust, now=SIGN_AT, revocation=listed)
            except Exception:  # noqa: BLE001  (revoked: not valid)
                continue
            valid.setdefault(str(row["person_id"]), set()).add(str(row["uvci"]))
    return valid


def test_the_queue_is_signed_and_the_store_records_each_certificate(
    store: Store, minister: Actor, keystore: KeyStore, tmp_path: Path
) -> None:
    queued = _queued(store)
    assert "001090000001" in queued
    summary = _sign(store, minister, keystore, tmp_path)
    current = _journal_current(tmp_path)
    assert summary.issued == len(queued) and set(current) == queued
    assert {person: [(uvci, "issued")] for person, uvci in current.items()} == _store_certificates(store)
    with store.transaction() as session:
        states = {task.state for task in session.scalars(select(SigningTask))}
    assert states == {"done"}
    with IssuanceJournal(tmp_path / JOURNAL) as journal:
        qr_text = next(row["qr_text"] for rows in journal.current_certificates() for row in rows
                       if row["person_id"] == "001090000001")
    verified = verify_certificate(qr_text, trust_list_of(keystore, now=SIGN_AT), now=SIGN_AT)
    assert verified.payload["nam"]["fnt"] == "NGUYEN"
    again = _sign(store, minister, keystore, tmp_path)
    assert (again.issued, again.already_issued) == (0, 0)  # nothing pending


def test_people_of_a_register_without_the_precision_column_are_signed(
    store: Store, minister: Actor, keystore: KeyStore, tmp_path: Path
) -> None:
    # dob_precision is an optional register column: published without it, it is NULL in the store.
    with store.transaction() as session:
        session.execute(update(Person).values(dob_precision=None))
    queued = _queued(store)
    summary = _sign(store, minister, keystore, tmp_path)
    assert (summary.issued, summary.skipped) == (len(queued), {})
    with IssuanceJournal(tmp_path / JOURNAL) as journal:
        qr_text = next(row["qr_text"] for rows in journal.current_certificates() for row in rows
                       if row["person_id"] == "001090000001")
    verified = verify_certificate(qr_text, trust_list_of(keystore, now=SIGN_AT), now=SIGN_AT)
    with store.transaction() as session:
        dob = session.scalar(select(Person.dob).where(Person.person_id == "001090000001"))
    assert verified.payload["dob"] == dob


def test_a_changed_person_is_revoked_in_the_store_and_re_issued(
    store: Store, minister: Actor, keystore: KeyStore, tmp_path: Path
) -> None:
    _sign(store, minister, keystore, tmp_path)
    old = _journal_current(tmp_path)["001090000001"]
    with store.transaction() as session:
        session.get(Person, "001090000001").full_name = "Nguyễn Văn Anh"  # type: ignore[union-attr]
        task = queue.queue_person(session, "001090000001", "name corrected")
        assert task is not None and task.action == "revoke_and_reissue"
    summary = _sign(store, minister, keystore, tmp_path / "another")
    new = _journal_current(tmp_path / "another")["001090000001"]
    assert summary.reissued == 1
    assert sorted(_store_certificates(store)["001090000001"]) == sorted([(old, "revoked"), (new, "issued")])
    assert _valid_everywhere(store, keystore, tmp_path, tmp_path / "another")["001090000001"] == {new}


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
    _sign(store, minister, keystore, tmp_path)
    with IssuanceJournal(tmp_path / JOURNAL) as journal:
        qr_text = next(row["qr_text"] for rows in journal.current_certificates() for row in rows
                       if row["person_id"] == "001170000003")
    certificate = verify_certificate(qr_text, trust_list_of(keystore, now=SIGN_AT), now=SIGN_AT)
    vaccination = certificate.payload["v"][0]
    assert (vaccination["dn"], vaccination["mp"], vaccination["dt"]) == (2, "EU/1/20/1507",
                                                                         "2021-10-15")


class _Crash(BaseException):
    """Stands in for a kill between two commits (the in-process variant of the kill -9 tests)."""


def _crash_before_the_store_hears(monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(*args: object, **kwargs: object) -> list[str]:
        raise _Crash

    monkeypatch.setattr(batch, "_tell_store", crash)


def test_a_crash_between_journal_and_store_is_recovered_by_the_same_journal(
    store: Store, minister: Actor, keystore: KeyStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    queued = _queued(store)
    with monkeypatch.context() as patched:
        _crash_before_the_store_hears(patched)
        with pytest.raises(_Crash):
            _sign(store, minister, keystore, tmp_path)
    signed = _journal_current(tmp_path)
    assert set(signed) == queued and _store_certificates(store) == {}
    assert set(_store_certificates(store, "reserved")) == queued  # the store knows every UVCI
    summary = _sign(store, minister, keystore, tmp_path)
    assert (summary.recovered, summary.issued) == (len(queued), 0)
    assert _journal_current(tmp_path) == signed
    assert _store_certificates(store) == {person: [(uvci, "issued")] for person, uvci in signed.items()}


def test_re_claiming_into_another_folder_after_a_crash_never_leaves_two_valid_certificates(
    store: Store, minister: Actor, keystore: KeyStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    queued = _queued(store)
    with monkeypatch.context() as patched:
        _crash_before_the_store_hears(patched)
        with pytest.raises(_Crash):
            _sign(store, minister, keystore, tmp_path / "dead")
    assert release_stale_claims(store, minister, older_than=timedelta(0),
                                now=datetime.now(UTC) + timedelta(seconds=1)) == len(queued)
    summary = _sign(store, minister, keystore, tmp_path / "new")
    assert summary.issued == len(queued)
    valid = _valid_everywhere(store, keystore, tmp_path / "dead", tmp_path / "new")
    assert all(len(uvcis) == 1 for uvcis in valid.values()) and set(valid) == queued
    # the dead folder's journal comes back: its certificates are retired, their signatures listed
    assert _sign(store, minister, keystore, tmp_path / "dead").issued == 0
    assert _journal_current(tmp_path / "dead") == {}
    with store.transaction() as session:
        signatures = session.scalars(select(Certificate.signature).where(Certificate.state == "revoked"))
        assert all(signature for signature in signatures)


class _PulledToken:
    """A real signer's certificate whose token was pulled out: signing fails."""

    def __init__(self, signer: Signer) -> None:
        self.kid, self.algorithm, self.certificate = signer.kid, signer.algorithm, signer.certificate

    def sign(self, message: bytes) -> bytes:
        raise SigningKeyError("the token refused to sign: DeviceRemoved")


def test_a_failing_signer_leaves_reservations_that_its_journal_voids(
    store: Store, minister: Actor, keystore: KeyStore, tmp_path: Path
) -> None:
    real = _signer_for(keystore)
    pulled = _PulledToken(real(PersonToSign("x", None, None, None, None, ()))[1])
    with IssuanceJournal(tmp_path / JOURNAL) as journal, pytest.raises(SigningKeyError):
        sign_from_store(store, minister, journal, lambda person: ("vn-national", pulled),
                        worker="t", now=lambda: SIGN_AT)
    assert _journal_current(tmp_path) == {}
    with store.transaction() as session:
        assert {task.state for task in session.scalars(select(SigningTask))} == {"claimed"}
    reserved = _store_certificates(store, "reserved")
    summary = _sign(store, minister, keystore, tmp_path)
    assert summary.issued == len(reserved) == len(_store_certificates(store))
    assert set(_store_certificates(store, "void")) == set(reserved)  # never signed: not listed


def test_a_certificate_the_store_does_not_know_is_revoked(
    store: Store, minister: Actor, keystore: KeyStore, tmp_path: Path
) -> None:
    _sign(store, minister, keystore, tmp_path)
    smuggled = _journal_current(tmp_path)["001090000001"]
    with store.transaction() as session:  # e.g. a journal signed against another store
        session.delete(session.get(Certificate, smuggled))
    summary = _sign(store, minister, keystore, tmp_path)
    assert summary.revoked_unknown == 1
    assert "001090000001" not in _journal_current(tmp_path)
    with store.transaction() as session:
        listed = [revocation.uci for revocation in queue.revocations(session, minister, country="VN")]
    assert listed == [smuggled]


def test_sign_batch_from_the_store_on_the_command_line(store: Store, tmp_path: Path) -> None:
    url = str(store.engine.url.render_as_string(hide_password=False))
    store.close()
    env = {"VAXTRUST_KEY_PASSPHRASE": KEY_PASSPHRASE, "VAXTRUST_CSCA_PASSPHRASE": KEY_PASSPHRASE,
           "VAXTRUST_PASSWORD": password_of("minh"), "VAXTRUST_TOKEN": None}
    keys = str(tmp_path / "keys")  # made now: the command signs by the real clock
    for command in (["keys", "init-csca"], ["keys", "new-signer", "vn-national"]):
        assert CliRunner().invoke(app, ["passport", *command, "--keystore", keys], env=env).exit_code == 0
    args = ["passport", "sign-batch", "--keystore", keys, "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(app, [*args, "--db", url, "--as", "minh"], env=env)
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    assert "skipped 0" in result.output and not result.output.startswith("issued 0,")
    result = CliRunner().invoke(app, [*args, "--db", url], env=env)
    assert "--as" in str(result.exception)
