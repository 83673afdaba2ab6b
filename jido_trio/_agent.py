"""Agents: a definition (:class:`AgentDef`), an immutable agent value
(:class:`Agent`), and the pure command function :func:`cmd`.

``cmd(agent, action | [actions]) -> (agent, [directive])`` runs actions against
the agent's state and returns the new agent and the directives for the runtime.
It does no I/O and reads no clock and no randomness; it is as deterministic as
the actions it runs (their purity is their authors' responsibility).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from types import CodeType, MappingProxyType, TracebackType
from typing import Any, Final, Generic, TypeVar, cast

import attrs
import cattrs

from ._action import Action, ActionResult, Instruction, NoParams
from ._convert import StructureHook, make_converter, structure_lines
from ._directive import KNOWN_DIRECTIVES, Directive, Error, Every, error_key, unknown_directive
from ._errors import (
    ActionError,
    InvalidAgentDefError,
    InvalidArgumentError,
    InvalidParamsError,
    InvalidRouteError,
    InvalidStateError,
    JidoError,
    UnknownActionError,
    UnroutableSignalError,
)
from ._signal import Router, Signal

__all__ = ["Agent", "AgentDef", "CmdOutcome", "cmd", "execute"]

S = TypeVar("S")

_NO_PARAMS: Final = NoParams()
_EMPTY: Final[Mapping[str, Any]] = MappingProxyType({})


# -- AgentDef ---------------------------------------------------------------------


def _check_name(_: object, __: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidAgentDefError(f"agent name {value!r} is not valid; expected a non-empty str")


def _check_state_type(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, type) or not attrs.has(value):
        raise InvalidAgentDefError(
            f"state_type={value!r} is not valid; expected a frozen attrs class "
            "(decorate it with @attrs.frozen)"
        )
    if not _is_frozen(value):
        raise InvalidAgentDefError(
            f"state_type={value.__name__} is not frozen; agent states are immutable "
            "values: decorate it with @attrs.frozen (or @attrs.define(frozen=True))"
        )


def _is_frozen(cls: type) -> bool:
    # attrs gives frozen classes a __setattr__ that raises FrozenInstanceError.
    return getattr(cls.__setattr__, "__name__", "") == "_frozen_setattrs"


def _actions_by_name(
    actions: Iterable[Action[Any, Any]] | Mapping[str, Action[Any, Any]],
) -> Mapping[str, Action[Any, Any]]:
    if isinstance(actions, Mapping):
        actions = actions.values()
    if isinstance(actions, str | bytes) or not isinstance(actions, Iterable):
        raise InvalidAgentDefError(f"actions={actions!r} is not valid; expected a list of Action")
    by_name: dict[str, Action[Any, Any]] = {}
    for item in actions:
        if not isinstance(item, Action):
            raise InvalidAgentDefError(
                f"actions: {item!r} is not an Action; build one with @action(...)"
            )
        if item.name in by_name:
            raise InvalidAgentDefError(
                f"actions: duplicate action name {item.name!r}; action names must be unique"
            )
        by_name[item.name] = item
    return MappingProxyType(by_name)


def _routes(routes: Mapping[str, str]) -> Mapping[str, str]:
    if not isinstance(routes, Mapping):
        raise InvalidRouteError(
            f"routes={routes!r} is not valid; expected a mapping of pattern to action name"
        )
    return MappingProxyType(dict(routes))


def _schedules(schedules: Iterable[Every]) -> tuple[Every, ...]:
    out = tuple(schedules)
    for item in out:
        if not isinstance(item, Every):
            raise InvalidAgentDefError(
                f"schedules: {item!r} is not an Every; declare Every(interval, type, data)"
            )
    return out


def _names(mapping: Mapping[str, Any]) -> str:
    return repr(list(mapping))


@attrs.frozen(slots=True, eq=False)
class AgentDef(Generic[S]):
    """The definition of an agent: its state type, actions, routes and schedules.

    Definitions compare and hash by identity.

    Args:
        name: the agent kind's name, for logs and telemetry.
        state_type: the state's class, a *frozen* attrs class. Its validators
            guard every new state.
        actions: the agent's actions; names must be unique. Stored as a
            read-only name-to-action mapping.
        routes: signal-type pattern to action name (see :class:`Router` for the
            wildcards and which route wins). Every target must be one of
            ``actions``. Defaults to no routes.
        schedules: periodic signals the runtime sends the agent
            (:class:`Every`). Defaults to none.
        initial: ``initial(agent_id) -> state``, the state of a new agent when
            none is given. Defaults to ``None``: use ``state_type()``, which needs
            every field to have a default.
        converter: the cattrs converter for parameters and states. Defaults to
            a new :func:`make_converter` converter for this definition. Its
            hooks are cached here: register your hooks before passing it.

    Raises:
        InvalidAgentDefError: ``state_type`` is not a frozen attrs class, an
            action name is duplicated, or an argument has the wrong type.
        InvalidRouteError: a route pattern is malformed, or a route targets an
            action that is not in ``actions`` (names the route and the actions).
    """

    name: str = attrs.field(validator=_check_name)
    state_type: type[S] = attrs.field(validator=_check_state_type, repr=lambda t: t.__name__)
    actions: Mapping[str, Action[S, Any]] = attrs.field(converter=_actions_by_name, repr=_names)
    routes: Mapping[str, str] = attrs.field(
        factory=dict, kw_only=True, converter=_routes, repr=lambda r: repr(dict(r))
    )
    schedules: tuple[Every, ...] = attrs.field(default=(), kw_only=True, converter=_schedules)
    initial: Callable[[str], S] | None = attrs.field(default=None, kw_only=True)
    converter: cattrs.Converter = attrs.field(factory=make_converter, kw_only=True, repr=False)
    _router: Router = attrs.field(init=False, repr=False)
    _param_hooks: Mapping[str, StructureHook] = attrs.field(init=False, repr=False)
    _state_hook: StructureHook = attrs.field(init=False, repr=False)
    _state_init: CodeType | None = attrs.field(init=False, repr=False)
    _state_validators: tuple[attrs.Attribute[Any], ...] = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        router = Router(self.routes)
        for pattern, target in self.routes.items():
            if target not in self.actions:
                raise InvalidRouteError(
                    f"route {pattern!r} -> {target!r} targets an unknown action; "
                    f"the agent's actions are: {', '.join(map(repr, self.actions)) or 'none'}",
                    pattern=pattern,
                )
        if self.initial is not None and not callable(self.initial):
            raise InvalidAgentDefError(f"initial={self.initial!r} is not callable")
        if not isinstance(self.converter, cattrs.Converter):
            raise InvalidAgentDefError(f"converter={self.converter!r} is not a cattrs.Converter")
        hooks = {name: self._hook(act.params) for name, act in self.actions.items()}
        init = getattr(self.state_type.__init__, "__code__", None)
        set_ = object.__setattr__
        set_(self, "_router", router)
        set_(self, "_param_hooks", MappingProxyType(hooks))
        set_(self, "_state_hook", self._hook(self.state_type))
        set_(self, "_state_init", init)
        fields = attrs.fields(cast(Any, self.state_type))
        set_(self, "_state_validators", tuple(a for a in fields if a.validator is not None))

    def _hook(self, cl: type) -> StructureHook:
        try:
            return self.converter.get_structure_hook(cl)
        except Exception as exc:
            raise InvalidAgentDefError(
                f"agent {self.name!r}: cannot structure {cl.__name__} with the converter "
                f"({type(exc).__name__}: {exc}); are its annotations resolvable at module "
                "level, or is a hook missing?"
            ) from exc

    @property
    def router(self) -> Router:
        """The compiled :class:`Router` for ``routes``."""
        return self._router

    def new(self, id: str, state: S | Mapping[str, Any] | None = None) -> Agent[S]:
        """Return a new agent (``version=0``) with this definition.

        Args:
            id: the agent's id (a non-empty str).
            state: a ``state_type`` instance; a mapping, structured into
                ``state_type`` with the converter; or ``None`` for
                ``initial(id)``, or ``state_type()`` when there is no
                ``initial``. Defaults to ``None``.

        Raises:
            InvalidStateError: the mapping cannot be structured (one
                ``field: problem @ $.path`` line per problem), or the default
                state cannot be built.
            TypeError: ``id`` is not a non-empty str, or ``state`` is of another type.
        """
        if not isinstance(id, str) or not id:
            raise InvalidArgumentError(f"agent id must be a non-empty str, not {id!r}")
        return Agent(self, id, self._coerce_state(state, id))

    def _coerce_state(self, state: object, id: str) -> S:
        if isinstance(state, self.state_type):
            return state
        if state is None:
            if self.initial is not None:
                made = self.initial(id)
                if not isinstance(made, self.state_type):
                    raise InvalidStateError(
                        f"initial({id!r}) returned {made!r}; expected a {self.state_type.__name__}"
                    )
                return made
            try:
                return self.state_type()
            except (TypeError, ValueError) as exc:
                raise InvalidStateError(
                    f"cannot build a default {self.state_type.__name__} for agent "
                    f"{id!r} ({exc}); pass state= or give the AgentDef an initial="
                ) from exc
        if isinstance(state, Mapping):
            return self.load_state(state)
        raise InvalidArgumentError(
            f"state must be a {self.state_type.__name__}, a mapping or None, not {state!r}"
        )

    def dump_state(self, state: S) -> dict[str, Any]:
        """Unstructure ``state`` into plain data (for checkpoint stores).

        Raises:
            TypeError: ``state`` is not a ``state_type`` instance.
        """
        if not isinstance(state, self.state_type):
            raise InvalidArgumentError(f"expected a {self.state_type.__name__}, not {state!r}")
        dumped: dict[str, Any] = self.converter.unstructure(state)
        return dumped

    def load_state(self, data: Mapping[str, Any]) -> S:
        """Structure plain data (as :meth:`dump_state` returns) into a state.

        Raises:
            InvalidStateError: with one ``field: problem @ $.path`` line per
                problem in its message and ``.errors``.
        """
        value, errors = structure_lines(
            self._state_hook, data, self.state_type, root="$", label="state"
        )
        if errors:
            raise InvalidStateError(
                f"invalid {self.state_type.__name__}:\n" + "\n".join(errors), errors=errors
            )
        state: S = value
        return state


# -- Agent ------------------------------------------------------------------------


@attrs.frozen(slots=True)
class Agent(Generic[S]):
    """An agent: an immutable value. :func:`cmd` returns a new one.

    Build one with :meth:`AgentDef.new`.

    Attributes:
        definition: the agent's :class:`AgentDef`.
        id: the agent's id.
        state: the current state, a ``definition.state_type`` instance.
        version: the number of successful ``cmd`` calls that led here.
            Defaults to ``0``.
    """

    definition: AgentDef[S] = attrs.field(repr=lambda d: f"<AgentDef {d.name!r}>")
    id: str
    state: S
    version: int = 0


@attrs.frozen(slots=True)
class CmdOutcome(Generic[S]):
    """The full outcome of :func:`execute`.

    Attributes:
        agent: the new agent on success; the original agent, unchanged, on failure.
        directives: the directives of every action, in order, on success;
            exactly ``(Error(error, action=action),)`` on failure.
        result: the result of the last action (its ``ActionResult.result``,
            or its new state when it returned a bare state); ``None`` on
            failure or when no action ran.
        error: the failure, or ``None``. Outcomes compare errors by type and
            message, like :class:`Error` directives.
        action: the name of the last action run, or of the failing one; ``None``
            when no action ran or none could be resolved.
    """

    agent: Agent[S]
    directives: tuple[Directive, ...]
    result: Any
    error: JidoError | None = attrs.field(eq=error_key)
    action: str | None

    @property
    def ok(self) -> bool:
        """Whether every action succeeded."""
        return self.error is None


# -- cmd ------------------------------------------------------------------------

#: What cmd accepts: one of these, or a list of them.
CmdInput = Instruction | Action[Any, Any] | Signal | tuple[str, Any]
#: A batch for cmd: at run time a ``list`` (a tuple is read as an (action_name,
#: params) pair); typed as a Sequence so that ``list[Signal]`` type-checks.
CmdInputs = Sequence[CmdInput]


_INPUT_TYPES: Final = (Instruction, Action, Signal)


def _check_input(item: object) -> None:
    if isinstance(item, _INPUT_TYPES):
        return
    if type(item) is tuple and len(item) == 2 and isinstance(item[0], str):
        return  # the params are data: cmd reports bad ones as InvalidParamsError
    raise InvalidArgumentError(
        f"cmd expects an Instruction, an Action, a Signal, an (action_name, params) "
        f"tuple, or a list of those; got {item!r}"
    )


def _registered(definition: AgentDef[Any], act: Action[Any, Any]) -> Action[Any, Any]:
    mine = definition.actions.get(act.name)
    if mine is act or (mine is not None and mine == act):
        return mine
    raise UnknownActionError(act.name, list(definition.actions))


def _resolve(definition: AgentDef[Any], item: object) -> tuple[Action[Any, Any], Any]:
    """Return the action and its unstructured params for one (checked) cmd input."""
    if isinstance(item, Instruction):
        return _registered(definition, item.action), item.params
    if isinstance(item, Signal):
        name = definition._router.match(item.type)
        if name is None:
            raise UnroutableSignalError(item.type, list(definition.routes))
        return definition.actions[name], item.data
    if isinstance(item, Action):
        return _registered(definition, item), None
    action_name, params = cast(tuple[str, Any], item)
    found = definition.actions.get(action_name)
    if found is None:
        raise UnknownActionError(action_name, list(definition.actions))
    return found, params


def _params(definition: AgentDef[Any], act: Action[Any, Any], data: Any) -> Any:
    cls = act.params
    if isinstance(data, cls):
        return data
    if data is None or (isinstance(data, Mapping) and not data):
        if cls is NoParams:
            return _NO_PARAMS
        data = _EMPTY
    value, errors = structure_lines(
        definition._param_hooks[act.name], data, cls, root="$.data", label="data"
    )
    if errors:
        raise InvalidParamsError(act.name, errors)
    return value


def _raised_in(tb: TracebackType | None, code: CodeType | None) -> bool:
    while tb is not None:
        if tb.tb_frame.f_code is code:
            return True
        tb = tb.tb_next
    return False


def _run(
    definition: AgentDef[S], act: Action[S, Any], state: S, params: Any
) -> tuple[S, Any, tuple[Directive, ...]]:
    try:
        returned = act.run(state, params)
    except Exception as exc:
        state_name = definition.state_type.__name__
        error: JidoError
        if _raised_in(exc.__traceback__, definition._state_init):
            error = InvalidStateError(
                f"action {act.name!r} built an invalid {state_name}: {exc}", action=act.name
            )
        else:
            error = ActionError(
                f"action {act.name!r} raised {type(exc).__name__}: {exc}", action=act.name
            )
        raise error from exc
    if type(returned) is ActionResult or isinstance(returned, ActionResult):
        new_state, result, directives = returned.state, returned.result, returned.directives
        for directive in directives:
            if not isinstance(directive, KNOWN_DIRECTIVES):
                raise unknown_directive(directive, act.name)
    else:
        new_state, result, directives = returned, returned, ()
    if new_state is not state:
        _check_state(definition, act.name, new_state)
    return new_state, result, directives


def _check_state(definition: AgentDef[Any], name: str, new_state: object) -> None:
    state_type = definition.state_type
    if not isinstance(new_state, state_type):
        raise InvalidStateError(
            f"action {name!r} returned {new_state!r}; expected a {state_type.__name__} "
            "or an ActionResult holding one",
            action=name,
        )
    try:
        # attrs.validate(new_state), without looking the fields up again.
        for field in definition._state_validators:
            field.validator(new_state, field, getattr(new_state, field.name))  # type: ignore[misc]
    except Exception as exc:
        raise InvalidStateError(
            f"action {name!r} built an invalid {state_type.__name__}: {exc}",
            action=name,
        ) from exc


def execute(agent: Agent[S], action_or_list: CmdInput | CmdInputs) -> CmdOutcome[S]:
    """Run one action, or a list of actions in order, against ``agent``; pure.

    Accepted inputs: an :class:`Instruction` (``boost(amount=5)``); an
    :class:`Action` (default params); a :class:`Signal`, routed by the agent's
    routes, with params structured from ``signal.data`` (``None`` means
    ``{}``); an ``(action_name, params)`` tuple (params: a mapping, ``None``,
    or a params instance); or a ``list`` of those, run in order. Actions must be
    the agent's own (an unknown name, or an Action that is not the agent's, is
    an :class:`UnknownActionError`). An ``Error`` directive returned by an
    action is just a directive: it does not fail the call.

    Purity: ``execute`` does no I/O and reads no clock or randomness; it never
    mutates ``agent``. It is exactly as deterministic as the actions' ``run``
    functions, which are their authors' responsibility.

    Atomic: if any action fails, the outcome holds the original agent,
    unchanged, and exactly ``(Error(error, action=name),)``; no directive of
    earlier actions survives. Failures are returned, never raised:
    :class:`InvalidParamsError`, :class:`UnroutableSignalError`,
    :class:`UnknownActionError`, :class:`ActionError` (the action raised; the
    original exception is its ``__cause__``), :class:`UnknownDirectiveError`
    and :class:`InvalidStateError` (the new state is not a ``state_type`` or
    fails its validators, including when the action's own ``attrs.evolve``
    raised from the state's validators).

    On success the new agent's ``version`` is one more than ``agent``'s (one per
    call, not per action). An empty list runs nothing and returns ``agent``
    itself with the same version.

    Raises:
        TypeError: ``agent`` is not an :class:`Agent`, or an input is none of
            the accepted kinds (``cmd(agent, 42)``).
    """
    if not isinstance(agent, Agent):
        raise InvalidArgumentError(f"cmd expects an Agent first, not {agent!r}")
    items: Sequence[object]
    if isinstance(action_or_list, list):
        items = action_or_list
        for item in items:
            _check_input(item)
        if not items:
            return CmdOutcome(agent, (), None, None, None)
    else:
        _check_input(action_or_list)
        items = (action_or_list,)
    definition = agent.definition
    state = agent.state
    directives: list[Directive] = []
    result: Any = None
    name: str | None = None
    for item in items:
        name = None
        try:
            act, data = _resolve(definition, item)
            name = act.name
            state, result, produced = _run(definition, act, state, _params(definition, act, data))
        except JidoError as error:
            failed = getattr(error, "action", None) or name
            return CmdOutcome(agent, (Error(error, action=failed),), None, error, failed)
        directives.extend(produced)
    new_agent = Agent(definition, agent.id, state, agent.version + 1)
    return CmdOutcome(new_agent, tuple(directives), result, None, name)


def cmd(agent: Agent[S], action_or_list: CmdInput | CmdInputs) -> tuple[Agent[S], list[Directive]]:
    """Run actions against ``agent``: ``(new_agent, directives)``; pure.

    A thin wrapper over :func:`execute` (which see for the accepted inputs and
    the failure rules): on failure, the original agent and ``[Error(...)]``.
    """
    outcome = execute(agent, action_or_list)
    return outcome.agent, list(outcome.directives)
