"""A read-only view of the system under test, for check predicates."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import jido_trio
from jido_trio import AgentRef, ChildInfo, DeadLetter, Signal

from ._errors import ChaosError

if TYPE_CHECKING:
    from ._engine import _Engine

__all__ = ["SystemView"]


class SystemView:
    """What a check predicate sees of the running system (no constructor of
    its own: the engine passes one).

    ``view.time`` is the virtual time since the run started; ``tree()``,
    ``agents()``, ``agent(name)`` and ``state(name)`` read the live tree;
    ``metrics`` are the run's measurements so far. In an async
    :class:`Eventually` predicate, ``await view.call(name, message)`` sends a
    probe through the same path as the workload (it is recorded).
    """

    __slots__ = ("_engine",)

    def __init__(self, engine: _Engine) -> None:
        self._engine = engine

    @property
    def time(self) -> float:
        """Virtual seconds since the run started."""
        return self._engine.now()

    @property
    def phase(self) -> str:
        """``"faults"``, ``"quiet"``, ``"settle"`` or ``"stop"``."""
        return self._engine.phase

    def tree(self) -> list[ChildInfo]:
        """``jido_trio.tree()``: every supervisor and child, depth first."""
        return jido_trio.tree()

    def agents(self) -> dict[str, AgentRef]:
        """Every agent the run has seen, by tree path (running or not)."""
        return dict(self._engine.refs)

    def agent(self, name: str) -> AgentRef:
        """The agent registered as ``name``, or whose tree path is ``name``."""
        return self._engine.resolve(name)

    def state(self, name: str) -> Any:
        """The current state of :meth:`agent` ``(name)``."""
        return self.agent(name).state

    def dead_letters(self) -> list[DeadLetter]:
        """The dead letters of this chaos run (``jido_trio.dead_letters()``
        since the run started)."""
        return self._engine.new_dead_letters()

    @property
    def metrics(self) -> Mapping[str, float]:
        """The run's metrics so far."""
        return self._engine.metrics()

    async def call(self, name: str, message: Signal | Any, *, timeout: float = 5.0) -> Any:  # noqa: ASYNC109
        """Call the agent ``name`` (a registry name or a path) and return the
        result; raises what ``AgentRef.call`` raises."""
        if self._engine.client is None:
            raise ChaosError("view.call() is only available while the run is live")
        return await self._engine.client.call(name, message, timeout=timeout)

    def __repr__(self) -> str:
        return f"<SystemView t={self.time:g} phase={self.phase}>"
