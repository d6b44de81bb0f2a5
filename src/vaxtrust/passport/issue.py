"""Issue EU DCC vaccination certificates: payload → CWT → COSE_Sign1 → zlib → Base45 → ``HC1:``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import cbor2
import deflate
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


IssueRequest = tuple[Holder, Sequence[Dose]]
"""Who a certificate is for and their verified doses."""


def issue_certificate(holder: Holder, doses: Sequence[Dose], signer: Signer, *, now: datetime,
                      validity: timedelta = DEFAULT_VALIDITY,
                      issuer: str = DEFAULT_ISSUER) -> SignedCertificate:
    """Build, schema-check and sign a vaccination certificate for ``holder``'s latest dose.

    Raises :class:`CertificateError` for unusable holder or dose data, :class:`SigningKeyError`
    when the signer's certificate does not cover the certificate's validity, and
    :class:`UntrustedSigner` when its key usage excludes vaccination certificates.
    """
    [issued] = issue_certificates([(holder, doses)], signer, now=now, validity=validity, issuer=issuer)
    if isinstance(issued, CertificateError):
        raise issued
    return issued


def issue_certificates(requests: Sequence[IssueRequest], signer: Signer, *, now: datetime,
                       validity: timedelta = DEFAULT_VALIDITY, issuer: str = DEFAULT_ISSUER,
                       uvcis: Sequence[str] | None = None) -> list[SignedCertificate | CertificateError]:
    """Issue a certificate per request with one signer; what a signing batch runs.

    ``uvcis`` (one per request) are UVCIs reserved beforehand, e.g. by the store; by default each
    certificate gets a fresh random one.

    Each stage (payloads, CBOR, signatures, framing) runs over the whole batch before the next one:
    the interpreter, OpenSSL and the Base45 table then stay in the CPU caches, which halves the time
    of a certificate against issuing them one by one (see benchmarks/README.md). A request whose
    data cannot be certified gets its :class:`CertificateError` in its place; a signer that cannot
    sign these certificates raises, as every request would fail the same way.
    """
    if now.tzinfo is None:
        raise CertificateError("now must be timezone-aware (UTC)")
    if validity <= timedelta(0):
        raise CertificateError(f"validity must be positive, got {validity}")
    issued_at = now.astimezone(UTC).replace(microsecond=0)
    expires_at = issued_at + validity
    kid, algorithm = signer.kid, signer.algorithm
    _check_signer(signer.certificate, kid, issued_at, expires_at)
    times = {CLAIM_ISS: COUNTRY, CLAIM_IAT: int(issued_at.timestamp()),
             CLAIM_EXP: int(expires_at.timestamp())}
    if uvcis is not None and len(uvcis) != len(requests):
        raise CertificateError(f"{len(uvcis)} UVCIs for {len(requests)} certificates")
    payloads = [_payload_or_error(holder, doses, issuer, uvci) for (holder, doses), uvci
                in zip(requests, uvcis if uvcis is not None else [None] * len(requests), strict=True)]
    good = [payload for payload in payloads if not isinstance(payload, CertificateError)]
    claims = [cbor2.dumps(times | {CLAIM_HCERT: {1: payload}}) for payload in good]
    signed = [cose.sign1_with_signature(claim, algorithm=algorithm, kid=kid, sign=signer.sign)
              for claim in claims]
    texts = [PREFIX + text for text in base45.encode_many([_zlib(message) for message, _ in signed])]
    certificates = iter([
        SignedCertificate(text, payload, issued_at, expires_at, kid, algorithm, message, signature)
        for payload, text, (message, signature) in zip(good, texts, signed, strict=True)
    ])
    return [payload if isinstance(payload, CertificateError) else next(certificates)
            for payload in payloads]


def _payload_or_error(holder: Holder, doses: Sequence[Dose], issuer: str,
                      uvci: str | None) -> dict[str, Any] | CertificateError:
    try:
        return build_payload(holder, doses, issuer=issuer, uvci=uvci)
    except CertificateError as error:
        return error


def _zlib(message: bytes) -> bytes:
    """zlib (RFC 1950) at level 9 by libdeflate, the hcert compression.

    A DCC is too small for compression to pay much (4 bytes of ~380 on average, which still moves
    one QR code in six to the next version), yet building the Huffman codes for it cost Python's
    zlib ~20 µs, most of issuance besides the signature; libdeflate does it in ~12 µs and its
    output is a little smaller (benchmarks/README.md).
    """
    return bytes(deflate.zlib_compress(message, 9))


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
