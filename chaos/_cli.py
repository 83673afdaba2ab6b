"""The command line, ``python -m chaos`` (docs/cli.md is its reference).

Every command drives the library: scenarios are loaded with
:func:`chaos.load_scenario` and run with :meth:`Scenario.run` (which also
judges ``predicate:`` bounds), shrinking is :func:`chaos._shrink.shrink_plan`.
The CLI adds no fault logic; it adds jobs, processes, journals
(``_journal``), JUnit XML (``_junit``) and what a terminal or a CI log shows
(``_progress``).

``run`` makes one job per scenario and seed. With ``--workers N`` the jobs
run in N processes (the ``spawn`` start method: a Scenario cannot be pickled,
so a worker receives the file and the seed, and loads each file once); the
results are released in the order of the jobs, so what is printed and
written does not depend on N.

Exit codes: 0 every check held; 1 a check failed; 2 bad input or usage
(argparse errors, a bad scenario file or journal, an output that cannot be
written: one screen on stderr, never a traceback); 3 nondeterminism.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import platform
import re
import shlex
import signal
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Final, NoReturn

import attrs
import trio
from rich.console import Console

from . import __version__
from ._checks import BUILTIN_CHECKS
from ._errors import ChaosError, InvalidPlanError, NondeterminismError
from ._journal import (
    Journal,
    JournalError,
    Nondeterminism,
    RunEntry,
    ScenarioEntry,
    Shard,
    Summary,
    dumps_journal,
    read_journal,
    summarize,
)
from ._junit import junit_xml
from ._plan import FaultPlan, RandomFaults, fault_to_dict
from ._progress import Mode, Output, discard_stdout, make_console
from ._report import RunReport
from ._scenario import Scenario, ScenarioError, load_scenario, new_scenario, scenario_schema
from ._shrink import shrink_plan

__all__ = ["EXIT_FAILED", "EXIT_NONDETERMINISM", "EXIT_OK", "EXIT_USAGE", "main"]

#: Every check held.
EXIT_OK: Final = 0
#: A check failed (an always, eventually or bound check in a run, or a
#: sometimes check in every run of a scenario).
EXIT_FAILED: Final = 1
#: Bad input or usage.
EXIT_USAGE: Final = 2
#: A seed gave two different runs, or a replay did not reproduce its run.
EXIT_NONDETERMINISM: Final = 3
#: Ctrl-C (128 + SIGINT, as a shell reports it).
EXIT_INTERRUPTED: Final = 130
#: The most runs one ``run`` command makes (scenarios times seeds, after
#: ``--shard``): a range beyond it is a typo, or a job for many machines.
MAX_RUNS: Final = 1_000_000

PROG: Final = "python -m chaos"


class CliError(ChaosError):
    """A mistake on the command line or in its input: printed, exit 2."""


class _Interrupted(Exception):
    """Ctrl-C stopped the runs: the entries of those that completed, in job order."""

    def __init__(self, entries: list[RunEntry]) -> None:
        super().__init__(len(entries))
        self.entries = entries


def _is_interrupt(exc: BaseException) -> bool:
    """Ctrl-C, as Python raises it or as a Trio run hands it on (in an exception group)."""
    if isinstance(exc, KeyboardInterrupt):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return all(_is_interrupt(inner) for inner in exc.exceptions)
    return False


class _Exit(Exception):
    """Leave with this exit code (what had to be said was printed)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


# -- argument types ------------------------------------------------------------------


def _seed(text: str) -> int:
    if not re.fullmatch(r"\s*\d+\s*", text):
        raise argparse.ArgumentTypeError(f"expected a seed (an int >= 0), got {text!r}")
    return int(text)


def _seed_range(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*:\s*(\d+)\s*", text)
    if match is None:
        raise argparse.ArgumentTypeError(
            f"expected A:B (the seeds A to B-1, e.g. 0:100), got {text!r}"
        )
    start, stop = int(match[1]), int(match[2])
    if stop <= start:
        raise argparse.ArgumentTypeError(
            f"{text!r} holds no seed: A:B runs the seeds A to B-1, so B must be greater than A"
        )
    return start, stop


def _shard(text: str) -> Shard:
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if match is None:
        raise argparse.ArgumentTypeError(
            f"expected K/N (shard K of N, K counted from 0: 0/4 ... 3/4), got {text!r}"
        )
    index, count = int(match[1]), int(match[2])
    if count < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a shard: N, the number of shards, is >= 1"
        )
    if index >= count:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a shard: K counts from 0, so K/N needs 0 <= K < N "
            f"(for N={count}: 0/{count} ... {count - 1}/{count})"
        )
    return Shard(index, count)


