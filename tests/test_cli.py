"""The command line, in-process (``chaos._cli.main(argv)`` returns the exit
code): ``run`` and its seeds, shards, outputs and exit codes; ``validate``,
``schema``, ``new``; the journal and JUnit files; ``replay``, ``shrink`` and
``merge``; and every mistake a user can make ending in exit 2 with one clear
message, never a traceback.

True subprocesses (``python -m chaos``, ``--workers 2``) are in
``test_cli_subprocess.py``; Hypothesis throws malformed scenario files at the
CLI in ``test_cli_properties.py``; the examples of docs/cli.md are checked by
``test_cli_docs.py``.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import sys
import textwrap
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import attrs
import pytest
from docs_examples import EXAMPLES_DIR
from rich.console import Console

import chaos
from chaos._cli import _Job, _work, main
from chaos._journal import CheckEntry, RunEntry, ScenarioEntry, summarize
from chaos._junit import junit_xml

DEMAND = EXAMPLES_DIR / "chaos_demand_tracker.yaml"
PLANTED = EXAMPLES_DIR / "planted_bug.yaml"

#: A cheap scenario (an idle task under random kills: a few ms a run) that passes.
IDLE = """\
version: 1
name: idle
duration: 2s
quiet_period: 1s
system:
  max_restarts: 100
  children:
    - task: trio:sleep_forever
      id: idle
      shutdown: 0
faults:
  - random: {rate: 2, kinds: [kill], targets: [root/idle]}
"""

#: The same, with a bound that fails for the seeds whose plan kills more than twice.
BOUNDED = IDLE.replace("name: idle", "name: idle-bounded") + (
    "checks:\n  bounds:\n    - metric: restarts\n      max: 2\n"
)


#: A task that ends by itself at 1s (transient: not restarted) under random kills:
#: a kill after it ended misses, so faults_hit holds for some seeds only.
BRIEF = """\
version: 1
name: brief
duration: 2s
quiet_period: 1s
system:
  children:
    - task: trio:sleep
      id: brief
      args: [1]
      restart: transient
      shutdown: 0
faults:
  - random: {rate: 1, kinds: [kill], targets: [root/brief]}
"""


class Result(NamedTuple):
    code: int
    out: str
    err: str


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """rich reads these to force a terminal or colours: the tests choose."""
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "NO_COLOR", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    """``cli(*argv)``: run the CLI in-process; its exit code and output."""

    def run(*argv: object) -> Result:
        capsys.readouterr()
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        return Result(code, out, err)

    return run


@pytest.fixture
def fresh_modules(tmp_path: Path) -> Iterator[None]:
    """Forget the modules a test imported from its own tmp directory (and only those)."""
    yield
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(str(tmp_path)):
            del sys.modules[name]


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def journal(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def unique(prefix: str) -> str:
    """A module name no other test uses (sys.modules is per process)."""
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


# -- run: verdicts and exit codes ------------------------------------------------------


def test_passing_scenario_exits_0_with_a_table_per_scenario_and_check(cli: Any) -> None:
    """A bundled scenario that holds exits 0; the summary tallies every check."""
    result = cli("run", DEMAND, "--seeds", "0:2", "--quiet")
    assert result.code == 0
    assert result.err == ""
    lines = result.out.splitlines()
    assert lines[0] == f"demand-tracker-survives ({DEMAND}), seeds 0:2: 2 runs, 0 failed"
    assert lines[1].split() == ["check", "kind", "pass", "fail", "unknown"]
    rows = {line.split("  ")[0]: line.split() for line in lines[3:19]}
    assert rows["demand in range"][-5:] == ["always", "2", "0", "0", "ok"]
    assert rows["few dead letters"][-5:] == ["bound", "2", "0", "0", "ok"]
    assert lines[-1] == "OK: 2 runs, every check held"
    assert "python -m chaos run" not in result.out


def test_failing_run_exits_1_and_prints_the_command_that_replays_it(cli: Any) -> None:
    """The planted bug fails at the file's seed (3); the summary lists it with the
    command that replays it."""
    result = cli("run", PLANTED)
    assert result.code == 1
    out = result.out
    assert out.startswith("running 1 run: 1 scenario, each file's seed\n")
    assert "FAIL ledger-planted-bug seed=3: each order booked once, books balance\n" in out
    assert (
        "failing runs (each line after one replays it):\n"
        "  ledger-planted-bug seed=3: each order booked once, books balance\n"
        f"    python -m chaos run {PLANTED} --seed 3\n"
    ) in out
    assert out.endswith("FAILED: 1 of 1 run failed a check (exit 1)\n")
    assert re.search(r"^ran 1 run in \d+\.\d\ds \(.* runs/s\) with 1 worker$", out, re.M)


def test_the_replay_command_reproduces_the_failing_run(cli: Any, tmp_path: Path) -> None:
    """Running the printed command gives the same run (same digest) as the sweep did."""
    sweep = tmp_path / "sweep.json"
    assert cli("run", PLANTED, "--seeds", "5:7", "--journal", sweep, "-q").code == 1
    (_, second) = journal(sweep)["runs"]
    argv = second["replay"].split()[3:]
    assert argv == ["run", str(PLANTED), "--seed", "6"]
    again = tmp_path / "again.json"
    assert cli(*argv, "--journal", again, "-q").code == 1
    assert journal(again)["runs"][0]["digest"] == second["digest"]


def test_sometimes_check_fails_the_suite_only_if_it_never_held(cli: Any, tmp_path: Path) -> None:
    """A sometimes check that failed in some seeds is coverage (exit 0); one that
    held in no seed of its scenario is a failure (exit 1)."""
    path = write(tmp_path / "brief.yaml", BRIEF)
    result = cli("run", path, "--seeds", "0:8", "--journal", tmp_path / "j.json", "-q")
    runs = journal(tmp_path / "j.json")["runs"]
    verdicts = [{c["name"]: c["verdict"] for c in r["checks"]}["faults_hit"] for r in runs]
    assert all(r["ok"] for r in runs)
    assert "pass" in verdicts
    assert "fail" in verdicts
    assert result.code == 0
    assert re.search(r"^faults_hit +sometimes +2 +5 +1 +ok \(coverage\)", result.out, re.M)
    missed = cli("run", path, "--seed", verdicts.index("fail"), "-q")
    assert missed.code == 1
    assert re.search(r"^faults_hit +sometimes +0 +1 +0 +FAIL: never held", missed.out, re.M)
    assert "  brief: the sometimes check 'faults_hit' held in no run\n" in missed.out
    assert missed.out.endswith("FAILED: a sometimes check held in none of 1 run (exit 1)\n")


def test_nondeterministic_system_exits_3_naming_the_first_differing_event(
    cli: Any, tmp_path: Path, fresh_modules: None
) -> None:
    """--check-determinism runs each seed twice; a system reading the OS's
    randomness differs, and the summary names the event where it did."""
    module = unique("cli_flaky")
    write(
        tmp_path / f"{module}.py",
        """\
        import os

        import trio


        async def flaky() -> None:
            await trio.sleep(0.5 + os.urandom(1)[0] / 256)
        """,
    )
    path = write(
        tmp_path / "flaky.yaml",
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
        """,
    )
    assert cli("run", path, "-q").code == 0  # one run cannot tell
    result = cli("run", path, "--check-determinism", "--journal", tmp_path / "j.json", "-q")
    assert result.code == 3
    assert "  flaky seed=0: not deterministic: event #2 differs\n" in result.out
    assert re.search(
        r"^      first run:  \d\.\d+ child\.exited root/flaky reason=normal restart=True\n"
        r"      second run: \d\.\d+ child\.exited root/flaky reason=normal restart=True\n"
        rf"    python -m chaos run {re.escape(str(path))} --seed 0 --check-determinism$",
        result.out,
        re.M,
    )
    assert result.out.endswith("NOT DETERMINISTIC: 1 of 1 run differed between two runs (exit 3)\n")
    (run,) = journal(tmp_path / "j.json")["runs"]
    assert run["ok"] is False
    assert run["nondeterminism"]["index"] == 2
    assert run["digest"] is None
    replay = cli("replay", tmp_path / "j.json")
    assert replay.code == 3
    assert replay.out.startswith(
        "replaying flaky seed=0 twice\nthe same seed gave two different runs: event #2 differs\n"
    )


