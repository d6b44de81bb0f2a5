"""Progress figures per country, province, district, commune and facility, against a campaign.

Built from the grain rows of :mod:`vaxtrust.reports.snapshot` (live, or a stored snapshot): each
level sums them. Districts come from the commune code (the pre-2025 GSO list in ``vaxtrust.vn``);
a record without a known commune counts in its province under the district "".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vaxtrust.errors import ConfigError
from vaxtrust.reports import snapshot
from vaxtrust.reports.campaign import Campaign
from vaxtrust.reports.snapshot import COUNTS, GrainRow
from vaxtrust.store.scope import Actor
from vaxtrust.store.tables import Facility, Province
from vaxtrust.vn._data import read_rows

LEVELS = ("country", "province", "district", "commune", "facility")


@dataclass(frozen=True)
class _Commune:
    province_code: str
    district_code: str
    name: str


@cache
def _admin() -> tuple[dict[str, str], dict[str, _Commune], dict[str, str]]:
    """Province names; communes by code; district names (the pre-2025 GSO list)."""
    rows = read_rows("admin_units_pre2025.csv")
    provinces = {row["province_code"]: row["province"] for row in rows}
    communes = {row["commune_code"]: _Commune(row["province_code"], row["district_code"],
                                              row["commune"]) for row in rows}
    districts = {row["district_code"]: row["district"] for row in rows}
    return provinces, communes, districts


def district_of(commune_code: str) -> str:
    found = _admin()[1].get(commune_code)
    return found.district_code if found else ""


def admin_names(commune_code: str) -> tuple[str, str, str]:
    """(province, district, commune) names of a commune code; '' for what is unknown."""
    provinces, communes, districts = _admin()
    found = communes.get(commune_code)
    if found is None:
        return "", "", ""
    return (provinces.get(found.province_code, ""), districts.get(found.district_code, ""),
            found.name)


@dataclass
class Unit:
    """One line of a report: a unit of a level and its counts."""

    level: str
    code: str
    name: str
    province_code: str = ""
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    review_oldest_at: str | None = None

    def add(self, row: GrainRow) -> None:
        for name in COUNTS:
            self.counts[name] += getattr(row, name)
        if row.review_oldest_at and (self.review_oldest_at is None
                                     or row.review_oldest_at < self.review_oldest_at):
            self.review_oldest_at = row.review_oldest_at

    @property
    def authenticated(self) -> int:
        return self.counts["verified"] + self.counts["corrected"]

    @property
    def authenticated_share(self) -> float:
        return self.authenticated / self.counts["records"] if self.counts["records"] else 0.0

    @property
    def signed_share(self) -> float:
        linked = self.counts["people_linked"]
        return self.counts["people_signed"] / linked if linked else 0.0

    @property
    def verified_unsigned(self) -> int:
        return max(0, self.counts["people_linked"] - self.counts["people_signed"])

    def oldest_review_days(self, day: dt.date) -> int | None:
        if not self.review_oldest_at:
            return None
        created = dt.datetime.fromisoformat(self.review_oldest_at.replace("Z", "+00:00"))
        return max(0, (day - snapshot.today_vn(created)).days)

    def to_dict(self, day: dt.date) -> dict[str, Any]:
        return {"level": self.level, "code": self.code, "name": self.name,
                "province_code": self.province_code, **self.counts,
                "authenticated": self.authenticated,
                "authenticated_share": round(self.authenticated_share, 6),
                "signed_share": round(self.signed_share, 6),
                "verified_unsigned": self.verified_unsigned,
                "oldest_review_days": self.oldest_review_days(day)}


def _key(level: str, row: GrainRow) -> tuple[str, str]:
    """(code, province) of the unit of ``level`` a grain row belongs to."""
    match level:
        case "country":
            return "VN", ""
        case "province":
            return row.province_code, row.province_code
        case "district":
            return district_of(row.commune_code), row.province_code
        case "commune":
            return row.commune_code, row.province_code
        case "facility":
            return row.facility_id, row.province_code
    raise ConfigError(f"report level {level}: use {', '.join(LEVELS)}")


def _names(session: Session, level: str, codes: Iterable[str]) -> dict[str, str]:
    provinces, communes, districts = _admin()
    match level:
        case "country":
            return {"VN": "Toàn quốc"}
        case "province":
            stored = {row[0]: row[1] for row in session.execute(
                select(Province.code, Province.name))}
            return {code: stored.get(code) or provinces.get(code, code) for code in codes}
        case "district":
            return {code: districts.get(code, "(không rõ quận/huyện)") for code in codes}
        case "commune":
            return {code: communes[code].name if code in communes else "(không rõ xã/phường)"
                    for code in codes}
    wanted = list(codes)
    names = {row[0]: row[1] for row in session.execute(
        select(Facility.facility_id, Facility.name).where(Facility.facility_id.in_(wanted)))}
    return {code: names.get(code) or code for code in wanted}


def aggregate(session: Session, level: str, rows: Sequence[GrainRow]) -> list[Unit]:
    """The units of ``level`` with their summed counts, by province then code."""
    units: dict[tuple[str, str], Unit] = {}
    for row in rows:
        code, province = _key(level, row)
        unit = units.get((province, code))
        if unit is None:
            unit = units[(province, code)] = Unit(level, code, "", province)
        unit.add(row)
    names = _names(session, level, {code for _, code in units})
    for (_, code), unit in units.items():
        unit.name = names.get(code, code)
    return [units[key] for key in sorted(units)]


@dataclass(frozen=True)
class DeadlineStatus:
    key: str
    label: str
    due_on: dt.date
    days_left: int
    measure: str
    value: float | None
    target: float | None
    met: bool | None


@dataclass(frozen=True)
class ProgressReport:
    """The report of one day within one actor's scope."""

    as_of: dt.date
    source: str
    """``live`` (computed now) or ``snapshot`` (read back from the day's snapshot)."""
    scope: str
    campaign: Campaign
    levels: dict[str, list[Unit]]
    deadlines: list[DeadlineStatus]
    trend: list[dict[str, Any]]
    accountability: list[Any] = field(default_factory=list)
    """Facilities ranked per province (``vaxtrust.reports.accountability``), when asked for."""
    officers: list[Any] = field(default_factory=list)
    """Focal officers in scope (``vaxtrust.reports.officers``), when asked for."""

    @property
    def total(self) -> Unit:
        return self.levels["country"][0]

    def to_dict(self) -> dict[str, object]:
        return {
            "as_of": self.as_of.isoformat(), "source": self.source, "scope": self.scope,
            "campaign": self.campaign.to_dict(),
            "deadlines": [{**d.__dict__, "due_on": d.due_on.isoformat()} for d in self.deadlines],
            "levels": {level: [u.to_dict(self.as_of) for u in units]
                       for level, units in self.levels.items()},
            "trend": self.trend,
            "accountability": [a.to_row() for a in self.accountability],
            "officers": [o.to_row() for o in self.officers],
        }


