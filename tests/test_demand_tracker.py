"""The Demand Tracker example (docs/examples/demand_tracker.py), pure part."""

from __future__ import annotations

from typing import Any

import pytest
from docs_examples import load_example

from jido_trio import (
    Agent,
    AgentDef,
    Emit,
    Error,
    Every,
    InvalidParamsError,
    InvalidStateError,
    Signal,
    UnroutableSignalError,
    cmd,
    execute,
)

dt = load_example("demand_tracker")
TRACKER: AgentDef[Any] = dt.DEMAND_TRACKER


def tracker(demand: int = 50, ticks: int = 0) -> Agent[Any]:
    return TRACKER.new("listing-1", dt.DemandState("listing-1", demand, ticks))


def changed(previous: int, current: int, reason: str) -> Emit:
    return Emit(
        "listing.demand.changed",
        {
            "listing_id": "listing-1",
            "previous": previous,
            "current": current,
            "delta": current - previous,
            "reason": reason,
        },
    )


def test_definition() -> None:
    """The tracker declares its state, actions, routes and 30 s heartbeat."""
    assert isinstance(TRACKER, AgentDef)
    assert TRACKER.name == "demand_tracker"
    assert TRACKER.state_type is dt.DemandState
    assert list(TRACKER.actions) == ["boost", "cool", "tick", "decay", "cleanup"]
    assert dict(TRACKER.routes) == {
        "listing.demand.boost": "boost",
        "listing.demand.cool": "cool",
        "listing.demand.tick": "tick",
        "heartbeat.tick": "decay",
        "cleanup.run": "cleanup",
    }
    assert TRACKER.schedules == (Every(30.0, "heartbeat.tick"),)


def test_new_tracks_the_agent_id() -> None:
    """A new tracker tracks the listing named by its id, at demand 50 and no ticks."""
    agent = TRACKER.new("listing-9")
    assert agent.state == dt.DemandState("listing-9", 50, 0)
    assert agent.version == 0


@pytest.mark.parametrize("demand", [-1, 101])
def test_demand_bounds(demand: int) -> None:
    """Demand outside 0..100 is not a valid state."""
    with pytest.raises(ValueError, match="'demand' must be"):
        dt.DemandState("x", demand)


@pytest.mark.parametrize(
    ("signal", "start", "demand", "emitted"),
    [
        (Signal("listing.demand.boost"), 50, 60, changed(50, 60, "boost")),
        (Signal("listing.demand.boost", {"amount": 5}), 50, 55, changed(50, 55, "boost")),
        (Signal("listing.demand.boost", {"amount": 30}), 95, 100, changed(95, 100, "boost")),
        (Signal("listing.demand.boost", {"amount": 0}), 50, 50, None),
        (Signal("listing.demand.boost"), 100, 100, None),
        (Signal("listing.demand.cool"), 50, 40, changed(50, 40, "cool")),
        (Signal("listing.demand.cool", {"amount": 25}), 20, 0, changed(20, 0, "cool")),
        (Signal("listing.demand.cool"), 0, 0, None),
        (Signal("heartbeat.tick"), 50, 48, changed(50, 48, "heartbeat")),
        (Signal("heartbeat.tick"), 1, 0, changed(1, 0, "heartbeat")),
        (Signal("heartbeat.tick"), 0, 0, None),
    ],
)
def test_demand_changes(signal: Signal, start: int, demand: int, emitted: Emit | None) -> None:
    """Boost/cool/heartbeat move demand within 0..100 and emit only real changes."""
    outcome = execute(tracker(start, ticks=3), signal)
    assert outcome.ok
    assert outcome.agent.state == dt.DemandState("listing-1", demand, 3)
    assert outcome.directives == (() if emitted is None else (emitted,))
    assert outcome.result == demand
    assert outcome.agent.version == 1


def test_tick_decays_and_counts() -> None:
    """A tick decays demand by 2 and counts itself."""
    new, directives = cmd(tracker(50, ticks=1), Signal("listing.demand.tick"))
    assert new.state == dt.DemandState("listing-1", 48, 2)
    assert directives == [changed(50, 48, "tick")]


