"""The commune police lists of procedure 2262/BYT-CNTT (issue 16): export and answered import."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from vaxtrust.app._store import acting
from vaxtrust.reports import police
from vaxtrust.reports.police import ExportedList, ImportResult
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor, Permission

__all__ = ["ExportedList", "ImportResult", "communes", "export_lists", "exported_lists",
           "import_list",
           "import_outcome", "recent_imports", "write_rejects"]


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


def import_list(store: Store, actor: Actor, path: Path,
                file_name: str | None = None) -> ImportResult:
    """Apply the police's answers: each a verified review decision; bad rows with reasons. The
    outcome is kept (``import_outcome``) under ``file_name`` (default the path's)."""
    name = file_name or path.name
    with acting(store, actor, subject=f"police_list:{name}"[:80]) as (session, by):
        return police.import_answers(session, by, path, name)


def import_outcome(store: Store, actor: Actor, import_id: int) -> ImportResult:
    with acting(store, actor) as (session, by):
        return police.import_outcome(session, by, import_id)


def recent_imports(store: Store, actor: Actor) -> list[ImportResult]:
    with acting(store, actor) as (session, by):
        return police.recent_imports(session, by)


def communes(store: Store, actor: Actor) -> list[str]:
    """Communes with records to authenticate in the actor's scope (a list can be exported)."""
    with acting(store, actor) as (session, by):
        by.require(Permission.POLICE_LISTS)
        return police.communes_in_scope(session, by)


def exported_lists(store: Store, actor: Actor) -> list[dict[str, object]]:
    """Lists exported in the actor's communes, newest first, with their answers applied."""
    with acting(store, actor) as (session, by):
        return [{"list_id": row.list_id, "commune_code": row.commune_code,
                 "exported_at": row.exported_at, "exported_by": row.exported_by,
                 "rows": row.row_count, "answered": answered}
                for row, answered in reversed(police.lists_of(session, by))]


def write_rejects(result: ImportResult, out: Path) -> Path:
    """The refused rows of an import as Excel (row, record id, reason)."""
    from vaxtrust.reports.xlsx import write_sheets

    return write_sheets(out, [("Dòng bị từ chối", police.REJECT_COLUMNS,
                               [asdict(r) for r in result.rejected])])
