"""The same seed replays the same run.

``check_determinism`` on drawn trees and plans of every fault kind (on
agents and links) with drawn seeds; the concrete plan a swarm-mode storm
records replays it; and another seed makes another run.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from reliability_systems import (
    SHAPE_LINK_PATHS,
    SHAPE_TARGETS,
    SHAPE_WORKLOAD,
    Census,
    Shape,
    search,
    seeds,
    shapes,
)

import chaos

HORIZON = 5.0
OPTIONS: dict[str, Any] = {"duration": HORIZON, "quiet_period": HORIZON, "workload": SHAPE_WORKLOAD}


@search(40)
@given(
    shape=shapes(),
    plan=chaos.fault_plans(SHAPE_TARGETS, horizon=HORIZON, links=SHAPE_LINK_PATHS),
    seed=seeds,
)
def test_a_seed_replays_its_run_event_for_event(
    shape: Shape, plan: chaos.FaultPlan, seed: int
) -> None:
    """The same tree, plan, workload and seed replay the same run, event for event."""
    report = chaos.check_determinism(shape.system(Census()), plan, seed=seed, **OPTIONS)
    assert len(report.digest) == 64


@search(30)
@given(
    kinds=st.lists(st.sampled_from(chaos.FAULT_KINDS), min_size=1, unique=True),
    rate=st.sampled_from([0.5, 1.0, 3.0]),
    seed=seeds,
)
def test_the_plan_a_swarm_storm_ran_replays_it(kinds: list[str], rate: float, seed: int) -> None:
    """The concrete plan a swarm storm ran, replayed without swarm, makes the same run."""
    storm = [chaos.RandomFaults(kinds=kinds, rate=rate, targets=list(SHAPE_TARGETS))]
    report = chaos.run(Shape().system(Census()), storm, seed=seed, swarm=True, **OPTIONS)
    replay = chaos.run(Shape().system(Census()), report.plan, seed=seed, **OPTIONS)
    assert replay.digest == report.digest
    assert replay.ok == report.ok


def test_another_seed_makes_another_run() -> None:
    """The digest names the run: same seed same digest, another seed another."""
    plan = chaos.FaultPlan(
        [
            chaos.Drop(target="root/*", pick="one", probability=0.5),
            chaos.Kill(target="root/pool/**", pick="one", at=1.0),
        ]
    )

    def digest(seed: int) -> str:
        return chaos.run(Shape().system(Census()), plan, seed=seed, **OPTIONS).digest

    assert digest(1) == digest(1)
    assert digest(1) != digest(2)
