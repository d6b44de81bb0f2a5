"""A key store directory: one CSCA and its document signers, per province or facility, with rotation.

Layout::

    keystore.json            the manifest (signers, scopes, status); no secrets
    csca/csca.pem            CSCA certificate
    csca/csca.key.p8         CSCA key, encrypted PKCS#8 (none when it lives in a PKCS#11 token)
    signers/<name>.pem       signer certificates
    signers/<name>.key.p8    signer keys in files (token-held keys have no file)

A signer is ``active`` (used for new certificates of its scope), ``retired`` (replaced by a newer
signer; stays on the trust list so what it signed still verifies) or ``withdrawn`` (taken off the
trust list: every certificate it signed stops verifying, hcert §5.1).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from cryptography import x509

from vaxtrust.errors import ConfigError, SigningKeyError
from vaxtrust.passport import pki
from vaxtrust.passport.signer import LocalKeySigner, Signer, kid_of

MANIFEST = "keystore.json"
MANIFEST_FORMAT = "vaxtrust-keystore/1"
CSCA_KEY_LABEL = "csca"  # the CSCA key's label in a token, unless init-csca names another
SignerStatus = Literal["active", "retired", "withdrawn"]
Backend = Literal["file", "pkcs11"]
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class SignerEntry:
    """One document signer as the manifest records it (certificate and key locations, scope, status)."""

    name: str
    kid: str  # hex of the 8-byte DCC kid
    algorithm: str  # ES256 | PS256
    backend: Backend
    province: str | None
    facility: str | None
    status: SignerStatus
    not_before: str
    not_after: str
    created_at: str
    replaces: str | None = None
    pkcs11_module: str | None = None
    token_label: str | None = None
    key_label: str | None = None

    @property
    def scope(self) -> tuple[str | None, str | None]:
        return (self.province, self.facility)

    def describe_scope(self) -> str:
        parts = [f"province {self.province}" if self.province else "",
                 f"facility {self.facility}" if self.facility else ""]
        return ", ".join(part for part in parts if part) or "national"


@dataclass(frozen=True)
class TokenKey:
    """Where a new signer's key is generated when it lives in a PKCS#11 token."""

    module: Path
    token_label: str
    pin: str | None
    key_label: str | None = None  # defaults to the signer name


@dataclass(frozen=True)
class CscaEntry:
    """Where the CSCA key lives, as the manifest records it (no entry: in ``csca/csca.key.p8``)."""

    backend: Backend = "file"
    pkcs11_module: str | None = None
    token_label: str | None = None
    key_label: str | None = None