def _positive(what: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not re.fullmatch(r"\s*\d+\s*", text) or int(text) < 1:
            raise argparse.ArgumentTypeError(f"expected {what} (an int >= 1), got {text!r}")
        return int(text)

    return parse


# -- the parser ----------------------------------------------------------------------

_EXIT_CODES = """\
exit codes: 0 every check held; 1 a check failed; 2 bad input or usage;
3 nondeterminism (a seed gave two different runs, or a replay differed)."""

_MAIN_EPILOG = f"""\
examples:
  {PROG} run docs/examples/chaos_demand_tracker.yaml
  {PROG} run suite/*.yaml --seeds 0:1000 --workers 2 --journal out/j.json --junit out/j.xml
  {PROG} run suite/*.yaml --seeds 0:1000 --shard 0/4 --journal out/shard-0.json
  {PROG} merge out/shard-*.json --junit out/junit.xml
  {PROG} replay out/journal.json
  {PROG} shrink out/journal.json -o regression.yaml
  {PROG} validate suite/*.yaml
  {PROG} new --system my_agents -o chaos_my_agents.yaml

{_EXIT_CODES}
Reference: docs/cli.md; the scenario format: docs/scenarios.md."""

_EPILOGS = {
    "run": f"""\
examples:
  {PROG} run docs/examples/chaos_demand_tracker.yaml          # the file's own seed
  {PROG} run docs/examples/planted_bug.yaml --seed 7           # another seed
  {PROG} run suite/*.yaml --seeds 0:200 --workers 2            # seeds 0..199, two processes
  {PROG} run suite/*.yaml --seeds 0:1000 --shard 2/4 --journal shard-2.json --junit shard-2.xml
  {PROG} run suite/*.yaml --seeds 0:50 --check-determinism

A run is a scenario at a seed. --shard K/N keeps the seeds with seed % N == K
(K from 0, as $JOB_COMPLETION_INDEX and a CI matrix index are). Every failing
run is listed with the one command that replays it.

{_EXIT_CODES}""",
    "validate": f"""\
examples:
  {PROG} validate docs/examples/*.yaml

One line per file (ok, or every problem of the file); exit 2 if one is invalid.""",
    "replay": f"""\
examples:
  {PROG} replay out/journal.json             # every failing run of the journal
  {PROG} replay out/journal.json --seed 17   # the run(s) of seed 17

Re-runs each run with the concrete plan and seed the journal recorded and checks
that its trace digest is the recorded one (exit 3 if not). Refuses (exit 2) if a
scenario file changed since the journal was written, unless --force.""",
    "shrink": f"""\
examples:
  {PROG} shrink out/journal.json -o regression.yaml
  {PROG} shrink out/journal.json --seed 17 --max-runs 100 > regression.yaml

Reduces the plan of a failing run (the first one, or --seed's) to a minimal
plan in which the same checks fail, and writes the scenario with that plan and
seed: a regression file to commit. Without -o the file goes to stdout.""",
    "schema": f"""\
examples:
  {PROG} schema -o scenario.schema.json

Prints the JSON Schema (draft 2020-12) of scenario files, for editors.""",
    "new": f"""\
examples:
  {PROG} new -o chaos_starter.yaml
  {PROG} new --system demand_tracker:DEMAND_TRACKER -o chaos_tracker.yaml
  {PROG} new --system my_agents            # every AgentDef of my_agents.py, to stdout

The starter validates and runs as written; --system resolves next to the
output file first, then on sys.path.""",
    "merge": f"""\
examples:
  {PROG} merge out/shard-*.json --junit out/junit.xml
  {PROG} merge out/shard-*.json --journal out/journal.json

Combines the journals of shards run on different machines into one summary
(and JUnit file, and journal). Exit 2 if a seed of the requested range is
missing or was run twice, or if the shards ran different scenario files.

{_EXIT_CODES}""",
}


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors naming the command line's fix."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n(see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = _Parser(
        prog=PROG,
        description=(
            "Run chaos scenarios (YAML files: docs/scenarios.md) against jido_trio systems,\n"
            "deterministically: the same seed gives the same run, event for event."
        ),
        epilog=_MAIN_EPILOG,
        formatter_class=formatter,
    )
    parser.add_argument(
        "--version",
        action="version",
        version=(
            f"{PROG} (jido-trio) {__version__}; trio {trio.__version__}, "
            f"Python {platform.python_version()}"
        ),
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name, help=help, description=help, epilog=_EPILOGS[name], formatter_class=formatter
        )

    run = command("run", "run scenarios at one seed or many; a summary per scenario and check")
    run.add_argument("files", nargs="+", metavar="FILE", help="scenario files (YAML)")
    seeds = run.add_mutually_exclusive_group()
    seeds.add_argument(
        "--seed",
        type=_seed,
        metavar="N",
        help="run every scenario at seed N (default: each file's seed)",
    )
    seeds.add_argument(
        "--seeds",
        type=_seed_range,
        metavar="A:B",
        help="run every scenario at the seeds A to B-1 (half-open: 0:100 is 100 seeds)",
    )
    run.add_argument("--journal", metavar="PATH", help="write the journal (JSON) to PATH")
    run.add_argument("--junit", metavar="PATH", help="write JUnit XML to PATH")
    run.add_argument(
        "--check-determinism",
        action="store_true",
        help="run each seed twice and compare the traces (exit 3 if they differ)",
    )
    run.add_argument(
        "--workers",
        type=_positive("a number of processes"),
        default=1,
        metavar="N",
        help="run the seeds in N processes (default: 1, in this process)",
    )
    run.add_argument(
        "--shard",
        type=_shard,
        default=Shard(),
        metavar="K/N",
        help="keep only the seeds with seed %% N == K, K from 0 (default: 0/1, every seed)",
    )
    _add_verbosity(run, verbose=True)

    validate = command("validate", "check scenario files; one line per file")
    validate.add_argument("files", nargs="+", metavar="FILE", help="scenario files (YAML)")

    replay = command("replay", "re-run a journal's runs and check their trace digests")
    replay.add_argument("journal", metavar="JOURNAL", help="a journal written by run --journal")
    replay.add_argument(
        "--seed", type=_seed, metavar="N", help="replay the run(s) of seed N (default: the failing)"
    )
    replay.add_argument(
        "--force", action="store_true", help="replay even if a scenario file changed"
    )

    shrink = command("shrink", "reduce a failing run's plan to a minimal one, as a scenario file")
    shrink.add_argument("journal", metavar="JOURNAL", help="a journal written by run --journal")
    shrink.add_argument(
        "--seed",
        type=_seed,
        metavar="N",
        help="shrink the run of seed N (default: the first failing)",
    )
    shrink.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write the minimal scenario to FILE (default: stdout)",
    )
    shrink.add_argument(
        "--max-runs",
        type=_positive("a number of runs"),
        default=300,
        metavar="N",
        help="stop after N runs (default: 300)",
    )
    shrink.add_argument("--force", action="store_true", help="shrink even if the scenario changed")

    schema = command("schema", "print the JSON Schema of scenario files")
    schema.add_argument("-o", "--output", metavar="FILE", help="write it to FILE (default: stdout)")

    new = command("new", "write a commented starter scenario")
    new.add_argument(
        "--system",
        metavar="MODULE[:ATTR]",
        help="an AgentDef (module:attr) or a module of them to fill in (default: a placeholder)",
    )
    new.add_argument("-o", "--output", metavar="FILE", help="write it to FILE (default: stdout)")
    new.add_argument("--force", action="store_true", help="overwrite FILE if it exists")

    merge = command("merge", "combine the journals of shards into one summary (and JUnit file)")
    merge.add_argument("journals", nargs="+", metavar="JOURNAL", help="the shards' journals")
    merge.add_argument("--junit", metavar="PATH", help="write the combined JUnit XML to PATH")
    merge.add_argument("--journal", metavar="PATH", help="write the combined journal to PATH")
    _add_verbosity(merge, verbose=False)
    return parser


