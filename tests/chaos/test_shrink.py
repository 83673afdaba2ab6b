"""Shrinking: a failing plan reduces to the faults that make it fail, each
simplified, and shrinking is deterministic (runs are, and each fault's random
stream is keyed by its content, so removing one leaves the others alone)."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

import chaos
from chaos import ChaosError, Eventually, FaultPlan, InvalidPlanError, RunReport
from chaos._shrink import _ddmin, _simpler, shrink_plan
from jido_trio import ActionResult, AgentDef, action, agent_spec


@attrs.frozen
class Tally:
    total: int = 0


@attrs.frozen
class Add:
    amount: int = 1


@action("add", params=Add)
def add(state: Tally, params: Add) -> ActionResult[Tally]:
    return ActionResult(Tally(state.total + params.amount), result=state.total + params.amount)


TALLY = AgentDef("tally", Tally, [add], routes={"tally.add": "add"})


def children() -> list[Any]:
    """The planted bug: ``amnesiac`` restarts from its initial state, so a kill
    loses its total; ``steady`` keeps it."""
    return [agent_spec("amnesiac", TALLY, restart_from="initial"), agent_spec("steady", TALLY)]


SENDS = [
    chaos.Send(to=name, signal="tally.add", data={"amount": 1}, call=True, at=0.5, every=1.0)
    for name in ("amnesiac", "steady")
]


def kept_total(view: chaos.SystemView) -> bool | str:
    """The amnesiac's total counts every acknowledged add (calls that returned ok)."""
    total = view.state("amnesiac").total
    return total >= 15 or f"amnesiac total is {total}, expected >= 15"


CHECKS = [Eventually("kept total", kept_total)]
OPTIONS: dict[str, Any] = {
    "duration": 12.0,
    "quiet_period": 4.0,
    "workload": SENDS,
    "checks": CHECKS,
}
NOISY = FaultPlan(
    [
        chaos.Delay(target="root/steady", seconds=0.5, at=1.0, count=3),
        chaos.Kill(target="root/steady", at=2.0),
        chaos.Drop(target="root/steady", at=2.5, until=5.0, probability=0.5),
        chaos.Kill(target="root/amnesiac", at=7.25),
        chaos.Pause(target="root/steady", at=3.0, duration=1.0),
        chaos.Crash(target="root/steady", at=8.0, count=1),
    ]
)


def test_a_failing_plan_shrinks_to_the_one_fault_that_fails_it() -> None:
    """Six faults, one of which plants the bug: shrinking keeps that one, as early and as
    round as it still fails (a kill at t=0 would lose nothing: the total is still 0)."""
    shrunk = chaos.shrink(children, NOISY, seed=3, **OPTIONS)
    assert not shrunk.original.ok
    assert shrunk.plan == FaultPlan([chaos.Kill(target="root/amnesiac", at=7.0)])
    assert [c.name for c in shrunk.report.failures] == ["kept total"]
    assert shrunk.report.plan == shrunk.plan
    assert not shrunk.exhausted
    assert 1 < shrunk.runs < 40


def test_shrinking_is_deterministic() -> None:
    """The same failing run shrinks to the same plan in the same number of runs."""
    first = chaos.shrink(children, NOISY, seed=3, **OPTIONS)
    again = chaos.shrink(children, NOISY, seed=3, **OPTIONS)
    assert (first.plan, first.runs, first.report.digest) == (
        again.plan,
        again.runs,
        again.report.digest,
    )


def test_a_plan_that_does_not_fail_cannot_be_shrunk() -> None:
    """Shrinking a passing run is an error that says so."""
    calm = FaultPlan([chaos.Kill(target="root/steady", at=2.0)])
    with pytest.raises(ChaosError, match=r"^the plan does not fail with seed 3: every check held"):
        chaos.shrink(children, calm, seed=3, **OPTIONS)


