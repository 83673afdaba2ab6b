"""``python -m chaos`` as a user runs it: a real process for each exit code
(0, 1, 2, 3), ``--workers 2`` (a process pool with the spawn start method)
giving the runs of one worker, and ``--help``.

The processes are started together (module fixture) and each test reads its
own: the file stays fast on a two-core machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import NamedTuple

import pytest
from docs_examples import EXAMPLES_DIR

from chaos._cli import main

DEMAND = EXAMPLES_DIR / "chaos_demand_tracker.yaml"
PLANTED = EXAMPLES_DIR / "planted_bug.yaml"


class Done(NamedTuple):
    code: int
    out: str
    err: str


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "NO_COLOR", "COLUMNS"):
        env.pop(name, None)
    return env


@pytest.fixture(scope="module")
def processes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Done]:
    """Every command of this file, started at once; name -> its exit code and output."""
    tmp = tmp_path_factory.mktemp("cli_processes")
    module = f"cli_flaky_{uuid.uuid4().hex[:8]}"
    (tmp / f"{module}.py").write_text(
        "import os\n\nimport trio\n\n\nasync def flaky() -> None:\n"
        "    await trio.sleep(0.5 + os.urandom(1)[0] / 256)\n"
    )
    (tmp / "flaky.yaml").write_text(
        textwrap.dedent(
            f"""\
            version: 1
            name: flaky
            duration: 2s
            system:
              max_restarts: 100
              children:
                - task: {module}:flaky
                  id: flaky
                  shutdown: 0
            """
        )
    )
    (tmp / "bad.yaml").write_text("version: 1\nname: bad\nsystem:\n  children:\n    - task: 7\n")
    commands: dict[str, list[object]] = {
        "workers": [
            "run", DEMAND, "--seeds", "0:6", "--workers", "2",
            "--journal", tmp / "workers.json", "--junit", tmp / "workers.xml",
        ],
        "planted": ["run", PLANTED],
        "bad": ["run", "bad.yaml"],
        "flaky": ["run", tmp / "flaky.yaml", "--check-determinism", "--quiet"],
        "help": ["--help"],
    }  # fmt: skip
    started = {
        name: subprocess.Popen(
            [sys.executable, "-m", "chaos", *map(str, argv)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp,
            env=_environment(),
        )
        for name, argv in commands.items()
    }
    done = {}
    for name, process in started.items():
        out, err = process.communicate(timeout=300)
        done[name] = Done(process.returncode, out, err)
    done["tmp"] = Done(0, str(tmp), "")
    return done


def test_workers_give_the_runs_of_one_worker(
    processes: dict[str, Done], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """--workers 2 (spawned processes, each with its own hash seed) runs the same
    seeds to the same verdicts, digests and JUnit as one worker in this process."""
    workers = processes["workers"]
    assert workers.code == 0, workers.err
    assert "with 2 workers" in workers.out
    serial = tmp_path / "serial.json"
    junit = tmp_path / "serial.xml"
    argv = ["run", str(DEMAND), "--seeds", "0:6", "--journal", str(serial), "--junit", str(junit)]
    assert main(argv) == 0
    capsys.readouterr()
    tmp = Path(processes["tmp"].out)
    parallel = json.loads((tmp / "workers.json").read_text())
    assert parallel["runs"] == json.loads(serial.read_text())["runs"]
    assert [run["seed"] for run in parallel["runs"]] == list(range(6))
    assert (tmp / "workers.xml").read_bytes() == junit.read_bytes()


def test_failing_run_exits_1_with_its_replay_command(processes: dict[str, Done]) -> None:
    """The planted bug: exit 1, and the command that replays the failing run."""
    planted = processes["planted"]
    assert planted.code == 1
    assert f"    python -m chaos run {PLANTED} --seed 3\n" in planted.out
    assert planted.out.endswith("FAILED: 1 of 1 run failed a check (exit 1)\n")
    assert planted.err == ""


def test_bad_scenario_exits_2_without_a_traceback(processes: dict[str, Done]) -> None:
    """An invalid file: exit 2, the loader's message on stderr, nothing else."""
    bad = processes["bad"]
    assert bad.code == 2
    assert bad.out == ""
    assert bad.err == (
        "bad.yaml: invalid scenario:\n"
        "  line 5: expected 'module:attr' (e.g. 'demand_tracker:DEMAND_TRACKER'), got an int 7 "
        "@ $.system.children[0].task\n"
        "  line 5: required key missing @ $.system.children[0].id\n"
    )


def test_nondeterminism_exits_3(processes: dict[str, Done]) -> None:
    """A system reading os.urandom differs between two runs of a seed: exit 3."""
    flaky = processes["flaky"]
    assert flaky.code == 3
    assert "  flaky seed=0: not deterministic: event #2 differs\n" in flaky.out
    assert "Traceback" not in flaky.err


def test_help_lists_commands_examples_and_exit_codes(processes: dict[str, Done]) -> None:
    """--help: every command, examples, the exit codes; exit 0."""
    help_text = processes["help"]
    assert help_text.code == 0
    assert help_text.out.startswith("usage: python -m chaos [-h] [--version] COMMAND ...\n")
    for command in ("run", "validate", "replay", "shrink", "schema", "new", "merge"):
        assert f"\n    {command} " in help_text.out
    assert "examples:\n  python -m chaos run docs/examples/chaos_demand_tracker.yaml\n" in (
        help_text.out
    )
    assert "exit codes: 0 every check held; 1 a check failed; 2 bad input or usage;" in (
        help_text.out
    )
