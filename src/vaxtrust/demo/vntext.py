"""Vietnamese text damage used by the error model: pure functions on one string.

They run once per distinct value (the generator caches by value), so plain Python is fine here.
The rules follow vn-facts.md section 3.4: tone-mark styles (hòa/hoà), lost diacritics, NFD,
the look-alike Ð (U+00D0), marks slipped onto the wrong vowel, and typing slips.
"""

from __future__ import annotations

import unicodedata

import numpy as np

TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
_VOWELS = frozenset("aăâeêioôơuưyAĂÂEÊIOÔƠUƯY")
# Open syllables whose tone mark moves between the old (hòa) and new (hoà) styles.
_STYLE_CLUSTERS = ("oa", "oe", "uy")
SURNAME_VARIANTS = {"Hoàng": "Huỳnh", "Huỳnh": "Hoàng", "Vũ": "Võ", "Võ": "Vũ"}


def split_tone(syllable: str) -> tuple[str, str | None, int]:
    """Return the syllable without its tone mark (NFC), the mark, and the letter index it sat on."""
    letters: list[str] = []
    tone: str | None = None
    tone_at = -1
    for char in unicodedata.normalize("NFD", syllable):
        if char in TONE_MARKS:
            tone, tone_at = char, sum(1 for c in letters if not unicodedata.combining(c)) - 1
            continue
        letters.append(char)
    return unicodedata.normalize("NFC", "".join(letters)), tone, tone_at


def _put_tone(base: str, tone: str, index: int) -> str:
    chars = list(base)
    chars[index] = unicodedata.normalize("NFC", chars[index] + tone)
    return "".join(chars)


def _syllable_in_style(syllable: str, style: str) -> str:
    base, tone, _ = split_tone(syllable)
    lower = base.lower()
    if tone is None or not lower.endswith(_STYLE_CLUSTERS) or lower.endswith("quy"):
        return syllable
    index = len(base) - (2 if style == "old" else 1)
    return _put_tone(base, tone, index)


def to_tone_style(text: str, style: str) -> str:
    """Write every oa/oe/uy syllable in the old (``hòa``) or new (``hoà``) tone-mark style."""
    return " ".join(_syllable_in_style(part, style) for part in text.split(" "))


def flip_tone_style(text: str) -> str:
    """The same name in the other tone-mark style (unchanged if no syllable depends on style)."""
    old = to_tone_style(text, "old")
    return to_tone_style(text, "new") if text == old else old


def has_style_sensitive_syllable(text: str) -> bool:
    return to_tone_style(text, "old") != to_tone_style(text, "new")


def strip_diacritics(text: str) -> str:
    """ASCII fold as forms and passports write it: marks dropped, Đ→D (no decomposition exists)."""
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    return kept.replace("Đ", "D").replace("đ", "d")


def misplace_tone(text: str, rng: np.random.Generator) -> str:
    """Move one syllable's tone mark onto another vowel of the syllable (``bảo`` → ``baỏ``)."""
    parts = text.split(" ")
    choices = []
    for i, part in enumerate(parts):
        base, tone, at = split_tone(part)
        vowels = [j for j, c in enumerate(base) if c in _VOWELS and j != at]
        if tone is not None and vowels:
            choices.append((i, base, tone, vowels))
    if not choices:
        return text
    i, base, tone, vowels = choices[int(rng.integers(len(choices)))]
    parts[i] = _put_tone(base, tone, vowels[int(rng.integers(len(vowels)))])
    return " ".join(parts)


_NEIGHBOURS = {
    "a": "s", "s": "a", "n": "m", "m": "n", "h": "g", "g": "h", "t": "r", "r": "t",
    "i": "u", "u": "i", "o": "p", "e": "r", "c": "x", "x": "c", "d": "f", "l": "k", "y": "t",
}
_OTHER_TONE = {"\u0300": "\u0309", "\u0301": "\u0300", "\u0303": "\u0301", "\u0309": "\u0303",
               "\u0323": "\u0301"}


def typo(text: str, rng: np.random.Generator) -> str:
    """One data-entry slip: a lost or wrong tone mark, a dropped, doubled or mistyped letter."""
    parts = text.split(" ")
    i = int(rng.integers(len(parts)))
    base, tone, at = split_tone(parts[i])
    kind = int(rng.integers(4))
    if kind == 0 and tone is not None:
        parts[i] = base  # tone mark forgotten: Hường → Hương
    elif kind == 1 and tone is not None:
        parts[i] = _put_tone(base, _OTHER_TONE[tone], at)
    elif len(parts[i]) > 2:
        j = int(rng.integers(1, len(parts[i])))
        word = parts[i]
        if kind == 2:
            parts[i] = word[:j] + word[j + 1:]
        else:
            parts[i] = word[:j] + _NEIGHBOURS.get(word[j], word[j] * 2) + word[j + 1:]
    else:
        parts[i] = parts[i] + parts[i][-1]
    result = " ".join(parts)
    return result if result != text else text + text[-1]


def drop_middle(text: str) -> str:
    parts = text.split(" ")
    return f"{parts[0]} {parts[-1]}" if len(parts) > 2 else text


def swap_order(text: str) -> str:
    """Western order: middle and given name first, surname last (``Bảo Duy Nguyễn``)."""
    parts = text.split(" ")
    return " ".join(parts[1:] + parts[:1]) if len(parts) > 1 else text


def surname_variant(text: str) -> str:
    surname, _, rest = text.partition(" ")
    return f"{SURNAME_VARIANTS.get(surname, surname)} {rest}" if rest else text


def extra_whitespace(text: str, rng: np.random.Generator) -> str:
    parts = text.split(" ")
    if len(parts) > 1 and rng.random() < 0.6:
        i = int(rng.integers(1, len(parts)))
        return " ".join(parts[:i]) + "  " + " ".join(parts[i:])
    return f" {text} " if rng.random() < 0.5 else text + " "


def eth_lookalike(text: str) -> str:
    """Đ (U+0110) typed as the look-alike Ð (U+00D0, Latin capital eth)."""
    return text.replace("Đ", "Ð")


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def has_eligible_middle(text: str) -> bool:
    return text.count(" ") >= 2
