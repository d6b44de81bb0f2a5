"""Keyboard residue: Telex and VNI keystrokes left in a name when the input method was off.

Vietnamese is typed on a Latin keyboard through an input method; when it is switched off (or a
form field refuses it) the keys themselves land in the data: ``Nguyeenx`` (Telex) or
``Nguye6n4`` (VNI) for Nguyễn. Partial forms are common too: some words typed right and others
not (``Nguyễn Thij Lan``), or the input method applied the vowel mark but left the tone key
(``Nguyênx``).

Keys (vn-facts §3.4):

- Telex: ``aa`` â, ``ee`` ê, ``oo`` ô, ``aw`` ă, ``ow`` ơ, ``uw`` ư (``uow`` ươ; ``w`` on its own
  ư), ``dd`` đ; tones ``s`` sắc, ``f`` huyền, ``r`` hỏi, ``x`` ngã, ``j`` nặng, ``z`` none. The
  tone key may follow the vowel or end the word.
- VNI: ``6`` circumflex, ``7`` horn, ``8`` breve, ``9`` đ; tones ``1``-``5`` in the same order.

A word is decoded only when it carries keys and its decoding is one Vietnamese syllable
(``Thomas`` stays as it is); a name that is merely missing its diacritics has no keys
(a syllable never has ``w``, ``dd``, a digit, doubled ``a``/``e``/``o`` or a consonant from
``sfrxjz`` after its vowel), so it is never touched. A name with a word that is no Vietnamese
syllable, with keys or without, is a foreign name and is left whole: in ``Lee Seo Yeon`` or
``Martin Pierre`` the doubled letters are spelling, not keys (not Lê, not Piể).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from vaxtrust.vn._alphabet import VOWEL_PARTS, with_tone
from vaxtrust.vn.legacy import is_vietnamese_syllable, is_vietnamese_word
from vaxtrust.vn.names import place_tone

_VOWEL_LETTERS: Final = "".join(ch for ch in VOWEL_PARTS if ch.islower())
# A lower-case word that may carry keystrokes (the SQL path sends such names to Python).
SUSPECT_PATTERN: Final = f"[0-9]|w|dd|aa|ee|oo|[{_VOWEL_LETTERS}][^ \\t]*[sfrxjz]"
SUSPECT_RE: Final = re.compile(SUSPECT_PATTERN)
_WORD_RE: Final = re.compile(f"[a-z0-9đ{_VOWEL_LETTERS}]+")

_TELEX_TONES: Final = {"s": 1, "f": 2, "r": 3, "x": 4, "j": 5, "z": 0}
_CIRCUMFLEX: Final = {"a": "â", "e": "ê", "o": "ô"}
_HORN: Final = {"o": "ơ", "u": "ư"}


def decode_name(text: str) -> str:
    """``text`` with every word that carries Telex or VNI keystrokes decoded (lower case in,
    lower case out; other words unchanged); a foreign name unchanged."""
    decoded = {word: decode_word(word) for word in _WORD_RE.findall(text)}
    if not any(decoded.values()) or any(
            value is None and _is_foreign(word) for word, value in decoded.items()):
        return text
    return _WORD_RE.sub(lambda m: decoded[m.group(0)] or m.group(0), text)


def _is_foreign(word: str) -> bool:
    """A word of a foreign name: it has a vowel, is no Vietnamese syllable, and has no digit
    (digits are VNI keys, so ``hu7o7o7ng`` is a mistyped syllable; ``sn`` lost its vowel)."""
    return (not any(ch.isdigit() for ch in word) and any(ch in VOWEL_PARTS for ch in word)
            and not is_vietnamese_word(word))


def has_residue(text: str) -> bool:
    """Whether :func:`decode_name` changes ``text`` (lower case)."""
    return decode_name(text) != text


@lru_cache(maxsize=50_000)
def decode_word(word: str) -> str | None:
    """The Vietnamese syllable a lower-case word of keystrokes spells, or None if it is none."""
    # One letter and a digit (A1) is more likely a stray digit than a key. Words with keys are
    # never syllables as typed, except doubled vowels (Too, for Tô; "boong" is no name).
    if not SUSPECT_RE.search(word) or sum(1 for ch in word if not ch.isdigit()) < 2:
        return None
    decoded = _decode_vni(word) if any(ch.isdigit() for ch in word) else _decode_telex(word)
    if decoded is None or decoded == word or not is_vietnamese_syllable(decoded):
        return None
    return decoded


def _with_tone(letters: list[str], tone: int) -> str:
    """The word with ``tone`` on the vowel the tone-mark rule chooses (names.place_tone)."""
    if tone:
        for i, ch in enumerate(letters):
            if ch in VOWEL_PARTS:
                letters = [*letters[:i], with_tone(ch, tone), *letters[i + 1:]]
                break
    return place_tone("".join(letters))


def _w_key(out: list[str]) -> bool:
    """Telex ``w``: ``uo`` -> ``ươ``, else the last vowel a -> ă, o -> ơ, u -> ư."""
    if "uo" in "".join(out):
        return _horn(out)
    vowels = [ch for ch in out if ch in "aeiouy"]
    if vowels and vowels[-1] == "a":
        return _mark_last(out, {"a": "ă"})
    return bool(vowels) and vowels[-1] in "ou" and _mark_last(out, _HORN)


def _horn(out: list[str]) -> bool:
    """Put the horn on the nucleus: ``uo`` -> ``ươ``, else the last ``o`` or ``u``."""
    text = "".join(out)
    at = text.rfind("uo")
    if at >= 0:
        out[at], out[at + 1] = "ư", "ơ"
        return True
    return _mark_last(out, _HORN)


def _mark_last(out: list[str], marks: dict[str, str]) -> bool:
    for i in range(len(out) - 1, -1, -1):
        if out[i] in marks:
            out[i] = marks[out[i]]
            return True
    return False


def _decode_vni(word: str) -> str | None:
    out: list[str] = []
    tone = 0
    for ch in word:
        if not ch.isdigit():
            base, mark = VOWEL_PARTS.get(ch, (ch, 0))
            out.append(base)
            tone = mark or tone
            continue
        key = int(ch)
        if 1 <= key <= 5:
            tone = key
        elif key == 6:
            if not _mark_last(out, _CIRCUMFLEX):
                return None
        elif key == 7:
            if not _horn(out):
                return None
        elif key == 8:
            if not _mark_last(out, {"a": "ă"}):
                return None
        elif key == 9:
            if not _mark_last(out, {"d": "đ"}):
                return None
        else:
            return None
    return _with_tone(out, tone)


def _doubles_vowel(out: list[str], key: str) -> bool:
    """Telex ``aa``/``ee``/``oo``, also typed after the final consonant (``tranaf`` = trần)."""
    for i in range(len(out) - 1, -1, -1):
        if out[i] in VOWEL_PARTS:
            if out[i] != key:
                return False
            out[i] = _CIRCUMFLEX[key]
            return True
    return False


def _decode_telex(word: str) -> str | None:
    out: list[str] = []
    tone = 0
    seen_vowel = False
    for ch in word:
        base, mark = VOWEL_PARTS.get(ch, (ch, 0))
        if seen_vowel and base in _TELEX_TONES:
            tone = _TELEX_TONES[base]
        elif base == "w":
            if not _w_key(out):
                out.append("ư")
                seen_vowel = True
        elif base == "d" and out == ["d"]:
            out[0] = "đ"
        elif base in _CIRCUMFLEX and _doubles_vowel(out, base):
            pass
        else:
            out.append(base)
            tone = mark or tone
            seen_vowel = seen_vowel or base in VOWEL_PARTS
    return _with_tone(out, tone)