class KeyStore:
    """The key store in ``directory``; open with :meth:`open`, make with :meth:`create`."""

    def __init__(
        self, directory: Path, country: str, signers: list[SignerEntry], csca: CscaEntry | None = None,
    ) -> None:
        self.directory = directory
        self.country = country
        self._signers = signers
        self.csca = csca or CscaEntry()

    # --- creating and opening -------------------------------------------------------------------

    @classmethod
    def create(
        cls, directory: Path, *, country: str, common_name: str, now: datetime,
        passphrase: pki.Passphrase | None = None, token: TokenKey | None = None,
        key_type: pki.KeyType = "ec", organization: str | None = None,
        validity: timedelta = pki.CSCA_VALIDITY,
    ) -> KeyStore:
        """Make a new key store with a fresh CSCA; refuses a directory that already has one.

        The CSCA key goes to an encrypted file (``passphrase``) or is generated, non-extractable,
        in a PKCS#11 token (``token``; key label ``csca`` unless it names one).
        """
        if (directory / MANIFEST).exists():
            raise ConfigError(f"{directory} already holds a key store; refusing to replace its CSCA")
        if (passphrase is None) == (token is None):
            raise ConfigError("give exactly one of a CSCA passphrase (file key) or a PKCS#11 token")
        if token is not None:
            csca, key = _token_csca(token, key_type)
        else:
            csca, key = CscaEntry(), pki.FileCaKey(pki.new_private_key(key_type))
        certificate = pki.csca_certificate(
            key, country=country, common_name=common_name, now=now, organization=organization,
            validity=validity,
        )
        if isinstance(key, pki.FileCaKey) and passphrase is not None:
            pki.write_private_key(directory / "csca" / "csca.key.p8", key.private_key, passphrase)
        pki.write_certificate(directory / "csca" / "csca.pem", certificate)
        store = cls(directory, country, [], csca)
        store._save()
        return store

    @classmethod
    def open(cls, directory: Path) -> KeyStore:
        path = directory / MANIFEST
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"no key store in {directory} (run `vaxtrust passport keys init-csca`)") from None
        except (OSError, ValueError) as error:
            raise ConfigError(f"cannot read key store manifest {path}: {error}") from None
        if manifest.get("format") != MANIFEST_FORMAT:
            raise ConfigError(f"{path} is not a vaxtrust key store manifest ({MANIFEST_FORMAT})")
        try:
            signers = [SignerEntry(**entry) for entry in manifest["signers"]]
            csca = CscaEntry(**manifest.get("csca", {}))
            return cls(directory, str(manifest["country"]), signers, csca)
        except (KeyError, TypeError) as error:
            raise ConfigError(f"key store manifest {path} is damaged: {error}") from None

    def _save(self) -> None:
        manifest: dict[str, Any] = {
            "format": MANIFEST_FORMAT,
            "country": self.country,
            "signers": [asdict(entry) for entry in self._signers],
        }
        if self.csca.backend != "file":
            manifest["csca"] = asdict(self.csca)
        _write_atomically(self.directory / MANIFEST, json.dumps(manifest, indent=2) + "\n")

    # --- the CSCA -------------------------------------------------------------------------------

    @property
    def csca_certificate(self) -> x509.Certificate:
        return pki.load_certificate(self.directory / "csca" / "csca.pem")

    def csca_key(self, secret: pki.Passphrase) -> pki.CaKey:
        """The CSCA key, unlocked by ``secret``: its file's passphrase, or its token's PIN."""
        if self.csca.backend == "pkcs11":
            from vaxtrust.passport.pkcs11 import TokenCaKey

            key: pki.CaKey = TokenCaKey(
                module=Path(self.csca.pkcs11_module or ""), token_label=self.csca.token_label or "",
                key_label=self.csca.key_label or CSCA_KEY_LABEL, pin=secret.value.decode("utf-8"),
            )
            if not pki.same_public_key(key.public_key(), self.csca_certificate.public_key()):
                raise SigningKeyError(f"the key {self.csca.key_label!r} in token "
                                      f"{self.csca.token_label!r} does not belong to the CSCA certificate")
            return key
        private = pki.load_private_key(self.directory / "csca" / "csca.key.p8", secret)
        pki.check_key_matches(private, self.csca_certificate, what="the CSCA")
        return pki.FileCaKey(private)

    # --- signers --------------------------------------------------------------------------------

    def signers(self) -> list[SignerEntry]:
        return list(self._signers)

    def entry(self, name: str) -> SignerEntry:
        for entry in self._signers:
            if entry.name == name:
                return entry
        raise ConfigError(f"no signer named {name!r} in key store {self.directory}")

    def certificate_of(self, name: str) -> x509.Certificate:
        self.entry(name)
        return pki.load_certificate(self.directory / "signers" / f"{name}.pem")

    def new_signer(
        self, name: str, *, csca_passphrase: pki.Passphrase, now: datetime,
        key_passphrase: pki.Passphrase | None = None, token: TokenKey | None = None,
        key_type: pki.KeyType = "ec", province: str | None = None, facility: str | None = None,
        replaces: str | None = None, validity: timedelta = pki.SIGNER_VALIDITY,
    ) -> SignerEntry:
        """Certify a new document signer for a scope; with ``replaces`` the old one is retired (rotation).

        Its key goes to an encrypted file (``key_passphrase``) or is generated in a token (``token``).
        ``csca_passphrase`` unlocks the CSCA key: its file's passphrase or its token's PIN.
        """
        self._check_new_name(name)
        replaced = self._check_scope_free(province, facility, replaces)
        csca_key = self.csca_key(csca_passphrase)
        if (key_passphrase is None) == (token is None):
            raise ConfigError("give exactly one of a key passphrase (file key) or a PKCS#11 token")
        file_key: pki.PrivateKey | None = None
        if token is not None:
            from vaxtrust.passport.pkcs11 import generate_token_key

            public_key = generate_token_key(
                module=token.module, token_label=token.token_label, pin=token.pin,
                key_label=token.key_label or name, key_type=key_type,
            )
        else:
            file_key = pki.new_private_key(key_type)
            public_key = file_key.public_key()
        certificate = pki.new_document_signer(
            csca_key=csca_key, csca_certificate=self.csca_certificate, public_key=public_key,
            common_name=f"{self.country} DSC {name}", organization=None, now=now, validity=validity,
        )
        if file_key is not None and key_passphrase is not None:
            pki.write_private_key(self.directory / "signers" / f"{name}.key.p8", file_key, key_passphrase)
        pki.write_certificate(self.directory / "signers" / f"{name}.pem", certificate)
        entry = SignerEntry(
            name=name, kid=kid_of(certificate).hex(),
            algorithm="ES256" if key_type == "ec" else "PS256",
            backend="pkcs11" if token else "file", province=province, facility=facility,
            status="active", not_before=certificate.not_valid_before_utc.isoformat(),
            not_after=certificate.not_valid_after_utc.isoformat(), created_at=now.isoformat(),
            replaces=replaces,
            pkcs11_module=str(token.module) if token else None,
            token_label=token.token_label if token else None,
            key_label=(token.key_label or name) if token else None,
        )
        self._signers = [
            replace(old, status="retired") if replaced and old.name == replaced.name else old
            for old in self._signers
        ] + [entry]
        self._save()
        return entry

    def _check_new_name(self, name: str) -> None:
        if not _NAME.match(name):
            raise ConfigError(f"signer name {name!r} must be 1-64 letters, digits, '.', '_' or '-'")
        if any(entry.name == name for entry in self._signers):
            raise ConfigError(f"a signer named {name!r} exists already; names are never reused")

    def _check_scope_free(
        self, province: str | None, facility: str | None, replaces: str | None
    ) -> SignerEntry | None:
        """One active signer per scope: a second one must name the signer it replaces."""
        current = self._active_for_scope(province, facility)
        if replaces is None:
            if current is not None:
                raise ConfigError(
                    f"signer {current.name!r} is active for this scope; rotate with --replaces {current.name}"
                )
            return None
        replaced = self.entry(replaces)
        if replaced.status != "active":
            raise ConfigError(f"signer {replaces!r} is {replaced.status}, not active; nothing to replace")
        if replaced.scope != (province, facility):
            raise ConfigError(
                f"signer {replaces!r} serves {replaced.describe_scope()}; the new signer must serve the same scope"
            )
        return replaced

    def _active_for_scope(self, province: str | None, facility: str | None) -> SignerEntry | None:
        for entry in self._signers:
            if entry.status == "active" and entry.scope == (province, facility):
                return entry
        return None

    def withdraw(self, name: str) -> SignerEntry:
        """Take a signer off the trust list (a compromised key): what it signed stops verifying."""
        entry = self.entry(name)
        withdrawn = replace(entry, status="withdrawn")
        self._signers = [withdrawn if old.name == name else old for old in self._signers]
        self._save()
        return withdrawn

    def signer_for(self, *, province: str | None = None, facility: str | None = None) -> SignerEntry:
        """The active signer of the narrowest scope that covers a facility in a province."""
        scopes = [(province, facility), (None, facility), (province, None), (None, None)]
        for scope in dict.fromkeys(scopes):  # in order, without repeats
            entry = self._active_for_scope(*scope)
            if entry is not None:
                return entry
        raise ConfigError(
            f"no active signer for province {province or '-'} / facility {facility or '-'} "
            "and no national one (run `vaxtrust passport keys new-signer`)"
        )

    def load_signer(
        self, name: str, *, now: datetime, passphrase: pki.Passphrase | str | None = None,
        pin: str | None = None,
    ) -> Signer:
        """A ready :class:`Signer` for ``name``; refuses withdrawn, expired or wrong-EKU signers.

        File keys need ``passphrase``; token keys need ``pin`` (the token's module and label come
        from the manifest).
        """
        entry = self.entry(name)
        if entry.status == "withdrawn":
            raise SigningKeyError(f"signer {name!r} is withdrawn and may not sign")
        certificate = self.certificate_of(name)
        pki.check_document_signer(certificate, now=now, dcc_type="v")
        if not pki.issued_by(certificate, self.csca_certificate):
            raise SigningKeyError(f"signer {name!r} is not certified by this key store's CSCA")
        if entry.backend == "pkcs11":
            from vaxtrust.passport.pkcs11 import Pkcs11Signer

            return Pkcs11Signer(
                module=Path(entry.pkcs11_module or ""), token_label=entry.token_label or "",
                key_label=entry.key_label or name, pin=pin, certificate=certificate,
            )
        if not passphrase:
            raise SigningKeyError(
                f"signer {name!r} has its key in a file: a passphrase is needed (VAXTRUST_KEY_PASSPHRASE)"
            )
        if isinstance(passphrase, str):
            passphrase = pki.Passphrase(passphrase.encode("utf-8"))  # length rules apply when set
        key = pki.load_private_key(self.directory / "signers" / f"{name}.key.p8", passphrase)
        pki.check_key_matches(key, certificate, what=f"signer {name!r}")
        return LocalKeySigner(key, certificate)


def _token_csca(token: TokenKey, key_type: pki.KeyType) -> tuple[CscaEntry, pki.CaKey]:
    """Generate the CSCA key pair in the token; the entry the manifest keeps and the key."""
    from vaxtrust.passport.pkcs11 import TokenCaKey, generate_token_key

    label = token.key_label or CSCA_KEY_LABEL
    generate_token_key(module=token.module, token_label=token.token_label, pin=token.pin,
                       key_label=label, key_type=key_type)
    entry = CscaEntry("pkcs11", str(token.module), token.token_label, label)
    return entry, TokenCaKey(module=token.module, token_label=token.token_label, key_label=label,
                             pin=token.pin)


def _write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` whole or not at all (a crash never leaves half a manifest)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
