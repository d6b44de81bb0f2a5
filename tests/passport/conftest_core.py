"""Fixtures of the passport-core tests: a throw-away CSCA + document signers made with cryptography."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from vaxtrust.passport import Dose, Holder, LocalKeySigner, kid_of

CORE_NOW = datetime(2022, 5, 2, 8, 30, tzinfo=UTC)
VACCINATION_EKU = "1.3.6.1.4.1.1847.2021.1.2"
TEST_EKU = "1.3.6.1.4.1.1847.2021.1.1"
TEST_EKU_TYPO = "1.3.6.1.4.1.0.1847.2021.1.1"


def make_signer(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | None = None, *,
                eku: Iterable[str] = (VACCINATION_EKU,), valid_from: datetime | None = None,
                years: int = 2) -> LocalKeySigner:
    """A self-contained DSC (issued by a fresh CSCA) and its key."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    csca_key = ec.generate_private_key(ec.SECP256R1())
    start = valid_from or CORE_NOW - timedelta(days=30)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                                 x509.NameAttribute(NameOID.COMMON_NAME, "vaxtrust test DSC")]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                                x509.NameAttribute(NameOID.COMMON_NAME, "vaxtrust test CSCA")]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=365 * years))
    )
    usages = [x509.ObjectIdentifier(oid) for oid in eku]
    if usages:
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    certificate = builder.sign(csca_key, hashes.SHA256())
    return LocalKeySigner(key, certificate)


class Anchors:
    """A minimal TrustAnchors: certificates by kid (several may share one)."""

    def __init__(self, *certificates: x509.Certificate) -> None:
        self.certificates = list(certificates)

    def certificates_for(self, kid: bytes) -> list[x509.Certificate]:
        return [c for c in self.certificates if kid_of(c) == kid]


class Revoked:
    """A RevocationCheck that revokes the given UCIs."""

    def __init__(self, *ucis: str) -> None:
        self.ucis = set(ucis)

    def is_revoked(self, *, uci: str, country: str, signature: bytes) -> bool:
        return uci in self.ucis


@pytest.fixture(scope="session")
def es256_signer() -> LocalKeySigner:
    return make_signer()


@pytest.fixture(scope="session")
def ps256_signer() -> LocalKeySigner:
    return make_signer(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture
def holder() -> Holder:
    return Holder("Nguyễn Thị Thuỷ", "1985-07-14")


@pytest.fixture
def doses() -> list[Dose]:
    return [Dose(date(2021, 9, 1), "EU/1/21/1529"), Dose(date(2021, 11, 3), "EU/1/20/1528")]
