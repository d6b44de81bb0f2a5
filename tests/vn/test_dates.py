"""Dates: every format facilities used, precision, impossible dates, alternatives."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaxtrust.vn.dates import alternatives, make, parse


@pytest.mark.parametrize(("typed", "value", "precision"), [
    ("17/05/1990", date(1990, 5, 17), "day"),
    ("7/5/90", date(1990, 5, 7), "day"),
    ("7/5/05", date(2005, 5, 7), "day"),
    ("1990-05-17", date(1990, 5, 17), "day"),
    ("1990-05-17 00:00:00", date(1990, 5, 17), "day"),
    ("17-05-1990", date(1990, 5, 17), "day"),
    ("17.05.1990", date(1990, 5, 17), "day"),
    ("17051990", date(1990, 5, 17), "day"),
    ("19900517", date(1990, 5, 17), "day"),
    ("33010", date(1990, 5, 17), "day"),       # Excel serial day number
    ("05/1990", date(1990, 5, 1), "month"),
    ("1990-05", date(1990, 5, 1), "month"),
    ("1990", date(1990, 1, 1), "year"),
    (" 29/02/2000 ", date(2000, 2, 29), "day"),
])
def test_parse_every_format(typed: str, value: date, precision: str) -> None:
    result = parse(typed)
    assert (result.value, result.precision) == (value, precision)


def test_no_day_is_invented() -> None:
    month_only = parse("05/1990")
    assert (month_only.year, month_only.month, month_only.day) == (1990, 5, None)
    year_only = parse("1990")
    assert (year_only.month, year_only.day) == (None, None)


@pytest.mark.parametrize(("typed", "reason"), [
    ("31/02/1990", "date_impossible"),
    ("29/02/2001", "date_impossible"),
    ("05/13/1990", "date_impossible"),
    ("1850", "date_out_of_range"),
    ("01/01/2090", "date_out_of_range"),
    ("99999", "date_out_of_range"),
    ("", "date_missing"),
    (None, "date_missing"),
    ("ngày 5 tháng 3", "date_unparseable"),
])
def test_impossible_and_garbage_are_invalid(typed: str | None, reason: str) -> None:
    result = parse(typed)
    assert (result.value, result.precision, result.reason) == (None, None, reason)


def test_alternatives_offer_swaps_and_single_digit_typos() -> None:
    found = {(a.date.value, a.reason) for a in alternatives(parse("05/03/1990"))}
    assert (date(1990, 5, 3), "dob_day_month_swapped") in found
    assert (date(1991, 3, 5), "dob_digit_mistyped") in found
    assert (date(1990, 3, 6), "dob_digit_mistyped") in found
    assert all(a.date.valid for a in alternatives(parse("05/03/1990")))
    # The impossible "05/13/1990" was most likely 13 May.
    swapped = [a for a in alternatives(parse("05/13/1990")) if a.reason == "dob_day_month_swapped"]
    assert [a.date.value for a in swapped] == [date(1990, 5, 13)]


def test_alternatives_keep_the_precision() -> None:
    assert all(a.date.precision == "month" for a in alternatives(parse("05/1990")))
    assert all(a.date.day is None for a in alternatives(parse("1990")))
    assert alternatives(parse("garbage")) == []


@given(st.text())
def test_parse_never_raises(text: str) -> None:
    result = parse(text)
    assert result.valid == (result.reason is None)
    alternatives(result)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 12, 31)))
def test_every_day_first_rendering_round_trips(day: date) -> None:
    for text in (f"{day.day:02d}/{day.month:02d}/{day.year}", day.isoformat(),
                 f"{day.day}.{day.month}.{day.year}"):
        assert parse(text).value == day
    assert make(day.year, day.month, day.day).value == day
