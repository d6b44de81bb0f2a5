"""The QR text of a certificate the store says is current, read from the issuance journals.

The store records which certificate (UVCI) each person holds; the signed text lives in the
issuance journal of the batch that signed it (``sign-batch --out``). The web app opens the
configured journals read-only and never writes them.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


def qr_text_of(journals: list[Path], uvci: str) -> str | None:
    for path in journals:
        if not path.is_file():
            continue
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = connection.execute(
                "SELECT qr_text FROM certificates WHERE uvci = ? AND revoked_at IS NULL",
                (uvci,)).fetchone()
        except sqlite3.Error:
            row = None
        finally:
            connection.close()
        if row:
            return str(row[0])
    return None
