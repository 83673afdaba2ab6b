"""Promise 4: ``sent == processed + dead_lettered + queued`` for every agent.

Under every fault kind, on agents and on the links between them (the tallies
pass amounts on around a ring), on drawn trees: at the end of the quiet
period each agent's ``sent == processed + dead_lettered + queued +
in_flight``, each of its dead letters is one of the run's
(``accounting_identity``), and once it is stopped ``sent == processed +
dead_lettered`` with nothing queued or in flight (``messages_accounted``);
every tally answers again after the faults.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from reliability_systems import (
    SHAPE_LINK_PATHS,
    SHAPE_NAMES,
    SHAPE_TARGETS,
    SHAPE_WORKLOAD,
    Census,
    Shape,
    accounting_identity,
    answers_probes,
    search,
    seeds,
    shapes,
    up_unless_escalated,
)

import chaos

HORIZON = 5.0
OPTIONS: dict[str, Any] = {
    "duration": HORIZON,
    "quiet_period": 3 * HORIZON,  # link delays and reorders land, slow handlers finish
    "workload": SHAPE_WORKLOAD,
}


@search(80)
@given(
    shape=shapes(),
    plan=chaos.fault_plans(SHAPE_TARGETS, horizon=HORIZON, links=SHAPE_LINK_PATHS),
    seed=seeds,
)
def test_every_message_is_accounted_for(shape: Shape, plan: chaos.FaultPlan, seed: int) -> None:
    """Every agent's messages add up, under every fault kind on agents and links."""
    report = chaos.run(
        shape.system(Census()),
        plan,
        seed=seed,
        checks=[accounting_identity(), answers_probes(SHAPE_NAMES), up_unless_escalated()],
        disable=["all_running", "requests_answered"],
        **OPTIONS,
    )
    chaos.assert_ok(report)


def test_drops_duplicates_partitions_and_crashes_are_counted() -> None:
    """Drops, a duplicate, a partition and a crash end where the accounts say."""
    plan = chaos.FaultPlan(
        [
            chaos.Drop(target="root/c", nth=2),
            chaos.Duplicate(target="root/pool/cell/b", source="root/pool/a", count=1),
            chaos.Partition(target="root/pool/a", source="root/c", at=2.0, until=3.0),
            chaos.Crash(target="root/pool/cell/b", nth=3),
        ]
    )
    report = chaos.run(
        Shape().system(Census()),
        plan,
        checks=[accounting_identity(), answers_probes(SHAPE_NAMES)],
        **OPTIONS,
    )
    chaos.assert_ok(report)
    assert [(r.time, r.effect) for r in report.faults if r.hit] == [
        (0.25, "duplicated tally.add"),
        (0.25, "crashed at receive"),
        (0.25, "dropped signal tally.pass"),
        (2.25, "dropped tally.add (partitioned)"),
    ]
    letters = {k: v for k, v in report.metrics.items() if k.startswith("dead_letters:")}
    assert letters == {
        "dead_letters:action_failed": 10,  # b refuses every 2 s
        "dead_letters:crashed": 1,
        "dead_letters:dropped": 2,
    }
