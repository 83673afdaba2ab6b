"""Agents that spawn agents (``SpawnAgent`` / ``StopChild``) under kill faults.

A lead hires and fires tallies of its own every few seconds while it and
they are killed, stormed, crashed, failed to restart, and have messages
dropped and duplicated: names stay truthful, every agent's messages add up
(the members replaced at the same path too), the lead runs exactly the
members it last hired once the faults are over, and nothing of it is left
once the system is stopped.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from reliability_systems import (
    TEAM_TARGETS,
    TEAM_WORKLOAD,
    accounting_identity,
    registry_consistent,
    registry_settled,
    run_to_the_end,
    search,
    seeds,
    team_settled,
    team_system,
    up_unless_escalated,
)

import chaos

HORIZON = 6.0
KINDS = ("kill", "restart_storm", "crash", "fail_start", "drop", "duplicate")
OPTIONS: dict[str, Any] = {"duration": HORIZON, "quiet_period": HORIZON, "workload": TEAM_WORKLOAD}


def checks() -> list[chaos.Invariant | chaos.Eventually]:
    return [
        registry_consistent(),
        registry_settled(),
        accounting_identity(),
        team_settled(2 * HORIZON),  # the end of the quiet period
        up_unless_escalated(),
    ]


@search(80)
@given(
    member_restarts=st.integers(0, 3),
    plan=chaos.fault_plans(TEAM_TARGETS, kinds=KINDS, horizon=HORIZON),
    seed=seeds,
)
def test_spawned_agents_live_and_die_with_their_parent(
    member_restarts: int, plan: chaos.FaultPlan, seed: int
) -> None:
    """Spawned agents live and die with their parent and keep every promise meanwhile."""
    after = run_to_the_end(
        team_system(member_restarts=member_restarts),
        plan,
        seed=seed,
        checks=checks(),
        disable=["all_running", "requests_answered"],
        **OPTIONS,
    )
    chaos.assert_ok(after.report)
    assert (after.tree, after.names, after.tasks) == ([], [], [])
    assert after.unaccounted() == []


def test_a_killed_lead_loses_its_members_and_hires_them_again() -> None:
    """A killed lead loses its members with it; those it hires again are new agents."""
    plan = chaos.FaultPlan(
        [chaos.Kill(target="root/lead", at=1.5), chaos.Kill(target="root/lead/m2", at=2.5)]
    )
    after = run_to_the_end(team_system(), plan, checks=checks(), keep_trace=None, **OPTIONS)
    chaos.assert_ok(after.report)
    assert [line for line in after.report.trace if " child.exited root/lead/" in line][:3] == [
        "1.500000 child.exited root/lead/m1 reason=cancelled restart=False",
        "1.500000 child.exited root/lead/m0 reason=cancelled restart=False",
        "2.500000 child.exited root/lead/m2 reason=ChildKilled restart=True",
    ]
    metrics = after.report.metrics
    assert (metrics["restarts:root/lead"], metrics["restarts:root/lead/m2"]) == (1, 1)
    # lead and c, and the members hired at 0, 1, ..., 11 s: twelve agents
    assert sorted(ref.path for ref in after.agents) == [
        "root/c",
        "root/lead",
        *["root/lead/m0"] * 4,
        *["root/lead/m1"] * 4,
        *["root/lead/m2"] * 4,
    ]
    assert (after.tree, after.names, after.tasks, after.unaccounted()) == ([], [], [], [])
