"""Verify ``HC1:`` certificates: every step raises a specific error, success returns the certificate.

Steps, each usable alone (the conformance runner scores them one by one): prefix, Base45, zlib,
COSE_Sign1 and CWT decoding, signature against every trusted signer with the kid, validity at an
explicit clock, the signer's key usage, the schema of the payload's version, revocation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509

from vaxtrust.errors import (
    CertificateExpired,
    CertificateRevoked,
    InvalidCertificate,
    UntrustedSigner,
)
from vaxtrust.passport import keyusage, qr, schemas
from vaxtrust.passport._hazmat import DecodeError, base45, cose, limits
from vaxtrust.passport.fields import Field, certificate_fields, full_name
from vaxtrust.passport.issue import CLAIM_EXP, CLAIM_HCERT, CLAIM_IAT, CLAIM_ISS, PREFIX
from vaxtrust.passport.signer import RevocationCheck, TrustAnchors


@dataclass(frozen=True)
class DecodedCertificate:
    """A structurally sound COSE/CWT/DCC whose signature has not been checked yet."""

    message: cose.Sign1
    claims: Mapping[Any, Any]
    payload: dict[str, Any]

    @property
    def kind(self) -> str:
        """``v``, ``t`` or ``r``: the group the payload holds (the first, if several)."""
        return next((key for key in ("v", "t", "r") if key in self.payload), "")

    @property
    def issuer_country(self) -> str | None:
        iss = self.claims.get(CLAIM_ISS)
        return iss if isinstance(iss, str) else None

    @property
    def uci(self) -> str:
        entries = self.payload.get(self.kind) if self.kind else None
        if isinstance(entries, list) and entries and isinstance(entries[0], dict):
            return str(entries[0].get("ci", ""))
        return ""


@dataclass(frozen=True)
class VerifiedCertificate:
    """A certificate that passed every check at the given clock."""

    payload: dict[str, Any]
    issuer_country: str | None
    issued_at: datetime
    expires_at: datetime
    kid: bytes
    algorithm: str
    signer: x509.Certificate

    @property
    def kind(self) -> str:
        return next(key for key in ("v", "t", "r") if key in self.payload)

    @property
    def uvci(self) -> str:
        return str(self.payload[self.kind][0].get("ci", ""))

    @property
    def holder_name(self) -> str:
        return full_name(self.payload)

    def fields(self) -> list[Field]:
        """The 11 fields of Decision 5772/QĐ-BYT (vi/en) for display."""
        return certificate_fields(self.payload, issuing_country=self.issuer_country)


def _invalid(error: DecodeError) -> InvalidCertificate:
    return InvalidCertificate(str(error))


def strip_prefix(qr_text: str) -> str:
    """The Base45 part of ``HC1:…``; any other context identifier is refused."""
    if not isinstance(qr_text, str):
        raise InvalidCertificate("prefix: QR content is not text")
    text = qr_text.strip()
    if len(text) > limits.MAX_TEXT_CHARS:
        raise InvalidCertificate(f"prefix: {len(text)} characters exceed {limits.MAX_TEXT_CHARS}")
    if not text.startswith(PREFIX):
        shown = text[:4] if text[3:4] == ":" else "none"
        raise InvalidCertificate(f"prefix: expected {PREFIX!r}, found {shown!r}")
    return text[len(PREFIX):]


def decode_base45(text: str) -> bytes:
    try:
        return base45.decode(text)
    except DecodeError as error:
        raise _invalid(error) from None


def inflate(compressed: bytes) -> bytes:
    try:
        return limits.inflate(compressed)
    except DecodeError as error:
        raise _invalid(error) from None


def decode_cose(message_bytes: bytes) -> DecodedCertificate:
    """COSE_Sign1 → CWT claims → ``-260``/``1`` DCC payload (as plain JSON values)."""
    try:
        message = cose.decode_sign1(message_bytes)
        claims = limits.loads(message.payload, what="cwt")
    except DecodeError as error:
        raise _invalid(error) from None
    if not isinstance(claims, Mapping):
        raise InvalidCertificate("cwt: payload is not a claims map")
    hcert = claims.get(CLAIM_HCERT)
    if not isinstance(hcert, Mapping) or not isinstance(hcert.get(1), Mapping):
        raise InvalidCertificate("cwt: no hcert claim -260 holding an eu_dcc_v1 map under key 1")
    return DecodedCertificate(message, claims, limits.to_json(hcert[1]))


def decode(qr_text: str) -> DecodedCertificate:
    """Prefix, Base45, zlib and COSE/CWT decoding, without any trust decision."""
    return decode_cose(inflate(decode_base45(strip_prefix(qr_text))))


def check_signature(message: cose.Sign1, trust: TrustAnchors) -> x509.Certificate:
    """The trusted signer whose key verifies the signature; every signer with the kid is tried."""
    if message.algorithm not in cose.ALGORITHM_NAMES:
        raise InvalidCertificate(f"cose: unsupported algorithm {message.algorithm!r} (ES256 or PS256 only)")
    kid = message.kid
    if kid is None:
        raise UntrustedSigner("cose: no kid in the protected or unprotected header")
    candidates = trust.certificates_for(kid)
    if not candidates:
        raise UntrustedSigner(f"no trusted signer with kid {kid.hex()}")
    failures: list[str] = []
    for certificate in candidates:
        try:
            cose.verify_signature(message, certificate.public_key())
            return certificate
        except cose.SignatureError as error:
            failures.append(str(error))
        except (ValueError, TypeError) as error:  # a key cryptography cannot load
            failures.append(f"signer key unusable: {error}")
    raise UntrustedSigner(f"signature does not verify with any of the {len(candidates)} signer(s) "
                          f"with kid {kid.hex()}: {'; '.join(sorted(set(failures)))}")


def validity(decoded: DecodedCertificate) -> tuple[datetime, datetime]:
    """``iat`` and ``exp`` as UTC datetimes; both are required NumericDates."""
    times = []
    for label, name in ((CLAIM_IAT, "iat"), (CLAIM_EXP, "exp")):
        value = decoded.claims.get(label)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidCertificate(f"cwt: claim {name} missing or not a number")
        try:
            times.append(datetime.fromtimestamp(value, UTC))
        except (OverflowError, OSError, ValueError):
            raise InvalidCertificate(f"cwt: claim {name} = {value} is out of range") from None
    return times[0], times[1]


def check_validity(decoded: DecodedCertificate, now: datetime) -> tuple[datetime, datetime]:
    """Raise :class:`CertificateExpired` unless ``iat <= now <= exp``."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    issued_at, expires_at = validity(decoded)
    if now < issued_at:
        raise CertificateExpired(f"not valid before {issued_at:%Y-%m-%d %H:%M:%S} UTC (issued-at)")
    if now > expires_at:
        raise CertificateExpired(f"expired {expires_at:%Y-%m-%d %H:%M:%S} UTC")
    return issued_at, expires_at


