"""Property testing with chaos: the Hypothesis strategies for fault plans
(what they draw, how they shrink, how they check their arguments), the repr a
falsifying plan is printed with, and :func:`chaos.assert_ok`.

The shrinking proof runs the planted-bug system of ``chaos_plugin/planted.py``:
a search over plans of four fault kinds on two agents ends at exactly the one
fault that triggers the bug.
"""

from __future__ import annotations

import functools
import math
import pickle
import types
from typing import Any

import pytest
from chaos_plugin import planted
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample
from hypothesis.vendor.pretty import pretty

import chaos
from jido_trio import JidoError

TARGETS = ("root/a", "root/b")
LINKS = (("root/a", "root/b"),)
# what a search needs to be fast and the same every time: no example database,
# derandomized, and no "explain" phase (on Python 3.11 it traces every run)
SEARCH = settings(
    max_examples=100,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.generate, Phase.shrink],
)
# the minimal plan that fails the planted system: the kill just after the
# tracker's second message (t=0.5), so that its next one (t=1.0) counts from 0
PLANTED = chaos.FaultPlan([chaos.Kill(target="root/tracker", at=0.501)])


def simplest(strategy: st.SearchStrategy[Any], condition: Any = lambda _: True) -> Any:
    """The value ``strategy`` shrinks to under ``condition``."""
    return find(strategy, condition, settings=SEARCH)


# -- what the strategies draw -----------------------------------------------------


@given(plan=chaos.fault_plans(TARGETS, horizon=2.5, links=LINKS))
def test_faults_aim_at_the_targets_or_links_on_a_millisecond_grid(plan: chaos.FaultPlan) -> None:
    """Every fault targets one of ``targets`` (or a link of ``links``), and its
    times are whole milliseconds inside the horizon."""
    for fault in plan.faults:
        assert not isinstance(fault, chaos.RandomFaults)
        assert type(fault).kind in chaos.FAULT_KINDS
        source = getattr(fault, "source", None)
        if source in (None, "**"):
            assert fault.target in TARGETS
        else:
            assert (source, fault.target) in LINKS
        assert 0 <= fault.at < 2.5
        assert math.isclose(fault.at * 1000, round(fault.at * 1000))
        until = getattr(fault, "until", None)
        if until is not None:
            assert fault.at < until <= 2.5
            assert math.isclose(until * 1000, round(until * 1000))


@given(plan=chaos.fault_plans(TARGETS, horizon=10.0, links=LINKS))
def test_a_drawn_plan_round_trips_through_json_and_its_repr(plan: chaos.FaultPlan) -> None:
    """A drawn plan is valid data: ``from_json(to_json())`` and ``eval(repr())``
    give it back."""
    assert chaos.FaultPlan.from_json(plan.to_json()) == plan
    assert eval(repr(plan), {"chaos": chaos}) == plan


@given(plan=chaos.fault_plans(TARGETS, horizon=1.0, kinds=["crash", "kill"]))
def test_kinds_limits_the_kinds_drawn(plan: chaos.FaultPlan) -> None:
    """With ``kinds``, only those kinds are drawn."""
    assert {type(f).kind for f in plan.faults} <= {"crash", "kill"}


@given(plan=chaos.fault_plans(TARGETS, horizon=1.0, min_faults=2, max_faults=3))
def test_min_and_max_faults_bound_the_plan(plan: chaos.FaultPlan) -> None:
    """A plan holds between ``min_faults`` and ``max_faults`` faults."""
    assert 2 <= len(plan) <= 3


def test_details_are_drawn_too() -> None:
    """Faults are also drawn with details away from their defaults (a strategy
    stuck at the defaults would pass every other test here)."""

    def one(kind: str, condition: Any) -> Any:
        return simplest(chaos.faults(TARGETS, horizon=10.0, kinds=[kind], links=LINKS), condition)

    assert one("kill", lambda f: f.pick == "one") == chaos.Kill(target="root/a", pick="one")
    assert one("crash", lambda f: f.probability < 1) == chaos.Crash(
        target="root/a", probability=0.01
    )
    assert one("crash", lambda f: f.point == "after_cmd") == chaos.Crash(
        target="root/a", point="after_cmd"
    )
    assert one("drop", lambda f: f.count == 3) == chaos.Drop(target="root/a", count=3)
    assert one("hang", lambda f: f.until is not None) == chaos.Hang(target="root/a", until=0.001)
    assert one("drop", lambda f: f.source is not None) == chaos.Drop(
        target="root/b", source="root/a"
    )
    assert one("partition", lambda f: f.one_way) == chaos.Partition(
        target="root/a", source="**", one_way=True
    )
    assert one("pause", lambda f: f.duration < 1) == chaos.Pause(target="root/a", duration=0.001)
    assert one("corrupt_load", lambda f: f.what == "version") == chaos.CorruptLoad(
        target="root/a", what="version"
    )


