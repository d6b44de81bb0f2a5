"""sign-batch: every verified person signed once, resumable after a crash, revoke-and-reissue on change."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
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
from vaxtrust.console import RecordingConsole
from vaxtrust.errors import CertificateRevoked, ConfigError, InputError, SigningKeyError
from vaxtrust.passport.batch import (
    JOURNAL,
    BatchSummary,
    IssuanceJournal,
    PersonToSign,
    export_outputs,
    people_of_run,
    sign_batch,
)
from vaxtrust.passport.keystore import KeyStore
from vaxtrust.passport.revocation import RevocationList, revocation_document
from vaxtrust.passport.signer import Signer
from vaxtrust.passport.trustlist import trust_list_of
from vaxtrust.passport.verify import verify_certificate

SIGN_AT = KEYS_NOW + timedelta(days=1)
SIGNABLE = {"P001", "P002", "P003", "P007"}


def _signers(store: KeyStore) -> Callable[[PersonToSign], tuple[str, Signer]]:
    """Signers by province, each loaded once (what the CLI does)."""
    loaded: dict[str, Signer] = {}

    def signer_for(person: PersonToSign) -> tuple[str, Signer]:
        name = store.signer_for(province=person.province).name
        if name not in loaded:
            loaded[name] = store.load_signer(name, now=SIGN_AT, passphrase=passphrase(KEY_PASSPHRASE))
        return name, loaded[name]

    return signer_for


def _run_batch(store: KeyStore, run: Path, register: Path, out: Path, **options: object) -> BatchSummary:
    signer_for = _signers(store)
    with IssuanceJournal(out / JOURNAL) as journal:
        summary = sign_batch(
            people_of_run(run, register), journal, signer_for, now=lambda: SIGN_AT,
            **options,  # type: ignore[arg-type]
        )
        export_outputs(journal, out)
    return summary


def _certificates(out: Path) -> dict[str, dict[str, object]]:
    return {row["person_id"]: row for row in pq.read_table(out / "certificates.parquet").to_pylist()}


@pytest.fixture
def run_and_register(tmp_path: Path) -> tuple[Path, Path]:
    return write_run(tmp_path, synthetic_people())


def test_every_verified_person_is_signed_and_verifies(
    keystore: KeyStore, run_and_register: tuple[Path, Path], tmp_path: Path
) -> None:
    run, register = run_and_register
    console = RecordingConsole()
    summary = _run_batch(keystore, run, register, tmp_path / "out", console=console)
    assert (summary.issued, summary.reissued) == (4, 0)
    assert summary.skipped == {"dose_flagged": 1, "not_in_register": 1}
    certificates = _certificates(tmp_path / "out")
    assert set(certificates) == SIGNABLE  # P004 is in review: never signed
    trust = trust_list_of(keystore, now=SIGN_AT)
    verified = verify_certificate(str(certificates["P001"]["qr_text"]), trust, now=SIGN_AT)
    assert verified.payload["nam"]["fnt"] == "NGUYEN"
    assert verified.payload["v"][0]["dn"] == 2
    assert verify_certificate(str(certificates["P002"]["qr_text"]), trust, now=SIGN_AT).payload["dob"] == "1975"
    assert verify_certificate(str(certificates["P007"]["qr_text"]), trust, now=SIGN_AT).payload["dob"] == "1965-06"
    assert console.stages() == ["sign-batch"]
    skipped = (tmp_path / "out" / "skipped.csv").read_text().splitlines()
    assert skipped == ["person_id,reason", "P005,dose_flagged: dose_interval_too_short", "P006,not_in_register"]


def test_flagged_doses_can_be_allowed(
    keystore: KeyStore, run_and_register: tuple[Path, Path], tmp_path: Path
) -> None:
    run, register = run_and_register
    summary = _run_batch(keystore, run, register, tmp_path / "out", allow_flagged=True)
    assert summary.issued == 5


def test_each_person_is_signed_by_the_signer_of_their_province(
    keystore: KeyStore, run_and_register: tuple[Path, Path], tmp_path: Path
) -> None:
    keystore.new_signer("hanoi", csca_passphrase=passphrase(CSCA_PASSPHRASE),
                        key_passphrase=passphrase(KEY_PASSPHRASE), now=KEYS_NOW, province="01")
    run, register = run_and_register
    _run_batch(keystore, run, register, tmp_path / "out")
    signers = {person: row["signer"] for person, row in _certificates(tmp_path / "out").items()}
    assert signers == {"P001": "hanoi", "P007": "hanoi", "P002": "vn-national", "P003": "vn-national"}


def test_a_second_run_issues_nothing_again(
    keystore: KeyStore, run_and_register: tuple[Path, Path], tmp_path: Path
) -> None:
    run, register = run_and_register
    _run_batch(keystore, run, register, tmp_path / "out")
    first = _certificates(tmp_path / "out")
    summary = _run_batch(keystore, run, register, tmp_path / "out")
    assert (summary.issued, summary.reissued, summary.already_issued) == (0, 0, 4)
    assert _certificates(tmp_path / "out") == first


class _FailingSigner:
    """Delegates to a real signer, then fails like a token pulled out after ``budget`` signatures."""

    def __init__(self, signer: Signer, budget: int) -> None:
        self._signer, self._budget = signer, budget
        self.kid, self.algorithm, self.certificate = signer.kid, signer.algorithm, signer.certificate

    def sign(self, message: bytes) -> bytes:
        if self._budget == 0:
            raise SigningKeyError("the token refused to sign: DeviceRemoved")
        self._budget -= 1
        return self._signer.sign(message)


def test_a_failed_batch_resumes_without_issuing_twice(
    keystore: KeyStore, run_and_register: tuple[Path, Path], tmp_path: Path
) -> None:
    run, register = run_and_register
    real = keystore.load_signer("vn-national", now=SIGN_AT, passphrase=passphrase(KEY_PASSPHRASE))
    failing = _FailingSigner(real, budget=2)
    out = tmp_path / "out"
    with IssuanceJournal(out / JOURNAL) as journal, pytest.raises(SigningKeyError, match="DeviceRemoved"):
        sign_batch(people_of_run(run, register), journal, lambda person: ("vn-national", failing),
                   now=lambda: SIGN_AT, commit_every=2)
    with IssuanceJournal(out / JOURNAL) as journal:
        committed = {row["person_id"]: row["uvci"] for rows in journal.current_certificates() for row in rows}
    # commits come every 2 people: P001 and P002 are in, P003 failed
    assert set(committed) == {"P001", "P002"}
    summary = _run_batch(keystore, run, register, out)
    assert (summary.issued, summary.already_issued) == (2, 2)
    final = _certificates(out)
    assert set(final) == SIGNABLE
    assert {person: final[person]["uvci"] for person in committed} == committed


def test_a_killed_process_resumes_without_issuing_twice(
    keystore: KeyStore, run_and_register: tuple[Path, Path], tmp_path: Path
) -> None:
    """A hard kill (no cleanup, no rollback) in the middle of a chunk loses only unseen work."""
    run, register = run_and_register
    out = tmp_path / "out"
    script = textwrap.dedent(f"""
        import os
        from datetime import datetime
        from pathlib import Path
        from vaxtrust.passport.batch import IssuanceJournal, people_of_run, sign_batch
        from vaxtrust.passport.keystore import KeyStore
        store = KeyStore.open(Path({str(keystore.directory)!r}))
        now = datetime.fromisoformat({SIGN_AT.isoformat()!r})
        real = store.load_signer("vn-national", now=now, passphrase={KEY_PASSPHRASE!r})
        class Dying:
            kid, algorithm, certificate = real.kid, real.algorithm, real.certificate
            calls = 0
            def sign(self, message):
                Dying.calls += 1
                if Dying.calls == 3:
                    os._exit(9)  # like kill -9 / power loss: nothing is flushed or rolled back
                return real.sign(message)
        journal = IssuanceJournal(Path({str(out / JOURNAL)!r}))
        sign_batch(people_of_run(Path({str(run)!r}), Path({str(register)!r})), journal,
                   lambda person: ("vn-national", Dying()), now=lambda: now, commit_every=2)
    """)
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert completed.returncode == 9, completed.stderr
    with IssuanceJournal(out / JOURNAL) as journal:
        assert {row["person_id"] for rows in journal.current_certificates() for row in rows} == {"P001", "P002"}
    summary = _run_batch(keystore, run, register, out)
    assert (summary.issued, summary.already_issued) == (2, 2)
    assert set(_certificates(out)) == SIGNABLE


def test_a_changed_record_revokes_the_old_certificate_and_issues_a_new_one(
    keystore: KeyStore, tmp_path: Path
) -> None:
    people = synthetic_people()
    run, register = write_run(tmp_path / "v1", people)
    out = tmp_path / "out"
    _run_batch(keystore, run, register, out)
    old = _certificates(out)["P001"]
    changed = [replace(person, full_name="Nguyễn Thị Thủy Tiên") if person.person_id == "P001" else person
               for person in people]
    run2, register2 = write_run(tmp_path / "v2", changed)
    summary = _run_batch(keystore, run2, register2, out)
    assert (summary.issued, summary.reissued, summary.already_issued) == (0, 1, 3)
    new = _certificates(out)["P001"]
    assert new["uvci"] != old["uvci"]
    with IssuanceJournal(out / JOURNAL) as journal:
        revocations = list(journal.revocations())
    assert [(revocation.uci, revocation.reason) for revocation in revocations] == [
        (old["uvci"], "record_changed")
    ]
    revoked = RevocationList.from_document(
        revocation_document(revocations, country="VN", now=SIGN_AT), now=SIGN_AT
    )
    trust = trust_list_of(keystore, now=SIGN_AT)
    with pytest.raises(CertificateRevoked):
        verify_certificate(str(old["qr_text"]), trust, now=SIGN_AT, revocation=revoked)
    verified = verify_certificate(str(new["qr_text"]), trust, now=SIGN_AT, revocation=revoked)
    assert verified.payload["nam"]["gnt"] == "THI<THUY<TIEN"


def test_an_expired_certificate_is_renewed_without_a_revocation(
    keystore: KeyStore, run_and_register: tuple[Path, Path], tmp_path: Path
) -> None:
    run, register = run_and_register
    out = tmp_path / "out"
    _run_batch(keystore, run, register, out, validity=timedelta(days=30))
    first = _certificates(out)
    signer_for = _signers(keystore)
    later = SIGN_AT + timedelta(days=31)
    with IssuanceJournal(out / JOURNAL) as journal:
        summary = sign_batch(people_of_run(run, register), journal, signer_for, now=lambda: later,
                             validity=timedelta(days=30))
        assert list(journal.revocations()) == []
        export_outputs(journal, out)
    assert (summary.renewed, summary.issued, summary.reissued) == (4, 0, 0)
    renewed = _certificates(out)
    assert all(renewed[person]["uvci"] != first[person]["uvci"] for person in SIGNABLE)


def test_a_certificate_whose_person_became_unsignable_is_revoked(keystore: KeyStore, tmp_path: Path) -> None:
    people = synthetic_people()
    run, register = write_run(tmp_path / "v1", people)
    out = tmp_path / "out"
    _run_batch(keystore, run, register, out)
    old = _certificates(out)["P003"]["uvci"]
    # a new dose arrives that breaks the plausibility rules: the old certificate no longer holds
    changed = [replace(person, doses=[*(person.doses or []), ("2021-11-20", "EU/1/20/1528")],
                       flags=["interval_too_short"]) if person.person_id == "P003" else person
               for person in people]
    run2, register2 = write_run(tmp_path / "v2", changed)
    summary = _run_batch(keystore, run2, register2, out)
    assert summary.skipped["dose_flagged"] == 2
    assert "P003" not in _certificates(out)
    with IssuanceJournal(out / JOURNAL) as journal:
        revoked = {revocation.uci: revocation.reason for revocation in journal.revocations()}
    assert revoked == {old: "record_changed: dose_flagged: interval_too_short"}


def test_revoke_by_hand_and_block(keystore: KeyStore, run_and_register: tuple[Path, Path], tmp_path: Path) -> None:
    run, register = run_and_register
    out = tmp_path / "out"
    _run_batch(keystore, run, register, out)
    with IssuanceJournal(out / JOURNAL) as journal:
        uvci = journal.revoke(now=SIGN_AT, reason="reported as fraudulent", person_id="P003", block=True)
        with pytest.raises(ConfigError, match="no current certificate"):
            journal.revoke(now=SIGN_AT, reason="again", person_id="P003")
        with pytest.raises(ConfigError, match="exactly one"):
            journal.revoke(now=SIGN_AT, reason="x")
        assert [revocation.uci for revocation in journal.revocations()] == [uvci]
    summary = _run_batch(keystore, run, register, out)
    assert summary.skipped["blocked"] == 1
    assert "P003" not in _certificates(out)


def test_certificate_data_problems_skip_the_person_with_the_reason(
    keystore: KeyStore, tmp_path: Path
) -> None:
    people = [
        SyntheticPerson("P100", "Hồ Văn Tâm", "1981-01-01", doses=[("2021-09-09", "NOT-A-VACCINE")]),
        SyntheticPerson("P101", "Mai Thị Hạnh", "1983-03-03", doses=[("2021-09-09", "EU/1/20/1528")]),
    ]
    run, register = write_run(tmp_path, people)
    summary = _run_batch(keystore, run, register, tmp_path / "out")
    assert summary.issued == 1 and summary.skipped == {"certificate_data": 1}
    reasons = dict(line.split(",", 1) for line in (tmp_path / "out" / "skipped.csv").read_text().splitlines()[1:])
    assert "NOT-A-VACCINE" in reasons["P100"]


def test_a_signer_that_outlives_no_certificate_stops_the_batch(
    keystore: KeyStore, run_and_register: tuple[Path, Path], tmp_path: Path
) -> None:
    run, register = run_and_register
    signer_for = _signers(keystore)
    late = KEYS_NOW + timedelta(days=365 * 2 - 30)  # the signer expires before a 1-year certificate would
    with IssuanceJournal(tmp_path / JOURNAL) as journal, pytest.raises(SigningKeyError, match="rotate"):
        sign_batch(people_of_run(run, register), journal, signer_for, now=lambda: late)


def test_missing_run_files_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="results.parquet"):
        list(people_of_run(tmp_path, tmp_path / "register.parquet"))


def test_people_are_streamed_in_person_order(run_and_register: tuple[Path, Path]) -> None:
    run, register = run_and_register
    people = list(people_of_run(run, register, chunk=2))
    assert [person.person_id for person in people] == ["P001", "P002", "P003", "P005", "P006", "P007"]
    assert [dose["vaccinated_on"] for dose in people[1].doses] == ["2021-09-01", "2021-09-29", "2022-03-01"]


def test_two_batches_on_one_journal_are_refused(keystore: KeyStore, tmp_path: Path) -> None:
    with IssuanceJournal(tmp_path / JOURNAL) as first, \
            IssuanceJournal(tmp_path / JOURNAL, busy_timeout=0.1) as second:
        first.begin()
        with pytest.raises(ConfigError, match="in use by another sign-batch"):
            second.begin()
        first.rollback()


def test_an_unwritable_journal_place_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError, match="cannot open the issuance journal"):
        IssuanceJournal(blocker / JOURNAL)