def check_key_usage(decoded: DecodedCertificate, signer: x509.Certificate) -> None:
    """Raise :class:`UntrustedSigner` if the signer's DCC key usage excludes this certificate type."""
    if not keyusage.allows(signer, decoded.kind):
        names = {"v": "vaccination", "t": "test", "r": "recovery"}
        raise UntrustedSigner(f"the signer may not sign {names.get(decoded.kind, 'this kind of')} "
                              "certificates (extended key usage)")


def check_schema(decoded: DecodedCertificate) -> None:
    schemas.validate(decoded.payload)


def check_revocation(decoded: DecodedCertificate, revocation: RevocationCheck) -> None:
    country = decoded.issuer_country or ""
    if revocation.is_revoked(uci=decoded.uci, country=country, signature=decoded.message.signature):
        raise CertificateRevoked(f"certificate {decoded.uci} is revoked")


def verify_certificate(qr_text: str, trust: TrustAnchors, *, now: datetime,
                       revocation: RevocationCheck | None = None) -> VerifiedCertificate:
    """Verify ``HC1:`` text at ``now``; returns the certificate or raises a CertificateError subclass."""
    decoded = decode(qr_text)
    signer = check_signature(decoded.message, trust)
    issued_at, expires_at = check_validity(decoded, now)
    check_key_usage(decoded, signer)
    check_schema(decoded)
    if revocation is not None:
        check_revocation(decoded, revocation)
    return VerifiedCertificate(
        payload=decoded.payload,
        issuer_country=decoded.issuer_country,
        issued_at=issued_at,
        expires_at=expires_at,
        kid=decoded.message.kid or b"",
        algorithm=cose.ALGORITHM_NAMES[decoded.message.algorithm],
        signer=signer,
    )


def verify_image(image: bytes | Path, trust: TrustAnchors, *, now: datetime,
                 revocation: RevocationCheck | None = None) -> VerifiedCertificate:
    """Read the QR in a PNG/JPEG image (zxing-cpp) and verify it."""
    return verify_certificate(qr.read_qr(image), trust, now=now, revocation=revocation)
