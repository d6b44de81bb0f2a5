"""Sliding-window counters for the citizen look-up (per client address and per ID number).

Kept in the process: with several workers each enforces its own share, so the effective limit is
at most workers x the setting (docs/web.md). ID numbers are kept only as salted hashes.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import deque


class SlidingWindow:
    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._salt = secrets.token_bytes(16)

    def key(self, value: str) -> str:
        return hashlib.sha256(self._salt + value.encode("utf-8")).hexdigest()

    def allow(self, value: str, now: float | None = None) -> bool:
        """Count one attempt for ``value``; False when it is over the limit."""
        moment = time.monotonic() if now is None else now
        key = self.key(value)
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= moment - self.seconds:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(moment)
            if len(self._hits) > 100_000:       # forget idle keys rather than grow for ever
                self._hits = {k: v for k, v in self._hits.items() if v}
            return True
