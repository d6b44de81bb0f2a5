"""Web fixtures (imported by conftest.py): the published two-province store of the store tests, real keys and
certificates (a trust list pinned to its CSCA, a revocation list, an issuance journal), and an
in-process client of the app."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from vaxtrust.config import Settings, load_settings
from vaxtrust.store.db import Store
from vaxtrust.web import create_app
from vaxtrust.web.app import LANG_COOKIE
from vaxtrust.web.deps import SESSION_COOKIE
from vaxtrust.web.sessions import create_session

PASSPHRASE = "web test passphrase, never for real keys"
AN = "001090000001"           # Nguyễn Văn An, HN-01, record R1 (phone 0912345678)
BINH = "001085000002"


@dataclass(frozen=True)
class Keys:
    trust_list: Path
    revocation_list: Path
    csca: Path
    journal: Path
    valid_qr: str              # An's current certificate (in the journal and the store)
    revoked_qr: str            # Bình's, revoked
    expired_qr: str
    foreign_qr: str            # signed by a key no trust list holds
    valid_png: bytes
    uvci: str


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    from vaxtrust.passport import pki

    folder = tmp_path_factory.mktemp("web-keys")
    with pytest.MonkeyPatch.context() as patch:
        # session-scoped, so it runs before the autouse per-test cheaper rounds (tests/conftest)
        patch.setattr(pki, "PBKDF2_ROUNDS", 10_000)
        return _make_keys(folder)


def _make_keys(folder: Path) -> Keys:
    from tests.passport.conftest_core import make_signer
    from vaxtrust.passport import qr
    from vaxtrust.passport.issue import issue_certificate
    from vaxtrust.passport.keystore import KeyStore
    from vaxtrust.passport.payload import Dose, Holder
    from vaxtrust.passport.pki import Passphrase
    from vaxtrust.passport.revocation import Revocation, export_revocation_list
    from vaxtrust.passport.trustlist import export_trust_list
    from vaxtrust.signing.journal import IssuanceJournal

    now = datetime.now(UTC)
    made = now - timedelta(days=2)
    secret = Passphrase.of(PASSPHRASE)
    store = KeyStore.create(folder / "keys", country="VN", common_name="VN CSCA web test",
                            passphrase=secret, now=made)
    store.new_signer("national", csca_passphrase=secret, key_passphrase=secret, now=made)
    signer = store.load_signer("national", now=now, passphrase=secret)
    doses = [Dose(date(2021, 9, 1), "EU/1/20/1528"), Dose(date(2021, 10, 6), "EU/1/20/1528")]
    valid = issue_certificate(Holder("Nguyễn Văn An", "1990-02-03"), doses, signer, now=now)
    revoked = issue_certificate(Holder("Trần Thị Bình", "1985-07-21"), doses, signer, now=now)
    expired = issue_certificate(Holder("Lê Thị Cúc", "1970-11-30"), doses, signer,
                                now=now - timedelta(days=1), validity=timedelta(hours=1))
    foreign = issue_certificate(Holder("Vũ Văn Phúc", "1992-09-09"), doses, make_signer(valid_from=made), now=now,
                                validity=timedelta(days=30))
    journal = folder / "issued" / "issuance.sqlite"
    with IssuanceJournal(journal) as book:
        book.begin()
        for person, issued in ((AN, valid), (BINH, revoked)):
            book.record_issued(person_id=person, fingerprint="test", signer="national",
                               issued=issued, now=now)
        book.retire(revoked.uvci, reason="record_changed", now=now)
        book.commit()
    revocations = [Revocation(uci=revoked.uvci, country="VN", kid=revoked.kid,
                              signature=revoked.signature, revoked_at=now,
                              expires=revoked.expires_at, reason="record_changed")]
    trust_list = folder / "trust-list.json"
    export_trust_list(store, trust_list, now=now, csca_passphrase=secret)
    revocation_list = folder / "revocation-list.json"
    export_revocation_list(revocations, revocation_list, country="VN", now=now,
                           signing_key=store.csca_key(secret))
    return Keys(trust_list, revocation_list, store.directory / "csca" / "csca.pem", journal,
                valid.qr_text, revoked.qr_text, expired.qr_text, foreign.qr_text,
                qr.png(valid.qr_text), valid.uvci)


@pytest.fixture
def codes_file(tmp_path: Path) -> Path:
    return tmp_path / "codes.txt"


@pytest.fixture
def settings(keys: Keys, codes_file: Path, tmp_path: Path) -> Settings:
    return load_settings(None, web={
        "trust_list": keys.trust_list, "revocation_list": keys.revocation_list,
        "csca": [keys.csca], "journals": [keys.journal], "code_sender": f"file:{codes_file}",
        "secure_cookies": False}, complaints={"attachments_dir": tmp_path / "attachments"})


@pytest.fixture
def web_store(published: Store, keys: Keys) -> Store:
    """The published baseline, with An's certificate recorded as his current one."""
    from vaxtrust.signing import queue as signing
    from vaxtrust.store.scope import load_actor

    now = datetime.now(UTC)
    with published.transaction() as session:
        minh = load_actor(session, "minh")
        signing.reserve(session, minh, "web-test", signing.Reservation(
            keys.uvci, AN, "test", "national", b"", now, now + timedelta(days=365)))
        signing.confirm_issued(session, minh, keys.uvci, journal_id="web-test", signature=b"",
                               previous_reason="record_changed")
    return published