def _add_verbosity(parser: argparse.ArgumentParser, *, verbose: bool) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-q", "--quiet", action="store_true", help="print only the summary")
    if verbose:
        group.add_argument(
            "-v",
            "--verbose",
            action="store_true",
            help="print a line per run, and the account of each failing run",
        )


# -- files ---------------------------------------------------------------------------


def _output(path: str | None, option: str) -> Path | None:
    """Check before any run that ``path`` can be written (its directories are
    made); raises :class:`CliError` naming the option and the problem."""
    if path is None:
        return None
    target = Path(path)
    if target.is_dir():
        raise CliError(f"cannot write {option} {path}: it is a directory; give a file name")
    for parent in target.parents:
        if parent.exists() and not parent.is_dir():
            raise CliError(f"cannot write {option} {path}: {parent} is a file, not a directory")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(
            f"cannot write {option} {path}: cannot make its directory "
            f"{target.parent}: {exc.strerror or exc}"
        ) from None
    if not os.access(target.parent, os.W_OK) or (
        target.exists() and not os.access(target, os.W_OK)
    ):
        raise CliError(f"cannot write {option} {path}: permission denied")
    return target


def _write(target: Path, data: str | bytes, option: str) -> None:
    try:
        if isinstance(data, bytes):
            target.write_bytes(data)
        else:
            target.write_text(data, encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write {option} {target}: {exc.strerror or exc}") from None


def _sha256(path: str) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as exc:
        raise ScenarioError(
            path, [exc.strerror or str(exc)], heading="cannot read the file"
        ) from None


@attrs.frozen
class _Loaded:
    file: str  # as given on the command line
    scenario: Scenario
    sha256: str


def _load_all(files: Sequence[str]) -> list[_Loaded]:
    """Load every file; print every invalid one's problems, then exit 2."""
    loaded: list[_Loaded] = []
    bad = False
    for file in files:
        try:
            scenario = load_scenario(file)
            loaded.append(_Loaded(file, scenario, _sha256(file)))
        except ScenarioError as exc:
            _err(str(exc))
            bad = True
    if bad:
        raise _Exit(EXIT_USAGE)
    names: dict[str, str] = {}
    for item in loaded:
        name = item.scenario.name
        if name in names and Path(names[name]).resolve() == Path(item.file).resolve():
            raise CliError(f"{item.file} is named twice: give each scenario file once")
        if name in names:
            raise CliError(
                f"two scenarios are named {name!r} ({names[name]} and {item.file}): a name "
                "identifies a scenario in journals and JUnit; give one of them another name"
            )
        names[name] = item.file
    return loaded


def _replay_command(file: str, seed: int, *, determinism: bool = False) -> str:
    command = f"{PROG} run {shlex.quote(file)} --seed {seed}"
    return command + " --check-determinism" if determinism else command


# -- jobs ----------------------------------------------------------------------------


@attrs.frozen
class _Job:
    """One run to make: a scenario (by file) at a seed."""

    index: int
    path: str  # absolute: a worker loads it
    file: str  # as given: replay commands and journals name it
    name: str
    seed: int
    determinism: bool
    explain: bool


Outcome = tuple[RunEntry, str | None]


def _execute(scenario: Scenario, job: _Job) -> Outcome:
    """Make one run; its journal entry, and ``report.explain()`` if asked and it failed."""
    replay = _replay_command(job.file, job.seed)
    report: RunReport
    try:
        run = scenario.check_determinism if job.determinism else scenario.run
        report = run(job.seed)
    except NondeterminismError as exc:
        found = Nondeterminism(exc.index, exc.first, exc.second, exc.digests)
        return RunEntry.failed_to_run(
            scenario=job.name,
            file=job.file,
            seed=job.seed,
            replay=_replay_command(job.file, job.seed, determinism=True),
            nondeterminism=found,
        ), None
    except ChaosError as exc:  # the system did not start
        return RunEntry.failed_to_run(
            scenario=job.name, file=job.file, seed=job.seed, replay=replay, error=str(exc)
        ), None
    entry = RunEntry.from_report(report, scenario=job.name, file=job.file, replay=replay)
    return entry, (report.explain() if job.explain and not report.ok else None)


#: A worker process's scenarios, loaded once each (a Scenario cannot be pickled).
_WORKER_SCENARIOS: dict[str, Scenario] = {}


def _init_worker() -> None:
    # Ctrl-C reaches the whole process group: the parent stops the pool
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _work(job: _Job) -> Outcome:
    """A worker's job: load the file (once per process), then :func:`_execute`."""
    scenario = _WORKER_SCENARIOS.get(job.path)
    if scenario is None:
        try:
            scenario = load_scenario(job.path)
        except ScenarioError as exc:  # the file changed since the parent loaded it
            return RunEntry.failed_to_run(
                scenario=job.name,
                file=job.file,
                seed=job.seed,
                replay=_replay_command(job.file, job.seed),
                error=str(exc),
            ), None
        _WORKER_SCENARIOS[job.path] = scenario
    return _execute(scenario, job)


def _run_jobs(
    jobs: Sequence[_Job], scenarios: dict[str, Scenario], workers: int, output: Output
) -> list[RunEntry]:
    """Run ``jobs`` (in ``workers`` processes if more than one), handing each
    outcome to ``output`` in the order of the jobs."""
    entries: list[RunEntry] = []
    if workers == 1 or len(jobs) <= 1:
        try:
            for job in jobs:
                entry, explain = _execute(scenarios[job.path], job)
                output.advance(entry, explain)
                entries.append(entry)
        except BaseException as exc:
            if not _is_interrupt(exc):
                raise
            raise _Interrupted(entries) from None
        return entries
    done: dict[int, Outcome] = {}
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        max_workers=min(workers, len(jobs)), mp_context=context, initializer=_init_worker
    )
    try:
        futures: dict[Future[Outcome], int] = {pool.submit(_work, job): job.index for job in jobs}
        for future in as_completed(futures):
            done[futures[future]] = future.result()
            while len(entries) in done:
                entry, explain = done.pop(len(entries))
                output.advance(entry, explain)
                entries.append(entry)
    except BrokenProcessPool:
        raise CliError(
            "a worker process died (killed, or its system ended the process); run the "
            "failing seed with --workers 1 to see it"
        ) from None
    except BaseException as exc:
        if not _is_interrupt(exc):
            raise
        for index in sorted(done):  # completed out of order: kept all the same
            entry, explain = done[index]
            output.advance(entry, explain)
            entries.append(entry)
        raise _Interrupted(entries) from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return entries


