"""Issue → verify round trips, and every specific verification error."""

from __future__ import annotations

import zlib
from datetime import date, timedelta

import cbor2
import pytest

from tests.passport.conftest_core import (
    CORE_NOW,
    TEST_EKU,
    TEST_EKU_TYPO,
    Anchors,
    Revoked,
    make_signer,
)
from vaxtrust.demo.population import sample_identities
from vaxtrust.errors import (
    CertificateError,
    CertificateExpired,
    CertificateRevoked,
    InvalidCertificate,
    SigningKeyError,
    UntrustedSigner,
)
from vaxtrust.passport import Dose, Holder, issue_certificate, verify_certificate
from vaxtrust.passport._hazmat import base45, cose
from vaxtrust.passport.issue import SignedCertificate, issue_certificates
from vaxtrust.passport.payload import UVCI_PATTERN
from vaxtrust.passport.qr import read_qr


@pytest.mark.parametrize("signer_name, alg", [("es256_signer", "ES256"), ("ps256_signer", "PS256")])
def test_issued_certificate_verifies(request, signer_name, alg, holder, doses) -> None:
    signer = request.getfixturevalue(signer_name)
    certificate = issue_certificate(holder, doses, signer, now=CORE_NOW)
    assert certificate.qr_text.startswith("HC1:")
    verified = verify_certificate(certificate.qr_text, Anchors(signer.certificate), now=CORE_NOW)
    assert verified.algorithm == alg
    assert verified.uvci == certificate.uvci
    assert verified.payload == certificate.payload
    assert verified.expires_at - verified.issued_at == timedelta(days=365)


def test_payload_follows_the_vietnamese_passport(holder, doses, es256_signer) -> None:
    payload = issue_certificate(holder, doses, es256_signer, now=CORE_NOW).payload
    assert payload["ver"] == "1.3.0"
    assert payload["nam"] == {"fn": "Nguyễn", "gn": "Thị Thuỷ", "fnt": "NGUYEN", "gnt": "THI<THUY"}
    entry = payload["v"][0]
    # latest dose (Comirnaty after Vaxzevria): dose 2 of a 2-dose course
    assert (entry["mp"], entry["ma"], entry["dn"], entry["sd"]) == ("EU/1/20/1528", "ORG-100030215", 2, 2)
    assert entry["dt"] == "2021-11-03" and entry["co"] == "VN" and entry["tg"] == "840539006"
    assert entry["is"] == "Ministry of Health Viet Nam"
    assert UVCI_PATTERN.match(entry["ci"])


def test_booster_and_single_dose_products(es256_signer) -> None:
    booster = [Dose(date(2021, 8, 1), "EU/1/21/1529"), Dose(date(2021, 10, 1), "EU/1/21/1529"),
               Dose(date(2022, 3, 1), "EU/1/20/1507")]
    entry = issue_certificate(Holder("Lê Văn Tám", "1990"), booster, es256_signer,
                              now=CORE_NOW).payload["v"][0]
    assert (entry["dn"], entry["sd"]) == (3, 3)
    janssen = [Dose(date(2021, 12, 1), "EU/1/20/1525")]
    entry = issue_certificate(Holder("Lê Văn Tám", "1990"), janssen, es256_signer,
                              now=CORE_NOW).payload["v"][0]
    assert (entry["dn"], entry["sd"]) == (1, 1)


@pytest.mark.parametrize("dob", ["1980", "1980-05", "", "1980-05-31"])
def test_partial_dates_of_birth_are_never_completed(dob, doses, es256_signer) -> None:
    certificate = issue_certificate(Holder("Đặng Văn Lâm", dob), doses, es256_signer, now=CORE_NOW)
    assert certificate.payload["dob"] == dob
    verify_certificate(certificate.qr_text, Anchors(es256_signer.certificate), now=CORE_NOW)


def test_register_precision_truncates_the_date() -> None:
    assert Holder.from_register("A B", "1980-01-01", "year").date_of_birth == "1980"
    assert Holder.from_register("A B", "1980-05-01", "month").date_of_birth == "1980-05"


@pytest.mark.parametrize(("dob", "expected"), [("1980-05-01", "1980-05-01"),
                                                ("1980-05", "1980-05"), ("1980", "1980")])
def test_a_register_without_precision_is_read_by_the_form_of_the_date(dob, expected) -> None:
    assert Holder.from_register("A B", dob, None).date_of_birth == expected


