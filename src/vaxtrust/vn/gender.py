"""Gender as typed (Nam/Nữ, M/F, male/female) to ``M``/``F``; anything else is unknown (None)."""

from __future__ import annotations

from typing import Final, Literal

from vaxtrust.vn._alphabet import FOLD_TABLE

# Fold keys (no diacritics, upper case, trimmed) of the values facilities used.
GENDER_CODES: Final[dict[str, Literal["M", "F"]]] = {
    "M": "M", "NAM": "M", "MALE": "M", "TRAI": "M", "GIOI TINH NAM": "M",
    "F": "F", "NU": "F", "FEMALE": "F", "GAI": "F", "GIOI TINH NU": "F", "W": "F",
}
STRIP_CHARS: Final = " \t\n\r."


def gender_key(raw: str) -> str:
    """The lookup key of a typed gender: trimmed, no diacritics, upper case (ASCII only)."""
    return raw.strip(STRIP_CHARS).translate(FOLD_TABLE).upper()


def parse(raw: object) -> Literal["M", "F"] | None:
    """``M``, ``F``, or None when missing or not recognisable (never guessed)."""
    if not isinstance(raw, str):
        return None
    return GENDER_CODES.get(gender_key(raw))
