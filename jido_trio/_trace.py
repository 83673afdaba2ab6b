"""Recorder: the built-in interceptor that writes an ordered trace of every
crossing of the interceptor seam, with a digest that identifies a run."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import attrs
import trio

from ._errors import InvalidArgumentError
from ._intercept import DeliverNext, HandleNext, Interceptor, LoadNext, SaveNext, StartNext

if TYPE_CHECKING:
    from ._agent import Agent, CmdOutcome
    from ._server import AgentRef, Message
    from ._signal import Signal
    from ._supervisor import ChildContext

__all__ = ["Recorder", "TraceEvent"]


@attrs.frozen(slots=True)
class TraceEvent:
    """One line of a :class:`Recorder` trace.

    Attributes:
        time: ``trio.current_time()`` when it happened.
        kind: ``"child.start"``, ``"signal"`` (a message taken from a mailbox),
            ``"signal.done"`` (it was handled; ``detail`` has the duration),
            ``"cmd"`` (the action and whether it succeeded), ``"save"`` (a
            state committed; ``detail`` has its version), ``"load"`` (a
            checkpoint loaded at a start; its version, or ``none``) or
            ``"deliver"`` (an ``Emit`` on its way to ``target``).
        path: the tree path of the child or agent.
        detail: a short deterministic description (no ids, no addresses).
    """

    time: float
    kind: str
    path: str
    detail: str = ""

    def line(self) -> str:
        """The canonical text form, as hashed by :meth:`Recorder.digest`."""
        return f"{self.time!r} {self.kind} {self.path} {self.detail}".rstrip()


def _describe(message: Any) -> str:
    signal_type = getattr(message, "type", None)
    if isinstance(signal_type, str):
        return f"signal {signal_type}"
    action = getattr(message, "action", None)
    return f"action {getattr(action, 'name', '?')}"


class Recorder(Interceptor):
    """An :class:`Interceptor` that records, in order, every child start, every
    message an AgentServer handles (and how long it took on Trio's clock),
    every ``cmd`` outcome, every checkpoint save and load, and every ``Emit``
    delivery.

    Install it with ``jido_trio.intercept(recorder)``; read ``recorder.events``;
    :meth:`digest` gives a sha256 of the trace, so two runs that behave alike
    (same order, same virtual times) have the same digest.

    ``limit`` — keep only the latest ``limit`` events (the digest still covers
    every event). Defaults to ``None``: keep all.
    """

    def __init__(self, *, limit: int | None = None) -> None:
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise InvalidArgumentError(
                f"limit={limit!r} is not valid; expected an int >= 1 or None"
            )
        self.limit = limit
        self.events: list[TraceEvent] = []
        self._hash = hashlib.sha256()
        self._count = 0

    def __repr__(self) -> str:
        return f"<Recorder {self._count} event(s) digest={self.digest()[:12]}>"

    def record(self, kind: str, path: str, detail: str = "") -> None:
        """Append an event at the current Trio time (also usable by hand, to
        mark a point of a test or scenario in the trace)."""
        event = TraceEvent(trio.current_time(), kind, path, detail)
        self._hash.update(event.line().encode() + b"\n")
        self._count += 1
        self.events.append(event)
        if self.limit is not None and len(self.events) > self.limit:
            del self.events[: len(self.events) - self.limit]

    def digest(self) -> str:
        """sha256 (hex) of every event's :meth:`TraceEvent.line`, in order."""
        return self._hash.hexdigest()

    def __len__(self) -> int:
        return self._count

    async def on_child_start(self, child: ChildContext, proceed: StartNext) -> None:
        self.record("child.start", child.path, f"restarts={child.restarts}")
        await proceed()

    async def on_signal(self, agent: AgentRef, message: Message, proceed: HandleNext) -> None:
        self.record("signal", agent.path, _describe(message))
        started = trio.current_time()
        await proceed(message)
        self.record("signal.done", agent.path, f"duration={trio.current_time() - started!r}")

    def on_cmd(self, agent: AgentRef, outcome: CmdOutcome[Any]) -> CmdOutcome[Any]:
        verdict = "ok" if outcome.error is None else type(outcome.error).__name__
        self.record("cmd", agent.path, f"{outcome.action} {verdict}")
        return outcome

    async def on_save(self, agent: AgentRef, new: Agent[Any], proceed: SaveNext) -> None:
        self.record("save", agent.path, f"version={new.version}")
        await proceed(new)

    async def on_load(self, agent: AgentRef, proceed: LoadNext) -> Agent[Any] | None:
        loaded = await proceed()
        self.record("load", agent.path, f"version={'none' if loaded is None else loaded.version}")
        return loaded

    async def on_deliver(
        self, source: AgentRef, target: str | None, signal: Signal, proceed: DeliverNext
    ) -> None:
        self.record("deliver", source.path, f"{signal.type} -> {target or '<bus>'}")
        await proceed(signal)