# -- run -----------------------------------------------------------------------------


def _mode(args: argparse.Namespace) -> Mode:
    if args.quiet:
        return "quiet"
    return "verbose" if getattr(args, "verbose", False) else "normal"


def _seeds_text(seeds: tuple[int, int]) -> str:
    """``seed 3`` or ``seeds 0:100``."""
    start, stop = seeds
    return f"seed {start}" if stop == start + 1 else f"seeds {start}:{stop}"


def _journal(
    command: Sequence[str],
    *,
    determinism: bool,
    shard: Shard,
    scenarios: Sequence[ScenarioEntry],
    runs: Sequence[RunEntry],
) -> Journal:
    return Journal(
        tool=f"jido-trio {__version__}",
        trio=trio.__version__,
        python=platform.python_version(),
        command=(PROG, *command),
        check_determinism=determinism,
        shard=shard,
        scenarios=tuple(scenarios),
        runs=tuple(runs),
    )


def _shard_seeds(seeds: tuple[int, int], shard: Shard) -> range:
    """The seeds of ``[start, stop)`` that ``shard`` keeps, without walking the others."""
    start, stop = seeds
    return range(start + (shard.index - start) % shard.count, stop, shard.count)


def _distinct_outputs(
    outputs: Sequence[tuple[str, str | None]], inputs: Sequence[tuple[str, str]]
) -> None:
    """Refuse an output path that is an input of the command, or another output:
    writing it would destroy what is there (a scenario file, a journal)."""
    given: dict[Path, str] = {}
    for option, path in outputs:
        if path is None:
            continue
        resolved = Path(path).resolve()
        for what, file in inputs:
            if Path(file).resolve() == resolved:
                raise CliError(
                    f"cannot write {option} {path}: it is {what} {file}, which the command "
                    "reads; writing it would destroy it: give another path"
                )
        if resolved in given:
            raise CliError(
                f"cannot write {option} {path}: {given[resolved]} writes the same file, and "
                "one would overwrite the other: give each its own path"
            )
        given[resolved] = option


