"""Progress bars of long commands: the :mod:`citycarbon.progress` calls rendered by ``rich.progress`` on stderr.

The rule (docs/cli.md, "Progress"):

* a bar is drawn on **stderr only**, never on stdout, so ``--format json|csv`` output stays exactly what it is
  without a bar (rich's redirection of stdout is switched off: nothing written to stdout passes through it);
* it is drawn only when stderr is a terminal (a pipe, a log file or CI gets nothing), and only once the work
  has taken :data:`SHOW_AFTER` seconds (a quick run shows nothing); it is transient: erased when done;
* ``--quiet`` / ``-q`` on the command turns it off; ``CITYCARBON_PROGRESS=never`` turns it off everywhere,
  ``always`` draws it at once even when stderr is not a terminal (logs, tests), ``auto`` is the default.

A command opens the bars around its one service call and hands each stage a callable::

    try:
        with progress_bars(quiet) as bars:
            result = ensemble(model, scenario, runs, seed, progress=bars.task("集合运行 / ensemble", "runs"))
    except InputError as error:
        fail(error)
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer

from citycarbon.progress import Progress, no_progress

__all__ = ["PROGRESS_ENV", "QUIET_OPTION", "SHOW_AFTER", "Bars", "progress_bars", "progress_mode"]

#: the environment variable choosing when bars are drawn: auto (stderr is a terminal) | always | never
PROGRESS_ENV = "CITYCARBON_PROGRESS"
#: seconds of work before a bar appears in ``auto`` mode (the issue: bars on anything longer than ~2 s)
SHOW_AFTER = 1.0

QUIET_OPTION = typer.Option(False, "--quiet", "-q", help="no progress bar on stderr")


def progress_mode() -> str:
    """``auto``, ``always`` or ``never`` from :data:`PROGRESS_ENV` (anything else counts as ``auto``)."""
    value = os.environ.get(PROGRESS_ENV, "auto").strip().lower()
    if value in ("always", "1", "true", "yes", "on"):
        return "always"
    if value in ("never", "0", "false", "no", "off"):
        return "never"
    return "auto"


class Bars:
    """The bars of one command; :meth:`task` gives one stage its progress callable (a no-op when off)."""

    def __init__(self, display: Any | None, show_after: float):
        self._display = display
        self._lock = threading.Lock()
        self._started = self._closed = False
        self._timer: threading.Timer | None = None
        if display is not None and show_after > 0:  # drawn after show_after, reports or not (a long step)
            self._timer = threading.Timer(show_after, self._start)
            self._timer.daemon = True
            self._timer.start()

    @property
    def enabled(self) -> bool:
        return self._display is not None

    def task(self, description: str, unit: str = "") -> Progress:
        """A progress callable drawing one bar (``description`` in the user's words, ``unit`` after counts)."""
        display = self._display
        if display is None:
            return no_progress
        task_id = None

        def report(done: int, total: int | None, label: str = "", /) -> None:
            nonlocal task_id
            if task_id is None:
                task_id = display.add_task(description, total=total, unit=unit, item="")
            display.update(task_id, completed=done, total=total, item=label)
            if self._timer is None:  # no delay (CITYCARBON_PROGRESS=always): drawn from the first report
                self._start()

        return report

    @contextmanager
    def step(self, description: str, label: str = "") -> Iterator[None]:
        """One step without counts of its own (building a model): a spinner while the block runs."""
        report = self.task(description)
        report(0, None, label)
        yield
        report(1, 1, label)

    def _start(self) -> None:
        with self._lock:
            if self._display is None or self._started or self._closed:
                return
            self._started = True
            self._display.start()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            self._closed = True
            if self._display is not None and self._started:
                self._display.stop()


def _display() -> Any:
    from rich import progress as rich_progress
    from rich.console import Console
    from rich.text import Text

    class RateColumn(rich_progress.ProgressColumn):
        """Items per second, with the task's unit."""

        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            unit = task.fields.get("unit") or "it"
            text = "" if speed is None else f"{speed:,.0f} {unit}/s" if speed >= 10 else f"{speed:.2g} {unit}/s"
            return Text(text, style="progress.data.speed")

    console = Console(stderr=True, force_terminal=True if progress_mode() == "always" else None)
    return rich_progress.Progress(
        rich_progress.SpinnerColumn(), rich_progress.TextColumn("[progress.description]{task.description}"),
        rich_progress.BarColumn(), rich_progress.MofNCompleteColumn(), rich_progress.TextColumn("{task.fields[unit]}"),
        RateColumn(), rich_progress.TimeRemainingColumn(), rich_progress.TextColumn("[dim]{task.fields[item]}"),
        console=console, transient=True, redirect_stdout=False, redirect_stderr=False)


@contextmanager
def progress_bars(quiet: bool = False) -> Iterator[Bars]:
    """Bars on stderr for the work inside the block, unless ``quiet``, ``CITYCARBON_PROGRESS=never``, or
    (``auto``) stderr is not a terminal; erased when the block ends, also on an error."""
    mode = progress_mode()
    enabled = not quiet and (mode == "always" or (mode == "auto" and sys.stderr.isatty()))
    bars = Bars(_display() if enabled else None, 0.0 if mode == "always" else SHOW_AFTER)
    try:
        yield bars
    finally:
        bars.close()
