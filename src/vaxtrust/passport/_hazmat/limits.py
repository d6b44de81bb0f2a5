"""Bounded zlib and CBOR decoding: hostile QR codes cost kilobytes and milliseconds, never more.

A QR code holds at most 4,296 alphanumeric characters (2,864 bytes after Base45), and real
certificates inflate to a few kilobytes; the limits below leave a wide margin and still stop zip
bombs and pathological nesting before they cost memory or recursion.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import cbor2

from vaxtrust.passport._hazmat import DecodeError

MAX_TEXT_CHARS = 16_384        # HC1 text (raw app-to-app transport may exceed one QR)
MAX_INFLATED_BYTES = 256 * 1024
MAX_CBOR_DEPTH = 16            # a DCC nests about 6 deep (tag, COSE array, CWT, hcert, dcc, v, entry)


def inflate(data: bytes, limit: int = MAX_INFLATED_BYTES) -> bytes:
    """zlib (RFC 1950) inflate that refuses output beyond ``limit`` and truncated streams."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as error:
        raise DecodeError("zlib", f"not a valid zlib stream ({error})") from None
    if len(out) > limit:
        raise DecodeError("zlib", f"inflates beyond {limit} bytes (zip bomb?)")
    if not inflater.eof:
        raise DecodeError("zlib", "stream is truncated")
    return out


def loads(data: bytes, *, what: str = "cbor") -> Any:
    """One CBOR item with bounded depth; tags 0/1 (dates) decode as ``datetime``."""
    if len(data) > MAX_INFLATED_BYTES:
        raise DecodeError(what, f"{len(data)} bytes of CBOR exceed {MAX_INFLATED_BYTES}")
    try:
        return cbor2.loads(data, max_depth=MAX_CBOR_DEPTH)
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, LookupError,
            RecursionError, MemoryError) as error:
        raise DecodeError(what, f"malformed CBOR ({type(error).__name__}: {error})") from None


_PLAIN = frozenset({str, int, float, bool, type(None)})


def to_json(value: Any) -> Any:
    """Decoded CBOR as plain JSON values: maps with string keys, lists, RFC 3339 'Z' date-times."""
    kind = type(value)
    if kind in _PLAIN:                  # exact types first: nearly every value of a real DCC
        return value
    if kind is dict:
        return {key if type(key) is str else str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return value.hex()
    if isinstance(value, cbor2.CBORTag):
        return to_json(value.value)
    if isinstance(value, cbor2.CBORSimpleValue) or value is cbor2.undefined:
        return None
    return value
