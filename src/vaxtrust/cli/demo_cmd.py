"""``vaxtrust demo``: a synthetic province through every stage that exists.

generate (``vaxtrust.demo``) → clean → evaluate against the truth → (hooks: sign passports for
verified people, publish to the store) → summary and output paths.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from vaxtrust.pipeline.summary import RunSummary

def _publish(summary: RunSummary, out: Path) -> str:
    """Load the run into the demo's SQLite store, ready for the review queue."""
    from vaxtrust.demo.steps import publish_demo_run

    run_dir = Path(summary.outputs["results"]).parent
    published = publish_demo_run(run_dir, out / "store.db")
    if published.already_published:
        return f"Store {published.database_url}: this run was published before, nothing changed."
    return (f"Published to the store {published.database_url}: {published.records:,} records, "
            f"{published.review_items:,} review items, {published.signing_queued:,} people "
            f"queued for signing. Try: vaxtrust review list --db {published.database_url} "
            f"--as {published.officer}")


def _sign(summary: RunSummary, out: Path) -> str:
    """Sign passports for everyone verified, with a demo key; verify one and print it."""
    from vaxtrust.demo.generate import REGISTER_FILE
    from vaxtrust.demo.steps import sign_demo_passports

    run_dir = Path(summary.outputs["results"]).parent
    signed = sign_demo_passports(run_dir, out / "data" / REGISTER_FILE, out / "passports")
    line = (f"Vaccine passports (EU DCC, demo key): {signed.issued:,} signed, {signed.skipped:,} "
            f"not signable (reasons in {signed.certificates.parent / 'skipped.csv'}); "
            f"certificates {signed.certificates}, trust list {signed.trust_list}.")
    if signed.example_pdf is not None:
        line += (f" Example for {signed.example_name}: {signed.example_pdf} and "
                 f"{signed.example_png}; check it with: vaxtrust passport verify --image "
                 f"{signed.example_png} --trust-list {signed.trust_list}")
    return line


# Steps after cleaning, in order; each gets the run summary and the demo folder and returns a
# line to print.
AFTER_CLEAN: list[Callable[[RunSummary, Path], str]] = [_publish, _sign]


def _evaluate(summary: RunSummary, data_dir: Path) -> dict[str, Any]:
    """Score the run's results against the generator's truth."""
    import pyarrow.parquet as pq

    from vaxtrust.demo.evaluate import score

    results = pq.read_table(summary.outputs["results"])
    return score(data_dir, results).to_dict()


def _evaluation_line(evaluation: dict[str, Any]) -> str:
    def share(name: str) -> str:
        value = evaluation.get(name)
        return f"{value:.2%}" if isinstance(value, float) else "-"

    return (f"Against the truth: precision of automatic links {share('precision')} "
            f"({evaluation['wrong_person_links']:,} wrong-person links), recall "
            f"{share('recall')}, review rate {share('review_rate')}.")


def _check_demo_dir(out: Path) -> None:
    """Refuse a folder holding anything but an earlier demo: the demo replaces data/ and run/."""
    from vaxtrust.errors import ConfigError

    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; give a folder")
    earlier = {"data", "run", "store.db", "passports"}
    if out.is_dir() and any(child.name not in earlier for child in out.iterdir()):
        raise ConfigError(f"--out {out} holds other files; give a new folder or an earlier "
                          "demo's folder")


def run_demo(persons: int, seed: int, out: Path) -> tuple[RunSummary, list[str]]:
    """Generate, clean and score a synthetic province in ``out``; return what to print."""
    from vaxtrust.cli.clean_cmds import run_clean
    from vaxtrust.demo.generate import (
        RECORDS_FILE,
        REGISTER_FILE,
        GenerateOptions,
        generate,
    )
    from vaxtrust.schema import RUN_SUMMARY

    _check_demo_dir(out)
    data_dir = out / "data"
    generate(GenerateOptions(persons=persons, seed=seed, out=data_dir, overwrite=True))
    summary = run_clean([data_dir / RECORDS_FILE], data_dir / REGISTER_FILE, out / "run")
    summary.evaluation = _evaluate(summary, data_dir)
    summary.write(Path(summary.outputs["summary"]).parent / RUN_SUMMARY)
    lines = [_evaluation_line(summary.evaluation)]
    lines += [step(summary, out) for step in AFTER_CLEAN]
    return summary, lines


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app``."""

    @app.command("demo")
    def demo_command(
        persons: Annotated[int, typer.Option("--persons", help=(
            "Synthetic persons to generate."))] = 20_000,
        seed: Annotated[int, typer.Option("--seed", help=(
            "Random seed (same seed, same data)."))] = 2022,
        out: Annotated[Path, typer.Option("--out", help="Demo folder.")] = Path("vaxtrust-demo"),
    ) -> None:
        """Generate a synthetic province, clean it, score it against the truth."""
        from vaxtrust.cli.clean_cmds import print_summary

        summary, lines = run_demo(persons, seed, out)
        print_summary(summary)
        for line in lines:
            typer.echo(line)
        typer.echo(f"Synthetic input and truth: {out / 'data'}")
