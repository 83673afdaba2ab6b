"""Interceptors: the middleware seam around child start, signal handling,
``cmd``, checkpoint saves and loads, and delivery between agents.

Interceptors are installed for a ``with`` block through a ContextVar, so they
are scoped to a Trio run (or any task tree started inside the block), never
process-global. chaos injects every fault through this seam; anyone may use it
(the built-in :class:`~jido_trio.Recorder` is one).

Installing computes, once, the sub-chain of interceptors that override each
hook (a :class:`_Chain`), so the runtime only walks the interceptors that
care, and pays one ContextVar lookup when none is installed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Final, Protocol

from ._errors import InvalidArgumentError

if TYPE_CHECKING:
    from ._agent import Agent, CmdOutcome
    from ._server import AgentRef, Message
    from ._signal import Signal
    from ._supervisor import ChildContext

__all__ = ["Interceptor", "intercept"]

StartNext = Callable[[], Awaitable[None]]
HandleNext = Callable[["Message"], Awaitable[None]]
SaveNext = Callable[["Agent[Any]"], Awaitable[None]]
LoadNext = Callable[[], Awaitable["Agent[Any] | None"]]


class DeliverNext(Protocol):
    """The ``proceed`` of :meth:`Interceptor.on_deliver`."""

    def __call__(self, signal: Signal, /, *, delay: float = 0.0) -> Awaitable[None]: ...


class Interceptor:
    """Base class for interceptors: every hook passes through unchanged.

    Override the hooks you need. Each async hook receives a ``proceed``
    callable: call it to continue down the chain (to the next interceptor, then
    the runtime). Not calling it drops the operation; calling it twice
    duplicates it; sleeping before it delays it; raising fails it; awaiting
    ``trio.sleep_forever()`` hangs it. Interceptors run in installation order,
    the first installed outermost. A hook that is not overridden costs nothing.

    Every hook runs in the task of the child or agent it concerns, so what it
    does (sleep, hang, raise) happens to that child: a kill or a shutdown
    cancels it at its next checkpoint, as any Trio code.
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
        dead-lettered with reason ``"dropped"``; a second ``proceed`` processes
        a duplicate (counted once; a ``call`` gets the first result); an
        exception crashes the agent (the message is dead-lettered with reason
        ``"crashed"``)."""
        await proceed(message)

    def on_cmd(self, agent: AgentRef, outcome: CmdOutcome[Any]) -> CmdOutcome[Any]:
        """After ``cmd``, before its state is committed: return the outcome to
        use (e.g. with a rewritten ``agent.state``). Synchronous and pure."""
        return outcome

    async def on_save(self, agent: AgentRef, new: Agent[Any], proceed: SaveNext) -> None:
        """Around committing ``new`` to the agent's checkpoint (its
        ``store``, or the ref's own memory without one), after a successful
        ``cmd`` and before its directives run. ``proceed(new)`` writes it (a
        rewritten agent may be given). Raising fails the write: the agent
        crashes, the message is dead-lettered ``"crashed"`` and the state is
        not committed. Not calling ``proceed`` loses the write silently: the
        running agent goes on with ``new``, but a restart loads the older
        checkpoint."""
        await proceed(new)

    async def on_load(self, agent: AgentRef, proceed: LoadNext) -> Agent[Any] | None:
        """Around loading the agent's checkpoint when it (re)starts with
        ``restart_from="checkpoint"``. Return what to start from: what
        ``proceed()`` returned, another (older, corrupted) agent, or ``None``
        for the initial state. Raising fails the start."""
        return await proceed()

    async def on_deliver(
        self, source: AgentRef, target: str | None, signal: Signal, proceed: DeliverNext
    ) -> None:
        """Around the delivery of an ``Emit`` directive from ``source`` to the
        agent registered as ``target`` (``None``: the bus), in the sender's task.
        ``proceed(signal)`` delivers it (a rewritten signal may be given);
        ``proceed(signal, delay=seconds)`` delivers it that much later without
        holding the sender: it waits in the target's timer queue and joins the
        back of its mailbox when due, as a ``Schedule`` does (delays given along
        the chain add up; a delayed delivery to the bus is an error). Not
        calling ``proceed`` drops the signal (dead-lettered by the sender with
        reason ``"dropped"``); calling it twice duplicates it."""
        await proceed(signal)


_HOOKS: Final = ("on_child_start", "on_signal", "on_cmd", "on_save", "on_load", "on_deliver")


class _Chain:
    """The installed interceptors, and for each hook the ones that override it."""

    __slots__ = ("all", "on_child_start", "on_cmd", "on_deliver", "on_load", "on_save", "on_signal")

    def __init__(self, interceptors: tuple[Interceptor, ...]) -> None:
        self.all = interceptors
        for hook in _HOOKS:
            base = getattr(Interceptor, hook)
            setattr(
                self, hook, tuple(i for i in interceptors if getattr(type(i), hook) is not base)
            )

    if TYPE_CHECKING:
        all: tuple[Interceptor, ...]
        on_child_start: tuple[Interceptor, ...]
        on_signal: tuple[Interceptor, ...]
        on_cmd: tuple[Interceptor, ...]
        on_save: tuple[Interceptor, ...]
        on_load: tuple[Interceptor, ...]
        on_deliver: tuple[Interceptor, ...]


_installed: ContextVar[_Chain | None] = ContextVar("jido_trio.interceptors", default=None)


def current_chain() -> _Chain | None:
    """The interceptors installed in this context, by hook; ``None`` if none."""
    return _installed.get()


def current_interceptors() -> tuple[Interceptor, ...]:
    """The interceptors installed in this context, outermost first."""
    chain = _installed.get()
    return () if chain is None else chain.all


@contextmanager
def intercept(*interceptors: Interceptor) -> Iterator[None]:
    """Install interceptors for the ``with`` block and every task started in it.

    They are appended inside any already installed ones. Tasks keep the
    interceptors they were started with, as Trio tasks copy their context when
    spawned: install them before opening the supervisors they should see.
    """
    for i in interceptors:
        if not isinstance(i, Interceptor):
            raise InvalidArgumentError(
                f"intercept() takes Interceptor instances, not {i!r}; subclass "
                "jido_trio.Interceptor and override the hooks you need"
            )
    token = _installed.set(_Chain((*current_interceptors(), *interceptors)))
    try:
        yield
    finally:
        _installed.reset(token)


async def run_child_start(
    hooks: tuple[Interceptor, ...], child: ChildContext, body: StartNext
) -> None:
    """Run ``body`` through the ``on_child_start`` ``hooks``."""

    async def step(i: int) -> None:
        if i == len(hooks):
            await body()
        else:
            await hooks[i].on_child_start(child, lambda: step(i + 1))

    await step(0)
