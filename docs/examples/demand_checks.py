"""Checks for the Demand Tracker scenario (``chaos_demand_tracker.yaml``).

Chaos checks are plain functions that a scenario names as ``module:attr``:

- :func:`demand_in_range` is an *invariant* (``always``): the engine calls it
  with the path and the state of every state the tracker commits;
- :func:`answers` is an *eventually* probe: after the quiet period it calls
  the tracker through the run's client and looks at the reply;
- :func:`few_dead_letters` is a *bound* predicate, judged on the run's
  metrics at the end.

Each returns ``True``, or a string saying what is wrong (a failed check's
detail).
"""

from __future__ import annotations

from collections.abc import Mapping

from demand_tracker import MAX_DEMAND, DemandState

from chaos import SystemView
from jido_trio import Signal

__all__ = ["answers", "demand_in_range", "few_dead_letters"]


def demand_in_range(path: str, state: DemandState) -> bool | str:
    """Demand is an int from 0 to 100 in every committed state."""
    demand = state.demand
    if isinstance(demand, bool) or not isinstance(demand, int):
        return f"demand is {demand!r}, not an int"
    if not 0 <= demand <= MAX_DEMAND:
        return f"demand {demand} is outside 0..{MAX_DEMAND}"
    return True


async def answers(view: SystemView) -> bool | str:
    """After the heal, the tracker answers a call with a demand in range."""
    demand = await view.call("tracker", Signal("listing.demand.boost", {"amount": 0}))
    if isinstance(demand, int) and 0 <= demand <= MAX_DEMAND:
        return True
    return f"the tracker answered {demand!r}"


def few_dead_letters(metrics: Mapping[str, float]) -> bool | str:
    """No more dead letters than the faults that make them (one each)."""
    letters = metrics.get("dead_letters", 0.0)
    hits = metrics.get("faults.hits", 0.0)
    if letters <= hits:
        return True
    return f"{letters:g} dead letters for {hits:g} fault hits"
