"""``vaxtrust passport keys|trust-list|revoke|revocation-list|sign-batch``: keys, trust and revocation.

Secrets never go on the command line: passphrases and PINs are read from environment variables
(named by ``--*-env`` options), so they stay out of shell history and ``ps``.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from vaxtrust.errors import ConfigError

CSCA_PASSPHRASE_ENV = "VAXTRUST_CSCA_PASSPHRASE"
KEY_PASSPHRASE_ENV = "VAXTRUST_KEY_PASSPHRASE"
PIN_ENV = "VAXTRUST_PKCS11_PIN"

keys_app = typer.Typer(help="Khóa ký / signing keys: CSCA, document signers, rotation.", no_args_is_help=True)
trust_app = typer.Typer(help="Danh sách tin cậy / trust list for verifiers.", no_args_is_help=True)
revocation_app = typer.Typer(help="Danh sách thu hồi / revocation list for verifiers.", no_args_is_help=True)


def register(passport_app: typer.Typer) -> None:
    """Add the key, trust-list, revocation and batch-signing commands to ``passport_app``."""
    passport_app.add_typer(keys_app, name="keys")
    passport_app.add_typer(trust_app, name="trust-list")
    passport_app.add_typer(revocation_app, name="revocation-list")
    passport_app.command("revoke")(revoke_command)
    passport_app.command("sign-batch")(sign_batch_command)


def _secret(env: str, what: str) -> str:
    value = os.environ.get(env)
    if not value:
        raise ConfigError(f"{what}: set the environment variable {env}")
    return value


def _passphrase(env: str, what: str) -> Any:
    from vaxtrust.passport.pki import Passphrase

    return Passphrase.of(_secret(env, what))


def _now() -> datetime:
    return datetime.now(UTC)


# --- keys ---------------------------------------------------------------------------------------

KeyStoreDir = Annotated[Path, typer.Option("--keystore", help="Key store directory.")]
OutFile = Annotated[Path, typer.Option("--out", help="JSON file to write.")]
IssuedDir = Annotated[Path, typer.Option("--issued", help="Output directory of sign-batch (its journal).")]


@keys_app.command("init-csca")
def init_csca_command(
    keystore: KeyStoreDir,
    country: Annotated[str, typer.Option("--country", help="ISO 3166-1 alpha-2 country code.")] = "VN",
    name: Annotated[str, typer.Option("--name", help="Common name of the CSCA.")] = "VN CSCA",
    organization: Annotated[str, typer.Option("--organization")] = "Ministry of Health",
    key_type: Annotated[str, typer.Option("--key-type", help="ec (P-256) or rsa.")] = "ec",
    validity_days: Annotated[int, typer.Option("--validity-days", min=1, max=365 * 30)] = 3650,
    passphrase_env: Annotated[str, typer.Option(
        "--csca-passphrase-env", help="Environment variable holding the CSCA key passphrase.")] = CSCA_PASSPHRASE_ENV,
) -> None:
    """Create a key store with a new Country Signing CA (its key encrypted with a passphrase)."""
    from vaxtrust.passport.keystore import KeyStore

    store = KeyStore.create(
        keystore, country=country, common_name=name, organization=organization,
        passphrase=_passphrase(passphrase_env, "CSCA key passphrase"), now=_now(),
        key_type=_key_type(key_type), validity=timedelta(days=validity_days),
    )
    certificate = store.csca_certificate
    typer.echo(f"CSCA {certificate.subject.rfc4514_string()} valid to "
               f"{certificate.not_valid_after_utc:%Y-%m-%d} → {keystore}")


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
    csca_passphrase_env: Annotated[str, typer.Option("--csca-passphrase-env")] = CSCA_PASSPHRASE_ENV,
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
    entry = store.new_signer(
        name, csca_passphrase=_passphrase(csca_passphrase_env, "CSCA key passphrase"), now=_now(),
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
    csca_passphrase_env: Annotated[str, typer.Option("--csca-passphrase-env")] = CSCA_PASSPHRASE_ENV,
) -> None:
    """Export the signers verifiers should trust now (active and retired; not withdrawn or expired)."""
    from vaxtrust.passport.keystore import KeyStore
    from vaxtrust.passport.trustlist import export_trust_list

    passphrase = None if unsigned else _passphrase(csca_passphrase_env, "CSCA key passphrase (or --unsigned)")
    trust = export_trust_list(KeyStore.open(keystore), out, now=_now(), csca_passphrase=passphrase)
    signed = "unsigned" if unsigned else "signed with the CSCA key"
    typer.echo(f"trust list with {len(trust)} signer(s), {signed} → {out}")


# --- revocation ---------------------------------------------------------------------------------


def revoke_command(
    issued: IssuedDir,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the journal).")],
    person_id: Annotated[str | None, typer.Option(
        "--person-id", help="Revoke this person's current certificate.")] = None,
    uvci: Annotated[str | None, typer.Option("--uvci", help="Revoke the certificate with this UVCI.")] = None,
    block: Annotated[bool, typer.Option("--block", help="Never sign this person again in a batch.")] = False,
) -> None:
    """Revoke an issued certificate (the next revocation-list export carries it)."""
    from vaxtrust.passport.batch import JOURNAL, IssuanceJournal

    journal_path = _journal(issued, JOURNAL)
    with IssuanceJournal(journal_path) as journal:
        revoked = journal.revoke(now=_now(), reason=reason, person_id=person_id, uvci=uvci, block=block)
    typer.echo(f"revoked {revoked}" + (" (person blocked)" if block else ""))


@revocation_app.command("export")
def revocation_list_export_command(
    issued: IssuedDir,
    out: OutFile,
    country: Annotated[str, typer.Option("--country")] = "VN",
    hash_type: Annotated[list[str] | None, typer.Option(
        "--hash-type", help="Hash type to publish (repeatable; default all three): "
        "SIGNATURE, UCI, COUNTRYCODEUCI.")] = None,
    keystore: Annotated[Path | None, typer.Option(
        "--keystore", help="Sign the list with this key store's CSCA (needs its passphrase).")] = None,
    csca_passphrase_env: Annotated[str, typer.Option("--csca-passphrase-env")] = CSCA_PASSPHRASE_ENV,
) -> None:
    """Export the revoked certificates as hash batches for verifiers."""
    from vaxtrust.passport.batch import JOURNAL, IssuanceJournal
    from vaxtrust.passport.revocation import HASH_TYPES, export_revocation_list

    hash_type = hash_type or list(HASH_TYPES)
    unknown = sorted(set(hash_type) - set(HASH_TYPES))
    if unknown:
        raise ConfigError(f"--hash-type {', '.join(unknown)} is not one of {', '.join(HASH_TYPES)}")
    signing_key = None
    if keystore is not None:
        from vaxtrust.passport.keystore import KeyStore

        signing_key = KeyStore.open(keystore).csca_key(_passphrase(csca_passphrase_env, "CSCA key passphrase"))
    with IssuanceJournal(_journal(issued, JOURNAL)) as journal:
        batches = export_revocation_list(
            journal.revocations(country=country), out, country=country, now=_now(),
            hash_types=[kind for kind in HASH_TYPES if kind in hash_type], signing_key=signing_key,
        )
    signed = "signed with the CSCA key" if signing_key is not None else "unsigned"
    typer.echo(f"revocation list with {batches} batch(es), {signed} → {out}")


def _journal(issued: Path, name: str) -> Path:
    path = issued / name
    if not path.is_file():
        raise ConfigError(f"no issuance journal {path}: run `vaxtrust passport sign-batch --out {issued}` first")
    return path


# --- batch signing ------------------------------------------------------------------------------


def sign_batch_command(
    keystore: KeyStoreDir,
    out: Annotated[Path, typer.Option("--out", help="Output directory (journal, certificates.parquet).")],
    run: Annotated[Path | None, typer.Option(
        "--run", help="Cleaning run directory (results + dose history); needs --register.")] = None,
    register: Annotated[Path | None, typer.Option("--register", help="Population register Parquet.")] = None,
    db: Annotated[str | None, typer.Option(
        "--db", help="Sign the store's signing queue instead of a run (store URL).")] = None,
    actor_name: Annotated[str | None, typer.Option("--as", help="Store user signing (with --db): their password from "
        "$VAXTRUST_PASSWORD or a prompt, or their $VAXTRUST_TOKEN.")] = None,
    reclaim_after: Annotated[int | None, typer.Option(
        "--reclaim-after", min=1, help="With --db: first release tasks claimed more than this many "
        "minutes ago (a signer that crashed).")] = None,
    signer: Annotated[str | None, typer.Option(
        "--signer", help="Sign everyone with this signer (default: by province/facility).")] = None,
    allow_flagged: Annotated[bool, typer.Option(
        "--allow-flagged", help="Also sign people whose doses carry plausibility flags.")] = False,
    validity_days: Annotated[int, typer.Option("--validity-days", min=1, max=3650)] = 365,
    passphrase_env: Annotated[str, typer.Option("--passphrase-env")] = KEY_PASSPHRASE_ENV,
    pin_env: Annotated[str, typer.Option("--pin-env")] = PIN_ENV,
) -> None:
    """Sign every verified person of a run (or the store's queue); safe to re-run after a crash."""
    from vaxtrust.console import RichConsole
    from vaxtrust.passport.batch import JOURNAL, IssuanceJournal, export_outputs
    from vaxtrust.passport.keystore import KeyStore

    from_store = db is not None or actor_name is not None
    if from_store and (run is not None or register is not None):
        raise ConfigError("sign either a run (--run, --register) or the store (--db, --as), not both")
    if from_store and actor_name is None:
        raise ConfigError("--db needs --as (the store user who signs)")
    if not from_store and (run is None or register is None):
        raise ConfigError("give --run and --register, or --db and --as")
    store = KeyStore.open(keystore)
    signers = _SignerCache(store, os.environ.get(passphrase_env), os.environ.get(pin_env), signer)
    options: dict[str, Any] = {
        "validity": timedelta(days=validity_days), "allow_flagged": allow_flagged,
    }
    try:
        with IssuanceJournal(out / JOURNAL) as journal, RichConsole() as console:
            if from_store:
                summary = _sign_store(db, str(actor_name), reclaim_after, journal, signers, console,
                                      options)
            else:
                assert run is not None and register is not None
                summary = _sign_run(run, register, journal, signers, console, options)
            certificates, _ = export_outputs(journal, out)
    finally:
        signers.close()
    skipped_text = ", ".join(f"{reason} {count}" for reason, count in sorted(summary.skipped.items()))
    typer.echo(
        f"issued {summary.issued}, re-issued {summary.reissued}, renewed {summary.renewed}, "
        f"already issued {summary.already_issued}, "
        f"skipped {summary.total_skipped}{' (' + skipped_text + ')' if skipped_text else ''} → {certificates}"
    )


def _sign_run(run: Path, register: Path, journal: Any, signers: _SignerCache, console: Any,
              options: dict[str, Any]) -> Any:
    from vaxtrust.passport.batch import (
        check_run_files,
        count_people_of_run,
        people_of_run,
        sign_batch,
    )

    check_run_files(run, register)
    return sign_batch(people_of_run(run, register), journal, signers.for_person, console=console,
                      total=count_people_of_run(run), **options)


def _sign_store(db: str | None, actor_name: str, reclaim_after: int | None, journal: Any,
                signers: _SignerCache, console: Any, options: dict[str, Any]) -> Any:
    import socket

    from vaxtrust.cli.signin import signed_in
    from vaxtrust.passport.batch_store import release_stale_claims, sign_from_store
    from vaxtrust.store.db import Store

    store = Store.open(db)
    try:
        actor = signed_in(store, actor_name, admin=False)
        if reclaim_after is not None:
            released = release_stale_claims(store, actor, older_than=timedelta(minutes=reclaim_after),
                                            now=_now())
            console.message(f"released {released} stale claim(s)")
        worker = f"{socket.gethostname()}:{os.getpid()}"
        return sign_from_store(store, actor, journal, signers.for_person, worker=worker,
                               console=console, **options)
    finally:
        store.close()


class _SignerCache:
    """Loads each signer once (a token session or a decrypted key) and picks one per person."""

    def __init__(self, store: Any, passphrase: str | None, pin: str | None, fixed: str | None) -> None:
        self._store, self._passphrase, self._pin, self._fixed = store, passphrase, pin, fixed
        self._loaded: dict[str, Any] = {}

    def for_person(self, person: Any) -> tuple[str, Any]:
        name = self._fixed or self._store.signer_for(
            province=person.province, facility=person.latest_facility
        ).name
        if name not in self._loaded:
            self._loaded[name] = self._store.load_signer(
                name, now=_now(), passphrase=self._passphrase, pin=self._pin
            )
        return name, self._loaded[name]

    def close(self) -> None:
        for signer in self._loaded.values():
            close = getattr(signer, "close", None)
            if close is not None:
                close()

