"""Where a complaint goes (9458/BYT-CNTT, ``vn-facts.md`` §6.3).

To the facility that gave the dose in question (from the record triage found, else the facility
the citizen names, if the store knows it). Without a site: with the province only, the province's
Department of Health / CDC; with province and district, the province too (it may delegate to the
district health centre, which then works as a facility account); nothing to route on: the daily
pick-up queue (the ministry's scope, where officers assigned daily pick complaints up).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from vaxtrust.store.tables import Facility


@dataclass(frozen=True)
class Route:
    routing: str
    facility_id: str | None
    province_code: str | None


def facility_provinces(session: Session, facility_ids: set[str]) -> dict[str, str]:
    if not facility_ids:
        return {}
    rows = session.execute(select(Facility.facility_id, Facility.province_code)
                           .where(Facility.facility_id.in_(sorted(facility_ids)))).all()
    return {facility_id: province for facility_id, province in rows}


def route(facility_id: str | None, record_province: str | None, province_code: str | None,
          district_code: str | None, known: dict[str, str]) -> Route:
    """The route of one complaint; ``known`` maps the store's facilities to their provinces."""
    if facility_id and (facility_id in known or record_province):
        return Route("facility", facility_id, record_province or known[facility_id])
    if province_code and district_code:
        return Route("district", None, province_code)
    if province_code:
        return Route("province", None, province_code)
    return Route("pickup", None, None)
