"""Phones: national form, the 2018 mobile prefixes, mobile vs landline."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaxtrust.vn.phones import SEPARATORS, SEPARATORS_RE, old_mobile_prefixes, parse, typed_forms


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


def test_the_typed_forms_of_a_number_include_its_old_prefix() -> None:
    forms = typed_forms("0323456789")              # Viettel 0162 -> 032
    assert {"0323456789", "+84323456789", "84323456789", "0084323456789", "323456789",
            "01623456789", "+841623456789", "841623456789", "1623456789"} <= set(forms)
    assert typed_forms("02438251234") == ("02438251234", "+842438251234", "00842438251234",
                                          "842438251234", "2438251234")


def test_the_separators_are_what_the_pattern_removes() -> None:
    removed = {chr(c) for c in range(0x3000) if SEPARATORS_RE.fullmatch(chr(c))}
    assert removed == set(SEPARATORS)


_PREFIXES = ["", "+84", "84", "0084", "0", "+", "+1"]
_STARTS = ["9", "3", "8", "2", "24", "28", "1", *(old[1:] for old in old_mobile_prefixes()),
           *(new[1:] for new in old_mobile_prefixes().values())]


@st.composite
def typed_phones(draw: st.DrawFn) -> str:
    """Phone-like texts: a prefix, a mobile/landline/old start, digits, separators anywhere."""
    text = draw(st.sampled_from(_PREFIXES)) + draw(st.sampled_from(_STARTS)) + \
        draw(st.text("0123456789", min_size=5, max_size=10))
    cuts = draw(st.lists(st.tuples(st.integers(0, len(text)), st.sampled_from(" .-()/\tx\n")),
                         max_size=3))
    for at, separator in sorted(cuts, reverse=True):
        text = text[:at] + separator + text[at:]
    return text


@given(typed_phones(), typed_phones())
def test_a_typed_phone_is_one_of_the_forms_of_a_number_exactly_when_it_parses_to_it(
        typed: str, other: str) -> None:
    bare = SEPARATORS_RE.sub("", typed)
    for number in (parse(typed).number, parse(other).number):
        if number is not None:
            assert (bare in typed_forms(number)) == (parse(typed).number == number)
