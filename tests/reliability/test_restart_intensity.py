"""Promise 2: restart intensity is never exceeded without escalation.

On drawn trees three supervisors deep (one_for_one, one_for_all and
rest_for_one, intensities of 0 to 2 restarts in 0.5 to 5 s, backoff or not)
under kills, restart storms, crashes, failed starts and failed saves, the
built-in ``restart_intensity`` check holds: no supervisor restarts a child
more than ``max_restarts`` times within ``max_seconds`` without escalating.
After the quiet period the tree runs again, unless the root gave up.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from reliability_systems import (
    SHAPE_TARGETS,
    SHAPE_WORKLOAD,
    Census,
    Shape,
    search,
    seeds,
    shapes,
    up_unless_escalated,
)

import chaos

HORIZON = 5.0
KINDS = ("kill", "restart_storm", "crash", "fail_start", "store_write_fail")
OPTIONS: dict[str, Any] = {
    "duration": HORIZON,
    "quiet_period": 2 * HORIZON + 1,
    "workload": SHAPE_WORKLOAD,
    "checks": [up_unless_escalated()],
    "disable": ["all_running", "requests_answered"],
}


@search(100)
@given(
    shape=shapes(max_restarts=2),
    plan=chaos.fault_plans(SHAPE_TARGETS, kinds=KINDS, horizon=HORIZON, min_faults=1),
    seed=seeds,
)
def test_no_supervisor_restarts_past_its_intensity(
    shape: Shape, plan: chaos.FaultPlan, seed: int
) -> None:
    """No supervisor restarts past its intensity without escalating, under any restart fault."""
    report = chaos.run(shape.system(Census()), plan, seed=seed, **OPTIONS)
    chaos.assert_ok(report)


def test_a_storm_on_a_pool_member_escalates_to_the_root() -> None:
    """A storm past a nested supervisor's intensity escalates it, and its parent restarts it."""
    report = chaos.run(
        Shape(pool_restarts=1).system(Census()),
        [chaos.RestartStorm(target="root/pool/a", at=1.0, count=3, interval=0.1)],
        keep_trace=None,
        **OPTIONS,
    )
    chaos.assert_ok(report)
    assert [(r.time, r.effect) for r in report.faults] == [
        (1.0, "killed"),
        (1.1, "killed"),
        (1.2, "missed: root/pool/a is stopped"),
    ]
    escalation = [
        line for line in report.trace if "escalated" in line or "RestartIntensityError" in line
    ]
    assert escalation == [
        "1.100000 supervisor.escalated root/pool child=a",
        "1.600000 supervisor.stopped root/pool reason=escalated",
        "1.600000 child.exited root/pool reason=RestartIntensityError restart=True",
    ]
    metrics = report.metrics
    assert (metrics["escalations"], metrics["restarts:root/pool/a"]) == (1, 1)
    assert metrics["restarts:root/pool"] == 1
