"""``publish``: a cleaning run folder → the operational store (``docs/store.md``)."""

from __future__ import annotations

from pathlib import Path

from vaxtrust.app._store import acting
from vaxtrust.console import Console, NoopConsole
from vaxtrust.errors import PermissionDenied
from vaxtrust.store import audit
from vaxtrust.store.db import Store
from vaxtrust.store.publish import PublishOutsideScope, PublishReport, RunFolder, publish_run
from vaxtrust.store.scope import Actor

__all__ = ["PublishOutsideScope", "PublishReport", "publish"]


def publish(store: Store, actor: Actor, run_dir: Path, *, facilities: Path | None = None,
            console: Console | None = None) -> PublishReport:
    """Publish the run in ``run_dir`` in one transaction: all of it or nothing.

    ``facilities`` optionally names facilities (facility_id, name, province_code) to register.
    A refusal (role, or records outside the actor's scope) is audited, then raised.
    """
    run = RunFolder.open(run_dir, facilities)
    try:
        with acting(store, actor) as (session, by):
            return publish_run(session, by, run, console=console or NoopConsole())
    except PermissionDenied as refusal:
        _audit_refusal(store, actor, run.manifest.run_id, refusal)
        raise


def _audit_refusal(store: Store, actor: Actor, run_id: str, refusal: PermissionDenied) -> None:
    """The refused publish, in its own transaction (the publish's was rolled back)."""
    with store.transaction() as session:
        audit.append(session, [audit.ActionRefused(
            actor=actor.username, subject_id=f"run:{run_id}", action="publish",
            reason=str(refusal))])
