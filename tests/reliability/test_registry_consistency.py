"""Promise 5: the registry stays consistent.

Under kills, storms, crashes, failed starts and loads, failed saves,
escalations, and a tally that stops itself (for good if it is transient or
temporary): after every committed state each registered name maps to a live
agent of that name whose node is in the tree (``registry_consistent``);
after the quiet period every live agent holds its name, and no name maps to
a stopped node (``registry_settled``); once the system is stopped no name is
held (``names_released``).
"""

from __future__ import annotations

from typing import Any

import trio
from hypothesis import given
from reliability_systems import (
    SHAPE_TARGETS,
    SHAPE_WORKLOAD,
    TALLY,
    Census,
    Shape,
    registry_consistent,
    registry_settled,
    search,
    seeds,
    shapes,
    up_unless_escalated,
)

import chaos
import jido_trio
from jido_trio import ChildSpec, agent_spec

HORIZON = 5.0
KINDS = ("kill", "restart_storm", "crash", "fail_start", "corrupt_load", "store_write_fail")
#: ``c`` stops itself now and then, in the fault window: for good, if it is
#: transient or temporary
QUITS = chaos.Send(to="c", signal="tally.quit", at=1.5, every=2.0, until=HORIZON)
OPTIONS: dict[str, Any] = {
    "duration": HORIZON,
    "quiet_period": 2 * HORIZON,
    "workload": [*SHAPE_WORKLOAD, QUITS],
}


@search(100)
@given(
    shape=shapes(max_restarts=2),
    plan=chaos.fault_plans(SHAPE_TARGETS, kinds=KINDS, horizon=HORIZON),
    seed=seeds,
)
def test_every_name_maps_to_a_live_agent(shape: Shape, plan: chaos.FaultPlan, seed: int) -> None:
    """Every registered name maps to a live agent of that name, whatever the faults."""
    report = chaos.run(
        shape.system(Census()),
        plan,
        seed=seed,
        checks=[registry_consistent(), registry_settled(), up_unless_escalated()],
        disable=["all_running", "requests_answered"],
        **OPTIONS,
    )
    chaos.assert_ok(report)


def test_names_come_back_with_a_restart_and_go_with_a_stop_for_good() -> None:
    """Names come back with a restart and go away with a stop for good."""

    def names(view: chaos.SystemView) -> bool | str:
        held = jido_trio.current_registry().names()
        return held == ["a", "b"] or f"held: {held}"

    report = chaos.run(
        Shape(c_restart="temporary").system(Census()),
        [chaos.Kill(target="root/pool", at=1.0)],
        checks=[registry_consistent(), registry_settled(), chaos.Eventually("names", names)],
        disable=["requests_answered"],  # c is gone for good: calls to it find no agent
        **OPTIONS,
    )
    chaos.assert_ok(report)
    assert report.metrics["restarts:root/pool"] == 1
    assert report.check("names").verdict == "pass"


def test_a_name_held_by_something_else_than_an_agent_is_seen() -> None:
    """registry_consistent reports a name that maps to something else than an agent."""

    async def squatter(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        with jido_trio.register("stray", "not an agent"):
            task_status.started()
            await trio.sleep_forever()

    def children() -> list[ChildSpec]:
        return [agent_spec("t", TALLY), ChildSpec("squatter", squatter)]

    report = chaos.run(
        children,
        workload=[chaos.Send(to="t", signal="tally.add", data={"amount": 1}, every=1.0)],
        duration=3.0,
        quiet_period=0.0,
        checks=[registry_consistent()],
    )
    assert report.failures == (report.check("registry_consistent"),)
    assert report.check("registry_consistent").detail == (
        "t=0 root/t: 'stray' maps to 'not an agent', not an agent (and 2 more violation(s))"
    )
