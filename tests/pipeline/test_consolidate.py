"""Dose histories: one per linked person, same-day duplicates marked, implausible doses flagged."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from vaxtrust.engine import create_engine
from vaxtrust.pipeline.consolidate import dose_history_sql
from vaxtrust.pipeline.settings import CAMPAIGN_START, MIN_INTERVAL_DAYS

PFIZER, AZ = "EU/1/20/1528", "EU/1/21/1529"


def _history(doses: list[tuple[str, str, int, str | None, dt.date | None]],
             sources: list[str] | None = None) -> dict[str, dict]:
    """doses: (record_id, person_id, dose_number, vaccine_mp, vaccinated_on), each in row
    1, 2, ... of ``sources`` (default: all of a.csv)."""
    records = pa.table({
        "record_id": [d[0] for d in doses], "source": sources or ["a.csv"] * len(doses),
        "row_number": list(range(1, len(doses) + 1)),
        "dose_number": pa.array([d[2] for d in doses], pa.int32()),
        "vaccine_mp": [d[3] for d in doses], "vaccine_ma": [None] * len(doses),
        "vaccine_vp": [None] * len(doses), "vaccinated_on": [d[4] for d in doses],
        "facility_id": ["F1"] * len(doses),
    })
    decisions = pa.table({"record_id": [d[0] for d in doses] + ["X"],
                          "person_id": [d[1] for d in doses] + ["P9"],
                          "status": ["verified"] * len(doses) + ["review"]})
    with create_engine("duckdb") as engine:
        engine.register("std_records", records)
        engine.register("decisions", decisions)
        engine.create_table("dose_history", dose_history_sql(
            campaign_start=CAMPAIGN_START, today=dt.date(2026, 1, 1),
            min_interval_days=MIN_INTERVAL_DAYS, default_min_interval_days=14))
        return {row["record_id"]: row for row in engine.to_arrow("dose_history").to_pylist()}


def test_a_plausible_history_has_no_flags() -> None:
    history = _history([("A1", "P1", 1, AZ, dt.date(2021, 7, 1)),
                        ("A2", "P1", 2, AZ, dt.date(2021, 9, 1)),
                        ("A3", "P1", 3, PFIZER, dt.date(2022, 2, 1))])
    assert {r: row["flags"] for r, row in history.items()} == {"A1": [], "A2": [], "A3": []}
    assert "X" not in history  # records not linked have no history


def test_same_day_records_are_one_dose_entered_twice() -> None:
    history = _history([("A1", "P1", 1, AZ, dt.date(2021, 7, 1)),
                        ("B1", "P1", 1, AZ, dt.date(2021, 7, 1)),
                        ("A2", "P1", 2, AZ, dt.date(2021, 9, 1))])
    assert history["B1"]["duplicate_of"] == "A1"
    assert history["B1"]["flags"] == ["duplicate_dose"]
    assert history["A1"]["duplicate_of"] is None
    assert history["A2"]["flags"] == []  # the duplicate does not disturb the sequence


def test_the_first_of_a_day_by_file_then_row_stays_and_the_others_point_to_it() -> None:
    day = dt.date(2021, 7, 1)
    history = _history([("C3", "P1", 1, AZ, day),    # b.csv row 1
                        ("C1", "P1", 1, AZ, day),    # a.csv row 2: the first of the day
                        ("C2", "P1", 1, AZ, day),    # a.csv row 3
                        ("D1", "P2", 1, AZ, day),    # another person, the same day
                        ("U1", "P1", 2, AZ, None),   # two doses without a date are no
                        ("U2", "P1", 2, AZ, None)],  # duplicates of each other
                       sources=["b.csv", "a.csv", "a.csv", "a.csv", "a.csv", "a.csv"])
    assert {r: row["duplicate_of"] for r, row in history.items()} == {
        "C1": None, "C2": "C1", "C3": "C1", "D1": None, "U1": None, "U2": None}
    assert history["C3"]["flags"] == ["duplicate_dose"]
    assert history["U2"]["flags"] == ["dose_date_unknown"]


def test_plausibility_flags() -> None:
    history = _history([
        ("E1", "P1", 1, AZ, dt.date(2021, 1, 5)),          # before the campaign
        ("E2", "P1", 2, AZ, dt.date(2021, 3, 20)),         # 74 days: fine
        ("E3", "P1", 3, PFIZER, dt.date(2021, 3, 30)),     # 10 days after AZ: too short
        ("F1", "P2", 2, PFIZER, dt.date(2021, 8, 1)),      # starts at dose 2: a gap
        ("F2", "P2", 1, PFIZER, dt.date(2021, 9, 1)),      # dose 1 after dose 2
        ("F3", "P2", 3, None, dt.date(2027, 1, 1)),        # future, unknown vaccine
    ])
    assert history["E1"]["flags"] == ["dose_before_campaign"]
    assert history["E2"]["flags"] == []
    assert history["E3"]["flags"] == ["interval_too_short"]
    assert history["F1"]["flags"] == ["dose_number_gap"]
    assert history["F2"]["flags"] == ["dose_number_out_of_order"]
    assert history["F3"]["flags"] == ["dose_in_future", "vaccine_unknown"]
