"""The run's random source: one ``random.Random`` per Trio run, for the
runtime's own draws (backoff jitter). Seed it to make a run reproducible."""

from __future__ import annotations

import random

import trio

from ._errors import InvalidArgumentError

__all__ = ["run_random", "set_run_random"]

_source: trio.lowlevel.RunVar[random.Random] = trio.lowlevel.RunVar("jido_trio.random")


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
    for draws made after the call. chaos seeds it from a run's root seed."""
    if not isinstance(rng, random.Random):
        raise InvalidArgumentError(f"set_run_random() takes a random.Random, not {rng!r}")
    _source.set(rng)
