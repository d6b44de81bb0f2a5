"""Where a daily run spends its time: its steps, every store statement and every engine statement.

    uv run python benchmarks/profile_daily.py --folder /work/bench-data/daily/small \\
        --db-name vt_daily_small --day 1000 [--top 25]

Uses a store and register that ``bench_daily.py build`` made (same ``--folder`` and
``--db-name``): writes a day file of third doses of stored people as ``bench_daily.py run`` does
(new people and record ids on every call), and runs ``vaxtrust.app.daily.daily`` on it (without
the progress snapshot) with

- each step of the daily run timed (reading the day, the stored context, cleaning, publishing);
- each SQL statement sent to the store timed (SQLAlchemy cursor events; ``COPY`` of the staging
  tables runs on the raw cursor and shows inside its step only);
- each DuckDB statement timed (the day's read, the clean, the dose-history jobs).

To see what grows with the store, run it against stores of two sizes (the plan of a slow
statement: ``EXPLAIN`` it in ``psql`` against temporary tables of the staged size).
"""

from __future__ import annotations

import argparse
import os
import secrets
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench_daily import Bench, make_doses  # noqa: I001  (a sibling script)
from vaxtrust.app import daily as daily_module
from vaxtrust.engine.base import Engine
from vaxtrust.store import doses as doses_module
from vaxtrust.store.db import Store
from vaxtrust.store.publish import apply as apply_module

_Timing = tuple[str, float, str]   # (what, seconds, statement)


class _Profile:
    def __init__(self) -> None:
        self.steps: list[tuple[str, float]] = []
        self.store: list[_Timing] = []
        self.engine: list[_Timing] = []

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.steps.append((name, time.perf_counter() - started))

    def wrap(self, module: Any, name: str) -> None:
        """Time every call of ``module.name`` as a step."""
        original: Callable[..., Any] = getattr(module, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.step(f"{module.__name__.rsplit('.', 1)[-1]}.{name}"):
                return original(*args, **kwargs)

        setattr(module, name, timed)

    def watch_store(self, store: Store) -> None:
        started: dict[int, float] = {}

        @event.listens_for(store.engine, "before_cursor_execute")
        def before(_conn: Any, cursor: Any, *_args: Any) -> None:
            started[id(cursor)] = time.perf_counter()

        @event.listens_for(store.engine, "after_cursor_execute")
        def after(_conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
            seconds = time.perf_counter() - started.pop(id(cursor), time.perf_counter())
            self.store.append(("store", seconds, " ".join(statement.split())))

    def watch_engines(self) -> None:
        original = Engine._in_stage
        timings = self.engine

        def timed(engine: Engine, stage: str, sql: str, action: Callable[[str], Any]) -> Any:
            started = time.perf_counter()
            try:
                return original(engine, stage, sql, action)
            finally:
                timings.append((stage, time.perf_counter() - started, " ".join(sql.split())))

        Engine._in_stage = timed  # type: ignore[method-assign]

    def report(self, top: int) -> None:
        print("\nsteps (nested steps count inside their callers):")
        for name, seconds in self.steps:
            print(f"  {seconds:8.2f} s  {name}")
        for label, timings in (("store", self.store), ("engine", self.engine)):
            total = sum(seconds for _, seconds, _ in timings)
            print(f"\n{label} statements: {len(timings)}, {total:.2f} s in all; slowest {top}:")
            by_stage: dict[str, float] = defaultdict(float)
            for stage, seconds, _ in timings:
                by_stage[stage] += seconds
            if label == "engine":
                print("  by stage: " + ", ".join(
                    f"{stage} {seconds:.2f}" for stage, seconds in
                    sorted(by_stage.items(), key=lambda item: -item[1])[:12]))
            for stage, seconds, sql in sorted(timings, key=lambda item: -item[1])[:top]:
                print(f"  {seconds:8.3f} s  [{stage}] {sql[:300]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--db-name", required=True)
    parser.add_argument("--day", type=int, default=1000)
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("VAXTRUST_AUDIT_KEY", secrets.token_hex(32))
    bench = Bench(args.folder, args.db_name)
    state = bench._state()
    people, boosted = state["grown"], state.get("boosted", 0)
    tag = int(time.time()) % 1_000_000
    day = make_doses(args.folder / f"profile-day-{tag}.csv",
                     f"SELECT {boosted} + (range * 7919 + {tag * 104729}) % {people - boosted}"
                     f" AS p FROM range({args.day})", prefix=f"P{tag}-", dose=3,
                     day="2022-03-01")
    profile = _Profile()
    for name in ("file_hashes", "refuse_processed", "_model", "_read_day", "_write_context",
                 "clean", "_keep_day_records", "_publish", "export_head"):
        if name == "clean":
            from vaxtrust.pipeline import run as run_module

            profile.wrap(run_module, "clean")
        else:
            profile.wrap(daily_module, name)
    for name in ("correct_updated_records", "write_records", "correct_new_records",
                 "write_review_items", "write_dose_history", "refresh_decided_dose_history",
                 "refresh_other_runs_dose_history", "queue_signing", "queue_identity_changes",
                 "apply_reference_data", "classify_records"):
        profile.wrap(apply_module, name)
    profile.wrap(doses_module, "_consolidate")
    # apply_run and publish import these by name: patch where they are looked up.
    from vaxtrust.store import publish as publish_package

    for name in ("queue_identity_changes", "apply_reference_data", "classify_records"):
        setattr(publish_package, name, getattr(apply_module, name))
    profile.wrap(publish_package, "_load_and_check")
    profile.wrap(publish_package, "_record_run")
    store = Store.open(bench.url)
    profile.watch_store(store)
    profile.watch_engines()
    actor = bench._actor(store)
    started = time.perf_counter()
    report = daily_module.daily(bench.settings, store, actor, [day],
                                register=args.folder / "register.parquet",
                                runs_dir=args.folder / "runs", snapshot=False)
    print(f"daily {args.day:,} records: {time.perf_counter() - started:.2f} s; statuses "
          f"{report.by_status}; context {report.context_records:,}; histories "
          f"{report.refreshed_people:,}; queued {report.publish.signing_queued:,}")
    profile.report(args.top)
    store.close()


if __name__ == "__main__":
    main()
