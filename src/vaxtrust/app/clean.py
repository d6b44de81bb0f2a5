"""``clean``: facility exports and a register snapshot → a run folder (``docs/cleaning.md``)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from vaxtrust.console import Console, NoopConsole

if TYPE_CHECKING:
    from vaxtrust.config import Settings
    from vaxtrust.pipeline.summary import RunSummary


def clean(settings: Settings, records: Sequence[Path], register: Path, out: Path, *,
          map_options: Sequence[str] = (), console: Console | None = None,
          model: Path | None = None) -> RunSummary:
    """Clean ``records`` against ``register`` into the run folder ``out``.

    ``map_options`` are extra record column mappings ('File header=standard_column') on top of
    ``cleaning.mapping_file``. ``model`` is a saved linkage model (a ``model.json`` or the run
    folder holding it) to match with instead of training one; it must be of this register
    snapshot and of this version of vaxtrust (else ConfigError, before any work). The engine spills into ``engine.temp_dir``, else a hidden folder
    beside ``out`` that is removed afterwards.
    """
    from vaxtrust.ingest.mapping import merged, parse_mapping_options
    from vaxtrust.pipeline.match.model import read_model
    from vaxtrust.pipeline.run import clean as run_clean

    base = settings.clean_settings()
    mapping = merged(base.mapping, parse_mapping_options(map_options))
    clean_settings = settings.clean_settings(mapping=mapping)
    saved = read_model(model) if model is not None else None
    out.parent.mkdir(parents=True, exist_ok=True)
    spill_dir = Path(tempfile.mkdtemp(prefix=f".{out.name}.spill-", dir=out.parent))
    try:
        with settings.create_engine(spill_dir) as engine:
            return run_clean(records, register, out, settings=clean_settings, engine=engine,
                             console=console or NoopConsole(), model=saved,
                             run_key=settings.store.audit_key())
    finally:
        shutil.rmtree(spill_dir, ignore_errors=True)
