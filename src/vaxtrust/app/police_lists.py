"""The commune police lists of procedure 2262/BYT-CNTT (issue 16): export and answered import."""

from __future__ import annotations

from pathlib import Path

from vaxtrust.app._store import acting
from vaxtrust.reports import police
from vaxtrust.reports.police import ExportedList, ImportResult
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor, Permission

__all__ = ["ExportedList", "ImportResult", "export_lists", "import_list"]


def export_lists(store: Store, actor: Actor, out_dir: Path, *,
                 commune: str | None = None) -> list[ExportedList]:
    """One Excel file per commune (``commune``, or every commune with records to authenticate
    in the actor's scope) in ``out_dir``, named ``2262-<commune>-<list id>.xlsx``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with acting(store, actor, subject=f"police_list:{commune or '*'}") as (session, by):
        by.require(Permission.POLICE_LISTS)
        communes = ([police.commune_code(commune)] if commune
                    else police.communes_in_scope(session, by))
        exported = []
        for code in communes:
            path = out_dir / f"2262-{code}.xlsx"
            made = police.export_list(session, by, code, path)
            final = out_dir / f"{made.list_id}.xlsx"
            path.rename(final)
            exported.append(ExportedList(made.list_id, made.commune_code, made.rows, final))
        return exported


def import_list(store: Store, actor: Actor, path: Path) -> ImportResult:
    """Apply the police's answers: each a verified review decision; bad rows with reasons."""
    with acting(store, actor, subject=f"police_list:{path.name}") as (session, by):
        return police.import_answers(session, by, path)
