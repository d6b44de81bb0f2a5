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


# --- keyboard residue (vn-facts §3.4): the keys of a Telex or VNI input method, typed with it off
_TELEX_MODIFIERS = {"â": "aa", "ê": "ee", "ô": "oo", "ă": "aw", "ơ": "ow", "ư": "uw", "đ": "dd"}
_VNI_MODIFIERS = {"â": "a6", "ê": "e6", "ô": "o6", "ă": "a8", "ơ": "o7", "ư": "u7", "đ": "d9"}
_TELEX_TONES = "sfrxj"   # sắc, huyền, hỏi, ngã, nặng
_TONE_INDEX = {"\u0301": 0, "\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0323": 4}


def _keys_for_word(word: str, modifiers: dict[str, str], tones: str, rng: np.random.Generator,
                   *, keep_modifiers: bool) -> str:
    base, tone, at = split_tone(word)
    out: list[str] = []
    for i, char in enumerate(base):
        lower = char.lower()
        keys = lower if keep_modifiers else modifiers.get(lower, lower)
        keys = keys[0].upper() + keys[1:] if char.isupper() else keys
        out.append(keys)
        if tone is not None and i == at and rng.random() < 0.3:
            out.append(tones[_TONE_INDEX[tone]])   # the tone key right after its vowel
            tone = None
    if tone is not None:
        out.append(tones[_TONE_INDEX[tone]])       # most often: the tone key ends the word
    return "".join(out)


def _keyboard(text: str, rng: np.random.Generator, modifiers: dict[str, str], tones: str) -> str:
    """Full form (every word as keys), or partial: some words only, or the tone keys only."""
    words = text.split(" ")
    form = rng.random()
    keep_modifiers = 0.75 <= form < 0.9
    chosen = (np.ones(len(words), dtype=bool) if form < 0.75 or form >= 0.9
              else rng.random(len(words)) < 0.5)
    if form >= 0.9 and len(words) > 1:    # partial: one word typed with the method off
        chosen = np.zeros(len(words), dtype=bool)
        chosen[int(rng.integers(len(words)))] = True
    return " ".join(_keys_for_word(w, modifiers, tones, rng, keep_modifiers=keep_modifiers)
                    if pick else w for w, pick in zip(words, chosen, strict=True))


def telex_residue(text: str, rng: np.random.Generator) -> str:
    """``Nguyễn Thị`` typed in Telex with the input method off: ``Nguyeenx Thij``."""
    return _keyboard(text, rng, _TELEX_MODIFIERS, _TELEX_TONES)


def vni_residue(text: str, rng: np.random.Generator) -> str:
    """``Nguyễn Thị`` typed in VNI with the input method off: ``Nguye6n4 Thi5``."""
    return _keyboard(text, rng, _VNI_MODIFIERS, "12345")


# Middle names that forms add (vn-facts §3.3): Văn/Thị by gender, and common second middles.
_MIDDLES = {True: ("Thị", "Thu", "Ngọc", "Thanh", "Hồng", "Kim", "Minh"),
            False: ("Văn", "Đức", "Minh", "Quang", "Hữu", "Ngọc", "Thanh")}


def add_middle(text: str, rng: np.random.Generator, female: bool) -> str:
    """A middle name the register does not have: Ngọc Ánh → Thị Ngọc Ánh; Thị Ánh → Thị Thu Ánh."""
    words = text.split(" ")
    if len(words) < 2:
        return text
    gendered = _MIDDLES[female][0]
    if gendered not in words[1:-1] and rng.random() < 0.6:
        return " ".join([words[0], gendered, *words[1:]])
    options = [m for m in _MIDDLES[female][1:] if m not in words]
    return " ".join([*words[:-1], options[int(rng.integers(len(options)))], words[-1]])


def change_middle(text: str, rng: np.random.Generator, female: bool) -> str:
    """The last middle name replaced by another common one (Thị Thu Hà → Thị Thanh Hà)."""
    words = text.split(" ")
    if len(words) < 3:
        return text
    options = [m for m in _MIDDLES[female] if m != words[-2]]
    words[-2] = options[int(rng.integers(len(options)))]
    return " ".join(words)
