"""Promise 3: no ``call`` blocks past its deadline.

Drawn workloads of calls with timeouts from 10 ms to 3 s, some of them to a
tally whose mailbox a flood of casts keeps full (so they wait for room),
under hangs, pauses, delays, drops, kills, duplicates and crashes: the
built-in ``call_deadlines`` check holds (every call returns, with a result,
an error or a timeout, by its deadline), and once the faults are healed
every tally answers a probe.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from reliability_systems import (
    TALLIES,
    TALLY_TARGETS,
    answers_probes,
    calls,
    search,
    seeds,
    tallies_system,
)

import chaos

HORIZON = 5.0
KINDS = ("hang", "pause", "delay", "drop", "kill", "duplicate", "crash")
#: casts that keep the narrow mailbox full, so calls to it wait for room
FLOOD = chaos.Send(to="narrow", signal="tally.add", data={"amount": 1}, every=0.1, until=HORIZON)
OPTIONS: dict[str, Any] = {
    "duration": HORIZON,
    "quiet_period": 2 * HORIZON + 1,  # a delay in progress at the heal is over by the probes
    "checks": [answers_probes(TALLIES)],
}


@search(150)
@given(
    plan=chaos.fault_plans(TALLY_TARGETS, kinds=KINDS, horizon=HORIZON),
    workload=st.lists(calls(horizon=HORIZON), min_size=1, max_size=6),
    flood=st.booleans(),
    seed=seeds,
)
def test_every_call_returns_by_its_deadline(
    plan: chaos.FaultPlan, workload: list[chaos.Send], flood: bool, seed: int
) -> None:
    """Every call returns by its deadline, whatever holds up its message."""
    report = chaos.run(
        tallies_system(),
        plan,
        seed=seed,
        workload=[*workload, FLOOD] if flood else workload,
        **OPTIONS,
    )
    chaos.assert_ok(report)
    assert report.metrics["calls"] >= len(workload) + len(TALLIES)


def call(to: str, at: float, timeout: float) -> chaos.Send:
    return chaos.Send(
        to=to, signal="tally.add", data={"amount": 1}, call=True, at=at, timeout=timeout
    )


def test_a_hung_agent_and_a_full_mailbox_time_calls_out_on_time() -> None:
    """Calls to a hung agent or into a full mailbox time out exactly at their deadline."""
    plan = chaos.FaultPlan(
        [chaos.Hang(target="root/narrow", at=1.0, count=1), chaos.Drop(target="root/t0", nth=1)]
    )
    workload = [call("narrow", 1.0, 0.5), call("narrow", 2.0, 0.25), call("t0", 1.0, 3.0), FLOOD]
    report = chaos.run(tallies_system(), plan, workload=workload, keep_trace=None, **OPTIONS)
    chaos.assert_ok(report)
    replies = [line for line in report.trace if " reply " in line]
    assert replies[:3] == [
        "1.000000 reply t0 down",
        "1.500000 reply narrow timeout",
        "2.250000 reply narrow timeout",
    ]
    assert (report.metrics["calls.timeout"], report.metrics["calls.down"]) == (2, 1)
