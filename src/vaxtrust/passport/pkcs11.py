"""Document signers whose private key lives in a PKCS#11 token (an HSM; SoftHSM2 in tests).

The key pair is generated inside the token as sensitive and non-extractable; this process only ever
sees the public key and the signatures. ECDSA is done as ``CKM_ECDSA`` over a SHA-256 digest we
compute (SoftHSM2 2.6 has no ``CKM_ECDSA_SHA256``), RSA as ``CKM_SHA256_RSA_PKCS_PSS`` with
MGF1-SHA-256 and a 32-byte salt, as the DCC's PS256 requires.

The CSCA key may live in a token too (:class:`TokenCaKey`): it signs the certificates it issues
(their TBS bytes; RSA as ``CKM_SHA256_RSA_PKCS``, as X.509 CAs do) and the trust and revocation lists.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pkcs11
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from pkcs11 import MGF, Attribute, KeyType, Mechanism, ObjectClass
from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters
from pkcs11.util.rsa import encode_rsa_public_key

from vaxtrust.errors import SigningKeyError
from vaxtrust.passport.pki import (
    RSA_KEY_BITS,
    PublicKey,
    check_signing_key,
    same_public_key,
    sign_certificate_elsewhere,
)
from vaxtrust.passport.pki import KeyType as PkiKeyType
from vaxtrust.passport.signer import COSE_ES256, COSE_PS256, kid_of

DEFAULT_MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
_PSS_SHA256 = (Mechanism.SHA256, MGF.SHA256, 32)


def load_module(module: Path) -> Any:
    """The PKCS#11 library at ``module`` (loaded once per process, as PKCS#11 requires)."""
    if not module.is_file():
        raise SigningKeyError(f"PKCS#11 module {module} not found (install softhsm2 or your HSM's library)")
    try:
        return pkcs11.lib(str(module))
    except pkcs11.PKCS11Error as error:
        raise SigningKeyError(f"cannot load PKCS#11 module {module}: {error}") from None


@contextmanager
def token_session(module: Path, token_label: str, pin: str | None, *, rw: bool = False) -> Iterator[Any]:
    """A logged-in session on the token labelled ``token_label``; every failure is a SigningKeyError."""
    session = open_session(module, token_label, pin, rw=rw)
    try:
        yield session
    finally:
        session.close()


def open_session(module: Path, token_label: str, pin: str | None, *, rw: bool = False) -> Any:
    if not pin:
        raise SigningKeyError(f"no PIN given for token {token_label!r} (set VAXTRUST_PKCS11_PIN)")
    library = load_module(module)
    try:
        token = library.get_token(token_label=token_label)
    except pkcs11.NoSuchToken:
        raise SigningKeyError(f"no token labelled {token_label!r} in {module}") from None
    except pkcs11.MultipleTokensReturned:
        raise SigningKeyError(f"several tokens are labelled {token_label!r} in {module}") from None
    try:
        return token.open(rw=rw, user_pin=pin)
    except (pkcs11.PinIncorrect, pkcs11.PinLenRange, pkcs11.PinInvalid):
        raise SigningKeyError(f"wrong PIN for token {token_label!r}") from None
    except pkcs11.PinLocked:
        raise SigningKeyError(f"the PIN of token {token_label!r} is locked") from None
    except pkcs11.PKCS11Error as error:
        raise SigningKeyError(f"cannot open token {token_label!r}: {type(error).__name__}") from None


