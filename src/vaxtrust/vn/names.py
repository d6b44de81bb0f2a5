"""Vietnamese personal names: the stored form, the comparison key, parts, ICAO form and comparison.

Tone-mark rule (one rule, everywhere): the **classic ("old") style** used by the population
register and by underthesea: ``hòa``, ``thủy``, ``khỏe``, ``Hoàng``, ``Nguyễn``. Per syllable:

1. if the syllable has a vowel with a quality mark (ă â ê ô ơ ư), the tone goes on the last such
   vowel (``Nguyễn``, ``Hương``, ``Tuấn``);
2. otherwise, after the onset (``qu`` and ``gi`` count as onsets), the tone goes on the last
   vowel of the vowel group when a consonant follows (``Hoàng``, ``Huỳnh``), on the middle vowel
   of a three-vowel open group (``Ngoại``, ``khuỷu``), and on the first vowel otherwise
   (``Hòa``, ``Thủy``, ``Tài``).

Syllables with two or more tone marks are left as typed and flagged (``name_multiple_tones``).
The same rule is compiled to SQL in :mod:`vaxtrust.vn.sql`; the two are proven identical by test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Literal

from vaxtrust.vn._alphabet import (
    FOLD_TABLE,
    MODIFIED_VOWELS,
    TONED_VOWELS,
    VN_LETTERS,
    VOWEL_PARTS,
    with_tone,
)
from vaxtrust.vn.legacy import looks_damaged, repair

# Lower-case letters a clean name keeps; everything else is a separator or a stray character.
LOWER_LETTERS: Final = "a-z" + "".join(ch for ch in VN_LETTERS if ch.islower())
TONED_LOWER: Final = "".join(ch for ch in TONED_VOWELS if ch.islower())
TONED_LOWER_BASE: Final = "".join(VOWEL_PARTS[ch][0] for ch in TONED_LOWER)
NOT_LETTERS_RE: Final = re.compile(f"[^{LOWER_LETTERS}]+")
MODIFIED_SPLIT_RE: Final = re.compile(f"(.*)([{MODIFIED_VOWELS}])([^{MODIFIED_VOWELS}]*)")
PLAIN_SPLIT_RE: Final = re.compile("(qu|gi|[^aeiouy]*)([aeiouy]+)(.*)")
MULTIPLE_TONES_RE: Final = re.compile(f"[{TONED_LOWER}][^ ]*[{TONED_LOWER}]")
_STRAY_RE: Final = re.compile(f"[^a-zA-Z{VN_LETTERS}\\s]")
_TONE_BASE_TABLE: Final = str.maketrans(TONED_LOWER, TONED_LOWER_BASE)

# Two-syllable family names, as fold keys; everything else takes one syllable as the surname.
# Hoàng Phủ and Nguyễn Phúc are left out on purpose: their fold keys are also Hoàng or Nguyễn
# followed by the very common middle names Phú and Phúc, and a wrong split would put a wrong
# family name on a passport. Such rare holders get one-syllable surnames, as most documents do.
COMPOUND_SURNAMES: Final = frozenset({
    "AU DUONG", "TU MA", "GIA CAT", "TON THAT", "TON NU", "CONG TANG", "THUONG QUAN",
    "DONG PHUONG",
})

NameFlag = Literal[
    "name_missing", "name_mojibake_repaired", "name_unrepairable", "name_stray_chars_removed",
    "name_tone_style", "name_multiple_tones", "name_keyboard_residue",
]
# Fixed order of flags in every output (Python and SQL).
NAME_FLAGS: Final[tuple[NameFlag, ...]] = (
    "name_missing", "name_mojibake_repaired", "name_unrepairable", "name_stray_chars_removed",
    "name_tone_style", "name_multiple_tones", "name_keyboard_residue",
)


@dataclass(frozen=True)
class StandardName:
    """A name after standardisation: stored form, key, parts and what was done to it."""

    canonical: str | None
    fold: str | None
    surname: str
    middle: str
    given: str
    flags: tuple[NameFlag, ...]


@lru_cache(maxsize=50_000)
def place_tone(word: str) -> str:
    """One lower-case syllable with its tone mark moved to the rule's vowel (see module doc)."""
    toned = [ch for ch in word if ch in TONED_LOWER]
    if len(toned) != 1:
        return word
    tone = VOWEL_PARTS[toned[0]][1]
    base = word.translate(_TONE_BASE_TABLE)
    modified = MODIFIED_SPLIT_RE.fullmatch(base)
    if modified:
        head, vowel, tail = modified.groups()
        return head + with_tone(vowel, tone) + tail
    plain = PLAIN_SPLIT_RE.fullmatch(base)
    if not plain:
        return word
    onset, group, coda = plain.groups()
    if coda:
        index = len(group) - 1
    elif len(group) >= 3:
        index = 1
    else:
        index = 0
    return onset + group[:index] + with_tone(group[index], tone) + group[index + 1:] + coda


