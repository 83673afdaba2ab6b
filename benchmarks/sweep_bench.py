"""The CLI's seed sweep, for ``benchmarks/run.py`` (not run on its own).

``scenario_sweep`` times ``python -m chaos run
docs/examples/chaos_demand_tracker.yaml --seeds A:B`` as CI runs it: a
process of its own (``sys.executable``, from the repository root, standard
output a pipe, so the progress comes as plain lines), with ``--workers 1``
and ``--workers 2`` and a ``--journal``. Its sides (each returns
``{"total": wall seconds, "cpu": CPU seconds}``, as ``run.side_by_side``
expects):

- :meth:`Sweeps.in_process`, the baseline: the same seeds in this process, in
  a plain loop, ``scenario = chaos.load_scenario(path)`` then
  ``scenario.run(seed)`` for each seed (the load is timed too, once, as the
  CLI loads the file once);
- :meth:`Sweeps.cli`: the command with ``--workers N``;
- :meth:`Sweeps.startup`: ``python -m chaos validate FILE``, the command's
  fixed cost (the interpreter, the imports, one load of the file) with no run.

Every side proves it did the work: the loop checks each report passed; the
command must exit 0, and its journal (written afresh to a temporary
directory) must hold exactly the seeds asked for, each passed, with a digest.
:meth:`Sweeps.check_digests` then checks that every process gave every seed
the digest the loop gave it (determinism across processes and worker counts).

The clock is the wall clock (``time.perf_counter``) on every side, whatever
``--clock`` says: ``time.process_time`` does not see child processes. The CPU
seconds beside it are this process's ``process_time`` for the loop and the
children's (the command's and its workers') user + system time from
``resource.getrusage(RUSAGE_CHILDREN)`` for the command.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import chaos

ROOT = Path(__file__).resolve().parent.parent
#: as a user types it, from the repository root
SCENARIO = "docs/examples/chaos_demand_tracker.yaml"


class SweepFailed(RuntimeError):
    """A side did not do the work it was timed for."""


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask where the system
    has one, else ``os.cpu_count()``)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _environment() -> dict[str, str]:
    """This process's environment without what would make rich draw a
    terminal's progress bar into the pipe (a CI log has none of them)."""
    env = dict(os.environ)
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS"):
        env.pop(name, None)
    return env


class Sweeps:
    """The sides of one ``scenario_sweep`` measurement; journals go to
    ``directory``. Each side keeps the digests of its last sample, by label."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.digests: dict[str, dict[int, str]] = {}

    def in_process(self, seeds: range) -> dict[str, float]:
        """The baseline: ``chaos.load_scenario(path).run(seed)`` for each seed, here."""
        gc.collect()
        c0 = time.process_time()
        t0 = time.perf_counter()
        scenario = chaos.load_scenario(ROOT / SCENARIO)
        reports = [scenario.run(seed) for seed in seeds]
        t1 = time.perf_counter()
        c1 = time.process_time()
        bad = [r.seed for r in reports if not r.ok]
        if bad:
            raise SweepFailed(f"in-process runs of seeds {bad} failed a check")
        self.digests["in_process"] = {r.seed: r.digest for r in reports}
        return {"total": t1 - t0, "cpu": c1 - c0}

    def cli(self, seeds: range, workers: int, *, label: str | None = None) -> dict[str, float]:
        """``python -m chaos run SCENARIO --seeds A:B --workers N --journal J``,
        in a process of its own; checks its exit code and its journal."""
        label = label or f"workers_{workers}"
        journal = self.directory / f"{label}.json"
        journal.unlink(missing_ok=True)  # a stale journal proves nothing
        command = [
            *("-m", "chaos", "run", SCENARIO),
            *("--seeds", f"{seeds.start}:{seeds.stop}"),
            *("--workers", str(workers), "--journal", str(journal)),
        ]
        wall, cpu = self._time(command)
        self.digests[label] = self._read(journal, seeds, command)
        return {"total": wall, "cpu": cpu}

    def startup(self) -> dict[str, float]:
        """``python -m chaos validate SCENARIO``: the command's fixed cost."""
        wall, cpu = self._time(["-m", "chaos", "validate", SCENARIO])
        return {"total": wall, "cpu": cpu}

    def _time(self, command: list[str]) -> tuple[float, float]:
        gc.collect()
        c0 = _children_cpu()
        t0 = time.perf_counter()
        done = subprocess.run(
            [sys.executable, *command],
            cwd=ROOT,
            env=_environment(),
            capture_output=True,
            text=True,
            check=False,
        )
        t1 = time.perf_counter()
        c1 = _children_cpu()
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
            raise SweepFailed(
                f"python {' '.join(command)} exited {done.returncode}, not 0:\n{tail}"
            )
        return t1 - t0, c1 - c0

    def _read(self, journal: Path, seeds: range, command: list[str]) -> dict[int, str]:
        """The digests in ``journal``, after checking it holds one passed run
        of each seed asked for, and nothing else."""
        where = f"the journal of python {' '.join(command)}"
        try:
            data = json.loads(journal.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SweepFailed(f"{where}: {exc}") from None
        asked = [entry["seeds"] for entry in data["scenarios"]]
        if asked != [[seeds.start, seeds.stop]]:
            raise SweepFailed(f"{where} asked for {asked}, not [[{seeds.start}, {seeds.stop}]]")
        runs = data["runs"]
        ran = [run["seed"] for run in runs]
        if ran != list(seeds):
            raise SweepFailed(f"{where} holds {len(ran)} runs, not the {len(seeds)} seeds asked")
        bad = [run["seed"] for run in runs if not run["ok"] or not run["digest"]]
        if bad:
            raise SweepFailed(f"{where}: the runs of seeds {bad} failed or have no digest")
        return {run["seed"]: run["digest"] for run in runs}

    def check_digests(self) -> int:
        """Every side gave each seed it shares with the in-process loop the
        loop's digest; returns how many (side, seed) pairs were compared."""
        reference = self.digests["in_process"]
        compared = 0
        for label, digests in self.digests.items():
            if label == "in_process":
                continue
            shared = sorted(set(digests) & set(reference))
            if not shared:
                raise SweepFailed(f"{label} ran no seed of the in-process loop's")
            differ = [seed for seed in shared if digests[seed] != reference[seed]]
            if differ:
                seed = differ[0]
                raise SweepFailed(
                    f"{label}: {len(differ)} seed(s) gave another digest than in this "
                    f"process, first seed {seed}: {digests[seed][:12]} against "
                    f"{reference[seed][:12]}"
                )
            compared += len(shared)
        return compared
