"""Base45 and COSE against outside vectors (RFC 9285, Viet Nam's test certificate), plus fuzzing."""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import VN_SAMPLE
from tests.passport.conftest_core import Anchors
from vaxtrust.errors import CertificateError, InvalidCertificate
from vaxtrust.passport import verify
from vaxtrust.passport._hazmat import DecodeError, base45, cose


@pytest.mark.parametrize("data, text", [
    (b"AB", "BB8"), (b"Hello!!", "%69 VD92EX0"), (b"base-45", "UJCLQE7W581"), (b"ietf!", "QED8WEX0"),
    (b"", ""),
])
def test_base45_rfc9285_examples(data, text) -> None:
    assert base45.encode(data) == text
    assert base45.decode(text) == data


@pytest.mark.parametrize("text", ["GGW", "ZZZZZZ", "A", "1234", "abc", "BB8\n"])
def test_base45_rejects_invalid_text(text) -> None:
    with pytest.raises(DecodeError):
        base45.decode(text)


@given(st.binary(max_size=300))
def test_base45_round_trip(data: bytes) -> None:
    assert base45.decode(base45.encode(data)) == data


@given(st.binary(max_size=70_000), st.binary(max_size=300), st.binary(min_size=64, max_size=64))
def test_cose_written_by_hand_is_what_cbor2_writes(payload: bytes, kid: bytes, signature: bytes) -> None:
    protected = cose.protected_header(cose.ES256, kid)
    assert cose.sig_structure(protected, payload) == cbor2.dumps(["Signature1", protected, b"", payload])
    message, _ = cose.sign1_with_signature(payload, algorithm=cose.ES256, kid=kid, sign=lambda _: signature)
    assert message == cbor2.dumps(cbor2.CBORTag(cose.TAG_SIGN1, [protected, {}, payload, signature]))


@given(st.lists(st.binary(max_size=40), max_size=8))
def test_base45_of_a_batch_is_each_blob_on_its_own(blobs: list[bytes]) -> None:
    assert base45.encode_many(blobs) == [base45.encode(blob) for blob in blobs]
    assert [base45.decode(text) for text in base45.encode_many(blobs)] == blobs


@pytest.fixture(scope="module")
def vn_text() -> str:
    return (VN_SAMPLE / "VAC_VN_hc1.txt").read_text().strip()


def test_viet_nam_test_certificate_decodes(vn_text) -> None:
    expected = json.loads((VN_SAMPLE / "VAC_VN_decoded.json").read_text())
    decoded = verify.decode(vn_text)
    assert decoded.message.algorithm == cose.PS256
    assert decoded.message.kid == bytes.fromhex("f30da46716f7882d")
    assert decoded.message.tags == (18,)
    assert len(decoded.message.signature) == 256
    assert decoded.payload == expected["cwt_payload"]["-260"]["1"]
    assert verify.validity(decoded) == (datetime(2022, 4, 14, 15, 38, 7, tzinfo=UTC),
                                        datetime(2025, 1, 30, tzinfo=UTC))
    fields = {f.number: f.value for f in
              __import__("vaxtrust.passport.fields", fromlist=["x"]).certificate_fields(
                  decoded.payload, issuing_country=decoded.issuer_country)}
    assert fields[1] == "Nguyễn Bảo Duy" and fields[2] == "1983-10-10" and fields[3] == "Viet Nam"
    assert fields[7] == "2/2" and fields[9] == "Vaxzevria"
    assert fields[11] == "URN:UVCI:01:VN:FFFE3D31FABD035899134A9D3BAE9BCF"


def test_viet_nam_certificate_is_untrusted_without_its_signer(vn_text) -> None:
    with pytest.raises(CertificateError, match="no trusted signer with kid f30da46716f7882d"):
        verify.verify_certificate(vn_text, Anchors(), now=datetime(2022, 5, 1, tzinfo=UTC))


def test_viet_nam_qr_image_reads(vn_text) -> None:
    from vaxtrust.passport.qr import read_qr

    assert read_qr(VN_SAMPLE / "VAC_VN.png") == vn_text


def test_double_tagged_cose_decodes(vn_text) -> None:
    raw = zlib.decompress(base45.decode(vn_text[4:]))
    double = cbor2.dumps(cbor2.CBORTag(61, cbor2.loads(raw)))
    assert cose.decode_sign1(double).tags == (61, 18)


# --- fuzzing: every hostile input gives a specific error, never a crash or a hang ------------

_NOW = datetime(2022, 5, 1, tzinfo=UTC)


def _must_fail_cleanly(text: str) -> None:
    try:
        verify.verify_certificate(text, Anchors(), now=_NOW)
    except CertificateError:
        return
    raise AssertionError("hostile input verified")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_fuzz_arbitrary_text(text: str) -> None:
    _must_fail_cleanly(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=base45.ALPHABET, max_size=400))
def test_fuzz_base45_text(text: str) -> None:
    _must_fail_cleanly("HC1:" + text)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_fuzz_compressed_bytes(data: bytes) -> None:
    _must_fail_cleanly("HC1:" + base45.encode(zlib.compress(data)))


_cbor_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.binary(max_size=40)
    | st.text(max_size=20) | st.floats(allow_nan=False),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.integers(-300, 300) | st.text(max_size=5), children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(_cbor_values, _cbor_values, st.sampled_from([None, 18, 61, 98]))
def test_fuzz_cose_like_structures(protected, payload, tag) -> None:
    body = [cbor2.dumps(protected), {4: b"12345678"}, cbor2.dumps(payload), b"\x00" * 64]
    item = cbor2.CBORTag(tag, body) if tag else body
    _must_fail_cleanly("HC1:" + base45.encode(zlib.compress(cbor2.dumps(item))))


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=200), st.integers(0, 400))
def test_fuzz_mutated_real_certificate(noise: bytes, position: int) -> None:
    text = (VN_SAMPLE / "VAC_VN_hc1.txt").read_text().strip()
    raw = bytearray(zlib.decompress(base45.decode(text[4:])))
    raw[position:position + len(noise)] = noise
    _must_fail_cleanly("HC1:" + base45.encode(zlib.compress(bytes(raw))))


@pytest.mark.parametrize("header", [b"\x9b\xff\xff\xff\xff\xff\xff\xff\xff",   # huge array length
                                    b"\x5b\x00\x00\x00\xff\xff\xff\xff\xff",   # huge byte string
                                    b"\xbf" * 2000])                           # nested indefinite maps
def test_oversized_cbor_declarations(header: bytes) -> None:
    with pytest.raises(InvalidCertificate):
        verify.decode("HC1:" + base45.encode(zlib.compress(header)))


@pytest.mark.slow
@settings(max_examples=5000, deadline=None)
@given(st.one_of(st.text(max_size=600), st.text(alphabet=base45.ALPHABET, max_size=1200).map("HC1:".__add__),
                 st.binary(max_size=800).map(lambda b: "HC1:" + base45.encode(zlib.compress(b)))))
def test_fuzz_long_run(text: str) -> None:
    _must_fail_cleanly(text)
