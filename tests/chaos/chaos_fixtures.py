"""Small systems for the chaos engine's tests (not a test module).

``LOG`` is the one agent: its state counts and records the notes it takes;
``log.relay`` makes it emit a note to another agent, so link faults have a
link to act on.
"""

from __future__ import annotations

import random
from typing import Any

import attrs

from chaos import RunReport, Send, run
from jido_trio import (
    ActionResult,
    AgentDef,
    AgentRef,
    ChildSpec,
    Emit,
    action,
    agent_spec,
    spec_ref,
)


@attrs.frozen
class Log:
    n: int = attrs.field(default=0, validator=attrs.validators.instance_of(int))
    seen: tuple[str, ...] = ()


@attrs.frozen
class Add:
    amount: int


@attrs.frozen
class Note:
    tag: str


@attrs.frozen
class Relay:
    to: str
    tag: str


@action("add", params=Add)
def add_action(state: Log, params: Add) -> ActionResult[Log]:
    n = state.n + params.amount
    return ActionResult(attrs.evolve(state, n=n), result=n)


@action("note", params=Note)
def note_action(state: Log, params: Note) -> ActionResult[Log]:
    seen = (*state.seen, params.tag)
    return ActionResult(attrs.evolve(state, n=state.n + 1, seen=seen), result=len(seen))


@action("relay", params=Relay)
def relay_action(state: Log, params: Relay) -> ActionResult[Log]:
    return ActionResult(state, directives=[Emit("log.note", {"tag": params.tag}, to=params.to)])


LOG = AgentDef(
    "log",
    Log,
    [add_action, note_action, relay_action],
    routes={"log.add": "add", "log.note": "note", "log.relay": "relay"},
)


class Agents:
    """A system of one LOG agent per id, fresh on every call; ``refs`` holds
    the last call's agents, so a test reads their final states after a run."""

    def __init__(self, *ids: str, **options: Any) -> None:
        self.ids = ids
        self.options = options
        self.refs: dict[str, AgentRef] = {}

    def __call__(self) -> list[ChildSpec]:
        specs = [agent_spec(i, LOG, **self.options) for i in self.ids]
        self.refs = {i: spec_ref(s) for i, s in zip(self.ids, specs, strict=True)}
        return specs

    def state(self, id: str) -> Log:
        state = self.refs[id].state
        assert isinstance(state, Log)
        return state


# ------------------------------------------------------------------ mutators


def double_amount(message: Any, rng: random.Random) -> Any:
    """A ``corrupt_message`` mutator: doubles a ``log.add`` amount."""
    return attrs.evolve(message, data={"amount": message.data["amount"] * 2})


def shout(signal: Any, rng: random.Random) -> Any:
    """A ``corrupt_message`` mutator for a ``log.note``: upper-cases the tag, adds a '!'."""
    return attrs.evolve(signal, data={"tag": signal.data["tag"].upper() + "!"})


def negate(state: Log, rng: random.Random) -> Log:
    """A ``corrupt_state`` / ``corrupt_load`` mutator: negates ``n``."""
    return attrs.evolve(state, n=-state.n)


# ------------------------------------------------------------------ workloads and traces


def add(at: float, to: str = "a", *, n: int = 1, call: bool = True, timeout: float = 5.0) -> Send:
    """One ``log.add`` of ``n`` to ``to`` at ``at`` (a call unless ``call=False``)."""
    return Send(to=to, signal="log.add", data={"amount": n}, at=at, call=call, timeout=timeout)


def relay(at: float, source: str, target: str, tag: str) -> Send:
    """Make ``source`` emit a ``log.note`` tagged ``tag`` to ``target`` at ``at``."""
    return Send(to=source, signal="log.relay", data={"to": target, "tag": tag}, at=at)


def events(report: RunReport, kind: str, path: str | None = None) -> list[tuple[float, str]]:
    """The ``(time, detail)`` of the trace events of ``kind`` (at ``path``), in order.
    The run must keep its whole trace (``keep_trace=None``)."""
    out = []
    for line in report.trace:
        time, event, where, *detail = line.split(" ", 3)
        if event == kind and (path is None or where == path):
            out.append((float(time), detail[0] if detail else ""))
    return out


def effects(report: RunReport) -> list[tuple[float, str, str]]:
    """What the faults did: ``(time, path, effect)`` in order."""
    return [(r.time, r.path, r.effect) for r in report.faults]


# ------------------------------------------------------------------ a racy system


def race(seed: int, plan: Any = (), **options: Any) -> RunReport:
    """Three agents relaying notes around a ring, all at the same virtual instants: the
    order of events at each instant is the scheduler's choice."""
    sends = [
        relay(float(t), source, target, f"{source}{t}")
        for t in range(1, 6)
        for source, target in (("a", "b"), ("b", "c"), ("c", "a"))
    ]
    options.setdefault("duration", 8.0)
    options.setdefault("quiet_period", 2.0)
    return run(Agents("a", "b", "c"), plan, seed=seed, workload=sends, **options)
