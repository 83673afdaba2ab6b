"""A hostile user's input, each met with a clear error (exit 2 on the command
line) naming what was wrong and where, never a traceback, a hang or lost data.

Each test pins one mistake found by throwing bad input at ``python -m
chaos`` and at the library: Ctrl-C in the middle of a sweep, seed ranges
too large to run, output paths onto the command's own inputs, hand-edited
and mismatched journals, numbers too large for a float, fault times past the
window, generators that would make billions of faults, bounds that can never
hold, modules that exit on import, and the Python API's wrong arguments.
"""

from __future__ import annotations

import hashlib
import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

import chaos
from chaos import InvalidPlanError, ScenarioError
from chaos._cli import main

#: A cheap scenario: an idle task, one kill, no module of its own.
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
  - kind: kill
    target: root/idle
    at: 1s
"""

#: A scenario that fails a check (so a journal has a run to shrink).
BOUNDED = IDLE.replace("name: idle", "name: idle-bounded") + (
    "checks:\n  bounds:\n    - metric: restarts\n      max: 0\n"
)


class Result(NamedTuple):
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    """``cli(*argv)``: run the CLI in-process; its exit code and output (never a traceback)."""

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


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_errors(text: str, path: Path) -> tuple[str, ...]:
    """The error lines loading ``text`` (as the file ``path``) gives; it must fail."""
    with pytest.raises(ScenarioError) as info:
        chaos.loads_scenario(text, path=path)
    return info.value.errors


# -- Ctrl-C ----------------------------------------------------------------------------


def test_ctrl_c_keeps_the_completed_runs_in_the_journal_and_exits_130(
    cli: Any, tmp_path: Path, fresh_modules: None
) -> None:
    """Ctrl-C during a sweep (raised inside a run's trio.run) exits 130 with no
    traceback, and the journal and JUnit file hold every run that completed."""
    write(
        tmp_path / "stopper.py",
        """\
        calls = 0

        def third(view):
            global calls
            calls += 1
            if calls == 3:
                raise KeyboardInterrupt  # as Ctrl-C does, in the middle of a run
            return True
        """,
    )
    scenario = write(
        tmp_path / "s.yaml",
        IDLE + "checks:\n  eventually:\n    - predicate: stopper:third\n",
    )
    journal, junit = tmp_path / "out" / "j.json", tmp_path / "out" / "j.xml"
    result = cli("run", scenario, "--seeds", "0:10", "--journal", journal, "--junit", junit)
    assert result.code == 130
    assert result.err == (
        "interrupted: 2 of 10 runs completed (the journal and JUnit file hold them); "
        "the rest did not run\n"
    )
    data = json.loads(journal.read_text(encoding="utf-8"))
    assert [run["seed"] for run in data["runs"]] == [0, 1]
    assert data["scenarios"][0]["seeds"] == [0, 10]
    assert junit.read_text(encoding="utf-8").count("<testsuite ") == 2
    assert "idle (" in result.out
    assert "2 runs, 0 failed" in result.out


def test_a_journal_cut_short_by_ctrl_c_merges_as_missing_seeds(
    cli: Any, tmp_path: Path, fresh_modules: None
) -> None:
    """The journal of an interrupted sweep says which seeds did not run when merged."""
    write(
        tmp_path / "stopper.py",
        """\
        calls = 0

        def second(view):
            global calls
            calls += 1
            if calls == 2:
                raise KeyboardInterrupt
            return True
        """,
    )
    scenario = write(
        tmp_path / "s.yaml",
        IDLE + "checks:\n  eventually:\n    - predicate: stopper:second\n",
    )
    journal = tmp_path / "j.json"
    stopped = cli("run", scenario, "--seeds", "0:4", "--journal", journal, "-q")
    assert stopped.code == 130
    assert stopped.err == (
        "interrupted: 1 of 4 runs completed (the journal holds them); the rest did not run\n"
    )
    merged = cli("merge", journal)
    assert merged.code == 2
    assert merged.err == (
        "cannot merge 1 journal:\n  idle: 3 seeds of seeds 0:4 are missing: 1-3\n"
    )


# -- seeds -------------------------------------------------------------------------------


def test_a_seed_range_too_large_to_run_is_refused_at_once(cli: Any, tmp_path: Path) -> None:
    """``--seeds 0:10**12`` is refused before any run (it used to hang building its jobs)."""
    scenario = write(tmp_path / "s.yaml", IDLE)
    result = cli("run", scenario, "--seeds", f"0:{10**12}")
    assert result.code == 2
    assert result.out == ""
    assert result.err == (
        "--seeds 0:1000000000000 makes 1,000,000,000,000 runs of 1 scenario, more than one "
        "command makes (1,000,000): run a smaller range, or split it between machines with "
        "--shard K/N\n"
    )
    sharded = cli("run", scenario, "--seeds", f"0:{10**12}", "--shard", "7/1000")
    assert sharded.code == 2
    assert sharded.err.startswith(
        "--seeds 0:1000000000000 (shard 7/1000) makes 1,000,000,000 runs of 1 scenario"
    )


def test_a_shard_of_a_range_not_starting_at_0_keeps_its_seeds(cli: Any, tmp_path: Path) -> None:
    """The seeds of a shard are computed, not filtered: 5:20 shard 3/4 is 7, 11, 15, 19."""
    scenario = write(tmp_path / "s.yaml", IDLE)
    journal = tmp_path / "j.json"
    result = cli("run", scenario, "--seeds", "5:20", "--shard", "3/4", "--journal", journal, "-q")
    assert result.code == 0
    runs = json.loads(journal.read_text(encoding="utf-8"))["runs"]
    assert [run["seed"] for run in runs] == [7, 11, 15, 19]


# -- outputs onto inputs -----------------------------------------------------------------


def test_run_refuses_to_write_its_journal_over_a_scenario_file(cli: Any, tmp_path: Path) -> None:
    """``--journal scenario.yaml`` would replace the scenario with JSON: refused, file kept."""
    scenario = write(tmp_path / "s.yaml", IDLE)
    before = digest(scenario)
    result = cli("run", scenario, "--journal", scenario)
    assert result.code == 2
    assert result.err == (
        f"cannot write --journal {scenario}: it is the scenario file {scenario}, which the "
        "command reads; writing it would destroy it: give another path\n"
    )
    assert digest(scenario) == before


def test_run_refuses_one_path_for_the_journal_and_the_junit_file(cli: Any, tmp_path: Path) -> None:
    """``--journal X --junit X``: the JUnit file would overwrite the journal; refused."""
    scenario = write(tmp_path / "s.yaml", IDLE)
    out = tmp_path / "out"
    result = cli("run", scenario, "--journal", out, "--junit", out)
    assert result.code == 2
    assert result.err == (
        f"cannot write --junit {out}: --journal writes the same file, and one would "
        "overwrite the other: give each its own path\n"
    )
    assert not out.exists()


def test_shrink_refuses_to_write_over_its_journal_or_scenario(cli: Any, tmp_path: Path) -> None:
    """``shrink -o`` onto the journal or the scenario file it reads is refused; both kept."""
    scenario = write(tmp_path / "s.yaml", BOUNDED)
    journal = tmp_path / "j.json"
    assert cli("run", scenario, "--journal", journal, "-q").code == 1
    kept = digest(journal), digest(scenario)
    onto_journal = cli("shrink", journal, "-o", journal)
    assert onto_journal.code == 2
    assert onto_journal.err == (
        f"cannot write -o {journal}: it is the journal {journal}, which the command reads; "
        "writing it would destroy it: give another path\n"
    )
    onto_scenario = cli("shrink", journal, "-o", scenario)
    assert onto_scenario.code == 2
    assert onto_scenario.err.startswith(f"cannot write -o {scenario}: it is the scenario file ")
    assert (digest(journal), digest(scenario)) == kept


def test_merge_refuses_to_write_over_a_journal_it_merges(cli: Any, tmp_path: Path) -> None:
    """``merge a.json --junit a.json`` would replace a shard's journal with XML: refused."""
    scenario = write(tmp_path / "s.yaml", IDLE)
    journal = tmp_path / "j.json"
    assert cli("run", scenario, "--journal", journal, "-q").code == 0
    before = digest(journal)
    result = cli("merge", journal, "--junit", journal)
    assert result.code == 2
    assert result.err == (
        f"cannot write --junit {journal}: it is the journal {journal}, which the command "
        "reads; writing it would destroy it: give another path\n"
    )
    assert digest(journal) == before


# -- journals --------------------------------------------------------------------------


def test_replay_force_refuses_a_file_that_now_holds_another_scenario(
    cli: Any, tmp_path: Path
) -> None:
    """--force replays a changed version of a scenario, not a different scenario that
    took its file name (whose run could only 'not reproduce', exit 3)."""
    scenario = write(tmp_path / "s.yaml", BOUNDED)
    journal = tmp_path / "j.json"
    assert cli("run", scenario, "--journal", journal, "-q").code == 1
    write(scenario, IDLE.replace("name: idle", "name: another"))
    result = cli("replay", journal, "--force")
    assert result.code == 2
    assert result.err == (
        f"{scenario} now holds the scenario 'another', not 'idle-bounded', whose runs "
        f"{journal} recorded: restore the file (--force replays a changed version of a "
        "scenario, not another scenario)\n"
    )


def test_a_journal_verdict_out_of_its_choices_names_them(cli: Any, tmp_path: Path) -> None:
    """A hand-edited verdict is told the verdicts a journal holds (not cattrs' 'unknown error')."""
    scenario = write(tmp_path / "s.yaml", IDLE)
    journal = tmp_path / "j.json"
    assert cli("run", scenario, "--journal", journal, "-q").code == 0
    data = json.loads(journal.read_text(encoding="utf-8"))
    data["runs"][0]["checks"][0]["verdict"] = "meh"
    data["runs"][0]["checks"][1]["kind"] = 3
    journal.write_text(json.dumps(data), encoding="utf-8")
    result = cli("replay", journal)
    assert result.code == 2
    assert result.err == (
        f"{journal}: invalid journal:\n"
        "  expected one of 'pass', 'fail', 'unknown', got str 'meh' @ $.runs[0].checks[0].verdict\n"
        "  expected one of 'always', 'eventually', 'sometimes', 'bound', got int 3 "
        "@ $.runs[0].checks[1].kind\n"
    )


# -- scenario files: numbers ------------------------------------------------------------


def test_an_int_too_large_for_an_option_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    """``max_restarts: 10**400`` used to raise OverflowError from the supervisor's checks."""
    huge = "1" + "0" * 400
    text = IDLE.replace("max_restarts: 100", f"max_restarts: {huge}")
    assert load_errors(text, tmp_path / "s.yaml") == (
        "line 6: expected an int of at most 2**63 - 1, got an int "
        "100000000000000000000000000000000000000000000000000000000... @ $.system.max_restarts",
    )


def test_a_duration_too_large_for_a_float_is_a_duration_error(tmp_path: Path) -> None:
    """An int duration of 400 digits is told what a duration is (not 'OverflowError')."""
    huge = "1" + "0" * 400
    errors = load_errors(IDLE.replace("duration: 2s", f"duration: {huge}"), tmp_path / "s.yaml")
    assert errors == (
        "line 3: expected a duration: seconds >= 0 as a number, or a string such as '250ms', "
        "'30s', '5m' or '1h'; got an int 100000000000000000000000000000000000000000000000000000000"
        "... @ $.duration",
    )
    at = load_errors(IDLE.replace("at: 1s", f"at: {huge}"), tmp_path / "s.yaml")
    assert at == (
        "line 14: expected seconds >= 0 (a number, or a string such as '250ms', '30s', '5m', "
        f"'1h'), got {huge[:60]} @ $.faults[0].at",
    )


def test_an_int_literal_python_cannot_read_is_an_error(tmp_path: Path) -> None:
    """A 5000-digit number (past Python's int-from-text limit) is a line, not a ValueError."""
    text = IDLE + f"seed: 1{'0' * 5000}\n"
    assert load_errors(text, tmp_path / "s.yaml") == (
        "line 15: a number of 5001 digits @ $.seed; no value of a scenario needs more than 4000",
    )


def test_a_run_too_long_for_float_times_is_refused(tmp_path: Path) -> None:
    """A duration of 1e22 s used to run, and fail no_unexpected_crash: 60 s rounds away there."""
    text = IDLE.replace("duration: 2s", "duration: 10000000000000000000000")
    assert load_errors(text, tmp_path / "s.yaml") == (
        "line 3: a run of 1e+22s (duration and quiet_period) is longer than 1e+09s (about 31 "
        "years) of virtual time, where float times lose their microseconds; make it shorter "
        "@ $.duration",
    )


def test_a_nan_bound_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    """``max: .nan`` slipped past the number check and raised from chaos.Bound."""
    text = IDLE + "checks:\n  bounds:\n    - metric: restarts\n      max: .nan\n"
    assert load_errors(text, tmp_path / "s.yaml") == (
        "line 18: expected a finite number, got a number nan @ $.checks.bounds[0].max",
    )


def test_a_bound_whose_min_is_above_its_max_is_refused(tmp_path: Path) -> None:
    """``min: 5, max: 1`` could never hold: an error at load, not a failure in every run."""
    text = IDLE + "checks:\n  bounds:\n    - metric: restarts\n      min: 5\n      max: 1\n"
    assert load_errors(text, tmp_path / "s.yaml") == (
        "line 18: min: 5 is more than max: 1: no value of 'restarts' is in between, so the "
        "bound could never hold; swap them @ $.checks.bounds[0].min",
    )


# -- scenario files: faults ----------------------------------------------------------------


def test_a_fault_after_the_window_fails_validate_with_its_line(cli: Any, tmp_path: Path) -> None:
    """``at:`` past ``duration:`` passed validate and made every run 'not run' (exit 2)
    with no line or $.path; now validate says where."""
    scenario = write(tmp_path / "s.yaml", IDLE.replace("at: 1s", "at: 3s"))
    result = cli("validate", scenario)
    assert result.code == 2
    assert result.err == (
        f"{scenario}: invalid scenario:\n"
        "  line 14: the fault starts at 3s, after the fault window [0, 2s): it would never "
        "act; move it earlier or make the run's duration longer @ $.faults[0].at\n"
    )


def test_a_generator_that_would_make_billions_of_faults_is_refused(
    cli: Any, tmp_path: Path
) -> None:
    """``rate: 1e9`` used to hang the run expanding the plan; now a load error."""
    text = IDLE.replace(
        "  - kind: kill\n    target: root/idle\n    at: 1s\n",
        "  - random: {rate: 1000000000, kinds: [kill], targets: [root/idle]}\n",
    )
    scenario = write(tmp_path / "s.yaml", text)
    result = cli("run", scenario)
    assert result.code == 2
    assert result.err == (
        f"{scenario}: invalid scenario:\n"
        "  line 12: rate=1e+09 faults per second over its 2s makes about 2e+09 faults a run, "
        "more than 100000; lower the rate or narrow at/until @ $.faults[0].random.rate\n"
    )


def test_pick_takes_a_count_written_as_a_yaml_int(tmp_path: Path) -> None:
    """``pick: 2`` (an int in YAML, as docs/scenarios.md writes it) is the count 2."""
    scenario = chaos.loads_scenario(IDLE + "    pick: 2\n", path=tmp_path / "s.yaml")
    assert scenario.plan.faults[0] == chaos.Kill(target="root/idle", at=1.0, pick="2")
    assert chaos.FaultPlan.from_dict({"faults": [{"kind": "kill", "target": "a", "pick": 1}]}) == (
        chaos.FaultPlan((chaos.Kill(target="a", pick="1"),))
    )


def test_a_complex_key_is_named_as_such(tmp_path: Path) -> None:
    """A ``? [a, b]`` key was reported as "unknown tag '?'"."""
    text = "? [a, b]\n: 1\n" + IDLE
    assert load_errors(text, tmp_path / "s.yaml") == (
        "line 1: a key is a list or a mapping (a '? ' key); the keys of a scenario are plain names",
    )


def test_a_module_that_exits_on_import_is_reported(
    cli: Any, tmp_path: Path, fresh_modules: None
) -> None:
    """A module calling sys.exit(5) at import made ``validate`` exit 5, saying nothing."""
    write(tmp_path / "exits.py", "import sys\nsys.exit(5)\n")
    scenario = write(tmp_path / "s.yaml", IDLE.replace("trio:sleep_forever", "exits:main"))
    result = cli("validate", scenario)
    assert result.code == 2
    assert result.err == (
        f"{scenario}: invalid scenario:\n"
        "  line 8: importing 'exits' raised SystemExit: 5 (exits.py, line 2) "
        "@ $.system.children[0].task\n"
    )


# -- the Python API -------------------------------------------------------------------------


def test_run_refuses_a_run_too_long_or_a_period_too_large_for_a_float() -> None:
    """chaos.run's durations: an int too large for a float and a run past 1e9 s are refused."""
    with pytest.raises(InvalidPlanError, match=r"^quiet_period=1000000000000.* is not valid; "):
        chaos.run(lambda: [], duration=1, quiet_period=10**400)
    with pytest.raises(
        InvalidPlanError,
        match=r"^duration=1e\+22 and quiet_period=10 make a run of 1e\+22s, longer than 1e\+09s",
    ):
        chaos.run(lambda: [], duration=1e22)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"checks": 3},
            "checks=3 is not valid; expected a list of chaos.Invariant, chaos.Eventually, "
            "chaos.Sometimes or chaos.Bound",
        ),
        (
            {"plan": "kill"},
            "plan='kill' is not valid; expected a chaos.FaultPlan or a list of faults "
            "(chaos.FaultPlan.from_dict reads a plan written as data)",
        ),
        ({"keep_trace": True}, "keep_trace=True: expected an int >= 0 or None (all)"),
    ],
)
def test_run_refuses_arguments_of_the_wrong_type(options: dict[str, Any], message: str) -> None:
    """chaos.run's checks, plan and keep_trace of the wrong type: InvalidPlanError, not a
    TypeError, a plan of one fault per character, or True taken as 1."""
    with pytest.raises(InvalidPlanError) as info:
        chaos.run(lambda: [], **options)
    assert str(info.value) == message


