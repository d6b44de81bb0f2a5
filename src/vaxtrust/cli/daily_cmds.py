"""``vaxtrust daily``: the day's facility files cleaned, published and queued for signing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vaxtrust.cli.settings import cli_settings
from vaxtrust.cli.signin import ADMIN_OPTION, AS_OPTION, signed_in

if TYPE_CHECKING:
    from vaxtrust.app.daily import DailyReport


def print_report(report: DailyReport) -> None:
    from rich.table import Table

    from vaxtrust.console import terminal

    table = Table(title=f"daily run {report.run_id}", title_justify="left")
    table.add_column("what")
    table.add_column("count", justify="right")
    for done in report.files:
        table.add_row(f"file {done.path.name}", f"{done.records:,}")
    table.add_row("stored records used as evidence", f"{report.context_records:,}")
    for status, count in sorted(report.by_status.items()):
        table.add_row(status, f"{count:,}")
    publish = report.publish
    for label, value in (("new records", publish.new_records),
                         ("updated records", publish.updated_records),
                         ("review items opened", publish.review_items),
                         ("queued for signing", publish.signing_queued),
                         ("dose histories recomputed", report.refreshed_people)):
        table.add_row(label, f"{value:,}")
    out = terminal()
    out.print(table)
    model = f"the model of run {report.model_run}" if report.model_run else "no saved model"
    out.print(f"matched with {model}; run folder {report.run_dir}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``daily`` to ``app``."""

    @app.command("daily")
    def daily_command(
        files: Annotated[list[Path], typer.Argument(help=(
            "The day's dose-record files of facilities (CSV, XLSX or Parquet, the import "
            "schema). Each file is processed once: a file processed before is refused."),
            show_default=False)],
        register_file: Annotated[Path, typer.Option("--register", "-g", help=(
            "Population register snapshot (the one the saved model was trained on)."))],
        runs: Annotated[Path, typer.Option("--runs", help=(
            "Folder that keeps each day's run folder (signing reads them)."))]
        = Path("daily-runs"),
        model: Annotated[Path | None, typer.Option("--model", help=(
            "Saved linkage model (model.json or its run folder); default: the newest "
            "published run's."))] = None,
        actor_name: str | None = AS_OPTION,
        admin: bool = ADMIN_OPTION,
        db: Annotated[str | None, typer.Option("--db", help=(
            "Store URL; setting store.url."))] = None,
    ) -> None:
        """Clean the day's files against the register and the store, publish, queue signing."""
        from vaxtrust.app.daily import daily
        from vaxtrust.console import RichConsole

        settings = cli_settings(store={"url": db})
        store = settings.open_store()
        try:
            actor = signed_in(store, actor_name, admin)
            with RichConsole() as console:
                report = daily(settings, store, actor, files, register=register_file,
                               runs_dir=runs, model=model, console=console)
        finally:
            store.close()
        print_report(report)
