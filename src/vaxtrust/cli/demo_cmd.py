"""``vaxtrust demo``: a synthetic province through every stage (``vaxtrust.app.demo``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vaxtrust.cli.settings import cli_settings

if TYPE_CHECKING:
    from vaxtrust.app.demo import DemoResult


def _evaluation_line(evaluation: dict[str, Any]) -> str:
    def share(name: str) -> str:
        value = evaluation.get(name)
        return f"{value:.2%}" if isinstance(value, float) else "-"

    return (f"Against the truth: precision of automatic links {share('precision')} "
            f"({evaluation['wrong_person_links']:,} wrong-person links), recall "
            f"{share('recall')}, review rate {share('review_rate')}.")


def _published_line(result: DemoResult) -> str:
    published = result.published
    if published.already_published:
        return f"Store {published.database_url}: this run was published before, nothing changed."
    return (f"Published to the store {published.database_url}: {published.records:,} records, "
            f"{published.review_items:,} review items, {published.signing_queued:,} people "
            f"queued for signing. Try: vaxtrust review list --db {published.database_url} "
            f"--as {published.officer}"
            + (f" (password of {published.officer}, shown once: {published.officer_password}; "
               f"scripts set it as VAXTRUST_PASSWORD)" if published.officer_password else ""))


def _signed_line(result: DemoResult) -> str:
    signed = result.signed
    line = (f"Vaccine passports (EU DCC, demo key): {signed.issued:,} signed, {signed.skipped:,} "
            f"not signable (reasons in {signed.certificates.parent / 'skipped.csv'}); "
            f"certificates {signed.certificates}, trust list {signed.trust_list}.")
    if signed.example_pdf is not None:
        line += (f" Example for {signed.example_name}: {signed.example_pdf} and "
                 f"{signed.example_png}; check it with: vaxtrust passport verify --image "
                 f"{signed.example_png} --trust-list {signed.trust_list} --csca {signed.csca}")
    return line


def demo_lines(result: DemoResult) -> list[str]:
    """What the demo did, a line per step after cleaning."""
    return [_evaluation_line(result.evaluation), _published_line(result), _signed_line(result),
            f"Synthetic input and truth: {result.data_dir}",
            f"Web app on this demo: vaxtrust serve --demo {result.out} (prints an account per "
            "role with a fresh password, and a citizen to look up)"]


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
        """Generate a synthetic province, clean it, score it, publish it, sign passports."""
        from vaxtrust.app.demo import run_demo
        from vaxtrust.cli.clean_cmds import print_summary
        from vaxtrust.console import RichConsole

        with RichConsole() as console:
            result = run_demo(cli_settings(), persons=persons, seed=seed, out=out,
                              console=console)
        print_summary(result.summary)
        for line in demo_lines(result):
            typer.echo(line)