def _deadlines(campaign: Campaign, total: Unit, day: dt.date) -> list[DeadlineStatus]:
    out = []
    for deadline in campaign.deadlines:
        value: float | None
        target: float | None
        if deadline.measure in ("authenticated_share", "signed_share"):
            value = getattr(total, deadline.measure)
            target = campaign.targets.get(deadline.measure, 1.0)
            met: bool | None = value >= target
        elif deadline.measure == "complaints_open":
            value, target = float(total.counts["complaints_open"]), 0.0
            met = value == 0
        else:
            value = target = met = None
        out.append(DeadlineStatus(deadline.key, deadline.label, deadline.due_on,
                                  deadline.days_left(day), deadline.measure, value, target, met))
    return out


def build(session: Session, actor: Actor, campaign: Campaign, day: dt.date,
          levels: Sequence[str] = LEVELS, *, today: dt.date | None = None,
          live: bool = False) -> ProgressReport:
    """The report of ``day`` from that day's snapshot; today's without a snapshot (or with
    ``live``) computed now. A snapshot makes the report's cost independent of the store's size
    (``benchmarks/README.md``); ``live`` shows the decisions made since it was taken."""
    unknown = [level for level in levels if level not in LEVELS]
    if unknown:
        raise ConfigError(f"report level {', '.join(unknown)}: use {', '.join(LEVELS)}")
    now_day = today or snapshot.today_vn()
    rows = None if live and day == now_day else snapshot.stored(session, actor, day)
    source = "snapshot"
    if rows is None:
        if day != now_day:
            taken = ", ".join(d.isoformat() for d in snapshot.snapshot_dates(session)[-5:])
            raise ConfigError(f"no snapshot of {day.isoformat()}: a past day's report reads its "
                              f"snapshot (latest: {taken or 'none'})")
        rows, source = snapshot.live(session, actor, day), "live"
    wanted = ["country", *(level for level in levels if level != "country")]
    units = {level: aggregate(session, level, rows) for level in wanted}
    if not units["country"]:
        units["country"] = [Unit("country", "VN", "Toàn quốc")]
    total = units["country"][0]
    trend = snapshot.trend(session, actor, day)
    if not trend or trend[-1]["date"] != day.isoformat():
        # Today's live figures close the trend the snapshots drew so far.
        trend.append({"date": day.isoformat(), "records": total.counts["records"],
                      "authenticated": total.authenticated,
                      "people_linked": total.counts["people_linked"],
                      "people_signed": total.counts["people_signed"],
                      "complaints_open": total.counts["complaints_open"]})
    return ProgressReport(day, source, actor.scope_label() or "VN", campaign, units,
                          _deadlines(campaign, total, day), trend)