@pytest.mark.parametrize("dob", ["01/05/1980", "", "1980-5-1"])
def test_without_precision_a_date_of_another_form_is_refused(dob) -> None:
    with pytest.raises(CertificateError, match="dob_precision"):
        Holder.from_register("A B", dob, None)


@pytest.mark.parametrize("dob", ["1980-00", "80-05-01", "1980-02-30", "1815-01-01", "XX-XX-1963"])
def test_bad_dates_of_birth_are_refused(dob, doses, es256_signer) -> None:
    with pytest.raises(CertificateError, match="dob"):
        issue_certificate(Holder("Đặng Văn Lâm", dob), doses, es256_signer, now=CORE_NOW)


def test_unknown_product_and_duplicate_doses_are_refused(holder, es256_signer) -> None:
    with pytest.raises(CertificateError, match="unknown product"):
        issue_certificate(holder, [Dose(date(2021, 9, 1), "Astra")], es256_signer, now=CORE_NOW)
    same_day = [Dose(date(2021, 9, 1), "EU/1/21/1529")] * 2
    with pytest.raises(CertificateError, match="two doses"):
        issue_certificate(holder, same_day, es256_signer, now=CORE_NOW)
    with pytest.raises(CertificateError, match="no verified dose"):
        issue_certificate(holder, [], es256_signer, now=CORE_NOW)


def test_uvcis_are_unique(holder, doses, es256_signer) -> None:
    ucis = {issue_certificate(holder, doses, es256_signer, now=CORE_NOW).uvci for _ in range(50)}
    assert len(ucis) == 50


def test_signer_must_cover_the_validity(holder, doses) -> None:
    short_lived = make_signer(years=1, valid_from=CORE_NOW - timedelta(days=200))
    with pytest.raises(SigningKeyError, match="expires"):
        issue_certificate(holder, doses, short_lived, now=CORE_NOW)
    issue_certificate(holder, doses, short_lived, now=CORE_NOW, validity=timedelta(days=90))
    with pytest.raises(UntrustedSigner, match="key usage"):
        issue_certificate(holder, doses, make_signer(eku=[TEST_EKU]), now=CORE_NOW)


def test_a_batch_keeps_each_bad_request_in_its_place(holder, doses, es256_signer) -> None:
    unknown_vaccine = [Dose(date(2021, 9, 1), "EU/9/99/9999")]
    issued = issue_certificates([(holder, doses), (holder, unknown_vaccine), (Holder("", "1990"), doses),
                                 (holder, doses[:1])], es256_signer, now=CORE_NOW)
    assert [type(item).__name__ for item in issued] == [
        "SignedCertificate", "CertificateError", "CertificateError", "SignedCertificate"]
    assert "unknown product code 'EU/9/99/9999'" in str(issued[1])
    assert "empty name" in str(issued[2])
    verified = [verify_certificate(item.qr_text, Anchors(es256_signer.certificate), now=CORE_NOW)
                for item in issued if isinstance(item, SignedCertificate)]
    assert [certificate.payload["v"][0]["dn"] for certificate in verified] == [2, 1]
    assert issued[0].uvci != issued[3].uvci  # type: ignore[union-attr]


def test_a_batch_with_an_unusable_signer_raises_for_all(holder, doses) -> None:
    with pytest.raises(UntrustedSigner, match="key usage"):
        issue_certificates([(holder, doses)] * 3, make_signer(eku=[TEST_EKU]), now=CORE_NOW)


def test_qr_text_is_zlib_that_verifiers_inflate_and_no_larger_than_zlibs(es256_signer, ps256_signer) -> None:
    plans = [[Dose(date(2021, 9, 1), "EU/1/21/1529")],
             [Dose(date(2021, 7, 1), "BBIBP-CorV"), Dose(date(2021, 7, 29), "BBIBP-CorV"),
              Dose(date(2022, 1, 5), "EU/1/20/1528")]]
    residents = sample_identities(150, seed=3) + [("Tôn Nữ Hoàng Bảo Ngọc Khánh Linh", "1952")]
    requests = [(Holder(name, dob), plans[index % 2]) for index, (name, dob) in enumerate(residents)]
    for signer in (es256_signer, ps256_signer):
        ours = python_zlib = 0
        for certificate in issue_certificates(requests, signer, now=CORE_NOW):
            assert isinstance(certificate, SignedCertificate)
            compressed = base45.decode(certificate.qr_text.removeprefix("HC1:"))
            assert compressed[0] == 0x78  # verifiers look for the zlib header
            assert zlib.decompress(compressed) == certificate.cose
            ours += len(compressed)
            python_zlib += len(zlib.compress(certificate.cose, 9))
        assert ours <= python_zlib


