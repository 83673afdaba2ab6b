"""Workloads: what drives the system during a run, declared as data
(:class:`Send`) or written as an async function of a :class:`Client`."""

from __future__ import annotations

import math
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

import attrs

from jido_trio import AgentDownError, AgentRef, CallTimeoutError, Instruction, JidoError, Signal

from ._errors import ChaosError, InvalidPlanError
from ._plan import Seconds, _count, _positive_time, _seconds, _time

if TYPE_CHECKING:
    from ._engine import _Engine

__all__ = ["Client", "Reply", "Send", "Workload"]


def _signal_type(inst: object, attr: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidPlanError(
            f"Send.signal={value!r}: expected a signal type such as 'demand.boost'"
        )


def _to(inst: object, attr: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidPlanError(f"Send.to={value!r}: expected an agent's registry name or tree path")


@attrs.frozen(kw_only=True)
class Send:
    """Send ``signal`` (a type) with ``data`` to the agent ``to`` (a registry
    name or a tree path): at ``at``, then every ``every`` seconds or as a
    Poisson process of ``rate`` per second, ``count`` times or until
    ``until`` (default: the end of the run's load). ``call=True`` waits for
    the reply (``timeout``), recorded as a request; else it is a ``cast``.
    Each send runs in its own task, so a slow reply never delays the next."""

    to: str = attrs.field(validator=_to)
    signal: str = attrs.field(validator=_signal_type)
    data: Any = None
    call: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    timeout: Seconds = attrs.field(
        converter=_seconds, default=Seconds(5.0), validator=_positive_time
    )
    at: Seconds = attrs.field(converter=_seconds, default=Seconds(0.0), validator=_time)
    every: Seconds | None = attrs.field(converter=_seconds, default=None, validator=_time)
    rate: float | None = attrs.field(default=None, validator=_time)
    count: int | None = attrs.field(default=None, validator=_count)
    until: Seconds | None = attrs.field(converter=_seconds, default=None, validator=_time)

    def __attrs_post_init__(self) -> None:
        if self.every is not None and self.rate is not None:
            raise InvalidPlanError("Send: give every= or rate=, not both")
        if self.every is not None and self.every <= 0:
            raise InvalidPlanError("Send.every=0 is not valid; expected seconds > 0")
        if self.rate is not None and self.rate <= 0:
            raise InvalidPlanError("Send.rate=0 is not valid; expected sends per second > 0")
        if self.until is not None and self.until < self.at:
            raise InvalidPlanError(f"Send: until={self.until} is before at={self.at}")

    def times(self, end: float, rng: random.Random) -> list[float]:
        """The send times inside ``[at, min(until, end))``."""
        stop = end if self.until is None else min(self.until, end)
        out: list[float] = []
        t = float(self.at)
        limit = (
            self.count
            if self.count is not None
            else (1 if self.every is None and self.rate is None else math.inf)
        )
        while t < stop and len(out) < limit:
            out.append(t)
            if self.every is not None:
                t += self.every
            elif self.rate is not None:
                t += rng.expovariate(self.rate)
            else:
                break
        return out


@attrs.frozen
class Reply:
    """What :meth:`Client.request` got: a ``value``, or the ``error`` the call
    raised (``AgentDownError``, ``CallTimeoutError``, an ``ActionError``, ...)."""

    value: Any = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


#: What a run's ``workload=`` takes.
Workload: TypeAlias = Sequence[Send] | Callable[["Client"], Awaitable[None]]


class Client:
    """The workload's handle on the system (no public constructor; a run
    passes one to a workload function).

    ``call`` and ``cast`` go to an agent by registry name or tree path, and
    are recorded: latencies, answers, and whether a call ever outlived its
    deadline. ``random`` is the run's workload stream; ``signal()`` builds a
    signal with an id that is deterministic within the run.
    """

    __slots__ = ("_engine", "_seq", "random")

    def __init__(self, engine: _Engine, rng: random.Random) -> None:
        self._engine = engine
        self.random = rng
        self._seq = 0

    @property
    def now(self) -> float:
        """Virtual seconds since the run started."""
        return self._engine.now()

    def signal(self, type: str, data: Any = None, *, subject: str | None = None) -> Signal:
        """A :class:`Signal` from the workload, with a deterministic id."""
        self._seq += 1
        return Signal(type, data, source="chaos/workload", subject=subject, id=f"w{self._seq}")

    def ref(self, to: str) -> AgentRef:
        """The agent ``to`` names (registry name or tree path)."""
        return self._engine.resolve(to)

    async def call(self, to: str, message: Signal | Instruction, *, timeout: float = 5.0) -> Any:  # noqa: ASYNC109
        """``AgentRef.call`` through the engine: recorded as a request."""
        engine = self._engine
        record = engine.begin_call(to, message, timeout)
        outcome = "cancelled"
        try:
            ref = engine.resolve(to)
            result = await ref.call(message, timeout=timeout)
            outcome = "ok"
            return result
        except CallTimeoutError:
            outcome = "timeout"
            raise
        except AgentDownError:
            outcome = "down"
            raise
        except ChaosError:
            outcome = "no_agent"
            raise
        except Exception:
            outcome = "error"
            raise
        finally:
            engine.end_call(record, outcome)

    async def request(
        self,
        to: str,
        message: Signal | Instruction,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> Reply:
        """:meth:`call`, but a failed call is returned, not raised: under chaos,
        failures are the normal case a workload goes on through."""
        try:
            return Reply(await self.call(to, message, timeout=timeout))
        except JidoError as exc:
            return Reply(error=exc)

    async def cast(self, to: str, message: Signal | Instruction) -> None:
        """``AgentRef.cast`` through the engine (counted)."""
        engine = self._engine
        ref = engine.resolve(to)
        engine.casts += 1
        await ref.cast(message)
