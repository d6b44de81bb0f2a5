"""``vaxtrust passport show|verify|conformance`` as a user runs them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import DCC_TESTDATA, VN_SAMPLE, require_shared
from vaxtrust.cli import app


@pytest.fixture
def vn_text() -> str:
    return (VN_SAMPLE / "VAC_VN_hc1.txt").read_text().strip()


def test_show_prints_the_eleven_fields(vn_text) -> None:
    result = CliRunner().invoke(app, ["passport", "show", vn_text])
    assert result.exit_code == 0, result.output
    for text in ("NOT VERIFIED", "Họ và tên", "Nguyễn Bảo Duy", "1983-10-10", "Vaxzevria",
                 "Mã số của chứng nhận", "2/2"):
        assert text in result.output


def test_show_reads_a_qr_image(vn_text) -> None:
    result = CliRunner().invoke(app, ["passport", "show", "--json", "--image",
                                      str(VN_SAMPLE / "VAC_VN.png")])
    assert result.exit_code == 0, result.output
    assert '"fnt": "NGUYEN"' in result.output


def test_show_refuses_garbage_with_one_error(vn_text) -> None:
    result = CliRunner().invoke(app, ["passport", "show", "HC1:~~~"])
    assert result.exit_code != 0
    assert "base45" in str(result.exception)


def test_conformance_needs_a_directory(tmp_path) -> None:
    result = CliRunner().invoke(app, ["passport", "conformance", str(tmp_path / "missing")])
    assert result.exit_code != 0
    assert "not a directory" in str(result.exception)


def test_issue_then_verify_with_the_key_store_and_trust_list(keystore, tmp_path) -> None:
    from tests.passport.conftest_keys import CSCA_PASSPHRASE, KEY_PASSPHRASE, KEYS_NOW, passphrase
    from vaxtrust.passport.trustlist import export_trust_list

    trust_path = tmp_path / "trust.json"
    export_trust_list(keystore, trust_path, now=KEYS_NOW,
                      csca_passphrase=passphrase(CSCA_PASSPHRASE))
    holder_file = tmp_path / "holder.json"
    holder_file.write_text(
        '{"full_name": "Trần Thị Ánh", "date_of_birth": "1979-02", "doses": ['
        '{"vaccinated_on": "2021-08-20", "product": "BBIBP-CorV"},'
        '{"vaccinated_on": "2021-09-17", "product": "BBIBP-CorV"}]}', encoding="utf-8")
    out = tmp_path / "out"
    runner = CliRunner()
    issued = runner.invoke(app, [
        "passport", "issue", str(holder_file), "--keystore", str(keystore.directory),
        "--signer", "vn-national", "--out", str(out), "--now", KEYS_NOW.isoformat()],
        env={"VAXTRUST_KEY_PASSPHRASE": KEY_PASSPHRASE})
    assert issued.exit_code == 0, issued.output
    assert {p.name for p in out.iterdir()} == {"qr.txt", "qr.png", "qr.svg", "certificate.pdf"}
    qr_text = (out / "qr.txt").read_text().strip()
    clock = "2026-06-01T00:00:00Z"
    pin = ["--csca", str(keystore.directory / "csca" / "csca.pem")]
    by_text = runner.invoke(app, ["passport", "verify", qr_text, "--trust-list", str(trust_path),
                                  "--now", clock, *pin])
    assert by_text.exit_code == 0, by_text.output
    assert "VALID" in by_text.output and "Trần Thị Ánh" in by_text.output and "1979-02" in by_text.output
    assert "UNPINNED" not in by_text.output
    by_image = runner.invoke(app, ["passport", "verify", "--image", str(out / "qr.png"),
                                   "--trust-list", str(trust_path), "--now", clock, "--json", *pin])
    assert by_image.exit_code == 0, by_image.output
    assert '"gnt": "THI<ANH"' in by_image.output and '"pinned": true' in by_image.output
    expired = runner.invoke(app, ["passport", "verify", qr_text, "--trust-list", str(trust_path),
                                  "--now", "2027-06-01T00:00:00Z", *pin])
    assert expired.exit_code != 0 and "expired" in str(expired.exception)


def test_verify_with_a_pinned_csca_needs_a_list_that_csca_signed(keystore, tmp_path) -> None:
    """A border verifier pins Viet Nam's CSCA: an unsigned or foreign-signed trust list is refused."""
    from tests.passport.conftest_keys import CSCA_PASSPHRASE, KEY_PASSPHRASE, KEYS_NOW, passphrase
    from vaxtrust.passport import Dose, Holder, issue_certificate, pki
    from vaxtrust.passport.trustlist import export_trust_list

    signer = keystore.load_signer("vn-national", now=KEYS_NOW, passphrase=passphrase(KEY_PASSPHRASE))
    qr_text = issue_certificate(Holder("Lê Văn Tám", "1960"), [Dose(date(2021, 9, 1), "EU/1/21/1529")],
                                signer, now=KEYS_NOW).qr_text
    csca_pem = keystore.directory / "csca" / "csca.pem"
    signed, unsigned = tmp_path / "signed.json", tmp_path / "unsigned.json"
    export_trust_list(keystore, signed, now=KEYS_NOW, csca_passphrase=passphrase(CSCA_PASSPHRASE))
    export_trust_list(keystore, unsigned, now=KEYS_NOW)
    _, stranger = pki.new_csca(country="VN", common_name="not the ministry", now=KEYS_NOW)
    pki.write_certificate(tmp_path / "stranger.pem", stranger)

    def verify(trust: Path, pem: Path) -> object:
        return CliRunner().invoke(app, ["passport", "verify", qr_text, "--trust-list", str(trust),
                                        "--csca", str(pem), "--now", KEYS_NOW.isoformat()])

    good = verify(signed, csca_pem)
    assert good.exit_code == 0, good.output
    assert "VALID" in good.output
    assert "not signed" in str(verify(unsigned, csca_pem).exception)
    assert "does not verify with a trusted CSCA" in str(verify(signed, tmp_path / "stranger.pem").exception)
    assert "not a PEM X.509 certificate" in str(verify(signed, signed).exception)


