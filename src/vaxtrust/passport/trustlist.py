"""The trust list: the document signer certificates a verifier accepts, exported as JSON.

Shape (entries follow the DCC Gateway's trust-list fields ``kid``, ``country``, ``certificateType``,
``rawData`` (base64 DER) and ``thumbprint`` (hex SHA-256 of the DER))::

    {"format": "vaxtrust-trust-list/1", "country": "VN", "issued_at": "...",
     "csca": [{...certificateType "CSCA"...}],
     "certificates": [{...certificateType "DSC", plus name, province, facility, status...}]}

Presence on the list is what makes a signer valid (hcert §5.1): withdrawn and expired signers are
left out; retired ones stay so what they signed keeps verifying. On loading, every DSC must be
signed by a CSCA: the ones pinned by the verifier, or else the ones in the file.

The list itself is signed with the CSCA key (``"signature": {"alg", "value"}`` over the canonical
JSON of the rest: sorted keys, no spaces, UTF-8). Without it anyone could put a withdrawn (still
CSCA-certified) signer back on a list; so a verifier that pins CSCAs accepts only a list signed by
one of them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from vaxtrust.errors import InputError, UntrustedSigner
from vaxtrust.passport import pki
from vaxtrust.passport.keystore import KeyStore
from vaxtrust.passport.signer import kid_of

TRUST_LIST_FORMAT = "vaxtrust-trust-list/1"


@dataclass(frozen=True)
class TrustedSigner:
    """One DSC on the list, with the issuer's notes about it."""

    certificate: x509.Certificate
    country: str
    name: str | None = None
    province: str | None = None
    facility: str | None = None
    status: str | None = None

    @property
    def kid(self) -> bytes:
        return kid_of(self.certificate)


class TrustList:
    """Implements :class:`~vaxtrust.passport.signer.TrustAnchors` for verifiers."""

    def __init__(self, signers: Iterable[TrustedSigner], cscas: Iterable[x509.Certificate] = ()) -> None:
        self.signers = list(signers)
        self.cscas = list(cscas)
        self._by_kid: dict[bytes, list[x509.Certificate]] = {}
        for signer in self.signers:
            self._by_kid.setdefault(signer.kid, []).append(signer.certificate)

    def certificates_for(self, kid: bytes) -> list[x509.Certificate]:
        """Every listed DSC with this kid (8 bytes can collide, so a verifier tries them all)."""
        return list(self._by_kid.get(kid, ()))

    def __len__(self) -> int:
        return len(self.signers)

    def merged_with(self, other: TrustList) -> TrustList:
        """One list from two (e.g. our own and another country's)."""
        return TrustList(self.signers + other.signers, self.cscas + other.cscas)

    # --- loading --------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path, *, pinned_cscas: Iterable[x509.Certificate] | None = None) -> TrustList:
        """Read an exported list; DSCs must chain to ``pinned_cscas`` (or to the file's own CSCAs)."""
        document = read_json_list(path, "trust list")
        return cls.from_document(document, pinned_cscas=pinned_cscas, source=str(path))

    @classmethod
    def from_document(
        cls, document: Any, *, pinned_cscas: Iterable[x509.Certificate] | None = None,
        source: str = "trust list",
    ) -> TrustList:
        if not isinstance(document, dict) or document.get("format") != TRUST_LIST_FORMAT:
            raise InputError(f"not a {TRUST_LIST_FORMAT} document", path=source)
        file_cscas = [
            _certificate(entry, source, f"csca[{index}]")
            for index, entry in enumerate(document.get("csca", []))
        ]
        anchors = list(pinned_cscas) if pinned_cscas is not None else file_cscas
        check_list_signature(document, anchors, required=pinned_cscas is not None, source=source)
        signers = []
        for index, entry in enumerate(document.get("certificates", [])):
            where = f"certificates[{index}]"
            certificate = _certificate(entry, source, where)
            _check_kid(entry, certificate, source, where)
            if not any(pki.issued_by(certificate, csca) for csca in anchors):
                raise UntrustedSigner(
                    f"{source}: {where} (kid {kid_of(certificate).hex()}) is not signed by a trusted CSCA"
                )
            signers.append(TrustedSigner(
                certificate=certificate, country=str(entry.get("country", "")),
                name=entry.get("name"), province=entry.get("province"),
                facility=entry.get("facility"), status=entry.get("status"),
            ))
        return cls(signers, anchors)

    # --- exporting ------------------------------------------------------------------------------

    def to_document(self, *, country: str, issued_at: datetime) -> dict[str, Any]:
        return {
            "format": TRUST_LIST_FORMAT,
            "country": country,
            "issued_at": issued_at.isoformat(),
            "csca": [_entry(csca, country, "CSCA") for csca in self.cscas],
            "certificates": [
                _entry(signer.certificate, signer.country, "DSC") | {
                    "name": signer.name, "province": signer.province,
                    "facility": signer.facility, "status": signer.status,
                    "notAfter": signer.certificate.not_valid_after_utc.isoformat(),
                }
                for signer in self.signers
            ],
        }


