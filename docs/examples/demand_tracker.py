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

Run ``python docs/examples/demand_tracker.py`` to see ``cmd`` at work.
"""

from __future__ import annotations

import attrs

from jido_trio import (
    ActionResult,
    AgentDef,
    Emit,
    Every,
    NoParams,
    Signal,
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


if __name__ == "__main__":
    main()