def _cmd_run(args: argparse.Namespace, argv: Sequence[str], console: Console) -> int:
    loaded = _load_all(args.files)
    shard: Shard = args.shard
    _distinct_outputs(
        [("--journal", args.journal), ("--junit", args.junit)],
        [("the scenario file", item.file) for item in loaded],
    )
    entries: list[ScenarioEntry] = []
    jobs: list[_Job] = []
    for item in loaded:
        scenario = item.scenario
        if args.seeds is not None:
            seeds = args.seeds
        else:
            seed = scenario.seed if args.seed is None else args.seed
            seeds = (seed, seed + 1)
        entries.append(ScenarioEntry(item.file, scenario.name, item.sha256, seeds))
    total = sum(len(_shard_seeds(entry.seeds, shard)) for entry in entries)
    if total > MAX_RUNS:
        shard_text = f" (shard {shard})" if shard.count > 1 else ""
        seeds_text = f"--seeds {args.seeds[0]}:{args.seeds[1]}" if args.seeds else "the seeds"
        raise CliError(
            f"{seeds_text}{shard_text} makes {total:,} runs of "
            f"{_count(len(loaded), 'scenario')}, more than one command makes ({MAX_RUNS:,}): "
            "run a smaller range, or split it between machines with --shard K/N"
        )
    for item, entry in zip(loaded, entries, strict=True):
        scenario = item.scenario
        for seed in _shard_seeds(entry.seeds, shard):
            jobs.append(
                _Job(
                    index=len(jobs),
                    path=str(Path(item.file).resolve()),
                    file=item.file,
                    name=scenario.name,
                    seed=seed,
                    determinism=args.check_determinism,
                    explain=args.verbose,
                )
            )
    journal_path = _output(args.journal, "--journal")
    junit_path = _output(args.junit, "--junit")
    output = Output(console, _mode(args))
    if args.seeds is not None:
        asked = _seeds_text(args.seeds)
    elif args.seed is not None:
        asked = f"seed {args.seed}"
    else:
        asked = "each file's seed"
    shard_text = f", shard {shard}" if shard.count > 1 else ""
    twice = ", each twice (--check-determinism)" if args.check_determinism else ""
    output.start(
        len(jobs),
        f"running {_count(len(jobs), 'run')}: {_count(len(loaded), 'scenario')}, "
        f"{asked}{shard_text}{twice}",
    )
    scenarios = {str(Path(item.file).resolve()): item.scenario for item in loaded}
    workers = min(args.workers, max(1, len(jobs)))
    interrupted = False
    try:
        runs = _run_jobs(jobs, scenarios, workers, output)
    except _Interrupted as stop:
        runs, interrupted = stop.entries, True
    finally:
        output.stop(workers)
    summary = summarize(entries, runs)
    journal = _journal(
        argv, determinism=args.check_determinism, shard=shard, scenarios=entries, runs=runs
    )
    _write_outputs(journal, summary, journal_path, junit_path)
    output.summary(summary, ranges=[_shard_range(e.seeds, shard) for e in entries])
    _say_outputs(output, journal_path, junit_path)
    if interrupted:
        files = [
            what for what, path in (("journal", journal_path), ("JUnit file", junit_path)) if path
        ]
        kept = (
            f" (the {' and '.join(files)} hold{'' if len(files) > 1 else 's'} them)"
            if files
            else ""
        )
        _err(
            f"interrupted: {len(runs)} of {_count(len(jobs), 'run')} completed{kept}; "
            "the rest did not run"
        )
        return EXIT_INTERRUPTED
    return summary.exit_code


def _shard_range(seeds: tuple[int, int], shard: Shard) -> str:
    text = _seeds_text(seeds)
    return text if shard.count == 1 else f"{text} (shard {shard})"


def _write_outputs(
    journal: Journal, summary: Summary, journal_path: Path | None, junit_path: Path | None
) -> None:
    """Write the journal and the JUnit file (before the summary is printed:
    a closed pipe on stdout loses no file)."""
    if journal_path is not None:
        _write(journal_path, dumps_journal(journal), "--journal")
    if junit_path is not None:
        xml = junit_xml(journal.runs, summary, determinism=journal.check_determinism)
        _write(junit_path, xml, "--junit")


