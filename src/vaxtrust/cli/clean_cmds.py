"""``vaxtrust clean``: facility exports + a register snapshot → the run directory."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vaxtrust.cli.settings import cli_settings

if TYPE_CHECKING:
    from rich.console import Console as Terminal

    from vaxtrust.pipeline.summary import RunSummary

_TOP_PLACES = 15  # rows of the per-province and per-facility tables printed


def print_summary(summary: RunSummary, terminal: Terminal | None = None) -> None:
    """The run summary as rich tables, and where the outputs are."""
    from rich.table import Table

    from vaxtrust.console import styled
    from vaxtrust.console import terminal as plain_terminal

    terminal = terminal or plain_terminal()
    inputs = Table(title="Inputs (rows in = accepted + rejected)", title_justify="left")
    inputs.add_column("file", overflow="fold")
    inputs.add_column("kind")
    for column in ("rows in", "accepted", "rejected", "exact duplicates"):
        inputs.add_column(column, justify="right")
    for source in summary.sources:
        inputs.add_row(source["source"], source["kind"], f"{source['rows_in']:,}",
                       f"{source['accepted']:,}", f"{source['rejected']:,}",
                       f"{source['duplicates_collapsed']:,}")
    terminal.print(inputs)
    statuses = Table(title=f"Results ({summary.results:,} records)", title_justify="left")
    statuses.add_column("status")
    statuses.add_column("records", justify="right")
    statuses.add_column("share", justify="right")
    for status, count in summary.by_status.items():
        share = f"{count / summary.results:.1%}" if summary.results else "-"
        statuses.add_row(status, f"{count:,}", share)
    terminal.print(statuses)
    _print_counts(terminal, "Reasons (results)", summary.by_reason)
    _print_counts(terminal, "Rejects (rows and fields)", summary.rejects_by_reason)
    for title, rows, key in (("Per province", summary.by_province, "province"),
                             ("Per facility", summary.by_facility, "facility")):
        if len(rows) > _TOP_PLACES:
            title += f" (largest {_TOP_PLACES} of {len(rows):,}; all in summary.json)"
            rows = rows[:_TOP_PLACES]
        table = Table(title=title, title_justify="left")
        table.add_column(key)
        for column in ("total", "verified", "corrected", "review", "unmatched", "rejected"):
            table.add_column(column, justify="right")
        for row in rows:
            table.add_row(str(row[key]), *(f"{row[c]:,}" for c in
                                           ("total", "verified", "corrected", "review",
                                            "unmatched", "rejected")))
        terminal.print(table)
    terminal.print(f"Dose histories: {summary.persons_with_doses:,} persons, "
                   f"{summary.dose_history_rows:,} doses; review candidates: "
                   f"{summary.review_candidates:,}")
    _print_counts(terminal, "Dose plausibility flags", summary.dose_flags)
    terminal.print(styled("[bold]Outputs[/] in {}:", summary.out_dir))
    for name, path in summary.outputs.items():
        terminal.print(f"  {name:<18} {path}", highlight=False)


def _print_counts(terminal: Terminal, title: str, counts: dict[str, int]) -> None:
    from rich.table import Table

    if not counts:
        return
    table = Table(title=title, title_justify="left")
    table.add_column("code")
    table.add_column("count", justify="right")
    for code, count in counts.items():
        table.add_row(code, f"{count:,}")
    terminal.print(table)


def register(app: typer.Typer) -> None:
    """Add ``clean`` to ``app``."""

    @app.command("clean")
    def clean_command(
        records: Annotated[list[Path], typer.Option("--records", "-r", help=(
            "Dose records of facilities: CSV (UTF-8 or UTF-16), XLSX or Parquet. Repeat for "
            "several files."))],
        register_file: Annotated[Path, typer.Option("--register", "-g", help=(
            "Population register snapshot (CSV, XLSX or Parquet)."))],
        out: Annotated[Path, typer.Option("--out", "-o", help=(
            "Run folder to write (replaced only when the run succeeds)."))],
        mapping: Annotated[Path | None, typer.Option("--mapping", help=(
            "TOML file naming which file header holds which column ([records], "
            "[register]); setting cleaning.mapping_file."))] = None,
        map_options: Annotated[list[str] | None, typer.Option("--map", help=(
            "One record column mapping, 'File header=standard_column'; repeatable."))] = None,
        csv: Annotated[bool | None, typer.Option("--csv", help=(
            "Also write results.csv; setting cleaning.write_csv."), show_default=False)] = None,
        engine: Annotated[str | None, typer.Option("--engine", help=(
            "duckdb or spark; setting engine.type (default duckdb)."))] = None,
        memory_limit: Annotated[str | None, typer.Option("--memory-limit", help=(
            "Most memory the engine may use, e.g. 8GB (it spills to disk beyond); "
            "DuckDB's default is 60% of the machine's memory; setting engine.memory_limit."))]
        = None,
        threads: Annotated[int | None, typer.Option("--threads", help=(
            "Worker threads; setting engine.threads."))] = None,
        model: Annotated[Path | None, typer.Option("--model", help=(
            "Saved linkage model to match with instead of training one: a run's model.json, "
            "or its run folder (same register snapshot and vaxtrust version only)."))] = None,
    ) -> None:
        """Clean dose records against the register: results, review queue, dose histories."""
        from vaxtrust.app.clean import clean
        from vaxtrust.console import RichConsole

        settings = cli_settings(
            engine={"type": engine, "threads": threads, "memory_limit": memory_limit},
            cleaning={"mapping_file": mapping, "write_csv": csv})
        with RichConsole() as console:
            summary = clean(settings, records, register_file, out, map_options=map_options or (),
                            console=console, model=model)
        print_summary(summary)
