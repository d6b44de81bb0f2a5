"""The passport PKI: a Country Signing CA (CSCA) and the document signers (DSC) it certifies.

The profile follows hcert Appendix A: a self-signed CSCA with a country in its subject and a unique
SKI; each DSC is signed by it, carries AKI = CSCA SKI, its own SKI and the DCC extended key usage
for vaccination. Private keys live in encrypted PKCS#8 files (this module) or in a PKCS#11 token
(:mod:`vaxtrust.passport.pkcs11`); certificates are PEM files. The CSCA signs through :class:`CaKey`,
so its key may stay in a token too.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Literal, Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from vaxtrust.errors import CertificateExpired, SigningKeyError, UntrustedSigner
from vaxtrust.passport import keyusage

KeyType = Literal["ec", "rsa"]
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey

# hcert Appendix A.4: we issue signers for vaccination certificates only.
EKU_VACCINATION = keyusage.ISSUED_OIDS["v"]

MIN_PASSPHRASE_LENGTH = 12  # for new key files; older files with shorter ones still open
PBKDF2_ROUNDS = 600_000  # PBKDF2-HMAC-SHA256 of new key files (OWASP 2023); OpenSSL wrote 2,048
RSA_KEY_BITS = 3072  # PS256 needs >= 2048; 3072 keeps the key useful past 2030 (NIST SP 800-57)
CSCA_VALIDITY = timedelta(days=365 * 10)
SIGNER_VALIDITY = timedelta(days=365 * 2)  # hcert: a DSC outlives every DCC it signs; renew yearly


def new_private_key(key_type: KeyType) -> PrivateKey:
    """A fresh key: P-256 for ES256 (the primary DCC algorithm) or RSA for PS256."""
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_BITS)
    raise SigningKeyError(f"unknown key type {key_type!r}: use 'ec' (ES256) or 'rsa' (PS256)")


def check_signing_key(public_key: object) -> None:
    """Refuse keys the DCC does not allow: only P-256 (ES256) and RSA >= 2048 bits (PS256)."""
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if not isinstance(public_key.curve, ec.SECP256R1):
            raise SigningKeyError(f"ES256 needs a P-256 key, got {public_key.curve.name}")
    elif isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < 2048:
            raise SigningKeyError(f"PS256 needs an RSA key of at least 2048 bits, got {public_key.key_size}")
    else:
        raise SigningKeyError(f"unsupported key type {type(public_key).__name__}: use P-256 or RSA")


def _random_serial() -> int:
    # RFC 5280: positive, at most 20 octets; 159 random bits is unique in practice.
    return secrets.randbits(159) | 1


class CaKey(Protocol):
    """The CSCA's private key wherever it lives (a key file, a PKCS#11 token): it signs, and only
    its public key ever leaves it."""

    def public_key(self) -> PublicKey: ...

    def sign_certificate(self, builder: x509.CertificateBuilder) -> x509.Certificate:
        """``builder`` signed with SHA-256 (ECDSA, or RSA PKCS#1 v1.5 as X.509 CAs do)."""
        ...

    def sign_document(self, message: bytes) -> bytes:
        """ES256 as a DER ECDSA signature, or PS256 (RSA-PSS, MGF1-SHA-256, salt 32)."""
        ...


DOCUMENT_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)


@dataclass(frozen=True)
class FileCaKey:
    """A CSCA key held in this process (read from its encrypted file, or freshly made)."""

    private_key: PrivateKey

    def public_key(self) -> PublicKey:
        return self.private_key.public_key()

    def sign_certificate(self, builder: x509.CertificateBuilder) -> x509.Certificate:
        return builder.sign(self.private_key, hashes.SHA256())

    def sign_document(self, message: bytes) -> bytes:
        if isinstance(self.private_key, ec.EllipticCurvePrivateKey):
            return self.private_key.sign(message, ec.ECDSA(hashes.SHA256()))
        return self.private_key.sign(message, DOCUMENT_PSS, hashes.SHA256())


def as_ca_key(key: PrivateKey | CaKey) -> CaKey:
    """``key`` as a :class:`CaKey` (a bare ``cryptography`` private key is a key in a file)."""
    if isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        return FileCaKey(key)
    return key