def _say_outputs(output: Output, journal_path: Path | None, junit_path: Path | None) -> None:
    if output.mode == "quiet":
        return
    for what, path in (("journal", journal_path), ("junit", junit_path)):
        if path is not None:
            output.line(f"{what}: {path}")


# -- validate ------------------------------------------------------------------------


def _describe(scenario: Scenario) -> str:
    generators = sum(isinstance(f, RandomFaults) for f in scenario.plan.faults)
    faults = _count(len(scenario.plan) - generators, "fault")
    if generators:
        faults += f" and {_count(generators, 'generator')}"
    checks = (
        len(BUILTIN_CHECKS)
        - len(scenario.disable)
        + len(scenario.checks)
        + len(scenario.metric_checks)
    )
    return f"{scenario.name}, seed {scenario.seed}, {faults}, {_count(checks, 'check')}"


def _cmd_validate(args: argparse.Namespace, console: Console) -> int:
    code = EXIT_OK
    for file in args.files:
        try:
            scenario = load_scenario(file)
        except ScenarioError as exc:
            _err(str(exc))
            code = EXIT_USAGE
            continue
        console.print(f"{file}: ok ({_describe(scenario)})", soft_wrap=True)
    return code


# -- replay and shrink ---------------------------------------------------------------


def _scenario_of(journal_file: str, journal: Journal, run: RunEntry, *, force: bool) -> Scenario:
    """The scenario a run of ``journal`` ran, refusing one whose file changed."""
    entry = journal.scenario(run.scenario)
    try:
        scenario = load_scenario(run.file)
        sha = _sha256(run.file)
    except ScenarioError as exc:
        if not Path(run.file).exists():
            raise CliError(
                f"{exc}\n(the journal {journal_file} names {run.file} from the directory its "
                "run started in: run this command there)"
            ) from None
        raise
    if scenario.name != run.scenario:
        raise CliError(
            f"{run.file} now holds the scenario {scenario.name!r}, not {run.scenario!r}, whose "
            f"runs {journal_file} recorded: restore the file (--force replays a changed "
            "version of a scenario, not another scenario)"
        )
    if sha != entry.sha256 and not force:
        raise CliError(
            f"{run.file} changed since {journal_file} was written (sha256 {sha[:12]}, the "
            f"journal's {entry.sha256[:12]}): its runs would not be reproduced. Restore the "
            "file, or pass --force to run it anyway."
        )
    return scenario


def _plan_of(journal_file: str, run: RunEntry, index: int) -> FaultPlan:
    try:
        return FaultPlan.from_dict(run.plan, source=f"$.runs[{index}].plan")
    except InvalidPlanError as exc:
        raise JournalError(journal_file, exc.errors, heading="invalid journal") from None


def _pick(journal: Journal, seed: int | None, file: str) -> list[tuple[int, RunEntry]]:
    runs = list(enumerate(journal.runs))
    if seed is None:
        return [(i, r) for i, r in runs if not r.ok]
    picked = [(i, r) for i, r in runs if r.seed == seed]
    if not picked:
        raise CliError(
            f"{file} has no run of seed {seed}; its seeds: "
            f"{_seed_list(r.seed for r in journal.runs)}"
        )
    return picked


def _cmd_replay(args: argparse.Namespace, console: Console) -> int:
    journal = read_journal(args.journal)
    picked = _pick(journal, args.seed, args.journal)
    if not picked:
        console.print(
            f"nothing to replay: every run in {args.journal} passed (--seed N replays one)",
            soft_wrap=True,
        )
        return EXIT_OK
    code = EXIT_OK
    for index, run in picked:
        scenario = _scenario_of(args.journal, journal, run, force=args.force)
        if run.nondeterminism is not None:
            console.print(f"replaying {run.scenario} seed={run.seed} twice", soft_wrap=True)
            try:
                scenario.check_determinism(run.seed)
            except NondeterminismError as exc:
                console.print(str(exc), soft_wrap=True)
                code = EXIT_NONDETERMINISM
            else:
                console.print("the two runs matched this time", soft_wrap=True)
            continue
        if run.plan is None:  # the system did not start
            console.print(f"replaying {run.scenario} seed={run.seed}", soft_wrap=True)
            try:
                report = scenario.run(run.seed)
            except ChaosError as exc:
                console.print(f"{exc}", soft_wrap=True)
                code = max(code, EXIT_USAGE)
                continue
            console.print(report.explain(), soft_wrap=True)
            console.print(f"the system started this time; the journal has: {run.error}")
            code = max(code, EXIT_OK if report.ok else EXIT_FAILED)
            continue
        plan = _plan_of(args.journal, run, index)
        console.print(
            f"replaying {run.scenario} seed={run.seed} ({run.file}) with the journal's "
            f"plan ({_count(len(plan), 'fault')})",
            soft_wrap=True,
        )
        report = scenario.run(run.seed, plan=plan)
        console.print(report.explain(), soft_wrap=True)
        if report.digest != run.digest:
            console.print(
                f"NOT REPRODUCED: digest {report.digest[:12]}, the journal's "
                f"{(run.digest or '')[:12]}: the replay differs from the recorded run",
                soft_wrap=True,
            )
            code = max(code, EXIT_NONDETERMINISM)
        else:
            console.print(f"reproduced: digest {report.digest[:12]} as recorded", soft_wrap=True)
            code = max(code, EXIT_OK if report.ok else EXIT_FAILED)
    return code


