"""Personal ID numbers: classification, Excel repairs, CCCD decoding and typo candidates."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaxtrust.vn.ids import check_against, corrections, decode_cccd, parse


@pytest.mark.parametrize(("typed", "kind", "clean", "repairs"), [
    ("087084000999", "cccd", "087084000999", ()),
    ("87084000999", "cccd", "087084000999", ("id_leading_zero_lost",)),
    ("1090012345", "cccd", "001090012345", ("id_leading_zero_lost",)),
    ("8.7084000999E+10", "cccd", "087084000999", ("id_scientific_notation",
                                                  "id_leading_zero_lost")),
    ("79123456789.0", "cccd", "079123456789", ("id_excel_decimal", "id_leading_zero_lost")),
    ("087 084 000 999", "cccd", "087084000999", ()),              # spaces: removed silently
    ("087-084-000-999", "cccd", "087084000999", ("id_separators_removed",)),
    ("'087084000999", "cccd", "087084000999", ()),                # Excel's text apostrophe
    ("\u00a0087084000999 ", "cccd", "087084000999", ()),
    ("012345678", "cmnd", "012345678", ()),
    ("12345678", "cmnd", "012345678", ("id_leading_zero_lost",)),
    ("B1234567", "passport", "B1234567", ()),
    ("c1234567", "passport", "C1234567", ()),
])
def test_parse_classifies_and_repairs(typed: str, kind: str, clean: str,
                                      repairs: tuple[str, ...]) -> None:
    result = parse(typed)
    assert (result.kind, result.clean, result.repairs) == (kind, clean, repairs)
    assert result.reason is None


@pytest.mark.parametrize(("typed", "kind", "reason"), [
    (None, "missing", "id_missing"),
    ("   ", "missing", "id_missing"),
    ("8.70840E+10", "invalid", "id_scientific_notation_lossy"),  # digits already lost
    ("không có", "invalid", "id_not_a_number"),
    ("12345", "invalid", "id_wrong_length"),
    ("0870840009991", "invalid", "id_wrong_length"),
    ("999084000999", "invalid", "id_unknown_province_code"),
    ("087584000999", "invalid", "id_impossible_century"),
    ("001290012345", "invalid", "id_impossible_birth_year"),     # born 2090
    ("ABCDEFGH", "invalid", "id_not_a_number"),
])
def test_garbage_is_invalid_with_a_reason(typed: str | None, kind: str, reason: str) -> None:
    result = parse(typed)
    assert (result.kind, result.reason) == (kind, reason)


def test_decode_cccd_reads_place_century_gender_and_year() -> None:
    info = decode_cccd("087084000999")  # the hrnk.vn example: Đồng Tháp, male, 1984
    assert info is not None
    assert (info.birth_place, info.gender, info.birth_year, info.born_abroad) == (
        "Đồng Tháp", "M", 1984, False)
    woman_2001 = decode_cccd("001301012345")
    assert woman_2001 is not None and (woman_2001.gender, woman_2001.birth_year) == ("F", 2001)
    abroad = decode_cccd("101190012345")
    assert abroad is not None and abroad.born_abroad and abroad.birth_place == "Afghanistan"
    assert decode_cccd("12345") is None


def test_check_against_dob_and_gender() -> None:
    assert check_against("087084000999", dob=date(1984, 3, 1), gender="M") == ()
    assert check_against("087084000999", dob=1938, gender="F") == (
        "id_birth_year_mismatch", "id_gender_mismatch")
    assert check_against("087084000999") == ()


def test_corrections_are_one_keystroke_away_and_consistent() -> None:
    typo = "087084000990"  # the last digit mistyped
    found = {c.number: c.reason for c in corrections(typo, dob=1984, gender="M")}
    assert found["087084000999"] == "id_digit_mistyped"
    assert all(decode_cccd(n) is not None for n in found)
    assert all(check_against(n, dob=1984, gender="M") == () for n in found)
    swapped = {c.number: c.reason for c in corrections("087804000999")}
    assert swapped["087084000999"] == "id_digits_swapped"
    assert corrections("abc") == []


@given(st.text())
def test_parse_never_raises(text: str) -> None:
    result = parse(text)
    assert result.kind in ("cccd", "cmnd", "passport", "invalid", "missing")
    assert (result.reason is None) == (result.kind in ("cccd", "cmnd", "passport"))
