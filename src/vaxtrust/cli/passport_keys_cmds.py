"""``vaxtrust passport keys|trust-list``: signing keys and the trust list.

Secrets never go on the command line: passphrases and PINs are read from environment variables
(named by ``--*-env`` options) or, for the CSCA token's PIN, an owner-only file, so they stay out of
shell history and ``ps``.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vaxtrust.cli.settings import cli_settings
from vaxtrust.errors import ConfigError

if TYPE_CHECKING:
    from vaxtrust.config import PassportSettings

KEY_PASSPHRASE_ENV = "VAXTRUST_KEY_PASSPHRASE"
PIN_ENV = "VAXTRUST_PKCS11_PIN"

keys_app = typer.Typer(help="Khóa ký / signing keys: CSCA, document signers, rotation.", no_args_is_help=True)
trust_app = typer.Typer(help="Danh sách tin cậy / trust list for verifiers.", no_args_is_help=True)


def register(passport_app: typer.Typer) -> None:
    """Add the key and trust-list commands to ``passport_app``."""
    passport_app.add_typer(keys_app, name="keys")
    passport_app.add_typer(trust_app, name="trust-list")


def _secret(env: str, what: str) -> str:
    value = os.environ.get(env)
    if not value:
        raise ConfigError(f"{what}: set the environment variable {env}")
    return value


def _passphrase(env: str, what: str) -> Any:
    from vaxtrust.passport.pki import Passphrase

    return Passphrase.of(_secret(env, what))


CscaPassphraseEnv = Annotated[str | None, typer.Option(
    "--csca-passphrase-env", help="Environment variable holding the CSCA key file's passphrase "
    "(default $VAXTRUST_CSCA_PASSPHRASE).")]
CscaPinEnv = Annotated[str | None, typer.Option(
    "--csca-pin-env", help="Environment variable holding the PIN of the CSCA's token "
    "(default $VAXTRUST_CSCA_PIN).")]
CscaPinFile = Annotated[Path | None, typer.Option(
    "--csca-pin-file", help="Owner-only file holding the PIN of the CSCA's token.")]


def csca_settings(passphrase_env: str | None, pin_env: str | None, pin_file: Path | None) -> PassportSettings:
    """The passport settings (config file, environment) with this command's CSCA secret options."""
    return cli_settings(passport={"csca_passphrase_env": passphrase_env, "csca_pin_env": pin_env,
                                  "csca_pin_file": pin_file}).passport


def _now() -> datetime:
    return datetime.now(UTC)


# --- keys ---------------------------------------------------------------------------------------

KeyStoreDir = Annotated[Path, typer.Option("--keystore", help="Key store directory.")]
OutFile = Annotated[Path, typer.Option("--out", help="JSON file to write.")]


@keys_app.command("init-csca")
def init_csca_command(
    keystore: KeyStoreDir,
    country: Annotated[str, typer.Option("--country", help="ISO 3166-1 alpha-2 country code.")] = "VN",
    name: Annotated[str, typer.Option("--name", help="Common name of the CSCA.")] = "VN CSCA",
    organization: Annotated[str, typer.Option("--organization")] = "Ministry of Health",
    key_type: Annotated[str, typer.Option("--key-type", help="ec (P-256) or rsa.")] = "ec",
    validity_days: Annotated[int, typer.Option("--validity-days", min=1, max=365 * 30)] = 3650,
    csca_token: Annotated[str | None, typer.Option(
        "--csca-token", help="Token label: generate the CSCA key in this PKCS#11 token "
        "(non-extractable) instead of an encrypted file.")] = None,
    pkcs11_module: Annotated[Path | None, typer.Option(
        "--pkcs11-module", help="PKCS#11 library (default SoftHSM2's) with --csca-token.")] = None,
    key_label: Annotated[str | None, typer.Option(
        "--key-label", help="The CSCA key's label in the token (default: csca).")] = None,
    passphrase_env: CscaPassphraseEnv = None,
    pin_env: CscaPinEnv = None,
    pin_file: CscaPinFile = None,
) -> None:
    """Create a key store with a new Country Signing CA (its key in an encrypted file, or in a token)."""
    from vaxtrust.passport.keystore import KeyStore, TokenKey
    from vaxtrust.passport.pkcs11 import DEFAULT_MODULE

    settings = csca_settings(passphrase_env, pin_env, pin_file)
    passphrase, token = None, None
    if csca_token is not None:
        pin = settings.csca_secret("pkcs11").value.decode("utf-8")
        token = TokenKey(pkcs11_module or DEFAULT_MODULE, csca_token, pin, key_label)
    elif pkcs11_module is not None or key_label is not None:
        raise ConfigError("--pkcs11-module and --key-label go with --csca-token (the token label)")
    else:
        passphrase = settings.csca_secret("file")
    store = KeyStore.create(
        keystore, country=country, common_name=name, organization=organization,
        passphrase=passphrase, token=token, now=_now(),
        key_type=_key_type(key_type), validity=timedelta(days=validity_days),
    )
    certificate = store.csca_certificate
    where = f"key in token {csca_token!r}" if csca_token else "key in csca/csca.key.p8"
    typer.echo(f"CSCA {certificate.subject.rfc4514_string()} valid to "
               f"{certificate.not_valid_after_utc:%Y-%m-%d} ({where}) → {keystore}")


