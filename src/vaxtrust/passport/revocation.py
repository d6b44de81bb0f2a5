"""Revocation of single certificates, as the EU DCC revocation lists define it.

Three hash types, each the first 16 bytes (128 bits) of a SHA-256:

* ``SIGNATURE`` over the COSE signature; for ECDSA over ``r`` only (the first half of the 64-byte
  raw signature), for RSA over the whole signature. Required for new implementations.
* ``UCI`` over the UCI string (UTF-8), exactly as issued.
* ``COUNTRYCODEUCI`` over issuing country code + UCI. The last two are "deprecated but supported".

The exported list groups hashes in batches like the DCC Gateway's ``{country, expires, kid,
hashType, entries: [{hash}]}`` (base64 hashes, at most 1000 per batch). A verifier loads it as a
:class:`RevocationList`, which implements :class:`~vaxtrust.passport.signer.RevocationCheck`.
Like the trust list, the exported list is signed with the CSCA key, so nobody can drop an entry
unnoticed by a verifier that pins the CSCA.
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
from typing import Any, Literal

from cryptography import x509

from vaxtrust.errors import InputError
from vaxtrust.passport.pki import CaKey, PrivateKey

REVOCATION_LIST_FORMAT = "vaxtrust-revocation-list/1"
HashType = Literal["SIGNATURE", "UCI", "COUNTRYCODEUCI"]
HASH_TYPES: tuple[HashType, ...] = ("SIGNATURE", "UCI", "COUNTRYCODEUCI")
HASH_BYTES = 16
BATCH_SIZE = 1000
ES256_SIGNATURE_BYTES = 64  # raw r||s of P-256; PS256 signatures are 256 bytes or more


def signature_hash(signature: bytes) -> bytes:
    """SIGNATURE hash: ECDSA (64-byte r||s) hashes ``r`` only, so a re-encoded ``s`` cannot dodge it."""
    signed = signature[: ES256_SIGNATURE_BYTES // 2] if len(signature) == ES256_SIGNATURE_BYTES else signature
    return hashlib.sha256(signed).digest()[:HASH_BYTES]


def uci_hash(uci: str) -> bytes:
    return hashlib.sha256(uci.encode("utf-8")).digest()[:HASH_BYTES]


def country_uci_hash(country: str, uci: str) -> bytes:
    return hashlib.sha256((country + uci).encode("utf-8")).digest()[:HASH_BYTES]


@dataclass(frozen=True)
class Revocation:
    """One revoked certificate as the issuer knows it."""

    uci: str
    country: str
    kid: bytes
    signature: bytes
    revoked_at: datetime
    expires: datetime  # when the certificate itself expires; the entry may go after that
    reason: str

    def hash(self, hash_type: HashType) -> bytes:
        if hash_type == "SIGNATURE":
            return signature_hash(self.signature)
        if hash_type == "UCI":
            return uci_hash(self.uci)
        return country_uci_hash(self.country, self.uci)


def revocation_document(
    revocations: Iterable[Revocation], *, country: str, now: datetime,
    hash_types: Iterable[HashType] = HASH_TYPES,
) -> dict[str, Any]:
    """The exported list: batches per (kid, hash type), entries of certificates not yet expired."""
    groups: dict[tuple[bytes, HashType], list[Revocation]] = {}
    for revocation in revocations:
        if revocation.expires < now:
            continue  # an expired certificate fails verification anyway
        for hash_type in hash_types:
            if hash_type == "SIGNATURE" and not revocation.signature:
                continue  # a UVCI revoked before its signature was known: listed by UVCI hashes
            groups.setdefault((revocation.kid, hash_type), []).append(revocation)
    batches = []
    for (kid, hash_type), members in sorted(groups.items()):
        members.sort(key=lambda revocation: revocation.uci)
        for start in range(0, len(members), BATCH_SIZE):
            chunk = members[start:start + BATCH_SIZE]
            batches.append({
                "country": country,
                "expires": max(revocation.expires for revocation in chunk).isoformat(),
                "kid": base64.b64encode(kid).decode("ascii"),
                "hashType": hash_type,
                "entries": [
                    {"hash": base64.b64encode(revocation.hash(hash_type)).decode("ascii")}
                    for revocation in chunk
                ],
            })
    return {"format": REVOCATION_LIST_FORMAT, "country": country, "issued_at": now.isoformat(),
            "batches": batches}


def export_revocation_list(
    revocations: Iterable[Revocation], path: Path, *, country: str, now: datetime,
    hash_types: Iterable[HashType] = HASH_TYPES, signing_key: PrivateKey | CaKey | None = None,
) -> int:
    """Write the list to ``path`` (signed when a CSCA ``signing_key`` is given); returns the number
    of batches."""
    from vaxtrust.passport.trustlist import sign_document

    document = revocation_document(revocations, country=country, now=now, hash_types=hash_types)
    if signing_key is not None:
        document = sign_document(document, signing_key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    return len(document["batches"])


class RevocationList:
    """Verifier side: the revoked hashes, by hash type (implements ``RevocationCheck``)."""

    def __init__(self, hashes: dict[HashType, set[bytes]] | None = None) -> None:
        self._hashes: dict[HashType, set[bytes]] = {kind: set() for kind in HASH_TYPES}
        for kind, values in (hashes or {}).items():
            self._hashes[kind] |= values

    def __len__(self) -> int:
        return sum(len(values) for values in self._hashes.values())

    def is_revoked(self, *, uci: str, country: str, signature: bytes) -> bool:
        return (
            signature_hash(signature) in self._hashes["SIGNATURE"]
            or uci_hash(uci) in self._hashes["UCI"]
            or country_uci_hash(country, uci) in self._hashes["COUNTRYCODEUCI"]
        )

    @classmethod
    def load(
        cls, path: Path, *, now: datetime, pinned_cscas: Iterable[x509.Certificate] | None = None,
    ) -> RevocationList:
        """Read an exported list, skipping batches that expired before ``now``; with
        ``pinned_cscas`` the list must be signed by one of them."""
        from vaxtrust.passport.trustlist import read_json_list

        document = read_json_list(path, "revocation list")
        return cls.from_document(document, now=now, source=str(path), pinned_cscas=pinned_cscas)

    @classmethod
    def from_document(
        cls, document: Any, *, now: datetime, source: str = "revocation list",
        pinned_cscas: Iterable[x509.Certificate] | None = None,
    ) -> RevocationList:
        from vaxtrust.passport.trustlist import check_list_signature

        if not isinstance(document, dict) or document.get("format") != REVOCATION_LIST_FORMAT:
            raise InputError(f"not a {REVOCATION_LIST_FORMAT} document", path=source)
        if pinned_cscas is not None:
            check_list_signature(document, list(pinned_cscas), required=True, source=source)
        revoked = cls()
        for index, batch in enumerate(document.get("batches", [])):
            where = f"batches[{index}]"
            hash_type = batch.get("hashType")
            if hash_type not in HASH_TYPES:
                raise InputError(f"{where}.hashType {hash_type!r} is not one of {HASH_TYPES}", path=source)
            try:
                expires = datetime.fromisoformat(batch["expires"])
            except (KeyError, TypeError, ValueError):
                raise InputError(f"{where}.expires is not an ISO date-time", path=source) from None
            if expires < now:
                continue
            revoked._hashes[hash_type] |= {_hash(entry, source, where) for entry in batch.get("entries", [])}
        return revoked


def _hash(entry: Any, source: str, where: str) -> bytes:
    try:
        value = base64.b64decode(entry["hash"], validate=True)
    except (KeyError, TypeError, binascii.Error):
        raise InputError(f"{where} has an entry without a base64 hash", path=source) from None
    if len(value) != HASH_BYTES:
        raise InputError(f"{where} has a {len(value)}-byte hash; expected {HASH_BYTES}", path=source)
    return value
