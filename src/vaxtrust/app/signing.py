"""Signing operations: sign the store's queue (publishing a run first when given one), revoke, and
list revocations. The ``sign-batch``, ``revoke`` and ``revocation-list`` commands are thin shells
over these.

There is one signing path: signing reads only the store. A run folder is published into a store
first (checked against the content manifest its cleaning wrote), into the key store's embedded
SQLite store when no store is named, so every signing of one key store shares one rule: one current
certificate per person.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from vaxtrust.app._store import acting
from vaxtrust.console import Console, NoopConsole
from vaxtrust.errors import ConfigError, InputError, PermissionDenied
from vaxtrust.schema import RUN_RESULTS
from vaxtrust.signing.batch import BatchOptions, BatchSummary
from vaxtrust.signing.signers import Signers

if TYPE_CHECKING:
    from vaxtrust.passport.revocation import Revocation
    from vaxtrust.store.db import Store
    from vaxtrust.store.publish import PublishReport
    from vaxtrust.store.scope import Actor

EMBEDDED_STORE = "store.db"  # inside the key store folder: one issuer, one store
SIGN_BATCH = "passport sign-batch"

SignIn = Callable[["Store"], "Actor"]
"""How the acting user of a named store is established (``vaxtrust.store.auth``)."""


def embedded_store_url(keystore: Path) -> str:
    """The SQLite store that belongs to a key store: used when no store is named."""
    return f"sqlite:///{keystore / EMBEDDED_STORE}"


@dataclass(frozen=True)
class StoreChoice:
    """Which store to sign from and as whom: a named store needs its user signed in
    (``sign_in``); the key store's embedded store is worked by the operating-system account that
    owns it, in the store's administrator mode."""

    keystore: Path
    database_url: str | None = None
    sign_in: SignIn | None = None
    audit_key_file: Path | None = None     # the named store's (``store.audit_key_file``)
    audit_head_dir: Path | None = None

    @property
    def url(self) -> str:
        return self.database_url or embedded_store_url(self.keystore)

    @property
    def embedded(self) -> bool:
        return self.database_url is None


@dataclass(frozen=True)
class SignRequest:
    store: StoreChoice
    out: Path
    run: Path | None = None
    signer: str | None = None
    passphrase: str | None = None
    pin: str | None = None
    options: BatchOptions = field(default_factory=BatchOptions)
    reclaim_after: timedelta | None = None
    signers: Signers | None = None
    """The batch's signers (``Settings.signers()``); default: built from the key store with
    ``signer``, ``passphrase`` and ``pin``. ``sign`` closes them."""


@dataclass(frozen=True)
class SignResult:
    summary: BatchSummary
    certificates: Path
    skipped: Path
    database_url: str
    published: PublishReport | None
    released_claims: int


def sign(request: SignRequest, *, console: Console | None = None,
         now: Callable[[], datetime] | None = None) -> SignResult:
    """Publish the run (if any) into the store, then sign the store's queue into ``out``."""
    from vaxtrust.passport.keystore import KeyStore
    from vaxtrust.signing.batch import release_stale_claims, sign_from_store
    from vaxtrust.signing.journal import JOURNAL, IssuanceJournal, export_outputs

    console = console or NoopConsole()
    clock = now or (lambda: datetime.now(UTC))
    with _open_store(request.store) as (store, actor):
        published = None
        if request.run is not None:
            published = publish_for_signing(store, actor, request.run, console)
        released = 0
        if request.reclaim_after is not None:
            released = release_stale_claims(store, actor, older_than=request.reclaim_after, now=clock())
            console.message(f"released {released} stale claim(s)")
        signers = request.signers or Signers(
            KeyStore.open(request.store.keystore), passphrase=request.passphrase,
            pin=request.pin, fixed=request.signer, now=clock)
        try:
            with IssuanceJournal(request.out / JOURNAL) as journal:
                summary = sign_from_store(
                    store, actor, journal, signers.for_person, worker=f"{socket.gethostname()}:{os.getpid()}",
                    now=clock, options=request.options, console=console)
                certificates, skipped = export_outputs(journal, request.out)
        finally:
            signers.close()
    return SignResult(summary, certificates, skipped, request.store.url, published, released)


def publish_for_signing(store: Store, actor: Actor, run: Path, console: Console) -> PublishReport:
    """Publish ``run`` (its content manifest checked) so that its people are in the store's queue;
    a run published before changes nothing.

    Only the ministry's role publishes this way, checked here and audited when refused: a run
    signed in one go is the country's (a province publishes its run with ``vaxtrust publish``,
    scoped, and signs its queue with ``sign-batch --db``). The key store's embedded store acts
    in administrator mode, which holds the ministry's rights and is audited as ``os:ACCOUNT``.
    """
    from vaxtrust.app.publish import publish
    from vaxtrust.pipeline.outputs import check_contents
    from vaxtrust.store.scope import Role

    if actor.role != Role.MINISTRY:
        with acting(store, actor, subject=f"run:{run.name}"[:80]):
            raise PermissionDenied(
                f"user {actor.username} ({actor.role}) may not publish with {SIGN_BATCH} --run: "
                "that is the ministry's; publish your province's run with `vaxtrust publish`, "
                f"then sign its queue with `{SIGN_BATCH} --db`")
    if not (run / RUN_RESULTS).is_file():
        raise InputError(f"not a cleaning run: {RUN_RESULTS} is missing", path=str(run))
    if store.audit_key is None:
        raise ConfigError("the store has no audit key: it checks the run's content manifest "
                          "(store.audit_key_file or $VAXTRUST_AUDIT_KEY)")
    check_contents(run, store.audit_key)  # keyed: a recomputed manifest is refused
    return publish(store, actor, run, console=console)


def revoke(choice: StoreChoice, *, reason: str, person_id: str | None = None, uvci: str | None = None,
           block: bool = False) -> str:
    """Revoke a current certificate in the store (the next revocation list carries it)."""
    from vaxtrust.signing import queue

    subject = f"person:{person_id}" if person_id else f"certificate:{uvci}"
    with _open_store(choice, create=False) as (store, actor), \
            acting(store, actor, subject=subject[:80]) as (session, by):
        return queue.revoke(session, by, reason=reason, person_id=person_id, uvci=uvci, block=block)


def revocations(choice: StoreChoice, *, country: str) -> list[Revocation]:
    """Every certificate the store revoked, for the revocation list."""
    from vaxtrust.signing import queue

    with _open_store(choice, create=False) as (store, actor), acting(store, actor) as (session, by):
        return list(queue.revocations(session, by, country=country))


@contextmanager
def _open_store(choice: StoreChoice, *, create: bool = True) -> Iterator[tuple[Store, Actor]]:
    from vaxtrust.store.auth import administrator
    from vaxtrust.store.db import Store

    if not choice.embedded and choice.sign_in is None:
        raise ConfigError("--db needs --as (the store user who signs)")
    if choice.embedded and not create and not (choice.keystore / EMBEDDED_STORE).is_file():
        raise ConfigError(f"no store in {choice.keystore}: run `vaxtrust passport sign-batch "
                          f"--keystore {choice.keystore} --run …` first, or name one with --db")
    store = Store.open(choice.url, audit_key_file=choice.audit_key_file,
                       audit_head_dir=choice.audit_head_dir)
    try:
        if choice.sign_in is not None:
            actor = choice.sign_in(store)
        else:
            actor = administrator(store, command=SIGN_BATCH)
        yield store, actor
    finally:
        store.close()
