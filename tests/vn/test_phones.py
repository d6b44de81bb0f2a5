"""Phones: national form, the 2018 mobile prefixes, mobile vs landline."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaxtrust.vn.phones import parse


@pytest.mark.parametrize(("typed", "number", "kind", "repairs"), [
    ("0912345678", "0912345678", "mobile", ()),
    ("091 234 5678", "0912345678", "mobile", ()),
    ("+84 912 345 678", "0912345678", "mobile", ()),
    ("84912345678", "0912345678", "mobile", ()),
    ("0084912345678", "0912345678", "mobile", ()),
    ("912345678", "0912345678", "mobile", ("phone_leading_zero_lost",)),
    ("01623456789", "0323456789", "mobile", ("phone_old_prefix",)),    # Viettel 0162 -> 032
    ("0120.345.6789", "0703456789", "mobile", ("phone_old_prefix",)),  # MobiFone 0120 -> 070
    ("+84 1993456789", "0593456789", "mobile", ("phone_old_prefix",)),  # Gmobile 0199 -> 059
    ("024 3825 1234", "02438251234", "landline", ()),
    ("(028) 3829-1234", "02838291234", "landline", ()),
])
def test_parse_normalises_and_classifies(typed: str, number: str, kind: str,
                                         repairs: tuple[str, ...]) -> None:
    result = parse(typed)
    assert (result.number, result.kind, result.repairs) == (number, kind, repairs)


@pytest.mark.parametrize(("typed", "kind", "reason"), [
    (None, "missing", "phone_missing"),
    ("  ", "missing", "phone_missing"),
    ("không có", "invalid", "phone_not_a_number"),
    ("+1 202 555 0100", "invalid", "phone_not_a_number"),
    ("0123", "invalid", "phone_invalid"),
    ("0112345678", "invalid", "phone_invalid"),
])
def test_bad_numbers_are_invalid_with_a_reason(typed: str | None, kind: str, reason: str) -> None:
    result = parse(typed)
    assert (result.number, result.kind, result.reason) == (None, kind, reason)


@given(st.text())
def test_parse_never_raises(text: str) -> None:
    result = parse(text)
    assert result.number is None or (result.number.isdigit() and result.number[0] == "0")