def _impostor(tmp_path: Path) -> tuple[str, Path]:
    """A key store that calls itself Viet Nam's CSCA, a signed trust list, and a certificate it
    issued for an invented person: what anyone can make."""
    from tests.passport.conftest_keys import KEYS_NOW, passphrase
    from vaxtrust.passport import Dose, Holder, issue_certificate
    from vaxtrust.passport.keystore import KeyStore
    from vaxtrust.passport.trustlist import export_trust_list

    secret = passphrase("impostor passphrase")
    fake = KeyStore.create(tmp_path / "fake-keys", country="VN", common_name="VN CSCA",
                           organization="Ministry of Health", passphrase=secret, now=KEYS_NOW)
    fake.new_signer("vn-national", csca_passphrase=secret, key_passphrase=secret, now=KEYS_NOW)
    signer = fake.load_signer("vn-national", now=KEYS_NOW, passphrase=secret)
    qr_text = issue_certificate(Holder("Người Không Có Thật", "1990-01-01"),
                                [Dose(date(2021, 9, 1), "EU/1/21/1529")], signer,
                                now=KEYS_NOW).qr_text
    trust = tmp_path / "fake-trust.json"
    export_trust_list(fake, trust, now=KEYS_NOW, csca_passphrase=secret)
    return qr_text, trust


