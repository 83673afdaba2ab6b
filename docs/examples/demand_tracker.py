"""The Demand Tracker agent: how much demand a listing has, from 0 to 100.

This module is the pure part: the state, the actions, the routes and the
periodic heartbeat, bundled as ``DEMAND_TRACKER``. Nothing here does I/O or
reads a clock; ``cmd`` runs it anywhere, tests included.

Signals and what they do:

- ``listing.demand.boost`` -> ``boost``: demand + ``amount`` (default 10), capped at 100.
- ``listing.demand.cool`` -> ``cool``: demand - ``amount`` (default 10), floored at 0.
- ``listing.demand.tick`` -> ``tick``: demand - 2, floored at 0; ``ticks`` + 1.
- ``heartbeat.tick`` -> ``decay``: demand - 2, floored at 0 (sent every 30 s).
- ``cleanup.run`` -> ``cleanup``: ``ticks`` back to 0.

Every change of demand emits ``listing.demand.changed`` on the bus with
``listing_id``, ``previous``, ``current``, ``delta`` and ``reason`` (``"boost"``,
``"cool"``, ``"tick"`` or ``"heartbeat"``); nothing is emitted when demand does
not change. Each action's result is the demand after it.

The runtime part, :func:`run_demo`, runs the same definition as a supervised
AgentServer (``jido_trio.agent_spec`` under ``jido_trio.open_supervisor``) on
virtual time: calls and casts, the heartbeat every 30 s, the
``listing.demand.changed`` events on the bus, a kill and the restart from the
last committed state, and the mailbox accounting.

Run ``python docs/examples/demand_tracker.py`` to see ``cmd`` at work, then the
runtime demo; it prints the same bytes every time.
"""

from __future__ import annotations

import attrs
import trio
import trio.testing

import jido_trio
from jido_trio import (
    ActionResult,
    Agent,
    AgentDef,
    AgentRef,
    Emit,
    Every,
    InvalidParamsError,
    NoParams,
    Signal,
    TelemetryEvent,
    action,
    cmd,
    execute,
)

__all__ = [
    "DEMAND_TRACKER",
    "BoostParams",
    "CoolParams",
    "DemandState",
    "boost",
    "cleanup",
    "cool",
    "decay",
    "tick",
]

MAX_DEMAND = 100
DECAY = 2


@attrs.frozen
class DemandState:
    """A listing's demand.

    Attributes:
        listing_id: the listing tracked.
        demand: 0 to 100. Defaults to 50.
        ticks: ``listing.demand.tick`` signals since the last cleanup. Defaults to 0.
    """

    listing_id: str
    demand: int = attrs.field(
        default=50, validator=[attrs.validators.ge(0), attrs.validators.le(MAX_DEMAND)]
    )
    ticks: int = attrs.field(default=0, validator=attrs.validators.ge(0))


@attrs.frozen
class BoostParams:
    """How much to add. ``amount`` defaults to 10 and must be >= 0."""

    amount: int = attrs.field(default=10, validator=attrs.validators.ge(0))


@attrs.frozen
class CoolParams:
    """How much to take away. ``amount`` defaults to 10 and must be >= 0."""

    amount: int = attrs.field(default=10, validator=attrs.validators.ge(0))


def _set_demand(
    state: DemandState, demand: int, reason: str, *, ticks: int | None = None
) -> ActionResult[DemandState]:
    """Move demand to ``demand`` (clamped to 0..100), emitting the change if any."""
    current = max(0, min(MAX_DEMAND, demand))
    new = attrs.evolve(state, demand=current, ticks=state.ticks if ticks is None else ticks)
    if current == state.demand:
        return ActionResult(new, result=current)
    changed = Emit(
        "listing.demand.changed",
        {
            "listing_id": state.listing_id,
            "previous": state.demand,
            "current": current,
            "delta": current - state.demand,
            "reason": reason,
        },
    )
    return ActionResult(new, result=current, directives=[changed])


