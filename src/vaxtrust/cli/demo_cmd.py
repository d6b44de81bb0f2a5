"""``vaxtrust demo``: a synthetic province through every stage that exists.

generate (``vaxtrust.demo``) → clean → evaluate against the truth → (hooks: sign passports for
verified people, publish to the store) → summary and output paths.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from vaxtrust.pipeline.summary import RunSummary

# Steps after cleaning, in order; each gets the run summary and the demo folder and returns a
# line to print. Passport signing and publishing to the store append themselves here.
AFTER_CLEAN: list[Callable[[RunSummary, Path], str]] = []


def _evaluate(summary: RunSummary, data_dir: Path) -> dict[str, Any] | None:
    """Score the run against the generator's truth, when the evaluator is installed."""
    try:
        evaluate = importlib.import_module("vaxtrust.demo.evaluate")
    except ImportError:
        return None
    score: dict[str, Any] = evaluate.score(Path(summary.out_dir), data_dir)
    return score


def run_demo(persons: int, seed: int, out: Path) -> tuple[RunSummary, list[str]]:
    from vaxtrust.cli.clean_cmds import run_clean
    from vaxtrust.demo.generate import (
        RECORDS_FILE,
        REGISTER_FILE,
        GenerateOptions,
        generate,
    )

    data_dir = out / "data"
    generate(GenerateOptions(persons=persons, seed=seed, out=data_dir, overwrite=True))
    summary = run_clean([data_dir / RECORDS_FILE], data_dir / REGISTER_FILE, out / "run")
    lines = []
    evaluation = _evaluate(summary, data_dir)
    if evaluation is not None:
        summary.evaluation = evaluation
        lines.append("Accuracy against the truth: " + ", ".join(
            f"{key} {value:.4f}" if isinstance(value, float) else f"{key} {value}"
            for key, value in evaluation.items() if not isinstance(value, dict | list)))
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
