"""``vaxtrust report | officers | lists`` (issue 16): campaign progress reports, daily snapshots,
campaigns, accountability; the focal officers directory; the commune police lists (2262)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from vaxtrust.cli.signin import ADMIN_OPTION, AS_OPTION
from vaxtrust.cli.store_cmds import DB_OPTION, _signed_in, _table, out
from vaxtrust.errors import ConfigError

report_app = typer.Typer(help="Báo cáo tiến độ / campaign progress reports, snapshots, "
                         "campaigns and accountability.", no_args_is_help=True)

officers_app = typer.Typer(help="Đầu mối / focal officers of provinces, CDCs, the ministry, and "
                           "facility heads.", no_args_is_help=True)

lists_app = typer.Typer(help="Danh sách 2262 / the commune police lists of procedure "
                        "2262/BYT-CNTT: export, and import the answered list.",
                        no_args_is_help=True)

LIVE_OPTION = typer.Option(False, "--live", help="Today's figures computed now, not read from "
                           "today's snapshot (the default when one was taken).")
DATE_OPTION = typer.Option(None, "--date", help="Day (YYYY-MM-DD or DD/MM/YYYY; default: "
                           "today in Viet Nam). A past day reads its snapshot.")


def _date(text: str | None) -> dt.date | None:
    from vaxtrust.reports.campaign import parse_date

    return parse_date(text, "--date") if text else None


def _pairs(values: list[str], option: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{option} {value!r}: write KEY=VALUE")
        found[key.strip()] = rest.strip()
    return found


@report_app.command("progress")
def progress_command(
    out_file: Annotated[Path, typer.Option("--out", help="File to write.")],
    actor_name: str | None = AS_OPTION,
    admin: bool = ADMIN_OPTION,
    date: str | None = DATE_OPTION,
    level: Annotated[list[str] | None, typer.Option(
        "--level", help="province, district, commune or facility (repeatable; default all).")]
    = None,
    fmt: Annotated[str, typer.Option("--format", help="xlsx, pdf or json.")] = "xlsx",
    campaign: Annotated[str | None, typer.Option("--campaign", help="Campaign code.")] = None,
    live: bool = LIVE_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Báo cáo tiến độ / the progress report of a day, in your scope."""
    from vaxtrust.app.reports import FORMATS, LEVELS, progress, write_progress

    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt}: use {', '.join(FORMATS)}")
    store, actor = _signed_in(db, actor_name, admin)
    report = progress(store, actor, day=_date(date), levels=tuple(level or LEVELS),
                      campaign=campaign, live=live)
    write_progress(report, out_file, fmt)
    total = report.total
    out.print(f"wrote {out_file}: {report.as_of.isoformat()} ({report.source}), scope "
              f"{report.scope}: {total.counts['records']:,} dose records, "
              f"{total.authenticated_share:.1%} authenticated, "
              f"{total.counts['people_signed']:,} of {total.counts['people_linked']:,} "
              "people signed")


@report_app.command("snapshot")
def snapshot_command(
    actor_name: str | None = AS_OPTION,
    admin: bool = ADMIN_OPTION,
    date: str | None = DATE_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Ảnh chụp số liệu ngày / write the day's counts (again: replaces that day's)."""
    from vaxtrust.app.reports import take_snapshot

    result = take_snapshot(*_signed_in(db, actor_name, admin), day=_date(date))
    out.print(f"snapshot {result.snapshot_date.isoformat()}: {result.rows:,} rows"
              + (f" (replaced {result.replaced:,})" if result.replaced else ""))


@report_app.command("campaign")
def campaign_command(
    actor_name: str | None = AS_OPTION,
    admin: bool = ADMIN_OPTION,
    code: Annotated[str | None, typer.Option("--code", help="Campaign code (default: the "
                                             "current one).")] = None,
    name: Annotated[str | None, typer.Option("--name", help="New name.")] = None,
    deadline: Annotated[list[str] | None, typer.Option(
        "--deadline", help="KEY=DATE, e.g. verification=2022-04-30 (repeatable).")] = None,
    target: Annotated[list[str] | None, typer.Option(
        "--target", help="authenticated_share=0.95 or signed_share=0.9 (repeatable).")] = None,
    complaint_hours: Annotated[int | None, typer.Option(
        "--complaint-hours", help="Hours a complaint has from recording (9458: 48).")] = None,
    working_days: Annotated[bool | None, typer.Option(
        "--complaint-working-days/--complaint-round-the-clock",
        help="Count the complaint hours on working days only (Viet Nam's holidays).")] = None,
    db: str | None = DB_OPTION,
) -> None:
    """Chiến dịch / show the campaign; with --name, --deadline, --target or a complaint
    deadline, change it."""
    from vaxtrust.app.reports import save_campaign, show_campaign
    from vaxtrust.reports.campaign import parse_date

    store, actor = _signed_in(db, actor_name, admin)
    if name or deadline or target or complaint_hours is not None or working_days is not None:
        deadlines = {k: parse_date(v, f"--deadline {k}")
                     for k, v in _pairs(deadline or [], "--deadline").items()}
        try:
            targets = {k: float(v) for k, v in _pairs(target or [], "--target").items()}
        except ValueError as error:
            raise ConfigError(f"--target: a share is a number between 0 and 1 ({error})") \
                from error
        chosen = save_campaign(store, actor, code=code, name=name, deadlines=deadlines,
                               targets=targets, complaint_hours=complaint_hours,
                               complaint_working_days=working_days)
    else:
        chosen = show_campaign(store, actor, code)
    out.print(f"{chosen.code}: {chosen.name} (from {chosen.starts_on.isoformat()}"
              + ("" if chosen.saved else "; built-in default") + ")")
    out.print(_table("deadlines", ["key", "due", "measure", "label"],
                     [[d.key, d.due_on.isoformat(), d.measure, d.label]
                      for d in chosen.deadlines]))
    out.print("targets: " + ", ".join(f"{k}={v:g}" for k, v in chosen.targets.items()))
    out.print(f"complaint deadline: {chosen.complaint_deadline_text() or 'from the settings'}")


@report_app.command("accountability")
def accountability_command(
    out_file: Annotated[Path, typer.Option("--out", help="File to write.")],
    actor_name: str | None = AS_OPTION,
    admin: bool = ADMIN_OPTION,
    date: str | None = DATE_OPTION,
    days: Annotated[int, typer.Option("--days", help="Errors open longer than this count.")]
    = 7,
    fmt: Annotated[str, typer.Option("--format", help="xlsx or json.")] = "xlsx",
    live: bool = LIVE_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Trách nhiệm người đứng đầu / facilities ranked per province by passports held back."""
    from vaxtrust.app.reports import facility_accountability, write_accountability

    if fmt not in ("xlsx", "json"):
        raise ConfigError(f"--format {fmt}: use xlsx or json")
    store, actor = _signed_in(db, actor_name, admin)
    ranked = facility_accountability(store, actor, day=_date(date), days=days, live=live)
    write_accountability(ranked, out_file, fmt)
    out.print(f"wrote {out_file}: {len(ranked)} facilities; "
              f"{sum(a.verified_unsigned for a in ranked):,} authenticated people not signed")


