"""``vaxtrust complaints``: citizens' complaints (phản ánh) handled to a deadline (9458/BYT-CNTT).

Every command acts as a signed-in officer (``--as USER``) within their scope, like the review
queue: a facility sees the complaints routed to it, a province those of its province (and the
escalated ones), the ministry all of them and the daily pick-up queue.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vaxtrust.cli.settings import cli_settings
from vaxtrust.cli.signin import ADMIN_OPTION, AS_OPTION, signed_in
from vaxtrust.cli.store_cmds import DB_OPTION, _check_choice, _table, out
from vaxtrust.errors import ConfigError

if TYPE_CHECKING:
    from vaxtrust.complaints.notify import Notifier
    from vaxtrust.config import Settings
    from vaxtrust.store.db import Store
    from vaxtrust.store.scope import Actor

complaints_app = typer.Typer(
    help="Phản ánh của người dân / citizens' complaints: import, list, show, assign, resolve, "
    "refuse, escalate.", no_args_is_help=True)

VERSION_OPTION = typer.Option(None, "--version", help="The version you saw in `complaints "
                              "show`; refused if someone changed it since.")


def _signed_in(db: str | None, actor_name: str | None, admin: bool
               ) -> tuple[Settings, Store, Actor]:
    settings = cli_settings(store={"url": db})
    store = settings.open_store()
    return settings, store, signed_in(store, actor_name, admin)


def _notifier(settings: Settings) -> Notifier:
    from vaxtrust.web.codes import notifier_from_setting

    return notifier_from_setting(settings.web.code_sender)


@complaints_app.command("import")
def complaints_import(
    path: Annotated[Path, typer.Argument(help="CSV or XLSX export of another portal (Vietnamese "
                                         "headers: Mã phản ánh, Họ và tên, Ngày sinh, ...).")],
    actor_name: str | None = AS_OPTION,
    admin: bool = ADMIN_OPTION,
    db: str | None = DB_OPTION,
    rejects: Annotated[Path | None, typer.Option(
        "--rejects", help="Write the rejected rows here (CSV: row, field, value, reason, "
        "message).")] = None,
    settle: Annotated[bool, typer.Option(
        "--settle", help="Then settle, as the system, those whose proposal is certain.")]
    = False,
) -> None:
    """Import complaints: bad rows rejected with row, field and reason; the rest triaged."""
    from vaxtrust.app.complaints import import_file

    settings, store, actor = _signed_in(db, actor_name, admin)
    report = import_file(settings, store, actor, path, settle=settle)
    out.print(f"{report.source}: {report.rows_in} rows in = {report.accepted} accepted + "
              f"{report.rejected} rejected; {report.skipped} imported before (skipped); "
              f"{len(report.ids)} complaints stored, {report.proposals} with a proposal"
              + (f", {len(report.settled)} settled automatically" if settle else ""),
              markup=False)
    if rejects is not None:
        rejects.parent.mkdir(parents=True, exist_ok=True)
        with rejects.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["source", "row_number", "complaint_id", "field", "value", "reason",
                             "message"])
            for row in report.rejects:
                writer.writerow([row.source, row.row_number, row.complaint_id, row.field,
                                 row.value, row.reason, row.message])
    for row in report.rejects[:20]:
        out.print(f"  row {row.row_number}: {row.field}: {row.message} ({row.reason})",
                  markup=False)
    if len(report.rejects) > 20:
        out.print(f"  ... {len(report.rejects) - 20} more (--rejects FILE lists all)")


@complaints_app.command("settle")
def complaints_settle(
    actor_name: str | None = AS_OPTION,
    admin: bool = ADMIN_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Settle, as the system, the received complaints in your scope whose proposal is certain
    (only where a cleaning run would link by itself); the rest wait for an officer."""
    from vaxtrust.app.complaints import settle_certain

    settings, store, actor = _signed_in(db, actor_name, admin)
    result = settle_certain(store, actor, notifier=_notifier(settings))
    out.print(f"{len(result.settled)} complaints settled automatically; {len(result.left)} "
              f"certain proposals left for an officer (a guard held them); "
              f"{len(result.signing_queued)} people queued for signing")


