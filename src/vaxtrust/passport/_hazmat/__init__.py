"""Low-level building blocks of the EU DCC: Base45, bounded zlib/CBOR, COSE_Sign1.

Nothing here knows about people, schemas or trust; the recipes layer (``issue``/``verify``) does.
Every decoder raises :class:`DecodeError` naming the step that failed, never a bare exception.
"""

from __future__ import annotations


class DecodeError(ValueError):
    """Input that a decoding step cannot accept; ``step`` names the step (``base45``, ``zlib``, ...)."""

    def __init__(self, step: str, message: str) -> None:
        super().__init__(f"{step}: {message}")
        self.step = step
