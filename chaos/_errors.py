"""chaos's errors: every one derives from :class:`jido_trio.JidoError`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jido_trio import JidoError, StoreError

__all__ = [
    "ChaosError",
    "InjectedFault",
    "InjectedStoreError",
    "InvalidPlanError",
    "NondeterminismError",
]


class ChaosError(JidoError):
    """Root of the errors the chaos engine raises on purpose."""


class InvalidPlanError(ChaosError, ValueError):
    """A fault plan, check or run option is not valid.

    Attributes:
        errors: one ``problem @ $.path`` line per problem, when the plan was
            structured from data (a dict, JSON, YAML).
    """

    def __init__(self, message: str, *, errors: Sequence[str] = ()) -> None:
        self.errors = tuple(errors)
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_plan_error, (self.args[0], self.errors))


def _rebuild_plan_error(message: str, errors: Sequence[str]) -> InvalidPlanError:
    return InvalidPlanError(message, errors=errors)


class NondeterminismError(ChaosError):
    """Two runs of the same system, plan and seed did not produce the same trace.

    Attributes:
        index: the position of the first event that differs.
        first, second: that event's line in each run (``None`` where one run's
            trace ended first).
        digests: the two trace digests.
    """

    def __init__(
        self,
        index: int,
        first: str | None,
        second: str | None,
        digests: tuple[str, str],
    ) -> None:
        self.index = index
        self.first = first
        self.second = second
        self.digests = digests
        super().__init__(
            f"the same seed gave two different runs: event #{index} differs\n"
            f"  first run:  {first if first is not None else '<trace ended>'}\n"
            f"  second run: {second if second is not None else '<trace ended>'}\n"
            "Something in the system reads a source the seed does not control: a wall "
            "clock, real I/O, unseeded randomness (random.random, uuid4), or iteration "
            "over a set of objects (see docs/chaos.md, 'Determinism and its limits')."
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (NondeterminismError, (self.index, self.first, self.second, self.digests))


class InjectedFault(JidoError):
    """The exception a chaos fault raises inside the system (a crash at a fault
    point, a failed start). Checks tell it apart from the system's own errors.

    Attributes:
        fault: the index of the fault in the run's plan.
        kind: the fault's kind (``"crash"``, ``"fail_start"``, ...).
        path: the tree path it was raised at.
    """

    def __init__(self, fault: int, kind: str, path: str) -> None:
        self.fault = fault
        self.kind = kind
        self.path = path
        super().__init__(f"chaos fault #{fault} ({kind}) at {path!r}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.fault, self.kind, self.path))


class InjectedStoreError(InjectedFault, StoreError):
    """A checkpoint write failed because a chaos fault said so (``store_write_fail``)."""
