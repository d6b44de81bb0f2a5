"""The key store: several signers per province/facility, rotation, withdrawal, loading signers."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest

from tests.passport.conftest_keys import (
    CSCA_PASSPHRASE,
    KEY_PASSPHRASE,
    KEYS_NOW,
    passphrase,
    verify_cose_signature,
)
from vaxtrust.errors import CertificateExpired, ConfigError, SigningKeyError
from vaxtrust.passport import pki
from vaxtrust.passport.keystore import KeyStore
from vaxtrust.passport.signer import COSE_ES256, COSE_PS256, kid_of

MESSAGE = b"Signature1 Sig_structure bytes"


def _new(store: KeyStore, name: str, **scope: object) -> None:
    store.new_signer(
        name, csca_passphrase=passphrase(CSCA_PASSPHRASE), key_passphrase=passphrase(KEY_PASSPHRASE),
        now=KEYS_NOW, **scope,  # type: ignore[arg-type]
    )


def test_file_signer_signs_es256_that_its_certificate_verifies(keystore: KeyStore) -> None:
    signer = keystore.load_signer("vn-national", now=KEYS_NOW, passphrase=passphrase(KEY_PASSPHRASE))
    assert signer.algorithm == COSE_ES256
    assert signer.kid == kid_of(keystore.certificate_of("vn-national"))
    assert signer.kid.hex() == keystore.entry("vn-national").kid
    verify_cose_signature(signer.certificate, MESSAGE, signer.sign(MESSAGE))


def test_rsa_signer_signs_ps256(keystore: KeyStore) -> None:
    keystore.new_signer(
        "hcm-rsa", csca_passphrase=passphrase(CSCA_PASSPHRASE),
        key_passphrase=passphrase(KEY_PASSPHRASE), now=KEYS_NOW, key_type="rsa", province="79",
    )
    signer = keystore.load_signer("hcm-rsa", now=KEYS_NOW, passphrase=passphrase(KEY_PASSPHRASE))
    assert signer.algorithm == COSE_PS256
    assert keystore.entry("hcm-rsa").algorithm == "PS256"
    verify_cose_signature(signer.certificate, MESSAGE, signer.sign(MESSAGE))


def test_store_survives_reopening(keystore: KeyStore) -> None:
    _new(keystore, "hanoi", province="01")
    reopened = KeyStore.open(keystore.directory)
    assert [entry.name for entry in reopened.signers()] == ["vn-national", "hanoi"]
    assert reopened.country == "VN"


def test_a_second_store_in_the_same_directory_is_refused(keystore: KeyStore) -> None:
    with pytest.raises(ConfigError, match="already holds a key store"):
        KeyStore.create(
            keystore.directory, country="VN", common_name="again", now=KEYS_NOW,
            passphrase=passphrase(CSCA_PASSPHRASE),
        )


def test_opening_a_directory_without_a_store_says_how_to_make_one(tmp_path: object) -> None:
    from pathlib import Path

    with pytest.raises(ConfigError, match="init-csca"):
        KeyStore.open(Path(str(tmp_path)) / "nothing")


def test_signers_per_province_and_facility_are_picked_by_narrowest_scope(keystore: KeyStore) -> None:
    _new(keystore, "hanoi", province="01")
    _new(keystore, "bach-mai", province="01", facility="BV-BACHMAI")
    assert keystore.signer_for(province="01", facility="BV-BACHMAI").name == "bach-mai"
    assert keystore.signer_for(province="01", facility="TYT-OTHER").name == "hanoi"
    assert keystore.signer_for(province="79").name == "vn-national"


def test_without_any_matching_signer_the_error_names_the_scope(tmp_path: object) -> None:
    from pathlib import Path

    store = KeyStore.create(
        Path(str(tmp_path)) / "k", country="VN", common_name="c", now=KEYS_NOW,
        passphrase=passphrase(CSCA_PASSPHRASE),
    )
    _new(store, "hanoi", province="01")
    with pytest.raises(ConfigError, match="province 79"):
        store.signer_for(province="79")


def test_rotation_retires_the_old_signer_of_the_scope(keystore: KeyStore) -> None:
    _new(keystore, "hanoi-2026", province="01")
    with pytest.raises(ConfigError, match="rotate with --replaces hanoi-2026"):
        _new(keystore, "hanoi-2027", province="01")
    _new(keystore, "hanoi-2027", province="01", replaces="hanoi-2026")
    assert keystore.entry("hanoi-2026").status == "retired"
    assert keystore.entry("hanoi-2027").status == "active"
    assert keystore.entry("hanoi-2027").replaces == "hanoi-2026"
    assert keystore.signer_for(province="01").name == "hanoi-2027"


def test_rotation_must_stay_in_scope_and_names_are_never_reused(keystore: KeyStore) -> None:
    _new(keystore, "hanoi", province="01")
    with pytest.raises(ConfigError, match="same scope"):
        _new(keystore, "hcm", province="79", replaces="hanoi")
    with pytest.raises(ConfigError, match="exists already"):
        _new(keystore, "hanoi", province="02")
    with pytest.raises(ConfigError, match="letters, digits"):
        _new(keystore, "../escape", province="02")


def test_wrong_csca_passphrase_refuses_a_new_signer(keystore: KeyStore) -> None:
    with pytest.raises(SigningKeyError, match="wrong passphrase"):
        keystore.new_signer(
            "hanoi", csca_passphrase=passphrase("not the CSCA passphrase"),
            key_passphrase=passphrase(KEY_PASSPHRASE), now=KEYS_NOW, province="01",
        )
    assert [entry.name for entry in keystore.signers()] == ["vn-national"]


def test_loading_a_signer_checks_passphrase_expiry_and_withdrawal(keystore: KeyStore) -> None:
    with pytest.raises(SigningKeyError, match="wrong passphrase"):
        keystore.load_signer("vn-national", now=KEYS_NOW, passphrase=passphrase("wrong passphrase"))
    with pytest.raises(SigningKeyError, match="a passphrase is needed"):
        keystore.load_signer("vn-national", now=KEYS_NOW)
    with pytest.raises(CertificateExpired):
        keystore.load_signer(
            "vn-national", now=KEYS_NOW + pki.SIGNER_VALIDITY + timedelta(days=1),
            passphrase=passphrase(KEY_PASSPHRASE),
        )
    keystore.withdraw("vn-national")
    with pytest.raises(SigningKeyError, match="withdrawn"):
        keystore.load_signer("vn-national", now=KEYS_NOW, passphrase=passphrase(KEY_PASSPHRASE))


def test_a_swapped_key_file_is_detected(keystore: KeyStore) -> None:
    _new(keystore, "hanoi", province="01")
    signers = keystore.directory / "signers"
    shutil.copyfile(signers / "hanoi.key.p8", signers / "vn-national.key.p8")
    with pytest.raises(SigningKeyError, match="does not belong to its certificate"):
        keystore.load_signer("vn-national", now=KEYS_NOW, passphrase=passphrase(KEY_PASSPHRASE))


def test_unknown_signer_is_a_config_error(keystore: KeyStore) -> None:
    with pytest.raises(ConfigError, match="no signer named 'nobody'"):
        keystore.load_signer("nobody", now=KEYS_NOW)


def test_a_damaged_manifest_is_a_config_error(keystore: KeyStore) -> None:
    manifest = keystore.directory / "keystore.json"
    manifest.write_text(manifest.read_text().replace('"kid"', '"kid_typo"'))
    with pytest.raises(ConfigError, match="damaged"):
        KeyStore.open(keystore.directory)
