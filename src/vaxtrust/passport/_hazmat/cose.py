"""COSE_Sign1 (RFC 9052) with ES256 and PS256, on cbor2 and cryptography.

Decoding keeps the protected header's original bytes: the signature covers those bytes, and
re-encoding the decoded map could change them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from vaxtrust.passport._hazmat import DecodeError
from vaxtrust.passport._hazmat.limits import loads

TAG_SIGN1 = 18
TAG_CWT = 61
HEADER_ALG = 1
HEADER_KID = 4
ES256 = -7
PS256 = -37
ALGORITHM_NAMES = {ES256: "ES256", PS256: "PS256"}
MIN_RSA_BITS = 2048
ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())
# Salt length per RFC 8230 is 32; AUTO accepts it and the rare issuer that used another.
_PSS_ANY_SALT = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)


class SignatureError(ValueError):
    """The signature cannot be checked or does not verify with the given key."""


class UnsupportedAlgorithm(SignatureError):
    """The COSE ``alg`` is neither ES256 nor PS256 (or missing)."""


class WrongKeyType(SignatureError):
    """The key does not fit the algorithm (e.g. an RSA key for ES256, or P-384)."""


class BadSignature(SignatureError):
    """The signature does not verify with this key."""


@dataclass(frozen=True)
class Sign1:
    """A decoded COSE_Sign1 message."""

    protected_bytes: bytes
    protected: Mapping[Any, Any]
    unprotected: Mapping[Any, Any]
    payload: bytes
    signature: bytes
    tags: tuple[int, ...]

    @property
    def algorithm(self) -> Any:
        """``alg``: protected header first; the unprotected one is accepted as some issuers put it there."""
        if HEADER_ALG in self.protected:
            return self.protected[HEADER_ALG]
        return self.unprotected.get(HEADER_ALG)

    @property
    def kid(self) -> bytes | None:
        """``kid``: the protected header wins when both carry one (hcert spec 3.3.3)."""
        kid = self.protected.get(HEADER_KID, self.unprotected.get(HEADER_KID))
        return bytes(kid) if isinstance(kid, bytes | bytearray) else None


@lru_cache(maxsize=256)
def protected_header(algorithm: int, kid: bytes) -> bytes:
    """The encoded protected header ``{1: alg, 4: kid}``: the same bytes for every certificate of a signer."""
    return cbor2.dumps({HEADER_ALG: algorithm, HEADER_KID: kid})


def sig_structure(protected_bytes: bytes, payload: bytes) -> bytes:
    """The bytes that are signed: ``["Signature1", protected, external_aad = b"", payload]``."""
    return _SIGNATURE1_HEAD + _bstr(protected_bytes) + _EMPTY_BSTR + _bstr(payload)


# Issuance writes these two fixed-shape arrays by hand: a tenth of cbor2's cost, the same bytes
# (tests decode them with cbor2 and pycose).
_SIGNATURE1_HEAD = b"\x84\x6aSignature1"     # array(4), text(10)
_SIGN1_HEAD = b"\xd2\x84"                     # tag(18), array(4)
_EMPTY_MAP, _EMPTY_BSTR = b"\xa0", b"\x40"


def _bstr(data: bytes) -> bytes:
    """A CBOR byte string (major type 2) in its shortest head."""
    size = len(data)
    if size < 24:
        head = bytes((0x40 | size,))
    elif size < 0x100:
        head = bytes((0x58, size))
    elif size < 0x10000:
        head = b"\x59" + size.to_bytes(2, "big")
    else:
        head = b"\x5a" + size.to_bytes(4, "big")
    return head + data


def encode_sign1(payload: bytes, *, algorithm: int, kid: bytes,
                 sign: Callable[[bytes], bytes]) -> bytes:
    """A tagged COSE_Sign1 with ``alg`` and ``kid`` in the protected header."""
    return sign1_with_signature(payload, algorithm=algorithm, kid=kid, sign=sign)[0]


def sign1_with_signature(payload: bytes, *, algorithm: int, kid: bytes,
                         sign: Callable[[bytes], bytes]) -> tuple[bytes, bytes]:
    """The tagged COSE_Sign1 and its signature (revocation lists hash the signature)."""
    if algorithm not in ALGORITHM_NAMES:
        raise UnsupportedAlgorithm(f"algorithm {algorithm} is not ES256 (-7) or PS256 (-37)")
    protected = protected_header(algorithm, bytes(kid))
    signature = sign(sig_structure(protected, payload))
    message = _SIGN1_HEAD + _bstr(protected) + _EMPTY_MAP + _bstr(payload) + _bstr(signature)
    return message, signature


def decode_sign1(data: bytes) -> Sign1:
    """Parse tagged (18, or 61 around 18) and untagged COSE_Sign1; raises :class:`DecodeError`."""
    item = loads(data, what="cose")
    tags: list[int] = []
    while isinstance(item, cbor2.CBORTag):
        if item.tag not in (TAG_SIGN1, TAG_CWT) or len(tags) >= 2:
            raise DecodeError("cose", f"unexpected CBOR tag {item.tag} (expected 18 COSE_Sign1)")
        tags.append(item.tag)
        item = item.value
    if not isinstance(item, list | tuple) or len(item) != 4:
        raise DecodeError("cose", "not a COSE_Sign1 array of 4 items")
    protected_bytes, unprotected, payload, signature = item
    if not isinstance(protected_bytes, bytes):
        raise DecodeError("cose", "protected header is not a byte string")
    if not isinstance(unprotected, Mapping):
        raise DecodeError("cose", "unprotected header is not a map")
    if not isinstance(payload, bytes):
        raise DecodeError("cose", "payload is missing or not a byte string (detached payloads unsupported)")
    if not isinstance(signature, bytes):
        raise DecodeError("cose", "signature is not a byte string")
    protected = loads(protected_bytes, what="cose") if protected_bytes else {}
    if not isinstance(protected, Mapping):
        raise DecodeError("cose", "protected header does not decode to a map")
    return Sign1(protected_bytes, protected, unprotected, payload, signature, tuple(tags))


def verify_signature(message: Sign1, public_key: object) -> None:
    """Check the signature with ``public_key``; raises a :class:`SignatureError` subclass."""
    algorithm = message.algorithm
    signed = sig_structure(message.protected_bytes, message.payload)
    if algorithm == ES256:
        _verify_es256(public_key, message.signature, signed)
    elif algorithm == PS256:
        _verify_ps256(public_key, message.signature, signed)
    else:
        raise UnsupportedAlgorithm(f"algorithm {algorithm!r} is not ES256 (-7) or PS256 (-37)")


def _verify_es256(public_key: object, signature: bytes, signed: bytes) -> None:
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise WrongKeyType(f"ES256 needs an EC P-256 key, the signer has {_key_name(public_key)}")
    if not isinstance(public_key.curve, ec.SECP256R1):
        raise WrongKeyType(f"ES256 needs curve P-256, the signer key is {public_key.curve.name}")
    if len(signature) != 64:
        raise BadSignature(f"ES256 signature must be 64 bytes (r||s), got {len(signature)}")
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"),
                               int.from_bytes(signature[32:], "big"))
    try:
        public_key.verify(der, signed, ECDSA_SHA256)
    except InvalidSignature:
        raise BadSignature("ES256 signature does not verify") from None


def _verify_ps256(public_key: object, signature: bytes, signed: bytes) -> None:
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise WrongKeyType(f"PS256 needs an RSA key, the signer has {_key_name(public_key)}")
    if public_key.key_size < MIN_RSA_BITS:
        raise WrongKeyType(f"PS256 needs RSA of at least {MIN_RSA_BITS} bits, got {public_key.key_size}")
    try:
        public_key.verify(signature, signed, _PSS_ANY_SALT, hashes.SHA256())
    except InvalidSignature:
        raise BadSignature("PS256 signature does not verify") from None


def _key_name(public_key: object) -> str:
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return f"an EC {public_key.curve.name} key"
    if isinstance(public_key, rsa.RSAPublicKey):
        return f"an RSA-{public_key.key_size} key"
    return f"a {type(public_key).__name__}"
