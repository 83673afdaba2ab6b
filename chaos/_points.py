"""Fault points in user code, after FoundationDB's ``BUGGIFY``."""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

from ._errors import InvalidPlanError

if TYPE_CHECKING:
    from ._engine import _Engine

__all__ = ["fault_point"]

_engine: ContextVar[_Engine | None] = ContextVar("chaos.engine", default=None)


def fault_point(name: str, *, probability: float = 0.25) -> bool:
    """A named place in your code where chaos may make things go wrong.

    ::

        if chaos.fault_point("tracker.skip-cache"):
            return slow_path()

    Outside a chaos run it returns ``False`` at the cost of one ``ContextVar``
    lookup, so it can stay in production code. In a run, during the fault
    window, each named point is *enabled or not for the whole run*, decided by
    the seed (one in four is, as FoundationDB does); an enabled point then
    returns ``True`` with ``probability`` each time it is reached, drawn from
    the point's own stream of the seed. Every point that fires is recorded in
    the trace and counted in the metrics (``points:<name>``).

    ``probability`` — how often an enabled point fires. Defaults to ``0.25``.
    """
    engine = _engine.get()
    if engine is None:
        return False
    if (
        isinstance(probability, bool)
        or not isinstance(probability, int | float)
        or not 0 <= probability <= 1
    ):
        raise InvalidPlanError(
            f"fault_point({name!r}, probability={probability!r}): expected a number in [0, 1]"
        )
    return engine.point(name, probability)