def test_deterministic_runs_pass_the_determinism_check(cli: Any, tmp_path: Path) -> None:
    """--check-determinism on a deterministic scenario exits 0, and JUnit gets a
    passing determinism testcase per seed."""
    path = write(tmp_path / "idle.yaml", IDLE)
    xml = tmp_path / "j.xml"
    result = cli("run", path, "--seeds", "0:3", "--check-determinism", "--junit", xml, "-q")
    assert result.code == 0
    cases = ET.parse(xml).getroot().findall("testsuite/testcase[@name='determinism']")
    assert len(cases) == 3
    assert all(len(case) == 0 for case in cases)


def test_a_system_that_cannot_start_exits_2(cli: Any, tmp_path: Path, fresh_modules: None) -> None:
    """A run that cannot be made (the system does not start) is listed with its
    error, written to JUnit as an error, and makes the exit code 2."""
    module = unique("cli_refuses")
    write(
        tmp_path / f"{module}.py",
        """\
        import trio


        async def refuses(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
            raise RuntimeError("cannot start")
        """,
    )
    path = write(
        tmp_path / "refuses.yaml",
        f"""\
        version: 1
        name: refuses
        system:
          children:
            - task: {module}:refuses
              id: refuses
        """,
    )
    result = cli("run", path, "--junit", tmp_path / "j.xml", "-q")
    assert result.code == 2
    assert (
        "  refuses seed=0: the system did not start: RuntimeError: cannot start\n"
        f"    python -m chaos run {path} --seed 0\n"
    ) in result.out
    assert "  no check was judged (no run made it to a verdict)\n" in result.out
    assert result.out.endswith("ERROR: 1 of 1 run could not be made (exit 2)\n")
    (error,) = ET.parse(tmp_path / "j.xml").getroot().iter("error")
    assert error.get("message") == "the system did not start: RuntimeError: cannot start"
    cli("run", path, "--journal", tmp_path / "j.json", "-q")
    replay = cli("replay", tmp_path / "j.json")
    assert replay.code == 2
    assert replay.out == (
        "replaying refuses seed=0\nthe system did not start: RuntimeError: cannot start\n"
    )


# -- run: seeds and shards --------------------------------------------------------------


def test_seeds_are_half_open_and_seed_overrides_the_file(cli: Any, tmp_path: Path) -> None:
    """--seeds A:B runs A..B-1; --seed N runs N; neither: the file's seed."""
    path = write(tmp_path / "idle.yaml", IDLE.replace("name: idle", "name: idle\nseed: 9"))
    for flags, seeds in [(["--seeds", "2:5"], [2, 3, 4]), (["--seed", "7"], [7]), ([], [9])]:
        cli("run", path, *flags, "--journal", tmp_path / "j.json", "-q")
        assert [r["seed"] for r in journal(tmp_path / "j.json")["runs"]] == seeds


@pytest.mark.parametrize("count", [1, 2, 3, 7])
def test_shards_partition_the_seeds_exactly(cli: Any, tmp_path: Path, count: int) -> None:
    """The shards K/N, K = 0..N-1, run every seed of the range once: shard K keeps
    the seeds with seed % N == K."""
    path = write(tmp_path / "idle.yaml", IDLE)
    seen: list[int] = []
    for index in range(count):
        out = tmp_path / f"shard-{index}.json"
        assert (
            cli(
                "run",
                path,
                "--seeds",
                "3:20",
                "--shard",
                f"{index}/{count}",
                "--journal",
                out,
                "-q",
            ).code
            == 0
        )
        data = journal(out)
        assert data["shard"] == {"index": index, "count": count}
        assert data["scenarios"][0]["seeds"] == [3, 20]
        shard_seeds = [r["seed"] for r in data["runs"]]
        assert all(seed % count == index for seed in shard_seeds)
        seen += shard_seeds
    assert sorted(seen) == list(range(3, 20))


def test_a_shard_keeps_its_seeds_when_scenarios_are_added(cli: Any, tmp_path: Path) -> None:
    """Shards select seeds, not jobs: adding a scenario does not move the first one's seeds."""
    idle = write(tmp_path / "idle.yaml", IDLE)
    other = write(tmp_path / "bounded.yaml", BOUNDED)
    cli("run", idle, "--seeds", "0:9", "--shard", "1/3", "--journal", tmp_path / "a.json", "-q")
    cli(
        "run",
        other,
        idle,
        "--seeds",
        "0:9",
        "--shard",
        "1/3",
        "--journal",
        tmp_path / "b.json",
        "-q",
    )
    alone = [(r["scenario"], r["seed"]) for r in journal(tmp_path / "a.json")["runs"]]
    both = [(r["scenario"], r["seed"]) for r in journal(tmp_path / "b.json")["runs"]]
    assert alone == [("idle", 1), ("idle", 4), ("idle", 7)]
    assert both == [(name, seed) for name in ("idle-bounded", "idle") for seed in (1, 4, 7)]