def test_png_qr_round_trip_through_zxing(holder, doses, es256_signer) -> None:
    certificate = issue_certificate(holder, doses, es256_signer, now=CORE_NOW)
    assert read_qr(certificate.png()) == certificate.qr_text
    assert certificate.svg().lstrip().startswith("<svg")
    verify_certificate(read_qr(certificate.png()), Anchors(es256_signer.certificate), now=CORE_NOW)


def test_pdf_is_one_page_with_the_vietnamese_fields(holder, doses, es256_signer) -> None:
    pdf = issue_certificate(holder, doses, es256_signer, now=CORE_NOW).pdf()
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") >= 1


# --- verification errors ---------------------------------------------------------------------

@pytest.fixture
def issued(holder, doses, es256_signer):
    return issue_certificate(holder, doses, es256_signer, now=CORE_NOW)


def test_expiry_is_judged_at_the_given_clock(issued, es256_signer) -> None:
    trust = Anchors(es256_signer.certificate)
    with pytest.raises(CertificateExpired, match="expired"):
        verify_certificate(issued.qr_text, trust, now=CORE_NOW + timedelta(days=366))
    with pytest.raises(CertificateExpired, match="not valid before"):
        verify_certificate(issued.qr_text, trust, now=CORE_NOW - timedelta(seconds=1))
    verify_certificate(issued.qr_text, trust, now=issued.expires_at)


def test_unknown_or_wrong_signer_is_untrusted(issued, es256_signer) -> None:
    with pytest.raises(UntrustedSigner, match="no trusted signer"):
        verify_certificate(issued.qr_text, Anchors(), now=CORE_NOW)
    other = make_signer()

    class Colliding(Anchors):   # a different key published under the same kid
        def certificates_for(self, kid: bytes):
            return [other.certificate]

    with pytest.raises(UntrustedSigner, match="does not verify"):
        verify_certificate(issued.qr_text, Colliding(), now=CORE_NOW)


def test_every_signer_with_the_kid_is_tried(issued, es256_signer) -> None:
    other = make_signer()

    class Collision(Anchors):
        def certificates_for(self, kid: bytes):
            return [other.certificate, es256_signer.certificate]

    assert verify_certificate(issued.qr_text, Collision(), now=CORE_NOW).signer == es256_signer.certificate


@pytest.mark.parametrize("eku", [[TEST_EKU], [TEST_EKU_TYPO]])
def test_key_usage_excludes_vaccination(holder, doses, eku) -> None:
    signer = make_signer(eku=[])
    certificate = issue_certificate(holder, doses, signer, now=CORE_NOW)
    restricted = make_signer(signer.private_key, eku=eku)
    forged = _resign(certificate.cose, restricted)
    with pytest.raises(UntrustedSigner, match="vaccination"):
        verify_certificate(forged, Anchors(restricted.certificate), now=CORE_NOW)


def test_revoked_certificate(issued, es256_signer) -> None:
    with pytest.raises(CertificateRevoked):
        verify_certificate(issued.qr_text, Anchors(es256_signer.certificate), now=CORE_NOW,
                           revocation=Revoked(issued.uvci))
    verify_certificate(issued.qr_text, Anchors(es256_signer.certificate), now=CORE_NOW,
                       revocation=Revoked("URN:UVCI:01:VN:" + "0" * 32))


def test_schema_is_checked_by_the_payloads_version(es256_signer) -> None:
    claims = _claims({"ver": "1.3.0", "nam": {"fn": "X"}, "dob": "1980",
                      "v": [{"tg": "840539006"}]})
    text = _sign(claims, es256_signer)
    with pytest.raises(InvalidCertificate, match="schema"):
        verify_certificate(text, Anchors(es256_signer.certificate), now=CORE_NOW)


def test_untagged_cose_verifies(issued, es256_signer) -> None:
    untagged = cbor2.dumps(cbor2.loads(issued.cose).value)
    text = "HC1:" + base45.encode(zlib.compress(untagged))
    verify_certificate(text, Anchors(es256_signer.certificate), now=CORE_NOW)


