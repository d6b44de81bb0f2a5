"""Base45 (RFC 9285): the QR-alphanumeric-safe encoding of the EU DCC."""

from __future__ import annotations

from vaxtrust.passport._hazmat import DecodeError

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_VALUE = {char: index for index, char in enumerate(ALPHABET)}


def encode(data: bytes) -> str:
    """Two bytes become three characters (least significant first); a last odd byte two."""
    out: list[str] = []
    for start in range(0, len(data) - 1, 2):
        number = data[start] * 256 + data[start + 1]
        number, c = divmod(number, 45)
        e, d = divmod(number, 45)
        out += (ALPHABET[c], ALPHABET[d], ALPHABET[e])
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out += (ALPHABET[c], ALPHABET[d])
    return "".join(out)


def decode(text: str) -> bytes:
    """The bytes of ``text``; raises :class:`DecodeError` on a bad character, length or group value."""
    try:
        values = [_VALUE[char] for char in text]
    except KeyError as error:
        raise DecodeError("base45", f"invalid character {error.args[0]!r}") from None
    if len(values) % 3 == 1:
        raise DecodeError("base45", f"length {len(values)} leaves a dangling character (truncated?)")
    out = bytearray()
    for start in range(0, len(values), 3):
        group = values[start:start + 3]
        number = sum(value * 45**power for power, value in enumerate(group))
        if len(group) == 3:
            if number > 0xFFFF:
                raise DecodeError("base45", f"group at {start} encodes {number} > 65535")
            out += number.to_bytes(2, "big")
        else:
            if number > 0xFF:
                raise DecodeError("base45", f"final pair encodes {number} > 255")
            out.append(number)
    return bytes(out)
