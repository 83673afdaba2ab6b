"""Defects found in a review of the chaos engine, each pinned by the promise
of docs/chaos.md it broke (one test per promise)."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
import trio
import trio.testing
from chaos_fixtures import Agents, Log, add, relay

import chaos
import jido_trio
from chaos import CheckResult, FaultPlan, RunReport
from chaos._shrink import shrink_plan
from jido_trio import ActionResult, AgentDef, NoParams, SpawnAgent, StopChild, action

SEEDS = range(6)  # enough that, before the fix, both scheduler orders occur


def dropped_at(report: RunReport, fault: int) -> list[float]:
    return [r.time for r in report.faults if r.fault == fault and r.effect.startswith("dropped")]


# ------------------------------------------------------------------ windows


def test_an_event_fault_window_is_half_open_for_every_seed() -> None:
    """docs/chaos.md 'Triggers': an event fault acts in [at, until), so an event at `until` is
    never hit, even when the agent wakes at that instant together with the timeline."""
    # message 1 (t=4) is delayed to t=5; message 2 (t=4.5) is then taken at t=5 exactly
    plan = FaultPlan(
        [
            chaos.Delay(target="root/a", at=4, seconds=1, count=1),
            chaos.Drop(target="root/a", at=4.2, until=5),
        ]
    )
    sends = [add(4, call=False), add(4.5, call=False)]
    for seed in SEEDS:
        report = chaos.run(Agents("a"), plan, seed=seed, workload=sends, duration=8, quiet_period=1)
        assert dropped_at(report, 1) == [], f"seed {seed}"
        assert report.check("faults_hit").detail == "never hit a live target: #1 drop root/a"


def test_a_window_opening_sees_an_event_at_its_instant_for_every_seed() -> None:
    """docs/chaos.md 'Triggers': an event at exactly `at` is inside the window [at, until)."""
    plan = FaultPlan(
        [
            chaos.Delay(target="root/a", at=4, seconds=1, count=1),
            chaos.Drop(target="root/a", at=5, nth=1),
        ]
    )
    for seed in SEEDS:
        report = chaos.run(
            Agents("a"), plan, seed=seed, workload=[add(4, call=False)], duration=8, quiet_period=1
        )
        # message 1, taken at t=4, reaches the drop's check at t=5 (after its delay)
        assert dropped_at(report, 1) == [5.0], f"seed {seed}"


def test_no_fault_acts_at_the_end_of_the_fault_window_for_every_seed() -> None:
    """docs/chaos.md 'A run, phase by phase': faults act in [0, duration); at `duration`
    every fault stops, even for an agent that wakes at that instant before the heal."""
    plan = FaultPlan(
        [
            chaos.Delay(target="root/a", at=2, seconds=1, count=1),
            chaos.Drop(target="root/a", at=2.5),
        ]
    )
    for seed in SEEDS:
        system = Agents("a")
        report = chaos.run(
            system,
            plan,
            seed=seed,
            workload=[add(2, call=False), add(2.5, call=False)],
            duration=3,
            quiet_period=1,
        )
        assert dropped_at(report, 1) == [], f"seed {seed}"
        assert system.state("a") == Log(n=2)


# ------------------------------------------------------------------ records and hits


def test_a_crash_after_cmd_on_a_message_a_later_fault_dropped_is_a_miss() -> None:
    """docs/chaos.md 'Fault records': `hit` says whether a fault hit a live target, and
    `faults.hits` counts those records: a crash after a message that was dropped never
    happened, so it is no hit and faults_hit names it."""
    plan = FaultPlan(
        [
            chaos.Crash(target="root/a", point="after_cmd", nth=1),
            chaos.Drop(target="root/a", nth=1),
        ]
    )
    report = chaos.run(Agents("a"), plan, workload=[add(1), add(2)], duration=4, quiet_period=1)
    assert [(r.time, r.fault, r.effect, r.hit) for r in report.faults] == [
        (1.0, 1, "dropped signal log.add", True),
        (1.0, 0, "missed: #1 dropped it first", False),
    ]
    assert report.metrics["faults.hits"] == 1
    assert report.metrics["faults.missed"] == 1
    assert report.check("faults_hit") == CheckResult(
        "faults_hit", "sometimes", "fail", "never hit a live target: #0 crash root/a"
    )
    assert "#0 crash target=root/a nth=1 point=after_cmd -> 0 hit(s)" in report.explain()


def test_a_duplicate_of_a_message_a_later_fault_crashed_on_is_a_miss() -> None:
    """docs/chaos.md 'The fault kinds': a duplicate is processed twice; one whose message a
    crash at receive dead-lettered was processed zero times, and its record says so."""
    system = Agents("a")
    plan = FaultPlan([chaos.Duplicate(target="root/a", nth=1), chaos.Crash(target="root/a", nth=1)])
    report = chaos.run(system, plan, workload=[add(1), add(2)], duration=4, quiet_period=1)
    assert [(r.fault, r.effect, r.hit) for r in report.faults] == [
        (1, "crashed at receive", True),
        (0, "missed: #1 crashed the agent first", False),
    ]
    assert system.state("a") == Log(n=1)  # the second message only, once


# ------------------------------------------------------------------ mutators


@pytest.mark.parametrize(
    ("fault", "sends", "where"),
    [
        # double_amount reads data["amount"]: a log.note has none
        (
            chaos.CorruptMessage(target="root/a", mutator="chaos_fixtures:double_amount"),
            [chaos.Send(to="a", signal="log.note", data={"tag": "x"}, at=1)],
            "root/a",
        ),
        (
            chaos.CorruptMessage(
                target="root/b", source="root/a", mutator="chaos_fixtures:double_amount"
            ),
            [relay(1, "a", "b", "x")],
            "root/a -> root/b",
        ),
        # shout reads signal.data: a state has no .data
        (
            chaos.CorruptState(target="root/a", mutator="chaos_fixtures:shout"),
            [add(1)],
            "root/a",
        ),
    ],
)
def test_a_mutator_that_raises_fails_the_run_naming_the_mutator(
    fault: Any, sends: list[chaos.Send], where: str
) -> None:
    """docs/chaos.md 'Mutators': a mutator is the test's code; one that raises fails
    no_unexpected_crash naming the fault and its mutator (not as a crash of the agent),
    its record is a miss, and the message or state goes on unchanged."""
    system = Agents("a", "b")
    report = chaos.run(system, [fault], workload=sends, duration=4, quiet_period=1)
    (record,) = report.faults
    assert (record.time, record.path, record.hit) == (1.0, where, False)
    assert record.effect.startswith("missed: the mutator raised ")
    (failure,) = report.failures
    assert failure.name == "no_unexpected_crash"
    assert failure.detail.startswith(
        f"t=1 chaos/mutator: fault #0 ({type(fault).kind}) mutator={fault.mutator!r} raised "
    )
    assert report.metrics["restarts"] == 0
    assert system.state("a").n + system.state("b").n == 1  # delivered and processed as sent


# ------------------------------------------------------------------ restart intensity


async def test_restart_intensity_is_judged_on_the_supervisors_own_clock(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """docs/chaos.md 'Built-in checks': restart_intensity fails only when a supervisor restarts
    more than max_restarts within max_seconds; run_async's times are relative to its call, and
    that must not move a window's edge (two kills exactly max_seconds apart)."""
    await trio.sleep(0.1)  # the run starts at t0 = 0.1: (a - t0) - (b - t0) != a - b in floats
    system = chaos.System(Agents("a"), options={"max_restarts": 1, "max_seconds": 1})
    storm = [chaos.RestartStorm(target="root/a", at=0.1, count=2, interval=1.0)]
    report = await chaos.run_async(system, storm, duration=3, quiet_period=1)
    assert [r.line() for r in report.faults] == [
        "0.1 #0 restart_storm root/a: killed",
        "1.1 #0 restart_storm root/a: killed",
    ]
    assert report.metrics["escalations"] == 0  # the supervisor saw the first restart expire
    assert report.check("restart_intensity").verdict == "pass"
    assert report.ok, report.explain()


