"""Issue 15: the complaint deadline per campaign (default 48 h from recording, working-day
option with Viet Nam's holidays); overdue escalation uses the deadline each complaint got."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.store.cli import cli
from tests.store.test_complaints_cli import person_row, write_csv
from vaxtrust.app import complaints as app
from vaxtrust.app import reports
from vaxtrust.config import Settings
from vaxtrust.errors import ConfigError
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor
from vaxtrust.store.tables import AuditEventRow, Complaint

FRIDAY = dt.datetime(2026, 12, 4, 8, 0, tzinfo=dt.UTC)   # 15:00 in Viet Nam


def _import(store: Store, actor: Actor, tmp_path: Path, number: str,
            settings: Settings | None = None) -> Complaint:
    export = write_csv(tmp_path / f"{number}.csv", [person_row(number, 2)])
    report = app.import_file(settings or Settings(), store, actor, export,
                             today=dt.date(2026, 12, 4), now=FRIDAY)
    with store.transaction() as session:
        row = session.get(Complaint, report.ids[0])
        assert row is not None
        session.expunge(row)
        return row


def test_without_a_campaign_rule_a_complaint_has_48_hours_round_the_clock(
        published: Store, actors: dict[str, Actor], tmp_path: Path) -> None:
    assert _import(published, actors["minh"], tmp_path, "PA-1").deadline_at == \
        "2026-12-06T08:00:00.000000Z"


def test_the_campaign_sets_hours_counted_on_working_days(
        published: Store, actors: dict[str, Actor], tmp_path: Path) -> None:
    reports.save_campaign(published, actors["minh"], complaint_hours=72,
                          complaint_working_days=True)
    row = _import(published, actors["minh"], tmp_path, "PA-1")
    # Friday 15:00 → 9 h Friday, 24 h Monday, 24 h Tuesday, 15 h Wednesday (Viet Nam's time).
    assert row.deadline_at == "2026-12-09T08:00:00.000000Z"
    assert app.escalate_overdue(published, actors["minh"],
                                now=dt.datetime(2026, 12, 8, 8, 0, tzinfo=dt.UTC)) == []
    assert app.escalate_overdue(published, actors["minh"],
                                now=dt.datetime(2026, 12, 9, 9, 0, tzinfo=dt.UTC)) == [row.id]


def test_the_campaign_rule_overrides_the_settings_only_where_it_speaks(
        published: Store, actors: dict[str, Actor], tmp_path: Path) -> None:
    reports.save_campaign(published, actors["minh"], complaint_hours=24)
    working = Settings(complaints={"working_days": True})
    row = _import(published, actors["minh"], tmp_path, "PA-1", working)
    # 24 working hours from Friday 15:00: 9 h Friday and 15 h Monday.
    assert row.deadline_at == "2026-12-07T08:00:00.000000Z"


def test_a_holiday_does_not_count(published: Store, actors: dict[str, Actor],
                                  tmp_path: Path) -> None:
    reports.save_campaign(published, actors["minh"], complaint_hours=24,
                          complaint_working_days=True)
    export = write_csv(tmp_path / "tet.csv", [person_row("PA-9", 2)])
    # Thursday 30/04/2026 and Friday 01/05/2026 are public holidays in Viet Nam.
    report = app.import_file(Settings(), published, actors["minh"], export,
                             today=dt.date(2026, 4, 29),
                             now=dt.datetime(2026, 4, 29, 17, 0, tzinfo=dt.UTC))
    with published.transaction() as session:
        deadline = session.scalar(select(Complaint.deadline_at)
                                  .where(Complaint.id == report.ids[0]))
    # Received at midnight starting Thursday (ICT): the next working day is Monday 04/05.
    assert deadline == "2026-05-04T17:00:00.000000Z"


@pytest.mark.parametrize("hours", [0, 24 * 60 + 1])
def test_a_deadline_outside_the_settings_range_is_refused(
        published: Store, actors: dict[str, Actor], hours: int) -> None:
    with pytest.raises(ConfigError, match="between 1 and"):
        reports.save_campaign(published, actors["minh"], complaint_hours=hours)


def test_the_campaign_command_sets_and_shows_the_rule_and_audits_it(published: Store) -> None:
    url = str(published.engine.url.render_as_string(hide_password=False))
    shown = cli(url, "report", "campaign", "--as", "minh")
    assert "complaint deadline: from the settings" in shown
    saved = cli(url, "report", "campaign", "--as", "minh", "--complaint-hours", "72",
                "--complaint-working-days")
    assert "complaint deadline: 72h working days" in saved
    with published.transaction() as session:
        payload = session.scalar(select(AuditEventRow.payload).where(
            AuditEventRow.event_type == "campaign_saved"))
    assert payload is not None and "72h working days" in payload
