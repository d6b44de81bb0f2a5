"""The cleaning run: ingest → standardise → match → decide → consolidate → outputs → summary.

Stages are functions returning SQL (or, for ingest and matching, functions of an
:class:`~vaxtrust.engine.Engine`); this module materialises them in order, times them, reports
progress through the :class:`~vaxtrust.console.Console`, and writes the run directory atomically.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from vaxtrust.console import Console, NoopConsole
from vaxtrust.engine import Engine, create_engine
from vaxtrust.errors import ConfigError, InputError
from vaxtrust.ingest.load import SourceCount, ingest
from vaxtrust.ingest.readers import inspect_file
from vaxtrust.pipeline.consolidate import run_consolidate
from vaxtrust.pipeline.decide import run_decide
from vaxtrust.pipeline.match import run_matching
from vaxtrust.pipeline.match.model import RegisterIdentity
from vaxtrust.pipeline.match.probabilistic import LINK_REGISTER
from vaxtrust.pipeline.outputs import RunKey, file_sha256, staged_run_dir, write_outputs
from vaxtrust.pipeline.register_cache import cache_key, load_register, save_register
from vaxtrust.pipeline.run_folder import new_run_id, write_run_folder
from vaxtrust.pipeline.settings import CleanSettings
from vaxtrust.pipeline.standardise import run_standardise
from vaxtrust.pipeline.summary import RunSummary, summarise
from vaxtrust.schema import RUN_SUMMARY

if TYPE_CHECKING:
    from vaxtrust.pipeline.match.model import SavedModel


class _StageClock:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def time(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.seconds[name] = round(time.perf_counter() - start, 3)


def clean(
    records: Sequence[Path], register: Path, out_dir: Path, *,
    settings: CleanSettings | None = None, engine: Engine | None = None,
    console: Console | None = None, model: SavedModel | None = None,
    register_cache: Path | None = None, run_key: RunKey | None = None,
) -> RunSummary:
    """Clean ``records`` against ``register`` and write the run directory ``out_dir``.

    Returns the run summary (also written as ``summary.json``). Bad input files raise
    :class:`~vaxtrust.errors.InputError` before anything is written; any failure leaves
    ``out_dir`` as it was. A saved ``model`` (of this register snapshot, else ConfigError)
    replaces training, and its thresholds replace ``settings.match``. ``register_cache`` is a
    folder where the register's ingested and standardised tables are kept for the next run on
    the same snapshot (:mod:`vaxtrust.pipeline.register_cache`). ``run_key`` keys the run's
    content manifest (default: the audit key of ``$VAXTRUST_AUDIT_KEY``, if set).
    """
    settings = settings or CleanSettings()
    console = console or NoopConsole()
    out_dir = out_dir.resolve()
    if not records:
        raise ConfigError("give at least one dose records file")
    for path in [*records, register]:  # fail fast, before minutes of work on the other files
        inspect_file(Path(path))
    register_hash = file_sha256(Path(register))
    if model is not None:
        model.require_register(register_hash)
        # The model's thresholds are part of it: its probabilities mean nothing with others.
        settings = replace(settings, match=model.matching)
    with staged_run_dir(out_dir, key=run_key) as staging:
        owned = engine is None
        spill = staging / ".spill"
        engine = engine or create_engine("duckdb", temp_directory=spill, reuse_memory=True)
        try:
            return _run(records, register, out_dir, staging, settings, engine, console,
                        _Model(register_hash, model, register_cache))
        finally:
            if owned:
                engine.close()
                shutil.rmtree(spill, ignore_errors=True)


@dataclass(frozen=True)
class _Model:
    """The register snapshot's hash, and the saved model the run reuses (if any)."""

    register_hash: str
    reused: SavedModel | None
    cache: Path | None = None


def _run(
    records: Sequence[Path], register: Path, out_dir: Path, staging: Path,
    settings: CleanSettings, engine: Engine, console: Console, model: _Model,
) -> RunSummary:
    clock = _StageClock()
    today = settings.run_date()
    sources: list[SourceCount] = []
    key = cache_key(model.register_hash, dict(settings.mapping.register))
    cached = load_register(engine, model.cache, key, today) if model.cache else None
    with clock.time("ingest"):
        if cached is not None:
            sources.append(cached)
        else:
            sources += ingest(engine, "register", [register], today=today, console=console,
                              mapping=settings.mapping.register)
        if sources[0].accepted == 0:
            raise InputError(f"no usable register rows: all {sources[0].rows_in:,} were rejected "
                             f"(first reason: {_first_reject(engine)})", path=str(register))
        sources += ingest(engine, "records", records, today=today, console=console,
                          mapping=settings.mapping.records)
    with clock.time("standardise"):
        run_standardise(engine, console, register=cached is None)
    if model.cache is not None and cached is None:
        save_register(engine, model.cache, key, sources[0], today)
    with clock.time("match"):
        reused = model.reused.for_dialect(engine.dialect.name) if model.reused else None
        run_matching(engine, settings.match, console, reused)
    with clock.time("decide"):
        run_decide(engine, settings.match, console)
    # Dead from here on (consolidate and outputs read the records, decisions and raw register):
    # at 10 M records some 4 GB that would otherwise push the last stages into spilling.
    for table in ("match_candidates", "std_register", LINK_REGISTER):
        engine.drop(table)
    with clock.time("consolidate"):
        run_consolidate(engine, settings, today, console)
    engine.drop("decisions")  # results holds every decision, and the records rejected at ingest
    with clock.time("outputs"):
        console.stage_started("outputs")
        run_id = new_run_id()
        written = write_outputs(engine, staging, write_csv=settings.write_csv)
        identity = RegisterIdentity(model.register_hash, sources[0].accepted)
        written |= write_run_folder(engine, staging, run_id=run_id, settings=settings,
                                    today=today, register=identity, reused=model.reused)
        final = {name: str(out_dir / path.name) for name, path in written.items()}
        final["summary"] = str(out_dir / RUN_SUMMARY)
        summary = summarise(engine, run_id, out_dir, sources, final, clock.seconds)
        summary.write(staging / RUN_SUMMARY)
        console.stage_finished("outputs", len(final))
    return summary


def _first_reject(engine: Engine) -> str:
    rows = engine.query("SELECT row_number, field, reason FROM rejects ORDER BY row_number "
                        "LIMIT 1", stage="ingest").to_pylist()
    return f"row {rows[0]['row_number']}, {rows[0]['field']}: {rows[0]['reason']}" if rows else "-"
