"""The one error hierarchy: every exception jido_trio raises on purpose derives
from :class:`JidoError` (chaos's errors too). Where a builtin fits, the error
subclasses it as well, so ``except ValueError`` keeps working."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class JidoError(Exception):
    """Root of every error raised on purpose by jido_trio and chaos."""


class InvalidChildSpecError(JidoError, ValueError):
    """A child specification or supervisor option is not valid.

    The message names the field, the offending value and the accepted values.
    """


class RestartIntensityError(JidoError, RuntimeError):
    """A supervisor restarted its children more than ``max_restarts`` times within
    ``max_seconds`` and gave up: its children are stopped and it exits abnormally.

    The parent supervisor treats this as its child's crash (escalation). The last
    child failure is the ``__cause__``.

    Attributes:
        path: the path of the supervisor that gave up (``root/pipeline``).
        restarts: the virtual times (``trio.current_time()``) of the restarts that
            were inside the window when it gave up, oldest first (the message
            shows the first and last five of more than ten).
        max_restarts, max_seconds: the limits in force.
    """

    def __init__(
        self,
        path: str,
        restarts: Sequence[float],
        *,
        max_restarts: int,
        max_seconds: float,
        child_id: str | None = None,
    ) -> None:
        self.path = path
        self.restarts = tuple(restarts)
        self.max_restarts = max_restarts
        self.max_seconds = max_seconds
        self.child_id = child_id
        culprit = f" (last failure in child {child_id!r})" if child_id is not None else ""
        times = [f"{t:g}" for t in self.restarts]
        if len(times) > 10:  # the first and last five: one line, whatever the limit
            times = [*times[:5], f"... {len(times) - 10} more ...", *times[-5:]]
        super().__init__(
            f"supervisor {path!r} exceeded its restart intensity: more than "
            f"{max_restarts} restart(s) within {max_seconds:g}s{culprit}; "
            f"restart times: {', '.join(times) or 'none'}"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_intensity,
            (self.path, self.restarts, self.max_restarts, self.max_seconds, self.child_id),
        )


def _rebuild_intensity(
    path: str,
    restarts: Sequence[float],
    max_restarts: int,
    max_seconds: float,
    child_id: str | None,
) -> RestartIntensityError:
    return RestartIntensityError(
        path, restarts, max_restarts=max_restarts, max_seconds=max_seconds, child_id=child_id
    )


class ChildNotFoundError(JidoError, LookupError):
    """No child (or tree node) with that id or path exists."""


class DuplicateChildError(JidoError, ValueError):
    """A child with that id already exists under this supervisor."""


class TooManyChildrenError(JidoError, RuntimeError):
    """Starting another child would exceed the supervisor's ``max_children``."""


class ChildRunningError(JidoError, RuntimeError):
    """The operation needs a stopped child, but the child is running."""


class SupervisorClosedError(JidoError, RuntimeError):
    """The supervisor is shutting down or has shut down; it starts nothing more."""


