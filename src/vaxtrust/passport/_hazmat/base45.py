"""Base45 (RFC 9285): the QR-alphanumeric-safe encoding of the EU DCC.

A certificate is about 200 three-character groups; a plain per-group Python loop costs more than
the ECDSA signature itself in batch issuance, so both directions are vectorised with numpy.
Encoding gathers rows of a 192 KB table (three ASCII bytes per 16-bit value): a table of Python
strings was fast only in micro-benchmarks, as each certificate's random bytes missed the CPU cache
(~50 µs a certificate, more than the signature).
"""

from __future__ import annotations

from functools import cache

import numpy as np

from vaxtrust.passport._hazmat import DecodeError

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_INVALID = 0xFF
_DECODE = bytes(ALPHABET.index(chr(b)) if chr(b) in ALPHABET else _INVALID for b in range(256))
_WEIGHTS = np.array([1, 45, 2025], dtype=np.uint32)


@cache
def _triples() -> np.ndarray:
    """Row ``n`` = the three ASCII characters of the 16-bit value ``n`` (built once on first use)."""
    values = np.arange(0x10000, dtype=np.uint32)
    digits = np.stack([values % 45, values // 45 % 45, values // 2025], axis=1)
    return np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)[digits]


def encode(data: bytes) -> str:
    """Two bytes become three characters (least significant first); a last odd byte two."""
    return encode_many([data])[0]


def encode_many(blobs: list[bytes]) -> list[str]:
    """:func:`encode` of each blob, with one table lookup for all (a batch of certificates)."""
    evens = b"".join([blob[: len(blob) // 2 * 2] for blob in blobs])
    text = _triples().take(np.frombuffer(evens, dtype=">u2"), axis=0).tobytes().decode("ascii")
    encoded, start = [], 0
    for blob in blobs:
        end = start + len(blob) // 2 * 3
        part = text[start:end]
        if len(blob) % 2:
            high, low = divmod(blob[-1], 45)
            part += ALPHABET[low] + ALPHABET[high]
        encoded.append(part)
        start = end
    return encoded


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