@complaints_app.command("list")
def complaints_list(
    actor_name: str | None = AS_OPTION,
    admin: bool = ADMIN_OPTION,
    state: Annotated[list[str] | None, typer.Option(
        "--state", help="received, assigned, in_progress, escalated, resolved, refused "
        "(repeatable; default: the open ones).")] = None,
    facility: str | None = typer.Option(None, "--facility", help="Facility id."),
    province: str | None = typer.Option(None, "--province", help="Province code."),
    overdue: bool = typer.Option(False, "--overdue", help="Only those past their deadline."),
    after: str | None = typer.Option(None, "--after", help="The cursor the previous page "
                                     "printed (next page)."),
    limit: int = typer.Option(50, "--limit", min=1, max=1000),
    db: str | None = DB_OPTION,
) -> None:
    """Your inbox: complaints in your scope, soonest deadline first."""
    from vaxtrust.app.complaints import ComplaintFilter, list_complaints
    from vaxtrust.complaints.model import OPEN_STATES
    from vaxtrust.store.tables import COMPLAINT_STATES

    _check_choice("--state", state or [], COMPLAINT_STATES)
    _, store, actor = _signed_in(db, actor_name, admin)
    page = list_complaints(store, actor, ComplaintFilter(
        states=tuple(state or OPEN_STATES), facility_id=facility, province_code=province,
        overdue=overdue, after=after, limit=limit))
    out.print(_table(
        "complaints (soonest deadline first)",
        ["id", "version", "state", "category", "deadline (UTC)", "overdue", "facility",
         "province", "proposal", "record"],
        [[c.id, c.version, c.state, c.category, c.deadline_at[:16], "yes" if c.overdue else "",
          c.facility_id or f"({c.routing})", c.province_code, c.proposal, c.record_id]
         for c in page.items]))
    if page.next_cursor:
        out.print(f"next page: --after '{page.next_cursor}'", markup=False)


@complaints_app.command("show")
def complaints_show(
    complaint_id: int = typer.Argument(..., help="Complaint number."),
    actor_name: str | None = AS_OPTION,
    admin: bool = ADMIN_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    db: str | None = DB_OPTION,
) -> None:
    """One complaint: the claim, the triage proposal, the record and the register side by side."""
    from vaxtrust.app.complaints import show_complaint

    _, store, actor = _signed_in(db, actor_name, admin)
    detail = show_complaint(store, actor, complaint_id)
    if as_json:
        out.print_json(json.dumps(asdict(detail), ensure_ascii=False, default=str))
        return
    s = detail.summary
    out.print(f"complaint {s.id} (version {s.version}, {s.state}) {s.category}; received "
              f"{s.received_at[:16]}, deadline {s.deadline_at[:16]}"
              f"{' OVERDUE' if s.overdue else ''}; facility {s.facility_id or '-'}, province "
              f"{s.province_code or '-'} ({s.routing})", markup=False)
    if detail.proposal_text:
        certain = " (certain)" if detail.proposal and detail.proposal.certain else ""
        out.print(f"proposal: {detail.proposal_text[0]} / {detail.proposal_text[1]}{certain}",
                  markup=False)
    else:
        out.print("proposal: none: an officer has to look", markup=False)
    record = detail.record or {}
    register = detail.register or {}
    original = record.get("original", {})
    out.print(_table("claim, record and register", ["field", "claim", "record", "register"], [
        [name, detail.claim.get(name), original.get(name), register.get(name)]
        for name in ("full_name", "dob", "gender", "id_number")] + [
        [name, detail.claim.get(key), original.get(name), None]
        for name, key in (("dose_number", "dose_number"), ("vaccine", "vaccine"),
                          ("vaccinated_on", "vaccinated_on"),
                          ("facility_id", "claimed_facility_id"))]))
    if detail.refusal_ground or detail.resolution_note:
        out.print(f"settled {detail.resolved_at}: {detail.refusal_ground or 'resolved'}: "
                  f"{detail.resolution_note}", markup=False)


