"""Reports under ``/api/v1/reports`` (issue 16): a level's progress as JSON for a date, the
facility heads' accountability, the focal officers, and the report as Excel or PDF. The same
calls and scope as the pages (``/officer/reports``): commune police and citizens get 403."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from vaxtrust.app import officers as officers_app
from vaxtrust.app import reports
from vaxtrust.web.deps import store_of
from vaxtrust.web.routes.api import ERRORS, Officer
from vaxtrust.web.routes.reports import MEDIA, report_file

router = APIRouter(prefix="/reports", tags=["reports"], responses=ERRORS)

Level = Literal["country", "province", "district", "commune", "facility"]
Day = Annotated[dt.date | None, Query(description=(
    "The report's day (Viet Nam time); a past day reads its snapshot. Default today."))]


@router.get("/progress", operation_id="reports-progress")
def progress(request: Request, officer: Officer, level: Level = "province", date: Day = None,
             live: Annotated[bool, Query(description=(
                 "Today's figures computed now rather than read from today's snapshot"))]
             = False) -> dict[str, Any]:
    """One level's figures within your scope, the country total, deadlines and trend."""
    report = reports.progress(store_of(request), officer[1], day=date, levels=(level,),
                              live=live)
    whole = report.to_dict()
    return {key: whole[key] for key in ("as_of", "source", "scope", "campaign", "deadlines",
                                        "trend")} | {
        "level": level, "total": report.total.to_dict(report.as_of),
        "units": [unit.to_dict(report.as_of) for unit in report.levels[level]]}


@router.get("/accountability", operation_id="reports-accountability")
def accountability(request: Request, officer: Officer, date: Day = None,
                   days: Annotated[int, Query(ge=1, le=3650, description=(
                       "Open errors older than this many days count against the facility"))]
                   = 7) -> dict[str, Any]:
    """Facilities ranked per province by the passports they hold back."""
    ranked = reports.facility_accountability(store_of(request), officer[1], day=date, days=days)
    return {"days": days, "facilities": [a.to_row() for a in ranked]}


@router.get("/officers", operation_id="reports-officers")
def officers(request: Request, officer: Officer) -> dict[str, Any]:
    """Focal officers of the Department of Health, CDC and facilities in your scope."""
    found = officers_app.list_officers(store_of(request), officer[1])
    return {"officers": [o.to_row() for o in found]}


@router.get("/progress/download", operation_id="reports-progress-download", responses={
    200: {"content": {MEDIA["xlsx"]: {}, MEDIA["pdf"]: {}},
          "description": "The report's workbook or PDF summary"}})
def download(request: Request, officer: Officer, format: Literal["xlsx", "pdf"] = "xlsx",
             date: Day = None) -> Response:
    """The whole report (every level, accountability, officers) as Excel or PDF."""
    return report_file(reports.progress(store_of(request), officer[1], day=date), format)