def _capitalise(word: str) -> str:
    return word[:1].upper() + word[1:]


@lru_cache(maxsize=200_000)
def standardise(raw: str | None) -> StandardName:
    """Standardise one name; never raises (non-text input counts as missing).

    The result is a fixed point: standardising the canonical form again changes nothing. (A
    repair can leave a form that is itself damaged-looking, e.g. ``bÒy`` -> ``Bòy``, which is
    TCVN3 for ``Bũy``; such forms are standardised again, at most twice more.)
    """
    result = _standardise_once(raw)
    for _ in range(2):
        if result.canonical is None or _is_settled(result.canonical):
            break
        again = _standardise_once(result.canonical)
        if again.canonical == result.canonical:
            break
        flags = _ordered(set(result.flags) | set(again.flags))
        result = StandardName(again.canonical, again.fold, again.surname, again.middle,
                              again.given, flags)
    return result


def _is_settled(canonical: str) -> bool:
    """Whether standardising ``canonical`` (an output of :func:`_standardise_once`) again gives
    it back: a cheap test that spares :func:`standardise` its second pass for most names.

    A canonical form holds only letters and single spaces, in NFC, its tones placed. When it
    shows no damage (``repair`` leaves it as it is) and no word could carry keystrokes
    (``decode_name`` leaves it as it is), the second pass lower-cases it, places tones that
    are placed already and capitalises it again: the same text, so it would stop there.
    """
    from vaxtrust.vn.keyboard import SUSPECT_RE  # keyboard uses place_tone from here

    return not SUSPECT_RE.search(canonical.lower()) and not looks_damaged(canonical)


def _standardise_once(raw: str | None) -> StandardName:
    if not isinstance(raw, str):
        return StandardName(None, None, "", "", "", ("name_missing",))
    flags: set[NameFlag] = set()
    repaired = repair(raw)
    if repaired.status == "repaired":
        flags.add("name_mojibake_repaired")
    elif repaired.status == "unrepairable":
        flags.add("name_unrepairable")
    # Telex/VNI keys left in (Nguyeenx, Nguye6n4): decoded before digits count as stray.
    from vaxtrust.vn.keyboard import decode_name  # keyboard uses place_tone from here

    lowered = repaired.text.lower()
    text = decode_name(lowered)
    if text != lowered:
        flags.add("name_keyboard_residue")
    if _STRAY_RE.search(text):
        flags.add("name_stray_chars_removed")
    cleaned = NOT_LETTERS_RE.sub(" ", text).strip()
    if not cleaned:
        flags.add("name_missing")
        return StandardName(None, None, "", "", "", _ordered(flags))
    if MULTIPLE_TONES_RE.search(cleaned):
        flags.add("name_multiple_tones")
    words = [place_tone(word) for word in cleaned.split(" ")]
    if " ".join(words) != cleaned:
        flags.add("name_tone_style")
    canonical = " ".join(_capitalise(word) for word in words)
    folded = fold_canonical(canonical)
    surname, middle, given = split_fold(folded)
    return StandardName(canonical, folded, surname, middle, given, _ordered(flags))