class ChildKilled(JidoError):
    """Exit reason of a child stopped through the kill seam (counted as a crash)."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"child {path!r} was killed: {reason}")


class RegistryError(JidoError, LookupError):
    """A registry name is taken, or not registered."""


class ChildStartError(JidoError, RuntimeError):
    """A child returned, or was stopped, before it called ``task_status.started()``."""


# -- Agents: signals, routes, actions, directives and cmd --------------------------


def _rebuild(cls: type[JidoError], args: tuple[Any, ...], kwargs: dict[str, Any]) -> JidoError:
    return cls(*args, **kwargs)


class InvalidSignalError(JidoError, ValueError):
    """A signal, or a signal type, is not valid.

    Attributes:
        errors: one ``field: problem @ $.path`` line per problem found by
            ``Signal.from_dict``; empty for a bad ``type`` given to ``Signal(...)``.
    """

    def __init__(self, message: str, *, errors: Sequence[str] = ()) -> None:
        self.errors = tuple(errors)
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, {"errors": self.errors}))


class InvalidRouteError(JidoError, ValueError):
    """A route pattern is malformed, or a route targets an action the agent lacks.

    Attributes:
        pattern: the offending route pattern, or ``None``.
    """

    def __init__(self, message: str, *, pattern: str | None = None) -> None:
        self.pattern = pattern
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, {"pattern": self.pattern}))


class InvalidActionError(JidoError, ValueError):
    """An action definition is not valid (empty name, ``params`` not an attrs class, ...)."""


class InvalidAgentDefError(JidoError, ValueError):
    """An agent definition is not valid (state type not a frozen attrs class,
    duplicate action names, ...)."""


class InvalidDirectiveError(JidoError, ValueError):
    """A directive, or an ``Every`` schedule, was built with a bad value
    (a negative delay, an unknown restart type, ...)."""


class InvalidParamsError(JidoError, ValueError):
    """An action's parameters could not be structured from untyped data.

    The message has one line per problem, ``amount: expected int @ $.data.amount``.

    Attributes:
        action: the action's name.
        errors: the problem lines, in the order cattrs found them.
    """

    def __init__(self, action: str, errors: Sequence[str]) -> None:
        self.action = action
        self.errors = tuple(errors)
        super().__init__(f"invalid params for action {action!r}:\n" + "\n".join(self.errors))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), (self.action, self.errors), {}))


class InvalidStateError(JidoError, ValueError):
    """An agent state is not valid: an action produced a state that fails the
    state type's attrs validators (or is not of that type), or untyped data could
    not be structured into the state type.

    Attributes:
        action: the action that produced the state, or ``None``.
        errors: ``field: problem @ $.path`` lines when structuring failed.
    """

    def __init__(
        self, message: str, *, action: str | None = None, errors: Sequence[str] = ()
    ) -> None:
        self.action = action
        self.errors = tuple(errors)
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, {"action": self.action, "errors": self.errors}))


class ActionError(JidoError):
    """An action raised. The original exception is the ``__cause__``.

    Attributes:
        action: the action's name.
    """

    def __init__(self, message: str, *, action: str) -> None:
        self.action = action
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, {"action": self.action}))


class UnroutableSignalError(JidoError, LookupError):
    """No route of the agent matches the signal's type.

    Attributes:
        signal_type: the signal's type.
        routes: the agent's route patterns, in declaration order.
    """

    def __init__(self, signal_type: str, routes: Sequence[str]) -> None:
        self.signal_type = signal_type
        self.routes = tuple(routes)
        known = ", ".join(repr(r) for r in self.routes) or "none (the agent declares no routes)"
        super().__init__(f"no route matches signal type {signal_type!r}; known routes: {known}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), (self.signal_type, self.routes), {}))


class UnknownActionError(JidoError, LookupError):
    """An action name (or an ``Action``) is not one of the agent's actions.

    Attributes:
        action: the requested name.
        known: the agent's action names, in declaration order.
    """

    def __init__(self, action: str, known: Sequence[str]) -> None:
        self.action = action
        self.known = tuple(known)
        names = ", ".join(repr(n) for n in self.known) or "none"
        super().__init__(f"unknown action {action!r}; the agent's actions are: {names}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), (self.action, self.known), {}))

    def __str__(self) -> str:
        # LookupError would otherwise show the message like a KeyError's repr.
        return str(self.args[0])


class UnknownDirectiveError(JidoError, TypeError):
    """An object that is not one of the known directive classes was returned as a
    directive. Unknown directives are an error, never silently ignored.

    Attributes:
        directive: the offending object.
        action: the action that returned it, or ``None``.
    """

    def __init__(
        self, message: str, *, directive: object = None, action: str | None = None
    ) -> None:
        self.directive = directive
        self.action = action
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        kwargs = {"directive": self.directive, "action": self.action}
        return (_rebuild, (type(self), self.args, kwargs))


class InvalidRegistrationError(JidoError, ValueError):
    """A registry name is not a non-empty string, or the value registered is ``None``."""


class AgentDownError(JidoError, RuntimeError):
    """The agent crashed or stopped before it could answer: raised in the caller
    of ``call`` (a message being processed at a crash, or sent to an agent that
    is stopped for good). The crash, if any, is the ``__cause__``."""


class CallTimeoutError(JidoError, TimeoutError):
    """``AgentRef.call`` got no reply within its ``timeout`` (enqueueing included)."""


class MailboxFullError(JidoError, RuntimeError):
    """``AgentRef.cast_nowait`` found the agent's bounded mailbox full."""


class AgentStopError(JidoError):
    """Exit reason of an agent that returned ``Stop(reason)`` with a reason other
    than ``"normal"``: an abnormal exit, so a transient agent is restarted."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"agent {path!r} stopped with reason {reason!r}")


class StoreError(JidoError, RuntimeError):
    """A checkpoint store could not load or save a state."""


class InvalidArgumentError(JidoError, ValueError, TypeError):
    """An argument to a jido_trio function is not valid, in value or in type (the
    message names it, shows the value and says what is accepted). It is both a
    ``ValueError`` and a ``TypeError``, so either ``except`` catches it."""
