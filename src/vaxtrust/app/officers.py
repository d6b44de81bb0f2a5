"""The focal officers directory (issue 16): list, import and export, within the actor's scope."""

from __future__ import annotations

from pathlib import Path

from vaxtrust.app._store import acting
from vaxtrust.files import private_dir
from vaxtrust.reports import officers
from vaxtrust.reports.officers import ImportResult, OfficerView
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor

__all__ = ["ImportResult", "OfficerView", "export_officers", "import_officers", "list_officers"]



def list_officers(store: Store, actor: Actor, *, province_code: str | None = None,
                  unit: str | None = None) -> list[OfficerView]:
    with acting(store, actor) as (session, by):
        return officers.list_officers(session, by, province_code=province_code, unit=unit)


def import_officers(store: Store, actor: Actor, path: Path) -> ImportResult:
    """Add or update officers from an Excel file; bad rows come back with their reasons."""
    with acting(store, actor, subject=f"officers:{path.name}") as (session, by):
        return officers.import_file(session, by, path)


def export_officers(store: Store, actor: Actor, out: Path, *,
                    province_code: str | None = None) -> int:
    """Write the officers in scope as Excel (the import's columns); returns how many."""
    from vaxtrust.reports.xlsx import write_sheets

    found = list_officers(store, actor, province_code=province_code)
    private_dir(out.parent)
    write_sheets(out, [(officers.SHEET, officers.COLUMNS, [o.to_row() for o in found])])
    return len(found)