@pytest.mark.parametrize("text, message", [
    ("HC2:6BFOXN", "prefix"),
    ("NCFOXN%TS3DH", "prefix"),
    ("HC1:6BFOX~", "base45"),
    ("HC1:6BFO", "base45"),
    ("HC1:" + base45.encode(b"not zlib"), "zlib"),
    ("HC1:" + base45.encode(zlib.compress(b"\xff\xff")), "cose"),
    ("HC1:" + base45.encode(zlib.compress(cbor2.dumps([1, 2, 3]))), "cose"),
    ("HC1:" + base45.encode(zlib.compress(b"\x00" * 10_000_000)[:-3]), "zlib"),
])
def test_malformed_input_names_the_step(text, message, es256_signer) -> None:
    with pytest.raises(InvalidCertificate, match=message):
        verify_certificate(text, Anchors(es256_signer.certificate), now=CORE_NOW)


def test_zip_bomb_is_bounded(es256_signer) -> None:
    bomb = "HC1:" + base45.encode(zlib.compress(b"\x00" * 5_000_000, 9))
    with pytest.raises(InvalidCertificate, match="zip bomb"):
        verify_certificate(bomb, Anchors(es256_signer.certificate), now=CORE_NOW)


def test_deeply_nested_cbor_is_refused(es256_signer) -> None:
    nested = b"\x81" * 5000 + b"\x00"
    with pytest.raises(InvalidCertificate, match="cose"):
        verify_certificate("HC1:" + base45.encode(zlib.compress(nested)),
                           Anchors(es256_signer.certificate), now=CORE_NOW)


def test_unknown_algorithm_is_refused(issued, es256_signer) -> None:
    message = cose.decode_sign1(issued.cose)
    protected = cbor2.dumps({1: -35, 4: es256_signer.kid})     # ES384
    raw = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, message.payload, message.signature]))
    with pytest.raises(InvalidCertificate, match="unsupported algorithm"):
        verify_certificate("HC1:" + base45.encode(zlib.compress(raw)),
                           Anchors(es256_signer.certificate), now=CORE_NOW)


def test_wrong_key_type_for_algorithm(issued, ps256_signer) -> None:
    # alg says ES256 but the only signer with the kid holds an RSA key
    message = cose.decode_sign1(issued.cose)
    protected = cbor2.dumps({1: -7, 4: ps256_signer.kid})
    raw = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, message.payload, message.signature]))
    with pytest.raises(UntrustedSigner, match="needs an EC P-256 key"):
        verify_certificate("HC1:" + base45.encode(zlib.compress(raw)),
                           Anchors(ps256_signer.certificate), now=CORE_NOW)


# --- helpers ---------------------------------------------------------------------------------

def _claims(payload: dict) -> dict:
    iat = int(CORE_NOW.timestamp())
    return {1: "VN", 6: iat - 60, 4: iat + 86400, -260: {1: payload}}


def _sign(claims: dict, signer) -> str:
    raw = cose.encode_sign1(cbor2.dumps(claims), algorithm=signer.algorithm, kid=signer.kid,
                            sign=signer.sign)
    return "HC1:" + base45.encode(zlib.compress(raw))


def _resign(message_bytes: bytes, signer) -> str:
    return _sign(cbor2.loads(cose.decode_sign1(message_bytes).payload), signer)


def test_qr_is_alphanumeric_with_error_correction_q(issued) -> None:
    from vaxtrust.passport.qr import make_qr

    code = make_qr(issued.qr_text)
    assert (code.mode, code.error) == ("alphanumeric", "Q")


def test_qr_refuses_text_outside_the_alphanumeric_set() -> None:
    from vaxtrust.passport.qr import png

    with pytest.raises(InvalidCertificate, match="alphanumeric"):
        png("HC1:lower case")


@pytest.mark.slow
def test_printed_pdf_qr_scans_back(issued, es256_signer, tmp_path) -> None:
    """Render the PDF page at 150 dpi (poppler's pdftoppm) and read the QR off the 'paper'."""
    import shutil
    import subprocess
    from pathlib import Path

    from tests.conftest import require_service

    if shutil.which("pdftoppm") is None:
        require_service("pdftoppm missing (apt-get install poppler-utils)")
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(issued.pdf())
    subprocess.run(["pdftoppm", "-png", "-r", "150", str(pdf), str(tmp_path / "page")], check=True)
    page = next(Path(tmp_path).glob("page*.png"))
    assert read_qr(page) == issued.qr_text
    verify_certificate(read_qr(page), Anchors(es256_signer.certificate), now=CORE_NOW)
