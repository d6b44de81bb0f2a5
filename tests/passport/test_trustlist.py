"""Trust-list export and loading: what a verifier accepts, and what it refuses."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from tests.passport.conftest_keys import CSCA_PASSPHRASE, KEY_PASSPHRASE, KEYS_NOW, passphrase
from vaxtrust.errors import InputError, UntrustedSigner
from vaxtrust.passport.keystore import KeyStore
from vaxtrust.passport.signer import kid_of
from vaxtrust.passport.trustlist import TrustList, export_trust_list, trust_list_of


def _new(store: KeyStore, name: str, **options: object) -> None:
    store.new_signer(
        name, csca_passphrase=passphrase(CSCA_PASSPHRASE), key_passphrase=passphrase(KEY_PASSPHRASE),
        now=KEYS_NOW, **options,  # type: ignore[arg-type]
    )


def test_exported_list_gives_verifiers_every_signer_by_kid(keystore: KeyStore, tmp_path: Path) -> None:
    _new(keystore, "hanoi", province="01")
    path = tmp_path / "trust.json"
    export_trust_list(keystore, path, now=KEYS_NOW)
    trust = TrustList.load(path)
    for name in ("vn-national", "hanoi"):
        certificate = keystore.certificate_of(name)
        assert trust.certificates_for(kid_of(certificate)) == [certificate]
    assert trust.certificates_for(b"\x00" * 8) == []
    document = json.loads(path.read_text())
    entry = document["certificates"][1]
    assert entry["certificateType"] == "DSC" and entry["country"] == "VN"
    assert entry["province"] == "01" and entry["status"] == "active"
    assert document["csca"][0]["certificateType"] == "CSCA"


def test_retired_signers_stay_withdrawn_and_expired_ones_go(keystore: KeyStore) -> None:
    _new(keystore, "hanoi-old", province="01")
    _new(keystore, "hanoi-new", province="01", replaces="hanoi-old")
    _new(keystore, "short", province="02", validity=timedelta(days=10))
    _new(keystore, "leaked", province="03")
    keystore.withdraw("leaked")
    listed = {signer.name for signer in trust_list_of(keystore, now=KEYS_NOW + timedelta(days=30)).signers}
    assert listed == {"vn-national", "hanoi-old", "hanoi-new"}


def test_signers_of_an_untrusted_csca_are_refused(keystore: KeyStore, tmp_path: Path) -> None:
    path = tmp_path / "trust.json"
    export_trust_list(keystore, path, now=KEYS_NOW, csca_passphrase=passphrase(CSCA_PASSPHRASE))
    other = KeyStore.create(
        tmp_path / "other", country="VN", common_name="impostor CSCA", now=KEYS_NOW,
        passphrase=passphrase(CSCA_PASSPHRASE),
    )
    with pytest.raises(UntrustedSigner, match="signature does not verify with a trusted CSCA"):
        TrustList.load(path, pinned_cscas=[other.csca_certificate])
    assert len(TrustList.load(path, pinned_cscas=[keystore.csca_certificate])) == 1


def test_a_dsc_smuggled_in_with_a_forged_csca_is_refused(keystore: KeyStore, tmp_path: Path) -> None:
    path = tmp_path / "trust.json"
    export_trust_list(keystore, path, now=KEYS_NOW)
    other = KeyStore.create(
        tmp_path / "other", country="VN", common_name="impostor CSCA", now=KEYS_NOW,
        passphrase=passphrase(CSCA_PASSPHRASE),
    )
    _new(other, "impostor")
    export_trust_list(other, tmp_path / "other.json", now=KEYS_NOW)
    document = json.loads(path.read_text())
    document["certificates"].append(json.loads((tmp_path / "other.json").read_text())["certificates"][0])
    path.write_text(json.dumps(document))
    with pytest.raises(UntrustedSigner, match=r"certificates\[1\]"):
        TrustList.load(path)


def test_broken_trust_lists_are_input_errors_naming_the_entry(keystore: KeyStore, tmp_path: Path) -> None:
    path = tmp_path / "trust.json"
    with pytest.raises(InputError, match="not found"):
        TrustList.load(path)
    path.write_text("{not json")
    with pytest.raises(InputError, match="not a readable JSON"):
        TrustList.load(path)
    path.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(InputError, match="vaxtrust-trust-list/1"):
        TrustList.load(path)
    export_trust_list(keystore, path, now=KEYS_NOW)
    document = json.loads(path.read_text())
    document["certificates"][0]["kid"] = "AAAAAAAAAAA="
    path.write_text(json.dumps(document))
    with pytest.raises(InputError, match=r"certificates\[0\]\.kid"):
        TrustList.load(path)
    document["certificates"][0]["rawData"] = "not base64!"
    path.write_text(json.dumps(document))
    with pytest.raises(InputError, match=r"certificates\[0\]\.rawData"):
        TrustList.load(path)


def test_merged_lists_return_every_certificate_with_a_kid(keystore: KeyStore) -> None:
    trust = trust_list_of(keystore, now=KEYS_NOW)
    merged = trust.merged_with(trust)
    kid = kid_of(keystore.certificate_of("vn-national"))
    assert len(merged.certificates_for(kid)) == 2


def test_a_pinned_verifier_accepts_only_a_list_signed_by_its_csca(keystore: KeyStore, tmp_path: Path) -> None:
    path = tmp_path / "trust.json"
    export_trust_list(keystore, path, now=KEYS_NOW)
    with pytest.raises(UntrustedSigner, match="not signed"):
        TrustList.load(path, pinned_cscas=[keystore.csca_certificate])
    export_trust_list(keystore, path, now=KEYS_NOW, csca_passphrase=passphrase(CSCA_PASSPHRASE))
    assert json.loads(path.read_text())["signature"]["alg"] == "ES256"
    assert len(TrustList.load(path, pinned_cscas=[keystore.csca_certificate])) == 1


def test_a_withdrawn_signer_put_back_on_a_signed_list_is_caught(keystore: KeyStore, tmp_path: Path) -> None:
    """The withdrawn DSC is still CSCA-certified; only the list signature shows the list was altered."""
    _new(keystore, "leaked", province="03")
    before = tmp_path / "before.json"
    export_trust_list(keystore, before, now=KEYS_NOW, csca_passphrase=passphrase(CSCA_PASSPHRASE))
    keystore.withdraw("leaked")
    after = tmp_path / "after.json"
    export_trust_list(keystore, after, now=KEYS_NOW, csca_passphrase=passphrase(CSCA_PASSPHRASE))
    document = json.loads(after.read_text())
    leaked = next(entry for entry in json.loads(before.read_text())["certificates"] if entry["name"] == "leaked")
    document["certificates"].append(leaked)
    after.write_text(json.dumps(document))
    for pins in (None, [keystore.csca_certificate]):
        with pytest.raises(UntrustedSigner, match="signature does not verify"):
            TrustList.load(after, pinned_cscas=pins)


def test_a_list_signed_by_an_rsa_csca_verifies(tmp_path: Path) -> None:
    store = KeyStore.create(tmp_path / "rsa", country="VN", common_name="RSA CSCA", now=KEYS_NOW,
                            passphrase=passphrase(CSCA_PASSPHRASE), key_type="rsa")
    _new(store, "vn-national")
    path = tmp_path / "trust.json"
    export_trust_list(store, path, now=KEYS_NOW, csca_passphrase=passphrase(CSCA_PASSPHRASE))
    assert json.loads(path.read_text())["signature"]["alg"] == "PS256"
    assert len(TrustList.load(path, pinned_cscas=[store.csca_certificate])) == 1
