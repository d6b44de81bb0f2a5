"""What ``vaxtrust demo`` does after cleaning: publish to a store and sign passports.

Both use the real parts on embedded defaults: a SQLite store file and a key store of encrypted
PKCS#8 files. The demo key passphrase is public on purpose; such keys never sign real passports.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from vaxtrust.console import Console, NoopConsole
from vaxtrust.files import private_dir

if TYPE_CHECKING:
    from cryptography import x509

    from vaxtrust.passport.keystore import KeyStore
    from vaxtrust.passport.pki import Passphrase

DEMO_PASSPHRASE = "demo-only: never sign real passports with this key"
DEMO_SIGNER = "demo-signer"
DEMO_OFFICER = "bo-y-te-demo"


@dataclass(frozen=True)
class PublishedDemo:
    database_url: str
    officer: str
    officer_password: str | None
    """Made up when the demo created the officer; shown once, kept nowhere (None: existed)."""
    records: int
    review_items: int
    signing_queued: int
    already_published: bool


def publish_demo_run(run_dir: Path, database: Path,
                     console: Console | None = None) -> PublishedDemo:
    """Load the run into a SQLite store, creating its first (ministry) user when empty."""
    from sqlalchemy import func, select

    from vaxtrust.store.db import Store
    from vaxtrust.store.publish import RunFolder, publish_run
    from vaxtrust.store.scope import load_actor
    from vaxtrust.store.tables import User
    from vaxtrust.store.users import add_user

    url = f"sqlite:///{database}"
    store = Store.open(url)
    password: str | None = None
    try:
        with store.transaction() as session:
            if not session.scalar(select(func.count()).select_from(User)):
                password = secrets.token_urlsafe(15)
                add_user(session, by=None, username=DEMO_OFFICER, role="ministry",
                         display_name="Bộ Y tế (demo)", password=password)
        with store.transaction() as session:
            report = publish_run(session, load_actor(session, DEMO_OFFICER),
                                 RunFolder.open(run_dir), console=console or NoopConsole())
    finally:
        store.close()
    return PublishedDemo(url, DEMO_OFFICER, password, report.records, report.review_items,
                         report.signing_queued, report.already_published)


@dataclass(frozen=True)
class SignedDemo:
    issued: int
    skipped: int
    certificates: Path
    trust_list: Path
    csca: Path  # the demo's CSCA certificate: what a verifier of its certificates pins
    example_pdf: Path | None
    example_png: Path | None
    example_name: str | None


def sign_demo_passports(database: Path, out: Path, *, console: Console | None = None) -> SignedDemo:
    """Sign the demo store's signing queue with a demo key, then verify one certificate back."""
    import pyarrow.parquet as pq

    from vaxtrust.app.signing import SignRequest, StoreChoice, sign
    from vaxtrust.app.users import actor_named
    from vaxtrust.passport.pki import Passphrase
    from vaxtrust.passport.trustlist import export_trust_list

    now = datetime.now(UTC)
    passphrase = Passphrase.of(DEMO_PASSPHRASE)
    keys = _demo_key_store(out / "keys", passphrase, now)
    private_dir(out)
    signed = sign(SignRequest(
        store=StoreChoice(keystore=out / "keys", database_url=f"sqlite:///{database}",
                          sign_in=lambda store: actor_named(store, DEMO_OFFICER)),
        out=out, signer=DEMO_SIGNER, passphrase=DEMO_PASSPHRASE,
    ), console=console)
    trust_path = out / "trust-list.json"
    export_trust_list(keys, trust_path, now=now, csca_passphrase=passphrase)
    example = _render_first(signed.certificates, trust_path, keys.csca_certificate, out)
    return SignedDemo(pq.read_metadata(signed.certificates).num_rows, signed.summary.total_skipped,
                      signed.certificates, trust_path, keys.directory / "csca" / "csca.pem", *example)


def _demo_key_store(directory: Path, passphrase: Passphrase, now: datetime) -> KeyStore:
    """The demo's key store: made once with a CSCA and one signer, reused by later demos."""
    from vaxtrust.passport.keystore import MANIFEST, KeyStore

    if (directory / MANIFEST).exists():
        return KeyStore.open(directory)
    keys = KeyStore.create(directory, country="VN", common_name="VN CSCA (demo)",
                           organization="Bộ Y tế (demo)", passphrase=passphrase, now=now)
    keys.new_signer(DEMO_SIGNER, csca_passphrase=passphrase, now=now, key_passphrase=passphrase,
                    validity=timedelta(days=730))
    return keys


def _render_first(certificates: Path, trust_path: Path, csca: x509.Certificate,
                  out: Path) -> tuple[Path | None, Path | None, str | None]:
    """Verify the first certificate against the exported trust list, pinned to the demo's own
    CSCA (as any verifier must pin); write its QR and PDF."""
    import pyarrow.parquet as pq

    from vaxtrust.passport import qr
    from vaxtrust.passport.pdf import certificate_pdf
    from vaxtrust.passport.trustlist import TrustList
    from vaxtrust.passport.verify import verify_certificate

    first = pq.read_table(certificates, columns=["qr_text"]).slice(0, 1).column("qr_text")
    if len(first) == 0:
        return None, None, None
    qr_text = str(first[0].as_py())
    trust = TrustList.load(trust_path, pinned_cscas=[csca])
    # The batch stamps each certificate with its own clock: verify at a time after all of them.
    verified = verify_certificate(qr_text, trust, now=datetime.now(UTC))
    png_path, pdf_path = out / "example.png", out / "example.pdf"
    png_path.write_bytes(qr.png(qr_text))
    pdf_path.write_bytes(certificate_pdf(verified.payload, qr_text, issued_at=verified.issued_at,
                                         expires_at=verified.expires_at))
    name = verified.payload["nam"]
    return pdf_path, png_path, f"{name.get('fn', '')} {name.get('gn', '')}".strip()
