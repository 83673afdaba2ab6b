"""The signal bus: run-scoped publish/subscribe for signals that agents
``Emit`` with no target (``Emit(type, data)``, ``to=None``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import trio

from ._errors import InvalidArgumentError
from ._signal import Router, Signal
from ._util import NoPublicConstructor, final

__all__ = ["publish", "subscribe"]


class _Subscriber:
    __slots__ = ("dropped", "router", "send")

    def __init__(self, pattern: str, send: trio.MemorySendChannel[Signal]) -> None:
        self.router = Router({pattern: "match"})
        self.send = send
        self.dropped = 0


_subscribers: trio.lowlevel.RunVar[list[_Subscriber]] = trio.lowlevel.RunVar("jido_trio.bus")


def _all() -> list[_Subscriber]:
    try:
        return _subscribers.get()
    except LookupError:
        subs: list[_Subscriber] = []
        _subscribers.set(subs)
        return subs


def publish(signal: Signal) -> int:
    """Deliver ``signal`` to every subscriber whose pattern matches its type, in
    subscription order, without waiting. A subscriber whose buffer is full
    misses it (counted in ``Subscription.dropped``). Returns how many got it."""
    delivered = 0
    if not isinstance(signal, Signal):
        raise InvalidArgumentError(f"publish() takes a Signal, not {signal!r}")
    signal_type = signal.type
    for sub in list(_all()):
        if sub.router.match(signal_type) is None:
            continue
        try:
            sub.send.send_nowait(signal)
            delivered += 1
        except trio.WouldBlock:
            sub.dropped += 1
    return delivered


@final
class Subscription(metaclass=NoPublicConstructor):
    """A bus subscription, from :func:`subscribe`: iterate it (``async for
    signal in sub``) or call :meth:`receive`. Iteration ends when the
    subscription's ``with`` block has ended and the buffer is empty."""

    __slots__ = ("_receive", "_sub")

    def __init__(self, sub: _Subscriber, receive: trio.MemoryReceiveChannel[Signal]) -> None:
        self._sub = sub
        self._receive = receive

    @property
    def dropped(self) -> int:
        """Signals this subscriber missed because its buffer was full."""
        return self._sub.dropped

    async def receive(self) -> Signal:
        """The next signal, waiting for one. Raises ``trio.EndOfChannel`` once
        the subscription has ended and its buffer is empty."""
        return await self._receive.receive()

    def receive_nowait(self) -> Signal:
        """The next buffered signal; raises ``trio.WouldBlock`` if there is none."""
        return self._receive.receive_nowait()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Signal:
        try:
            return await self._receive.receive()
        except trio.EndOfChannel:
            raise StopAsyncIteration from None


@contextmanager
def subscribe(pattern: str = "**", *, max_buffer: int = 1000) -> Iterator[Subscription]:
    """Subscribe to signals published on this Trio run's bus whose type matches
    ``pattern`` (the wildcards of routes: ``*`` one segment, ``**`` any).

    - ``pattern`` — defaults to ``"**"`` (every signal).
    - ``max_buffer`` — signals buffered for this subscriber before it misses
      some. Defaults to ``1000``.

    The subscription ends with the ``with`` block.
    """
    send, receive = trio.open_memory_channel[Signal](max_buffer)
    sub = _Subscriber(pattern, send)
    subs = _all()
    subs.append(sub)
    try:
        yield Subscription._create(sub, receive)
    finally:
        subs.remove(sub)
        send.close()
