"""The run directory: results, review candidates, dose histories, rejects and the summary.

Everything is written into a hidden temporary folder beside the target and moved into place only
when complete, so a failed run never leaves a complete-looking output folder (docs/cleaning.md).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from vaxtrust.engine import Engine
from vaxtrust.errors import ConfigError, InputError
from vaxtrust.folders import staged_folder
from vaxtrust.schema import (
    REJECT_COLUMNS,
    RESULT_COLUMNS,
    RUN_DOSE_HISTORY,
    RUN_REJECTS,
    RUN_RESULTS,
    RUN_REVIEW_CANDIDATES,
    RUN_SUMMARY,
)

RUN_RESULTS_CSV = "results.csv"
RUN_CONTENTS = "contents.json"  # SHA-256 of each file of the run, written last


def check_out_dir(out_dir: Path) -> None:
    """Refuse a target that is a file, or a non-empty folder that is not an earlier run."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"--out {out_dir} is a file; give a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / RUN_SUMMARY).exists():
        raise ConfigError(f"--out {out_dir} is a non-empty folder that is not a vaxtrust run; "
                          "give a new or empty folder")


@contextmanager
def staged_run_dir(out_dir: Path, *, key: RunKey | None = None) -> Iterator[Path]:
    """A temporary folder that replaces ``out_dir`` when the block succeeds, else vanishes."""
    check_out_dir(out_dir)
    with staged_folder(out_dir) as staging:
        yield staging
        write_contents(staging, key)


class RunKey(Protocol):
    """What keys a run's content manifest: the store's audit key
    (:class:`vaxtrust.store.audit_key.AuditKey`)."""

    @property
    def key_id(self) -> str: ...

    def mac(self, material: bytes) -> str: ...


def _environment_key() -> RunKey | None:
    """The audit key of ``$VAXTRUST_AUDIT_KEY``, if set (callers with settings pass theirs)."""
    from vaxtrust.store.audit_key import resolve

    return resolve(None, sqlite_database=None, chain_is_empty=False)


def _manifest_material(files: dict[str, str]) -> bytes:
    return json.dumps(["vaxtrust run contents", files], sort_keys=True,
                      separators=(",", ":")).encode("utf-8")