def _ordered(flags: set[NameFlag]) -> tuple[NameFlag, ...]:
    return tuple(flag for flag in NAME_FLAGS if flag in flags)


def fold_canonical(canonical: str) -> str:
    """The fold key of an already canonical name."""
    return canonical.translate(FOLD_TABLE).upper()


def canonical(raw: str | None) -> str | None:
    """The stored form of a name (NFC, one tone style, capitalised syllables) or None if empty.

    >>> canonical("  NGUYỄN  thị   hoà ")
    'Nguyễn Thị Hòa'
    """
    return standardise(raw).canonical


def fold(raw: str | None) -> str | None:
    """The comparison key: no diacritics, Đ as D, upper case, single spaces.

    >>> fold("Đặng Thị Thuỷ")
    'DANG THI THUY'
    """
    return standardise(raw).fold


def split_words(words: list[str]) -> tuple[list[str], list[str], list[str]]:
    """Surname, middle and given words of a name given as words (any form, in order)."""
    if not words:
        return [], [], []
    if len(words) == 1:
        return [], [], words
    head = 1
    if len(words) >= 3 and fold_canonical(" ".join(words[:2])) in COMPOUND_SURNAMES:
        head = 2
    return words[:head], words[head:-1], words[-1:]


def split_fold(folded: str) -> tuple[str, str, str]:
    surname, middle, given = split_words(folded.split(" ") if folded else [])
    return " ".join(surname), " ".join(middle), " ".join(given)


@dataclass(frozen=True)
class NameParts:
    surname: str
    middle: str
    given: str


def split(raw: str | None) -> NameParts:
    """Surname (họ), middle names (tên đệm) and given name (tên) of a name, canonical form.

    >>> split("nguyen thi minh khai")
    NameParts(surname='Nguyen', middle='Thi Minh', given='Khai')
    """
    name = canonical(raw)
    surname, middle, given = split_words(name.split(" ") if name else [])
    return NameParts(" ".join(surname), " ".join(middle), " ".join(given))


@dataclass(frozen=True)
class IcaoName:
    """ICAO 9303 machine-readable form: primary (family) and secondary (given) identifiers."""

    family: str
    given: str


def icao(raw: str | None) -> IcaoName:
    """ICAO 9303 transliteration (A-Z and ``<``), as on passports and EU DCC ``fnt``/``gnt``.

    >>> icao("Nguyễn Thị Thủy")
    IcaoName(family='NGUYEN', given='THI<THUY')
    """
    folded = fold(raw)
    surname, middle, given = split_words(folded.split(" ") if folded else [])
    return IcaoName("<".join(surname), "<".join(middle + given))


# --- comparison -------------------------------------------------------------------------------
# Surnames that are regional spellings of one another: close, never equal.
REGIONAL_VARIANTS: Final = frozenset({
    frozenset({"HOANG", "HUYNH"}), frozenset({"VU", "VO"}),
})

NameVerdict = Literal[
    "equal", "no_diacritics", "regional_variant", "middle_dropped", "order_swapped",
    "diacritics_differ", "different", "missing",
]
# Scores by verdict; the matcher treats them as ordered evidence, not probabilities.
VERDICT_SCORES: Final[dict[NameVerdict, float]] = {
    "equal": 1.0, "no_diacritics": 0.95, "regional_variant": 0.85, "middle_dropped": 0.7,
    "order_swapped": 0.7, "diacritics_differ": 0.3, "different": 0.0, "missing": 0.0,
}


@dataclass(frozen=True)
class NameComparison:
    """How two names relate: a verdict, its score in [0, 1] and stable reason codes."""

    verdict: NameVerdict
    score: float
    reasons: tuple[str, ...]


def _has_diacritics(word: str) -> bool:
    return fold_canonical(word) != word.upper()


def _word_verdict(a: str, b: str) -> NameVerdict:
    if a == b:
        return "equal"
    fa, fb = fold_canonical(a), fold_canonical(b)
    if fa == fb:
        return "no_diacritics" if not (_has_diacritics(a) and _has_diacritics(b)) else (
            "diacritics_differ")
    if frozenset({fa, fb}) in REGIONAL_VARIANTS:
        return "regional_variant"
    return "different"