def test_an_empty_shard_runs_nothing_and_exits_0(cli: Any, tmp_path: Path) -> None:
    """A shard that holds none of the seeds asked for makes no run, and says so."""
    path = write(tmp_path / "idle.yaml", IDLE)
    result = cli("run", path, "--seed", "4", "--shard", "1/4", "--journal", tmp_path / "j.json")
    assert result.code == 0
    assert result.out.startswith("running 0 runs: 1 scenario, seed 4, shard 1/4\n")
    assert "  no check was judged (no run made it to a verdict)\n" in result.out
    assert journal(tmp_path / "j.json")["runs"] == []


def test_workers_give_the_runs_of_one_worker(cli: Any, tmp_path: Path) -> None:
    """--workers 2 (a spawn process pool, started from this process) gives the
    runs, summary and JUnit file of one worker."""
    idle = write(tmp_path / "idle.yaml", IDLE)
    bounded = write(tmp_path / "bounded.yaml", BOUNDED)
    outputs = {}
    for workers in ("1", "2"):
        journal_path, junit_path = tmp_path / f"w{workers}.json", tmp_path / f"w{workers}.xml"
        result = cli(
            "run", idle, bounded, "--seeds", "0:8", "--workers", workers,
            "--journal", journal_path, "--junit", junit_path, "-q",
        )  # fmt: skip
        outputs[workers] = (result, journal(journal_path)["runs"], junit_path.read_bytes())
    (one, runs_one, junit_one), (two, runs_two, junit_two) = outputs["1"], outputs["2"]
    assert two == one
    assert runs_two == runs_one
    assert [(r["scenario"], r["seed"]) for r in runs_two] == [
        (name, seed) for name in ("idle", "idle-bounded") for seed in range(8)
    ]
    assert junit_two == junit_one


def test_a_worker_loads_each_file_once_and_reports_one_it_cannot_load(tmp_path: Path) -> None:
    """A worker's job names its file: the file is loaded once per process, and one
    that no longer loads (changed or removed since the run began) is that run's error."""
    path = write(tmp_path / "idle.yaml", IDLE)
    job = _Job(0, str(path), "idle.yaml", "idle", 3, determinism=False, explain=False)
    entry, explain = _work(job)
    assert (entry.seed, entry.ok, explain) == (3, True, None)
    path.unlink()
    again, _ = _work(attrs.evolve(job, seed=4))
    assert again.ok  # loaded once: the removal does not matter any more
    gone, _ = _work(attrs.evolve(job, path=str(tmp_path / "gone.yaml")))
    assert gone.error == f"{tmp_path}/gone.yaml: cannot read the file:\n  No such file or directory"
    assert gone.replay == "python -m chaos run idle.yaml --seed 3"


# -- run: what is shown ----------------------------------------------------------------


def test_plain_progress_lines_when_the_output_is_not_a_terminal(cli: Any, tmp_path: Path) -> None:
    """Not a terminal: a plain progress line every tenth of the runs, a line per
    failing run as it comes, and no escape codes."""
    path = write(tmp_path / "bounded.yaml", BOUNDED)
    result = cli("run", path, "--seeds", "0:20", "--journal", tmp_path / "j.json")
    progress = re.findall(
        r"^(\d+)/20 runs, (\d+) failed, [\d.]+ runs/s, ETA \d+s$", result.out, re.M
    )
    assert [int(done) for done, _ in progress] == list(range(2, 21, 2))
    failing = [r["seed"] for r in journal(tmp_path / "j.json")["runs"] if not r["ok"]]
    assert failing
    assert int(progress[-1][1]) == len(failing)
    fail_lines = re.findall(r"^FAIL idle-bounded seed=(\d+): restarts <= 2", result.out, re.M)
    assert [int(seed) for seed in fail_lines] == failing
    assert "\x1b[" not in result.out
    assert result.code == 1


def test_quiet_prints_only_the_summary(cli: Any, tmp_path: Path) -> None:
    """--quiet: no heading, no progress, no timing: the tables, failing runs and verdict."""
    path = write(tmp_path / "bounded.yaml", BOUNDED)
    result = cli("run", path, "--seeds", "0:20", "--quiet")
    assert result.out.startswith(f"idle-bounded ({path}), seeds 0:20: 20 runs, ")
    assert "runs/s" not in result.out
    assert "FAIL idle-bounded" not in result.out
    assert "\nfailing runs (each line after one replays it):\n" in result.out


def test_verbose_prints_a_line_per_run_and_explains_failures(cli: Any, tmp_path: Path) -> None:
    """--verbose: a line per run with its digest, and RunReport.explain() for a failing one."""
    path = write(tmp_path / "bounded.yaml", BOUNDED)
    result = cli("run", path, "--seeds", "0:3", "--verbose", "--journal", tmp_path / "j.json")
    runs = journal(tmp_path / "j.json")["runs"]
    for run in runs:
        status = "ok  " if run["ok"] else "FAIL"
        assert f"{status} idle-bounded seed={run['seed']} digest={run['digest'][:12]}" in result.out
    failing = [run for run in runs if not run["ok"]]
    assert failing
    assert result.out.count("chaos run seed=") == len(failing)
    assert f"  digest: {failing[0]['digest']}\n" in result.out


def test_terminal_shows_rich_progress_and_a_styled_summary(tmp_path: Path) -> None:
    """On a terminal (rich's Console forced to one), progress is a live bar with
    the runs done, failures, rate and time left; the summary is styled."""
    path = write(tmp_path / "bounded.yaml", BOUNDED)
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, force_interactive=True, width=120)
    code = main(["run", str(path), "--seeds", "0:12"], console=console)
    screen = buffer.getvalue()
    assert code == 1
    assert "\x1b[" in screen  # styled
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen)
    assert re.search(r"chaos ━+ 12/12 runs  \d+ failed [\d.]+ runs/s ETA", plain)
    assert "FAIL idle-bounded seed=" in plain
    assert "python -m chaos run" in plain
    assert "failing runs (each line after one replays it):" in plain


class ClosedPipe(io.StringIO):
    """Standard output after ``| head`` exited: every write fails."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_closed_stdout_silences_the_output_not_the_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With standard output closed the runs go on: the journal is written and the
    exit code is the runs' (rich's own default would exit 1 at once)."""
    path = write(tmp_path / "bounded.yaml", BOUNDED)
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    code = main(["run", str(path), "--seeds", "0:20", "--journal", str(tmp_path / "j.json")])
    runs = journal(tmp_path / "j.json")["runs"]
    assert len(runs) == 20
    assert code == (0 if all(r["ok"] for r in runs) else 1) == 1