@keys_app.command("new-signer")
def new_signer_command(
    name: Annotated[str, typer.Argument(help="Signer name, e.g. hanoi-2026 (never reused).")],
    keystore: KeyStoreDir,
    province: Annotated[str | None, typer.Option("--province", help="Province code it serves.")] = None,
    facility: Annotated[str | None, typer.Option("--facility", help="Facility id it serves.")] = None,
    replaces: Annotated[str | None, typer.Option(
        "--replaces", help="Active signer of the same scope to retire (rotation).")] = None,
    key_type: Annotated[str, typer.Option("--key-type", help="ec (ES256) or rsa (PS256).")] = "ec",
    validity_days: Annotated[int, typer.Option("--validity-days", min=1, max=3650)] = 730,
    pkcs11_module: Annotated[Path | None, typer.Option(
        "--pkcs11-module", help="PKCS#11 library (default SoftHSM2's) when --token is given.")] = None,
    token: Annotated[str | None, typer.Option(
        "--token", help="Token label: the key is generated in this PKCS#11 token.")] = None,
    key_label: Annotated[str | None, typer.Option(
        "--key-label", help="Key label in the token (default: the signer name).")] = None,
    csca_passphrase_env: CscaPassphraseEnv = None,
    csca_pin_env: CscaPinEnv = None,
    csca_pin_file: CscaPinFile = None,
    passphrase_env: Annotated[str, typer.Option(
        "--passphrase-env", help="Environment variable holding the new key file's passphrase.")] = KEY_PASSPHRASE_ENV,
    pin_env: Annotated[str, typer.Option(
        "--pin-env", help="Environment variable holding the token PIN.")] = PIN_ENV,
) -> None:
    """Certify a new document signer; its key goes to an encrypted file or is made in a PKCS#11 token."""
    from vaxtrust.passport.keystore import KeyStore, TokenKey
    from vaxtrust.passport.pkcs11 import DEFAULT_MODULE

    store = KeyStore.open(keystore)
    token_key = None
    key_passphrase = None
    if token is not None or pkcs11_module is not None:
        if token is None:
            raise ConfigError("--pkcs11-module needs --token (the token label)")
        token_key = TokenKey(pkcs11_module or DEFAULT_MODULE, token, _secret(pin_env, "token PIN"), key_label)
    else:
        key_passphrase = _passphrase(passphrase_env, "signer key passphrase")
    settings = csca_settings(csca_passphrase_env, csca_pin_env, csca_pin_file)
    csca_secret = settings.csca_secret(store.csca.backend)
    entry = store.new_signer(
        name, csca_passphrase=csca_secret, now=_now(),
        key_passphrase=key_passphrase, token=token_key, key_type=_key_type(key_type),
        province=province, facility=facility, replaces=replaces,
        validity=timedelta(days=validity_days),
    )
    rotated = f", retiring {replaces}" if replaces else ""
    typer.echo(f"signer {entry.name} ({entry.algorithm}, kid {entry.kid}, {entry.backend}) for "
               f"{entry.describe_scope()}, valid to {entry.not_after[:10]}{rotated}; "
               "publish the trust list before it signs")


@keys_app.command("list")
def list_command(keystore: KeyStoreDir) -> None:
    """List the document signers with scope, status, kid and validity."""
    from rich.table import Table

    from vaxtrust.console import terminal
    from vaxtrust.passport.keystore import KeyStore

    store = KeyStore.open(keystore)
    table = Table("name", "scope", "status", "alg", "kid", "key", "valid to")
    for entry in store.signers():
        table.add_row(entry.name, entry.describe_scope(), entry.status, entry.algorithm, entry.kid,
                      entry.backend, entry.not_after[:10])
    terminal(width=120).print(table)


@keys_app.command("withdraw")
def withdraw_command(
    name: Annotated[str, typer.Argument(help="Signer to take off the trust list (e.g. a leaked key).")],
    keystore: KeyStoreDir,
) -> None:
    """Withdraw a signer: after the next trust-list export, nothing it signed verifies."""
    from vaxtrust.passport.keystore import KeyStore

    KeyStore.open(keystore).withdraw(name)
    typer.echo(f"signer {name} withdrawn; export and publish the trust list now")


def _key_type(value: str) -> Any:
    if value not in ("ec", "rsa"):
        raise ConfigError(f"--key-type must be ec or rsa, not {value!r}")
    return value


# --- trust list ---------------------------------------------------------------------------------


@trust_app.command("export")
def trust_list_export_command(
    keystore: KeyStoreDir,
    out: OutFile,
    unsigned: Annotated[bool, typer.Option(
        "--unsigned", help="Do not sign the list with the CSCA key (verifiers that pin the CSCA refuse it).")] = False,
    csca_passphrase_env: CscaPassphraseEnv = None,
    csca_pin_env: CscaPinEnv = None,
    csca_pin_file: CscaPinFile = None,
) -> None:
    """Export the signers verifiers should trust now (active and retired; not withdrawn or expired)."""
    from vaxtrust.passport.keystore import KeyStore
    from vaxtrust.passport.trustlist import export_trust_list

    store = KeyStore.open(keystore)
    secret = None
    if not unsigned:
        settings = csca_settings(csca_passphrase_env, csca_pin_env, csca_pin_file)
        secret = settings.csca_secret(store.csca.backend)
    trust = export_trust_list(store, out, now=_now(), csca_passphrase=secret)
    signed = "unsigned" if unsigned else "signed with the CSCA key"
    typer.echo(f"trust list with {len(trust)} signer(s), {signed} → {out}")
