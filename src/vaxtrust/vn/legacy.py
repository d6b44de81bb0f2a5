"""Legacy Vietnamese encodings (TCVN3/ABC, VNI-Windows) and repair of text they damaged.

Before Unicode, Vietnamese offices typed with font encodings: **TCVN3** (TCVN 5712:1993 "ABC",
fonts ``.VnTime``) puts each lower-case letter in one byte above 0xA0; **VNI-Windows** writes a
base letter followed by a byte for the mark (``â`` = ``a`` + 0xC2/0xE2 ...). When such a file is
opened as Windows-1252 (or Latin-1) the bytes show as Latin-1 letters: "Nguyễn" becomes
``NguyÔn`` (TCVN3) or ``Nguyeãn`` (VNI). A third, modern kind of damage is UTF-8 read as
Windows-1252: ``Nguyá»…n``.

- :func:`encode_tcvn3` / :func:`encode_vni` produce the legacy bytes (the demo generator injects
  mojibake with ``encode_tcvn3(name).decode("cp1252")``).
- :func:`decode_tcvn3` / :func:`decode_vni` read those bytes, or their cp1252 rendering, back.
- :func:`repair` detects damage and repairs it when one reading is clearly Vietnamese; otherwise it
  reports ``unrepairable`` and never guesses.

TCVN3/ABC has no codes for upper-case letters that carry a tone (the ``.VnTimeH`` font draws the
lower-case codes as capitals), so :func:`encode_tcvn3` writes those as their lower-case code and
:func:`decode_tcvn3` restores upper case when the rest of the word is upper case.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Literal

from vaxtrust.vn._alphabet import CLEAN_LETTERS, FOLD_TABLE, VN_LETTERS, VOWEL_PARTS

# --- TCVN3 (ABC) -----------------------------------------------------------------------------
# Lower-case letters by base vowel; each string lists the tones ngang, sắc, huyền, hỏi, ngã, nặng.
_TCVN3_LOWER: Final = {
    "a": "a\xb8\xb5\xb6\xb7\xb9",
    "ă": "\xa8\xbe\xbb\xbc\xbd\xc6",
    "â": "\xa9\xca\xc7\xc8\xc9\xcb",
    "e": "e\xd0\xcc\xce\xcf\xd1",
    "ê": "\xaa\xd5\xd2\xd3\xd4\xd6",
    "i": "i\xdd\xd7\xd8\xdc\xde",
    "o": "o\xe3\xdf\xe1\xe2\xe4",
    "ô": "\xab\xe8\xe5\xe6\xe7\xe9",
    "ơ": "\xac\xed\xea\xeb\xec\xee",
    "u": "u\xf3\xef\xf1\xf2\xf4",
    "ư": "\xad\xf8\xf5\xf6\xf7\xf9",
    "y": "y\xfd\xfa\xfb\xfc\xfe",
}
# Upper-case letters that have their own code (no tone).
_TCVN3_UPPER: Final = {"Ă": "\xa1", "Â": "\xa2", "Ê": "\xa3", "Ô": "\xa4", "Ơ": "\xa5",
                       "Ư": "\xa6", "Đ": "\xa7", "đ": "\xae"}


def _tcvn3_tables() -> tuple[dict[str, str], dict[str, str]]:
    encode: dict[str, str] = dict(_TCVN3_UPPER)
    for letter, (base, tone) in VOWEL_PARTS.items():
        code = _TCVN3_LOWER[base.lower()][tone]
        if letter.islower():
            encode[letter] = code
        elif tone and letter not in encode:
            encode[letter] = code  # ABC limitation: toned capitals share the lower-case code
    decode = {code: letter for letter, code in encode.items()
              if letter.islower() or letter in _TCVN3_UPPER}
    decode = {code: letter for code, letter in decode.items() if ord(code) > 127}
    return {k: v for k, v in encode.items() if k != v}, decode


_TCVN3_ENCODE, _TCVN3_DECODE = _tcvn3_tables()

# --- VNI-Windows -----------------------------------------------------------------------------
# Mark bytes (as Latin-1 characters) for tones ngang..nặng; capitals use the capital forms.
_VNI_TONE: Final = ("", "\xf9", "\xf8", "\xfb", "\xf5", "\xef")
_VNI_CIRCUMFLEX: Final = ("\xe2", "\xe1", "\xe0", "\xe5", "\xe3", "\xe4")
_VNI_BREVE: Final = ("\xea", "\xe9", "\xe8", "\xfa", "\xfc", "\xeb")
_VNI_I: Final = ("i", "\xed", "\xec", "\xe6", "\xf3", "\xf2")  # i has one-byte toned forms
_VNI_HORN_BASE: Final = {"ơ": "\xf4", "ư": "\xf6"}


def _vni_lower(base: str, tone: int) -> str:
    if base == "i":
        return _VNI_I[tone]
    if base == "y" and tone == 5:
        return "\xee"
    if base in "âêô":
        return {"â": "a", "ê": "e", "ô": "o"}[base] + _VNI_CIRCUMFLEX[tone]
    if base == "ă":
        return "a" + _VNI_BREVE[tone]
    return _VNI_HORN_BASE.get(base, base) + _VNI_TONE[tone]


def _vni_tables() -> tuple[dict[str, str], dict[str, str]]:
    encode: dict[str, str] = {"đ": "\xf1", "Đ": "\xd1"}
    for letter, (base, tone) in VOWEL_PARTS.items():
        code = _vni_lower(base.lower(), tone)
        encode[letter] = code.upper() if letter.isupper() else code
    encode = {k: v for k, v in encode.items() if k != v}
    decode = {code: letter for letter, code in encode.items()}
    return encode, decode


_VNI_ENCODE, _VNI_DECODE = _vni_tables()
_VNI_DECODE_RE: Final = re.compile(
    "|".join(re.escape(code) for code in sorted(_VNI_DECODE, key=len, reverse=True))
)


def _encode_with(table: dict[str, str], text: str) -> bytes:
    text = unicodedata.normalize("NFC", text)
    return "".join(table.get(ch, ch) for ch in text).encode("latin-1", errors="replace")


def encode_tcvn3(text: str) -> bytes:
    """``text`` as TCVN3/ABC bytes; characters outside the code page become ``?``."""
    return _encode_with(_TCVN3_ENCODE, text)


def encode_vni(text: str) -> bytes:
    """``text`` as VNI-Windows bytes; characters outside the code page become ``?``."""
    return _encode_with(_VNI_ENCODE, text)


def _as_latin1_text(data: bytes | str) -> str:
    return data.decode("latin-1") if isinstance(data, bytes) else _from_cp1252_view(data)


def _from_cp1252_view(text: str) -> str:
    """Undo a cp1252 reading: characters cp1252 put at 0x80-0x9F go back to their byte value."""
    return text.translate(_CP1252_TABLE)


_CP1252_BYTE: Final = {
    bytes([b]).decode("cp1252"): b for b in range(0x80, 0xA0)
    if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
}
# The characters beyond Latin-1 that cp1252 has (Œ, Š, ‘, €...): with Latin-1, all that a
# legacy reading (VNI, TCVN3, UTF-8 seen as cp1252) of a text can start from.
CP1252_CHARACTERS: Final = frozenset(_CP1252_BYTE)


_TCVN3_TABLE: Final = str.maketrans(_TCVN3_DECODE)
_UPPER_WORD_RE: Final = re.compile(r"\S*[A-Z]\S*[A-Z]\S*")


def decode_tcvn3(data: bytes | str) -> str:
    """TCVN3 bytes, or the text they became when read as cp1252/Latin-1, as Unicode (NFC)."""
    text = _as_latin1_text(data)
    decoded = text.translate(_TCVN3_TABLE)
    if not _UPPER_WORD_RE.search(text):
        return decoded
    return "".join(_restore_capitals(word, original)
                   for word, original in zip(re.split(r"(\s+)", decoded),
                                             re.split(r"(\s+)", text), strict=True))


def _restore_capitals(decoded: str, original: str) -> str:
    """.VnTimeH documents: capitals with tones were typed as lower-case codes."""
    ascii_letters = [ch for ch in original if ch.isascii() and ch.isalpha()]
    if len(ascii_letters) >= 2 and all(ch.isupper() for ch in ascii_letters):
        return decoded.upper()
    return decoded


def decode_vni(data: bytes | str) -> str:
    """VNI-Windows bytes, or the text they became when read as cp1252/Latin-1, as Unicode."""
    text = _as_latin1_text(data)
    return _VNI_DECODE_RE.sub(lambda match: _VNI_DECODE[match.group(0)], text)


def decode_utf8_read_as_cp1252(text: str) -> str | None:
    """Undo UTF-8 bytes shown as cp1252 (``Nguyá»…n``), or None when it was not that."""
    try:
        raw = text.translate(_CP1252_TABLE).encode("latin-1")
    except UnicodeEncodeError:  # a character above U+00FF: not a cp1252 view
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


_CP1252_TABLE: Final = {ord(ch): byte for ch, byte in _CP1252_BYTE.items()}

# A Vietnamese letter's UTF-8 bytes read as cp1252 or Latin-1 start with Ã Ä Å Æ (two-byte
# letters: Ã\x81 for Á, Ä\x90 for Đ) or with "áº" / "á»" (three-byte letters: á»\x85 for ễ); a
# continuation byte 0x80-0x9F that cp1252 leaves undefined (or Latin-1 reads at all) shows as a C1
# control character. Such a control is part of the damaged letter and :func:`repair` restores it;
# any other control character is one. RE2 syntax (ingest's SQL checks).
MOJIBAKE_CONTROL_RE2: Final = "(?:[\u00c3-\u00c6]|\u00e1[\u00ba\u00bb])" + r"[\x{80}-\x{9f}]"
# The same in Python's ``re`` (complaints standardised row by row: the web form, an import).
MOJIBAKE_CONTROL: Final = re.compile("(?:[\u00c3-\u00c6]|\u00e1[\u00ba\u00bb])[\u0080-\u009f]")

# --- detection and repair ---------------------------------------------------------------------
Encoding = Literal["tcvn3", "vni", "utf8_as_cp1252"]
RepairStatus = Literal["clean", "repaired", "unrepairable"]

# Orthographic syllables of Vietnamese (tone marks removed, lower case). Used only to choose
# between readings: the reading with the most real syllables wins.
_ONSET = "(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnpqrstvx])?"
# Vowel groups that end a syllable (no final consonant) and those that may take one.
_OPEN_NUCLEI = (
    "oai oay oao oeo uây uôi uya uyu ươi ươu iêu yêu "
    "ai ao au ay âu ây eo êu ia iu oi ôi ơi ui ưi ưu ua ưa y"
).split()
_CLOSABLE_NUCLEI = "uyê oa oă oe oo uâ uê uô uơ uy iê yê ươ a ă â e ê i o ô ơ u ư".split()
SYLLABLE_PATTERN: Final = (
    f"{_ONSET}(?:(?:{'|'.join(_OPEN_NUCLEI)})|(?:{'|'.join(_CLOSABLE_NUCLEI)})"
    "(?:ch|ng|nh|[cmnpt])?)"
)
_SYLLABLE: Final = re.compile(SYLLABLE_PATTERN, re.IGNORECASE)
# The same syllables typed without their marks, as plain-letter names are (Nguyen, Duc).
_PLAIN_SYLLABLE: Final = re.compile(SYLLABLE_PATTERN.translate(FOLD_TABLE), re.IGNORECASE)
# VNI marks after a vowel that valid Vietnamese never writes there ("Vaên", "Nguyeãn").
VNI_DIGRAPH_PATTERN: Final = "[aeAE][âáàãÂÁÀÃ]|[aA][êéèúÊÉÈÚ]|[eE][êÊ]|[aeiouyAEIOUY][õùÕÙ]"
_VNI_DIGRAPH: Final = re.compile(VNI_DIGRAPH_PATTERN)
# Runs of letters of the alphabet (lower case), i.e. the words of a name.
LETTER_RUNS_RE: Final = re.compile("[a-z" + "".join(ch for ch in VN_LETTERS if ch.islower()) + "]+")
# TCVN3 codes that read as Vietnamese capitals ("NguyÔn" = Nguyễn) inside a lower-case word.
TCVN3_CAPITAL_PATTERN: Final = "[a-z][ÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝ]"
_TCVN3_CAPITAL: Final = re.compile(TCVN3_CAPITAL_PATTERN)
# Characters that may sit in a clean name besides letters (removed later as stray characters).
# A letter already lost: "?" or U+FFFD inside a word (a decoder replaced bytes it could not map).
_LOST_LETTER: Final = re.compile(r"\ufffd|[^\W\d_]\?|\?[^\W\d_]")
HARMLESS_CHARS: Final = " \t0123456789.,;:-_'\"()/&+*#?!@"
_HARMLESS: Final = frozenset(HARMLESS_CHARS)
# Any character that is neither a letter of the alphabet nor harmless.
_FOREIGN_RE: Final = re.compile(
    "[^" + "".join("\\" + ch if ch in "\\]^-[" else ch
                   for ch in "".join(sorted(CLEAN_LETTERS)) + "".join(sorted(_HARMLESS))) + "]"
)


@lru_cache(maxsize=50_000)
def is_vietnamese_syllable(word: str) -> bool:
    """Whether ``word`` spells one Vietnamese syllable (any tone; case ignored)."""
    toneless = "".join(VOWEL_PARTS.get(ch, (ch, 0))[0] for ch in unicodedata.normalize("NFC", word))
    return _SYLLABLE.fullmatch(toneless) is not None and _tone_count(word) <= 1


@lru_cache(maxsize=50_000)
def is_vietnamese_word(word: str) -> bool:
    """Whether ``word`` spells one Vietnamese syllable, with its marks or without any (Nguyen)."""
    return is_vietnamese_syllable(word) or _PLAIN_SYLLABLE.fullmatch(
        unicodedata.normalize("NFC", word).translate(FOLD_TABLE)) is not None


def _tone_count(word: str) -> int:
    return sum(1 for ch in word if VOWEL_PARTS.get(ch, ("", 0))[1])


def looks_damaged(text: str) -> bool:
    """Whether ``text`` shows signs of legacy-encoding damage (the trigger for :func:`repair`).

    Signs: a character outside the Vietnamese alphabet; VNI mark pairs (``Vaên``); TCVN3 codes
    that look like capitals inside a word (``NguyÔn``); or a word with Vietnamese letters that is
    not a Vietnamese syllable (``Huúnh``, TCVN3 for Huỳnh).
    """
    return (bool(_FOREIGN_RE.search(text)) or bool(_VNI_DIGRAPH.search(text))
            or bool(_TCVN3_CAPITAL.search(text))
            or any(is_suspect_word(word) for word in LETTER_RUNS_RE.findall(text.lower())))


def is_suspect_word(word: str) -> bool:
    """A lower-case word with non-ASCII letters that is not one Vietnamese syllable."""
    return not word.isascii() and not is_vietnamese_syllable(word)


@dataclass(frozen=True)
class Repair:
    """Outcome of :func:`repair`: the text to use, what happened, and which encoding was undone."""

    text: str
    status: RepairStatus
    encoding: Encoding | None = None


# Readings are computed per whitespace-separated token (cached: the same damaged syllables recur
# in thousands of names). ASCII whitespace only: U+00A0 is part of UTF-8 mojibake ("Ã\xa0" = à).
_TOKENS_RE: Final = re.compile(r"([ \t\n\r\f\v]+)")
_ENCODINGS: Final[tuple[Encoding | None, ...]] = (None, "utf8_as_cp1252", "vni", "tcvn3")
_Parts = tuple[bool, int, int]  # (damage signs left, valid syllables, words)


@lru_cache(maxsize=200_000)
def _token_reading(token: str, encoding: Encoding | None) -> tuple[str, _Parts] | None:
    """One token read in ``encoding`` (None: as typed) and its score parts; None when that
    reading is impossible or leaves characters outside the alphabet."""
    reading: str | None
    if encoding is None:
        reading = token.replace("\u00d0", "Đ")  # Ð (Icelandic eth) typed for Đ
    elif encoding == "utf8_as_cp1252":
        reading = decode_utf8_read_as_cp1252(token)
    elif all(ord(ch) < 256 or ch in _CP1252_BYTE for ch in token):
        reading = decode_vni(token) if encoding == "vni" else decode_tcvn3(token)
    else:
        reading = None
    if reading is None or _FOREIGN_RE.search(reading):
        return None
    words = LETTER_RUNS_RE.findall(reading.lower())
    valid = sum(1 for w in words if is_vietnamese_syllable(w))
    return reading, (looks_damaged(reading), valid, len(words))


def repair(text: str) -> Repair:
    """Repair legacy-encoding damage in ``text`` (NFC in, NFC out).

    Only acts when :func:`looks_damaged`; then reads the text as typed, as UTF-8 seen as cp1252,
    as VNI and as TCVN3, and keeps the reading that leaves no damage signs and has the most
    Vietnamese syllables (ties keep the earlier reading, as typed first), provided it contains
    only Vietnamese letters. Text whose damage no reading explains comes back unchanged as
    ``unrepairable`` (for example bytes already lost as ``?`` or U+FFFD).
    """
    text = unicodedata.normalize("NFC", text)
    if _LOST_LETTER.search(text):
        return Repair(text.replace("\u00d0", "Đ"), "unrepairable")  # bytes already replaced
    if not looks_damaged(text):
        return Repair(text, "clean")
    tokens = _TOKENS_RE.split(text)
    best: tuple[tuple[int, int, int], str, Encoding | None] | None = None
    for encoding in _ENCODINGS:
        parts = [_token_reading(token, encoding) for token in tokens]
        if any(part is None for part in parts):
            continue
        readings = [part for part in parts if part is not None]
        valid = sum(p[1][1] for p in readings)
        score = (0 if any(p[1][0] for p in readings) else 1, valid,
                 valid - sum(p[1][2] for p in readings))
        if best is None or score > best[0]:
            best = (score, "".join(p[0] for p in readings), encoding)
    if best is None:
        return Repair(text.replace("\u00d0", "Đ"), "unrepairable")
    if best[2] is None:
        return Repair(best[1], "clean")
    return Repair(unicodedata.normalize("NFC", best[1]), "repaired", best[2])
