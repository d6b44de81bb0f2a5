"""Outside check of our crypto: certificates we issue, decoded and verified by other people's code.

Base45 by the ``base45`` package, zlib by the standard library, COSE_Sign1 and its signature by
``pycose`` (with keys built from the signer certificate's raw numbers), CWT by plain ``cbor2``.
Nothing from ``vaxtrust.passport._hazmat`` or ``verify`` takes part, so a bug shared by our
encoder and our verifier cannot hide here.
"""

from __future__ import annotations

import zlib
from typing import Any

import base45
import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pycose.algorithms import Es256, Ps256
from pycose.headers import KID, Algorithm
from pycose.keys import CoseKey, EC2Key, RSAKey
from pycose.keys.curves import P256
from pycose.messages import Sign1Message

from tests.passport.conftest_core import CORE_NOW, make_signer
from vaxtrust.passport import Dose, Holder, LocalKeySigner, issue_certificate, kid_of


def _cose_key(signer: LocalKeySigner) -> CoseKey:
    """The signer certificate's public key as a COSE key, from its numbers (no shared code path)."""
    public = signer.certificate.public_key()
    if isinstance(public, ec.EllipticCurvePublicKey):
        numbers = public.public_numbers()
        return EC2Key(crv=P256, x=numbers.x.to_bytes(32, "big"), y=numbers.y.to_bytes(32, "big"))
    assert isinstance(public, rsa.RSAPublicKey)
    rsa_numbers = public.public_numbers()
    return RSAKey(n=rsa_numbers.n.to_bytes((rsa_numbers.n.bit_length() + 7) // 8, "big"),
                  e=rsa_numbers.e.to_bytes(3, "big"))


def _cose_bytes(qr_text: str) -> bytes:
    assert qr_text.startswith("HC1:")
    compressed = base45.b45decode(qr_text.removeprefix("HC1:"))
    assert compressed[0] == 0x78, "zlib header: verifiers look for 0x78 to detect compression"
    return zlib.decompress(compressed)


def _decode(qr_text: str) -> Sign1Message:
    raw = _cose_bytes(qr_text)
    assert raw[0] == 0xD2, "COSE_Sign1 must carry CBOR tag 18"
    # pycose 1.1's own Sign1Message.decode wants the tagged array as a list and a dict, but cbor2 6
    # decodes tagged content as immutable (tuple, frozendict): past the one-byte tag, pycose parses.
    message = Sign1Message.from_cose_obj(cbor2.loads(raw[1:]), allow_unknown_attributes=False)
    assert isinstance(message, Sign1Message)
    return message


@pytest.mark.parametrize(("signer_fixture", "algorithm"),
                         [("es256_signer", Es256), ("ps256_signer", Ps256)])
def test_pycose_verifies_what_we_issue(signer_fixture: str, algorithm: Any, holder: Holder,
                                       doses: list[Dose], request: pytest.FixtureRequest) -> None:
    signer: LocalKeySigner = request.getfixturevalue(signer_fixture)
    issued = issue_certificate(holder, doses, signer, now=CORE_NOW)

    message = _decode(issued.qr_text)
    assert message.phdr[Algorithm] is algorithm
    assert message.phdr[KID] == kid_of(signer.certificate) == issued.kid
    assert message.signature == issued.signature
    message.key = _cose_key(signer)
    assert message.verify_signature()

    claims = cbor2.loads(message.payload)
    assert claims[1] == "VN"
    assert claims[6] == int(issued.issued_at.timestamp()) == int(CORE_NOW.timestamp())
    assert claims[4] == int(issued.expires_at.timestamp())
    assert claims[-260] == {1: issued.payload}
    assert claims[-260][1]["nam"] == {"fn": "Nguyễn", "fnt": "NGUYEN", "gn": "Thị Thuỷ",
                                      "gnt": "THI<THUY"}


@pytest.mark.parametrize("signer_fixture", ["es256_signer", "ps256_signer"])
def test_pycose_rejects_a_changed_payload(signer_fixture: str, holder: Holder, doses: list[Dose],
                                          request: pytest.FixtureRequest) -> None:
    signer: LocalKeySigner = request.getfixturevalue(signer_fixture)
    message = _decode(issue_certificate(holder, doses, signer, now=CORE_NOW).qr_text)
    message.key = _cose_key(signer)
    message.payload = message.payload.replace(b"NGUYEN", b"NGUYEM")
    assert not message.verify_signature()


def test_pycose_rejects_another_signers_key(es256_signer: LocalKeySigner, holder: Holder,
                                            doses: list[Dose]) -> None:
    message = _decode(issue_certificate(holder, doses, es256_signer, now=CORE_NOW).qr_text)
    message.key = _cose_key(make_signer())
    assert not message.verify_signature()
