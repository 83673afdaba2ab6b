"""Property test: `cmd` on the Demand Tracker is pure, deterministic and atomic.

A model tracks the expected demand and ticks; rules send random signals (and
batches of them) with random, often invalid, data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
from docs_examples import load_example
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from jido_trio import Agent, Emit, Error, InvalidParamsError, Signal, execute

dt = load_example("demand_tracker")

SIGNAL_TYPES = {
    "boost": "listing.demand.boost",
    "cool": "listing.demand.cool",
    "tick": "listing.demand.tick",
    "heartbeat": "heartbeat.tick",
    "cleanup": "cleanup.run",
}
ACTION_NAMES = {
    "boost": "boost",
    "cool": "cool",
    "tick": "tick",
    "heartbeat": "decay",
    "cleanup": "cleanup",
}

scalars = st.one_of(
    st.integers(-20, 150),
    st.booleans(),
    st.text(max_size=2),
    st.floats(allow_nan=False),
    st.none(),
)
amount_data: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.just({}),
    st.fixed_dictionaries({"amount": st.integers(0, 120)}),
    st.fixed_dictionaries({"amount": scalars}),
    st.dictionaries(st.sampled_from(["amount", "extra"]), scalars, max_size=2),
    st.integers(),
)
no_param_data: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.just({}),
    st.dictionaries(st.sampled_from(["amount", "x"]), st.integers(), min_size=1, max_size=2),
    st.text(max_size=1),
)


@st.composite
def messages(draw: st.DrawFn) -> tuple[str, Any]:
    kind = draw(st.sampled_from(sorted(SIGNAL_TYPES)))
    data = draw(amount_data if kind in ("boost", "cool") else no_param_data)
    return kind, data


@attrs.frozen
class Model:
    demand: int
    ticks: int


def expect(model: Model, kind: str, data: Any) -> tuple[Model, list[Emit]] | None:
    """The model's next state and emits, or None when the data is invalid."""
    if kind in ("boost", "cool"):
        if data is None:
            amount = 10
        elif not isinstance(data, Mapping) or set(data) - {"amount"}:
            return None
        else:
            amount = data.get("amount", 10)
            if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
                return None
        delta = amount if kind == "boost" else -amount
        demand, ticks = max(0, min(100, model.demand + delta)), model.ticks
    else:
        if data is not None and (not isinstance(data, Mapping) or data):
            return None
        demand = model.demand if kind == "cleanup" else max(0, model.demand - 2)
        ticks = {"tick": model.ticks + 1, "cleanup": 0}.get(kind, model.ticks)
    emits = []
    if demand != model.demand:
        reason = "heartbeat" if kind == "heartbeat" else kind
        payload = {
            "listing_id": "listing-1",
            "previous": model.demand,
            "current": demand,
            "delta": demand - model.demand,
            "reason": reason,
        }
        emits.append(Emit("listing.demand.changed", payload))
    return Model(demand, ticks), emits


class DemandTrackerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.model = Model(50, 0)
        self.agent: Agent[Any] = dt.DEMAND_TRACKER.new("listing-1")

    @initialize(demand=st.integers(0, 100), ticks=st.integers(0, 5))
    def start(self, demand: int, ticks: int) -> None:
        self.model = Model(demand, ticks)
        self.agent = dt.DEMAND_TRACKER.new(
            "listing-1", {"demand": demand, "ticks": ticks, "listing_id": "listing-1"}
        )

    def apply(self, batch: list[tuple[str, Any]], *, as_list: bool) -> None:
        signals = [
            Signal(SIGNAL_TYPES[kind], data, id=f"s{i}") for i, (kind, data) in enumerate(batch)
        ]
        agent = self.agent
        before = attrs.asdict(agent, recurse=False)
        state_before = agent.state

        outcome = execute(agent, signals if as_list else signals[0])

        # Pure and deterministic: the input agent is untouched; a rerun is equal.
        assert attrs.asdict(agent, recurse=False) == before
        assert agent.state is state_before
        assert execute(agent, signals if as_list else signals[0]) == outcome

        model, emits = self.model, []
        failed_at: str | None = None
        for kind, data in batch:
            step = expect(model, kind, data)
            if step is None:
                failed_at = ACTION_NAMES[kind]
                break
            model, new_emits = step
            emits.extend(new_emits)

        if failed_at is not None:
            # Atomic: the original agent, unchanged, and exactly one Error.
            assert outcome.agent is agent
            assert isinstance(outcome.error, InvalidParamsError)
            assert outcome.directives == (Error(outcome.error, action=failed_at),)
            return
        assert outcome.ok, outcome.error
        assert outcome.directives == tuple(emits)
        if batch:
            assert outcome.agent.version == agent.version + 1
        else:
            assert outcome.agent is agent
        self.model = model
        self.agent = outcome.agent

    @rule(message=messages())
    def send(self, message: tuple[str, Any]) -> None:
        self.apply([message], as_list=False)

    @rule(batch=st.lists(messages(), max_size=4))
    def send_batch(self, batch: list[tuple[str, Any]]) -> None:
        self.apply(batch, as_list=True)

    @invariant()
    def demand_in_range(self) -> None:
        assert 0 <= self.agent.state.demand <= 100

    @invariant()
    def matches_model(self) -> None:
        state = self.agent.state
        assert (state.demand, state.ticks) == (self.model.demand, self.model.ticks)
        assert state.listing_id == "listing-1"


DemandTrackerMachine.TestCase.settings = settings(deadline=None, stateful_step_count=30)
TestDemandTracker = DemandTrackerMachine.TestCase
