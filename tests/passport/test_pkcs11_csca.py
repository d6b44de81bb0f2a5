"""The CSCA key in a PKCS#11 token (SoftHSM2): it certifies signers and signs the trust and
revocation lists without ever leaving the token, and verifiers pinned to it accept what it signed."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from typer.testing import CliRunner

from tests.passport.conftest_keys import (
    KEY_PASSPHRASE,
    KEYS_NOW,
    SoftToken,
    assert_sealed_in_token,
    passphrase,
)
from vaxtrust.cli import app
from vaxtrust.errors import ConfigError, SigningKeyError
from vaxtrust.passport import Dose, Holder, issue_certificate, pki
from vaxtrust.passport.keystore import KeyStore, TokenKey
from vaxtrust.passport.revocation import Revocation, RevocationList, export_revocation_list
from vaxtrust.passport.trustlist import TrustList, export_trust_list

pytestmark = pytest.mark.hsm


def _token_keystore(tmp_path: Path, token: SoftToken, label: str, key_type: str = "ec") -> KeyStore:
    """A key store whose CSCA key is generated in the token under ``label`` (one label per test:
    the token lives for the whole session), with one national signer whose key is in a file."""
    store = KeyStore.create(
        tmp_path / "keys", country="VN", common_name="VN CSCA token", organization="Ministry of Health",
        now=KEYS_NOW, token=TokenKey(token.module, token.label, token.pin, label),
        key_type=key_type,  # type: ignore[arg-type]
    )
    store.new_signer("vn-national", csca_passphrase=passphrase(token.pin), now=KEYS_NOW,
                     key_passphrase=passphrase(KEY_PASSPHRASE))
    return store


@pytest.mark.parametrize("key_type", ["ec", "rsa"])
def test_a_signer_certified_by_the_token_csca_verifies_with_cryptography(
    tmp_path: Path, soft_token: SoftToken, key_type: str,
) -> None:
    store = _token_keystore(tmp_path, soft_token, f"csca-verify-{key_type}", key_type)
    assert not (store.directory / "csca" / "csca.key.p8").exists()
    reopened = KeyStore.open(store.directory)
    assert (reopened.csca.backend, reopened.csca.key_label) == ("pkcs11", f"csca-verify-{key_type}")
    csca, dsc = reopened.csca_certificate, reopened.certificate_of("vn-national")
    expected = ec.EllipticCurvePublicKey if key_type == "ec" else rsa.RSAPublicKey
    assert isinstance(csca.public_key(), expected)
    csca.verify_directly_issued_by(csca)  # self-signed in the token
    dsc.verify_directly_issued_by(csca)   # raises unless the token's key signed the DSC
    assert pki.issued_by(dsc, csca)
    pki.check_document_signer(dsc, now=KEYS_NOW)


def test_the_token_csca_key_cannot_leave_the_token(tmp_path: Path, soft_token: SoftToken) -> None:
    _token_keystore(tmp_path, soft_token, "csca-sealed")
    assert_sealed_in_token(soft_token, "csca-sealed")


def test_lists_signed_in_the_token_pass_a_verifier_pinned_to_that_csca(
    tmp_path: Path, soft_token: SoftToken,
) -> None:
    store = _token_keystore(tmp_path, soft_token, "csca-lists")
    trust = tmp_path / "trust.json"
    export_trust_list(store, trust, now=KEYS_NOW, csca_passphrase=passphrase(soft_token.pin))
    csca_pem = store.directory / "csca" / "csca.pem"
    assert len(TrustList.load(trust, pinned_cscas=[store.csca_certificate])) == 1
    signer = store.load_signer("vn-national", now=KEYS_NOW, passphrase=passphrase(KEY_PASSPHRASE))
    issued = issue_certificate(Holder("Phạm Thị Thử", "1988-04-02"),
                               [Dose(date(2021, 9, 1), "EU/1/21/1529")], signer, now=KEYS_NOW)
    verified = CliRunner().invoke(app, ["passport", "verify", issued.qr_text, "--trust-list", str(trust),
                                        "--csca", str(csca_pem), "--now", KEYS_NOW.isoformat()])
    assert verified.exit_code == 0, verified.output
    assert "VALID" in verified.output and "UNPINNED" not in verified.output

    revocations = tmp_path / "revocations.json"
    revoked = Revocation(uci=issued.uvci, country="VN", kid=signer.kid, signature=issued.signature,
                         revoked_at=KEYS_NOW, expires=issued.expires_at, reason="test")
    export_revocation_list([revoked], revocations, country="VN", now=KEYS_NOW,
                           signing_key=store.csca_key(passphrase(soft_token.pin)))
    loaded = RevocationList.load(revocations, now=KEYS_NOW, pinned_cscas=[store.csca_certificate])
    assert loaded.is_revoked(uci=issued.uvci, country="VN", signature=issued.signature)


def test_a_wrong_pin_for_the_token_csca_is_one_line(tmp_path: Path, soft_token: SoftToken) -> None:
    store = _token_keystore(tmp_path, soft_token, "csca-wrong-pin")
    with pytest.raises(SigningKeyError, match=f"wrong PIN for token '{soft_token.label}'"):
        store.csca_key(passphrase("9999-9999"))
    env = {**os.environ, "VAXTRUST_CSCA_PIN": "9999-9999"}
    proc = subprocess.run(
        [sys.executable, "-m", "vaxtrust", "passport", "trust-list", "export", "--keystore",
         str(store.directory), "--out", str(tmp_path / "trust.json")],
        capture_output=True, text=True, env=env, check=False,
    )
    assert proc.returncode != 0
    assert f"wrong PIN for token '{soft_token.label}'" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "trust.json").exists()


def test_init_csca_in_a_token_from_the_command_line_with_a_pin_file(
    tmp_path: Path, soft_token: SoftToken,
) -> None:
    keys, pin_file = tmp_path / "keys", tmp_path / "csca.pin"
    pin_file.write_text(soft_token.pin + "\n")
    pin_file.chmod(0o644)
    init = ["passport", "keys", "init-csca", "--keystore", str(keys), "--csca-token", soft_token.label,
            "--pkcs11-module", str(soft_token.module), "--key-label", "csca-cli",
            "--csca-pin-file", str(pin_file)]
    refused = CliRunner().invoke(app, init, env={})
    assert isinstance(refused.exception, ConfigError) and "chmod 600" in str(refused.exception)
    assert not keys.exists()
    pin_file.chmod(0o600)
    made = CliRunner().invoke(app, init, env={})
    assert made.exit_code == 0, made.output
    assert "key in token" in made.output
    env = {"VAXTRUST_CSCA_PIN": soft_token.pin, "VAXTRUST_KEY_PASSPHRASE": KEY_PASSPHRASE}
    signer = CliRunner().invoke(app, ["passport", "keys", "new-signer", "vn-national", "--keystore",
                                      str(keys)], env=env)
    assert signer.exit_code == 0, signer.output
    store = KeyStore.open(keys)
    assert pki.issued_by(store.certificate_of("vn-national"), store.csca_certificate)
    exported = CliRunner().invoke(app, ["passport", "trust-list", "export", "--keystore", str(keys),
                                        "--out", str(tmp_path / "trust.json")], env=env)
    assert exported.exit_code == 0 and "signed with the CSCA key" in exported.output
    TrustList.load(tmp_path / "trust.json", pinned_cscas=[store.csca_certificate])
    no_pin = CliRunner().invoke(app, ["passport", "trust-list", "export", "--keystore", str(keys),
                                      "--out", str(tmp_path / "again.json")], env={})
    assert isinstance(no_pin.exception, ConfigError) and "VAXTRUST_CSCA_PIN" in str(no_pin.exception)
