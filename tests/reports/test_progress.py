"""Issue 16: progress figures equal counts computed independently from the store's rows, per
province, district, commune and facility; snapshots are idempotent and read back the same."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import pytest
from sqlalchemy import select, text

from tests.reports.generated import populate
from vaxtrust.app import reports
from vaxtrust.errors import ConfigError, PermissionDenied
from vaxtrust.reports.progress import district_of
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor
from vaxtrust.store.tables import Certificate, ProgressSnapshot, ReviewItem, VaccinationRecord


def _expected(store: Store, end: str, day: dt.date, key) -> dict[str, Counter[str]]:  # type: ignore[no-untyped-def]
    """Counts per unit, by plain Python over every row (``key(province, commune, facility)``)."""
    with store.transaction() as session:
        records = session.scalars(select(VaccinationRecord)).all()
        items = session.scalars(select(ReviewItem)).all()
        certificates = session.scalars(select(Certificate)).all()
        by_id = {r.record_id: r for r in records}
        out: dict[str, Counter[str]] = defaultdict(Counter)

        def unit(record: VaccinationRecord) -> Counter[str]:
            return out[key(record.province_code, record.commune_code or "", record.facility_id)]

        for record in records:
            unit(record)["records"] += 1
            unit(record)[record.status] += 1
        cut7 = (dt.datetime.fromisoformat(end[:19]) - dt.timedelta(days=7)).isoformat()
        for item in items:
            if item.state in ("open", "deferred") and item.created_at < end:
                counts = unit(by_id[item.record_id])
                counts["review_open"] += 1
                counts["review_over_7d"] += item.created_at[:19] < cut7
        home: dict[str, str] = {}
        for record in records:
            if record.person_id and record.status in ("verified", "corrected"):
                home[record.person_id] = min(home.get(record.person_id, "~"), record.record_id)
        for person, record_id in home.items():
            counts = unit(by_id[record_id])
            counts["people_linked"] += 1
            mine = [c for c in certificates if c.person_id == person and c.issued_at < end]
            counts["people_signed"] += any(c.revoked_at is None or c.revoked_at >= end
                                           for c in mine)
            counts["certificates_revoked"] += sum(1 for c in mine
                                                  if c.revoked_at and c.revoked_at < end)
            counts["certificates_reissued"] += max(0, len(mine) - 1)
        return out


CHECKED = ("records", "verified", "corrected", "review", "unmatched", "rejected", "review_open",
           "review_over_7d", "people_linked", "people_signed", "certificates_revoked",
           "certificates_reissued")


def _assert_level(report: reports.ProgressReport, level: str,
                  expected: dict[str, Counter[str]]) -> None:
    got = {unit.code: unit.counts for unit in report.levels[level]}
    assert set(got) == set(expected), level
    for code, counts in expected.items():
        for name in CHECKED:
            assert got[code][name] == counts[name], f"{level} {code} {name}"


def test_report_numbers_equal_independent_counts(published: Store,
                                                 actors: dict[str, Actor]) -> None:
    generated = populate(published)
    day, end = generated.day, generated.end
    report = reports.progress(published, actors["minh"], day=day, today=day)
    assert report.source == "live"
    _assert_level(report, "province", _expected(published, end, day, lambda p, c, f: p))
    _assert_level(report, "facility", _expected(published, end, day, lambda p, c, f: f))
    _assert_level(report, "commune", _expected(published, end, day, lambda p, c, f: c))
    _assert_level(report, "district", _expected(published, end, day,
                                                lambda p, c, f: district_of(c)))
    _assert_level(report, "country", _expected(published, end, day, lambda p, c, f: "VN"))
    total = report.total
    assert total.counts["records"] == sum(u.counts["records"] for u in report.levels["province"])
    assert total.counts["complaints_received"] == 0      # no complaint filed yet: 0
    assert total.verified_unsigned == total.counts["people_linked"] - \
        total.counts["people_signed"]
    names = {u.code: u.name for u in report.levels["province"]}
    assert names["48"] == "Thành phố Đà Nẵng"
    communes = {u.code: u.name for u in report.levels["commune"]}
    assert communes["00004"] == "Phường Trúc Bạch"


def test_a_province_officer_reports_on_their_province_only(
        published: Store, actors: dict[str, Actor]) -> None:
    generated = populate(published)
    day = generated.day
    everything = reports.progress(published, actors["minh"], day=day, today=day)
    hanoi = reports.progress(published, actors["hanoi"], day=day, today=day)
    assert [u.code for u in hanoi.levels["province"]] == ["01"]
    assert {u.province_code for u in hanoi.levels["facility"]} == {"01"}
    ministry_01 = next(u for u in everything.levels["province"] if u.code == "01")
    assert hanoi.total.counts == ministry_01.counts
    facility = reports.progress(published, actors["hn01"], day=day, today=day)
    assert [u.code for u in facility.levels["facility"]] == ["HN-01"]
    for name in ("an", "police4"):
        with pytest.raises(PermissionDenied):
            reports.progress(published, actors[name], day=day, today=day)


def test_snapshot_is_idempotent_and_reads_back_as_the_live_report(
        published: Store, actors: dict[str, Actor]) -> None:
    generated = populate(published)
    day = generated.day
    live = reports.progress(published, actors["minh"], day=day, today=day)
    first = reports.take_snapshot(published, actors["minh"], day=day, today=day)
    again = reports.take_snapshot(published, actors["minh"], day=day, today=day)
    assert first.rows == again.rows == again.replaced > 0
    with published.transaction() as session:
        stored = session.scalar(select(text("count(*)")).select_from(ProgressSnapshot))
    assert stored == first.rows
    later = reports.progress(published, actors["minh"], day=day, today=day + dt.timedelta(3))
    assert later.source == "snapshot"
    for level in ("province", "commune", "facility"):
        assert [u.to_dict(day) for u in later.levels[level]] == \
            [u.to_dict(day) for u in live.levels[level]]
    assert later.trend[-1]["people_signed"] == live.total.counts["people_signed"]
    today = reports.progress(published, actors["minh"], day=day, today=day)
    assert today.source == "snapshot"       # today's snapshot, once taken, unless asked live
    assert reports.progress(published, actors["minh"], day=day, today=day,
                            live=True).source == "live"
    hanoi_later = reports.progress(published, actors["hanoi"], day=day, today=day + dt.timedelta(3))
    assert [u.code for u in hanoi_later.levels["province"]] == ["01"]


def test_snapshots_only_of_today_by_the_ministry(published: Store,
                                                 actors: dict[str, Actor]) -> None:
    day = dt.date(2022, 4, 28)
    with pytest.raises(ConfigError, match="only today's or yesterday's"):
        reports.take_snapshot(published, actors["minh"], day=day - dt.timedelta(5), today=day)
    with pytest.raises(PermissionDenied):
        reports.take_snapshot(published, actors["hanoi"], day=day, today=day)
    with pytest.raises(ConfigError, match="no snapshot of 2022-04-20"):
        reports.progress(published, actors["minh"], day=dt.date(2022, 4, 20), today=day)


def test_a_snapshot_after_a_province_publishes_covers_the_whole_store(
        published: Store, actors: dict[str, Actor]) -> None:
    """The daily run of a province officer keeps the day's snapshot: every province's counts
    (reports filter them by scope when read), audited as that officer."""
    generated = populate(published)
    day = generated.day
    taken = reports.take_snapshot(published, actors["hanoi"], day=day, today=day,
                                  after_publish=True)
    with published.transaction() as session:
        provinces = set(session.scalars(select(ProgressSnapshot.province_code)))
        stored = session.scalar(select(text("sum(records)")).select_from(ProgressSnapshot))
        everything = session.scalar(select(text("count(*)")).select_from(VaccinationRecord))
        by = session.scalar(text("SELECT actor FROM audit_event WHERE event_type = "
                                 "'snapshot_taken' ORDER BY seq DESC LIMIT 1"))
    assert taken.rows > 0 and {"01", "79"} < provinces
    assert stored == everything and by == "hanoi"
    hanoi = reports.progress(published, actors["hanoi"], day=day, today=day)
    assert hanoi.source == "snapshot" and [u.code for u in hanoi.levels["province"]] == ["01"]


def test_complaints_are_counted_from_their_table(published: Store,
                                                actors: dict[str, Actor]) -> None:
    """Issue 15's ``complaint`` rows: received, open, overdue, resolved, refused by day's end."""
    from vaxtrust.store.tables import Complaint

    rows = [  # received, deadline, state, resolved
        ("2022-04-20T02:00:00.000000Z", "2022-04-25T02:00:00.000000Z", "resolved",
         "2022-04-22T02:00:00.000000Z"),
        ("2022-04-20T02:00:00.000000Z", "2022-04-25T02:00:00.000000Z", "refused",
         "2022-04-21T02:00:00.000000Z"),
        ("2022-04-20T02:00:00.000000Z", "2022-04-25T02:00:00.000000Z", "received", None),
        ("2022-04-27T02:00:00.000000Z", "2022-05-02T02:00:00.000000Z", "assigned", None),
        ("2022-04-29T02:00:00.000000Z", "2022-05-04T02:00:00.000000Z", "in_progress", None),
        ("2022-04-20T02:00:00.000000Z", "2022-04-25T02:00:00.000000Z", "resolved",
         "2022-04-30T02:00:00.000000Z"),
    ]
    with published.transaction() as session:
        for received, deadline, state, resolved in rows:
            session.add(Complaint(
                channel="import", filed_by="minh", state=state, category="missing_dose",
                version=1, proposal_detail="{}", routing="facility", facility_id="HN-01",
                province_code="01", commune_code="00004", received_at=received,
                deadline_at=deadline, updated_at=received, resolved_at=resolved))
    day = dt.date(2022, 4, 28)
    total = reports.progress(published, actors["minh"], day=day, today=day).total.counts
    assert (total["complaints_received"], total["complaints_open"], total["complaints_overdue"],
            total["complaints_resolved"], total["complaints_refused"]) == (5, 3, 2, 1, 1)
    outside = reports.progress(published, actors["hcm"], day=day, today=day).total.counts
    assert outside["complaints_received"] == 0


def test_deadlines_against_the_campaign(published: Store, actors: dict[str, Actor]) -> None:
    day = dt.date(2022, 4, 28)
    report = reports.progress(published, actors["minh"], day=day, today=day)
    by_key = {d.key: d for d in report.deadlines}
    assert by_key["verification"].days_left == 2
    # The reading of the letter: complaints and signing by 30/04, cleaning by 05/05,
    # the province's report by 06/05.
    assert {key: by_key[key].due_on for key in ("complaints", "signing", "cleaning", "report")} \
        == {"complaints": dt.date(2022, 4, 30), "signing": dt.date(2022, 4, 30),
            "cleaning": dt.date(2022, 5, 5), "report": dt.date(2022, 5, 6)}
    assert by_key["signing"].days_left == 2
    assert by_key["verification"].met is False
    changed = reports.save_campaign(published, actors["minh"],
                                    deadlines={"verification": dt.date(2022, 5, 10)},
                                    targets={"authenticated_share": 0.5})
    assert changed.saved
    again = reports.progress(published, actors["minh"], day=day, today=day)
    assert {d.key: d for d in again.deadlines}["verification"].days_left == 12
    with pytest.raises(PermissionDenied):
        reports.save_campaign(published, actors["hanoi"], targets={"signed_share": 0.1})
    with pytest.raises(ConfigError, match="between 0 and 1"):
        reports.save_campaign(published, actors["minh"], targets={"signed_share": 2.0})
    with pytest.raises(ConfigError, match="level"):
        reports.progress(published, actors["minh"], levels=("village",))
