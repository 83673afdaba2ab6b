"""What ``python -m chaos`` shows while it runs, and the summary at the end.

On a terminal (rich's ``Console.is_interactive``) a live progress bar shows
the runs done out of all, the failures so far, the rate and the time left,
and failing runs are printed above it as they come. Elsewhere (a CI log, a
pipe) the same facts come as plain lines: one every tenth of the runs, and one
per failing run. ``--quiet`` shows only the summary; ``--verbose`` adds a
line per run and ``RunReport.explain()`` for each failing one.

Every text that comes from a user (names, details, paths) is printed as it
is: rich's markup, emoji codes and highlighting are off, and long lines are
not wrapped (a replay command stays one line to copy).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from typing import Final, Literal

from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from ._journal import RunEntry, ScenarioSummary, Summary

__all__ = ["Output", "discard_stdout", "make_console"]

#: The width of tables and lines when the output is not a terminal (a CI log).
PLAIN_WIDTH: Final = 120

Mode = Literal["quiet", "normal", "verbose"]


def discard_stdout() -> None:
    """After standard output was closed (``| head``): point its file descriptor
    at the null device, so that writing or flushing it raises nothing more."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a real file (a test's capture): nothing to redirect
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


class _Console(Console):
    """rich's Console, except that a closed standard output ends the printing,
    not the program: the runs go on, and their files and exit code are kept
    (rich's default exits with status 1)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        discard_stdout()


def make_console() -> Console:
    """The console for standard output: markup, emoji codes and highlighting
    off; 120 columns wide when it is not a terminal; a closed pipe silences it."""
    console = _Console(file=sys.stdout, markup=False, emoji=False, highlight=False)
    if not console.is_terminal:
        console.width = PLAIN_WIDTH
    return console


class _RateColumn(ProgressColumn):
    """Runs per second so far."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        if not elapsed or not task.completed:
            return Text("-- runs/s", style="progress.data.speed")
        return Text(f"{task.completed / elapsed:.1f} runs/s", style="progress.data.speed")


def _failed_checks(run: RunEntry) -> str:
    if run.nondeterminism is not None:
        return f"not deterministic: event #{run.nondeterminism.index} differs"
    if run.error is not None:
        return run.error.splitlines()[0] if run.error else "error"
    return ", ".join(c.name for c in run.failures)


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