def _cmd_shrink(args: argparse.Namespace, console: Console) -> int:
    journal = read_journal(args.journal)
    candidates = [(i, r) for i, r in enumerate(journal.runs) if r.plan is not None and r.failures]
    if args.seed is not None:
        _pick(journal, args.seed, args.journal)  # the seed is in the journal
        candidates = [(i, r) for i, r in candidates if r.seed == args.seed]
        if not candidates:
            raise CliError(
                f"the run of seed {args.seed} in {args.journal} failed no check: nothing to shrink"
            )
    elif not candidates:
        raise CliError(f"no run in {args.journal} failed a check: nothing to shrink")
    index, run = candidates[0]
    _distinct_outputs(
        [("-o", args.output)],
        [("the journal", args.journal), ("the scenario file", run.file)],
    )
    scenario = _scenario_of(args.journal, journal, run, force=args.force)
    plan = _plan_of(args.journal, run, index)
    target = _output(args.output, "-o")
    failed = tuple(c.name for c in run.failures)
    names = frozenset(failed)
    report = scenario.run(run.seed, plan=plan)
    if report.digest != run.digest and not args.force:
        _err(
            f"the run of seed {run.seed} was not reproduced (digest {report.digest[:12]}, the "
            f"journal's {(run.digest or '')[:12]}): {PROG} replay {shlex.quote(args.journal)} "
            f"--seed {run.seed} shows it"
        )
        return EXIT_NONDETERMINISM

    def fails(candidate: RunReport) -> bool:
        return frozenset(c.name for c in candidate.failures) == names

    def run_plan(candidate: FaultPlan) -> RunReport:
        return scenario.run(run.seed, plan=candidate)

    try:
        shrunk = shrink_plan(run_plan, plan, fails=fails, max_runs=args.max_runs)
    except ChaosError as exc:
        raise CliError(f"cannot shrink the run of seed {run.seed}: {exc}") from None
    counts = (
        f"{_count(len(plan), 'fault')} -> {_count(len(shrunk.plan), 'fault')} "
        f"in {_count(shrunk.runs, 'run')}"
    )
    failing = ", ".join(failed)
    comment = (
        f"{Path(run.file).name} seed {run.seed}, shrunk by `{PROG} shrink`: {counts}\n"
        f"fails: {failing}"
    )
    minimal = scenario.with_plan(shrunk.plan, seed=run.seed)
    text = minimal.to_yaml(
        directory=None if target is None else target.parent.resolve(), comment=comment
    )
    say: Callable[[str], None]
    if target is None:
        console.file.write(text)
        console.file.flush()
        say = _err
    else:
        _write(target, text, "-o")

        def say(line: str) -> None:
            console.print(line, soft_wrap=True)

    say(f"{run.scenario} seed={run.seed}: {counts}")
    if shrunk.exhausted:
        say(f"  (stopped at --max-runs {args.max_runs}: the plan may shrink further)")
    for i, fault in enumerate(shrunk.plan.faults):
        data = fault_to_dict(fault)
        kind = data.pop("kind")
        say(f"  #{i} {kind} " + " ".join(f"{k}={v}" for k, v in data.items()))
    say(f"  fails: {failing}")
    if target is not None:
        say(f"wrote {target}: {PROG} run {shlex.quote(str(target))} runs it")
    return EXIT_OK


# -- schema and new ------------------------------------------------------------------


def _cmd_schema(args: argparse.Namespace, console: Console) -> int:
    target = _output(args.output, "-o")
    text = json.dumps(scenario_schema(), indent=2) + "\n"
    if target is None:
        console.file.write(text)
    else:
        _write(target, text, "-o")
        console.print(f"wrote {target}", soft_wrap=True)
    return EXIT_OK


def _cmd_new(args: argparse.Namespace, console: Console) -> int:
    target = None
    if args.output is not None:
        if Path(args.output).exists() and not args.force:
            raise CliError(f"{args.output} exists; pass --force to overwrite it")
        target = _output(args.output, "-o")
    directory = Path.cwd() if target is None else target.parent
    text = new_scenario(args.system, directory=directory)
    if target is None:
        console.file.write(text)
    else:
        _write(target, text, "-o")
        console.print(f"wrote {target}: {PROG} run {shlex.quote(str(target))}", soft_wrap=True)
    return EXIT_OK


# -- merge ---------------------------------------------------------------------------


def _seed_list(seeds: Iterable[int], limit: int = 12) -> str:
    """``0-3, 7, 9-11``, cut after ``limit`` parts."""
    ordered = sorted(set(seeds))
    parts: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    if not parts:
        return "none"
    if len(parts) > limit:
        return ", ".join(parts[:limit]) + f", ... ({len(ordered)} in all)"
    return ", ".join(parts)


