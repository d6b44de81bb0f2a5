"""Report pages (issue 16): campaign progress with charts, downloads (xlsx, pdf, json), facility
heads' accountability and the focal officers, all through ``vaxtrust.app.reports``: the same
figures as ``vaxtrust report``, within the officer's scope."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response

from vaxtrust.app import officers as officers_app
from vaxtrust.app import reports
from vaxtrust.errors import ConfigError
from vaxtrust.reports.campaign import parse_date
from vaxtrust.reports.columns import FIGURE_COLUMNS, LEVEL_SHEETS
from vaxtrust.reports.progress import LEVELS, ProgressReport
from vaxtrust.web.deps import require_officer, store_of
from vaxtrust.web.routes.officers import page

router = APIRouter(prefix="/officer/reports", include_in_schema=False)
MEDIA = {"json": "application/json",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "pdf": "application/pdf"}
TABLE_KEYS = ("records", "authenticated_share", "review", "unmatched", "review_over_7d",
              "people_linked", "people_signed", "signed_share", "complaints_open",
              "complaints_overdue")


def _day(date: str) -> dt.date | None:
    return parse_date(date, "date") if date else None


@router.get("")
def progress_page(request: Request, level: str = "province", date: str = "",
                  live: bool = False) -> Response:
    info, actor = require_officer(request)
    if level not in LEVELS[1:]:
        raise ConfigError(f"level {level}: use {', '.join(LEVELS[1:])}")
    report = reports.progress(store_of(request), actor, day=_day(date),
                              levels=(level, "facility"), live=live)
    units = report.levels[level]
    ranked = sorted(units, key=lambda u: -u.authenticated_share)[:20]
    columns = [c for c in FIGURE_COLUMNS if c.key in TABLE_KEYS]
    return page(request, "reports.html", info, actor, {
        "report": report, "level": level, "units": units, "columns": columns,
        "levels": [(key, LEVEL_SHEETS[key]) for key in LEVELS[1:]], "date": date,
        "ranked": [(u.name, round(100 * u.authenticated_share, 1)) for u in ranked],
        "trend": [(t["date"], round(100 * t["authenticated"] / t["records"], 1)
                   if t["records"] else 0.0,
                   round(100 * t["people_signed"] / t["people_linked"], 1)
                   if t["people_linked"] else 0.0) for t in report.trend]})


@router.get("/download")
def download(request: Request, format: str = "xlsx", date: str = "") -> Response:
    _info, actor = require_officer(request)
    if format not in MEDIA:
        raise ConfigError(f"format {format}: use {', '.join(MEDIA)}")
    return report_file(reports.progress(store_of(request), actor, day=_day(date)), format)


def report_file(report: ProgressReport, format: str) -> Response:
    """The report written as ``format`` (json, xlsx, pdf), as a download."""
    with tempfile.TemporaryDirectory() as folder:
        path = reports.write_progress(report, Path(folder) / f"report.{format}", format)
        body = path.read_bytes()
    name = f"bao-cao-tien-do-{report.as_of.isoformat()}.{format}"
    return Response(body, media_type=MEDIA[format],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/accountability")
def accountability_page(request: Request, days: int = 7, date: str = "") -> Response:
    info, actor = require_officer(request)
    ranked = reports.facility_accountability(store_of(request), actor, day=_day(date),
                                             days=days)
    return page(request, "accountability.html", info, actor,
                {"ranked": ranked, "days": days})


@router.get("/officers")
def officers_page(request: Request) -> Response:
    info, actor = require_officer(request)
    found = officers_app.list_officers(store_of(request), actor)
    return page(request, "focal_officers.html", info, actor, {"officers": found})
