"""Fixtures and helpers for the key, trust-list, revocation and batch tests (imported by conftest.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.conftest import require_service
from vaxtrust.passport import pki
from vaxtrust.passport.keystore import KeyStore

KEYS_NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
CSCA_PASSPHRASE = "csca passphrase for tests"
KEY_PASSPHRASE = "signer passphrase for tests"
SOFTHSM_MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
TOKEN_LABEL = "vaxtrust-test"
TOKEN_PIN = "4711-0815"


def passphrase(text: str) -> pki.Passphrase:
    return pki.Passphrase.of(text)


def verify_cose_signature(certificate: x509.Certificate, message: bytes, signature: bytes) -> None:
    """Check a COSE signature (ES256 r||s or PS256) with the certificate's key; raises if wrong."""
    public_key = certificate.public_key()
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        assert len(signature) == 64
        der = encode_dss_signature(int.from_bytes(signature[:32]), int.from_bytes(signature[32:]))
        public_key.verify(der, message, ec.ECDSA(hashes.SHA256()))
    else:
        assert isinstance(public_key, rsa.RSAPublicKey)
        public_key.verify(
            signature, message, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
            hashes.SHA256(),
        )


@pytest.fixture
def keystore(tmp_path: Path) -> KeyStore:
    """A key store with a P-256 CSCA and one national file-key signer named ``vn-national``."""
    store = KeyStore.create(
        tmp_path / "keys", country="VN", common_name="VN CSCA test", now=KEYS_NOW,
        passphrase=passphrase(CSCA_PASSPHRASE),
    )
    store.new_signer(
        "vn-national", csca_passphrase=passphrase(CSCA_PASSPHRASE),
        key_passphrase=passphrase(KEY_PASSPHRASE), now=KEYS_NOW,
    )
    return store


@dataclass(frozen=True)
class SoftToken:
    module: Path
    label: str
    pin: str


@pytest.fixture(scope="session")
def soft_token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoftToken]:
    """A fresh SoftHSM2 token in a temporary directory (SOFTHSM2_CONF points there for the session).

    PKCS#11 libraries read their configuration once per process, so the token is made before the
    first test loads the module, and lives for the whole session.
    """
    tool = shutil.which("softhsm2-util")
    if not SOFTHSM_MODULE.is_file() or tool is None:
        require_service(f"SoftHSM2 missing ({SOFTHSM_MODULE}); apt-get install softhsm2")
        raise AssertionError("unreachable")
    root = tmp_path_factory.mktemp("softhsm")
    (root / "tokens").mkdir()
    config = root / "softhsm2.conf"
    config.write_text(
        f"directories.tokendir = {root / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(config)
    subprocess.run(
        [tool, "--init-token", "--free", "--label", TOKEN_LABEL, "--pin", TOKEN_PIN,
         "--so-pin", "so-" + TOKEN_PIN],
        check=True, capture_output=True, env=os.environ.copy(),
    )
    yield SoftToken(SOFTHSM_MODULE, TOKEN_LABEL, TOKEN_PIN)
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


def odd_signer_certificate(
    store: KeyStore, *, eku: list[str] | None, valid_from: datetime = KEYS_NOW,
    valid_for: timedelta = timedelta(days=365), key: pki.PrivateKey | None = None,
) -> tuple[pki.PrivateKey, x509.Certificate]:
    """A signer certificate from the store's CSCA with any EKU and validity (for bad-signer tests)."""
    csca_key = pki.load_private_key(store.directory / "csca" / "csca.key.p8", passphrase(CSCA_PASSPHRASE))
    key = key or ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "odd signer")]))
        .issuer_name(store.csca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from)
        .not_valid_after(valid_from + valid_for)
    )
    if eku is not None:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([x509.ObjectIdentifier(oid) for oid in eku]), critical=False
        )
    return key, builder.sign(csca_key, hashes.SHA256())
