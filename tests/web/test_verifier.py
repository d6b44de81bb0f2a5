"""Verifier pages and API: one clear verdict with its reason, the holder, the published lists."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient

from tests.web.fixtures import Keys, csrf_of
from vaxtrust.errors import (
    CertificateExpired,
    CertificateRevoked,
    InvalidCertificate,
    UntrustedSigner,
)
from vaxtrust.web.verifier import reason_of


def test_a_valid_qr_image_shows_valid_with_the_holder(client: TestClient, keys: Keys) -> None:
    token = csrf_of(client)
    page = client.post("/verify", data={"csrf_token": token},
                       files={"image": ("qr.png", keys.valid_png, "image/png")})
    assert page.status_code == 200
    assert "VALID" in page.text and "NOT VALID" not in page.text
    assert "Nguyễn Văn An" in page.text and "1990-02-03" in page.text and "2/2" in page.text


def test_the_verdict_is_vietnamese_by_default(client: TestClient, keys: Keys) -> None:
    client.cookies.set("vt_lang", "vi")
    token = csrf_of(client)
    page = client.post("/verify", data={"csrf_token": token, "text": keys.revoked_qr})
    assert "KHÔNG HỢP LỆ" in page.text and "Đã thu hồi" in page.text


@pytest.mark.parametrize(("which", "reason"), [
    ("revoked_qr", "revoked"), ("expired_qr", "expired"), ("foreign_qr", "unknown_key")])
def test_api_gives_the_reason_of_a_refusal(client: TestClient, keys: Keys, which: str,
                                           reason: str) -> None:
    answer = client.post("/api/v1/verify", json={"text": getattr(keys, which)})
    assert answer.status_code == 200
    assert answer.json()["valid"] is False and answer.json()["reason"] == reason
    assert answer.json()["holder"] == ""


def test_api_valid_answer_names_the_holder(client: TestClient, keys: Keys) -> None:
    data = client.post("/api/v1/verify", json={"text": keys.valid_qr}).json()
    assert data["valid"] is True and data["reason"] == "valid"
    assert data["holder"] == "Nguyễn Văn An" and data["date_of_birth"] == "1990-02-03"
    assert data["doses"] == "2/2" and data["unpinned"] is False


def test_text_that_is_no_certificate_is_not_valid(client: TestClient) -> None:
    data = client.post("/api/v1/verify", json={"text": "HC1:NOT-BASE45"}).json()
    assert data == data | {"valid": False, "reason": "not_a_certificate"}
    assert client.post("/api/v1/verify", json={"text": "hello"}).json()["reason"] == \
        "not_a_certificate"


def test_uploads_are_checked_by_content(client: TestClient, keys: Keys) -> None:
    from PIL import Image

    token = csrf_of(client)
    fake = client.post("/verify", data={"csrf_token": token},
                       files={"image": ("qr.png", b"%PDF-1.4 not an image", "image/png")})
    assert fake.status_code == 200 and "No readable QR code" in fake.text
    blank = io.BytesIO()
    Image.new("L", (64, 64), 255).save(blank, format="BMP")
    bmp = client.post("/api/v1/verify/image",
                      files={"image": ("x.png", blank.getvalue(), "image/png")}).json()
    assert bmp["valid"] is False and bmp["reason"] == "no_qr"
    huge = client.post("/api/v1/verify/image",
                       files={"image": ("big.png", b"\x89PNG" + b"0" * 2_100_000, "image/png")})
    assert huge.status_code == 413 and huge.json()["ok"] is False


def test_the_lists_are_downloadable(client: TestClient, keys: Keys) -> None:
    for path, source in (("/verify/trust-list.json", keys.trust_list),
                         ("/api/v1/trust-list", keys.trust_list),
                         ("/verify/revocation-list.json", keys.revocation_list),
                         ("/api/v1/revocation-list", keys.revocation_list)):
        answer = client.get(path)
        assert answer.status_code == 200 and answer.content == source.read_bytes()


def test_reason_codes_of_the_library_errors() -> None:
    assert reason_of(UntrustedSigner("signature does not verify with any of the 1 signer(s)")) \
        == "bad_signature"
    assert reason_of(UntrustedSigner("no trusted signer with kid 00")) == "unknown_key"
    assert reason_of(CertificateExpired("expired")) == "expired"
    assert reason_of(CertificateRevoked("revoked")) == "revoked"
    assert reason_of(InvalidCertificate("qr: no readable QR code in the image")) == "no_qr"
    assert reason_of(InvalidCertificate("prefix: expected 'HC1:'")) == "not_a_certificate"


def test_an_unpinned_trust_list_is_refused_unless_asked(keys: Keys) -> None:
    from vaxtrust.errors import ConfigError
    from vaxtrust.web.verifier import Verifier

    with pytest.raises(ConfigError, match="pinned CSCA"):
        Verifier(keys.trust_list, None, [], unpinned=False)
    verdict = Verifier(keys.trust_list, None, [], unpinned=True).verify_text(keys.valid_qr)
    assert verdict.valid and verdict.unpinned