# -- the journal and JUnit --------------------------------------------------------------


def test_journal_records_versions_command_scenarios_and_every_run(cli: Any, tmp_path: Path) -> None:
    """The journal: format and version first, tool/trio/Python versions, the command
    line, shard, each file's sha256 and seeds, and per run the concrete plan, fault
    records, checks, metrics, digest and replay command."""
    out = tmp_path / "j.json"
    cli("run", DEMAND, "--seeds", "0:2", "--journal", out, "-q")
    text = out.read_text(encoding="utf-8")
    data = json.loads(text)
    assert list(data)[:2] == ["format", "version"]
    assert (data["format"], data["version"]) == ("jido-trio-chaos-journal", 1)
    assert data["tool"] == f"jido-trio {chaos.__version__}"
    assert data["python"] == ".".join(map(str, sys.version_info[:3]))
    assert data["command"] == [
        "python -m chaos",
        "run",
        str(DEMAND),
        "--seeds",
        "0:2",
        "--journal",
        str(out),
        "-q",
    ]
    assert data["check_determinism"] is False
    assert data["shard"] == {"index": 0, "count": 1}
    assert data["scenarios"] == [
        {
            "file": str(DEMAND),
            "name": "demand-tracker-survives",
            "sha256": hashlib.sha256(DEMAND.read_bytes()).hexdigest(),
            "seeds": [0, 2],
        }
    ]
    assert len(text.splitlines()) == len(text.splitlines()[:-4]) + 4  # one line a run, then ]}
    scenario = chaos.load_scenario(DEMAND)
    for run in data["runs"]:
        report = scenario.run(run["seed"])
        assert run["plan"] == report.plan.to_dict()
        assert all(fault["kind"] != "random" for fault in run["plan"]["faults"])
        assert run["digest"] == report.digest
        assert run["faults"][0] == {
            "time": 5.0,
            "fault": 0,
            "kind": "kill",
            "path": "root/tracker",
            "effect": "killed",
            "hit": True,
        }
        assert [c["name"] for c in run["checks"]] == [c.name for c in report.checks]
        assert run["metrics"]["restarts"] == report.metrics["restarts"]
        assert run["replay"] == f"python -m chaos run {DEMAND} --seed {run['seed']}"
        assert (run["ok"], run["coverage_ok"], run["error"], run["nondeterminism"]) == (
            True,
            True,
            None,
            None,
        )
    swarm = write(tmp_path / "swarm.yaml", IDLE.replace("name: idle", "name: idle\nswarm: true"))
    cli("run", swarm, "--journal", out, "-q")
    assert journal(out)["runs"][0]["swarm"] == {"kinds": ["kill"], "targets": ["root/idle"]}


def test_junit_has_a_suite_per_scenario_and_seed_and_a_case_per_check(
    cli: Any, tmp_path: Path
) -> None:
    """JUnit: suites named <scenario>[seed=N] with seed, digest, plan and replay as
    properties; failures carry the detail and the replay command; unknown verdicts
    are skipped."""
    xml = tmp_path / "junit.xml"
    cli("run", PLANTED, "--seeds", "0:2", "--junit", xml, "--journal", tmp_path / "j.json", "-q")
    runs = journal(tmp_path / "j.json")["runs"]
    root = ET.parse(xml).getroot()
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [
        "ledger-planted-bug[seed=0]",
        "ledger-planted-bug[seed=1]",
    ]
    for suite, run in zip(suites, runs, strict=True):
        props = {p.get("name"): p.get("value") for p in suite.iter("property")}
        assert props["seed"] == str(run["seed"])
        assert props["digest"] == run["digest"]
        assert json.loads(props["plan"] or "") == run["plan"]
        assert props["replay"] == run["replay"]
        cases = suite.findall("testcase")
        assert [c.get("name") for c in cases] == [c["name"] for c in run["checks"]]
        assert {c.get("classname") for c in cases} == {"ledger-planted-bug"}
        (failure,) = suite.findall("testcase[@name='books balance']/failure")
        assert failure.get("message") == "ledger balance 510 != orders total 500"
        assert failure.get("type") == "eventually"
        assert failure.text == f"ledger balance 510 != orders total 500\n\nreplay: {run['replay']}"
        assert suite.get("tests") == str(len(cases))
        assert suite.get("failures") == "2"
    assert root.get("failures") == "4"


def test_junit_skips_unknown_verdicts(cli: Any, tmp_path: Path) -> None:
    """A check that could not be judged (no call to answer) is <skipped>, not passed."""
    xml = tmp_path / "junit.xml"
    cli("run", write(tmp_path / "idle.yaml", IDLE), "--junit", xml, "-q")
    (skipped,) = (
        ET.parse(xml).getroot().findall("testsuite/testcase[@name='requests_answered']/skipped")
    )
    assert skipped.get("message")
    assert ET.parse(xml).getroot().get("skipped") == "1"


def test_junit_replaces_characters_xml_cannot_hold() -> None:
    """A detail holding control characters (a corrupted message's) still makes
    well-formed XML: each is replaced, the rest kept and escaped."""
    check = CheckEntry("weird", "always", "fail", "bad \x00\x1b byte <&>")
    run = RunEntry.failed_to_run(scenario="s", file="s.yaml", seed=1, replay="r")
    run = attrs.evolve(run, checks=(check,))
    summary = summarize([ScenarioEntry("s.yaml", "s", "0" * 64, (1, 2))], [run])
    root = ET.fromstring(junit_xml([run], summary))
    (failure,) = root.iter("failure")
    assert failure.get("message") == "bad \ufffd\ufffd byte <&>"
    assert failure.text == "bad \ufffd\ufffd byte <&>\n\nreplay: r"


# -- output paths ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("dir", "cannot write --journal {p}: it is a directory; give a file name"),
        ("file/j.json", "cannot write --journal {p}: {tmp}/file is a file, not a directory"),
    ],
)
def test_unwritable_outputs_are_refused_before_any_run(
    cli: Any, tmp_path: Path, where: str, message: str
) -> None:
    """An output path that cannot be written is exit 2 with one line, before any run."""
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_text("x")
    target = tmp_path / where
    result = cli("run", PLANTED, "--journal", target)
    assert result.code == 2
    assert result.out == ""
    assert result.err == message.format(p=target, tmp=tmp_path) + "\n"


