"""``vaxtrust daily``: the day's facility files cleaned, published and queued for signing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vaxtrust.cli.settings import cli_settings
from vaxtrust.cli.signin import ADMIN_OPTION, AS_OPTION, signed_in

if TYPE_CHECKING:
    from vaxtrust.app.daily import DailyReport
    from vaxtrust.config import Settings
    from vaxtrust.store.db import Store
    from vaxtrust.store.scope import Actor


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
                         ("dose histories recomputed", report.refreshed_people),
                         ("progress snapshot rows (today)", report.snapshot_rows)):
        table.add_row(label, f"{value:,}")
    out = terminal()
    out.print(table)
    model = f"the model of run {report.model_run}" if report.model_run else "no saved model"
    out.print(f"matched with {model}; run folder {report.run_dir}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``daily`` to ``app``."""

    @app.command("daily")
    def daily_command(
        register_file: Annotated[Path, typer.Option("--register", "-g", help=(
            "Population register snapshot (the one the saved model was trained on)."))],
        files: Annotated[list[Path] | None, typer.Argument(help=(
            "The day's dose-record files of facilities (CSV, XLSX or Parquet, the import "
            "schema). Each file is processed once: a file processed before is refused."),
            show_default=False)] = None,
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
        watch: Annotated[Path | None, typer.Option("--watch", help=(
            "Watch this folder instead: each new file is processed once, as it arrives "
            "(a restart neither repeats nor misses one); stop with Ctrl+C."))] = None,
        every: Annotated[float, typer.Option("--every", help=(
            "Seconds between two looks at the watched folder."))] = 10.0,
    ) -> None:
        """Clean the day's files against the register and the store, publish, queue signing."""
        from vaxtrust.app.daily import daily
        from vaxtrust.console import RichConsole
        from vaxtrust.errors import ConfigError

        if bool(files) == (watch is not None):
            raise ConfigError("give the day's files, or --watch FOLDER (not both)")
        settings = cli_settings(store={"url": db})
        store = settings.open_store()
        try:
            actor = signed_in(store, actor_name, admin)
            if watch is not None:
                _watch(settings, store, actor, watch, register_file, runs, model, every)
                return
            with RichConsole() as console:
                report = daily(settings, store, actor, files or [], register=register_file,
                               runs_dir=runs, model=model, console=console)
        finally:
            store.close()
        print_report(report)

    @app.command("register-changes")
    def register_changes_command(
        changes: Annotated[Path, typer.Argument(help=(
            "Changed register rows (the register schema), or with --snapshot the whole new "
            "register."), show_default=False)],
        snapshot: Annotated[bool, typer.Option("--snapshot", help=(
            "The file is the whole register: people of the store missing from it vanished."))]
        = False,
        runs: Annotated[Path, typer.Option("--runs", help=(
            "Folder that keeps the re-verification's run folder."))] = Path("daily-runs"),
        actor_name: str | None = AS_OPTION,
        admin: bool = ADMIN_OPTION,
        db: Annotated[str | None, typer.Option("--db", help=(
            "Store URL; setting store.url."))] = None,
    ) -> None:
        """Re-verify the records of the people a register change touches."""
        from vaxtrust.app.register_changes import register_changes
        from vaxtrust.console import RichConsole, terminal

        settings = cli_settings(store={"url": db})
        store = settings.open_store()
        try:
            actor = signed_in(store, actor_name, admin)
            with RichConsole() as console:
                report = register_changes(settings, store, actor, changes, snapshot=snapshot,
                                          runs_dir=runs, console=console)
        finally:
            store.close()
        terminal().print(
            f"{report.changed_people:,} people changed, {report.vanished_people:,} vanished; "
            f"{report.records:,} records re-verified, {report.back_to_review:,} back to review"
            + (f"; run {report.run_id}, {report.publish.signing_queued:,} queued for signing"
               if report.publish else ""), highlight=False)


def _watch(settings: Settings, store: Store, actor: Actor, folder: Path, register: Path,
           runs: Path, model: Path | None, every: float) -> None:
    import time

    from vaxtrust.app.daily import WatchState, watch_once
    from vaxtrust.console import RichConsole, terminal
    from vaxtrust.errors import ConfigError

    if not folder.is_dir():
        raise ConfigError(f"--watch {folder}: not a folder")
    terminal().print(f"watching {folder} every {every:g} s (Ctrl+C stops)", highlight=False)
    state = WatchState({}, {})
    while True:
        with RichConsole() as console:
            reports = watch_once(settings, store, actor, folder, state, register=register,
                                 runs_dir=runs, model=model, console=console)
        for report in reports:
            print_report(report)
        time.sleep(every)
