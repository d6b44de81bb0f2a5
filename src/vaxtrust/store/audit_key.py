"""The audit chain's key, kept outside the database, and the signed exports of the chain's head.

The key is 32 random bytes (hex text). It comes from, first to last:

1. the ``store.audit_key_file`` setting (a file that must be 0600: no group or other access);
2. ``$VAXTRUST_AUDIT_KEY`` (hex, at least 64 characters);
3. SQLite only: ``STORE.db.audit-key`` beside the store file, made 0600 when the chain is empty.
   It guards against a copy of the database alone; a deployment keeps the key elsewhere.

Without a key the store can be read but not written (PostgreSQL needs 1 or 2).

A head export (:func:`export_head`) is a small JSON file with the chain's row count and newest
hash, MAC'd with the key; ``audit verify`` checks the chain against the newest export, which
detects deleted newest rows. Exports go to ``store.audit_head_dir`` (SQLite default: the folder
``STORE.db.audit-heads`` beside the store; PostgreSQL: a folder per server and database under
``$VAXTRUST_AUDIT_HEAD_DIR``, beside the key file, or in ``~/.local/state/vaxtrust``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from vaxtrust.errors import ConfigError, StoreError
from vaxtrust.files import private_dir, write_private

KEY_ENV = "VAXTRUST_AUDIT_KEY"
KEY_SUFFIX = ".audit-key"
HEADS_SUFFIX = ".audit-heads"
HEADS_ENV = "VAXTRUST_AUDIT_HEAD_DIR"


@dataclass(frozen=True, repr=False)
class AuditKey:
    """The HMAC key of the chain; ``key_id`` names it without revealing it."""

    secret: bytes
    source: str

    @property
    def key_id(self) -> str:
        return hmac.new(self.secret, b"vaxtrust audit key id", hashlib.sha256).hexdigest()[:16]

    def mac(self, material: bytes) -> str:
        return hmac.new(self.secret, material, hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return f"AuditKey(key_id={self.key_id}, source={self.source})"


def _parse(text: str, source: str) -> AuditKey:
    try:
        secret = bytes.fromhex(text.strip())
    except ValueError:
        raise ConfigError(f"audit key from {source} is not hex text") from None
    if len(secret) < 32:
        raise ConfigError(f"audit key from {source} is shorter than 32 bytes (64 hex digits)")
    return AuditKey(secret, source)


def read_key_file(path: Path) -> AuditKey:
    """The key in ``path``, refused when the file is readable by others than its owner."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigError(f"audit key file {path} does not exist") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"audit key file {path} is open to other accounts "
                          f"(mode {stat.S_IMODE(mode):o}): chmod 600 it")
    return _parse(path.read_text(encoding="ascii"), str(path))


def new_key_file(path: Path) -> AuditKey:
    """Create ``path`` with a new random key (0600; never overwrites)."""
    write_private(path, secrets.token_hex(32) + "\n", exclusive=True)
    return read_key_file(path)


def sqlite_key_path(database: str) -> Path:
    return Path(database + KEY_SUFFIX)


def resolve(key_file: Path | None, *, sqlite_database: str | None,
            chain_is_empty: bool) -> AuditKey | None:
    """The configured key; for SQLite the key beside the store (made when the chain is empty)."""
    if key_file is not None:
        return read_key_file(key_file)
    if os.environ.get(KEY_ENV):
        return _parse(os.environ[KEY_ENV], f"${KEY_ENV}")
    if sqlite_database and sqlite_database != ":memory:":
        path = sqlite_key_path(sqlite_database)
        if path.exists():
            return read_key_file(path)
        if chain_is_empty:
            return new_key_file(path)
    return None


# ---------------------------------------------------------------- head exports

@dataclass(frozen=True)
class HeadExport:
    rows: int
    head_hash: str
    key_id: str
    exported_at: str
    path: Path | None = None


def _material(rows: int, head_hash: str, key_id: str, exported_at: str) -> bytes:
    return json.dumps([rows, head_hash, key_id, exported_at], separators=(",", ":")).encode()


def export_head(key: AuditKey, folder: Path, rows: int, head_hash: str,
                exported_at: str) -> Path:
    """Write a MAC'd head export into ``folder`` (0700), named so the newest sorts last."""
    private_dir(folder)
    body = {"rows": rows, "head_hash": head_hash, "key_id": key.key_id,
            "exported_at": exported_at,
            "mac": key.mac(_material(rows, head_hash, key.key_id, exported_at))}
    stamp = exported_at.replace(":", "").replace("-", "").replace(".", "")
    path = folder / f"head-{rows:012d}-{stamp}.json"
    write_private(path, json.dumps(body, indent=1) + "\n", exclusive=False)
    return path


def read_head(key: AuditKey, path: Path) -> HeadExport:
    """One export, its MAC checked with ``key`` (a forged or edited export is refused)."""
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        head = HeadExport(int(body["rows"]), str(body["head_hash"]), str(body["key_id"]),
                          str(body["exported_at"]), path)
        mac = str(body["mac"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise StoreError(f"audit head export {path} is unreadable: {error}") from error
    expected = key.mac(_material(head.rows, head.head_hash, head.key_id, head.exported_at))
    if not hmac.compare_digest(mac, expected):
        raise StoreError(f"audit head export {path} was not made with this store's audit key")
    return head


def _key_id_of(path: Path) -> str | None:
    try:
        return str(json.loads(path.read_text(encoding="utf-8"))["key_id"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # unreadable: read_head names the problem


def newest_head(key: AuditKey, folder: Path) -> HeadExport | None:
    """The export with the most rows in ``folder`` made with ``key`` (None when there is none).

    Exports of a retired key (before ``audit rekey --previous-key-file``) are left aside: the
    rotation re-hashed the chain and exported its head with the new key."""
    if not folder.is_dir():
        return None
    heads = [read_head(key, path) for path in folder.glob("head-*.json")
             if _key_id_of(path) in (key.key_id, None)]
    return max(heads, key=lambda head: (head.rows, head.exported_at), default=None)