def test_output_directories_are_made(cli: Any, tmp_path: Path) -> None:
    """--journal and --junit make the directories they name."""
    path = write(tmp_path / "idle.yaml", IDLE)
    result = cli(
        "run", path, "--journal", tmp_path / "out/a/j.json", "--junit", tmp_path / "out/b/j.xml"
    )
    assert result.code == 0
    assert (tmp_path / "out/a/j.json").is_file()
    assert (tmp_path / "out/b/j.xml").is_file()
    assert result.out.endswith(f"journal: {tmp_path}/out/a/j.json\njunit: {tmp_path}/out/b/j.xml\n")


# -- bad input ---------------------------------------------------------------------------


def test_invalid_scenarios_are_each_reported_and_nothing_runs(cli: Any, tmp_path: Path) -> None:
    """Every invalid file is reported (the loader's one-screen message), then exit 2."""
    bad = write(tmp_path / "bad.yaml", "version: 1\nname: x\nduration: soon\nsystem: {}\n")
    result = cli("run", PLANTED, bad, tmp_path / "missing.yaml")
    assert result.code == 2
    assert result.out == ""
    assert result.err == (
        f"{bad}: invalid scenario:\n"
        "  line 3: expected a duration: seconds >= 0 as a number, or a string such as '250ms', "
        "'30s', '5m' or '1h'; got a string 'soon' @ $.duration\n"
        f"{tmp_path}/missing.yaml: cannot read the file:\n"
        "  No such file or directory\n"
    )


def test_two_scenarios_with_one_name_are_refused(cli: Any, tmp_path: Path) -> None:
    """Names identify scenarios in journals and JUnit: two files with one name is exit 2."""
    first = write(tmp_path / "a.yaml", IDLE)
    second = write(tmp_path / "b.yaml", IDLE)
    result = cli("run", first, second)
    assert result.code == 2
    assert result.err == (
        f"two scenarios are named 'idle' ({first} and {second}): a name identifies a scenario "
        "in journals and JUnit; give one of them another name\n"
    )
    assert cli("run", first, first).err == f"{first} is named twice: give each scenario file once\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["run", "x.yaml", "--seed", "1", "--seeds", "0:3"],
            "argument --seeds: not allowed with argument --seed",
        ),
        (
            ["run", "x.yaml", "--seeds", "7"],
            "argument --seeds: expected A:B (the seeds A to B-1, e.g. 0:100), got '7'",
        ),
        (
            ["run", "x.yaml", "--seeds", "5:5"],
            "argument --seeds: '5:5' holds no seed: A:B runs the seeds A to B-1, "
            "so B must be greater than A",
        ),
        (
            ["run", "x.yaml", "--seed", "-1"],
            "argument --seed: expected a seed (an int >= 0), got '-1'",
        ),
        (
            ["run", "x.yaml", "--shard", "4/4"],
            "argument --shard: '4/4' is not a shard: K counts from 0, so K/N needs "
            "0 <= K < N (for N=4: 0/4 ... 3/4)",
        ),
        (
            ["run", "x.yaml", "--shard", "1/0"],
            "argument --shard: '1/0' is not a shard: N, the number of shards, is >= 1",
        ),
        (
            ["run", "x.yaml", "--shard", "two"],
            "argument --shard: expected K/N (shard K of N, K counted from 0: "
            "0/4 ... 3/4), got 'two'",
        ),
        (
            ["run", "x.yaml", "--workers", "0"],
            "argument --workers: expected a number of processes (an int >= 1), got '0'",
        ),
        (
            ["run", "x.yaml", "-q", "-v"],
            "argument -v/--verbose: not allowed with argument -q/--quiet",
        ),
        (["run"], "the following arguments are required: FILE"),
        (
            ["shrink", "j.json", "--max-runs", "0"],
            "argument --max-runs: expected a number of runs (an int >= 1), got '0'",
        ),
        (
            ["explode"],
            "argument COMMAND: invalid choice: 'explode' (choose from 'run', "
            "'validate', 'replay', 'shrink', 'schema', 'new', 'merge')",
        ),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_usage_errors_exit_2_with_the_fix(cli: Any, argv: list[str], message: str) -> None:
    """argparse mistakes: usage, the problem and where help is, on stderr; exit 2."""
    result = cli(*argv)
    assert result.code == 2
    assert result.out == ""
    assert result.err.startswith("usage: python -m chaos")
    assert f"error: {message}\n" in result.err
    assert result.err.endswith(" --help)\n")


def test_help_and_version(cli: Any) -> None:
    """--help shows every command, examples and the exit codes; --version the versions."""
    result = cli("--help")
    assert result.code == 0
    for word in (
        "run",
        "validate",
        "replay",
        "shrink",
        "schema",
        "new",
        "merge",
        "examples:",
        "exit codes: 0",
    ):
        assert word in result.out
    for command in ("run", "validate", "replay", "shrink", "schema", "new", "merge"):
        help_text = cli(command, "--help")
        assert help_text.code == 0
        assert "examples:\n  python -m chaos " + command in help_text.out
    version = cli("--version")
    assert version.code == 0
    assert version.out.startswith(f"python -m chaos (jido-trio) {chaos.__version__}; trio ")


# -- validate, schema, new ---------------------------------------------------------------


def test_validate_prints_a_line_per_file_and_exits_2_if_one_is_invalid(
    cli: Any, tmp_path: Path
) -> None:
    """validate: 'ok' with what the file holds, or the file's problems; exit 2 if any."""
    good = cli("validate", DEMAND, PLANTED)
    assert good.code == 0
    assert good.out == (
        f"{DEMAND}: ok (demand-tracker-survives, seed 42, 4 faults and 1 generator, 16 checks)\n"
        f"{PLANTED}: ok (ledger-planted-bug, seed 3, 5 faults, 13 checks)\n"
    )
    empty = write(tmp_path / "empty.yaml", "")
    bad = cli("validate", DEMAND, empty)
    assert bad.code == 2
    assert bad.out.startswith(f"{DEMAND}: ok")
    assert bad.err == (
        f"{empty}: invalid scenario:\n  the file is empty: a scenario is a YAML mapping that "
        "starts with 'version: 1' (python -m chaos new writes a starter)\n"
    )


def test_schema_prints_the_json_schema(cli: Any, tmp_path: Path) -> None:
    """schema prints chaos.scenario_schema() as JSON; -o writes it to a file."""
    result = cli("schema")
    assert result.code == 0
    assert json.loads(result.out) == chaos.scenario_schema()
    assert cli("schema", "-o", tmp_path / "s.json").out == f"wrote {tmp_path}/s.json\n"
    assert json.loads((tmp_path / "s.json").read_text()) == chaos.scenario_schema()


