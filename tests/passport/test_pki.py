"""CSCA and document-signer certificates, encrypted key files, and the checks a signer must pass."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from tests.passport.conftest_keys import (
    KEYS_NOW,
    odd_signer_certificate,
    passphrase,
)
from vaxtrust.errors import CertificateExpired, SigningKeyError, UntrustedSigner
from vaxtrust.passport import keyusage, pki
from vaxtrust.passport.keystore import KeyStore
from vaxtrust.passport.signer import LocalKeySigner

VACCINATION_EKU = "1.3.6.1.4.1.1847.2021.1.2"


def _csca() -> tuple[pki.PrivateKey, x509.Certificate]:
    return pki.new_csca(country="VN", common_name="VN CSCA", now=KEYS_NOW)


def test_csca_is_a_self_signed_country_ca() -> None:
    _, csca = _csca()
    assert csca.subject == csca.issuer
    assert csca.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "VN"
    constraints = csca.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca and constraints.path_length == 0
    assert csca.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    assert pki.issued_by(csca, csca)


def test_csca_refuses_a_country_that_is_not_alpha_2() -> None:
    with pytest.raises(SigningKeyError, match="alpha-2"):
        pki.new_csca(country="VNM", common_name="x", now=KEYS_NOW)


def test_document_signer_follows_the_hcert_profile() -> None:
    csca_key, csca = _csca()
    signer_key = ec.generate_private_key(ec.SECP256R1())
    dsc = pki.new_document_signer(
        csca_key=csca_key, csca_certificate=csca, public_key=signer_key.public_key(),
        common_name="VN DSC Ha Noi", now=KEYS_NOW,
    )
    eku = dsc.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert [oid.dotted_string for oid in eku] == [VACCINATION_EKU]
    aki = dsc.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = csca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    assert not dsc.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert dsc.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "VN"
    assert pki.issued_by(dsc, csca)
    assert keyusage.allows(dsc, "v") and not keyusage.allows(dsc, "t")
    pki.check_document_signer(dsc, now=KEYS_NOW + timedelta(days=30))


def test_document_signer_never_outlives_its_csca() -> None:
    csca_key, csca = pki.new_csca(
        country="VN", common_name="short CSCA", now=KEYS_NOW, validity=timedelta(days=100)
    )
    dsc = pki.new_document_signer(
        csca_key=csca_key, csca_certificate=csca,
        public_key=ec.generate_private_key(ec.SECP256R1()).public_key(),
        common_name="DSC", now=KEYS_NOW,
    )
    assert dsc.not_valid_after_utc == csca.not_valid_after_utc


def test_document_signer_refuses_a_mismatched_csca_key() -> None:
    _, csca = _csca()
    other_key, _ = _csca()
    with pytest.raises(SigningKeyError, match="does not belong"):
        pki.new_document_signer(
            csca_key=other_key, csca_certificate=csca,
            public_key=ec.generate_private_key(ec.SECP256R1()).public_key(),
            common_name="DSC", now=KEYS_NOW,
        )


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (ec.generate_private_key(ec.SECP384R1()), "P-256"),
        (rsa.generate_private_key(public_exponent=65537, key_size=1024), "2048"),
        (ed25519.Ed25519PrivateKey.generate(), "unsupported key type"),
    ],
    ids=["p384", "rsa1024", "ed25519"],
)
def test_wrong_key_types_are_refused(key: object, reason: str) -> None:
    public_key = key.public_key()  # type: ignore[attr-defined]
    with pytest.raises(SigningKeyError, match=reason):
        pki.check_signing_key(public_key)


def test_local_signer_refuses_a_p384_key() -> None:
    _, csca = _csca()
    with pytest.raises(SigningKeyError, match="P-256"):
        LocalKeySigner(ec.generate_private_key(ec.SECP384R1()), csca)


def test_key_file_is_encrypted_pkcs8_for_the_owner_only(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "signer.key.p8"
    pki.write_private_key(path, key, passphrase("correct horse battery"))
    text = path.read_text()
    assert text.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = pki.load_private_key(path, passphrase("correct horse battery"))
    assert pki.same_public_key(loaded.public_key(), key.public_key())


def test_wrong_passphrase_is_a_signing_key_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "signer.key.p8"
    pki.write_private_key(path, ec.generate_private_key(ec.SECP256R1()), passphrase("correct horse battery"))
    with pytest.raises(SigningKeyError, match=r"wrong passphrase for key file .*signer\.key\.p8"):
        pki.load_private_key(path, passphrase("incorrect horse battery"))


def test_plain_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plain.pem"
    path.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ))
    with pytest.raises(SigningKeyError, match="not an encrypted PKCS#8"):
        pki.load_private_key(path, passphrase("whatever passphrase"))


def test_encrypted_key_of_a_wrong_type_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ed.key.p8"
    path.write_bytes(ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"whatever passphrase"),
    ))
    with pytest.raises(SigningKeyError, match="Ed25519"):
        pki.load_private_key(path, passphrase("whatever passphrase"))


def test_missing_key_file_and_short_passphrase(tmp_path: Path) -> None:
    with pytest.raises(SigningKeyError, match="cannot read key file"):
        pki.load_private_key(tmp_path / "absent.key.p8", passphrase("long enough!"))
    with pytest.raises(SigningKeyError, match="at least 12 characters"):
        pki.write_private_key(tmp_path / "new.key.p8", ec.generate_private_key(ec.SECP256R1()),
                              pki.Passphrase.of("eleven char"))
    assert not (tmp_path / "new.key.p8").exists()
    with pytest.raises(SigningKeyError, match="empty"):
        pki.Passphrase.of("")


def test_new_key_files_use_600k_pbkdf2_rounds_and_old_files_still_open(tmp_path: Path,
                                                                       monkeypatch) -> None:
    import subprocess

    from cryptography.hazmat.primitives import serialization

    monkeypatch.setattr(pki, "PBKDF2_ROUNDS", 600_000)  # the real value (tests use fewer)
    key = ec.generate_private_key(ec.SECP256R1())
    new = tmp_path / "new.key.p8"
    pki.write_private_key(new, key, passphrase("a strong passphrase"))
    parsed = subprocess.run(["openssl", "asn1parse", "-in", str(new)], capture_output=True,
                            text=True, check=True).stdout
    assert ":PBES2" in parsed and ":PBKDF2" in parsed and ":hmacWithSHA256" in parsed
    assert ":aes-256-cbc" in parsed and "INTEGER           :0927C0" in parsed  # 600,000
    assert pki.load_private_key(new, passphrase("a strong passphrase")).private_numbers() == \
        key.private_numbers()
    # a file written before (OpenSSL's 2,048 rounds, an 8-character passphrase) still opens
    old = tmp_path / "old.key.p8"
    old.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.BestAvailableEncryption(b"8 chars!")))
    assert pki.load_private_key(old, pki.Passphrase.of("8 chars!")).private_numbers() == \
        key.private_numbers()
    with pytest.raises(SigningKeyError, match="wrong passphrase"):
        pki.load_private_key(new, passphrase("not the passphrase"))


def test_a_key_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "signer.key.p8"
    pki.write_private_key(path, ec.generate_private_key(ec.SECP256R1()), passphrase("first passphrase"))
    before = path.read_bytes()
    with pytest.raises(SigningKeyError, match="refusing to overwrite"):
        pki.write_private_key(path, ec.generate_private_key(ec.SECP256R1()), passphrase("second passphrase"))
    assert path.read_bytes() == before


def test_passphrase_does_not_show_in_repr() -> None:
    assert "secret" not in repr(passphrase("my secret passphrase"))


def test_expired_and_not_yet_valid_signers_are_refused(keystore: KeyStore) -> None:
    _, dsc = odd_signer_certificate(keystore, eku=[VACCINATION_EKU], valid_for=timedelta(days=10))
    pki.check_document_signer(dsc, now=KEYS_NOW + timedelta(days=5))
    with pytest.raises(CertificateExpired, match="valid 2026-03-01"):
        pki.check_document_signer(dsc, now=KEYS_NOW + timedelta(days=11))
    with pytest.raises(CertificateExpired):
        pki.check_document_signer(dsc, now=KEYS_NOW - timedelta(seconds=1))


def test_signer_for_tests_only_may_not_sign_vaccinations(keystore: KeyStore) -> None:
    _, dsc = odd_signer_certificate(keystore, eku=["1.3.6.1.4.1.1847.2021.1.1"])
    with pytest.raises(UntrustedSigner, match="may not sign DCC type 'v'"):
        pki.check_document_signer(dsc, now=KEYS_NOW)


def test_draft_eku_oid_is_understood_and_no_dcc_eku_means_any_type(keystore: KeyStore) -> None:
    _, draft = odd_signer_certificate(keystore, eku=["1.3.6.1.4.1.0.1847.2021.1.2"])
    pki.check_document_signer(draft, now=KEYS_NOW)
    _, plain = odd_signer_certificate(keystore, eku=None)
    pki.check_document_signer(plain, now=KEYS_NOW)


def test_a_csca_is_not_a_document_signer(keystore: KeyStore) -> None:
    with pytest.raises(UntrustedSigner, match="is a CA"):
        pki.check_document_signer(keystore.csca_certificate, now=KEYS_NOW)


@pytest.mark.parametrize("key_type", ["ec", "rsa"])
def test_a_certificate_signed_outside_cryptography_verifies(key_type: str) -> None:
    """The path a token CSCA takes: the TBS is signed by a key ``cryptography`` does not hold
    (here a local key behind a plain function); the certificate must verify and keep its fields."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    key = pki.new_private_key(key_type)  # type: ignore[arg-type]

    def sign_tbs(tbs: bytes) -> bytes:
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(tbs, ec.ECDSA(hashes.SHA256()))
        return key.sign(tbs, padding.PKCS1v15(), hashes.SHA256())

    class Elsewhere(pki.FileCaKey):
        def sign_certificate(self, builder: x509.CertificateBuilder) -> x509.Certificate:
            return pki.sign_certificate_elsewhere(builder, key.public_key(), sign_tbs)

    csca = pki.csca_certificate(Elsewhere(key), country="VN", common_name="VN CSCA", now=KEYS_NOW)
    csca.verify_directly_issued_by(csca)
    signer_key = ec.generate_private_key(ec.SECP256R1())
    dsc = pki.new_document_signer(csca_key=Elsewhere(key), csca_certificate=csca,
                                  public_key=signer_key.public_key(), common_name="VN DSC", now=KEYS_NOW)
    dsc.verify_directly_issued_by(csca)
    assert keyusage.allows(dsc, "v") and dsc.not_valid_after_utc <= csca.not_valid_after_utc

    def wrong_key(tbs: bytes) -> bytes:
        # a token that signs something else: the last byte changed (setting it to 0 left the
        # TBS as it was whenever it ended in 0, one run in 256, and the test failed)
        return sign_tbs(tbs[:-1] + bytes([tbs[-1] ^ 1]))

    builder = (x509.CertificateBuilder().subject_name(csca.subject).issuer_name(csca.subject)
               .public_key(key.public_key()).serial_number(7)
               .not_valid_before(KEYS_NOW).not_valid_after(KEYS_NOW + timedelta(days=1)))
    with pytest.raises(SigningKeyError, match="does not verify"):
        pki.sign_certificate_elsewhere(builder, key.public_key(), wrong_key)