def write_contents(folder: Path, key: RunKey | None = None) -> Path:
    """``contents.json``: the SHA-256 of every file of the run (the summary, which the demo
    rewrites with its evaluation, excepted), so that signing can refuse a run edited after it was
    cleaned (:func:`check_contents`).

    Keyed with ``key`` (else the audit key of ``$VAXTRUST_AUDIT_KEY``, if set): an HMAC over the
    hashes, so that whoever edits the run cannot recompute a manifest the store accepts."""
    key = key or _environment_key()
    path = folder / RUN_CONTENTS
    files = {name: file_sha256(folder / name) for name in _content_files(folder)}
    body: dict[str, object] = {"sha256": files}
    if key is not None:
        body |= {"key_id": key.key_id, "mac": key.mac(_manifest_material(files))}
    path.write_text(json.dumps(body, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def check_contents(folder: Path, key: RunKey | None = None) -> None:
    """Raise :class:`InputError` unless every file ``contents.json`` names is there unchanged and
    no file was added; with ``key``, also unless the manifest carries that key's HMAC (a run
    edited and its manifest recomputed without the key is refused)."""
    path = folder / RUN_CONTENTS
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        recorded = body["sha256"]
        if not isinstance(recorded, dict):
            raise TypeError("sha256 is not a mapping")
    except (OSError, ValueError, KeyError, TypeError):
        raise InputError(f"no readable {RUN_CONTENTS}: not a run vaxtrust clean wrote, or it was "
                         "edited; clean the inputs again", path=str(folder)) from None
    if key is not None:
        _check_mac(folder, body, recorded, key)
    found = {name: file_sha256(folder / name) for name in _content_files(folder)}
    changed = sorted(name for name in recorded.keys() | found.keys()
                     if recorded.get(name) != found.get(name))
    if changed:
        raise InputError("the run folder changed after cleaning (" + ", ".join(changed)
                         + "): refusing to use it; clean the inputs again", path=str(folder))


def _check_mac(folder: Path, body: dict[str, object], recorded: dict[str, str],
               key: RunKey) -> None:
    mac = body.get("mac")
    if not isinstance(mac, str):
        raise InputError(f"{RUN_CONTENTS} is not keyed: clean the inputs with the store's audit "
                         "key configured (store.audit_key_file or $VAXTRUST_AUDIT_KEY)",
                         path=str(folder))
    made_with = body.get("key_id")
    if made_with != key.key_id:
        # The usual cause is no attack: cleaning and signing configured different keys (a
        # SQLite store's key beside it, a key store's embedded store's key beside that).
        raise InputError(f"{RUN_CONTENTS} was not made with this store's audit key: cleaning "
                         f"used key {str(made_with)[:32]}, this store's is {key.key_id}; "
                         "configure the same key for cleaning and signing (store.audit_key_file "
                         "or $VAXTRUST_AUDIT_KEY), or clean the inputs again with this store's key",
                         path=str(folder))
    if not hmac.compare_digest(mac, key.mac(_manifest_material(recorded))):
        raise InputError(f"{RUN_CONTENTS} was edited after cleaning (its MAC does not verify "
                         f"with audit key {key.key_id}): refusing to use the run; clean the "
                         "inputs again", path=str(folder))


def _content_files(folder: Path) -> list[str]:
    return sorted(
        path.relative_to(folder).as_posix() for path in folder.rglob("*")
        if path.is_file() and path.name not in (RUN_CONTENTS, RUN_SUMMARY)
        and not path.name.startswith(".")
    )


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes (hex), read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _add_utf8_bom(path: Path) -> None:
    """Start a CSV with the UTF-8 byte order mark, so Excel shows Vietnamese text correctly."""
    marked = path.with_name(f".{path.name}.bom")
    with path.open("rb") as source, marked.open("wb") as target:
        target.write(b"\xef\xbb\xbf")
        shutil.copyfileobj(source, target, 1 << 24)
    os.replace(marked, path)


def write_outputs(engine: Engine, folder: Path, *, write_csv: bool) -> dict[str, Path]:
    """Write the run's tables into ``folder``; returns output name → path (summary excluded)."""
    outputs = {
        "results": folder / RUN_RESULTS,
        "review_candidates": folder / RUN_REVIEW_CANDIDATES,
        "dose_history": folder / RUN_DOSE_HISTORY,
        "rejects": folder / RUN_REJECTS,
    }
    engine.write_parquet("results", outputs["results"])
    engine.write_parquet("review_candidates", outputs["review_candidates"])
    engine.write_parquet("dose_history", outputs["dose_history"])
    # a view keeps the order (a table need not, without preserve_insertion_order)
    engine.drop("__rejects_out")
    engine.execute(f"CREATE VIEW __rejects_out AS SELECT {', '.join(REJECT_COLUMNS)} FROM rejects "
                   "ORDER BY source, row_number, field, reason", stage="outputs")
    engine.write_csv("__rejects_out", outputs["rejects"])
    engine.drop("__rejects_out")
    _add_utf8_bom(outputs["rejects"])
    if write_csv:
        outputs["results_csv"] = folder / RUN_RESULTS_CSV
        flat = ", ".join(c if c != "reasons" else "array_to_string(reasons, ';') AS reasons"
                         for c in RESULT_COLUMNS)
        engine.create_table("__results_csv", f"SELECT {flat} FROM results", stage="outputs")
        engine.write_csv("__results_csv", outputs["results_csv"])
        engine.drop("__results_csv")
        _add_utf8_bom(outputs["results_csv"])
    return outputs
