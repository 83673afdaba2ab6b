"""Directives: the effects an action asks the runtime to carry out.

``cmd`` only collects them; the AgentServer carries them out after the new
state is committed. Unknown directives are an error, never silently ignored
(:func:`check_directive`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Final

import attrs

from ._errors import InvalidDirectiveError, UnknownDirectiveError
from ._signal import check_signal_type

if TYPE_CHECKING:
    from ._agent import AgentDef

__all__ = [
    "Directive",
    "Emit",
    "Error",
    "Every",
    "Schedule",
    "SpawnAgent",
    "Stop",
    "StopChild",
    "check_directive",
]

RESTART_TYPES: Final = ("permanent", "transient", "temporary")


def _signal_type(_: object, attribute: attrs.Attribute[str], value: object) -> None:
    check_signal_type(value, f"{attribute.name}")


def _optional_name(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value):
        raise InvalidDirectiveError(
            f"{attribute.name}={value!r} is not valid; expected a non-empty str or None"
        )


def _name(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidDirectiveError(
            f"{attribute.name}={value!r} is not valid; expected a non-empty str"
        )


def _seconds(value: object, attribute: attrs.Attribute[Any], *, positive: bool) -> None:
    ok = (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and (value > 0 if positive else value >= 0)
    )
    if not ok:
        bound = "> 0" if positive else ">= 0"
        raise InvalidDirectiveError(
            f"{attribute.name}={value!r} is not valid; expected a finite number of seconds {bound}"
        )


def _delay(_: object, attribute: attrs.Attribute[float], value: object) -> None:
    _seconds(value, attribute, positive=False)


def _interval(_: object, attribute: attrs.Attribute[float], value: object) -> None:
    _seconds(value, attribute, positive=True)


def _agent_def(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    from ._agent import AgentDef  # here: _agent imports this module

    if not isinstance(value, AgentDef):
        raise InvalidDirectiveError(f"agent={value!r} is not valid; expected an AgentDef")


def _restart(_: object, attribute: attrs.Attribute[str], value: object) -> None:
    if value not in RESTART_TYPES:
        raise InvalidDirectiveError(
            f"restart={value!r} is not valid; expected 'permanent', 'transient' or 'temporary'"
        )


def _exception(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Exception):
        raise InvalidDirectiveError(f"error={value!r} is not valid; expected an Exception")


def error_key(error: BaseException | None) -> tuple[type[BaseException], str] | None:
    """Compare errors by type and message (exceptions compare by identity)."""
    return None if error is None else (type(error), str(error))


@attrs.frozen(slots=True)
class Directive:
    """Base class of the directives :func:`cmd` returns. Only the subclasses
    defined here are known; :func:`check_directive` rejects anything else.

    Directives validate their values when built: a bad value raises
    :class:`InvalidDirectiveError`, a malformed signal type
    :class:`InvalidSignalError`. Inside an action, that makes the action fail
    (an :class:`ActionError` from ``cmd``)."""


@attrs.frozen(slots=True)
class Emit(Directive):
    """Send a signal to another agent, or publish it on the bus.

    The runtime builds the :class:`Signal` (it fills ``id``, ``time`` and
    ``source``), so ``cmd`` stays pure.

    Attributes:
        type: the signal type (a valid dotted name).
        data: the signal's payload. Defaults to ``None``.
        to: the registry name of the receiving agent; ``None`` publishes on the
            bus. Defaults to ``None``.
        subject: the signal's subject. Defaults to ``None``.
    """

    type: str = attrs.field(validator=_signal_type)
    data: Any = None
    to: str | None = attrs.field(default=None, kw_only=True, validator=_optional_name)
    subject: str | None = attrs.field(default=None, kw_only=True)


@attrs.frozen(slots=True)
class Schedule(Directive):
    """Send a signal to this agent after ``delay`` seconds (of the Trio clock).

    Attributes:
        delay: seconds to wait, finite and ``>= 0``.
        type: the signal type (a valid dotted name).
        data: the signal's payload. Defaults to ``None``.
    """

    delay: float = attrs.field(validator=_delay)
    type: str = attrs.field(validator=_signal_type)
    data: Any = None


@attrs.frozen(slots=True)
class SpawnAgent(Directive):
    """Start a child agent under this agent's own supervisor.

    Attributes:
        agent: the child's definition.
        id: the child's id, unique among this agent's children.
        state: the child's initial state: a state, a mapping structured into the
            state type, or ``None`` for ``agent.new(id)``'s default. Defaults to
            ``None``.
        restart: ``"permanent"``, ``"transient"`` or ``"temporary"``, as for any
            supervised child. Defaults to ``"permanent"``.
    """

    agent: AgentDef[Any] = attrs.field(
        validator=_agent_def, repr=lambda d: f"<AgentDef {d.name!r}>"
    )
    id: str = attrs.field(validator=_name)
    state: Any = attrs.field(default=None, kw_only=True)
    restart: str = attrs.field(default="permanent", kw_only=True, validator=_restart)


@attrs.frozen(slots=True)
class StopChild(Directive):
    """Stop the child agent ``id`` started with :class:`SpawnAgent`.

    Attributes:
        id: the child's id.
    """

    id: str = attrs.field(validator=_name)


@attrs.frozen(slots=True)
class Stop(Directive):
    """Stop this agent.

    Attributes:
        reason: the exit reason; ``"normal"`` is a clean exit (a ``transient``
            agent is not restarted), anything else is abnormal. Defaults to
            ``"normal"``.
    """

    reason: str = attrs.field(default="normal", validator=_name)


@attrs.frozen(slots=True)
class Error(Directive):
    """An action failed; ``cmd`` returns exactly ``[Error(...)]`` and the
    original agent.

    Two ``Error`` directives are equal when their errors have the same type and
    message, so running ``cmd`` twice on the same input gives equal outputs.

    Attributes:
        error: the failure, a :class:`JidoError` when ``cmd`` made it.
        action: the name of the failing action, or ``None`` when no action was
            resolved (an unroutable signal). Defaults to ``None``.
    """

    error: Exception = attrs.field(validator=_exception, eq=error_key)
    action: str | None = attrs.field(default=None, kw_only=True)


@attrs.frozen(slots=True)
class Every:
    """A periodic schedule declared on an agent (``AgentDef(schedules=[...])``):
    the runtime sends the signal to the agent every ``interval`` seconds.

    Not a directive: an action cannot return it.

    Attributes:
        interval: seconds between signals, finite and ``> 0``.
        type: the signal type (a valid dotted name).
        data: the signal's payload. Defaults to ``None``.
    """

    interval: float = attrs.field(validator=_interval)
    type: str = attrs.field(validator=_signal_type)
    data: Any = None


KNOWN_DIRECTIVES: Final = (Emit, Schedule, SpawnAgent, StopChild, Stop, Error)


def unknown_directive(obj: object, action: str | None = None) -> UnknownDirectiveError:
    """Return the error for a non-directive ``obj`` returned by ``action``."""
    by = f" returned by action {action!r}" if action is not None else ""
    hint = (
        "; Every is declared with AgentDef(schedules=[...]), not returned"
        if isinstance(obj, Every)
        else ""
    )
    return UnknownDirectiveError(
        f"unknown directive {obj!r}{by}; expected one of Emit, Schedule, SpawnAgent, "
        f"StopChild, Stop or Error{hint}",
        directive=obj,
        action=action,
    )


def check_directive(obj: object) -> Directive:
    """Return ``obj`` if it is one of the known directives (or a subclass of one).

    Raises:
        UnknownDirectiveError: anything else, including a bare
            :class:`Directive`, a foreign subclass of it, and :class:`Every`.
    """
    if isinstance(obj, KNOWN_DIRECTIVES):
        return obj
    raise unknown_directive(obj)