def test_new_writes_a_starter_that_runs(cli: Any, tmp_path: Path, fresh_modules: None) -> None:
    """new --system module -o FILE writes a starter for the module's agents (resolved
    next to FILE) that runs and passes; an existing FILE needs --force."""
    module = unique("cli_agents")
    write(
        tmp_path / f"{module}.py",
        """\
        import attrs

        from jido_trio import ActionResult, AgentDef, action


        @attrs.frozen
        class Count:
            n: int = 0


        @action("bump")
        def bump(state: Count, params: None) -> ActionResult[Count]:
            return ActionResult(Count(state.n + 1), result=state.n + 1)


        COUNTER = AgentDef("counter", Count, [bump], routes={"count.bump": "bump"})
        """,
    )
    target = tmp_path / "chaos_counter.yaml"
    result = cli("new", "--system", module, "-o", target)
    assert result.code == 0
    assert result.out == f"wrote {target}: python -m chaos run {target}\n"
    assert f"    - agent: {module}:COUNTER\n" in target.read_text()
    assert cli("run", target, "-q").code == 0
    again = cli("new", "-o", target)
    assert (again.code, again.err) == (2, f"{target} exists; pass --force to overwrite it\n")
    assert cli("new", "-o", target, "--force").code == 0
    assert "task: trio:sleep_forever" in target.read_text()


def test_new_prints_a_placeholder_starter_and_refuses_a_bad_system(cli: Any) -> None:
    """new alone prints the placeholder starter (it loads); an unknown --system is exit 2."""
    result = cli("new")
    assert result.code == 0
    assert chaos.loads_scenario(result.out).name == "starter"
    bad = cli("new", "--system", "no_such_module_for_cli:X")
    assert bad.code == 2
    assert bad.err.startswith(
        "--system: cannot start a scenario:\n  no module named 'no_such_module_for_cli'"
    )


# -- replay ------------------------------------------------------------------------------


@pytest.fixture
def planted_journal(cli: Any, tmp_path: Path) -> Path:
    """A journal of the planted bug (failing) and the demand tracker (passing), seeds 3 and 4."""
    out = tmp_path / "planted.json"
    assert cli("run", PLANTED, DEMAND, "--seeds", "3:5", "--journal", out, "-q").code == 1
    return out


def test_replay_reruns_the_failing_runs_and_checks_their_digests(
    cli: Any, planted_journal: Path
) -> None:
    """replay (no --seed) re-runs each failing run with its recorded plan: the same
    digest, the same failure (exit 1)."""
    runs = journal(planted_journal)["runs"]
    result = cli("replay", planted_journal)
    assert result.code == 1
    for run in runs[:2]:
        assert (
            f"replaying ledger-planted-bug seed={run['seed']} ({PLANTED}) "
            "with the journal's plan (5 faults)\n"
            f"chaos run seed={run['seed']}: FAILED (2 check(s));"
        ) in result.out
        assert f"reproduced: digest {run['digest'][:12]} as recorded\n" in result.out
    assert "demand-tracker-survives" not in result.out


def test_replay_seed_picks_the_runs_of_that_seed(cli: Any, planted_journal: Path) -> None:
    """replay --seed N replays that seed's runs, passing ones too."""
    result = cli("replay", planted_journal, "--seed", "4")
    assert result.code == 1
    assert result.out.count("reproduced: digest") == 2
    assert "replaying demand-tracker-survives seed=4" in result.out
    missing = cli("replay", planted_journal, "--seed", "9")
    assert (missing.code, missing.err) == (
        2,
        f"{planted_journal} has no run of seed 9; its seeds: 3-4\n",
    )


def test_replay_of_a_passing_journal_has_nothing_to_do(cli: Any, tmp_path: Path) -> None:
    """A journal with no failing run: replay says so and exits 0."""
    cli("run", write(tmp_path / "idle.yaml", IDLE), "--journal", tmp_path / "j.json", "-q")
    result = cli("replay", tmp_path / "j.json")
    assert result.code == 0
    assert (
        result.out
        == f"nothing to replay: every run in {tmp_path}/j.json passed (--seed N replays one)\n"
    )


def test_replay_refuses_a_changed_scenario_unless_forced(cli: Any, tmp_path: Path) -> None:
    """The scenario file's sha256 is in the journal: a changed file is exit 2 unless --force."""
    path = write(tmp_path / "bounded.yaml", BOUNDED)
    cli("run", path, "--seeds", "0:4", "--journal", tmp_path / "j.json", "-q")
    recorded = journal(tmp_path / "j.json")["scenarios"][0]["sha256"]
    path.write_text(BOUNDED + "# a comment\n")
    now = hashlib.sha256(path.read_bytes()).hexdigest()
    result = cli("replay", tmp_path / "j.json")
    assert result.code == 2
    assert result.err == (
        f"{path} changed since {tmp_path}/j.json was written (sha256 {now[:12]}, the journal's "
        f"{recorded[:12]}): its runs would not be reproduced. Restore the file, or pass --force "
        "to run it anyway.\n"
    )
    forced = cli("replay", tmp_path / "j.json", "--force")
    assert forced.code == 1
    assert "reproduced: digest" in forced.out
    shrink = cli("shrink", tmp_path / "j.json")
    assert (shrink.code, shrink.err) == (2, result.err)


def test_replay_that_differs_from_the_journal_exits_3(cli: Any, planted_journal: Path) -> None:
    """A replay whose digest is not the recorded one is exit 3, saying both digests."""
    data = journal(planted_journal)
    data["runs"][0]["digest"] = "0" * 64
    planted_journal.write_text(json.dumps(data))
    result = cli("replay", planted_journal, "--seed", "3")
    assert result.code == 3
    assert "NOT REPRODUCED: digest " in result.out
    assert ", the journal's 000000000000: the replay differs from the recorded run\n" in result.out


