"""Campaign progress reports, snapshots and campaigns (issue 16), shared by the CLI and the web.

Reports hold counts only (no personal data) and are limited to the actor's scope: a province
officer's report is their province, a facility officer's their facility.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from vaxtrust.app._store import acting
from vaxtrust.errors import ConfigError
from vaxtrust.files import private_dir
from vaxtrust.reports import accountability, officers, snapshot
from vaxtrust.reports import campaign as campaigns
from vaxtrust.reports import progress as progress_report
from vaxtrust.reports.accountability import FacilityAccount
from vaxtrust.reports.campaign import Campaign
from vaxtrust.reports.progress import LEVELS, ProgressReport
from vaxtrust.reports.snapshot import SnapshotResult
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor

FORMATS = ("json", "xlsx", "pdf")
ACCOUNTABILITY_SHEET = "Trách nhiệm"


__all__ = ["FORMATS", "LEVELS", "FacilityAccount", "ProgressReport", "SnapshotResult",
           "facility_accountability", "progress", "save_campaign", "show_campaign",
           "take_snapshot", "write_accountability", "write_progress"]


def progress(store: Store, actor: Actor, *, day: dt.date | None = None,
             levels: Sequence[str] = LEVELS, campaign: str | None = None,
             today: dt.date | None = None, errors_older_than: int = 7,
             live: bool = False) -> ProgressReport:
    """The progress report of ``day`` (default today, Viet Nam time) in the actor's scope, with
    the facilities' accountability (when the facility level is asked for) and focal officers."""
    now_day = today or snapshot.today_vn()
    with acting(store, actor) as (session, by):
        chosen = campaigns.get(session, campaign)
        report = progress_report.build(session, by, chosen, day or now_day, levels,
                                       today=now_day, live=live)
        ranked = (accountability.build(session, by, report, errors_older_than)
                  if "facility" in report.levels else [])
        return replace(report, accountability=ranked,
                       officers=officers.list_officers(session, by))


def facility_accountability(store: Store, actor: Actor, *, day: dt.date | None = None,
                            days: int = 7, today: dt.date | None = None,
                            live: bool = False) -> list[FacilityAccount]:
    """Facilities ranked per province by the passports they hold back."""
    return progress(store, actor, day=day, levels=("facility",), today=today,
                    errors_older_than=days, live=live).accountability


def write_accountability(ranked: Sequence[FacilityAccount], out: Path, fmt: str) -> Path:
    private_dir(out.parent)    # --out reports/x.xlsx: the folder is made, private
    if fmt == "json":
        out.write_text(json.dumps([a.to_row() for a in ranked], ensure_ascii=False, indent=1),
                       encoding="utf-8")
        return out
    if fmt != "xlsx":
        raise ConfigError(f"accountability format {fmt}: use xlsx or json")
    from vaxtrust.reports.xlsx import write_sheets

    return write_sheets(out, [(ACCOUNTABILITY_SHEET, accountability.COLUMNS,
                               [a.to_row() for a in ranked])])


def take_snapshot(store: Store, actor: Actor, *, day: dt.date | None = None,
                  today: dt.date | None = None, after_publish: bool = False) -> SnapshotResult:
    """Write the day's counts (idempotent for a date): ministry or administrator, or whoever
    just published (``after_publish``, the daily runs)."""
    now_day = today or snapshot.today_vn()
    with acting(store, actor, subject=f"snapshot:{(day or now_day).isoformat()}") as (session, by):
        return snapshot.take(session, by, day or now_day, today=now_day,
                             after_publish=after_publish)


def show_campaign(store: Store, actor: Actor, code: str | None = None) -> Campaign:
    with acting(store, actor) as (session, _by):
        return campaigns.get(session, code)


def save_campaign(store: Store, actor: Actor, *, code: str | None = None,
                  name: str | None = None, starts_on: dt.date | None = None,
                  deadlines: dict[str, dt.date] | None = None,
                  targets: dict[str, float] | None = None,
                  complaint_hours: int | None = None,
                  complaint_working_days: bool | None = None) -> Campaign:
    """Create or change a campaign (the ministry): the current one, or ``code``'s."""
    with acting(store, actor, subject=f"campaign:{code or ''}") as (session, by):
        try:
            base = campaigns.get(session, code)
        except ConfigError:
            base = campaigns.DEFAULT
        changed = campaigns.edited(base, code=code, name=name, starts_on=starts_on,
                                   deadlines=deadlines, targets=targets,
                                   complaint_hours=complaint_hours,
                                   complaint_working_days=complaint_working_days)
        return campaigns.save(session, by, changed)


def write_progress(report: ProgressReport, out: Path, fmt: str) -> Path:
    """Write the report as json, xlsx or pdf."""
    if fmt not in FORMATS:
        raise ConfigError(f"report format {fmt}: use {', '.join(FORMATS)}")
    private_dir(out.parent)
    if fmt == "json":
        out.write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=1),
                       encoding="utf-8")
        return out
    if fmt == "xlsx":
        from vaxtrust.reports import xlsx

        extra = [(ACCOUNTABILITY_SHEET, accountability.COLUMNS,
                  [a.to_row() for a in report.accountability]),
                 (officers.SHEET, officers.COLUMNS, [o.to_row() for o in report.officers])]
        return xlsx.write(report, out, extra)
    from vaxtrust.reports import pdf

    return pdf.write(report, out)
