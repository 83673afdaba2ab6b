"""The Box agent's state, params and core actions, and the helpers that the
AgentServer tests share (not a test module).

Each test module builds its own ``AgentDef`` from these, with the actions and
routes it needs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import attrs
import trio

from jido_trio import (
    ActionResult,
    AgentRef,
    AgentStats,
    Instruction,
    Interceptor,
    Signal,
    action,
)

Message = Signal | Instruction
Proceed = Callable[[Message], Awaitable[None]]

# ------------------------------------------------------------------ the Box agent


@attrs.frozen
class Box:
    n: int = 0
    log: tuple[str, ...] = ()


@attrs.frozen
class AddParams:
    amount: int


@attrs.frozen
class NoteParams:
    tag: str


@attrs.frozen
class SendParams:
    tag: str
    to: str | None = None


@action("add", params=AddParams)
def add(state: Box, params: AddParams) -> ActionResult[Box]:
    return ActionResult(
        attrs.evolve(state, n=state.n + params.amount), result=state.n + params.amount
    )


@action("note", params=NoteParams)
def note(state: Box, params: NoteParams) -> ActionResult[Box]:
    return ActionResult(attrs.evolve(state, log=(*state.log, params.tag)), result=params.tag)


# ------------------------------------------------------------------ helpers


def tag_of(message: Message) -> str:
    """The ``tag`` a message carries, or ``"?"``."""
    data = message.data if isinstance(message, Signal) else message.params
    return str(data["tag"]) if isinstance(data, dict) and "tag" in data else "?"


def check_identity(ref: AgentRef, where: str = "") -> AgentStats:
    """Assert ``sent == processed + dead_lettered + queued + in_flight`` for ``ref``
    (``where`` says when, in the failure message); return its stats."""
    stats = ref.stats()
    assert stats.sent == stats.processed + stats.dead_lettered + stats.queued + stats.in_flight, (
        (where, ref, stats) if where else stats
    )
    return stats


class Hold(Interceptor):
    """Holds each message (with a tag in ``only``, if given) for ``delay``
    seconds before letting it through."""

    def __init__(self, delay: float, *, only: set[str] | None = None) -> None:
        self.delay = delay
        self.only = only

    async def on_signal(self, agent: AgentRef, message: Message, proceed: Proceed) -> None:
        if self.only is None or tag_of(message) in self.only:
            await trio.sleep(self.delay)
        await proceed(message)