def generate_token_key(
    *, module: Path, token_label: str, pin: str | None, key_label: str, key_type: PkiKeyType,
) -> PublicKey:
    """Generate a non-extractable signing key pair in the token; return its public key."""
    with token_session(module, token_label, pin, rw=True) as session:
        if _find(session, ObjectClass.PRIVATE_KEY, key_label) is not None:
            raise SigningKeyError(f"token {token_label!r} already holds a key labelled {key_label!r}")
        key_id = secrets.token_bytes(8)
        private_template = {
            Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False, Attribute.PRIVATE: True,
            Attribute.SIGN: True,
        }
        try:
            if key_type == "ec":
                public, _ = session.generate_keypair(
                    KeyType.EC, store=True, label=key_label, id=key_id,
                    public_template={Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")},
                    private_template=private_template,
                )
            elif key_type == "rsa":
                public, _ = session.generate_keypair(
                    KeyType.RSA, RSA_KEY_BITS, store=True, label=key_label, id=key_id,
                    private_template=private_template,
                )
            else:
                raise SigningKeyError(f"unknown key type {key_type!r}: use 'ec' or 'rsa'")
        except pkcs11.PKCS11Error as error:
            raise SigningKeyError(
                f"token {token_label!r} could not generate a {key_type} key: {type(error).__name__}"
            ) from None
        return _public_key(public)


def _find(session: Any, object_class: ObjectClass, label: str) -> Any | None:
    try:
        return session.get_key(object_class=object_class, label=label)
    except pkcs11.NoSuchKey:
        return None
    except pkcs11.MultipleObjectsReturned:
        raise SigningKeyError(f"several keys are labelled {label!r} in the token") from None


def _public_key(token_key: Any) -> PublicKey:
    if token_key.key_type == KeyType.EC:
        der = encode_ec_public_key(token_key)
    elif token_key.key_type == KeyType.RSA:
        der = encode_rsa_public_key(token_key)
        key = serialization.load_der_public_key(der)  # PKCS#1 is accepted as well
        check_signing_key(key)
        return key  # type: ignore[return-value]
    else:
        raise SigningKeyError(f"the token key is a {token_key.key_type.name} key; use EC P-256 or RSA")
    key = serialization.load_der_public_key(der)
    check_signing_key(key)
    return key  # type: ignore[return-value]


def sealed_key_pair(session: Any, token_label: str, key_label: str) -> tuple[Any, PublicKey]:
    """The private key labelled ``key_label`` and its public key; refuses a key that could leave
    the token (extractable or not sensitive)."""
    private = _find(session, ObjectClass.PRIVATE_KEY, key_label)
    public = _find(session, ObjectClass.PUBLIC_KEY, key_label)
    if private is None or public is None:
        raise SigningKeyError(f"token {token_label!r} has no key pair labelled {key_label!r}")
    if private[Attribute.EXTRACTABLE] or not private[Attribute.SENSITIVE]:
        raise SigningKeyError(
            f"key {key_label!r} in token {token_label!r} is extractable; signing keys must be "
            "keys that cannot leave the token"
        )
    return private, _public_key(public)


class Pkcs11Signer:
    """A :class:`~vaxtrust.passport.signer.Signer` whose private key never leaves its token.

    Keeps one logged-in session open; close it with :meth:`close` (or use it as a context manager).
    """

    def __init__(
        self, *, module: Path, token_label: str, key_label: str, pin: str | None,
        certificate: x509.Certificate,
    ) -> None:
        self._certificate = certificate
        self._kid = kid_of(certificate)  # hashing the DER costs as much as a third of a signature
        self._lock = threading.Lock()  # a PKCS#11 session runs one operation at a time
        self._session = open_session(module, token_label, pin)
        try:
            self._private = self._bind_key(token_label, key_label)
        except BaseException:
            self._session.close()
            raise

    def _bind_key(self, token_label: str, key_label: str) -> Any:
        private, public = sealed_key_pair(self._session, token_label, key_label)
        if not same_public_key(public, self._certificate.public_key()):
            raise SigningKeyError(
                f"key {key_label!r} in token {token_label!r} does not belong to the signer certificate"
            )
        self._is_ec = private.key_type == KeyType.EC
        return private

    @property
    def kid(self) -> bytes:
        return self._kid

    @property
    def algorithm(self) -> int:
        return COSE_ES256 if self._is_ec else COSE_PS256

    @property
    def certificate(self) -> x509.Certificate:
        return self._certificate

    def sign(self, message: bytes) -> bytes:
        """ES256: raw r||s (PKCS#11 returns it so); PS256: the RSA-PSS signature."""
        try:
            with self._lock:
                if self._is_ec:
                    digest = hashlib.sha256(message).digest()
                    return bytes(self._private.sign(digest, mechanism=Mechanism.ECDSA))
                return bytes(self._private.sign(
                    message, mechanism=Mechanism.SHA256_RSA_PKCS_PSS, mechanism_param=_PSS_SHA256
                ))
        except pkcs11.PKCS11Error as error:
            raise SigningKeyError(f"the token refused to sign: {type(error).__name__}") from None

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Pkcs11Signer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class TokenCaKey:
    """A CSCA key in a PKCS#11 token (:class:`~vaxtrust.passport.pki.CaKey`).

    The CSCA signs a handful of things per day (a signer certificate, a trust or revocation list),
    so each signature opens and closes its own session: nothing stays logged in between.
    """

    def __init__(self, *, module: Path, token_label: str, key_label: str, pin: str | None) -> None:
        self._where = (module, token_label, key_label)
        self._pin = pin
        with token_session(module, token_label, pin) as session:
            private, self._public = sealed_key_pair(session, token_label, key_label)
            self._is_ec = private.key_type == KeyType.EC

    def public_key(self) -> PublicKey:
        return self._public

    def sign_certificate(self, builder: x509.CertificateBuilder) -> x509.Certificate:
        if self._is_ec:
            return sign_certificate_elsewhere(builder, self._public, self.sign_document)
        return sign_certificate_elsewhere(
            builder, self._public, lambda tbs: self._sign(tbs, Mechanism.SHA256_RSA_PKCS)
        )

    def sign_document(self, message: bytes) -> bytes:
        """ECDSA as DER (what X.509 and the lists carry), RSA as PSS-SHA256."""
        if self._is_ec:
            raw = self._sign(hashlib.sha256(message).digest(), Mechanism.ECDSA)
            return encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        return self._sign(message, Mechanism.SHA256_RSA_PKCS_PSS, _PSS_SHA256)

    def _sign(self, data: bytes, mechanism: Mechanism, parameter: Any = None) -> bytes:
        module, token_label, key_label = self._where
        with token_session(module, token_label, self._pin) as session:
            private, _ = sealed_key_pair(session, token_label, key_label)
            try:
                return bytes(private.sign(data, mechanism=mechanism, mechanism_param=parameter))
            except pkcs11.PKCS11Error as error:
                raise SigningKeyError(
                    f"token {token_label!r} refused to sign with the CSCA key: {type(error).__name__}"
                ) from None
