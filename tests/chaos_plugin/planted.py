"""A system with one planted bug, for the property tests of fault plans.

Two counters count the ``count.add`` signals the workload sends every half
second. ``root/ledger`` is written right: a restart resumes from its last
committed count. ``root/tracker`` has the bug: it restarts from its initial
state (``restart_from="initial"``), so after a restart its count goes down,
which the :func:`never_decreases` invariant catches. Of the fault kinds in
:data:`KINDS`, only a ``kill`` restarts an agent, so the one minimal failing
plan is a single kill of ``root/tracker``.
"""

from __future__ import annotations

from typing import Any, Final

import attrs

import chaos
from jido_trio import AgentDef, ChildSpec, NoParams, action, agent_spec


@attrs.frozen
class Count:
    count: int = 0


@action("add")
def add(state: Count, params: NoParams) -> Count:
    return Count(state.count + 1)


COUNTER: Final = AgentDef("counter", Count, [add], routes={"count.add": "add"})


def children() -> list[ChildSpec]:
    return [
        agent_spec("ledger", COUNTER),
        agent_spec("tracker", COUNTER, restart_from="initial"),  # the planted bug
    ]


SYSTEM: Final = chaos.System(children)
WORKLOAD: Final = [
    chaos.Send(to="ledger", signal="count.add", every=0.5),
    chaos.Send(to="tracker", signal="count.add", every=0.5),
]
#: the planted target is not first, nor the planted kind: shrinking keeps them
#: because the bug needs them, not because they are the simplest
TARGETS: Final = ("root/ledger", "root/tracker")
KINDS: Final = ("drop", "duplicate", "pause", "kill")
DURATION: Final = 5.0
QUIET_PERIOD: Final = 2.0


def never_decreases() -> chaos.Invariant:
    """No counter's count ever goes down (a new one for each run: it remembers
    the highest count it saw per agent)."""
    highest: dict[str, int] = {}

    def check(path: str, state: Any) -> bool | str:
        if state.count < highest.get(path, 0):
            return f"count went down from {highest[path]} to {state.count}"
        highest[path] = state.count
        return True

    return chaos.Invariant("count_never_decreases", check)


def run(plan: chaos.FaultPlan, *, seed: int = 0) -> chaos.RunReport:
    """The planted system under ``plan``."""
    return chaos.run(
        SYSTEM,
        plan,
        seed=seed,
        duration=DURATION,
        quiet_period=QUIET_PERIOD,
        workload=WORKLOAD,
        checks=[never_decreases()],
    )