def test_tick_at_zero_counts_without_emitting() -> None:
    """A tick at demand 0 still counts, but emits nothing."""
    new, directives = cmd(tracker(0, ticks=1), Signal("listing.demand.tick"))
    assert new.state == dt.DemandState("listing-1", 0, 2)
    assert directives == []


def test_cleanup_resets_ticks() -> None:
    """cleanup.run resets ticks to 0 and leaves demand alone, emitting nothing."""
    outcome = execute(tracker(70, ticks=9), Signal("cleanup.run"))
    assert outcome.agent.state == dt.DemandState("listing-1", 70, 0)
    assert outcome.directives == ()
    assert outcome.result == dt.DemandState("listing-1", 70, 0)


def test_instructions_work_like_signals() -> None:
    """Calling the actions directly gives the same result as signals."""
    by_instruction = cmd(tracker(), [dt.boost(amount=20), dt.tick(), dt.cleanup()])
    by_signal = cmd(
        tracker(),
        [
            Signal("listing.demand.boost", {"amount": 20}),
            Signal("listing.demand.tick"),
            Signal("cleanup.run"),
        ],
    )
    assert by_instruction == by_signal
    assert by_instruction[0].state == dt.DemandState("listing-1", 68, 0)


@pytest.mark.parametrize(
    ("data", "line"),
    [
        ({"amount": "5"}, "amount: expected int @ $.data.amount"),
        ({"amount": 5.0}, "amount: expected int @ $.data.amount"),
        ({"amount": True}, "amount: expected int @ $.data.amount"),
        ({"amount": -1}, "amount: 'amount' must be >= 0: -1 @ $.data.amount"),
        ({"amount": 1, "why": "x"}, "why: unknown field @ $.data.why"),
        ("5", "data: expected a mapping, got str @ $.data"),
    ],
)
def test_bad_boost_data(data: Any, line: str) -> None:
    """Bad boost data leaves the tracker unchanged and yields one Error with path lines."""
    agent = tracker()
    new, directives = cmd(agent, Signal("listing.demand.boost", data))
    assert new is agent
    expected = InvalidParamsError("boost", [line])
    assert directives == [Error(expected, action="boost")]
    assert str(directives[0].error) == f"invalid params for action 'boost':\n{line}"  # type: ignore[attr-defined]


def test_unroutable_signal() -> None:
    """A signal the tracker has no route for is an UnroutableSignalError."""
    agent = tracker()
    outcome = execute(agent, Signal("listing.demand.explode"))
    assert outcome.agent is agent
    assert isinstance(outcome.error, UnroutableSignalError)


def test_batch_is_atomic() -> None:
    """A batch with one bad signal changes nothing and emits nothing but the Error."""
    agent = tracker()
    outcome = execute(
        agent,
        [Signal("listing.demand.boost"), Signal("listing.demand.cool", {"amount": "x"})],
    )
    assert outcome.agent is agent
    assert outcome.directives == (Error(outcome.error, action="cool"),)  # type: ignore[arg-type]


def test_dump_load_round_trip() -> None:
    """The tracker's state dumps to plain data and loads back."""
    state = dt.DemandState("listing-1", 12, 3)
    dumped = TRACKER.dump_state(state)
    assert dumped == {"listing_id": "listing-1", "demand": 12, "ticks": 3}
    assert TRACKER.load_state(dumped) == state


def test_load_rejects_out_of_range_demand() -> None:
    """Loading a checkpoint with demand out of range fails with the field's path."""
    with pytest.raises(InvalidStateError) as info:
        TRACKER.load_state({"listing_id": "x", "demand": 500, "ticks": 0})
    assert info.value.errors == ("demand: 'demand' must be <= 100: 500 @ $.demand",)


def test_main_prints_the_walkthrough(capsys: pytest.CaptureFixture[str]) -> None:
    """Running the example shows cmd at work, ending at version 4."""
    dt.main()
    out = capsys.readouterr().out
    assert "new:       DemandState(listing_id='listing-42', demand=50, ticks=0) version 0" in out
    assert "boost 50:  DemandState(listing_id='listing-42', demand=100, ticks=0) (capped)" in out
    assert "bad cool:  unchanged" in out
    assert "version:   4\n" in out
    assert "dumped:    {'listing_id': 'listing-42', 'demand': 91, 'ticks': 0}" in out
