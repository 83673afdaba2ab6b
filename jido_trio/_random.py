"""Run-scoped sources of non-determinism, each in a ``trio.lowlevel.RunVar``:
the run's random source (for the runtime's own draws, such as backoff jitter)
and the factory of default signal ids. Set both to make a run reproducible."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable

import trio

from ._errors import InvalidArgumentError, InvalidSignalError

__all__ = ["new_signal_id", "run_random", "set_id_factory", "set_run_random"]

_source: trio.lowlevel.RunVar[random.Random] = trio.lowlevel.RunVar("jido_trio.random")
_id_factory: trio.lowlevel.RunVar[Callable[[], str] | None] = trio.lowlevel.RunVar(
    "jido_trio.id_factory", default=None
)
# A process-wide hint, never reset: has any run ever set an id factory? Until
# one has, a default id is uuid4 alone. Looking first would cost a tenth of a
# Signal: in_trio_run() outside a run, or RunVar.get() of a var a run never
# set, takes some 200-270 ns next to uuid4's 1.6 us. The factories themselves
# stay per run, in the RunVar.
_factory_ever_set = False


def _outside_a_run(name: str) -> RuntimeError:
    return RuntimeError(
        f"{name}() must be called inside a Trio run (trio.run(...)); it sets a value "
        "for that run only"
    )


def run_random() -> random.Random:
    """This Trio run's random source; an unseeded ``random.Random()`` unless
    :func:`set_run_random` gave one. Supervisors without ``rng=`` draw their
    backoff jitter from it."""
    try:
        return _source.get()
    except LookupError:
        rng = random.Random()
        _source.set(rng)
        return rng


def set_run_random(rng: random.Random) -> None:
    """Make ``rng`` this Trio run's random source (e.g. ``random.Random(seed)``),
    for draws made after the call. chaos seeds it from a run's root seed.

    Raises:
        InvalidArgumentError: ``rng`` is not a ``random.Random``.
        RuntimeError: called outside a Trio run.
    """
    if not isinstance(rng, random.Random):
        raise InvalidArgumentError(f"set_run_random() takes a random.Random, not {rng!r}")
    if not trio.lowlevel.in_trio_run():
        raise _outside_a_run("set_run_random")
    _source.set(rng)


def set_id_factory(factory: Callable[[], str] | None) -> None:
    """Make ``factory()`` the default ``id`` of every :class:`Signal` built in this
    Trio run without ``id=``, from the call on; ``None`` restores the default,
    ``uuid4().hex``.

    The setting is the run's own: other runs, and code outside any run, keep
    ``uuid4().hex``. Signals the runtime builds itself (timers, ``Emit``) have
    their own deterministic ids and do not call it. chaos sets a counter here
    so that a run is reproducible byte for byte.

    Raises:
        InvalidArgumentError: ``factory`` is neither callable nor ``None``.
        RuntimeError: called outside a Trio run.

    Building a signal then raises :class:`InvalidSignalError` (naming the
    factory) if ``factory()`` returns anything but a non-empty ``str``.
    """
    if factory is not None and not callable(factory):
        raise InvalidArgumentError(
            f"set_id_factory() takes a callable that returns a str id, or None, not {factory!r}"
        )
    if not trio.lowlevel.in_trio_run():
        raise _outside_a_run("set_id_factory")
    global _factory_ever_set  # the cost hint above, never reset
    _factory_ever_set = True
    _id_factory.set(factory)


def new_signal_id() -> str:
    """A default signal id: from the run's id factory if one is set, else
    ``uuid4().hex``."""
    if _factory_ever_set and trio.lowlevel.in_trio_run():
        factory = _id_factory.get()
        if factory is not None:
            value = factory()
            if not isinstance(value, str) or not value:
                raise InvalidSignalError(
                    f"the id factory {factory!r} (set with set_id_factory) returned "
                    f"{value!r}; expected a non-empty str"
                )
            return value
    return uuid.uuid4().hex