# ------------------------------------------------------------------ shrinking


def _failing(plan: FaultPlan) -> RunReport:
    """A fake run in which every plan with a fault fails the same check."""
    verdict = CheckResult("x", "always", "fail" if plan.faults else "pass")
    return RunReport(0, plan, 1.0, 0.0, (), (verdict,), {}, "", 0)


@pytest.mark.parametrize(
    "fault",
    [
        chaos.Partition(source="root/a", target="root/b", one_way=True),
        chaos.Reorder(target="root/b", window=0.25),
        chaos.Partition(source="root/a", target="root/b", at=2.5, until=4.0),
        chaos.Drop(target="root/b", at=2.5),
        chaos.Delay(target="root/b", at=2.5, until=4.0, seconds=1.0),
    ],
)
def test_shrinking_never_widens_a_fault(fault: Any) -> None:
    """docs/chaos.md 'Shrinking': a fault is narrowed, never widened, so the minimal plan
    does no more than the original: a one-way partition stays one way, a reorder's window
    does not grow to its default, and a fault whose hits nothing bounds keeps its `at`
    (earlier would take in more events)."""
    tried: list[FaultPlan] = []

    def run_plan(plan: FaultPlan) -> RunReport:
        tried.append(plan)
        return _failing(plan)

    shrunk = shrink_plan(run_plan, FaultPlan([fault]), original=_failing(FaultPlan([fault])))
    assert shrunk.plan == FaultPlan([fault])
    assert tried == [FaultPlan([])]  # only the empty plan: no wider candidate was run