# -- how they shrink --------------------------------------------------------------

# each kind at its simplest: target and time first, every field at its default,
# a required duration at the value a RandomFaults generator gives it
SIMPLEST = {
    "kill": chaos.Kill(target="root/a"),
    "restart_storm": chaos.RestartStorm(target="root/a"),
    "pause": chaos.Pause(target="root/a", duration=2.0),
    "partition": chaos.Partition(target="root/a", source="**"),
    "crash": chaos.Crash(target="root/a"),
    "hang": chaos.Hang(target="root/a"),
    "delay": chaos.Delay(target="root/a", seconds=1.0),
    "drop": chaos.Drop(target="root/a"),
    "duplicate": chaos.Duplicate(target="root/a"),
    "reorder": chaos.Reorder(target="root/a"),
    "corrupt_message": chaos.CorruptMessage(target="root/a"),
    "corrupt_state": chaos.CorruptState(target="root/a"),
    "fail_start": chaos.FailStart(target="root/a"),
    "store_write_fail": chaos.StoreWriteFail(target="root/a"),
    "store_slow": chaos.StoreSlow(target="root/a", seconds=1.0),
    "stale_load": chaos.StaleLoad(target="root/a"),
    "corrupt_load": chaos.CorruptLoad(target="root/a"),
}


def test_simplest_table_covers_every_kind() -> None:
    """The table below names every fault kind (so the next test covers them all)."""
    assert tuple(SIMPLEST) == chaos.FAULT_KINDS


@pytest.mark.parametrize("kind", chaos.FAULT_KINDS)
def test_each_kind_shrinks_to_its_defaults(kind: str) -> None:
    """A fault of each kind shrinks to the first target, at 0, every field at
    its default."""
    assert simplest(chaos.faults(TARGETS, horizon=10.0, kinds=[kind])) == SIMPLEST[kind]


def test_a_plan_shrinks_to_no_faults_and_a_fault_to_the_first_kind() -> None:
    """The simplest plan is the empty one; the simplest fault is a kill (the
    first of FAULT_KINDS), or the first of ``kinds``."""
    assert simplest(chaos.fault_plans(TARGETS, horizon=1.0)) == chaos.FaultPlan()
    assert simplest(chaos.faults(TARGETS, horizon=1.0)) == chaos.Kill(target="root/a")
    assert simplest(chaos.faults(TARGETS, horizon=1.0, kinds=["hang", "kill"])) == chaos.Hang(
        target="root/a"
    )


def test_a_time_shrinks_to_the_earliest_millisecond_that_still_fails() -> None:
    """Times shrink as integers of milliseconds: to the boundary, exactly."""
    strategy = chaos.faults(TARGETS, horizon=10.0, kinds=["kill"])
    assert simplest(strategy, lambda f: f.at >= 1.2345) == chaos.Kill(target="root/a", at=1.235)


@pytest.mark.parametrize(
    ("horizon", "last"),
    [(0.003, 0.002), (0.3, 0.299), (2.5, 2.499), (0.0004, 0.0)],
)
def test_times_stay_below_the_horizon(horizon: float, last: float) -> None:
    """The latest time drawn is the last whole millisecond before the horizon
    (0 when the horizon is shorter than a millisecond)."""
    strategy = chaos.faults(TARGETS, horizon=horizon, kinds=["kill"])
    assert simplest(strategy, lambda f: f.at >= last).at == last
    with pytest.raises(NoSuchExample):
        simplest(strategy, lambda f: f.at > last)


# -- the proof: a planted bug -----------------------------------------------------


def test_a_failing_plan_shrinks_to_the_one_planted_fault() -> None:
    """Among plans of drops, duplicates, pauses and kills on two agents, a
    ``@given`` test using assert_ok finds the tracker's bug and fails on one
    kill of root/tracker, which Hypothesis prints as Python; the error carries
    that run's report and replay."""

    @SEARCH
    @given(plan=chaos.fault_plans(planted.TARGETS, kinds=planted.KINDS, horizon=5.0))
    def test_tracker_survives_faults(plan: chaos.FaultPlan) -> None:
        chaos.assert_ok(planted.run(plan))

    with pytest.raises(chaos.ChecksFailedError) as excinfo:
        test_tracker_survives_faults()
    failure = excinfo.value
    minimal = failure.report.plan
    assert not isinstance(minimal.faults[0], chaos.RandomFaults)
    assert (len(minimal), type(minimal.faults[0]).kind, minimal.faults[0].target) == (
        1,
        "kill",
        "root/tracker",
    )
    assert minimal == PLANTED
    assert failure.report.check("count_never_decreases").detail == (
        "t=1 root/tracker: count went down from 2 to 1"
    )
    notes = "\n".join(getattr(failure, "__notes__", []))
    assert f"plan={PLANTED!r}," in notes
    assert failure.replay == (
        "chaos.run(system, chaos.FaultPlan.from_json("
        """'{"faults": [{"at": 0.501, "kind": "kill", "target": "root/tracker"}]}'), """
        "seed=0, duration=5.0, quiet_period=2.0)"
    )


