"""The register snapshot read once: its ingested and standardised tables kept as Parquet.

A national register of 10 million people takes minutes to read and standardise; a facility's day
of a thousand records takes seconds to clean. Daily runs keep ``raw_register`` and
``std_register`` of the snapshot in a cache folder, keyed by the SHA-256 of the register file,
its column mapping and the vaxtrust version (anything that changes how it is read); the next run
on the same snapshot reads them as views instead of reading the file again. Only the newest
snapshot is kept. The register's rejects are not kept: a cached run reports none.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import asdict
from pathlib import Path

from vaxtrust import __version__
from vaxtrust.engine import Engine
from vaxtrust.ingest.load import SourceCount

_TABLES = ("raw_register", "std_register")
_SOURCE = "source.json"


def cache_key(register_hash: str, mapping: dict[str, str]) -> str:
    text = json.dumps([register_hash, sorted(mapping.items()), __version__])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def load_register(engine: Engine, cache: Path, key: str) -> SourceCount | None:
    """Register the cached tables of ``key`` in ``engine``; None when there are none."""
    folder = cache / key
    if not all((folder / f"{name}.parquet").is_file() for name in _TABLES) or not (
            folder / _SOURCE).is_file():
        return None
    for name in _TABLES:
        engine.register(name, folder / f"{name}.parquet")
    return SourceCount(**json.loads((folder / _SOURCE).read_text(encoding="utf-8")))


def save_register(engine: Engine, cache: Path, key: str, source: SourceCount) -> None:
    """Keep the run's register tables for the next run on the same snapshot (written aside,
    then moved in place, so a half-written cache is never read)."""
    cache.mkdir(parents=True, exist_ok=True)
    partial = cache / f".{key}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    for name in _TABLES:
        engine.write_parquet(name, partial / f"{name}.parquet")
    (partial / _SOURCE).write_text(json.dumps(asdict(source)), encoding="utf-8")
    for old in cache.iterdir():      # one snapshot at a time: the disk holds one register
        if old.is_dir() and old.name != partial.name:
            shutil.rmtree(old, ignore_errors=True)
    partial.rename(cache / key)
