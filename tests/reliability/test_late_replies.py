"""Promise 6: a late reply never harms a server.

Drawn calls with timeouts of 10 to 500 ms, under delays, hangs and pauses
that hold their messages longer than that: the callers time out, the answers
come later and reach no one, and the server never crashes nor restarts
(``restarts <= 0``), holds exactly the adds it counts as processed, keeps
its accounts, and answers the next call.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from reliability_systems import (
    TALLIES,
    TALLY_TARGETS,
    accounting_identity,
    adds_match_processed,
    answers_probes,
    calls,
    search,
    seeds,
    tallies_system,
)

import chaos

HORIZON = 5.0
#: the faults that make an answer late without taking the agent down
KINDS = ("delay", "hang", "pause")
OPTIONS: dict[str, Any] = {"duration": HORIZON, "quiet_period": 2 * HORIZON + 1}


def checks() -> list[chaos.Invariant | chaos.Eventually | chaos.Bound]:
    """The server kept its promises: its state holds exactly the adds it
    processed, its accounts add up, it answers, and it never restarted."""
    return [
        adds_match_processed(TALLIES),  # before the probes, which are processed too
        accounting_identity(),
        answers_probes(TALLIES),
        chaos.Bound("restarts", max=0),
    ]


@search(150)
@given(
    plan=chaos.fault_plans(TALLY_TARGETS, kinds=KINDS, horizon=HORIZON, min_faults=1),
    workload=st.lists(calls(horizon=HORIZON, timeouts=(0.01, 0.1, 0.5)), min_size=1, max_size=6),
    seed=seeds,
)
def test_replies_after_the_caller_gave_up_are_dropped_harmlessly(
    plan: chaos.FaultPlan, workload: list[chaos.Send], seed: int
) -> None:
    """Answers that come after their caller gave up are dropped, and the server is unharmed."""
    report = chaos.run(
        tallies_system(), plan, seed=seed, workload=workload, checks=checks(), **OPTIONS
    )
    chaos.assert_ok(report)


def call(to: str, at: float, timeout: float) -> chaos.Send:
    return chaos.Send(
        to=to, signal="tally.add", data={"amount": 1}, call=True, at=at, timeout=timeout
    )


def test_a_delayed_and_a_hung_answer_reach_no_one() -> None:
    """A delayed and a hung answer reach no one; each add is still applied once."""

    def totals(view: chaos.SystemView) -> bool | str:
        now = (view.state("t0").total, view.state("t1").total)
        return now == (2, 1) or f"totals {now}"

    report = chaos.run(
        tallies_system(),
        [
            chaos.Delay(target="root/t0", seconds=2.0, count=1),
            chaos.Hang(target="root/t1", at=2.0, count=1),
        ],
        workload=[call("t0", 1.0, 0.1), call("t0", 1.5, 3.0), call("t1", 2.0, 0.1)],
        checks=[*checks(), chaos.Eventually("totals", totals)],
        keep_trace=None,
        **OPTIONS,
    )
    chaos.assert_ok(report)
    replies = [line for line in report.trace if " reply " in line]
    assert replies[:3] == [
        "1.100000 reply t0 timeout",
        "2.100000 reply t1 timeout",
        "3.000000 reply t0 ok",
    ]
    assert report.check("totals").verdict == "pass"
