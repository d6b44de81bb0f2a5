"""``vaxtrust passport sign-batch|revoke|revocation-list``: thin shells over :mod:`vaxtrust.app.signing`.

Every command works on a store: the one named by ``--db`` or the settings' ``store.url`` (with
``--as``), else the embedded store of the key store (``--keystore`` or ``passport.keystore``).
Secrets come from environment variables, never the command line.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vaxtrust.cli.passport_keys_cmds import CscaPassphraseEnv, CscaPinEnv, CscaPinFile, OutFile
from vaxtrust.cli.settings import cli_settings
from vaxtrust.errors import ConfigError
from vaxtrust.redact import safe_url
from vaxtrust.signing import CLAIM

if TYPE_CHECKING:
    from vaxtrust.app.signing import StoreChoice
    from vaxtrust.config import Settings

revocation_app = typer.Typer(help="Danh sách thu hồi / revocation list for verifiers.", no_args_is_help=True)

Db = Annotated[str | None, typer.Option(
    "--db", help="Store URL (default: the key store's embedded store).")]
As = Annotated[str | None, typer.Option("--as", help="Store user (with --db): their password from "
                                        "$VAXTRUST_PASSWORD or a prompt, or their $VAXTRUST_TOKEN.")]
KeyStore = Annotated[Path | None, typer.Option(
    "--keystore", help="Key store directory (default: the passport.keystore setting).")]


def _settings(db: str | None, keystore: Path | None, **passport: Any) -> Settings:
    return cli_settings(store={"url": db}, passport={"keystore": keystore, **passport})


def _choice(settings: Settings, actor: str | None) -> StoreChoice:
    """The named store (option, environment or file) with its user signed in, else the key
    store's embedded one (administrator mode of the account that owns it)."""
    from vaxtrust.app.signing import StoreChoice
    from vaxtrust.cli.signin import TOKEN_ENV, signed_in

    if settings.passport.keystore is None:
        raise ConfigError("no key store: give --keystore or set passport.keystore")
    if "url" not in settings.store.model_fields_set:
        if actor is not None:
            raise ConfigError("--as goes with --db: the key store's own store is worked by the "
                              "account that owns it")
        return StoreChoice(keystore=settings.passport.keystore)
    if actor is None and not os.environ.get(TOKEN_ENV):
        raise ConfigError(f"--db needs --as (the store user who signs) or ${TOKEN_ENV}")
    return StoreChoice(keystore=settings.passport.keystore, database_url=settings.store.url,
                       sign_in=lambda store: signed_in(store, actor, admin=False),
                       audit_key_file=settings.store.audit_key_file,
                       audit_head_dir=settings.store.audit_head_dir)


def register(passport_app: typer.Typer) -> None:
    """Add the batch-signing and revocation commands to ``passport_app``."""
    passport_app.command("sign-batch")(sign_batch_command)
    passport_app.command("revoke")(revoke_command)
    passport_app.add_typer(revocation_app, name="revocation-list")