# -- the repr ---------------------------------------------------------------------


def test_a_plan_repr_is_python_that_rebuilds_it() -> None:
    """A plan's repr names the public classes and leaves defaults out."""
    plan = chaos.FaultPlan(
        [
            chaos.Kill(target="root/a", at=1.5),
            chaos.Drop(target="root/b", pick="one", count=2, source="root/a"),
            chaos.RandomFaults(kinds=["kill"], rate=0.5),
        ]
    )
    assert repr(plan) == (
        "chaos.FaultPlan([chaos.Kill(target='root/a', at=1.5), "
        "chaos.Drop(target='root/b', pick='one', count=2, source='root/a'), "
        "chaos.RandomFaults(kinds=['kill'], rate=0.5)])"
    )
    assert eval(repr(plan), {"chaos": chaos}) == plan
    assert repr(chaos.FaultPlan()) == "chaos.FaultPlan()"


def test_hypothesis_prints_a_long_plan_one_fault_a_line() -> None:
    """Hypothesis' pretty printer breaks a plan that does not fit on a line
    after each fault, still as Python."""
    plan = chaos.FaultPlan(
        [
            chaos.Kill(target="root/tracker", at=0.501),
            chaos.Pause(target="root/ledger", at=1.0, duration=2.0),
            chaos.Delay(target="root/ledger", seconds=1.0, source="root/tracker"),
        ]
    )
    assert pretty(plan) == (
        "chaos.FaultPlan([chaos.Kill(target='root/tracker', at=0.501),\n"
        "                 chaos.Pause(target='root/ledger', at=1.0, duration=2.0),\n"
        "                 chaos.Delay(target='root/ledger', seconds=1.0, source='root/tracker')])"
    )
    assert pretty(PLANTED) == repr(PLANTED)


# -- assert_ok --------------------------------------------------------------------


def test_assert_ok_accepts_a_passing_run() -> None:
    """A run whose checks all hold passes assert_ok (the planted bug needs a kill)."""
    report = planted.run(chaos.FaultPlan([chaos.Kill(target="root/ledger", at=0.501)]))
    assert report.ok
    chaos.assert_ok(report)


def test_assert_ok_fails_with_the_explanation_and_the_replay() -> None:
    """A failing run raises ChecksFailedError, an AssertionError and a
    JidoError, whose message is the report's explanation and the replay."""
    report = planted.run(PLANTED)
    with pytest.raises(chaos.ChecksFailedError) as excinfo:
        chaos.assert_ok(report)
    failure = excinfo.value
    assert isinstance(failure, AssertionError)
    assert isinstance(failure, JidoError)
    assert failure.report is report
    assert str(failure) == (
        f"{report.explain()}\nreplay it with this test's system, workload and checks:\n"
        f"  {failure.replay}"
    )


def test_the_replay_call_replays_the_run_exactly() -> None:
    """The printed ``chaos.run(...)`` call, given the test's system, workload and
    checks, makes the same run: the same trace digest."""
    report = planted.run(PLANTED, seed=7)
    replay = chaos.ChecksFailedError(report).replay
    # the call as printed; `system` and the rest of the options are the test's
    run = functools.partial(
        chaos.run, workload=planted.WORKLOAD, checks=[planted.never_decreases()]
    )
    namespace = {
        "chaos": types.SimpleNamespace(run=run, FaultPlan=chaos.FaultPlan),
        "system": planted.SYSTEM,
    }
    again = eval(replay, namespace)
    assert (again.digest, again.ok) == (report.digest, False)


def test_the_replay_of_a_swarm_run_keeps_the_plan_it_ran() -> None:
    """In swarm mode the report's plan is what the seed kept: the replay runs it
    without swarm mode, and makes the same run."""
    plan = chaos.FaultPlan(
        [
            chaos.Kill(target="root/tracker", at=1.0),
            chaos.Drop(target="root/ledger", at=0.2, count=2),
            chaos.Kill(target="root/ledger", at=2.0),
        ]
    )
    options: dict[str, Any] = {
        "seed": 3,
        "duration": 5.0,
        "quiet_period": 2.0,
        "workload": planted.WORKLOAD,
    }
    report = chaos.run(planted.SYSTEM, plan, swarm=True, **options)
    assert report.swarm == {"kinds": ["kill", "drop"], "targets": ["root/tracker"]}
    assert report.plan == chaos.FaultPlan([chaos.Kill(target="root/tracker", at=1.0)])
    replay = chaos.ChecksFailedError(report).replay
    assert replay.endswith(", seed=3, duration=5.0, quiet_period=2.0, swarm=False)")
    again = chaos.run(planted.SYSTEM, chaos.FaultPlan.from_json(report.plan.to_json()), **options)
    assert again.digest == report.digest


