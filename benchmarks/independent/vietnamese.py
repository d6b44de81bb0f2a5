"""Vietnamese text operations the error model needs, written from vn-facts.md §3 only.

A syllable is handled as its letters (with their shape marks: circumflex, breve, horn, and đ) and
one tone mark on one letter. Everything works on NFC text and returns NFC text.
"""

from __future__ import annotations

import unicodedata

# Combining tone marks (vn-facts §3.4) and the keys that type them.
TONE_MARKS = ("\u0301", "\u0300", "\u0309", "\u0303", "\u0323")  # sắc huyền hỏi ngã nặng
TELEX_TONE = dict(zip(TONE_MARKS, "sfrxj", strict=True))
VNI_TONE = dict(zip(TONE_MARKS, "12345", strict=True))

# Shape-marked letters as Telex and VNI type them (lower case; upper case keeps the first letter's case).
TELEX_SHAPE = {"â": "aa", "ê": "ee", "ô": "oo", "ă": "aw", "ơ": "ow", "ư": "uw", "đ": "dd"}
VNI_SHAPE = {"â": "a6", "ê": "e6", "ô": "o6", "ă": "a8", "ơ": "o7", "ư": "u7", "đ": "d9"}

VOWELS = set("aăâeêioôơuưy")

QWERTY_NEIGHBOURS = {
    "q": "wa", "w": "qes", "e": "wrd", "r": "etf", "t": "ryg", "y": "tuh", "u": "yij", "i": "uok",
    "o": "ipl", "p": "ol", "a": "qsz", "s": "adwx", "d": "sfec", "f": "dgrv", "g": "fhtb",
    "h": "gjyn", "j": "hkum", "k": "jlim", "l": "kop", "z": "asx", "x": "zcs", "c": "xvd",
    "v": "cbf", "b": "vng", "n": "bmh", "m": "nj",
}


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def split_tone(syllable: str) -> tuple[str, str, int]:
    """(letters without the tone, tone mark or '', index of the letter that carried it or -1)."""
    letters: list[str] = []
    tone, position = "", -1
    for index, char in enumerate(nfc(syllable)):
        decomposed = unicodedata.normalize("NFD", char)
        marks = [m for m in decomposed if m in TONE_MARKS]
        if marks:
            tone, position = marks[0], index
            decomposed = "".join(m for m in decomposed if m not in TONE_MARKS)
        letters.append(nfc(decomposed))
    return "".join(letters), tone, position


def put_tone(letters: str, tone: str, position: int) -> str:
    """Letters with ``tone`` on the letter at ``position`` (no tone when ``tone`` is empty)."""
    if not tone or position < 0:
        return letters
    chars = list(letters)
    chars[position] = nfc(unicodedata.normalize("NFD", chars[position]) + tone)
    return "".join(chars)


def strip_diacritics(text: str) -> str:
    """Nguyễn Thị Đào -> Nguyen Thi Dao (Đ has no decomposition, vn-facts §3.4)."""
    plain = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return plain.replace("Đ", "D").replace("đ", "d")


def _keys(letters: str, shapes: dict[str, str]) -> str:
    out = []
    for char in letters:
        typed = shapes.get(char.lower())
        if typed is None:
            out.append(char)
        else:
            out.append(typed[0].upper() + typed[1:] if char.isupper() else typed)
    return "".join(out)


def keyboard_residue(syllable: str, scheme: str, tone_at_end: bool = True,
                     shapes_done: bool = False) -> str:
    """The syllable as typed with Telex or VNI and never converted.

    ``tone_at_end``: the tone key typed after the whole syllable (Nguyeenx) or right after the
    vowel that carries it (Nguyeexn). ``shapes_done``: the partial form where the shape marks were
    converted but the tone key stayed a letter (Nguyênx, Nguyên4).
    """
    shapes = TELEX_SHAPE if scheme == "telex" else VNI_SHAPE
    tones = TELEX_TONE if scheme == "telex" else VNI_TONE
    letters, tone, position = split_tone(syllable)
    if not tone and (shapes_done or not any(c.lower() in shapes for c in letters)):
        return syllable
    key = tones.get(tone, "")
    if shapes_done:
        return letters + key
    if tone_at_end or position < 0:
        return _keys(letters, shapes) + key
    return _keys(letters[: position + 1], shapes) + key + _keys(letters[position + 1:], shapes)


def tone_style_position(letters: str) -> tuple[int, int] | None:
    """(old-style, new-style) tone positions of an open oa/oe/uy syllable (hòa/hoà, thủy/thuỷ)."""
    lower = letters.lower()
    if len(lower) < 2 or lower[-2:] not in ("oa", "oe", "uy"):
        return None
    if lower[-2:] == "uy" and lower[:-2].endswith("q"):
        return None  # quý: the u belongs to qu
    return len(lower) - 2, len(lower) - 1


def toggle_tone_style(syllable: str) -> str:
    """hòa <-> hoà, thủy <-> thuỷ; any other syllable unchanged."""
    letters, tone, position = split_tone(syllable)
    positions = tone_style_position(letters)
    if not tone or positions is None or position not in positions:
        return syllable
    other = positions[1] if position == positions[0] else positions[0]
    return put_tone(letters, tone, other)


def change_tone(syllable: str, new_tone: str) -> str:
    """The same syllable with another tone mark on the same letter ('' removes it)."""
    letters, tone, position = split_tone(syllable)
    if not tone:
        return syllable
    return put_tone(letters, new_tone, position)


def typo(syllable: str, kind: str, index: int, pick: int) -> str:
    """One keystroke wrong in the syllable: ``kind`` substitute, delete, double or swap at ``index``."""
    chars = list(syllable)
    if not chars:
        return syllable
    index %= len(chars)
    if kind == "delete" and len(chars) > 1:
        del chars[index]
    elif kind == "double":
        chars.insert(index, chars[index])
    elif kind == "swap" and len(chars) > 1:
        index = min(index, len(chars) - 2)
        chars[index], chars[index + 1] = chars[index + 1], chars[index]
    else:
        base = strip_diacritics(chars[index]).lower()
        near = QWERTY_NEIGHBOURS.get(base, "")
        if not near:
            return syllable
        new = near[pick % len(near)]
        chars[index] = new.upper() if chars[index].isupper() else new
    return "".join(chars)


def capitalise(word: str) -> str:
    return word[:1].upper() + word[1:].lower()