def test_fails_decides_what_failing_the_same_way_means() -> None:
    """A custom predicate keeps only plans whose runs it accepts as failing."""

    def restarts_steady(report: RunReport) -> bool:
        return report.metrics.get("restarts:root/steady", 0) >= 2

    shrunk = chaos.shrink(children, NOISY, seed=3, fails=restarts_steady, **OPTIONS)
    assert len(shrunk.plan) == 2
    assert {type(f).__name__ for f in shrunk.plan.faults} <= {"Kill", "Crash"}
    assert restarts_steady(shrunk.report)


def test_max_runs_stops_shrinking_and_says_so() -> None:
    """A budget too small to finish returns the best plan so far, marked exhausted."""
    shrunk = chaos.shrink(children, NOISY, seed=3, max_runs=2, **OPTIONS)
    assert shrunk.exhausted
    assert shrunk.runs <= 3
    assert not shrunk.report.ok


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_max_runs_must_be_a_positive_int(bad: object) -> None:
    """max_runs is checked before anything runs."""
    with pytest.raises(InvalidPlanError, match=r"^max_runs=.* is not valid; expected an int >= 1"):
        chaos.shrink(children, NOISY, seed=3, max_runs=bad, **OPTIONS)  # type: ignore[arg-type]


def test_shrink_plan_wants_a_concrete_plan() -> None:
    """A plan with a generator is expanded by a run first; shrink_plan refuses it."""
    generator = FaultPlan([chaos.RandomFaults(kinds=["kill"], rate=1.0)])
    with pytest.raises(ChaosError, match=r"^shrink a concrete plan"):
        shrink_plan(lambda plan: chaos.run(children, plan), generator)


def test_random_faults_shrink_through_their_concrete_plan() -> None:
    """A generator's run is shrunk through the concrete faults it expanded into."""
    plan = FaultPlan(
        [chaos.RandomFaults(kinds=["kill", "delay"], targets=["root/*"], rate=0.8, until=10)]
    )
    first = chaos.run(children, plan, seed=0, **OPTIONS)
    assert not first.ok
    assert len(first.plan) == 6
    shrunk = chaos.shrink(children, plan, seed=0, **OPTIONS)
    # a kill of one of root/* (picked by the seed) became a kill of the one it hit, at t=2
    assert shrunk.plan == FaultPlan([chaos.Kill(target="root/amnesiac", at=2.0)])


def test_ddmin_finds_a_one_minimal_subset() -> None:
    """Delta debugging returns a subset from which no single item can be removed."""
    assert _ddmin(list(range(10)), lambda xs: 3 in xs and 7 in xs) == [3, 7]
    assert _ddmin(list(range(10)), lambda xs: 3 in xs) == [3]
    assert _ddmin(list(range(10)), lambda xs: True) == []
    assert _ddmin([], lambda xs: True) == []
    big_enough = _ddmin(list(range(9)), lambda xs: sum(xs) >= 15)
    assert sum(big_enough) >= 15
    assert all(sum(big_enough) - x < 15 for x in big_enough)  # none can go


def test_simpler_candidates_narrow_and_never_widen() -> None:
    """A fault's simplifications aim it at the one path it hit, reset its own
    parameters, and move it to a rounder, earlier time; never its pick, count,
    nth, window or probability, whose defaults would hit more."""
    fault = chaos.Delay(
        target="root/*", pick="one", seconds=2.5, jitter=1.0, at=2.55, until=5.0, count=3
    )
    assert _simpler(fault, ["root/b", "root/b"]) == [
        chaos.Delay(target="root/b", seconds=2.5, jitter=1.0, at=2.55, until=5.0, count=3),
        chaos.Delay(
            target="root/*", pick="one", seconds=2.5, at=2.55, until=5.0, count=3
        ),  # jitter back to its default
        chaos.Delay(
            target="root/*", pick="one", seconds=2.5, jitter=1.0, at=2.0, until=5.0, count=3
        ),
        chaos.Delay(
            target="root/*", pick="one", seconds=2.5, jitter=1.0, at=2.5, until=5.0, count=3
        ),
    ]
    first = _simpler(fault, ["root/a", "root/b"])[0]
    assert isinstance(first, chaos.Delay)
    assert first.target == "root/*"  # it hit two: it stays a glob
    assert _simpler(chaos.Kill(target="root/a")) == []
