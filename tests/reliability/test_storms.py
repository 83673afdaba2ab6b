"""Every promise at once, under random storms of every fault kind.

Each storm is a seed: ``chaos_seed`` (derived from the test's id, or set
with ``--chaos-seed`` / ``$CHAOS_SEED`` for other storms) plus the storm's
number. In swarm mode each seed keeps its own subset of the fault kinds and
targets, three faults a second on the three-level tree.
"""

from __future__ import annotations

import pytest
from reliability_systems import (
    SHAPE_NAMES,
    SHAPE_TARGETS,
    SHAPE_WORKLOAD,
    Census,
    Shape,
    accounting_identity,
    answers_probes,
    census_matches_tree,
    registry_consistent,
    registry_settled,
    run_to_the_end,
    up_unless_escalated,
)

import chaos

HORIZON = 5.0


@pytest.mark.parametrize("storm", range(10))
def test_a_storm_of_every_fault_kind_breaks_no_promise(chaos_seed: int, storm: int) -> None:
    """A storm of every fault kind breaks no promise: names, accounts, liveness, no leftovers."""
    census = Census()
    plan = chaos.FaultPlan(
        [chaos.RandomFaults(kinds=chaos.FAULT_KINDS, rate=3.0, targets=SHAPE_TARGETS)]
    )
    after = run_to_the_end(
        Shape().system(census),
        plan,
        seed=chaos_seed + storm,
        swarm=True,
        duration=HORIZON,
        quiet_period=3 * HORIZON,
        workload=SHAPE_WORKLOAD,
        checks=[
            registry_consistent(),
            registry_settled(),
            accounting_identity(),
            answers_probes(SHAPE_NAMES),
            census_matches_tree(census),
            up_unless_escalated(),
        ],
        disable=["all_running", "requests_answered"],
    )
    chaos.assert_ok(after.report)
    assert (census.left(), census.overlaps) == ({}, [])
    assert (after.tree, after.names, after.tasks, after.unaccounted()) == ([], [], [], [])
