"""Issue EU DCC vaccination certificates: payload → CWT → COSE_Sign1 → zlib → Base45 → ``HC1:``."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import cbor2
from cryptography import x509

from vaxtrust.errors import CertificateError, SigningKeyError, UntrustedSigner
from vaxtrust.passport import keyusage, qr
from vaxtrust.passport._hazmat import base45, cose
from vaxtrust.passport.payload import COUNTRY, DEFAULT_ISSUER, Dose, Holder, build_payload
from vaxtrust.passport.signer import Signer, kid_of

PREFIX = "HC1:"
DEFAULT_VALIDITY = timedelta(days=365)   # 12 months, Decision 5772/QĐ-BYT
CLAIM_ISS, CLAIM_EXP, CLAIM_IAT, CLAIM_HCERT = 1, 4, 6, -260


@dataclass(frozen=True)
class SignedCertificate:
    """An issued certificate: the QR text and what it was made of."""

    qr_text: str
    payload: dict[str, Any]
    issued_at: datetime
    expires_at: datetime
    kid: bytes
    algorithm: int
    cose: bytes
    signature: bytes

    @property
    def uvci(self) -> str:
        return str(self.payload["v"][0]["ci"])

    def png(self, *, scale: int = 4) -> bytes:
        return qr.png(self.qr_text, scale=scale)

    def svg(self, *, scale: int = 4) -> str:
        return qr.svg(self.qr_text, scale=scale)

    def pdf(self) -> bytes:
        """A printable A4 page with the 11 fields of Decision 5772/QĐ-BYT (vi + en) and the QR."""
        from vaxtrust.passport.pdf import certificate_pdf

        return certificate_pdf(self.payload, self.qr_text, issued_at=self.issued_at,
                               expires_at=self.expires_at)


def issue_certificate(holder: Holder, doses: Sequence[Dose], signer: Signer, *, now: datetime,
                      validity: timedelta = DEFAULT_VALIDITY,
                      issuer: str = DEFAULT_ISSUER) -> SignedCertificate:
    """Build, schema-check and sign a vaccination certificate for ``holder``'s latest dose.

    Raises :class:`CertificateError` for unusable holder or dose data, :class:`SigningKeyError`
    when the signer's certificate does not cover the certificate's validity, and
    :class:`UntrustedSigner` when its key usage excludes vaccination certificates.
    """
    if now.tzinfo is None:
        raise CertificateError("now must be timezone-aware (UTC)")
    if validity <= timedelta(0):
        raise CertificateError(f"validity must be positive, got {validity}")
    issued_at = now.astimezone(UTC).replace(microsecond=0)
    expires_at = issued_at + validity
    kid = signer.kid
    _check_signer(signer.certificate, kid, issued_at, expires_at)
    payload = build_payload(holder, doses, issuer=issuer)
    claims = {
        CLAIM_ISS: COUNTRY,
        CLAIM_IAT: int(issued_at.timestamp()),
        CLAIM_EXP: int(expires_at.timestamp()),
        CLAIM_HCERT: {1: payload},
    }
    algorithm = signer.algorithm
    message, signature = cose.sign1_with_signature(cbor2.dumps(claims), algorithm=algorithm,
                                                   kid=kid, sign=signer.sign)
    qr_text = PREFIX + base45.encode(_deflate(message))
    return SignedCertificate(qr_text, payload, issued_at, expires_at, kid, algorithm, message,
                             signature)


def _deflate(message: bytes) -> bytes:
    """zlib (RFC 1950) at level 9, built from a raw deflate with a 2 KiB window.

    A signed DCC is well under 2 KiB, so the small window compresses as well as the default 32 KiB
    one while setting up the compressor costs a sixth. The header still says 0x78 (32 KiB window,
    which only bounds the distances used): verifiers look for that byte to detect zlib.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -11, 3)
    deflated = compressor.compress(message) + compressor.flush()
    return b"\x78\xda" + deflated + zlib.adler32(message).to_bytes(4, "big")


def _check_signer(certificate: x509.Certificate, kid: bytes, issued_at: datetime,
                  expires_at: datetime) -> None:
    """hcert spec 3.3.5/6: iat within, and exp not beyond, the document signer's validity."""
    facts = _signer_facts(certificate)
    if kid != facts.kid:
        raise SigningKeyError("the signer's kid does not match its certificate")
    if issued_at < facts.not_before:
        raise SigningKeyError(f"signer certificate is valid only from {facts.not_before:%Y-%m-%d %H:%M} UTC")
    if expires_at > facts.not_after:
        raise SigningKeyError(
            f"signer certificate expires {facts.not_after:%Y-%m-%d} UTC, before the "
            f"certificate would ({expires_at:%Y-%m-%d}); rotate the signer or shorten the validity")
    if not facts.may_sign_vaccinations:
        raise UntrustedSigner("the signer certificate's key usage does not allow vaccination certificates")


@dataclass(frozen=True)
class _SignerFacts:
    certificate: x509.Certificate
    kid: bytes
    not_before: datetime
    not_after: datetime
    may_sign_vaccinations: bool


# A batch signs hundreds of thousands of certificates with one signer: read its certificate once.
# Keyed by identity, as hashing an x509.Certificate hashes its DER (~2 µs, ~5 µs with the equality
# check of a dict hit); each entry holds its certificate, so the id cannot be reused while cached.
_SIGNER_FACTS: dict[int, _SignerFacts] = {}
_MAX_SIGNERS = 64


def _signer_facts(certificate: x509.Certificate) -> _SignerFacts:
    facts = _SIGNER_FACTS.get(id(certificate))
    if facts is None or facts.certificate is not certificate:
        if len(_SIGNER_FACTS) >= _MAX_SIGNERS:
            _SIGNER_FACTS.clear()
        facts = _SignerFacts(certificate, kid_of(certificate), certificate.not_valid_before_utc,
                             certificate.not_valid_after_utc, keyusage.allows(certificate, "v"))
        _SIGNER_FACTS[id(certificate)] = facts
    return facts