def test_replay_from_another_directory_says_where_to_run(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A journal names files as the run was given them; a replay elsewhere says where to run."""
    (tmp_path / "suite").mkdir()
    write(tmp_path / "suite" / "bounded.yaml", BOUNDED)
    monkeypatch.chdir(tmp_path)
    cli("run", "suite/bounded.yaml", "--seeds", "0:4", "--journal", "j.json", "-q")
    monkeypatch.chdir(tmp_path / "suite")
    result = cli("replay", "../j.json")
    assert result.code == 2
    assert result.err == (
        "suite/bounded.yaml: cannot read the file:\n  No such file or directory\n"
        "(the journal ../j.json names suite/bounded.yaml from the directory its run started in: "
        "run this command there)\n"
    )


# -- damaged journals ----------------------------------------------------------------------


def _damaged(good: dict[str, Any]) -> list[tuple[str, bytes | str, str]]:
    newer = {**good, "version": 2}
    no_format = {k: v for k, v in good.items() if k != "format"}
    missing = json.loads(json.dumps(good))
    del missing["runs"][0]["digest"]
    typed = json.loads(json.dumps(good))
    typed["runs"][0]["seed"] = "3"
    typed["shard"]["count"] = True
    stranger = json.loads(json.dumps(good))
    stranger["runs"][0]["scenario"] = "nobody"
    shard = json.loads(json.dumps(good))
    shard["shard"] = {"index": 5, "count": 2}
    return [
        ("empty", "", "not a chaos journal:\n  not valid JSON: Expecting value (line 1, column 1)"),
        (
            "truncated",
            json.dumps(good)[:200],
            "not a chaos journal:\n  not valid JSON: Unterminated string starting at",
        ),
        (
            "binary",
            b"\x89PNG\r\n\x1a\n\x00\xff",
            "not a chaos journal:\n  byte 0x89 at offset 0 is not UTF-8: a journal is JSON",
        ),
        (
            "a list",
            "[1, 2]",
            "not a chaos journal:\n  the top level is list; a journal is a JSON object",
        ),
        (
            "no format",
            json.dumps(no_format),
            "not a chaos journal:\n  the file has no 'format' key; a journal has "
            "'format': 'jido-trio-chaos-journal' (run --journal writes one)",
        ),
        (
            "other format",
            json.dumps({**good, "format": "junit"}),
            "not a chaos journal:\n  the file has 'format': 'junit'; a journal",
        ),
        (
            "newer",
            json.dumps(newer),
            "unsupported journal:\n  journal version 2 is newer than this tool reads (1): "
            "upgrade jido-trio to read it",
        ),
        (
            "version text",
            json.dumps({**good, "version": "1"}),
            "unsupported journal:\n  'version' is '1'; this tool reads journal version 1",
        ),
        (
            "missing key",
            json.dumps(missing),
            "invalid journal:\n  required field missing @ $.runs[0].digest",
        ),
        (
            "wrong types",
            json.dumps(typed),
            "invalid journal:\n  expected an int, got bool True @ $.shard.count\n"
            "  expected an int, got str '3' @ $.runs[0].seed\n",
        ),
        (
            "unknown scenario",
            json.dumps(stranger),
            "invalid journal:\n  run of scenario 'nobody', which $.scenarios does not "
            "list @ $.runs[0].scenario",
        ),
        (
            "bad shard",
            json.dumps(shard),
            "invalid journal:\n  shard 5/2 is not K/N with 0 <= K < N @ $.shard",
        ),
    ]


@pytest.mark.parametrize("command", ["replay", "shrink", "merge"])
def test_damaged_journals_are_one_clear_message(
    cli: Any, planted_journal: Path, tmp_path: Path, command: str
) -> None:
    """A missing, corrupt, foreign, newer or incomplete journal: exit 2 and one
    message naming the file and the problem, for every command that reads journals."""
    good = journal(planted_journal)
    missing = cli(command, tmp_path / "none.json")
    assert (missing.code, missing.err) == (
        2,
        f"{tmp_path}/none.json: cannot read the journal:\n  No such file or directory\n",
    )
    for name, content, message in _damaged(good):
        path = tmp_path / f"{name}.json"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        result = cli(command, path)
        assert result.code == 2, name
        assert result.out == "", name
        assert result.err.startswith(f"{path}: {message}"), (name, result.err)
        assert len(result.err.splitlines()) <= 22, name


def test_a_journal_plan_that_is_not_a_plan_is_reported(cli: Any, planted_journal: Path) -> None:
    """replay and shrink read a run's plan back: a damaged one is exit 2 with its $.path."""
    data = journal(planted_journal)
    data["runs"][0]["plan"] = {"faults": [{"kind": "explode", "target": "root/ledger"}]}
    planted_journal.write_text(json.dumps(data))
    for command in ("replay", "shrink"):
        result = cli(command, planted_journal)
        assert result.code == 2
        assert result.err.startswith(
            f"{planted_journal}: invalid journal:\n  unknown fault kind 'explode'"
        )
        assert "@ $.runs[0].plan.faults[0].kind\n" in result.err


# -- shrink ----------------------------------------------------------------------------------


def test_shrink_writes_a_minimal_regression_scenario(
    cli: Any, planted_journal: Path, tmp_path: Path
) -> None:
    """shrink -o FILE: the first failing run's plan, reduced while the same checks
    fail, written with its seed as a scenario that fails the same way."""
    target = tmp_path / "regressions" / "minimal.yaml"
    result = cli("shrink", planted_journal, "-o", target)
    assert result.code == 0
    lines = result.out.splitlines()
    assert re.fullmatch(r"ledger-planted-bug seed=3: 5 faults -> 1 fault in \d+ runs", lines[0])
    assert lines[1] == "  #0 duplicate target=root/ledger at=8.0 nth=3 source=root/orders"
    assert lines[2] == "  fails: each order booked once, books balance"
    assert lines[3] == f"wrote {target}: python -m chaos run {target} runs it"
    text = target.read_text()
    assert text.startswith(
        "# planted_bug.yaml seed 3, shrunk by `python -m chaos shrink`: "
        f"{lines[0].split(': ')[1]}\n"
        "# fails: each order booked once, books balance\nversion: 1\n"
    )
    minimal = chaos.load_scenario(target)
    assert minimal.seed == 3
    assert len(minimal.plan) == 1
    assert [c.name for c in minimal.run().failures] == ["each order booked once", "books balance"]
    rerun = cli("run", target, "-q")
    assert rerun.code == 1


def test_shrink_to_stdout_keeps_the_story_on_stderr(cli: Any, planted_journal: Path) -> None:
    """Without -o the scenario is stdout (to redirect) and what happened is stderr."""
    result = cli("shrink", planted_journal, "--seed", "4")
    assert result.code == 0
    assert chaos.loads_scenario(result.out, path=PLANTED).seed == 4
    assert result.err.startswith("ledger-planted-bug seed=4: 5 faults -> 1 fault in ")


def test_shrink_stops_at_max_runs(cli: Any, planted_journal: Path, tmp_path: Path) -> None:
    """--max-runs bounds the runs; a shrink cut short says the plan may shrink further."""
    result = cli("shrink", planted_journal, "--max-runs", "2", "-o", tmp_path / "m.yaml")
    assert result.code == 0
    assert "  (stopped at --max-runs 2: the plan may shrink further)\n" in result.out
    assert chaos.load_scenario(tmp_path / "m.yaml").run().failures


def test_shrink_needs_a_failing_run(cli: Any, planted_journal: Path, tmp_path: Path) -> None:
    """Nothing to shrink (a passing journal, a passing --seed) is exit 2, saying why."""
    ok = cli("shrink", planted_journal, "--seed", "4")
    assert ok.code == 0  # the planted bug fails at 4 too
    cli("run", write(tmp_path / "idle.yaml", IDLE), "--journal", tmp_path / "j.json", "-q")
    result = cli("shrink", tmp_path / "j.json")
    assert (result.code, result.err) == (
        2,
        f"no run in {tmp_path}/j.json failed a check: nothing to shrink\n",
    )
    seeded = cli("shrink", tmp_path / "j.json", "--seed", "0")
    assert (seeded.code, seeded.err) == (
        2,
        f"the run of seed 0 in {tmp_path}/j.json failed no check: nothing to shrink\n",
    )


def test_shrink_of_a_run_that_does_not_reproduce_exits_3(cli: Any, planted_journal: Path) -> None:
    """shrink first replays the run: a digest that differs from the journal's is exit 3."""
    data = journal(planted_journal)
    data["runs"][0]["digest"] = "f" * 64
    planted_journal.write_text(json.dumps(data))
    result = cli("shrink", planted_journal)
    assert result.code == 3
    assert result.err.startswith("the run of seed 3 was not reproduced (digest ")
    assert result.out == ""


# -- merge -----------------------------------------------------------------------------------


def _shards(
    cli: Any, tmp_path: Path, *paths: Path, count: int = 3, seeds: str = "0:12"
) -> list[Path]:
    out = []
    for index in range(count):
        target = tmp_path / f"shard-{index}.json"
        cli(
            "run",
            *paths,
            "--seeds",
            seeds,
            "--shard",
            f"{index}/{count}",
            "--journal",
            target,
            "-q",
        )
        out.append(target)
    return out


def test_merge_of_shards_is_the_unsharded_run(cli: Any, tmp_path: Path) -> None:
    """Merging the shards gives the runs, summary, exit code and JUnit of one unsharded run."""
    idle = write(tmp_path / "idle.yaml", IDLE)
    bounded = write(tmp_path / "bounded.yaml", BOUNDED)
    shards = _shards(cli, tmp_path, idle, bounded)
    whole = cli(
        "run",
        idle,
        bounded,
        "--seeds",
        "0:12",
        "--journal",
        tmp_path / "whole.json",
        "--junit",
        tmp_path / "whole.xml",
        "-q",
    )
    merged = cli(
        "merge",
        *reversed(shards),
        "--journal",
        tmp_path / "merged.json",
        "--junit",
        tmp_path / "merged.xml",
        "-q",
    )
    assert whole.code == merged.code == 1
    assert merged.out == whole.out
    assert journal(tmp_path / "merged.json")["runs"] == journal(tmp_path / "whole.json")["runs"]
    assert (tmp_path / "merged.xml").read_bytes() == (tmp_path / "whole.xml").read_bytes()
    loud = cli("merge", *shards)
    assert loud.out.startswith("merged 3 journals: 24 runs\n")


def test_merge_fails_when_a_seed_is_missing(cli: Any, tmp_path: Path) -> None:
    """A shard's journal left out: exit 2, naming the missing seeds and shard."""
    shards = _shards(cli, tmp_path, write(tmp_path / "idle.yaml", IDLE), count=4)
    result = cli("merge", shards[0], shards[1], shards[3])
    assert result.code == 2
    assert result.out == ""
    assert result.err == (
        "cannot merge 3 journals:\n"
        "  idle: 3 seeds of seeds 0:12 are missing: 2, 6, 10 (no journal of shard 2/4)\n"
    )


def test_merge_fails_when_a_seed_was_run_twice(cli: Any, tmp_path: Path) -> None:
    """The same shard twice (or overlapping shards): exit 2, naming the seeds and journals."""
    shards = _shards(cli, tmp_path, write(tmp_path / "idle.yaml", IDLE), count=2, seeds="0:4")
    result = cli("merge", *shards, shards[1])
    assert result.code == 2
    assert result.err == (
        "cannot merge 3 journals:\n"
        f"  idle: run twice: seed 1 (in {shards[1]} and {shards[1]}), "
        f"seed 3 (in {shards[1]} and {shards[1]})\n"
    )


def test_merge_fails_when_shards_ran_different_files_or_seeds(cli: Any, tmp_path: Path) -> None:
    """Shards of different versions of a file, or of different seed ranges, do not merge."""
    path = write(tmp_path / "idle.yaml", IDLE)
    first = _shards(cli, tmp_path, path, count=2, seeds="0:4")[0]
    path.write_text(IDLE + "# changed\n")
    cli("run", path, "--seeds", "0:6", "--shard", "1/2", "--journal", tmp_path / "other.json", "-q")
    result = cli("merge", first, tmp_path / "other.json")
    assert result.code == 2
    lines = result.err.splitlines()
    assert lines[0] == "cannot merge 2 journals:"
    assert lines[1].startswith(
        f"  idle: {first} and {tmp_path}/other.json ran different versions of its file (sha256 "
    )
    assert lines[2] == f"  idle: {first} asked for seeds 0:4, {tmp_path}/other.json for seeds 0:6"


def test_merge_exits_0_when_every_check_held(cli: Any, tmp_path: Path) -> None:
    """Passing shards merge to exit 0 with one summary."""
    shards = _shards(cli, tmp_path, write(tmp_path / "idle.yaml", IDLE), count=2, seeds="0:6")
    result = cli("merge", *shards, "-q")
    assert result.code == 0
    assert result.out.startswith(f"idle ({tmp_path}/idle.yaml), seeds 0:6: 6 runs, 0 failed\n")
    assert result.out.endswith("OK: 6 runs, every check held\n")


def test_a_closed_stdout_under_a_command_that_only_prints_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`schema | head -1`: a stdout closed under a command that only prints ends
    it with one line on stderr and exit 2, never a traceback."""
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    code = main(["schema"])
    err = capsys.readouterr().err
    assert code == 2
    assert "standard output was closed before the command was done" in err
    assert "Traceback" not in err
