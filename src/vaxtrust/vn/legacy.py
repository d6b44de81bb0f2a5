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
from typing import Final, Literal

from vaxtrust.vn._alphabet import CLEAN_LETTERS, VN_LETTERS, VOWEL_PARTS

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
    return "".join(chr(_CP1252_BYTE.get(ch, ord(ch))) if ch in _CP1252_BYTE else ch for ch in text)


_CP1252_BYTE: Final = {
    bytes([b]).decode("cp1252"): b for b in range(0x80, 0xA0)
    if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
}


def decode_tcvn3(data: bytes | str) -> str:
    """TCVN3 bytes, or the text they became when read as cp1252/Latin-1, as Unicode (NFC)."""
    text = _as_latin1_text(data)
    words = re.split(r"(\s+)", text)
    return "".join(_decode_tcvn3_word(word) for word in words)


def _decode_tcvn3_word(word: str) -> str:
    decoded = "".join(_TCVN3_DECODE.get(ch, ch) for ch in word)
    ascii_letters = [ch for ch in word if ch.isascii() and ch.isalpha()]
    # .VnTimeH documents: capitals with tones were typed as lower-case codes.
    if len(ascii_letters) >= 2 and all(ch.isupper() for ch in ascii_letters):
        decoded = decoded.upper()
    return decoded


def decode_vni(data: bytes | str) -> str:
    """VNI-Windows bytes, or the text they became when read as cp1252/Latin-1, as Unicode."""
    text = _as_latin1_text(data)
    return _VNI_DECODE_RE.sub(lambda match: _VNI_DECODE[match.group(0)], text)


def decode_utf8_read_as_cp1252(text: str) -> str | None:
    """Undo UTF-8 bytes shown as cp1252 (``Nguyá»…n``), or None when it was not that."""
    try:
        raw = bytes(_CP1252_BYTE.get(ch, ord(ch)) for ch in text)
    except ValueError:  # a character above U+00FF: not a cp1252 view
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


# --- detection and repair ---------------------------------------------------------------------
Encoding = Literal["tcvn3", "vni", "utf8_as_cp1252"]
RepairStatus = Literal["clean", "repaired", "unrepairable"]

# Orthographic syllables of Vietnamese (tone marks removed, lower case). Used only to choose
# between readings: the reading with the most real syllables wins.
_ONSET = "(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx])?"
_NUCLEI = (
    "oai oay oao oeo uây uôi uya uyê uyu ươi ươu iêu yêu "
    "ai ao au ay âu ây eo êu ia iê iu oa oă oe oi ôi ơi oo ua uâ uê ui uô uơ uy ưa ưi ưu ươ yê "
    "a ă â e ê i o ô ơ u ư y"
).split()
_SYLLABLE: Final = re.compile(
    f"{_ONSET}(?:{'|'.join(_NUCLEI)})(?:ch|ng|nh|[cmnpt])?", re.IGNORECASE
)
# VNI marks after a vowel that valid Vietnamese never writes there ("Vaên", "Nguyeãn").
VNI_DIGRAPH_PATTERN: Final = "[aeAE][âáàãÂÁÀÃ]|[aA][êéèúÊÉÈÚ]|[eE][êÊ]"
_VNI_DIGRAPH: Final = re.compile(VNI_DIGRAPH_PATTERN)
# Characters that may sit in a clean name besides letters (removed later as stray characters).
# A letter already lost: "?" or U+FFFD inside a word (a decoder replaced bytes it could not map).
_LOST_LETTER: Final = re.compile(r"\ufffd|[^\W\d_]\?|\?[^\W\d_]")
_HARMLESS: Final = frozenset(" \t0123456789.,;:-_'\"()/&+*#?!@")


def is_vietnamese_syllable(word: str) -> bool:
    """Whether ``word`` spells one Vietnamese syllable (any tone; case ignored)."""
    toneless = "".join(VOWEL_PARTS.get(ch, (ch, 0))[0] for ch in unicodedata.normalize("NFC", word))
    return _SYLLABLE.fullmatch(toneless) is not None and _tone_count(word) <= 1


def _tone_count(word: str) -> int:
    return sum(1 for ch in word if VOWEL_PARTS.get(ch, ("", 0))[1])


def looks_damaged(text: str) -> bool:
    """Whether ``text`` shows signs of legacy-encoding damage (the trigger for :func:`repair`)."""
    return any(ch not in CLEAN_LETTERS and ch not in _HARMLESS for ch in text) or bool(
        _VNI_DIGRAPH.search(text)
    )


@dataclass(frozen=True)
class Repair:
    """Outcome of :func:`repair`: the text to use, what happened, and which encoding was undone."""

    text: str
    status: RepairStatus
    encoding: Encoding | None = None


def _score(text: str) -> tuple[int, int] | None:
    """(valid syllables, -invalid words) for clean text; None when foreign characters remain."""
    if any(ch not in CLEAN_LETTERS and ch not in _HARMLESS for ch in text):
        return None
    words = [w for w in re.split(r"[^" + "a-zA-Z" + VN_LETTERS + "]+", text) if w]
    valid = sum(1 for w in words if is_vietnamese_syllable(w))
    return valid, valid - len(words)


def repair(text: str) -> Repair:
    """Repair legacy-encoding damage in ``text`` (NFC in, NFC out).

    Only acts when :func:`looks_damaged`; then tries each reading (UTF-8 seen as cp1252, VNI,
    TCVN3) and keeps the one that yields the most Vietnamese syllables, provided it contains only
    Vietnamese letters. Text whose damage no reading explains comes back unchanged as
    ``unrepairable`` (for example bytes already lost as ``?`` or U+FFFD).
    """
    text = unicodedata.normalize("NFC", text)
    if _LOST_LETTER.search(text):
        return Repair(text.replace("\u00d0", "Đ"), "unrepairable")  # bytes already replaced
    if not looks_damaged(text):
        return Repair(text, "clean")
    as_is = text.replace("\u00d0", "Đ")  # Ð (Icelandic eth) typed for Đ
    best: tuple[tuple[int, int], str, Encoding | None] | None = None
    as_is_score = _score(as_is)
    if as_is_score is not None:
        best = (as_is_score, as_is, None)
    for encoding, candidate in _readings(text):
        score = _score(candidate)
        if score is not None and (best is None or score > best[0]):
            best = (score, candidate, encoding)
    if best is None:
        return Repair(as_is, "unrepairable")
    if best[2] is None:
        return Repair(best[1], "clean")
    return Repair(unicodedata.normalize("NFC", best[1]), "repaired", best[2])


def _readings(text: str) -> list[tuple[Encoding, str]]:
    readings: list[tuple[Encoding, str]] = []
    utf8 = decode_utf8_read_as_cp1252(text)
    if utf8 is not None and utf8 != text:
        readings.append(("utf8_as_cp1252", utf8))
    if all(ord(ch) < 256 or ch in _CP1252_BYTE for ch in text):
        readings.append(("vni", decode_vni(text)))
        readings.append(("tcvn3", decode_tcvn3(text)))
    return readings
