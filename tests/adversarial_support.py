"""Agents, fakes and checks shared by ``test_regressions_runtime.py`` and
``test_runtime_adversarial.py`` (not a test module).

Every fault here goes through a public seam: a :class:`CheckpointStore`
subclass, an :class:`Interceptor`, a ``random.Random`` subclass handed to
``open_supervisor(rng=...)``, or ``jido_trio.kill``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, Literal

import attrs
import trio
from agents_fixtures import Box, Message, NoteParams, Proceed, add, check_identity, note, tag_of

from jido_trio import ActionResult as Result
from jido_trio import (
    Agent,
    AgentDef,
    AgentRef,
    CheckpointStore,
    Emit,
    Interceptor,
    Schedule,
    SpawnAgent,
    Stop,
    StopChild,
    StoreError,
    action,
    whereis,
)

# ------------------------------------------------------------------ agents
# BOX: the fixtures' Box, whose messages carry a ``tag`` (logged when handled), plus
# actions that fail, set a timer, send to another agent and stop. LEAD: spawns and
# stops Box workers (SpawnAgent / StopChild).


@attrs.frozen
class LaterParams:
    tag: str
    later: str  # the tag of the note the timer sends
    delay: float


@attrs.frozen
class SendParams:
    tag: str
    to: str
    sent: str  # the tag of the note sent


@attrs.frozen
class StopParams:
    tag: str
    reason: str = "normal"


def logged(state: Box, tag: str) -> Box:
    return attrs.evolve(state, log=(*state.log, tag))


@action("fail", params=NoteParams)
def fail(state: Box, params: NoteParams) -> Box:
    raise ValueError(params.tag)


@action("later", params=LaterParams)
def later(state: Box, params: LaterParams) -> Result[Box]:
    timer = Schedule(params.delay, "box.note", {"tag": params.later})
    return Result(logged(state, params.tag), result=params.tag, directives=[timer])


@action("send", params=SendParams)
def send(state: Box, params: SendParams) -> Result[Box]:
    emit = Emit("box.note", {"tag": params.sent}, to=params.to)
    return Result(logged(state, params.tag), result=params.tag, directives=[emit])


@action("stop", params=StopParams)
def stop(state: Box, params: StopParams) -> Result[Box]:
    return Result(logged(state, params.tag), result=params.tag, directives=[Stop(params.reason)])


BOX: AgentDef[Box] = AgentDef(
    "box",
    Box,
    [add, note, fail, later, send, stop],
    routes={f"box.{name}": name for name in ("add", "note", "fail", "later", "send", "stop")},
)


@attrs.frozen
class Crew:
    hires: int = 0


@attrs.frozen
class HireParams:
    worker: str = "w"
    restart: Literal["permanent", "transient", "temporary"] = "permanent"


@attrs.frozen
class FireParams:
    worker: str = "w"


@action("hire", params=HireParams)
def hire(state: Crew, params: HireParams) -> Result[Crew]:
    spawn = SpawnAgent(BOX, params.worker, restart=params.restart)
    return Result(Crew(state.hires + 1), result=state.hires + 1, directives=[spawn])


@action("fire", params=FireParams)
def fire(state: Crew, params: FireParams) -> Result[Crew]:
    return Result(state, result="fired", directives=[StopChild(params.worker)])


LEAD: AgentDef[Crew] = AgentDef(
    "lead", Crew, [hire, fire], routes={"crew.hire": "hire", "crew.fire": "fire"}
)

# ------------------------------------------------------------------ stores


class LoadFails(CheckpointStore):
    """A store whose ``load`` raises :class:`StoreError` (after a checkpoint)."""

    async def load(self, key: str, definition: AgentDef[Any]) -> Agent[Any] | None:
        await trio.lowlevel.checkpoint()
        raise StoreError(f"LoadFails: cannot load checkpoint {key!r}")

    async def save(self, key: str, agent: Agent[Any]) -> None:
        await trio.lowlevel.checkpoint()


class GatedLoad(CheckpointStore):
    """A store whose ``load`` waits for ``gate`` (then finds nothing)."""

    def __init__(self) -> None:
        self.gate = trio.Event()
        self.loading = 0

    async def load(self, key: str, definition: AgentDef[Any]) -> Agent[Any] | None:
        self.loading += 1
        await self.gate.wait()
        return None

    async def save(self, key: str, agent: Agent[Any]) -> None:
        await trio.lowlevel.checkpoint()


class LoadReturns(CheckpointStore):
    """A store whose ``load`` returns ``make(definition)``, whatever it is."""

    def __init__(self, make: Callable[[AgentDef[Any]], Any]) -> None:
        self.make = make

    async def load(self, key: str, definition: AgentDef[Any]) -> Agent[Any] | None:
        await trio.lowlevel.checkpoint()
        loaded: Agent[Any] | None = self.make(definition)
        return loaded

    async def save(self, key: str, agent: Agent[Any]) -> None:
        await trio.lowlevel.checkpoint()


# ------------------------------------------------------------------ interceptors


class StartGate(Interceptor):
    """Holds every child start (before its body runs) until ``gate`` is set."""

    def __init__(self) -> None:
        self.gate = trio.Event()

    async def on_child_start(self, child: Any, proceed: Callable[[], Any]) -> None:
        await self.gate.wait()
        await proceed()


class Twice(Interceptor):
    """Passes every message on twice (a duplicating network)."""

    async def on_signal(self, agent: AgentRef, message: Message, proceed: Proceed) -> None:
        await proceed(message)
        await proceed(message)


class FaultyRandom(random.Random):
    """A ``random.Random`` whose draws fail: a supervisor's backoff jitter then
    raises inside its control task."""

    def random(self) -> float:
        raise RuntimeError("entropy ran out")


# ------------------------------------------------------------------ checks


def assert_stopped_for_good(ref: AgentRef, name: str) -> None:
    """What agents.md promises for an agent stopped for good: ``alive`` is
    False, ``name`` is free, nothing is queued or in hand, the identity holds,
    and a cast to it is dead-lettered ``"agent_stopped"`` at once."""
    assert not ref.alive, ref
    assert whereis(name) is None, (name, whereis(name))
    stats = check_identity(ref, "stopped for good")
    assert (stats.queued, stats.in_flight) == (0, 0), stats
    before = len(ref.dead_letters)
    ref.cast_nowait(note(tag="after-stop"))
    assert [(tag_of(d.message), d.reason) for d in ref.dead_letters[before:]] == [
        ("after-stop", "agent_stopped")
    ]
    after = check_identity(ref, "after a cast to a stopped agent")
    assert (after.sent, after.queued) == (stats.sent + 1, 0), (stats, after)
