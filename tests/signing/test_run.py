"""Signing a cleaning run: published into the key store's embedded store, then signed from its
queue; every verified person signed once, resumable, revoke-and-reissue when their record changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.passport.conftest_keys import (
    CSCA_PASSPHRASE,
    KEY_PASSPHRASE,
    KEYS_NOW,
    SyntheticPerson,
    passphrase,
    synthetic_people,
    write_run,
)
from vaxtrust.app.signing import (
    SignRequest,
    SignResult,
    StoreChoice,
    embedded_store_url,
    revocations,
    revoke,
    sign,
)
from vaxtrust.console import RecordingConsole
from vaxtrust.errors import CertificateRevoked, ConfigError, InputError, NotFound, SigningKeyError
from vaxtrust.passport.keystore import KeyStore
from vaxtrust.passport.revocation import RevocationList, revocation_document
from vaxtrust.passport.trustlist import trust_list_of
from vaxtrust.passport.verify import verify_certificate
from vaxtrust.signing.batch import BatchOptions
from vaxtrust.signing.journal import JOURNAL, IssuanceJournal
from vaxtrust.signing.queue import queue_person
from vaxtrust.store.db import Store

SIGN_AT = KEYS_NOW + timedelta(days=1)
SIGNABLE = {"P001", "P002", "P003", "P007"}
# A later run also links someone new (a run with the same result files is the same run).
NEWCOMER = SyntheticPerson("P008", "Đoàn Văn Khoa", "1999-09-09", doses=[("2022-02-02", "EU/1/20/1528")])


def people() -> list[SyntheticPerson]:
    """The synthetic run: P004 in review, P005 flagged (the cleaning links nobody outside the register)."""
    return [person for person in synthetic_people() if person.in_register]


def _sign(keystore: KeyStore, run: Path | None, register: Path | None, out: Path, *,
          at: datetime = SIGN_AT, **options: object) -> SignResult:
    return sign(SignRequest(
        store=StoreChoice(keystore=keystore.directory), out=out, run=run,
        passphrase=KEY_PASSPHRASE, options=BatchOptions(**options),  # type: ignore[arg-type]
    ), now=lambda: at)


def _certificates(out: Path) -> dict[str, dict[str, object]]:
    return {row["person_id"]: row for row in pq.read_table(out / "certificates.parquet").to_pylist()}


@pytest.fixture
def run_and_register(tmp_path: Path) -> tuple[Path, Path]:
    return write_run(tmp_path, people())


def test_every_verified_person_is_signed_and_verifies(
    keystore: KeyStore, run_and_register: tuple[Path, Path], tmp_path: Path
) -> None:
    run, register = run_and_register
    console = RecordingConsole()
    result = sign(SignRequest(store=StoreChoice(keystore=keystore.directory), out=tmp_path / "out",
                              run=run, passphrase=KEY_PASSPHRASE),
                  console=console, now=lambda: SIGN_AT)
    summary = result.summary
    assert result.published is not None and result.published.signing_queued == 5
    assert (summary.issued, summary.reissued) == (4, 0)
    assert summary.skipped == {"dose_flagged": 1}
    certificates = _certificates(tmp_path / "out")
    assert set(certificates) == SIGNABLE  # P004 is in review: never signed
    trust = trust_list_of(keystore, now=SIGN_AT)
    verified = verify_certificate(str(certificates["P001"]["qr_text"]), trust, now=SIGN_AT)
    assert verified.payload["nam"]["fnt"] == "NGUYEN"
    assert verified.payload["v"][0]["dn"] == 2
    assert verify_certificate(str(certificates["P002"]["qr_text"]), trust, now=SIGN_AT).payload["dob"] == "1975"
    assert verify_certificate(str(certificates["P007"]["qr_text"]), trust, now=SIGN_AT).payload["dob"] == "1965-06"
    assert "sign-batch" in console.stages()
    skipped = (tmp_path / "out" / "skipped.csv").read_text().splitlines()
    assert skipped == ["person_id,reason", "P005,dose_flagged: dose_interval_too_short"]


def test_flagged_doses_can_be_allowed(
    keystore: KeyStore, run_and_register: tuple[Path, Path], tmp_path: Path
) -> None:
    run, register = run_and_register
    assert _sign(keystore, run, register, tmp_path / "out", allow_flagged=True).summary.issued == 5


def test_each_person_is_signed_by_the_signer_of_their_province(
    keystore: KeyStore, run_and_register: tuple[Path, Path], tmp_path: Path
) -> None:
    keystore.new_signer("hanoi", csca_passphrase=passphrase(CSCA_PASSPHRASE),
                        key_passphrase=passphrase(KEY_PASSPHRASE), now=KEYS_NOW, province="01")
    run, register = run_and_register
    _sign(keystore, run, register, tmp_path / "out")
    signers = {person: row["signer"] for person, row in _certificates(tmp_path / "out").items()}
    assert signers == {"P001": "hanoi", "P007": "hanoi", "P002": "vn-national", "P003": "vn-national"}


def test_signing_the_run_again_into_another_folder_issues_nothing(
    keystore: KeyStore, run_and_register: tuple[Path, Path], tmp_path: Path
) -> None:
    run, register = run_and_register
    _sign(keystore, run, register, tmp_path / "out")
    first = _certificates(tmp_path / "out")
    again = _sign(keystore, run, register, tmp_path / "elsewhere")
    assert again.published is not None and again.published.already_published
    assert (again.summary.issued, again.summary.reissued) == (0, 0)
    assert _certificates(tmp_path / "elsewhere") == {}
    assert _certificates(tmp_path / "out") == first


def test_a_changed_record_revokes_the_old_certificate_and_issues_a_new_one(
    keystore: KeyStore, tmp_path: Path
) -> None:
    run, register = write_run(tmp_path / "v1", people())
    out = tmp_path / "out"
    _sign(keystore, run, register, out)
    old = _certificates(out)["P001"]
    changed = [replace(person, full_name="Nguyễn Thị Thủy Tiên") if person.person_id == "P001" else person
               for person in people()]
    run2, register2 = write_run(tmp_path / "v2", [*changed, NEWCOMER])
    summary = _sign(keystore, run2, register2, tmp_path / "out2").summary
    assert (summary.issued, summary.reissued) == (1, 1)
    new = _certificates(tmp_path / "out2")["P001"]
    assert new["uvci"] != old["uvci"]
    revoked = revocations(StoreChoice(keystore=keystore.directory), country="VN")
    assert [(revocation.uci, revocation.reason) for revocation in revoked] == [
        (old["uvci"], "record_changed")
    ]
    listed = RevocationList.from_document(
        revocation_document(revoked, country="VN", now=SIGN_AT), now=SIGN_AT
    )
    trust = trust_list_of(keystore, now=SIGN_AT)
    with pytest.raises(CertificateRevoked):
        verify_certificate(str(old["qr_text"]), trust, now=SIGN_AT, revocation=listed)
    verified = verify_certificate(str(new["qr_text"]), trust, now=SIGN_AT, revocation=listed)
    assert verified.payload["nam"]["gnt"] == "THI<THUY<TIEN"
    # the first folder's journal learns of it on its next batch: its export no longer lists it
    _sign(keystore, None, None, out)
    assert "P001" not in _certificates(out)


def test_an_expired_certificate_is_renewed_without_a_revocation(
    keystore: KeyStore, run_and_register: tuple[Path, Path], tmp_path: Path
) -> None:
    run, register = run_and_register
    out = tmp_path / "out"
    _sign(keystore, run, register, out, validity=timedelta(days=30))
    first = _certificates(out)
    store = Store.open(embedded_store_url(keystore.directory))
    with store.transaction() as session:  # queued again, e.g. by a complaint: nothing changed
        queue_person(session, "P001", "holder asked for a new certificate")
    store.close()
    summary = _sign(keystore, None, None, out, at=SIGN_AT + timedelta(days=31),
                    validity=timedelta(days=30)).summary
    assert (summary.renewed, summary.issued, summary.reissued) == (1, 0, 0)
    assert revocations(StoreChoice(keystore=keystore.directory), country="VN") == []
    assert _certificates(out)["P001"]["uvci"] != first["P001"]["uvci"]


def test_a_certificate_whose_person_became_unsignable_is_revoked(keystore: KeyStore, tmp_path: Path) -> None:
    run, register = write_run(tmp_path / "v1", people())
    out = tmp_path / "out"
    _sign(keystore, run, register, out)
    old = _certificates(out)["P003"]["uvci"]
    # a new dose arrives that breaks the plausibility rules: the old certificate no longer holds
    changed = [replace(person, doses=[*(person.doses or []), ("2021-11-20", "EU/1/20/1528")],
                       flags=["interval_too_short"]) if person.person_id == "P003" else person
               for person in people()]
    run2, register2 = write_run(tmp_path / "v2", [*changed, NEWCOMER])
    summary = _sign(keystore, run2, register2, out).summary
    assert summary.skipped["dose_flagged"] == 1
    assert "P003" not in _certificates(out)
    revoked = {revocation.uci: revocation.reason
               for revocation in revocations(StoreChoice(keystore=keystore.directory), country="VN")}
    assert revoked == {old: "record_changed: dose_flagged: interval_too_short"}


def test_revoke_by_hand_and_block(keystore: KeyStore, run_and_register: tuple[Path, Path], tmp_path: Path) -> None:
    run, register = run_and_register
    out = tmp_path / "out"
    _sign(keystore, run, register, out)
    choice = StoreChoice(keystore=keystore.directory)
    uvci = revoke(choice, reason="reported as fraudulent", person_id="P003", block=True)
    with pytest.raises(NotFound, match="no current certificate"):
        revoke(choice, reason="again", person_id="P003")
    with pytest.raises(ConfigError, match="exactly one"):
        revoke(choice, reason="x")
    assert [revocation.uci for revocation in revocations(choice, country="VN")] == [uvci]
    changed = [replace(person, full_name="Lê Hoàng Minh") if person.person_id == "P003" else person
               for person in people()]
    run2, register2 = write_run(tmp_path / "v2", [*changed, NEWCOMER])
    summary = _sign(keystore, run2, register2, out).summary
    assert summary.skipped["blocked"] == 1
    assert "P003" not in _certificates(out)


def test_certificate_data_problems_skip_the_person_with_the_reason(
    keystore: KeyStore, tmp_path: Path
) -> None:
    odd = [
        SyntheticPerson("P100", "Hồ Văn Tâm", "1981-01-01", doses=[("2021-09-09", "NOT-A-VACCINE")]),
        SyntheticPerson("P101", "Mai Thị Hạnh", "1983-03-03", doses=[("2021-09-09", "EU/1/20/1528")]),
    ]
    run, register = write_run(tmp_path, odd)
    summary = _sign(keystore, run, register, tmp_path / "out").summary
    assert summary.issued == 1 and summary.skipped == {"certificate_data": 1}
    reasons = dict(line.split(",", 1) for line in (tmp_path / "out" / "skipped.csv").read_text().splitlines()[1:])
    assert "NOT-A-VACCINE" in reasons["P100"]


def test_a_signer_that_outlives_no_certificate_stops_the_batch_and_a_later_one_resumes(
    keystore: KeyStore, run_and_register: tuple[Path, Path], tmp_path: Path
) -> None:
    run, register = run_and_register
    late = KEYS_NOW + timedelta(days=365 * 2 - 30)  # the signer expires before a 1-year certificate would
    with pytest.raises(SigningKeyError, match="rotate"):
        _sign(keystore, run, register, tmp_path / "out", at=late)
    summary = _sign(keystore, run, register, tmp_path / "out").summary
    assert summary.issued == 4 and set(_certificates(tmp_path / "out")) == SIGNABLE


def test_a_missing_run_is_an_input_error(keystore: KeyStore, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="results.parquet"):
        _sign(keystore, tmp_path, None, tmp_path / "out")


def test_two_batches_on_one_journal_are_refused(tmp_path: Path) -> None:
    with IssuanceJournal(tmp_path / JOURNAL) as first, \
            IssuanceJournal(tmp_path / JOURNAL, busy_timeout=0.1) as second:
        assert first.journal_id == second.journal_id
        first.begin()
        with pytest.raises(ConfigError, match="in use by another sign-batch"):
            second.begin()
        first.rollback()


def test_an_unwritable_journal_place_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="cannot open the issuance journal"):
        IssuanceJournal(tmp_path / "file" / JOURNAL)