def test_coverage_true_also_fails_on_a_sometimes_check() -> None:
    """A fault that never hit a live target fails only the ``sometimes`` check
    faults_hit: assert_ok passes, unless ``coverage=True``."""
    report = planted.run(chaos.FaultPlan([chaos.Kill(target="root/nobody", at=1.0)]))
    assert (report.ok, report.coverage_ok) == (True, False)
    chaos.assert_ok(report)
    with pytest.raises(chaos.ChecksFailedError, match="MISS sometimes faults_hit: never hit"):
        chaos.assert_ok(report, coverage=True)


def test_assert_ok_wants_a_report() -> None:
    """Passing something else than a RunReport is a clear error."""
    with pytest.raises(chaos.InvalidPlanError, match=r"^assert_ok\(report=True\): expected"):
        chaos.assert_ok(True)  # type: ignore[arg-type]


def test_checks_failed_error_pickles() -> None:
    """The error survives pickling (pytest-xdist, multiprocessing) with its report."""
    failure = chaos.ChecksFailedError(planted.run(PLANTED))
    copy = pickle.loads(pickle.dumps(failure))
    assert (type(copy), str(copy), copy.report, copy.replay) == (
        chaos.ChecksFailedError,
        str(failure),
        failure.report,
        failure.replay,
    )


# -- arguments --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"targets": []}, r"^targets is empty; give at least one, such as \['root/tracker'"),
        ({"targets": "root/a"}, r"^targets='root/a' is not valid; expected a list such as"),
        ({"targets": ["root//a"]}, r"^targets='root//a' is not valid: an empty segment"),
        ({"kinds": ["kil"]}, r"^kinds: unknown fault kind 'kil' \(did you mean 'kill'\?\)"),
        ({"kinds": []}, r"^kinds is empty; name at least one fault kind"),
        ({"kinds": "kill"}, r"^kinds='kill' is not valid; expected a list of fault kinds"),
        ({"kinds": ["random"]}, r"^kinds: unknown fault kind 'random'; expected some of kill,"),
        ({"horizon": 0}, r"^horizon=0 is not valid; expected the fault window in seconds \(> 0\)"),
        ({"horizon": -1.0}, r"^horizon=-1.0 is not valid"),
        ({"horizon": math.inf}, r"^horizon=inf is not valid"),
        ({"horizon": True}, r"^horizon=True is not valid"),
        ({"horizon": "5s"}, r"^horizon='5s' is not valid"),
        ({"links": "root/a"}, r"^links='root/a' is not valid; expected \(source, target\) pairs"),
        ({"links": [("root/a",)]}, r"^links\[0\]=\('root/a',\) is not valid; expected a \(source"),
        ({"links": [("root/a", "x//y")]}, r"^links\[0\] target='x//y' is not valid"),
    ],
)
def test_bad_arguments_are_reported_at_once(kwargs: dict[str, Any], message: str) -> None:
    """A bad argument raises InvalidPlanError when the strategy is made, naming
    the value and what is expected, for both strategies."""
    arguments: dict[str, Any] = {"targets": TARGETS, "horizon": 1.0, **kwargs}
    with pytest.raises(chaos.InvalidPlanError, match=message):
        chaos.faults(**arguments)
    with pytest.raises(chaos.InvalidPlanError, match=message):
        chaos.fault_plans(**arguments)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_faults": 3, "max_faults": 2}, r"^min_faults=3 is more than max_faults=2"),
        ({"max_faults": -1}, r"^max_faults=-1 is not valid; expected an int >= 0"),
        ({"min_faults": 1.5}, r"^min_faults=1.5 is not valid; expected an int >= 0"),
    ],
)
def test_bad_plan_sizes_are_reported_at_once(kwargs: dict[str, Any], message: str) -> None:
    """Plan sizes are checked when the strategy is made."""
    with pytest.raises(chaos.InvalidPlanError, match=message):
        chaos.fault_plans(TARGETS, horizon=1.0, **kwargs)


def test_duplicate_targets_and_kinds_are_drawn_once() -> None:
    """Repeated targets, kinds and links count once (and keep their first place)."""
    strategy = chaos.faults(["root/b", "root/a", "root/b"], horizon=1.0, kinds=["drop", "drop"])
    assert simplest(strategy) == chaos.Drop(target="root/b")
    assert simplest(strategy, lambda f: f.target == "root/a") == chaos.Drop(target="root/a")