class Output:
    """Progress while runs complete, then the summary.

    ``start`` once, ``advance`` with each run (in the order of the jobs),
    ``stop``, then ``summary``.
    """

    def __init__(self, console: Console, mode: Mode) -> None:
        self.console = console
        self.mode = mode
        self.live = console.is_interactive and mode != "quiet"
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._total = 0
        self._done = 0
        self._failed = 0
        self._started = 0.0
        self._step = 1

    # -- lines -------------------------------------------------------------------

    def line(self, text: str | Text | Table = "", *, style: str | None = None) -> None:
        """Print one line as it is (above the progress bar while it shows)."""
        self.console.print(text, style=style, soft_wrap=True)

    def _status(self, ok: bool) -> Text:
        return Text("ok  " if ok else "FAIL", style="green" if ok else "bold red")

    # -- progress ----------------------------------------------------------------

    def start(self, total: int, heading: str) -> None:
        self._total = total
        self._started = time.perf_counter()
        self._step = max(1, total // 10)
        if self.mode == "quiet":
            return
        self.line(heading)
        if self.live and total:
            self._progress = Progress(
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("runs  {task.fields[failed]} failed"),
                _RateColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=self.console,
                refresh_per_second=4,
            )
            self._progress.start()
            self._task = self._progress.add_task("chaos", total=total, failed=0)

    def advance(self, run: RunEntry, explain: str | None = None) -> None:
        self._done += 1
        if not run.ok:
            self._failed += 1
        if self.mode == "verbose":
            text = Text.assemble(
                self._status(run.ok),
                f" {run.scenario} seed={run.seed}",
                f" digest={run.digest[:12]}" if run.digest else "",
                f": {_failed_checks(run)}" if not run.ok else "",
            )
            self.line(text)
            if explain is not None and not run.ok:
                self.line(explain)
        elif self.mode == "normal" and not run.ok:
            self.line(
                Text.assemble(
                    self._status(False), f" {run.scenario} seed={run.seed}: {_failed_checks(run)}"
                )
            )
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, advance=1, failed=self._failed)
        elif self._plain_tick():
            self.line(self._plain_progress())

    def _plain_tick(self) -> bool:
        """Whether a plain progress line is due: every tenth of ten runs or more."""
        if self.mode == "quiet" or self._total < 10:
            return False
        return self._done % self._step == 0 or self._done == self._total

    def _plain_progress(self) -> str:
        elapsed = time.perf_counter() - self._started
        rate = self._done / elapsed if elapsed > 0 else 0.0
        left = (self._total - self._done) / rate if rate > 0 else 0.0
        return (
            f"{self._done}/{self._total} runs, {self._failed} failed, "
            f"{rate:.1f} runs/s, ETA {left:.0f}s"
        )

    def stop(self, workers: int) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        if self.mode == "quiet":
            return
        elapsed = time.perf_counter() - self._started
        rate = f" ({self._done / elapsed:.1f} runs/s)" if elapsed > 0 and self._done else ""
        self.line(
            f"ran {_count(self._done, 'run')} in {elapsed:.2f}s{rate} "
            f"with {_count(workers, 'worker')}"
        )

    # -- the summary --------------------------------------------------------------

    def summary(self, summary: Summary, *, ranges: Sequence[str]) -> None:
        """A table per scenario and check, the failing runs with their replay
        commands, and the verdict."""
        for i, (scenario, seeds) in enumerate(zip(summary.scenarios, ranges, strict=True)):
            if i or self.mode != "quiet":
                self.line()
            self.line(self._title(scenario, seeds), style="bold")
            if scenario.checks:
                self._print_table(self._table(scenario))
            else:
                self.line("  no check was judged (no run made it to a verdict)")
        if summary.failing:
            self.line()
            self.line("failing runs (each line after one replays it):", style="bold")
            for run in summary.failing:
                self.line(f"  {run.scenario} seed={run.seed}: {_failed_checks(run)}")
                found = run.nondeterminism
                if found is not None:
                    self.line(f"      first run:  {found.first or '<the trace ended>'}")
                    self.line(f"      second run: {found.second or '<the trace ended>'}")
                self.line(f"    {run.replay}")
        coverage = [
            (s.entry.name, t.name)
            for s in summary.scenarios
            for t in s.checks.values()
            if t.never_held
        ]
        if coverage:
            self.line()
            for name, check in coverage:
                self.line(
                    f"  {name}: the sometimes check {check!r} held in no run",
                    style="bold red",
                )
        self.line()
        self.line(self._verdict(summary))

    def _print_table(self, table: Table) -> None:
        """The table; off a terminal without the padding at the ends of its lines."""
        if self.console.is_terminal:
            self.line(table)
            return
        with self.console.capture() as capture:
            self.console.print(table)
        for line in capture.get().splitlines():
            self.line(line.rstrip())

    def _title(self, scenario: ScenarioSummary, seeds: str) -> str:
        entry = scenario.entry
        title = (
            f"{entry.name} ({entry.file}), {seeds}: "
            f"{_count(scenario.runs, 'run')}, {scenario.failed} failed"
        )
        if scenario.errors:
            title += f", {scenario.errors} not run"
        if scenario.nondeterministic:
            title += f", {scenario.nondeterministic} not deterministic"
        return title

    def _table(self, scenario: ScenarioSummary) -> Table:
        table = Table(
            box=box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
        )
        table.add_column("check", no_wrap=True)
        table.add_column("kind")
        for column in ("pass", "fail", "unknown"):
            table.add_column(column, justify="right")
        table.add_column("")
        for tally in scenario.checks.values():
            if tally.bad:
                status = Text("FAIL" if not tally.never_held else "FAIL: never held", "bold red")
            elif tally.failed:
                status = Text("ok (coverage)", "yellow")
            else:
                status = Text("ok", "green")
            table.add_row(
                Text(tally.name),
                tally.kind,
                str(tally.passed),
                str(tally.failed),
                str(tally.unknown),
                status,
            )
        return table

    def _verdict(self, summary: Summary) -> Text:
        code = summary.exit_code
        runs = summary.runs
        failing = len(summary.failing)
        if code == 0:
            return Text(f"OK: {_count(runs, 'run')}, every check held", style="bold green")
        if code == 3:
            n = sum(s.nondeterministic for s in summary.scenarios)
            text = f"NOT DETERMINISTIC: {n} of {_count(runs, 'run')} differed between two runs"
        elif code == 2:
            n = sum(s.errors for s in summary.scenarios)
            text = f"ERROR: {n} of {_count(runs, 'run')} could not be made"
        elif failing:
            text = f"FAILED: {failing} of {_count(runs, 'run')} failed a check"
        else:
            text = f"FAILED: a sometimes check held in none of {_count(runs, 'run')}"
        return Text(f"{text} (exit {code})", style="bold red")
