"""Actions: named, pure state transitions with typed parameters."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

import attrs

from ._errors import InvalidActionError, InvalidArgumentError

if TYPE_CHECKING:
    from ._directive import Directive

__all__ = ["Action", "ActionResult", "Instruction", "NoParams", "action"]

S = TypeVar("S")
P = TypeVar("P")


@attrs.frozen(slots=True)
class NoParams:
    """The parameters of an action that takes none."""


def _to_directives(directives: Iterable[Directive]) -> tuple[Directive, ...]:
    return tuple(directives)


@attrs.frozen(slots=True)
class ActionResult(Generic[S]):
    """What an action's ``run`` returns when it has more to say than the new state.

    Attributes:
        state: the new state.
        result: the value a ``call`` to the agent returns. Defaults to ``None``.
        directives: effects for the runtime to carry out after the state is
            committed (:class:`Emit`, :class:`Schedule`, ...); any iterable,
            stored as a tuple. ``cmd`` rejects objects that are not directives.
            Defaults to ``()``.
    """

    state: S
    result: Any = attrs.field(default=None, kw_only=True)
    directives: tuple[Directive, ...] = attrs.field(
        default=(), kw_only=True, converter=_to_directives
    )


def _type_name(tp: type) -> str:
    return tp.__name__


def _check_name(_: object, __: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidActionError(f"action name {value!r} is not valid; expected a non-empty str")


def _check_params(instance: Action[Any, Any], _: attrs.Attribute[Any], value: object) -> None:
    if not (isinstance(value, type) and attrs.has(value)):
        raise InvalidActionError(
            f"action {instance.name!r}: params={value!r} is not valid; expected an attrs "
            "class (or NoParams for none)"
        )


def _check_run(instance: Action[Any, Any], _: attrs.Attribute[Any], value: object) -> None:
    if not callable(value):
        raise InvalidActionError(
            f"action {instance.name!r}: run={value!r} is not callable; expected "
            "run(state, params) -> state | ActionResult"
        )


@attrs.frozen(slots=True)
class Action(Generic[S, P]):
    """A named, pure state transition with typed parameters.

    ``run(state, params)`` returns the new state, or an :class:`ActionResult`
    carrying the new state, a result and directives. It must not mutate
    ``state``; it should be pure (no I/O, clock or randomness): ``cmd`` cannot
    enforce that, and its determinism is only as good as the actions'.

    Calling an action with keyword arguments builds an :class:`Instruction`;
    the arguments are structured into ``params`` later, inside ``cmd``, so a bad
    value becomes an error directive rather than an exception here::

        cmd(agent, boost(amount=5))

    Attributes:
        name: unique within an agent; routes target it.
        params: the attrs class the parameters are structured into
            (:class:`NoParams` for none).
        run: ``run(state, params) -> state | ActionResult``.
        description: free text for humans and tooling. Defaults to ``""``.

    Raises:
        InvalidActionError: an empty name, ``params`` not an attrs class, or
            ``run`` not callable.
    """

    name: str = attrs.field(validator=_check_name)
    params: type[P] = attrs.field(validator=_check_params, repr=_type_name)
    run: Callable[[S, P], S | ActionResult[S]] = attrs.field(validator=_check_run)
    description: str = attrs.field(default="", kw_only=True)

    def __call__(self, **params: Any) -> Instruction:
        """Return ``Instruction(self, params)``."""
        return Instruction(self, params)


def _check_action(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Action):
        raise InvalidArgumentError(f"Instruction.action must be an Action, not {value!r}")


@attrs.frozen(slots=True)
class Instruction:
    """An action together with its (not yet structured) parameters.

    Build one by calling the action: ``boost(amount=5)``.

    Attributes:
        action: the action to run.
        params: a mapping of untyped parameters, structured into
            ``action.params`` inside ``cmd``; or an instance of
            ``action.params``, used as is. Defaults to ``{}``.
    """

    action: Action[Any, Any] = attrs.field(validator=_check_action)
    params: Any = attrs.field(factory=dict, hash=False)


@overload
def action(
    name: str, *, description: str = ""
) -> Callable[[Callable[[S, NoParams], S | ActionResult[S]]], Action[S, NoParams]]: ...


@overload
def action(
    name: str, *, params: type[P], description: str = ""
) -> Callable[[Callable[[S, P], S | ActionResult[S]]], Action[S, P]]: ...


def action(
    name: str, *, params: type[Any] = NoParams, description: str = ""
) -> Callable[[Callable[[Any, Any], Any]], Action[Any, Any]]:
    """Decorate ``run(state, params)`` into an :class:`Action`.

    ::

        @action("boost", params=BoostParams)
        def boost(state: DemandState, params: BoostParams) -> DemandState: ...

    Args:
        name: the action's name.
        params: the attrs class its parameters are structured into.
            Defaults to :class:`NoParams`.
        description: free text. Defaults to ``""``.
    """

    def decorate(run: Callable[[Any, Any], Any]) -> Action[Any, Any]:
        return Action(name, params, run, description=description)

    return decorate
