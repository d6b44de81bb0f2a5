"""Base45 (RFC 9285): the QR-alphanumeric-safe encoding of the EU DCC.

A certificate is about 550 three-character groups; a plain per-group Python loop costs more than
the ECDSA signature itself in batch issuance, so encoding looks groups up in a table and decoding
is vectorised with numpy.
"""

from __future__ import annotations

import struct
from functools import cache

import numpy as np

from vaxtrust.passport._hazmat import DecodeError

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_INVALID = 0xFF
_DECODE = bytes(ALPHABET.index(chr(b)) if chr(b) in ALPHABET else _INVALID for b in range(256))
_WEIGHTS = np.array([1, 45, 2025], dtype=np.uint32)


@cache
def _triples() -> list[str]:
    """The three characters of every 16-bit value (about 4 MB, built once on first use)."""
    a = ALPHABET
    return [a[n % 45] + a[n // 45 % 45] + a[n // 2025] for n in range(0x10000)]


def encode(data: bytes) -> str:
    """Two bytes become three characters (least significant first); a last odd byte two."""
    whole = len(data) // 2 * 2
    pairs = struct.unpack(f">{whole // 2}H", data[:whole])
    text = "".join(map(_triples().__getitem__, pairs))
    if whole < len(data):
        high, low = divmod(data[-1], 45)
        text += ALPHABET[low] + ALPHABET[high]
    return text


def decode(text: str) -> bytes:
    """The bytes of ``text``; raises :class:`DecodeError` on a bad character, length or group value."""
    try:
        values = text.encode("ascii").translate(_DECODE)
    except UnicodeEncodeError as error:
        raise DecodeError("base45", f"invalid character {text[error.start]!r}") from None
    bad = values.find(_INVALID)
    if bad >= 0:
        raise DecodeError("base45", f"invalid character {text[bad]!r} at {bad}")
    if len(values) % 3 == 1:
        raise DecodeError("base45", f"length {len(values)} leaves a dangling character (truncated?)")
    whole = len(values) // 3 * 3
    groups = np.frombuffer(values, dtype=np.uint8, count=whole).reshape(-1, 3).astype(np.uint32)
    numbers = groups @ _WEIGHTS
    too_big = np.flatnonzero(numbers > 0xFFFF)
    if too_big.size:
        index = int(too_big[0])
        raise DecodeError("base45", f"group at {index * 3} encodes {int(numbers[index])} > 65535")
    out = numbers.astype(">u2").tobytes()
    if whole < len(values):
        last = values[whole] + 45 * values[whole + 1]
        if last > 0xFF:
            raise DecodeError("base45", f"final pair encodes {last} > 255")
        out += bytes((last,))
    return out