def trust_list_of(store: KeyStore, *, now: datetime) -> TrustList:
    """The signers a verifier should accept at ``now``: active and retired, not withdrawn or expired."""
    csca = store.csca_certificate
    signers = []
    for entry in store.signers():
        certificate = store.certificate_of(entry.name)
        if entry.status == "withdrawn" or certificate.not_valid_after_utc < now:
            continue
        if not pki.issued_by(certificate, csca):
            raise UntrustedSigner(f"signer {entry.name!r} is not certified by the key store's CSCA")
        signers.append(TrustedSigner(
            certificate=certificate, country=store.country, name=entry.name,
            province=entry.province, facility=entry.facility, status=entry.status,
        ))
    return TrustList(signers, [csca])


def export_trust_list(
    store: KeyStore, path: Path, *, now: datetime, csca_passphrase: pki.Passphrase | None = None,
) -> TrustList:
    """Write the store's trust list as JSON to ``path`` (signed with the CSCA key when its
    passphrase is given); returns what was written."""
    trust = trust_list_of(store, now=now)
    document = trust.to_document(country=store.country, issued_at=now)
    if csca_passphrase is not None:
        document = sign_document(document, store.csca_key(csca_passphrase))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return trust


def canonical_bytes(document: dict[str, Any]) -> bytes:
    """What the list signature covers: the document without its signature, canonical JSON."""
    unsigned = {key: value for key, value in document.items() if key != "signature"}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def read_json_list(path: Path, what: str) -> Any:
    """The JSON document of an exported trust or revocation list; ``InputError`` naming the file."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{what} not found", path=str(path)) from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise InputError(f"not a readable JSON {what} ({error})", path=str(path)) from None


def sign_document(document: dict[str, Any], key: pki.PrivateKey | pki.CaKey) -> dict[str, Any]:
    """The document with a signature by the CSCA ``key`` (ES256 as DER ECDSA, or PS256), in a file
    or a token."""
    ca_key = pki.as_ca_key(key)
    algorithm = "ES256" if isinstance(ca_key.public_key(), ec.EllipticCurvePublicKey) else "PS256"
    value = ca_key.sign_document(canonical_bytes(document))
    return document | {"signature": {"alg": algorithm, "value": base64.b64encode(value).decode("ascii")}}


def check_list_signature(
    document: dict[str, Any], anchors: list[x509.Certificate], *, required: bool, source: str
) -> None:
    """Raise unless the document's signature verifies with one of ``anchors`` (absent: ok unless required)."""
    signature = document.get("signature")
    if signature is None:
        if required:
            raise UntrustedSigner(f"{source}: the list is not signed; a pinned CSCA must sign it")
        return
    try:
        value = base64.b64decode(signature["value"], validate=True)
        algorithm = signature["alg"]
    except (KeyError, TypeError, binascii.Error):
        raise InputError("signature is not {alg, value (base64)}", path=source) from None
    message = canonical_bytes(document)
    if not any(_verifies(csca, algorithm, value, message) for csca in anchors):
        raise UntrustedSigner(f"{source}: the list signature does not verify with a trusted CSCA")


def _verifies(csca: x509.Certificate, algorithm: str, value: bytes, message: bytes) -> bool:
    key = csca.public_key()
    try:
        if algorithm == "ES256" and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(value, message, ec.ECDSA(hashes.SHA256()))
        elif algorithm == "PS256" and isinstance(key, rsa.RSAPublicKey):
            key.verify(value, message, pki.DOCUMENT_PSS, hashes.SHA256())
        else:
            return False
    except InvalidSignature:
        return False
    return True


def _entry(certificate: x509.Certificate, country: str, kind: str) -> dict[str, Any]:
    der = certificate.public_bytes(Encoding.DER)
    return {
        "kid": base64.b64encode(kid_of(certificate)).decode("ascii"),
        "country": country,
        "certificateType": kind,
        "rawData": base64.b64encode(der).decode("ascii"),
        "thumbprint": hashlib.sha256(der).hexdigest(),
    }


def _certificate(entry: Any, source: str, where: str) -> x509.Certificate:
    try:
        der = base64.b64decode(entry["rawData"], validate=True)
        return x509.load_der_x509_certificate(der)
    except (KeyError, TypeError):
        raise InputError(f"{where} has no rawData", path=source) from None
    except (binascii.Error, ValueError):
        raise InputError(f"{where}.rawData is not a base64 DER certificate", path=source) from None


def _check_kid(entry: dict[str, Any], certificate: x509.Certificate, source: str, where: str) -> None:
    listed = entry.get("kid")
    if listed is not None and listed != base64.b64encode(kid_of(certificate)).decode("ascii"):
        raise InputError(f"{where}.kid {listed} does not match its certificate", path=source)
