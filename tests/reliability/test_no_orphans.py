"""Promise 1: no task outlives its supervisor.

On drawn trees (every strategy, low intensities, backoff or not, task
children that linger past their grace on a stop) under kills, storms, failed
starts, crashes, hangs, pauses and delays: no incarnation of a child starts
while another runs; after the quiet period the counted tasks running match
the tree; once chaos has stopped the system no incarnation, helper task, tree
node, registered name or Trio task is left, and every agent that ever ran
has its messages accounted for.
"""

from __future__ import annotations

from typing import Any

import trio
from hypothesis import given
from reliability_systems import (
    SHAPE_TARGETS,
    SHAPE_WORKLOAD,
    Census,
    Shape,
    census_matches_tree,
    run_to_the_end,
    search,
    seeds,
    shapes,
    up_unless_escalated,
)

import chaos
from jido_trio import ChildSpec

HORIZON = 5.0
KINDS = ("kill", "restart_storm", "fail_start", "crash", "hang", "pause", "delay")
OPTIONS: dict[str, Any] = {
    "duration": HORIZON,
    "quiet_period": 2 * HORIZON + 1,  # a delay in progress at the heal is over by the end
    "workload": SHAPE_WORKLOAD,
}


@search(100)
@given(
    shape=shapes(),
    plan=chaos.fault_plans(SHAPE_TARGETS, kinds=KINDS, horizon=HORIZON),
    seed=seeds,
)
def test_nothing_runs_after_the_system_stops(
    shape: Shape, plan: chaos.FaultPlan, seed: int
) -> None:
    """No task, tree node or name outlives the system it ran in, whatever the faults."""
    census = Census()
    after = run_to_the_end(
        shape.system(census),
        plan,
        seed=seed,
        checks=[census_matches_tree(census), up_unless_escalated()],
        disable=["all_running", "requests_answered"],
        **OPTIONS,
    )
    chaos.assert_ok(after.report)
    assert census.overlaps == []
    assert census.left() == {}
    assert (after.tree, after.names, after.tasks) == ([], [], [])
    assert after.unaccounted() == []


def test_a_killed_pool_and_pump_come_back_and_leave_nothing() -> None:
    """Killed subtrees and task children restart, once each, and leave nothing behind."""
    census = Census()
    plan = chaos.FaultPlan(
        [chaos.Kill(target="root/pool", at=1.0), chaos.Kill(target="root/pump", at=2.0)]
    )
    after = run_to_the_end(
        Shape().system(census), plan, checks=[census_matches_tree(census)], **OPTIONS
    )
    chaos.assert_ok(after.report)
    assert [r.effect for r in after.report.faults] == ["killed", "killed"]
    metrics = after.report.metrics
    assert (metrics["restarts:root/pool"], metrics["restarts:root/pump"]) == (1, 1)
    assert census.starts == 4  # pump and drain, each started twice
    assert sorted(census.live) == [
        "root/pool/cell/drain",
        "root/pool/cell/drain+helper",
        "root/pump",
        "root/pump+helper",
    ]
    assert (census.left(), census.overlaps) == ({}, [])
    assert (after.tree, after.names, after.tasks) == ([], [], [])
    assert len(after.agents) == 3


def test_a_task_left_running_is_seen() -> None:
    """A task left behind by a child (a system task it spawned) is seen after the run."""

    async def leaky(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        trio.lowlevel.spawn_system_task(trio.sleep_forever, name="stray")
        task_status.started()
        await trio.sleep_forever()

    after = run_to_the_end(
        chaos.System(lambda: [ChildSpec("leaky", leaky)]),
        chaos.FaultPlan(),
        duration=1.0,
        quiet_period=0.0,
    )
    chaos.assert_ok(after.report)
    assert (after.tree, after.names, after.tasks) == ([], [], ["stray"])