def test_plan_from_json_refuses_what_is_not_json_text() -> None:
    """FaultPlan.from_json(None) and JSON nested too deeply: InvalidPlanError."""
    with pytest.raises(InvalidPlanError, match=r"^a fault plan must be JSON text \(a str\), got "):
        chaos.FaultPlan.from_json(None)  # type: ignore[arg-type]
    with pytest.raises(InvalidPlanError, match=r"^a fault plan must be JSON: it is nested too"):
        chaos.FaultPlan.from_json("[" * 100_000 + "]" * 100_000)
    with pytest.raises(InvalidPlanError, match=r"^a fault plan must be YAML text \(a str\), got "):
        chaos.FaultPlan.from_yaml(3)  # type: ignore[arg-type]


def test_with_plan_refuses_what_would_not_load_back(tmp_path: Path) -> None:
    """Scenario.with_plan: a plan that is not a FaultPlan, a negative seed, or a fault
    after the window (a regression file that would not load) are refused."""
    scenario = chaos.loads_scenario(IDLE, path=tmp_path / "s.yaml")
    with pytest.raises(InvalidPlanError, match=r"^plan=None is not valid; expected a chaos"):
        scenario.with_plan(None)  # type: ignore[arg-type]
    with pytest.raises(InvalidPlanError, match=r"^seed=-1 is not valid; expected an int >= 0$"):
        scenario.with_plan(chaos.FaultPlan(), seed=-1)
    late = chaos.FaultPlan((chaos.Kill(target="root/idle", at=5.0),))
    with pytest.raises(InvalidPlanError, match=r"^fault #0 \(kill\) starts at 5s, after the"):
        scenario.with_plan(late)