_ORDER: Final[tuple[NameVerdict, ...]] = (
    "equal", "no_diacritics", "regional_variant", "diacritics_differ", "different",
)


def compare(a: str | None, b: str | None) -> NameComparison:
    """Compare two names the way a Vietnamese reader would.

    Tone-style variants are equal; a name typed without diacritics matches its accented form;
    Hoàng/Huỳnh and Vũ/Võ are close; a dropped middle name or swapped order scores below those;
    names that differ only in diacritics (Hương/Hướng) are different names.
    """
    sa, sb = standardise(a), standardise(b)
    if sa.canonical is None or sb.canonical is None:
        return NameComparison("missing", 0.0, ("name_missing",))
    wa, wb = sa.canonical.split(" "), sb.canonical.split(" ")
    tone_style = "name_tone_style" in sa.flags + sb.flags
    if len(wa) == len(wb):
        verdicts = [_word_verdict(x, y) for x, y in zip(wa, wb, strict=True)]
        worst = max(verdicts, key=_ORDER.index)
        if worst != "different":
            return _result(worst, tone_style)
    if sorted(wa) == sorted(wb):
        return _result("order_swapped", tone_style)
    if _is_middle_dropped(wa, wb) or _is_middle_dropped(wb, wa):
        return _result("middle_dropped", tone_style)
    similarity = jaro_winkler(sa.fold or "", sb.fold or "")
    return NameComparison("different", round(0.6 * similarity, 4), ("name_different",))


def jaro_winkler(a: str, b: str) -> float:
    """Jaro-Winkler similarity (0 to 1): Jaro's, raised by a common prefix of up to four letters
    (weight 0.1) when it exceeds 0.7; the definition DuckDB's ``jaro_winkler_similarity`` uses."""
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    window = max(max(len(a), len(b)) // 2 - 1, 0)
    taken = [False] * len(b)
    matched_a = []
    for i, letter in enumerate(a):
        for j in range(max(0, i - window), min(len(b), i + window + 1)):
            if not taken[j] and b[j] == letter:
                taken[j] = True
                matched_a.append(letter)
                break
    matches = len(matched_a)
    if not matches:
        return 0.0
    matched_b = [letter for letter, hit in zip(b, taken, strict=True) if hit]
    transpositions = sum(x != y for x, y in zip(matched_a, matched_b, strict=True)) // 2
    similarity = (matches / len(a) + matches / len(b) + (matches - transpositions) / matches) / 3
    if similarity > 0.7:
        prefix = 0
        for x, y in zip(a[:4], b[:4], strict=False):
            if x != y:
                break
            prefix += 1
        similarity += prefix * 0.1 * (1 - similarity)
    return similarity


def _is_middle_dropped(longer: list[str], shorter: list[str]) -> bool:
    """Same surname and given name, and the shorter name's middle words in the longer's order."""
    if len(longer) <= len(shorter) or len(shorter) < 2:
        return False
    folded_long = [fold_canonical(w) for w in longer]
    folded_short = [fold_canonical(w) for w in shorter]
    if folded_long[0] != folded_short[0] or folded_long[-1] != folded_short[-1]:
        return False
    remaining = iter(folded_long[1:-1])
    return all(word in remaining for word in folded_short[1:-1])


def _result(verdict: NameVerdict, tone_style: bool) -> NameComparison:
    reasons = {
        "equal": (), "no_diacritics": ("name_no_diacritics",),
        "regional_variant": ("name_regional_variant",), "middle_dropped": ("name_middle_dropped",),
        "order_swapped": ("name_order_swapped",), "diacritics_differ": ("name_diacritics_differ",),
    }.get(verdict, ())
    if tone_style:
        reasons = ("name_tone_style", *reasons)
    return NameComparison(verdict, VERDICT_SCORES[verdict], reasons)