@action("boost", params=BoostParams, description="Raise demand, capped at 100.")
def boost(state: DemandState, params: BoostParams) -> ActionResult[DemandState]:
    return _set_demand(state, state.demand + params.amount, "boost")


@action("cool", params=CoolParams, description="Lower demand, floored at 0.")
def cool(state: DemandState, params: CoolParams) -> ActionResult[DemandState]:
    return _set_demand(state, state.demand - params.amount, "cool")


@action("tick", description="Decay demand by 2 and count the tick.")
def tick(state: DemandState, params: NoParams) -> ActionResult[DemandState]:
    return _set_demand(state, state.demand - DECAY, "tick", ticks=state.ticks + 1)


@action("decay", description="The periodic heartbeat: decay demand by 2.")
def decay(state: DemandState, params: NoParams) -> ActionResult[DemandState]:
    return _set_demand(state, state.demand - DECAY, "heartbeat")


@action("cleanup", description="Reset the tick count.")
def cleanup(state: DemandState, params: NoParams) -> DemandState:
    return attrs.evolve(state, ticks=0)


def _initial(agent_id: str) -> DemandState:
    """A new tracker tracks the listing named by its agent id."""
    return DemandState(listing_id=agent_id)


DEMAND_TRACKER: AgentDef[DemandState] = AgentDef(
    "demand_tracker",
    DemandState,
    [boost, cool, tick, decay, cleanup],
    routes={
        "listing.demand.boost": "boost",
        "listing.demand.cool": "cool",
        "listing.demand.tick": "tick",
        "heartbeat.tick": "decay",
        "cleanup.run": "cleanup",
    },
    schedules=[Every(30.0, "heartbeat.tick")],
    initial=_initial,
)


def main() -> None:
    """Show pure ``cmd`` usage."""
    agent = DEMAND_TRACKER.new("listing-42")
    print("new:      ", agent.state, "version", agent.version)

    agent, directives = cmd(agent, boost(amount=30))
    print("boost 30: ", agent.state, directives)

    agent, directives = cmd(agent, Signal("listing.demand.boost", {"amount": 50}))
    print("boost 50: ", agent.state, "(capped)", directives)

    agent, directives = cmd(agent, [Signal("listing.demand.tick"), Signal("heartbeat.tick")])
    print("tick+beat:", agent.state, directives)

    same, directives = cmd(agent, Signal("listing.demand.cool", {"amount": "lots"}))
    print("bad cool: ", "unchanged" if same is agent else "changed", directives)

    outcome = execute(agent, [cool(amount=5), ("cleanup", None)])
    print("execute:  ", outcome.agent.state, "result", outcome.result, "ok", outcome.ok)
    print("version:  ", outcome.agent.version)
    print("dumped:   ", DEMAND_TRACKER.dump_state(outcome.agent.state))


# -- The runtime part -------------------------------------------------------------


def _say(text: str) -> None:
    print(f"t={trio.current_time():5.1f}  {text}")


def _drain(sub: jido_trio.Subscription) -> None:
    """Print the ``listing.demand.changed`` events published since the last look.

    Reading them here, from the demo's own task at quiet points, keeps the
    output order independent of how Trio interleaves tasks."""
    while True:
        try:
            signal = sub.receive_nowait()
        except trio.WouldBlock:
            return
        assert isinstance(signal, Signal)
        data = signal.data
        print(
            f"         bus  {signal.type} at t={signal.time:5.1f}: "
            f"{data['previous']} -> {data['current']} ({data['delta']:+d}, {data['reason']})"
        )


def _committed(ref: AgentRef) -> Agent[DemandState]:
    """The agent's last committed value (state and version)."""
    agent = ref.agent
    assert agent is not None
    return agent


