"""The Vietnamese alphabet as data: letters, tones and modifiers, shared by every vn module.

Everything here is derived from Unicode decomposition, so the tables cannot drift from each other.
"""

from __future__ import annotations

import unicodedata
from typing import Final

# Tone marks as Unicode combining characters, in the conventional order
# ngang (none), sắc, huyền, hỏi, ngã, nặng.
TONES: Final = ("", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323")
TONE_NAMES: Final = ("ngang", "sac", "huyen", "hoi", "nga", "nang")

# Vowel bases including their quality modifier (circumflex, breve, horn), lower case.
BASE_VOWELS: Final = "aăâeêioôơuưy"
MODIFIED_VOWELS: Final = "ăâêôơư"
PLAIN_VOWELS: Final = "aeiouy"


def with_tone(vowel: str, tone: int) -> str:
    """``vowel`` (a base vowel, either case) carrying tone number ``tone`` (0..5), NFC."""
    return unicodedata.normalize("NFC", vowel + TONES[tone])


def _build_tables() -> tuple[dict[str, tuple[str, int]], str]:
    toned: dict[str, tuple[str, int]] = {}
    for base in BASE_VOWELS + BASE_VOWELS.upper():
        for tone in range(6):
            toned[with_tone(base, tone)] = (base, tone)
    letters = "".join(toned) + "đĐ"
    return toned, letters


_TABLES: Final = _build_tables()
# Every NFC vowel letter (both cases, all tones) -> (base vowel with modifier, tone number).
VOWEL_PARTS: Final[dict[str, tuple[str, int]]] = _TABLES[0]
# All vowel letters (both cases, all tones) plus đ/Đ, NFC: the letters beyond ASCII a-z.
VN_LETTERS: Final[str] = _TABLES[1]

# Letters whose tone is not "ngang", in a fixed order (for SQL translate() tables).
TONED_VOWELS: Final = "".join(ch for ch, (_, tone) in VOWEL_PARTS.items() if tone)
TONED_VOWELS_BASE: Final = "".join(VOWEL_PARTS[ch][0] for ch in TONED_VOWELS)


def _strip_marks(ch: str) -> str:
    if ch in "đĐ":
        return "d" if ch == "đ" else "D"
    return unicodedata.normalize("NFD", ch)[0]


# Every non-ASCII Vietnamese letter and its ASCII base letter (đ -> d), for translate().
FOLD_FROM: Final = "".join(ch for ch in VN_LETTERS if ord(ch) > 127)
FOLD_TO: Final = "".join(_strip_marks(ch) for ch in FOLD_FROM)
FOLD_TABLE: Final = str.maketrans(FOLD_FROM, FOLD_TO)

# Characters that can appear in clean Vietnamese (NFC) text of a name.
CLEAN_LETTERS: Final = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" + VN_LETTERS
)
