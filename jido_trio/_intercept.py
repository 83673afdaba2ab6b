"""Interceptors: the middleware seam around child start, signal handling,
``cmd`` and delivery between agents.

Interceptors are installed for a ``with`` block through a ContextVar, so they
are scoped to a Trio run (or any task tree started inside the block), never
process-global. chaos injects every fault through this seam; anyone may use it
(the built-in :class:`~jido_trio.Recorder` is one).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from ._errors import InvalidArgumentError

if TYPE_CHECKING:
    from ._agent import CmdOutcome
    from ._server import AgentRef, Message
    from ._signal import Signal
    from ._supervisor import ChildContext

__all__ = ["Interceptor", "intercept"]

StartNext = Callable[[], Awaitable[None]]
HandleNext = Callable[["Message"], Awaitable[None]]
DeliverNext = Callable[["Signal"], Awaitable[None]]


class Interceptor:
    """Base class for interceptors: every hook passes through unchanged.

    Override the hooks you need. Each async hook receives a ``proceed``
    callable: call it to continue down the chain (to the next interceptor, then
    the runtime). Not calling it drops the operation; calling it twice
    duplicates it; sleeping before it delays it; raising fails it; awaiting
    ``trio.sleep_forever()`` hangs it. Interceptors run in installation order,
    the first installed outermost.
    """

    async def on_child_start(self, child: ChildContext, proceed: StartNext) -> None:
        """Around a supervised child's body (``ChildSpec.start``), in the child's
        task, on every start and restart. Raising before ``proceed`` is a start
        failure; raising after it is a crash."""
        await proceed()

    async def on_signal(self, agent: AgentRef, message: Message, proceed: HandleNext) -> None:
        """Around an AgentServer handling one message from its mailbox, in the
        server's task. ``proceed(message)`` runs ``cmd`` and the directives; it
        may be given a rewritten message. A message ``proceed`` never saw is
        dead-lettered with reason ``"dropped"``; an exception crashes the agent
        (the message is dead-lettered with reason ``"crashed"``)."""
        await proceed(message)

    def on_cmd(self, agent: AgentRef, outcome: CmdOutcome[Any]) -> CmdOutcome[Any]:
        """After ``cmd``, before its state is committed: return the outcome to
        use (e.g. with a rewritten ``agent.state``). Synchronous and pure."""
        return outcome

    async def on_deliver(
        self, source: AgentRef, target: str | None, signal: Signal, proceed: DeliverNext
    ) -> None:
        """Around the delivery of an ``Emit`` directive from ``source`` to the
        agent registered as ``target`` (``None``: the bus). Not calling
        ``proceed`` drops the signal (dead-lettered by the sender with reason
        ``"dropped"``)."""
        await proceed(signal)


_installed: ContextVar[tuple[Interceptor, ...]] = ContextVar("jido_trio.interceptors", default=())


def current_interceptors() -> tuple[Interceptor, ...]:
    """The interceptors installed in this context, outermost first."""
    return _installed.get()


@contextmanager
def intercept(*interceptors: Interceptor) -> Iterator[None]:
    """Install interceptors for the ``with`` block and every task started in it.

    They are appended inside any already installed ones. Tasks keep the
    interceptors they were started with, as Trio tasks copy their context when
    spawned: install them before opening the supervisors they should see.
    """
    for i in interceptors:
        if not isinstance(i, Interceptor):
            raise InvalidArgumentError(f"intercept() takes Interceptor instances, not {i!r}")
    token = _installed.set((*_installed.get(), *interceptors))
    try:
        yield
    finally:
        _installed.reset(token)


async def run_child_start(
    chain: tuple[Interceptor, ...], child: ChildContext, body: StartNext
) -> None:
    """Run ``body`` through the ``on_child_start`` hooks of ``chain``."""

    async def step(i: int) -> None:
        if i == len(chain):
            await body()
        else:
            await chain[i].on_child_start(child, lambda: step(i + 1))

    await step(0)