def new_csca(
    *, country: str, common_name: str, now: datetime, key_type: KeyType = "ec",
    organization: str | None = None, validity: timedelta = CSCA_VALIDITY,
) -> tuple[PrivateKey, x509.Certificate]:
    """A fresh CSCA key and its self-signed certificate (see :func:`csca_certificate`)."""
    key = new_private_key(key_type)
    certificate = csca_certificate(
        FileCaKey(key), country=country, common_name=common_name, now=now,
        organization=organization, validity=validity,
    )
    return key, certificate


def csca_certificate(
    key: CaKey, *, country: str, common_name: str, now: datetime, organization: str | None = None,
    validity: timedelta = CSCA_VALIDITY,
) -> x509.Certificate:
    """The self-signed certificate of a Country Signing CA that may certify document signers
    (path length 0), signed by ``key`` itself (a file key or a token key)."""
    if len(country) != 2 or not country.isalpha() or not country.isupper():
        raise SigningKeyError(f"country must be an ISO 3166-1 alpha-2 code like 'VN', got {country!r}")
    public_key = key.public_key()
    check_signing_key(public_key)
    name = _name(country, common_name, organization)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(_random_serial())
        .not_valid_before(now)
        .not_valid_after(now + validity)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    return key.sign_certificate(builder)


def new_document_signer(
    *, csca_key: PrivateKey | CaKey, csca_certificate: x509.Certificate, public_key: PublicKey,
    common_name: str, now: datetime, organization: str | None = None,
    validity: timedelta = SIGNER_VALIDITY,
) -> x509.Certificate:
    """A document signer certificate for ``public_key`` (from a file key or a token), for vaccinations.

    The signer may not outlive its CSCA: its validity is cut at the CSCA's end.
    """
    check_signing_key(public_key)
    ca_key = as_ca_key(csca_key)
    _check_csca(ca_key, csca_certificate, now)
    country = csca_certificate.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value
    not_after = min(now + validity, csca_certificate.not_valid_after_utc)
    csca_ski = csca_certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(str(country), common_name, organization))
        .issuer_name(csca_certificate.subject)
        .public_key(public_key)
        .serial_number(_random_serial())
        .not_valid_before(now)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([EKU_VACCINATION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(csca_ski), critical=False
        )
    )
    return ca_key.sign_certificate(builder)


def sign_certificate_elsewhere(
    builder: x509.CertificateBuilder, public_key: PublicKey, sign_tbs: Callable[[bytes], bytes],
) -> x509.Certificate:
    """``builder`` signed by a key this process cannot hold (a token's): ``sign_tbs`` signs the
    to-be-signed bytes (ECDSA-SHA256 as DER, or RSA PKCS#1 v1.5 SHA-256) with the key whose public
    half is ``public_key``.

    ``cryptography`` signs certificates only with keys it holds, so the certificate is drafted with a
    throw-away key of the same type (which fixes the signature algorithm written inside the TBS), and
    the draft's signature is replaced by the real one. The result is checked against ``public_key``.
    """
    draft = builder.sign(_draft_key(isinstance(public_key, ec.EllipticCurvePublicKey)), hashes.SHA256())
    tbs = draft.tbs_certificate_bytes
    der = draft.public_bytes(serialization.Encoding.DER)
    start = der.index(tbs) + len(tbs)
    algorithm = der[start:_tlv_end(der, start)]  # AlgorithmIdentifier, as the TBS names it
    signature = sign_tbs(tbs)
    certificate = x509.load_der_x509_certificate(_der(0x30, tbs + algorithm + _der(0x03, b"\0" + signature)))
    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(certificate.signature, tbs, ec.ECDSA(hashes.SHA256()))
        else:
            public_key.verify(certificate.signature, tbs, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise SigningKeyError("the CA key's signature does not verify with its public key") from None
    return certificate


@cache
def _draft_key(elliptic: bool) -> PrivateKey:
    # Only its type matters (it names the signature algorithm); its signature is thrown away.
    if elliptic:
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _tlv_end(der: bytes, start: int) -> int:
    """The offset just past the DER element that starts at ``start``."""
    first = der[start + 1]
    if first < 0x80:
        return start + 2 + first
    size = first & 0x7F
    return start + 2 + size + int.from_bytes(der[start + 2:start + 2 + size], "big")


def _name(country: str, common_name: str, organization: str | None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, country)]
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
        encipher_only=False, decipher_only=False,
    )