def test_a_restart_storm_of_astronomical_count_ends_with_the_window(tmp_path: Path) -> None:
    """A storm of 10**20 kills plans only the kills inside the fault window
    (it used to loop over every one, for ever)."""
    path = tmp_path / "storm.yaml"
    path.write_text(
        IDLE.replace(
            "  - kind: kill\n    target: root/idle\n    at: 1s\n",
            "  - kind: restart_storm\n    target: root/idle\n    at: 0.5s\n"
            "    count: 100000000000000000000\n    interval: 0.25s\n",
        )
    )
    report = chaos.load_scenario(path).run()
    kills = [r for r in report.faults if r.effect == "killed"]
    # the fault window is [0, duration) = [0, 2s); then the quiet period
    assert [r.time for r in kills] == [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]


@pytest.mark.parametrize(
    ("path", "got"), [(None, "NoneType None"), (3, "int 3"), (b"x.yaml", "bytes b'x.yaml'")]
)
def test_load_scenario_names_a_path_that_is_not_one(path: Any, got: str) -> None:
    """load_scenario of something that is not a path is a ScenarioError, not a TypeError."""
    with pytest.raises(ScenarioError) as info:
        chaos.load_scenario(path)
    assert str(info.value) == (
        f"{path!r}: not a file path:\n  expected a file path (a str or os.PathLike), got {got}"
    )