def test_shrinking_takes_no_run_past_max_runs_and_keeps_its_progress() -> None:
    """docs/chaos.md 'Shrinking': max_runs is the most runs shrinking may take (`runs` counts
    every run, the first one included); one that runs out returns the smallest failing plan
    it reached, not the original."""
    made: list[FaultPlan] = []

    def run_plan(plan: FaultPlan) -> RunReport:
        made.append(plan)
        return _failing(plan)

    plan = FaultPlan([chaos.Kill(target=f"root/{name}", at=1.5) for name in "abcd"])
    for budget in (1, 2, 3, 5):
        made.clear()
        shrunk = shrink_plan(run_plan, plan, max_runs=budget)
        assert len(made) == shrunk.runs <= budget
        assert shrunk.report.plan == shrunk.plan
    # 3 runs: the first, the empty plan (passes), the first half (fails): then out of runs
    shrunk = shrink_plan(run_plan, plan, max_runs=3)
    assert (shrunk.plan, shrunk.runs, shrunk.exhausted) == (FaultPlan(plan.faults[:2]), 3, True)


def test_chaos_shrink_counts_its_first_run() -> None:
    """docs/chaos.md 'Shrinking': `runs` is how many runs shrinking took, within max_runs,
    for a plan of generators too."""
    system = Agents("a")
    starts: list[int] = []

    def children() -> Any:
        starts.append(1)
        return system()

    storm = [chaos.RandomFaults(kinds=["kill"], rate=1.0, targets=["root/a"])]
    shrunk = chaos.shrink(
        children,
        storm,
        seed=0,
        fails=lambda report: report.metrics["restarts"] > 0,
        max_runs=4,
        duration=3,
        quiet_period=1,
    )
    assert len(starts) == shrunk.runs <= 4


def test_an_agent_replaced_at_its_path_is_still_judged() -> None:
    """docs/chaos.md 'Metrics': an agent stopped and spawned again at its path
    counts again, and the eventually checks judge every one (they judged only
    the newest agent at each path)."""

    @attrs.frozen
    class Count:
        n: int = 0

    @action("tick")
    def tick(state: Count, params: NoParams) -> Count:
        return Count(state.n + 1)

    worker = AgentDef("w", Count, [tick], routes={"w.tick": "tick"})

    @action("hire")
    def hire(state: Count, params: NoParams) -> ActionResult[Count]:
        return ActionResult(state, directives=[SpawnAgent(worker, "w")])

    @action("fire")
    def fire(state: Count, params: NoParams) -> ActionResult[Count]:
        return ActionResult(state, directives=[StopChild("w")])

    lead = AgentDef("lead", Count, [hire, fire], routes={"lead.hire": "hire", "lead.fire": "fire"})
    report = chaos.run(
        lambda: [jido_trio.agent_spec("lead", lead)],
        duration=4,
        quiet_period=1,
        workload=[
            chaos.Send(to="lead", signal="lead.hire", at=0),
            chaos.Send(to="lead", signal="lead.fire", at=1),
            chaos.Send(to="lead", signal="lead.hire", at=2),
        ],
    )
    assert report.metrics["agents"] == 3.0  # the lead and two workers at root/lead/w
    assert report.check("messages_accounted").verdict == "pass"