def _check_csca(csca_key: CaKey, csca_certificate: x509.Certificate, now: datetime) -> None:
    if not same_public_key(csca_key.public_key(), csca_certificate.public_key()):
        raise SigningKeyError("the CSCA key does not belong to the CSCA certificate")
    if not (csca_certificate.not_valid_before_utc <= now <= csca_certificate.not_valid_after_utc):
        raise CertificateExpired(
            f"the CSCA is valid {csca_certificate.not_valid_before_utc:%Y-%m-%d} to "
            f"{csca_certificate.not_valid_after_utc:%Y-%m-%d}, not at {now:%Y-%m-%d}"
        )


# --- checks a signer must pass ------------------------------------------------------------------


def check_document_signer(certificate: x509.Certificate, *, now: datetime, dcc_type: str = "v") -> None:
    """Raise unless the DSC may sign a ``dcc_type`` certificate at ``now`` with a DCC key type.

    Wrong EKU → :class:`UntrustedSigner`; outside its validity → :class:`CertificateExpired`;
    a key that is neither P-256 nor RSA >= 2048 → :class:`SigningKeyError`.
    """
    check_signing_key(certificate.public_key())
    if not keyusage.allows(certificate, dcc_type):
        raise UntrustedSigner(
            f"signer {certificate.subject.rfc4514_string()} may not sign DCC type {dcc_type!r} "
            "(its extended key usage names other DCC types)"
        )
    if _is_ca(certificate):
        raise UntrustedSigner(f"{certificate.subject.rfc4514_string()} is a CA, not a document signer")
    if not (certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc):
        raise CertificateExpired(
            f"signer {certificate.subject.rfc4514_string()} is valid "
            f"{certificate.not_valid_before_utc:%Y-%m-%d %H:%M} to "
            f"{certificate.not_valid_after_utc:%Y-%m-%d %H:%M} UTC, not at {now:%Y-%m-%d %H:%M} UTC"
        )


def _is_ca(certificate: x509.Certificate) -> bool:
    # A CA certificate is never a document signer, whatever its EKU says.
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return False
    return constraints.ca