@complaints_app.command("assign")
def complaints_assign(
    complaint_id: int = typer.Argument(..., help="Complaint number."),
    actor_name: str | None = AS_OPTION,
    admin: bool = ADMIN_OPTION,
    to: str | None = typer.Option(None, "--to", help="Officer to assign it to (default: you, "
                                  "which starts it: in progress)."),
    facility: str | None = typer.Option(None, "--facility", help="Hand it to this facility "
                                        "(province and ministry officers)."),
    reason: str | None = typer.Option(None, "--reason", help="Why (needed to reassign)."),
    version: int | None = VERSION_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Assign, take or reassign a complaint."""
    from vaxtrust.app.complaints import assign

    _, store, actor = _signed_in(db, actor_name, admin)
    result = assign(store, actor, complaint_id, assignee=to, facility_id=facility, reason=reason,
                    expected_version=version)
    out.print(f"complaint {result.id}: {result.state}, assigned to {result.assignee} at "
              f"{result.facility_id or result.province_code}", markup=False)


@complaints_app.command("resolve")
def complaints_resolve(
    complaint_id: int = typer.Argument(..., help="Complaint number."),
    actor_name: str | None = AS_OPTION,
    admin: bool = ADMIN_OPTION,
    note: str = typer.Option(..., "--note", help="What was done (the citizen is told)."),
    record: str | None = typer.Option(None, "--record", help="Link this record instead of the "
                                      "proposal's (checked against the register)."),
    version: int | None = VERSION_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Settle a complaint by confirming its proposal (the review decision path)."""
    from vaxtrust.app.complaints import resolve

    settings, store, actor = _signed_in(db, actor_name, admin)
    result = resolve(store, actor, complaint_id, note=note, record_id=record,
                     expected_version=version, notifier=_notifier(settings))
    queued = ", ".join(result.signing_queued) or "nobody new"
    decision = f" (review decision {result.decision_id})" if result.decision_id else ""
    out.print(f"complaint {result.complaint_id}: resolved by {result.kind}{decision}: record "
              f"{result.record_id} → person {result.person_id}; queued for signing: {queued}",
              markup=False)


@complaints_app.command("refuse")
def complaints_refuse(
    complaint_id: int = typer.Argument(..., help="Complaint number."),
    actor_name: str | None = AS_OPTION,
    admin: bool = ADMIN_OPTION,
    ground: str = typer.Option(..., "--ground", help="One of the 13 grounds of 9458 (code or "
                               "number; `complaints grounds` lists them)."),
    note: str = typer.Option(..., "--note", help="What the citizen should do."),
    version: int | None = VERSION_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Refuse a complaint on one of the 13 grounds of 9458/BYT-CNTT."""
    from vaxtrust.app.complaints import refuse

    settings, store, actor = _signed_in(db, actor_name, admin)
    result = refuse(store, actor, complaint_id, ground=ground, note=note,
                    expected_version=version, notifier=_notifier(settings))
    out.print(f"complaint {result.id}: refused", markup=False)


@complaints_app.command("escalate")
def complaints_escalate(
    complaint_id: int | None = typer.Argument(None, help="Complaint number (none with "
                                              "--overdue)."),
    actor_name: str | None = AS_OPTION,
    admin: bool = ADMIN_OPTION,
    overdue: bool = typer.Option(False, "--overdue", help="Escalate every overdue complaint "
                                 "in your scope."),
    reason: str | None = typer.Option(None, "--reason", help="Why (by hand)."),
    version: int | None = VERSION_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Send a complaint (or every overdue one) to the province's Department of Health / CDC."""
    from vaxtrust.app.complaints import escalate, escalate_overdue

    if (complaint_id is None) == (not overdue):
        raise ConfigError("give a complaint number or --overdue (not both)")
    _, store, actor = _signed_in(db, actor_name, admin)
    if overdue:
        ids = escalate_overdue(store, actor)
        out.print(f"{len(ids)} overdue complaints escalated to their province", markup=False)
        return
    assert complaint_id is not None
    result = escalate(store, actor, complaint_id, reason=reason or "", expected_version=version)
    out.print(f"complaint {result.id}: escalated to province {result.province_code}",
              markup=False)


@complaints_app.command("grounds")
def complaints_grounds() -> None:
    """The 13 refusal grounds of 9458/BYT-CNTT with their stable codes."""
    from vaxtrust.complaints.grounds import GROUNDS

    out.print(_table("refusal grounds (9458/BYT-CNTT)", ["no.", "code", "tiếng Việt", "English"],
                     [[g.number, g.code, g.vi, g.en] for g in GROUNDS]))


def register(app: typer.Typer) -> None:
    app.add_typer(complaints_app, name="complaints")


