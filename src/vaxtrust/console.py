"""Progress and output of long jobs, without printing from the core.

Stages and jobs call the :class:`Console` they are given (``NoopConsole`` by default). The CLI passes a
:class:`RichConsole` that draws progress bars; tests pass a :class:`RecordingConsole` and assert on it.

Terminal output holds data (names, notes, file paths) that may look like Rich markup: a name
``Lê [/bold] Cúc`` must print as itself, not crash or restyle the screen. So every terminal the CLI
prints on comes from :func:`terminal`, with markup off; styled text is built with :func:`styled`,
which escapes the values it is given.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

logger = logging.getLogger(__name__)


def terminal(*, stderr: bool = False, **options: Any) -> Any:
    """A Rich console that prints strings literally (markup and highlighting off)."""
    from rich.console import Console as RichTerminal

    return RichTerminal(stderr=stderr, markup=False, highlight=False, **options)


def styled(template: str, *values: object) -> Any:
    """Rich ``template`` markup with ``values`` put in literally: ``styled("[red]{}[/]", note)``."""
    from rich.markup import escape
    from rich.text import Text

    return Text.from_markup(template.format(*(escape(str(value)) for value in values)))


class Console(Protocol):
    def stage_started(self, stage: str, total: int | None = None) -> None: ...

    def rows_processed(self, stage: str, rows: int) -> None: ...

    def stage_finished(self, stage: str, rows: int | None = None) -> None: ...

    def message(self, text: str) -> None: ...


class NoopConsole:
    """Logs stage boundaries at debug level and shows nothing."""

    def stage_started(self, stage: str, total: int | None = None) -> None:
        logger.debug("stage %s started (total=%s)", stage, total)

    def rows_processed(self, stage: str, rows: int) -> None:
        pass

    def stage_finished(self, stage: str, rows: int | None = None) -> None:
        logger.debug("stage %s finished (rows=%s)", stage, rows)

    def message(self, text: str) -> None:
        logger.info("%s", text)


@dataclass
class RecordingConsole:
    """Keeps every event, for tests."""

    events: list[tuple[str, str, Any]] = field(default_factory=list)

    def stage_started(self, stage: str, total: int | None = None) -> None:
        self.events.append(("started", stage, total))

    def rows_processed(self, stage: str, rows: int) -> None:
        self.events.append(("rows", stage, rows))

    def stage_finished(self, stage: str, rows: int | None = None) -> None:
        self.events.append(("finished", stage, rows))

    def message(self, text: str) -> None:
        self.events.append(("message", "", text))

    def stages(self) -> list[str]:
        return [stage for kind, stage, _ in self.events if kind == "finished"]


@contextmanager
def stage(console: Console, name: str, total: int | None = None) -> Iterator[None]:
    """Report a stage's start and end around a block."""
    console.stage_started(name, total)
    yield
    console.stage_finished(name)


class RichConsole:
    """Progress bars per stage on a terminal (rich); messages printed above the bars.

    Use as a context manager around the job. Off a terminal (CI, pipes) no bars are drawn.
    """

    def __init__(self, console: Any = None) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self.terminal = console or terminal(stderr=True)
        self.progress = Progress(
            SpinnerColumn(), TextColumn("[bold]{task.description:<22}"), BarColumn(),
            MofNCompleteColumn(), TimeElapsedColumn(), console=self.terminal, transient=False,
            disable=not self.terminal.is_terminal,
        )
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> RichConsole:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def stage_started(self, stage: str, total: int | None = None) -> None:
        self._tasks[stage] = self.progress.add_task(stage, total=total)

    def rows_processed(self, stage: str, rows: int) -> None:
        if stage in self._tasks:
            self.progress.update(self._tasks[stage], completed=rows)

    def stage_finished(self, stage: str, rows: int | None = None) -> None:
        task = self._tasks.pop(stage, None)
        if task is None:
            return
        total = self.progress.tasks[task].total
        done = total if total is not None else 1
        self.progress.update(task, total=done, completed=done,
                             description=f"{stage}" + (f" ({rows:,} rows)" if rows else ""))

    def message(self, text: str) -> None:
        self.progress.console.print(text, highlight=False, markup=False)
