"""Passport core: the cost of each step of issuance and verification, QR/PDF rendering, conformance.

Complements ``bench_passport.py`` (signing and full issue/verify rates against raw cryptography) by
splitting the time: where a microsecond goes when a province signs a million certificates.

    .venv/bin/python benchmarks/bench_passport_core.py [--seconds 1]
"""

from __future__ import annotations

import argparse
import time
import timeit
import zlib
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import cbor2
import deflate
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from vaxtrust.passport import (
    Dose,
    Holder,
    LocalKeySigner,
    issue_certificate,
    kid_of,
    schemas,
    verify,
)
from vaxtrust.passport._hazmat import base45, cose
from vaxtrust.passport.conformance import run_directory
from vaxtrust.passport.payload import build_payload
from vaxtrust.passport.qr import read_qr

NOW = datetime(2022, 5, 2, 8, 30, tzinfo=UTC)
HOLDER = Holder("Nguyễn Thị Thuỷ Tiên", "1980-05-17")
DOSES = [Dose(date(2021, 8, 2), "EU/1/21/1529"), Dose(date(2021, 10, 25), "EU/1/21/1529")]
TESTDATA = Path(__file__).resolve().parents[1].parent / "shared" / "dcc-testdata"


def rate(action: Callable[[], object], seconds: float) -> float:
    for _ in range(5):
        action()
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        action()
        count += 1
    return count / elapsed


def signer() -> LocalKeySigner:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "bench DSC")])
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(1)
                   .not_valid_before(NOW - timedelta(days=1)).not_valid_after(NOW + timedelta(days=800))
                   .sign(key, hashes.SHA256()))
    return LocalKeySigner(key, certificate)


class _Trust:
    def __init__(self, certificate: x509.Certificate) -> None:
        self.kid, self.certificate = kid_of(certificate), certificate

    def certificates_for(self, kid: bytes) -> list[x509.Certificate]:
        return [self.certificate] if kid == self.kid else []


def in_pipeline_costs(es256: LocalKeySigner) -> dict[str, float]:
    """µs each step adds inside the issuance pipeline: the pipeline minus the pipeline without it.

    A step in a tight loop of its own keeps its code and tables in the CPU caches; between the other
    steps it costs two to three times more (the signature included), which is why the step figures
    above do not add up to ``issue_certificate``. Min of 9 runs of 1,000, garbage collector off.
    """
    payload = build_payload(HOLDER, DOSES)
    message = issue_certificate(HOLDER, DOSES, es256, now=NOW).cose
    compressed = bytes(deflate.zlib_compress(message, 9))

    def pipeline(skip: str = "") -> str:
        body = payload if skip == "payload" else build_payload(HOLDER, DOSES)
        claims = cbor2.dumps({1: "VN", 6: 1651480200, 4: 1683016200, -260: {1: body}})
        sign = (lambda _: b"\x01" * 64) if skip == "sign" else es256.sign
        signed, _ = cose.sign1_with_signature(claims, algorithm=es256.algorithm, kid=es256.kid,
                                              sign=sign)
        packed = compressed if skip == "zlib" else bytes(deflate.zlib_compress(signed, 9))
        return "HC1:" + ("" if skip == "base45" else base45.encode(packed))

    def cost(skip: str = "") -> float:
        return min(timeit.repeat(lambda: pipeline(skip), number=1000, repeat=9)) * 1000

    whole = cost()
    return {"whole pipeline": whole} | {step: whole - cost(step)
                                        for step in ("payload", "sign", "zlib", "base45")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=1.0)
    seconds = parser.parse_args().seconds
    es256 = signer()
    certificate = issue_certificate(HOLDER, DOSES, es256, now=NOW)
    compressed = base45.decode(certificate.qr_text[4:])
    png = certificate.png()
    trust = _Trust(es256.certificate)
    steps: list[tuple[str, Callable[[], object]]] = [
        ("payload (names, codes, schema)", lambda: build_payload(HOLDER, DOSES)),
        ("schema validation alone (jsonschema-rs)", lambda: schemas.validate(certificate.payload, "1.3.0")),
        ("ES256 sign via Signer", lambda: es256.sign(b"x" * 330)),
        ("zlib compress (libdeflate, level 9)", lambda: deflate.zlib_compress(certificate.cose, 9)),
        ("zlib compress (Python zlib, level 9)", lambda: zlib.compress(certificate.cose, 9)),
        ("Base45 encode", lambda: base45.encode(compressed)),
        ("Base45 decode", lambda: base45.decode(certificate.qr_text[4:])),
        ("issue_certificate (HC1 text)", lambda: issue_certificate(HOLDER, DOSES, es256, now=NOW)),
        ("decode only (no trust)", lambda: verify.decode(certificate.qr_text)),
        ("verify_certificate", lambda: verify.verify_certificate(certificate.qr_text, trust, now=NOW)),
        ("QR PNG (segno)", certificate.png),
        ("QR SVG (segno)", certificate.svg),
        ("QR read (zxing-cpp)", lambda: read_qr(png)),
        ("PDF page (fpdf2)", certificate.pdf),
    ]
    print(f"passport core step costs ({seconds:g} s per figure, one process, single thread)")
    print("| step | per second | µs each |")
    print("| --- | ---: | ---: |")
    for name, action in steps:
        per_second = rate(action, seconds)
        print(f"| {name} | {per_second:,.0f} | {1e6 / per_second:,.0f} |")
    print("\nin-pipeline cost of each issuance step (µs; pipeline minus pipeline without the step)")
    print(" | ".join(f"{name} {micros:,.0f}" for name, micros in in_pipeline_costs(es256).items()))
    if TESTDATA.is_dir():
        start = time.perf_counter()
        report = run_directory(TESTDATA)
        elapsed = time.perf_counter() - start
        print(f"\nconformance run: {len(report.files)} files, {elapsed:.2f} s "
              f"({len(report.files) / elapsed:,.0f} files/s, includes {sum(1 for f in report.files for r in f.results if r.flag == 'EXPECTEDPICTUREDECODE')} QR image decodes)")


if __name__ == "__main__":
    main()