def _cmd_merge(args: argparse.Namespace, argv: Sequence[str], console: Console) -> int:
    journals: list[tuple[str, Journal]] = []
    bad = False
    for file in args.journals:
        try:
            journals.append((file, read_journal(file)))
        except JournalError as exc:
            _err(str(exc))
            bad = True
    if bad:
        return EXIT_USAGE
    problems: list[str] = []
    scenarios: dict[str, tuple[ScenarioEntry, str]] = {}
    for file, journal in journals:
        for entry in journal.scenarios:
            if entry.name not in scenarios:
                scenarios[entry.name] = (entry, file)
                continue
            first, where = scenarios[entry.name]
            if entry.sha256 != first.sha256:
                problems.append(
                    f"{entry.name}: {where} and {file} ran different versions of its file "
                    f"(sha256 {first.sha256[:12]} and {entry.sha256[:12]})"
                )
            if entry.seeds != first.seeds:
                problems.append(
                    f"{entry.name}: {where} asked for {_seeds_text(first.seeds)}, "
                    f"{file} for {_seeds_text(entry.seeds)}"
                )
    seen: dict[tuple[str, int], str] = {}
    runs: list[RunEntry] = []
    twice: dict[str, list[str]] = {}
    for file, journal in journals:
        for run in journal.runs:
            key = (run.scenario, run.seed)
            if key in seen:
                twice.setdefault(run.scenario, []).append(
                    f"seed {run.seed} (in {seen[key]} and {file})"
                )
                continue
            seen[key] = file
            runs.append(run)
    for name, runs_twice in twice.items():
        shown = ", ".join(runs_twice[:5])
        if len(runs_twice) > 5:
            shown += f", ... ({len(runs_twice)} in all)"
        problems.append(f"{name}: run twice: {shown}")
    counts = {journal.shard.count for _, journal in journals}
    for name, (entry, _) in scenarios.items():
        missing = [s for s in entry.seed_range if (name, s) not in seen]
        extra = [r.seed for r in runs if r.scenario == name and r.seed not in entry.seed_range]
        if missing:
            line = (
                f"{name}: {_count(len(missing), 'seed')} of {_seeds_text(entry.seeds)} "
                f"{'is' if len(missing) == 1 else 'are'} missing: {_seed_list(missing)}"
            )
            if len(counts) == 1:
                (count,) = counts
                have = {journal.shard.index for _, journal in journals}
                absent = [f"{k}/{count}" for k in range(count) if k not in have]
                if absent:
                    line += f" (no journal of shard {', '.join(absent)})"
            problems.append(line)
        if extra:
            problems.append(
                f"{name}: runs of seeds outside its {_seeds_text(entry.seeds)}: {_seed_list(extra)}"
            )
    _distinct_outputs(
        [("--journal", args.journal), ("--junit", args.junit)],
        [("the journal", file) for file, _ in journals],
    )
    if problems:
        _err(f"cannot merge {_count(len(journals), 'journal')}:")
        for line in problems[:20]:
            _err(f"  {line}")
        if len(problems) > 20:
            _err(f"  ... {len(problems) - 20} more")
        return EXIT_USAGE
    journal_path = _output(args.journal, "--journal")
    junit_path = _output(args.junit, "--junit")
    order = {name: i for i, name in enumerate(scenarios)}
    runs.sort(key=lambda r: (order[r.scenario], r.seed))
    entries = [entry for entry, _ in scenarios.values()]
    summary = summarize(entries, runs)
    merged = _journal(
        argv,
        determinism=all(j.check_determinism for _, j in journals),
        shard=Shard(),
        scenarios=entries,
        runs=runs,
    )
    _write_outputs(merged, summary, journal_path, junit_path)
    output = Output(console, _mode(args))
    if output.mode != "quiet":
        output.line(f"merged {_count(len(journals), 'journal')}: {_count(len(runs), 'run')}")
    output.summary(summary, ranges=[_seeds_text(e.seeds) for e in entries])
    _say_outputs(output, journal_path, junit_path)
    return summary.exit_code


# -- main ----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None, *, console: Console | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``) and return
    its exit code. ``console`` is where results go (default: standard output,
    a terminal or not); errors go to standard error."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _parser().parse_args(args_list)
    except SystemExit as exc:  # --help, --version, or a usage error (printed)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    out = make_console() if console is None else console
    try:
        if args.command == "run":
            return _cmd_run(args, args_list, out)
        if args.command == "validate":
            return _cmd_validate(args, out)
        if args.command == "replay":
            return _cmd_replay(args, out)
        if args.command == "shrink":
            return _cmd_shrink(args, out)
        if args.command == "schema":
            return _cmd_schema(args, out)
        if args.command == "new":
            return _cmd_new(args, out)
        return _cmd_merge(args, args_list, out)
    except (CliError, ScenarioError, JournalError) as exc:
        _err(str(exc))
        return EXIT_USAGE
    except _Exit as exc:
        return exc.code
    except BrokenPipeError:  # stdout was closed (| head) before the command was done
        discard_stdout()
        _err("standard output was closed before the command was done")
        return EXIT_USAGE
    except BaseException as exc:
        if not _is_interrupt(exc):
            raise
        _err("interrupted")
        return EXIT_INTERRUPTED
