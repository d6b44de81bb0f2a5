"""Revocation hashes as the EU DCC revocation lists define them, export and verifier-side checks."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from vaxtrust.errors import InputError, UntrustedSigner
from vaxtrust.passport.revocation import (
    BATCH_SIZE,
    Revocation,
    RevocationList,
    country_uci_hash,
    export_revocation_list,
    revocation_document,
    signature_hash,
    uci_hash,
)

NOW = datetime(2026, 3, 1, tzinfo=UTC)
UCI = "URN:UVCI:01:VN:0123456789ABCDEF0123456789ABCDEF"
KID = bytes.fromhex("0011223344556677")
ES256_SIGNATURE = bytes(range(32)) + bytes(range(100, 132))
PS256_SIGNATURE = bytes(range(256))


def _revocation(uci: str = UCI, signature: bytes = ES256_SIGNATURE, days: int = 365) -> Revocation:
    return Revocation(
        uci=uci, country="VN", kid=KID, signature=signature, revoked_at=NOW,
        expires=NOW + timedelta(days=days), reason="record_changed",
    )


def test_hashes_are_the_first_16_bytes_of_sha256_as_the_eu_lists_define() -> None:
    assert uci_hash(UCI) == hashlib.sha256(UCI.encode()).digest()[:16]
    assert country_uci_hash("VN", UCI) == hashlib.sha256(("VN" + UCI).encode()).digest()[:16]
    # ECDSA: r only (first half of r||s), so the same signature with a different s is still caught
    assert signature_hash(ES256_SIGNATURE) == hashlib.sha256(ES256_SIGNATURE[:32]).digest()[:16]
    assert signature_hash(ES256_SIGNATURE[:32] + b"\xff" * 32) == signature_hash(ES256_SIGNATURE)
    # RSA: the whole signature
    assert signature_hash(PS256_SIGNATURE) == hashlib.sha256(PS256_SIGNATURE).digest()[:16]


def test_exported_list_revokes_by_each_hash_type(tmp_path: Path) -> None:
    path = tmp_path / "revocations.json"
    assert export_revocation_list([_revocation()], path, country="VN", now=NOW) == 3
    revoked = RevocationList.load(path, now=NOW)
    assert revoked.is_revoked(uci=UCI, country="VN", signature=ES256_SIGNATURE)
    # each hash type alone is enough
    assert revoked.is_revoked(uci=UCI, country="VN", signature=b"\x01" * 64)
    assert revoked.is_revoked(uci="other", country="XX", signature=ES256_SIGNATURE)
    assert not revoked.is_revoked(uci=UCI + "0", country="VN", signature=b"\x01" * 64)


def test_only_the_chosen_hash_types_are_exported() -> None:
    document = revocation_document([_revocation()], country="VN", now=NOW, hash_types=["SIGNATURE"])
    revoked = RevocationList.from_document(document, now=NOW)
    assert [batch["hashType"] for batch in document["batches"]] == ["SIGNATURE"]
    assert revoked.is_revoked(uci="x", country="VN", signature=ES256_SIGNATURE)
    assert not revoked.is_revoked(uci=UCI, country="VN", signature=b"\x01" * 64)


def test_batches_follow_the_gateway_shape_and_split_at_1000() -> None:
    revocations = [_revocation(uci=f"{UCI[:-4]}{index:04d}") for index in range(BATCH_SIZE + 5)]
    document = revocation_document(revocations, country="VN", now=NOW, hash_types=["UCI"])
    assert [len(batch["entries"]) for batch in document["batches"]] == [BATCH_SIZE, 5]
    batch = document["batches"][0]
    assert set(batch) == {"country", "expires", "kid", "hashType", "entries"}
    assert base64.b64decode(batch["kid"]) == KID
    assert len(base64.b64decode(batch["entries"][0]["hash"])) == 16


def test_entries_of_expired_certificates_are_left_out_and_old_batches_ignored() -> None:
    document = revocation_document(
        [_revocation(days=-1), _revocation(uci="URN:UVCI:01:VN:LIVE", days=10)], country="VN", now=NOW,
    )
    assert {len(batch["entries"]) for batch in document["batches"]} == {1}
    later = RevocationList.from_document(document, now=NOW + timedelta(days=11))
    assert len(later) == 0


def test_broken_revocation_lists_are_input_errors(tmp_path: Path) -> None:
    path = tmp_path / "revocations.json"
    with pytest.raises(InputError, match="not found"):
        RevocationList.load(path, now=NOW)
    document = revocation_document([_revocation()], country="VN", now=NOW)
    document["batches"][0]["hashType"] = "MD5"
    path.write_text(json.dumps(document))
    with pytest.raises(InputError, match=r"batches\[0\]\.hashType 'MD5'"):
        RevocationList.load(path, now=NOW)
    document = revocation_document([_revocation()], country="VN", now=NOW)
    document["batches"][1]["entries"][0]["hash"] = base64.b64encode(b"short").decode()
    path.write_text(json.dumps(document))
    with pytest.raises(InputError, match=r"batches\[1\] has a 5-byte hash"):
        RevocationList.load(path, now=NOW)


def test_a_pinned_verifier_refuses_an_altered_or_unsigned_revocation_list(tmp_path: Path) -> None:
    from vaxtrust.passport import pki
    from vaxtrust.passport.trustlist import sign_document

    csca_key, csca = pki.new_csca(country="VN", common_name="VN CSCA", now=NOW)
    document = revocation_document([_revocation()], country="VN", now=NOW)
    with pytest.raises(UntrustedSigner, match="not signed"):
        RevocationList.from_document(document, now=NOW, pinned_cscas=[csca])
    signed = sign_document(document, csca_key)
    assert RevocationList.from_document(signed, now=NOW, pinned_cscas=[csca]).is_revoked(
        uci=UCI, country="VN", signature=ES256_SIGNATURE)
    signed["batches"] = signed["batches"][1:]  # someone drops the SIGNATURE batch
    with pytest.raises(UntrustedSigner, match="does not verify"):
        RevocationList.from_document(signed, now=NOW, pinned_cscas=[csca])
    path = tmp_path / "revocations.json"
    export_revocation_list([_revocation()], path, country="VN", now=NOW, signing_key=csca_key)
    assert len(RevocationList.load(path, now=NOW, pinned_cscas=[csca])) == 3
