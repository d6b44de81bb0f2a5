"""``publish``: a cleaning run folder → the operational store (``docs/store.md``)."""

from __future__ import annotations

from pathlib import Path

from vaxtrust.app._store import acting
from vaxtrust.app.audit import export_head
from vaxtrust.console import Console, NoopConsole
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
    with acting(store, actor, subject=f"run:{run.manifest.run_id}") as (session, by):
        report = publish_run(session, by, run, console=console or NoopConsole())
    if not report.already_published:
        export_head(store, check=False)     # the chain's signed head, kept outside the store
    return report
