"""Payload rules: names as written plus ICAO split, products, UVCI, schema before signing."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from vaxtrust.errors import CertificateError, InvalidCertificate
from vaxtrust.passport import schemas
from vaxtrust.passport.payload import Dose, Holder, build_payload, new_uvci, standard_name


@pytest.mark.parametrize("written, nam", [
    ("Nguyễn Thị Thuỷ", {"fn": "Nguyễn", "gn": "Thị Thuỷ", "fnt": "NGUYEN", "gnt": "THI<THUY"}),
    ("Đỗ Văn Đức", {"fn": "Đỗ", "gn": "Văn Đức", "fnt": "DO", "gnt": "VAN<DUC"}),
    ("Tôn Nữ Minh Châu", {"fn": "Tôn Nữ", "gn": "Minh Châu", "fnt": "TON<NU", "gnt": "MINH<CHAU"}),
    ("  Lê   Văn  Tám ", {"fn": "Lê", "gn": "Văn Tám", "fnt": "LE", "gnt": "VAN<TAM"}),
    ("Hà", {"fn": "Hà", "fnt": "HA"}),
])
def test_names_as_written_and_transliterated(written, nam) -> None:
    assert standard_name(written).as_payload() == nam


def test_decomposed_input_is_stored_nfc() -> None:
    name = standard_name(unicodedata.normalize("NFD", "Trần Thị Ánh"))
    assert name.family == "Trần" and unicodedata.is_normalized("NFC", name.given)
    assert name.given_icao == "THI<ANH"


def test_empty_name_is_refused() -> None:
    with pytest.raises(CertificateError, match="full_name"):
        standard_name("   ")


def test_products_by_code_or_key() -> None:
    by_code = build_payload(Holder("Lê Văn Tám", "1990"), [Dose(date(2021, 9, 1), "Abdala")])
    by_key = build_payload(Holder("Lê Văn Tám", "1990"), [Dose(date(2021, 9, 1), "abdala")])
    assert by_code["v"][0]["mp"] == by_key["v"][0]["mp"] == "Abdala"
    assert (by_code["v"][0]["dn"], by_code["v"][0]["sd"]) == (1, 3)   # Abdala: 3-dose course


def test_uvci_format_and_explicit_uvci() -> None:
    uvci = new_uvci()
    assert uvci.startswith("URN:UVCI:01:VN:") and len(uvci) == 15 + 32 and uvci[15:].isupper()
    payload = build_payload(Holder("Lê Văn Tám", "1990"), [Dose(date(2021, 9, 1), "Abdala")], uvci=uvci)
    assert payload["v"][0]["ci"] == uvci
    with pytest.raises(CertificateError, match="uvci"):
        build_payload(Holder("Lê Văn Tám", "1990"), [Dose(date(2021, 9, 1), "Abdala")],
                      uvci="URN:UVCI:01:VN:abc")


def test_issuer_text_is_bounded() -> None:
    with pytest.raises(CertificateError, match="issuer"):
        build_payload(Holder("Lê Văn Tám", "1990"), [Dose(date(2021, 9, 1), "Abdala")], issuer="x" * 81)


def test_schema_versions_and_extra_rules() -> None:
    assert schemas.schema_version_for("1.3.0") == "1.3.0"
    assert schemas.schema_version_for("1.0.4") == "1.0.1"     # unknown patch: newest of its minor
    with pytest.raises(InvalidCertificate, match="unknown payload version"):
        schemas.schema_version_for("2.0.0")
    payload = build_payload(Holder("Lê Văn Tám", "1990"), [Dose(date(2021, 9, 1), "Abdala")])
    assert schemas.schema_errors(payload) == []
    assert any("exactly one" in e for e in schemas.schema_errors({**payload, "t": payload["v"]}))
    # a partial date of birth is valid from 1.1.0 on, not in 1.0.x
    assert schemas.schema_errors({**payload, "ver": "1.0.0"}) != []


@pytest.mark.shared_data
def test_fast_and_reference_validators_agree_on_every_testdata_payload() -> None:
    """The compiled validator (speed) and jsonschema (messages) must give one verdict."""
    import json

    from tests.conftest import DCC_TESTDATA, require_shared

    testdata = require_shared(DCC_TESTDATA)
    checked = 0
    for path in sorted(testdata.rglob("*.json")):
        content = json.loads(path.read_text("utf-8"))
        payload = content.get("JSON") if isinstance(content, dict) else None
        if not isinstance(payload, dict):
            continue
        for version in ("1.0.1", "1.2.1", "1.3.0", "1.3.3"):
            fast = schemas._is_valid(payload, version)
            reference = not list(schemas._validator(version).iter_errors(payload))
            assert fast == reference, (path, version)
            checked += 1
    assert checked > 1000


def _with_entry(payload: dict, **changes: object) -> dict:
    return {**payload, "v": [{**payload["v"][0], **changes}]}


@pytest.mark.parametrize("change", [
    lambda p: _with_entry(p, dn=True),                       # a bool is not an integer
    lambda p: _with_entry(p, dn=float("nan")),
    lambda p: _with_entry(p, co="vn"),
    lambda p: _with_entry(p, dt="2021-02-30"),               # date format, not just a pattern
    lambda p: {**p, "ver": "1.3.0\n"},                       # "$" must not allow a trailing newline
    lambda p: {**p, "dob": "1980\n"},
    lambda p: {**p, "nam": {**p["nam"], "fnt": "NGUYEN\n"}},
    lambda p: {**p, "nam": {**p["nam"], "fn": "ễ" * 81}},    # maxLength counts characters
    lambda p: {**p, "dob": b"1980"},                         # not JSON at all
    lambda p: {**p, 7: "x"},
])
def test_fast_validator_rejects_near_misses(change) -> None:
    """Its "valid" is final (only failures go to jsonschema), so it must be at least as strict."""
    payload = change(build_payload(Holder("Nguyễn Thị Thuỷ", "1980-05-17"),
                                   [Dose(date(2021, 9, 1), "EU/1/21/1529")]))
    assert not schemas._is_valid(payload, "1.3.0")