def issued_by(certificate: x509.Certificate, csca: x509.Certificate) -> bool:
    """Whether ``csca`` signed ``certificate`` (name, and the signature checked with the CSCA key)."""
    if certificate.issuer != csca.subject:
        return False
    try:
        certificate.verify_directly_issued_by(csca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


# --- encrypted PKCS#8 key files -----------------------------------------------------------------


@dataclass(frozen=True)
class Passphrase:
    """A key-file passphrase; kept out of reprs and logs."""

    value: bytes

    def __bool__(self) -> bool:
        return bool(self.value)

    def __repr__(self) -> str:
        return "Passphrase(***)"

    @classmethod
    def of(cls, text: str) -> Passphrase:
        """A passphrase as given; the length rule applies when it protects a new key file."""
        if not text:
            raise SigningKeyError("the key passphrase is empty")
        return cls(text.encode("utf-8"))

    def check_strong_enough(self) -> None:
        if len(self.value.decode("utf-8", errors="replace")) < MIN_PASSPHRASE_LENGTH:
            raise SigningKeyError(
                f"a new key's passphrase must have at least {MIN_PASSPHRASE_LENGTH} characters"
            )


def write_private_key(path: Path, key: PrivateKey, passphrase: Passphrase) -> None:
    """Write ``key`` as encrypted PKCS#8 PEM, readable by its owner only; never overwrite a key.

    Encrypted with PBES2: PBKDF2-HMAC-SHA256 at :data:`PBKDF2_ROUNDS` rounds and AES-256-CBC
    (OpenSSL's default, 2,048 rounds, is far too cheap to guess against).
    """
    passphrase.check_strong_enough()
    plain = key.private_bytes(encoding=serialization.Encoding.DER,
                              format=serialization.PrivateFormat.PKCS8,
                              encryption_algorithm=serialization.NoEncryption())
    pem = _pem("ENCRYPTED PRIVATE KEY", _pbes2_encrypt(plain, passphrase.value, PBKDF2_ROUNDS))
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise SigningKeyError(f"key file {path} exists already; refusing to overwrite a key") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
        handle.flush()
        os.fsync(handle.fileno())


# DER of PKCS#8 EncryptedPrivateKeyInfo with PBES2 (RFC 8018), written by hand: cryptography's
# PKCS#8 writer has no setting for the rounds. OpenSSL (hence cryptography) reads it back.
_OID_PBES2 = "1.2.840.113549.1.5.13"
_OID_PBKDF2 = "1.2.840.113549.1.5.12"
_OID_HMAC_SHA256 = "1.2.840.113549.2.9"
_OID_AES256_CBC = "2.16.840.1.101.3.4.1.42"


def _der(tag: int, body: bytes) -> bytes:
    length = len(body)
    if length < 0x80:
        return bytes([tag, length]) + body
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + body


def _der_oid(dotted: str) -> bytes:
    first, second, *rest = (int(part) for part in dotted.split("."))
    body = bytearray([40 * first + second])
    for number in rest:
        chunk = [number & 0x7F]
        while number := number >> 7:
            chunk.append(0x80 | (number & 0x7F))
        body += bytes(reversed(chunk))
    return _der(0x06, bytes(body))


def _der_int(number: int) -> bytes:
    return _der(0x02, number.to_bytes(number.bit_length() // 8 + 1, "big"))


def _pbes2_encrypt(plain_pkcs8: bytes, password: bytes, rounds: int) -> bytes:
    import hashlib
    import secrets

    from cryptography.hazmat.primitives import padding as sym_padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    salt, iv = secrets.token_bytes(16), secrets.token_bytes(16)
    key = hashlib.pbkdf2_hmac("sha256", password, salt, rounds, dklen=32)
    padder = sym_padding.PKCS7(128).padder()
    padded = padder.update(plain_pkcs8) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    encrypted = encryptor.update(padded) + encryptor.finalize()
    sequence = 0x30
    kdf = _der(sequence, _der_oid(_OID_PBKDF2) + _der(sequence, (
        _der(0x04, salt) + _der_int(rounds)
        + _der(sequence, _der_oid(_OID_HMAC_SHA256) + _der(0x05, b"")))))
    scheme = _der(sequence, _der_oid(_OID_AES256_CBC) + _der(0x04, iv))
    algorithm = _der(sequence, _der_oid(_OID_PBES2) + _der(sequence, kdf + scheme))
    return _der(sequence, algorithm + _der(0x04, encrypted))


def _pem(label: str, der: bytes) -> bytes:
    import base64

    body = base64.encodebytes(der).decode("ascii").replace("\n", "")
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return (f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n").encode()


def load_private_key(path: Path, passphrase: Passphrase) -> PrivateKey:
    """Read an encrypted PKCS#8 key file; every failure is a :class:`SigningKeyError` naming the file."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SigningKeyError(f"cannot read key file {path}: {error.strerror}") from None
    if b"ENCRYPTED PRIVATE KEY" not in data:
        raise SigningKeyError(f"key file {path} is not an encrypted PKCS#8 key; refusing a plain key")
    try:
        key = serialization.load_pem_private_key(data, password=passphrase.value)
    except (ValueError, TypeError):  # TypeError: an empty passphrase
        raise SigningKeyError(f"wrong passphrase for key file {path} (or the file is damaged)") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise SigningKeyError(f"key file {path} holds a {type(key).__name__}; use P-256 or RSA")
    check_signing_key(key.public_key())
    return key


def check_key_matches(key: PrivateKey, certificate: x509.Certificate, *, what: str) -> None:
    """Refuse a key that does not belong to its certificate (a mixed-up file would sign unverifiably)."""
    if not same_public_key(key.public_key(), certificate.public_key()):
        raise SigningKeyError(f"the key of {what} does not belong to its certificate")


def same_public_key(first: object, second: object) -> bool:
    """Whether two public keys are the same (compared as SubjectPublicKeyInfo DER)."""
    return bool(_spki(first) == _spki(second))


def _spki(public_key: object) -> bytes:
    if not isinstance(public_key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise SigningKeyError(f"unsupported key type {type(public_key).__name__}: use P-256 or RSA")
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def write_certificate(path: Path, certificate: x509.Certificate) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


def load_certificate(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except OSError as error:
        raise SigningKeyError(f"cannot read certificate {path}: {error.strerror}") from None
    except ValueError:
        raise SigningKeyError(f"{path} is not a PEM X.509 certificate") from None