@officers_app.command("list")
def officers_list(
    actor_name: str | None = AS_OPTION,
    admin: bool = ADMIN_OPTION,
    province: str | None = typer.Option(None, "--province", help="Province code."),
    unit: str | None = typer.Option(None, "--unit", help="ministry, health_department, cdc "
                                    "or facility."),
    db: str | None = DB_OPTION,
) -> None:
    """Focal officers in your scope."""
    from vaxtrust.app.officers import list_officers

    found = list_officers(*_signed_in(db, actor_name, admin), province_code=province, unit=unit)
    out.print(_table(f"focal officers: {len(found)}",
                     ["province", "unit", "facility", "full name", "position", "phone", "email"],
                     [[o.province_code, o.unit, o.facility_id, o.full_name, o.position, o.phone,
                       o.email] for o in found]))


@officers_app.command("import")
def officers_import(
    path: Annotated[Path, typer.Argument(help="Excel file (the export's columns).")],
    actor_name: str | None = AS_OPTION,
    admin: bool = ADMIN_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Add or update officers from Excel; rows with a problem are refused with a reason."""
    from vaxtrust.app.officers import import_officers

    result = import_officers(*_signed_in(db, actor_name, admin), path)
    out.print(f"{result.added} added, {result.updated} updated, {result.unchanged} unchanged, "
              f"{len(result.rejected)} refused")
    if result.rejected:
        out.print(_table("refused rows", ["row", "reason"],
                         [[r.row_number, r.reason] for r in result.rejected]))
        raise typer.Exit(1)


@officers_app.command("export")
def officers_export(
    out_file: Annotated[Path, typer.Option("--out", help="Excel file to write.")],
    actor_name: str | None = AS_OPTION,
    admin: bool = ADMIN_OPTION,
    province: str | None = typer.Option(None, "--province", help="Province code."),
    db: str | None = DB_OPTION,
) -> None:
    """Write the officers in your scope as Excel."""
    from vaxtrust.app.officers import export_officers

    count = export_officers(*_signed_in(db, actor_name, admin), out_file, province_code=province)
    out.print(f"wrote {out_file}: {count} officers")


@lists_app.command("export")
def lists_export(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the files (one per "
                                          "commune).")],
    actor_name: str | None = AS_OPTION,
    admin: bool = ADMIN_OPTION,
    commune: Annotated[str | None, typer.Option(
        "--commune", help="Commune code; default: every commune in your scope with records "
        "to authenticate.")] = None,
    db: str | None = DB_OPTION,
) -> None:
    """Lists of the people whose records could not be verified, for the commune police."""
    from vaxtrust.app.police_lists import export_lists

    made = export_lists(*_signed_in(db, actor_name, admin), out_dir, commune=commune)
    out.print(_table(f"{len(made)} lists", ["list", "commune", "rows", "file"],
                     [[m.list_id, m.commune_code, m.rows, m.path] for m in made]))


@lists_app.command("import")
def lists_import(
    path: Annotated[Path, typer.Argument(help="The answered list (Excel).")],
    actor_name: str | None = AS_OPTION,
    admin: bool = ADMIN_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Apply the police's answers as review decisions (idempotent); bad rows with reasons."""
    from vaxtrust.app.police_lists import import_list

    result = import_list(*_signed_in(db, actor_name, admin), path)
    out.print(f"list {', '.join(result.list_ids) or '-'}: {result.applied} applied, "
              f"{result.already_applied} applied before, {result.unanswered} unanswered, "
              f"{len(result.rejected)} refused; {len(result.signing_queued)} queued for signing")
    if result.rejected:
        out.print(_table("refused rows", ["row", "record", "reason"],
                         [[r.row_number, r.record_id, r.reason] for r in result.rejected]))
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the report, officers and lists commands to ``app``."""
    app.add_typer(report_app, name="report")
    app.add_typer(officers_app, name="officers")
    app.add_typer(lists_app, name="lists")
