"""Regenerate the vaxtrust-issued conformance vectors in dgc-testdata format (synthetic people only).

    .venv/bin/python -m tests.vectors.passport.make_vectors

The files are committed: they pin that certificates issued by this version keep verifying in every
later version. Signatures are randomised, so a re-run changes the bytes, never the expected flags.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import cbor2
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.passport.conftest_core import TEST_EKU_TYPO, make_signer
from vaxtrust.passport import Dose, Holder, LocalKeySigner, SignedCertificate, issue_certificate
from vaxtrust.passport._hazmat import base45, cose
from vaxtrust.passport.conformance import dcc_test_file

OUT = Path(__file__).resolve().parent / "VN" / "2DCode" / "raw"
ISSUED = datetime(2022, 5, 2, 8, 30, tzinfo=UTC)
CLOCK = ISSUED + timedelta(days=30)


def _file(name: str, signer: LocalKeySigner, holder: Holder, doses: list[Dose], *,
          clock: datetime = CLOCK, description: str, **expected_false: Any) -> None:
    certificate = issue_certificate(holder, doses, signer, now=ISSUED)
    content = dcc_test_file(certificate, signer.certificate, clock=clock, description=description)
    for flag in expected_false:
        content["EXPECTEDRESULTS"][flag] = False
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.json").write_text(json.dumps(content, ensure_ascii=False, indent=1) + "\n",
                                      encoding="utf-8")


def main() -> None:
    valid_from = ISSUED - timedelta(days=10)
    es256 = make_signer(valid_from=valid_from, years=3)
    ps256 = make_signer(rsa.generate_private_key(public_exponent=65537, key_size=2048),
                        valid_from=valid_from, years=3)
    two_doses = [Dose(date(2021, 8, 20), "BBIBP-CorV"), Dose(date(2021, 9, 17), "BBIBP-CorV")]
    _file("1-es256", es256, Holder("Nguyễn Thị Thuỷ", "1985-07-14"), two_doses,
          description="ES256, Vero Cell 2/2, full date of birth")
    _file("2-ps256", ps256, Holder("Đặng Văn Lâm", "1979"),
          [Dose(date(2021, 12, 1), "EU/1/20/1525")], description="PS256, Janssen 1/1, year of birth only")
    _file("3-compound-surname", es256, Holder("Tôn Nữ Minh Châu", "1990-02"),
          [*two_doses, Dose(date(2022, 3, 1), "EU/1/20/1528")],
          description="booster 3/3, compound surname, year-month of birth")
    _file("4-expired", es256, Holder("Lê Văn Tám", "1961-01-01"), two_doses,
          clock=ISSUED + timedelta(days=366), description="validation clock after exp",
          EXPECTEDEXPIRATIONCHECK=False)
    _test_only_signer(es256, valid_from)
    _tampered(es256)


def _write(name: str, certificate: SignedCertificate, signer: LocalKeySigner, *, description: str,
           **expected_false: Any) -> None:
    content = dcc_test_file(certificate, signer.certificate, clock=CLOCK, description=description)
    for flag in expected_false:
        content["EXPECTEDRESULTS"][flag] = False
    (OUT / f"{name}.json").write_text(json.dumps(content, ensure_ascii=False, indent=1) + "\n",
                                      encoding="utf-8")


def _rebuilt(certificate: SignedCertificate, claims: dict[Any, Any], message: bytes) -> SignedCertificate:
    text = "HC1:" + base45.encode(zlib.compress(message, 9))
    return replace(certificate, qr_text=text, payload=claims[-260][1], cose=message)


def _test_only_signer(signer: LocalKeySigner, valid_from: datetime) -> None:
    """A DSC whose EKU (the draft's typo OID) allows test certificates only signs a vaccination."""
    restricted = make_signer(signer.private_key, eku=[TEST_EKU_TYPO], valid_from=valid_from, years=3)
    certificate = issue_certificate(Holder("Phạm Thị Hoa", "1970"),
                                    [Dose(date(2021, 10, 5), "EU/1/20/1507")], signer, now=ISSUED)
    claims = cbor2.loads(cbor2.loads(certificate.cose).value[2])
    message = cose.encode_sign1(cbor2.dumps(claims), algorithm=restricted.algorithm,
                                kid=restricted.kid, sign=restricted.sign)
    _write("5-test-only-signer", _rebuilt(certificate, claims, message), restricted,
           description="DSC limited to test certificates (draft OID typo)", EXPECTEDKEYUSAGE=False)


def _tampered(signer: LocalKeySigner) -> None:
    """Payload changed after signing: the signature must fail, decoding must not."""
    certificate = issue_certificate(Holder("Võ Văn Kiệt", "1988"),
                                    [Dose(date(2021, 10, 5), "EU/1/20/1507")], signer, now=ISSUED)
    protected, unprotected, payload, signature = cbor2.loads(certificate.cose).value
    claims = cbor2.loads(payload)
    claims[-260][1]["v"][0].update(dn=3, sd=3)
    forged = cbor2.dumps(cbor2.CBORTag(18, [protected, unprotected, cbor2.dumps(claims), signature]))
    _write("6-tampered", _rebuilt(certificate, claims, forged), signer,
           description="payload altered after signing (dn 3)", EXPECTEDVERIFY=False)


if __name__ == "__main__":
    main()