@pytest.fixture
def client(web_store: Store, settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings, store=web_store)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        test_client.cookies.set(LANG_COOKIE, "en")
        yield test_client


def sign_in_as(client: TestClient, opened: Store, username: str) -> str:
    """Open a session for ``username`` (as the login form does) and use it; returns its CSRF."""
    info = create_session(opened, minutes=30, username=username)
    client.cookies.set(SESSION_COOKIE, info.token)
    return info.csrf_token


def csrf_of(client: TestClient) -> str:
    """The anonymous forms' CSRF token (a page sets it as a cookie)."""
    client.get("/")
    token = client.cookies.get("vt_csrf")
    assert token
    return token


def photo(size: tuple[int, int] = (64, 48), kind: str = "PNG", noise: bool = False) -> bytes:
    """A small synthetic "photo of the certificate" (noise: incompressible, for size limits)."""
    import io
    import os

    from PIL import Image

    image = (Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)) if noise
             else Image.new("RGB", size, (200, 210, 190)))
    out = io.BytesIO()
    image.save(out, format=kind)
    return out.getvalue()


@dataclass(frozen=True)
class Filed:
    hanoi: int      # Lê Thị Cúc's missing dose at HN-01: proposal "link R3" (under review)
    hcm: int        # Phạm Văn Dũng's dose at HCM-01 (province 79)
    sha256: str     # the photo attached to both


def file_complaints(store: Store, settings: Settings) -> Filed:
    """Two complaints filed as the ministry (as an import would), each with the same photo."""
    from tests.store.factory import PEOPLE
    from vaxtrust.app.complaints import attachment_store
    from vaxtrust.complaints import workflow
    from vaxtrust.complaints.attachments import prepare
    from vaxtrust.complaints.standardise import ComplaintInput
    from vaxtrust.store.scope import load_actor
    from vaxtrust.store.tables import ComplaintAttachment, utc_now_text

    def claim(person: int, facility: str) -> ComplaintInput:
        pid, name, dob, *_ = PEOPLE[person]
        return ComplaintInput("missing_dose", name, dob, "0912345678", pid, dose_number=1,
                              vaccinated_on="2021-09-01", claimed_facility_id=facility)

    prepared = prepare(photo(), max_bytes=settings.complaints.max_attachment_bytes)
    attachment_store(settings).put(prepared)
    with store.transaction() as session:
        ids = workflow.file_complaints(session, load_actor(session, "minh"),
                                       [claim(2, "HN-01"), claim(3, "HCM-01")],
                                       channel="import",
                                       rule=settings.complaints.deadline_rule()).ids
        session.add_all([ComplaintAttachment(
            complaint_id=number, sha256=prepared.sha256, content_type=prepared.content_type,
            size=len(prepared.data), added_at=utc_now_text()) for number in ids])
    return Filed(ids[0], ids[1], prepared.sha256)
