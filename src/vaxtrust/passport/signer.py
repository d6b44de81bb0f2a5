"""What issuing needs from a key, and what verifying needs from trust: two small protocols.

Keys may live in files or in a PKCS#11 token; certificates are signed through :class:`Signer` only, so the
private key never has to leave its token. Verifiers see signers through :class:`TrustAnchors`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding

from vaxtrust.errors import SigningKeyError
from vaxtrust.passport._hazmat.cose import ECDSA_SHA256

COSE_ES256 = -7
COSE_PS256 = -37
_PSS_SHA256 = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)


def kid_of(certificate: x509.Certificate) -> bytes:
    """The DCC key identifier: the first 8 bytes of SHA-256 over the DER signer certificate."""
    return hashlib.sha256(certificate.public_bytes(Encoding.DER)).digest()[:8]


class Signer(Protocol):
    """A document signer: signs COSE Sig_structure bytes with its private key."""

    @property
    def kid(self) -> bytes: ...

    @property
    def algorithm(self) -> int:
        """COSE algorithm id: -7 (ES256) or -37 (PS256)."""
        ...

    @property
    def certificate(self) -> x509.Certificate: ...

    def sign(self, message: bytes) -> bytes:
        """The COSE signature over ``message`` (ES256: r||s, 64 bytes; PS256: the RSA-PSS bytes)."""
        ...


@dataclass(frozen=True)
class LocalKeySigner:
    """A signer whose private key is in this process (loaded from a file or freshly made)."""

    private_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    certificate: x509.Certificate

    def __post_init__(self) -> None:
        if isinstance(self.private_key, ec.EllipticCurvePrivateKey):
            if not isinstance(self.private_key.curve, ec.SECP256R1):
                raise SigningKeyError("ES256 needs a P-256 key, got " + self.private_key.curve.name)
        elif not isinstance(self.private_key, rsa.RSAPrivateKey):
            raise SigningKeyError(f"unsupported key type {type(self.private_key).__name__}")

    # Hashing the DER costs a third of an ES256 signature: once per signer, not per certificate.
    @cached_property
    def kid(self) -> bytes:
        return kid_of(self.certificate)

    @cached_property
    def algorithm(self) -> int:
        return COSE_ES256 if isinstance(self.private_key, ec.EllipticCurvePrivateKey) else COSE_PS256

    def sign(self, message: bytes) -> bytes:
        if isinstance(self.private_key, ec.EllipticCurvePrivateKey):
            r, s = decode_dss_signature(self.private_key.sign(message, ECDSA_SHA256))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return self.private_key.sign(message, _PSS_SHA256, hashes.SHA256())


class TrustAnchors(Protocol):
    """What a verifier needs from a trust list: every certificate published under a kid."""

    def certificates_for(self, kid: bytes) -> list[x509.Certificate]: ...


class RevocationCheck(Protocol):
    """What a verifier needs from revocation lists (hashes as the EU DCC revocation lists define)."""

    def is_revoked(self, *, uci: str, country: str, signature: bytes) -> bool: ...