def sign_batch_command(
    out: Annotated[Path, typer.Option("--out", help="Output directory (journal, certificates.parquet).")],
    keystore: KeyStore = None,
    run: Annotated[Path | None, typer.Option(
        "--run", help="Cleaning run to publish into the store first, then sign.")] = None,
    db: Db = None,
    actor_name: As = None,
    reclaim_after: Annotated[int | None, typer.Option(
        "--reclaim-after", min=0, help="First release tasks claimed more than this many minutes ago "
        "(a signer that crashed); the UVCIs they reserved are revoked.")] = None,
    signer: Annotated[str | None, typer.Option(
        "--signer", help="Sign everyone with this signer (default: by province/facility).")] = None,
    allow_flagged: Annotated[bool, typer.Option(
        "--allow-flagged", help="Also sign people whose doses carry plausibility flags.")] = False,
    claim: Annotated[int, typer.Option(
        "--claim", min=1, max=10_000, help="Tasks claimed and signed per store transaction.")] = CLAIM,
    validity_days: Annotated[int | None, typer.Option("--validity-days", min=1, max=3650)] = None,
    passphrase_env: Annotated[str | None, typer.Option("--passphrase-env")] = None,
    pin_env: Annotated[str | None, typer.Option("--pin-env")] = None,
) -> None:
    """Sign the store's signing queue (after publishing --run into it); safe to re-run after a crash."""
    from vaxtrust.app.signing import SignRequest, sign
    from vaxtrust.console import RichConsole
    from vaxtrust.signing.batch import BatchOptions

    settings = _settings(db, keystore, signer=signer, validity_days=validity_days,
                         passphrase_env=passphrase_env, pin_env=pin_env)
    passport = settings.passport
    request = SignRequest(
        store=_choice(settings, actor_name), out=out, run=run,
        signers=settings.signers(),
        options=BatchOptions(validity=timedelta(days=passport.validity_days),
                             allow_flagged=allow_flagged, claim=claim),
        reclaim_after=None if reclaim_after is None else timedelta(minutes=reclaim_after),
    )
    with RichConsole() as console:
        result = sign(request, console=console)
    summary = result.summary
    if result.published is not None and not result.published.already_published:
        typer.echo(f"published run {result.published.run_id} into {safe_url(result.database_url)}: "
                   f"{result.published.signing_queued:,} people queued for signing")
    skipped_text = ", ".join(f"{reason} {count}" for reason, count in sorted(summary.skipped.items()))
    recovered = f", recovered {summary.recovered}" if summary.recovered else ""
    unknown = (f", revoked {summary.revoked_unknown} the store did not know"
               if summary.revoked_unknown else "")
    typer.echo(
        f"issued {summary.issued}, re-issued {summary.reissued}, renewed {summary.renewed}, "
        f"already issued {summary.already_issued}{recovered}{unknown}, "
        f"skipped {summary.total_skipped}{' (' + skipped_text + ')' if skipped_text else ''} "
        f"→ {result.certificates}"
    )


def revoke_command(
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the store and its audit trail).")],
    keystore: KeyStore = None,
    db: Db = None,
    actor_name: As = None,
    person_id: Annotated[str | None, typer.Option(
        "--person-id", help="Revoke this person's current certificate.")] = None,
    uvci: Annotated[str | None, typer.Option("--uvci", help="Revoke the certificate with this UVCI.")] = None,
    block: Annotated[bool, typer.Option("--block", help="Never sign this person again in a batch.")] = False,
) -> None:
    """Revoke an issued certificate (the next revocation-list export carries it)."""
    from vaxtrust.app.signing import revoke

    revoked = revoke(_choice(_settings(db, keystore), actor_name), reason=reason,
                     person_id=person_id, uvci=uvci, block=block)
    typer.echo(f"revoked {revoked}" + (" (person blocked)" if block else ""))


@revocation_app.command("export")
def revocation_list_export_command(
    out: OutFile,
    keystore: KeyStore = None,
    db: Db = None,
    actor_name: As = None,
    country: Annotated[str, typer.Option("--country")] = "VN",
    hash_type: Annotated[list[str] | None, typer.Option(
        "--hash-type", help="Hash type to publish (repeatable; default all three): "
        "SIGNATURE, UCI, COUNTRYCODEUCI.")] = None,
    unsigned: Annotated[bool, typer.Option(
        "--unsigned", help="Do not sign the list with the CSCA key (verifiers that pin the CSCA refuse it).")] = False,
    csca_passphrase_env: CscaPassphraseEnv = None,
    csca_pin_env: CscaPinEnv = None,
    csca_pin_file: CscaPinFile = None,
) -> None:
    """Export the certificates the store revoked as hash batches for verifiers."""
    from vaxtrust.app.signing import revocations
    from vaxtrust.passport.revocation import HASH_TYPES, export_revocation_list

    hash_type = hash_type or list(HASH_TYPES)
    unknown = sorted(set(hash_type) - set(HASH_TYPES))
    if unknown:
        raise ConfigError(f"--hash-type {', '.join(unknown)} is not one of {', '.join(HASH_TYPES)}")
    settings = _settings(db, keystore, csca_passphrase_env=csca_passphrase_env,
                         csca_pin_env=csca_pin_env, csca_pin_file=csca_pin_file)
    choice = _choice(settings, actor_name)
    signing_key = None
    if not unsigned:
        keys = settings.open_keystore()
        signing_key = keys.csca_key(settings.passport.csca_secret(keys.csca.backend))
    batches = export_revocation_list(
        revocations(choice, country=country), out, country=country, now=datetime.now(UTC),
        hash_types=[kind for kind in HASH_TYPES if kind in hash_type], signing_key=signing_key,
    )
    signed = "signed with the CSCA key" if signing_key is not None else "unsigned"
    typer.echo(f"revocation list with {batches} batch(es), {signed} → {out}")