def _on_restart(event: TelemetryEvent) -> None:
    """Telemetry handler: report a restarted agent and the state it came back with."""
    ref = event.data["value"]
    if event.data["restarts"] and isinstance(ref, AgentRef):
        agent = _committed(ref)
        _say(
            f"{event.path} restarted (#{event.data['restarts']}) from committed "
            f"version {agent.version}: demand {agent.state.demand}"
        )


async def _demo() -> None:
    spec = jido_trio.agent_spec("listing-42", DEMAND_TRACKER)
    tracker = jido_trio.spec_ref(spec)  # valid before the start, and across restarts
    with (
        jido_trio.subscribe("listing.demand.changed") as sub,
        jido_trio.attach_telemetry(_on_restart, events=["child.started"]),
    ):
        async with jido_trio.open_supervisor([spec]) as sup:
            _say(f"{tracker.path} started: {tracker.state}")

            demand = await tracker.call(boost(amount=30))
            _say(f"call boost(amount=30) -> {demand}")
            _drain(sub)

            await tracker.cast(Signal("listing.demand.cool", {"amount": 5}, id="cool-1"))
            await tracker.cast(Signal("listing.demand.tick", id="tick-1"))
            await trio.testing.wait_all_tasks_blocked()
            _say(
                f"cast cool(5) and tick -> demand {tracker.state.demand}, "
                f"ticks {tracker.state.ticks}"
            )
            _drain(sub)

            await trio.sleep_until(65.0)
            _say(
                f"two heartbeats later -> demand {tracker.state.demand}, "
                f"version {_committed(tracker).version}"
            )
            _drain(sub)

            jido_trio.kill(tracker.path, reason="demo kill")
            tracker.cast_nowait(Signal("listing.demand.boost", {"amount": 10}, id="boost-2"))
            tracker.cast_nowait(Signal("listing.demand.cool", {"amount": 3}, id="cool-2"))
            _say(f"killed {tracker.path}; {tracker.queue_length} messages wait in its mailbox")
            await trio.testing.wait_all_tasks_blocked()
            (node,) = [n for n in jido_trio.tree() if n.path == tracker.path]
            _say(
                f"queued messages delivered -> demand {tracker.state.demand}, "
                f"version {_committed(tracker).version}; {node.status}, restarts={node.restarts}"
            )
            _drain(sub)

            await trio.sleep_until(130.0)
            _say(f"heartbeat re-armed at the restart -> demand {tracker.state.demand}")
            _drain(sub)

            try:
                await tracker.call(Signal("listing.demand.boost", {"amount": "lots"}, id="bad-1"))
            except InvalidParamsError as exc:
                _say(f"call with bad data -> {type(exc).__name__}: {exc.errors[0]}")
            await tracker.cast(Signal("listing.demand.explode", id="oops-1"))
            await trio.testing.wait_all_tasks_blocked()
            _say(f"state unchanged: {tracker.state}")

            await sup.shutdown()
            _say(f"supervisor shut down; alive={tracker.alive}")

    await tracker.cast(Signal("listing.demand.boost", id="late-1"))
    for letter in tracker.dead_letters:
        message = letter.message
        assert isinstance(message, Signal)
        print(f"         dead letter {message.id}: {letter.reason} at t={letter.time:.1f}")
    stats = tracker.stats()
    print(
        f"         stats: sent={stats.sent} processed={stats.processed} "
        f"dead_lettered={stats.dead_lettered} queued={stats.queued} "
        f"in_flight={stats.in_flight}"
    )
    balanced = stats.sent == (
        stats.processed + stats.dead_lettered + stats.queued + stats.in_flight
    )
    print(f"         sent == processed + dead_lettered + queued + in_flight: {balanced}")


def run_demo() -> None:
    """Run the Demand Tracker under a supervisor, on virtual time."""
    print("Demand Tracker, supervised (virtual time)")
    trio.run(_demo, clock=trio.testing.MockClock(autojump_threshold=0))


if __name__ == "__main__":
    main()
    print()
    run_demo()
