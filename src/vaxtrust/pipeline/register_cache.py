"""The register snapshot read once: its ingested and standardised tables kept as Parquet.

A national register of 10 million people takes minutes to read and standardise; a facility's day
of a thousand records takes seconds to clean. Daily runs keep ``raw_register``, ``std_register``
and ``link_register`` (the register's side of probabilistic linkage: its name parts and blocking
keys) of the snapshot in a cache folder, keyed by the SHA-256 of the register file, its column
mapping, the vaxtrust version and the linkage code's digest (anything that changes how it is
read); the next run on the same snapshot reads them as views instead of reading the file
again. Only the newest snapshot is kept. The register's rejects are not kept: a cached run
reports none.

Reading depends on the run's "today" in one place: a date of birth after today is rejected. The
cache is therefore served to a run of another day only when no register date could judge
differently: the snapshot had no date out of range, and its latest date of birth is not after the
run's today. Otherwise the register is read again (and the cache replaced).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from dataclasses import asdict
from pathlib import Path

from vaxtrust import __version__
from vaxtrust.engine import Engine
from vaxtrust.ingest.load import SourceCount
from vaxtrust.pipeline.match.model import linkage_version
from vaxtrust.pipeline.match.probabilistic import LINK_REGISTER, LINK_REGISTER_SQL

_TABLES = ("raw_register", "std_register", LINK_REGISTER)
_SOURCE = "source.json"


def cache_key(register_hash: str, mapping: dict[str, str]) -> str:
    text = json.dumps([register_hash, sorted(mapping.items()), __version__, linkage_version()])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def load_register(engine: Engine, cache: Path, key: str, today: dt.date) -> SourceCount | None:
    """Register the cached tables of ``key`` in ``engine``; None when there are none, or when
    they were read on another day and a date of the snapshot would be judged differently."""
    folder = cache / key
    if not all((folder / f"{name}.parquet").is_file() for name in _TABLES) or not (
            folder / _SOURCE).is_file():
        return None
    kept = json.loads((folder / _SOURCE).read_text(encoding="utf-8"))
    if not _same_reading(kept.get("dates"), today):
        return None
    for name in _TABLES:
        engine.register(name, folder / f"{name}.parquet")
    return SourceCount(**kept["source"])


def _same_reading(dates: dict[str, str | int | None] | None, today: dt.date) -> bool:
    """Whether a register read on ``dates["today"]`` reads the same on ``today``."""
    if dates is None:
        return False
    if dates["today"] == today.isoformat():
        return True
    latest = dates["latest_dob"]
    return dates["out_of_range"] == 0 and (latest is None or str(latest) <= today.isoformat())


def _dates(engine: Engine, source: SourceCount, today: dt.date) -> dict[str, str | int | None]:
    """What the reading of the register's dates depended on: the run's today, the latest date
    of birth accepted, how many were out of range (maybe after today)."""
    quoted = source.source.replace("'", "''")
    row = engine.query(f"""
        SELECT (SELECT CAST(max(dob) AS VARCHAR) FROM std_register) AS latest_dob,
               (SELECT count(*) FROM rejects WHERE source = '{quoted}' AND field = 'dob'
                  AND reason = 'date_out_of_range') AS out_of_range""",
                       stage="ingest").to_pylist()[0]
    return {"today": today.isoformat(), "latest_dob": row["latest_dob"],
            "out_of_range": int(row["out_of_range"])}


def save_register(engine: Engine, cache: Path, key: str, source: SourceCount,
                  today: dt.date) -> None:
    """Keep the run's register tables for the next run on the same snapshot (written aside,
    then moved in place, so a half-written cache is never read)."""
    cache.mkdir(parents=True, exist_ok=True)
    partial = cache / f".{key}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    engine.create_table(LINK_REGISTER, LINK_REGISTER_SQL, stage="register cache")
    for name in _TABLES:
        engine.write_parquet(name, partial / f"{name}.parquet")
    kept = {"source": asdict(source), "dates": _dates(engine, source, today)}
    (partial / _SOURCE).write_text(json.dumps(kept), encoding="utf-8")
    for old in cache.iterdir():      # one snapshot at a time: the disk holds one register
        if old.is_dir() and old.name != partial.name:
            shutil.rmtree(old, ignore_errors=True)
    partial.rename(cache / key)
