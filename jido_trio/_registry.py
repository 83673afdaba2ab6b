"""Names to live references, scoped to the Trio run.

A :class:`Registry` maps names to values (an agent, a supervisor, a memory
channel, ...). A registration belongs to its owner: ``with registry.register(name,
value):`` keeps the name for the ``with`` block and removes it when the owner
leaves the block, however it leaves (normally, by an exception, by cancellation).
``await registry.lookup(name)`` waits for a name that is not registered yet.

Every registration is a :class:`Registration` token: removing an old token never
removes a newer registration of the same name. Waiters are kept per name (a
count and one :class:`trio.Event`), so register, unregister and a cancelled
lookup are all O(1) and a cancelled lookup leaves nothing behind.

The default registry of a run is :func:`current_registry`, kept in a
:class:`trio.lowlevel.RunVar`: each ``trio.run`` gets a fresh one, nothing is
process-global.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from itertools import islice
from typing import Any, Final

import trio

from ._errors import InvalidRegistrationError, RegistryError
from ._util import NoPublicConstructor, final

__all__ = ["Registration", "Registry", "current_registry", "lookup", "register", "whereis"]

_MAX_NAMES_SHOWN: Final = 10
_MAX_REPR: Final = 120


def _short_repr(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 3] + "..."


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise InvalidRegistrationError(
            f"registry name {name!r} is not valid; expected a non-empty string"
        )
    return name


@final
class Registration(metaclass=NoPublicConstructor):
    """The token of one registration, returned by :meth:`Registry.register_nowait`
    and yielded by :meth:`Registry.register`.

    Attributes:
        name: the registered name.
        value: the registered value.
    """

    __slots__ = ("_registry", "name", "value")

    def __init__(self, registry: Registry, name: str, value: Any) -> None:
        self._registry = registry
        self.name = name
        self.value = value

    @property
    def active(self) -> bool:
        """Whether this registration still holds its name."""
        return self._registry._entries.get(self.name) is self

    def unregister(self) -> None:
        """Remove this registration. Idempotent: once removed (by this call or
        an earlier one) it does nothing, and it never removes a newer
        registration of the same name."""
        entries = self._registry._entries
        if entries.get(self.name) is self:
            del entries[self.name]

    def __repr__(self) -> str:
        state = "active" if self.active else "removed"
        return f"<Registration {self.name!r} -> {_short_repr(self.value)} ({state})>"


class _Waiters:
    """The lookups waiting for one name: how many, and the event that wakes them."""

    __slots__ = ("count", "event")

    def __init__(self) -> None:
        self.count = 0
        self.event = trio.Event()


class Registry:
    """Names to live references.

    Usable on its own (``Registry()``) or as the run's default through
    :func:`current_registry`. Names are non-empty strings; values are anything
    but ``None`` (``None`` is what :meth:`whereis` returns for a free name).
    Every method is synchronous and O(1) except :meth:`lookup`, which waits,
    and :meth:`names`. A ``Registry`` is not thread-safe; use it from the Trio
    run's own thread, as every Trio object.
    """

    def __init__(self) -> None:
        self._entries: dict[str, Registration] = {}
        self._waiters: dict[str, _Waiters] = {}

    def __repr__(self) -> str:
        waiting = sum(w.count for w in self._waiters.values())
        return f"<Registry names={len(self._entries)} waiting={waiting}>"

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    # ------------------------------------------------------------ registering
    def register_nowait(self, name: str, value: Any) -> Registration:
        """Register ``value`` under ``name`` and return the :class:`Registration`;
        the caller removes it with :meth:`Registration.unregister`.

        Wakes every :meth:`lookup` waiting for ``name``. Raises
        :class:`RegistryError` if ``name`` is taken (the message names the
        holder), :class:`InvalidRegistrationError` if ``name`` is not a
        non-empty string or ``value`` is ``None``.
        """
        _check_name(name)
        if value is None:
            raise InvalidRegistrationError(
                f"cannot register None under {name!r}; register the object itself "
                "(whereis() returns None for a free name)"
            )
        holder = self._entries.get(name)
        if holder is not None:
            raise RegistryError(
                f"name {name!r} is already registered to {_short_repr(holder.value)}; "
                "its owner must exit (or unregister) first, or pick another name"
            )
        registration = Registration._create(self, name, value)
        self._entries[name] = registration
        waiters = self._waiters.pop(name, None)
        if waiters is not None:
            waiters.event.set()
        return registration

    @contextmanager
    def _register(self, name: str, value: Any) -> Iterator[Registration]:
        registration = self.register_nowait(name, value)
        try:
            yield registration
        finally:
            registration.unregister()

    def register(self, name: str, value: Any) -> AbstractContextManager[Registration]:
        """A context manager that holds ``name`` for ``value`` while its
        ``with`` block runs, and yields the :class:`Registration`.

        The name is registered on entering the block (raising as
        :meth:`register_nowait` does) and removed when the block is left:
        normally, by an exception or by cancellation. If the owner already
        unregistered it, leaving does nothing.
        """
        return self._register(name, value)

    # ---------------------------------------------------------------- queries
    def whereis(self, name: str) -> Any:
        """The value registered under ``name``, or ``None`` if it is free."""
        registration = self._entries.get(_check_name(name))
        return None if registration is None else registration.value

    def lookup_nowait(self, name: str) -> Any:
        """The value registered under ``name``; never blocks.

        Raises :class:`RegistryError` if ``name`` is not registered; the message
        lists the registered names (the first 10).
        """
        registration = self._entries.get(_check_name(name))
        if registration is None:
            raise RegistryError(f"name {name!r} is not registered; {self._known()}")
        return registration.value

    async def lookup(self, name: str) -> Any:
        """The value registered under ``name``, waiting until it is registered.

        Returns at once (after a checkpoint) if the name is registered, else
        wakes in the same scheduler tick as the registration that fills it. If
        the name is registered and removed again before this task runs, it goes
        on waiting: the value returned is always registered when ``lookup``
        returns.

        Cancellation: cancelling a waiting ``lookup`` raises
        :class:`trio.Cancelled` and leaves nothing behind (:meth:`waiting`
        drops by one).
        """
        _check_name(name)
        await trio.lowlevel.checkpoint_if_cancelled()
        if name in self._entries:
            await trio.lowlevel.cancel_shielded_checkpoint()
        while True:
            registration = self._entries.get(name)
            if registration is not None:
                return registration.value
            waiters = self._waiters.get(name)
            if waiters is None:
                waiters = self._waiters[name] = _Waiters()
            waiters.count += 1
            try:
                await waiters.event.wait()
            finally:
                waiters.count -= 1
                if waiters.count == 0 and self._waiters.get(name) is waiters:
                    del self._waiters[name]

    def waiting(self, name: str) -> int:
        """How many :meth:`lookup` calls are waiting for ``name`` (a diagnostic)."""
        waiters = self._waiters.get(_check_name(name))
        return 0 if waiters is None else waiters.count

    def names(self) -> list[str]:
        """The registered names, oldest registration first."""
        return list(self._entries)

    def _known(self) -> str:
        if not self._entries:
            return "no names are registered"
        shown = [repr(n) for n in islice(self._entries, _MAX_NAMES_SHOWN)]
        more = len(self._entries) - len(shown)
        tail = f", ... ({more} more)" if more else ""
        return f"registered names: {', '.join(shown)}{tail}"


_registry_var: trio.lowlevel.RunVar[Registry] = trio.lowlevel.RunVar("jido_trio.registry")


def current_registry() -> Registry:
    """The default :class:`Registry` of the current Trio run, created on first
    use. Each ``trio.run`` has its own; raises :class:`RuntimeError` outside a
    Trio run."""
    try:
        return _registry_var.get()
    except LookupError:
        registry = Registry()
        _registry_var.set(registry)
        return registry


def register(name: str, value: Any) -> AbstractContextManager[Registration]:
    """:meth:`Registry.register` on :func:`current_registry`."""
    return current_registry().register(name, value)


def whereis(name: str) -> Any:
    """:meth:`Registry.whereis` on :func:`current_registry`."""
    return current_registry().whereis(name)


async def lookup(name: str) -> Any:
    """:meth:`Registry.lookup` on :func:`current_registry`; cancellable, and a
    cancelled lookup leaves nothing behind."""
    return await current_registry().lookup(name)
