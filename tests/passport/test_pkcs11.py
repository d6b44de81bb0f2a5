"""Signers whose key lives in a PKCS#11 token (SoftHSM2): the key never leaves it, errors are specific."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.passport.conftest_keys import (
    CSCA_PASSPHRASE,
    KEYS_NOW,
    SoftToken,
    assert_sealed_in_token,
    passphrase,
    verify_cose_signature,
)
from vaxtrust.errors import SigningKeyError
from vaxtrust.passport.keystore import KeyStore, TokenKey
from vaxtrust.passport.pkcs11 import Pkcs11Signer, generate_token_key
from vaxtrust.passport.signer import COSE_ES256, COSE_PS256

pytestmark = pytest.mark.hsm
MESSAGE = b"Signature1 Sig_structure bytes"


def _token_signer(store: KeyStore, token: SoftToken, name: str, key_type: str = "ec") -> None:
    store.new_signer(
        name, csca_passphrase=passphrase(CSCA_PASSPHRASE), now=KEYS_NOW, key_type=key_type,  # type: ignore[arg-type]
        token=TokenKey(token.module, token.label, token.pin), province=name,
    )


def test_es256_signer_in_the_token(keystore: KeyStore, soft_token: SoftToken) -> None:
    _token_signer(keystore, soft_token, "hsm-ec")
    entry = keystore.entry("hsm-ec")
    assert (entry.backend, entry.token_label, entry.key_label) == ("pkcs11", soft_token.label, "hsm-ec")
    assert not (keystore.directory / "signers" / "hsm-ec.key.p8").exists()
    signer = keystore.load_signer("hsm-ec", now=KEYS_NOW, pin=soft_token.pin)
    assert isinstance(signer, Pkcs11Signer)
    with signer:
        assert signer.algorithm == COSE_ES256
        signature = signer.sign(MESSAGE)
        verify_cose_signature(signer.certificate, MESSAGE, signature)
        assert signer.sign(MESSAGE) != signature  # ECDSA is randomised in the token


def test_ps256_signer_in_the_token(keystore: KeyStore, soft_token: SoftToken) -> None:
    _token_signer(keystore, soft_token, "hsm-rsa", key_type="rsa")
    with keystore.load_signer("hsm-rsa", now=KEYS_NOW, pin=soft_token.pin) as signer:  # type: ignore[attr-defined]
        assert signer.algorithm == COSE_PS256
        verify_cose_signature(signer.certificate, MESSAGE, signer.sign(MESSAGE))


def test_the_private_key_cannot_be_read_out_of_the_token(keystore: KeyStore, soft_token: SoftToken) -> None:
    _token_signer(keystore, soft_token, "hsm-sealed")
    assert_sealed_in_token(soft_token, "hsm-sealed")


def test_a_key_label_is_never_generated_twice(soft_token: SoftToken) -> None:
    generate_token_key(
        module=soft_token.module, token_label=soft_token.label, pin=soft_token.pin,
        key_label="hsm-once", key_type="ec",
    )
    with pytest.raises(SigningKeyError, match="already holds a key labelled 'hsm-once'"):
        generate_token_key(
            module=soft_token.module, token_label=soft_token.label, pin=soft_token.pin,
            key_label="hsm-once", key_type="ec",
        )


@pytest.mark.parametrize(
    ("module", "label", "pin", "message"),
    [
        (Path("/nonexistent/libpkcs11.so"), None, None, "module .* not found"),
        (None, "no-such-token", None, "no token labelled 'no-such-token'"),
        (None, None, "0000-0000", "wrong PIN"),
        (None, None, "", "no PIN given"),
    ],
    ids=["missing-module", "missing-token", "wrong-pin", "missing-pin"],
)
def test_token_problems_are_signing_key_errors(
    keystore: KeyStore, soft_token: SoftToken, module: Path | None, label: str | None,
    pin: str | None, message: str,
) -> None:
    name = f"hsm-errors-{len(message)}"  # the token lives for the session: one label per case
    _token_signer(keystore, soft_token, name)
    with pytest.raises(SigningKeyError, match=message):
        Pkcs11Signer(
            module=module or soft_token.module, token_label=label or soft_token.label,
            key_label=name, pin=soft_token.pin if pin is None else pin,
            certificate=keystore.certificate_of(name),
        )


def test_missing_key_and_key_of_another_certificate(keystore: KeyStore, soft_token: SoftToken) -> None:
    _token_signer(keystore, soft_token, "hsm-a")
    _token_signer(keystore, soft_token, "hsm-b")
    with pytest.raises(SigningKeyError, match="no key pair labelled 'absent'"):
        Pkcs11Signer(module=soft_token.module, token_label=soft_token.label, key_label="absent",
                     pin=soft_token.pin, certificate=keystore.certificate_of("hsm-a"))
    with pytest.raises(SigningKeyError, match="does not belong to the signer certificate"):
        Pkcs11Signer(module=soft_token.module, token_label=soft_token.label, key_label="hsm-b",
                     pin=soft_token.pin, certificate=keystore.certificate_of("hsm-a"))


def test_loading_a_token_signer_without_pin_says_so(keystore: KeyStore, soft_token: SoftToken) -> None:
    _token_signer(keystore, soft_token, "hsm-nopin")
    with pytest.raises(SigningKeyError, match="VAXTRUST_PKCS11_PIN"):
        keystore.load_signer("hsm-nopin", now=KEYS_NOW)
