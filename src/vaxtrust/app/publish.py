"""``publish``: a cleaning run folder → the operational store (``docs/store.md``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from vaxtrust.app._store import acting
from vaxtrust.console import Console, NoopConsole
from vaxtrust.store.db import Store
from vaxtrust.store.publish import PublishReport, RunInputs, publish_run
from vaxtrust.store.scope import Actor

__all__ = ["PublishReport", "publish"]


def publish(store: Store, actor: Actor, run_dir: Path, *, facilities: Path | None = None,
            records: Sequence[Path] = (), register: Path | None = None,
            console: Console | None = None) -> PublishReport:
    """Publish the run in ``run_dir`` in one transaction: all of it or nothing.

    ``facilities`` optionally names facilities (facility_id, name, province_code) to register.
    """
    inputs = RunInputs.locate(run_dir, records, register, facilities)
    with acting(store, actor) as (session, by):
        return publish_run(session, by, inputs, console=console or NoopConsole())