def test_a_self_made_vn_csca_is_refused_when_pinned_to_the_real_one(keystore, tmp_path) -> None:
    from tests.passport.conftest_keys import KEYS_NOW

    qr_text, fake_trust = _impostor(tmp_path)
    real_csca = keystore.directory / "csca" / "csca.pem"
    result = CliRunner().invoke(app, ["passport", "verify", qr_text, "--trust-list", str(fake_trust),
                                      "--now", KEYS_NOW.isoformat(), "--csca", str(real_csca)])
    assert result.exit_code != 0 and "VALID" not in result.output
    assert "does not verify with a trusted CSCA" in str(result.exception)
    # pinned through the environment, configured once: the same refusal
    by_env = CliRunner().invoke(app, ["passport", "verify", qr_text, "--trust-list",
                                      str(fake_trust), "--now", KEYS_NOW.isoformat()],
                                env={"VAXTRUST_PINNED_CSCA": str(real_csca)})
    assert by_env.exit_code != 0 and "trusted CSCA" in str(by_env.exception)


def test_verify_without_a_pinned_csca_refuses_to_run(tmp_path, monkeypatch) -> None:
    from tests.passport.conftest_keys import KEYS_NOW

    monkeypatch.delenv("VAXTRUST_PINNED_CSCA", raising=False)
    qr_text, fake_trust = _impostor(tmp_path)
    result = CliRunner().invoke(app, ["passport", "verify", qr_text, "--trust-list", str(fake_trust),
                                      "--now", KEYS_NOW.isoformat()])
    assert result.exit_code != 0 and "VALID" not in result.output
    assert "no CSCA is pinned" in str(result.exception)


def test_insecure_unpinned_says_unpinned_on_every_answer(tmp_path, monkeypatch) -> None:
    from tests.passport.conftest_keys import KEYS_NOW

    monkeypatch.delenv("VAXTRUST_PINNED_CSCA", raising=False)
    qr_text, fake_trust = _impostor(tmp_path)
    base = ["passport", "verify", qr_text, "--trust-list", str(fake_trust), "--insecure-unpinned"]
    answers = {
        "valid": CliRunner().invoke(app, [*base, "--now", KEYS_NOW.isoformat()]),
        "json": CliRunner().invoke(app, [*base, "--now", KEYS_NOW.isoformat(), "--json"]),
        "expired": CliRunner().invoke(app, [*base, "--now", "2040-01-01T00:00:00Z"]),
    }
    assert answers["valid"].exit_code == 0 and "UNPINNED" in answers["valid"].output
    assert '"pinned": false' in answers["json"].output and "UNPINNED" in answers["json"].output
    assert answers["expired"].exit_code != 0
    assert str(answers["expired"].exception).startswith("UNPINNED")


def test_verify_needs_text_or_image(tmp_path) -> None:
    result = CliRunner().invoke(app, ["passport", "verify", "--trust-list", str(tmp_path / "t.json"),
                                      "--insecure-unpinned"])
    assert result.exit_code != 0
    assert "either the HC1 text" in str(result.exception)


@pytest.mark.shared_data
def test_show_prints_a_foreign_test_certificate() -> None:
    import json

    testdata = require_shared(DCC_TESTDATA / "common" / "2DCode" / "raw" / "DGC3.json")
    prefix = json.loads(testdata.read_text("utf-8"))["PREFIX"]
    result = CliRunner().invoke(app, ["passport", "show", prefix])
    assert result.exit_code == 0, result.output
    assert "Musterfrau-Gößinger Gabriele" in result.output and "Austria" in result.output


def test_show_prints_a_name_that_looks_like_markup_literally(es256_signer, doses) -> None:
    """A QR anyone can make: its name must not restyle the screen or fake a VALID line."""
    from tests.passport.conftest_core import CORE_NOW
    from vaxtrust.passport import Holder, issue_certificate

    holder = Holder("Nguyễn [/bold] [bold green]HỢP LỆ[/]", "1985-07-14")
    certificate = issue_certificate(holder, doses, es256_signer, now=CORE_NOW)
    result = CliRunner().invoke(app, ["passport", "show", certificate.qr_text])
    assert result.exit_code == 0, result.output
    assert "[bold green]HỢP LỆ[/]" in result.output and "[/bold]" in result.output
