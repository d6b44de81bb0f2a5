"""``demo``: a synthetic province through every stage (generate, clean, evaluate, publish, sign)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vaxtrust.console import Console, NoopConsole
from vaxtrust.errors import ConfigError

if TYPE_CHECKING:
    from vaxtrust.config import Settings
    from vaxtrust.demo.steps import PublishedDemo, SignedDemo
    from vaxtrust.pipeline.summary import RunSummary

# What an earlier demo leaves in its folder (the demo replaces each of them).
DEMO_ENTRIES = frozenset({"data", "run", "store.db", "passports", "web-codes.txt"})


@dataclass(frozen=True)
class DemoResult:
    """Where everything went and what each step did."""

    out: Path
    data_dir: Path
    summary: RunSummary
    evaluation: dict[str, Any]
    published: PublishedDemo
    signed: SignedDemo


def check_demo_dir(out: Path) -> None:
    """Refuse a folder holding anything but an earlier demo: the demo replaces data/ and run/."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; give a folder")
    if out.is_dir() and any(child.name not in DEMO_ENTRIES for child in out.iterdir()):
        raise ConfigError(f"--out {out} holds other files; give a new folder or an earlier "
                          "demo's folder")


def _evaluate(summary: RunSummary, data_dir: Path) -> dict[str, Any]:
    """Score the run's results against the generator's truth."""
    import pyarrow.parquet as pq

    from vaxtrust.demo.evaluate import score

    results = pq.read_table(summary.outputs["results"])
    return score(data_dir, results).to_dict()


def run_demo(settings: Settings, *, persons: int, seed: int, out: Path,
             console: Console | None = None) -> DemoResult:
    """Generate ``persons`` synthetic people in ``out``, clean, score, publish and sign them."""
    from vaxtrust.app.clean import clean
    from vaxtrust.demo.generate import RECORDS_FILE, REGISTER_FILE, GenerateOptions, generate
    from vaxtrust.demo.steps import publish_demo_run, sign_demo_passports
    from vaxtrust.schema import RUN_SUMMARY

    console = console or NoopConsole()
    check_demo_dir(out)
    data_dir = out / "data"
    generate(GenerateOptions(persons=persons, seed=seed, out=data_dir, overwrite=True))
    summary = clean(settings, [data_dir / RECORDS_FILE], data_dir / REGISTER_FILE, out / "run",
                    console=console)
    summary.evaluation = _evaluate(summary, data_dir)
    run_dir = Path(summary.outputs["summary"]).parent
    summary.write(run_dir / RUN_SUMMARY)
    published = publish_demo_run(run_dir, out / "store.db", console=console)
    signed = sign_demo_passports(out / "store.db", out / "passports", console=console)
    return DemoResult(out, data_dir, summary, summary.evaluation, published, signed)
