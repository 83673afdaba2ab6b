"""Agent definitions, agents, directives, and the pure `cmd` / `execute`."""

from __future__ import annotations

import math
import pickle
from typing import Any

import attrs
import pytest

from jido_trio import (
    Action,
    ActionError,
    ActionResult,
    Agent,
    AgentDef,
    CmdOutcome,
    Directive,
    Emit,
    Error,
    Every,
    Instruction,
    InvalidAgentDefError,
    InvalidDirectiveError,
    InvalidParamsError,
    InvalidRouteError,
    InvalidSignalError,
    InvalidStateError,
    JidoError,
    NoParams,
    Schedule,
    Signal,
    SpawnAgent,
    Stop,
    StopChild,
    UnknownActionError,
    UnknownDirectiveError,
    UnroutableSignalError,
    action,
    check_directive,
    cmd,
    execute,
)


@attrs.frozen
class Counter:
    count: int = attrs.field(default=0, validator=attrs.validators.le(10))
    log: tuple[str, ...] = ()


@attrs.frozen
class AddParams:
    n: int = 1


@action("add", params=AddParams)
def add(state: Counter, params: AddParams) -> ActionResult[Counter]:
    new = attrs.evolve(state, count=state.count + params.n, log=(*state.log, f"add {params.n}"))
    return ActionResult(new, result=new.count, directives=[Emit("counter.added", params.n)])


@action("reset")
def reset(state: Counter, params: NoParams) -> Counter:
    return attrs.evolve(state, count=0, log=(*state.log, "reset"))


@action("boom")
def boom(state: Counter, params: NoParams) -> Counter:
    raise ZeroDivisionError("kaboom")


@action("smuggle")
def smuggle(state: Counter, params: NoParams) -> ActionResult[Counter]:
    return ActionResult(state, directives=[Emit("ok"), "not a directive"])  # type: ignore[list-item]


@action("overflow")
def overflow(state: Counter, params: NoParams) -> Counter:
    return attrs.evolve(state, count=11)  # fails Counter's validator inside the action


@action("sneak")
def sneak(state: Counter, params: NoParams) -> Counter:
    # Builds an invalid state without running validators; cmd must still catch it.
    with attrs.validators.disabled():
        return Counter(count=99)


@action("wrong_type")
def wrong_type(state: Counter, params: NoParams) -> Any:
    return {"count": 1}


@action("effects")
def effects(state: Counter, params: NoParams) -> ActionResult[Counter]:
    return ActionResult(
        state,
        result="done",
        directives=(
            Emit("a.b", {"x": 1}, to="other", subject="s"),
            Schedule(5.0, "self.tick"),
            StopChild("kid"),
            Stop(),
        ),
    )


ACTIONS: list[Action[Counter, Any]] = [
    add,
    reset,
    boom,
    smuggle,
    overflow,
    sneak,
    wrong_type,
    effects,
]
COUNTER = AgentDef(
    "counter",
    Counter,
    ACTIONS,
    routes={
        "counter.add": "add",
        "counter.*.reset": "reset",
        "counter.**": "boom",
        "fx": "effects",
    },
    schedules=[Every(1.5, "counter.add", {"n": 2})],
)


@pytest.fixture
def agent() -> Agent[Counter]:
    return COUNTER.new("c1")


# -- AgentDef ---------------------------------------------------------------------


def test_agent_def_fields() -> None:
    """AgentDef stores actions by name (read-only), routes, schedules and a router."""
    assert COUNTER.name == "counter"
    assert COUNTER.state_type is Counter
    assert list(COUNTER.actions) == [a.name for a in ACTIONS]
    assert COUNTER.actions["add"] is add
    with pytest.raises(TypeError):
        COUNTER.actions["x"] = add  # type: ignore[index]
    assert dict(COUNTER.routes) == {
        "counter.add": "add",
        "counter.*.reset": "reset",
        "counter.**": "boom",
        "fx": "effects",
    }
    assert COUNTER.schedules == (Every(1.5, "counter.add", {"n": 2}),)
    assert COUNTER.router.match("counter.x.reset") == "reset"


def test_agent_def_identity_equality() -> None:
    """Definitions compare and hash by identity."""
    twin = AgentDef("counter", Counter, ACTIONS)
    assert twin != AgentDef("counter", Counter, ACTIONS)
    assert twin == twin
    assert {twin: 1}[twin] == 1


def test_agent_def_repr_is_short() -> None:
    """The repr names the state type and lists action names."""
    assert repr(AgentDef("t", Counter, [add], routes={"a": "add"})) == (
        "AgentDef(name='t', state_type=Counter, actions=['add'], routes={'a': 'add'}, "
        "schedules=(), initial=None)"
    )


def test_state_type_must_be_attrs() -> None:
    """A state type that is not an attrs class is rejected with the fix."""
    with pytest.raises(InvalidAgentDefError) as info:
        AgentDef("t", dict, [add])
    assert str(info.value) == (
        "state_type=<class 'dict'> is not valid; expected a frozen attrs class "
        "(decorate it with @attrs.frozen)"
    )


def test_state_type_must_be_frozen() -> None:
    """A mutable attrs state type is rejected with the fix."""

    @attrs.define
    class Mutable:
        x: int = 0

    with pytest.raises(InvalidAgentDefError, match=r"Mutable is not frozen; .*@attrs.frozen"):
        AgentDef("t", Mutable, [])


def test_state_type_frozen_via_define() -> None:
    """attrs.define(frozen=True) counts as frozen."""

    @attrs.define(frozen=True)
    class Frozen:
        x: int = 0

    assert AgentDef("t", Frozen, []).new("a").state == Frozen()


def test_duplicate_action_names_rejected() -> None:
    """Two actions with one name are rejected, naming it."""
    other = Action("add", NoParams, reset.run)
    with pytest.raises(
        InvalidAgentDefError,
        match=r"^actions: duplicate action name 'add'; action names must be unique$",
    ):
        AgentDef("t", Counter, [add, other])


def test_actions_must_be_actions() -> None:
    """A non-Action in actions is rejected."""
    with pytest.raises(InvalidAgentDefError, match=r"actions: 'add' is not an Action"):
        AgentDef("t", Counter, ["add"])  # type: ignore[list-item]


def test_route_target_must_be_an_action() -> None:
    """A route to an unknown action names the route and the known actions."""
    with pytest.raises(InvalidRouteError) as info:
        AgentDef("t", Counter, [add, reset], routes={"x.y": "add", "x.*": "nope"})
    assert str(info.value) == (
        "route 'x.*' -> 'nope' targets an unknown action; the agent's actions are: 'add', 'reset'"
    )
    assert info.value.pattern == "x.*"


def test_bad_route_pattern_rejected() -> None:
    """A malformed route pattern is rejected when the definition is built."""
    with pytest.raises(InvalidRouteError, match=r"route pattern 'x\.\*y' is not valid"):
        AgentDef("t", Counter, [add], routes={"x.*y": "add"})


def test_schedules_must_be_every() -> None:
    """schedules holds Every declarations only."""
    with pytest.raises(InvalidAgentDefError, match=r"schedules: .* is not an Every"):
        AgentDef("t", Counter, [add], schedules=[Schedule(1, "a")])  # type: ignore[list-item]


def test_options_are_keyword_only() -> None:
    """routes, schedules, initial and converter are keyword-only."""
    with pytest.raises(TypeError):
        AgentDef("t", Counter, [add], {"a": "add"})  # type: ignore[call-arg]


# -- new / dump / load --------------------------------------------------------------


def test_new_defaults(agent: Agent[Counter]) -> None:
    """new() with no state uses the state type's defaults; version starts at 0."""
    assert agent == Agent(COUNTER, "c1", Counter(), 0)
    assert agent.version == 0


def test_new_with_instance_and_mapping() -> None:
    """new() takes a state instance as is, or structures a mapping."""
    state = Counter(3)
    assert COUNTER.new("a", state).state is state
    assert COUNTER.new("a", {"count": 4, "log": ["x"]}).state == Counter(4, ("x",))


def test_new_with_initial() -> None:
    """initial(agent_id) builds the state when none is given."""

    @attrs.frozen
    class Named:
        name: str

    definition = AgentDef("t", Named, [], initial=lambda agent_id: Named(agent_id))
    assert definition.new("x-1").state == Named("x-1")


def test_new_without_defaults_or_initial() -> None:
    """A state type with required fields and no initial needs an explicit state."""

    @attrs.frozen
    class Named:
        name: str

    with pytest.raises(InvalidStateError, match=r"cannot build a default Named for agent 'a'"):
        AgentDef("t", Named, []).new("a")


def test_new_initial_of_wrong_type() -> None:
    """initial must return a state of the state type."""
    definition = AgentDef("t", Counter, [], initial=lambda _: "nope")  # type: ignore[arg-type,return-value]
    with pytest.raises(
        InvalidStateError, match=r"initial\('a'\) returned 'nope'; expected a Counter"
    ):
        definition.new("a")


def test_new_bad_mapping() -> None:
    """A bad state mapping raises InvalidStateError with path lines."""
    with pytest.raises(InvalidStateError) as info:
        COUNTER.new("a", {"count": "3", "x": 1})
    assert info.value.errors == ("count: expected int @ $.count", "x: unknown field @ $.x")
    assert str(info.value) == (
        "invalid Counter:\ncount: expected int @ $.count\nx: unknown field @ $.x"
    )


def test_state_keys_that_are_not_str() -> None:
    """A state mapping with non-str keys (with a str one too, which sorting choked on) is an
    InvalidStateError with one `[repr(key)]` line per key, from new and from load_state."""
    data: dict[Any, Any] = {"count": 1, 2: "x", None: 0, (1, 2): 0, "zz": 0}
    lines = (
        "zz: unknown field @ $.zz",
        "[(1, 2)]: unknown field @ $[(1, 2)]",
        "[2]: unknown field @ $[2]",
        "[None]: unknown field @ $[None]",
    )
    with pytest.raises(InvalidStateError) as info:
        COUNTER.new("a", data)
    assert info.value.errors == lines
    assert str(info.value) == "invalid Counter:\n" + "\n".join(lines)
    with pytest.raises(InvalidStateError) as info:
        COUNTER.load_state({True: 1})  # type: ignore[dict-item]
    assert info.value.errors == ("[True]: unknown field @ $[True]",)


def test_new_validator_failure() -> None:
    """A mapping that fails the state's validators is an InvalidStateError at the field."""
    with pytest.raises(InvalidStateError) as info:
        COUNTER.new("a", {"count": 11})
    assert info.value.errors == ("count: 'count' must be <= 10: 11 @ $.count",)


@pytest.mark.parametrize(("agent_id", "state"), [("", None), (3, None), ("a", 5), ("a", "x")])
def test_new_type_errors(agent_id: Any, state: Any) -> None:
    """A plainly wrong id or state type is a TypeError."""
    with pytest.raises(TypeError):
        COUNTER.new(agent_id, state)


def test_dump_load_round_trip() -> None:
    """dump_state gives plain data; load_state gives the state back."""
    state = Counter(7, ("add 3", "reset"))
    dumped = COUNTER.dump_state(state)
    assert dumped == {"count": 7, "log": ["add 3", "reset"]}
    assert COUNTER.load_state(dumped) == state


def test_dump_state_type_error() -> None:
    """dump_state only takes a state of the state type."""
    with pytest.raises(TypeError, match=r"expected a Counter, not 3"):
        COUNTER.dump_state(3)  # type: ignore[arg-type]


def test_load_state_not_a_mapping() -> None:
    """load_state of a non-mapping is a single $ problem."""
    with pytest.raises(InvalidStateError) as info:
        COUNTER.load_state([1])  # type: ignore[arg-type]
    assert info.value.errors == ("state: expected a mapping, got list @ $",)


# -- cmd: inputs ------------------------------------------------------------------------


def test_cmd_instruction(agent: Agent[Counter]) -> None:
    """An Instruction runs its action with structured params."""
    new, directives = cmd(agent, add(n=3))
    assert new == Agent(COUNTER, "c1", Counter(3, ("add 3",)), 1)
    assert directives == [Emit("counter.added", 3)]


def test_cmd_action_uses_default_params(agent: Agent[Counter]) -> None:
    """An Action runs with its default params."""
    new, _ = cmd(agent, add)
    assert new.state.count == 1


def test_cmd_signal_routed(agent: Agent[Counter]) -> None:
    """A Signal is routed by type and its data structured into the params."""
    new, _ = cmd(agent, Signal("counter.add", {"n": 2}))
    assert new.state.count == 2
    new, _ = cmd(new, Signal("counter.x.reset"))
    assert new.state == Counter(0, ("add 2", "reset"))


def test_cmd_signal_none_data_means_defaults(agent: Agent[Counter]) -> None:
    """A signal with data None runs the action with default params."""
    new, _ = cmd(agent, Signal("counter.add"))
    assert new.state.count == 1


def test_cmd_tuple(agent: Agent[Counter]) -> None:
    """An (action_name, params) tuple runs the named action; None params mean defaults."""
    assert cmd(agent, ("add", {"n": 4}))[0].state.count == 4
    assert cmd(agent, ("add", None))[0].state.count == 1


@pytest.mark.parametrize(
    "bad",
    [
        42,
        "add",
        None,
        ("add",),
        ("add", {}, 1),
        (1, {}),
        (Signal("a"), Signal("b")),
        [add, 42],
        [[add]],
        {"add": {}},
    ],
)
def test_cmd_wrong_argument_type_raises(agent: Agent[Counter], bad: Any) -> None:
    """A plainly wrong argument type raises TypeError instead of an Error directive."""
    with pytest.raises(TypeError, match=r"^cmd expects an Instruction, an Action, a Signal"):
        cmd(agent, bad)


def test_cmd_requires_an_agent() -> None:
    """The first argument must be an Agent."""
    with pytest.raises(TypeError, match=r"^cmd expects an Agent first, not 'x'$"):
        cmd("x", add)  # type: ignore[arg-type]


def test_cmd_empty_list(agent: Agent[Counter]) -> None:
    """An empty list runs nothing and returns the same agent, same version."""
    outcome = execute(agent, [])
    assert outcome == CmdOutcome(agent, (), None, None, None)
    assert outcome.agent is agent


# -- cmd: success ----------------------------------------------------------------------


def test_version_increments_once_per_successful_cmd(agent: Agent[Counter]) -> None:
    """version counts successful cmd calls, not actions; failures leave it alone."""
    one, _ = cmd(agent, add)
    assert one.version == 1
    two, _ = cmd(one, [add, add, reset])
    assert two.version == 2
    same, _ = cmd(two, boom)
    assert same.version == 2
    three, _ = cmd(two, reset)  # no state change still counts
    assert three.version == 3


def test_list_runs_in_order_and_collects_directives(agent: Agent[Counter]) -> None:
    """A list runs in order, each action seeing the previous state; directives concatenate."""
    outcome = execute(agent, [add(n=2), Signal("counter.add", {"n": 3}), ("add", {"n": 1})])
    assert outcome.agent.state == Counter(6, ("add 2", "add 3", "add 1"))
    assert outcome.directives == (
        Emit("counter.added", 2),
        Emit("counter.added", 3),
        Emit("counter.added", 1),
    )
    assert outcome.result == 6
    assert outcome.action == "add"
    assert outcome.ok
    assert outcome.error is None


def test_execute_result_of_last_action(agent: Agent[Counter]) -> None:
    """execute's result is the last action's result, and action its name."""
    outcome = execute(agent, [add(n=2), reset])
    assert outcome.result == Counter(0, ("add 2", "reset"))
    assert outcome.action == "reset"


def test_all_directive_kinds_pass(agent: Agent[Counter]) -> None:
    """Known directives returned by an action come out unchanged, in order."""
    new, directives = cmd(agent, Signal("fx"))
    assert directives == [
        Emit("a.b", {"x": 1}, to="other", subject="s"),
        Schedule(5.0, "self.tick"),
        StopChild("kid"),
        Stop("normal"),
    ]
    assert new.state == agent.state
    assert new.version == 1


def test_cmd_does_not_mutate_the_original(agent: Agent[Counter]) -> None:
    """cmd returns a new agent; the original is unchanged."""
    before = attrs.asdict(agent, recurse=False)
    new, _ = cmd(agent, [add(n=2), reset])
    assert new is not agent
    assert attrs.asdict(agent, recurse=False) == before
    assert agent.state == Counter()


def test_cmd_is_deterministic(agent: Agent[Counter]) -> None:
    """Running cmd twice on the same input gives equal outputs, failures included."""
    items: list[Any] = [add(n=2), boom, Signal("nope"), ("add", {"n": "x"})]
    for item in items:
        assert cmd(agent, item) == cmd(agent, item)


# -- cmd: failures ---------------------------------------------------------------------


def failed(agent: Agent[Counter], item: Any) -> CmdOutcome[Counter]:
    outcome = execute(agent, item)
    assert outcome.agent is agent
    assert not outcome.ok
    assert outcome.result is None
    assert outcome.directives == (Error(outcome.error, action=outcome.action),)  # type: ignore[arg-type]
    assert cmd(agent, item) == (agent, [Error(outcome.error, action=outcome.action)])  # type: ignore[arg-type]
    return outcome


def test_action_raises(agent: Agent[Counter]) -> None:
    """An exception in an action becomes ActionError with the original as __cause__."""
    outcome = failed(agent, boom)
    error = outcome.error
    assert isinstance(error, ActionError)
    assert str(error) == "action 'boom' raised ZeroDivisionError: kaboom"
    assert error.action == "boom"
    assert outcome.action == "boom"
    assert isinstance(error.__cause__, ZeroDivisionError)


def test_invalid_params(agent: Agent[Counter]) -> None:
    """Bad params become InvalidParamsError with path lines."""
    outcome = failed(agent, Signal("counter.add", {"n": "3"}))
    assert isinstance(outcome.error, InvalidParamsError)
    assert outcome.error.errors == ("n: expected int @ $.data.n",)
    assert outcome.action == "add"


def test_unroutable_signal(agent: Agent[Counter]) -> None:
    """A signal no route matches becomes UnroutableSignalError naming the type and routes."""
    outcome = failed(agent, Signal("other.thing"))
    error = outcome.error
    assert isinstance(error, UnroutableSignalError)
    assert isinstance(error, LookupError)
    assert str(error) == (
        "no route matches signal type 'other.thing'; known routes: 'counter.add', "
        "'counter.*.reset', 'counter.**', 'fx'"
    )
    assert error.signal_type == "other.thing"
    assert outcome.action is None


def test_unroutable_without_routes() -> None:
    """An agent with no routes says so."""
    agent = AgentDef("t", Counter, [add]).new("a")
    error = execute(agent, Signal("x")).error
    assert str(error) == (
        "no route matches signal type 'x'; known routes: none (the agent declares no routes)"
    )


def test_unknown_action_name(agent: Agent[Counter]) -> None:
    """An unknown action name becomes UnknownActionError naming the known actions."""
    outcome = failed(agent, ("nope", {}))
    error = outcome.error
    assert isinstance(error, UnknownActionError)
    assert str(error) == (
        "unknown action 'nope'; the agent's actions are: 'add', 'reset', 'boom', 'smuggle', "
        "'overflow', 'sneak', 'wrong_type', 'effects'"
    )
    assert outcome.action == "nope"


def test_foreign_action_rejected(agent: Agent[Counter]) -> None:
    """An Action or Instruction for an action the agent does not have is unknown."""

    @action("stranger")
    def stranger(state: Counter, params: NoParams) -> Counter:
        return state

    assert isinstance(failed(agent, stranger).error, UnknownActionError)
    impostor = Action("add", AddParams, reset.run)  # type: ignore[arg-type]
    assert isinstance(failed(agent, impostor(n=1)).error, UnknownActionError)


def test_unknown_directive(agent: Agent[Counter]) -> None:
    """A non-directive returned by an action becomes UnknownDirectiveError; state unchanged."""
    outcome = failed(agent, smuggle)
    error = outcome.error
    assert isinstance(error, UnknownDirectiveError)
    assert isinstance(error, TypeError)
    assert str(error) == (
        "unknown directive 'not a directive' returned by action 'smuggle'; expected one of "
        "Emit, Schedule, SpawnAgent, StopChild, Stop or Error"
    )
    assert error.directive == "not a directive"
    assert outcome.action == "smuggle"


def test_state_validator_failure_inside_action(agent: Agent[Counter]) -> None:
    """attrs.evolve failing the state's validators in an action is an InvalidStateError."""
    outcome = failed(agent, overflow)
    error = outcome.error
    assert isinstance(error, InvalidStateError)
    assert str(error) == "action 'overflow' built an invalid Counter: 'count' must be <= 10: 11"
    assert isinstance(error.__cause__, ValueError)
    assert error.action == "overflow"


def test_state_validator_failure_after_action(agent: Agent[Counter]) -> None:
    """A returned state that fails the validators is caught even if they were bypassed."""
    outcome = failed(agent, sneak)
    assert isinstance(outcome.error, InvalidStateError)
    assert str(outcome.error) == (
        "action 'sneak' built an invalid Counter: 'count' must be <= 10: 99"
    )


def test_wrong_state_type(agent: Agent[Counter]) -> None:
    """A returned value that is not a state is an InvalidStateError."""
    outcome = failed(agent, wrong_type)
    assert isinstance(outcome.error, InvalidStateError)
    assert str(outcome.error) == (
        "action 'wrong_type' returned {'count': 1}; expected a Counter or an ActionResult "
        "holding one"
    )


def test_overflow_via_signal_params(agent: Agent[Counter]) -> None:
    """Adding past the validator's bound via a signal is rejected atomically."""
    outcome = failed(agent, Signal("counter.add", {"n": 11}))
    assert isinstance(outcome.error, InvalidStateError)


@pytest.mark.parametrize(
    ("bad", "error_type", "action_name"),
    [
        (boom, ActionError, "boom"),
        (("add", {"n": "x"}), InvalidParamsError, "add"),
        (Signal("nope"), UnroutableSignalError, None),
        (("missing", None), UnknownActionError, "missing"),
        (smuggle, UnknownDirectiveError, "smuggle"),
        (overflow, InvalidStateError, "overflow"),
    ],
)
def test_list_is_atomic(
    agent: Agent[Counter], bad: Any, error_type: type[JidoError], action_name: str | None
) -> None:
    """If any action of a list fails, the original agent is returned with only [Error]."""
    started = cmd(agent, add(n=1))[0]
    outcome = execute(started, [add(n=2), Signal("fx"), bad, add(n=3)])
    assert outcome.agent is started
    assert isinstance(outcome.error, error_type)
    assert outcome.directives == (Error(outcome.error, action=action_name),)
    assert outcome.action == action_name
    assert started.state == Counter(1, ("add 1",))
    assert started.version == 1


# -- Directives ------------------------------------------------------------------------


def test_check_directive_accepts_known() -> None:
    """check_directive returns each known directive."""
    known: list[Directive] = [
        Emit("a"),
        Schedule(0, "a"),
        SpawnAgent(COUNTER, "kid"),
        StopChild("kid"),
        Stop(),
        Error(ValueError("x")),
    ]
    for directive in known:
        assert check_directive(directive) is directive


@pytest.mark.parametrize("obj", [Directive(), "emit", None, Signal("a"), Every(1, "a")])
def test_check_directive_rejects_unknown(obj: object) -> None:
    """Anything else, a bare Directive and Every included, is an UnknownDirectiveError."""
    with pytest.raises(UnknownDirectiveError, match=r"^unknown directive .*; expected one of"):
        check_directive(obj)


def test_check_directive_hints_every() -> None:
    """Returning Every from an action gets a hint to declare it on the AgentDef."""
    with pytest.raises(UnknownDirectiveError, match=r"Every is declared with AgentDef\(schedules"):
        check_directive(Every(1, "a"))


def test_foreign_directive_subclass_unknown() -> None:
    """A user subclass of Directive is not a known directive."""

    @attrs.frozen
    class Custom(Directive):
        x: int = 0

    with pytest.raises(UnknownDirectiveError):
        check_directive(Custom())


def test_directive_defaults() -> None:
    """Directive fields default as documented."""
    assert Emit("a") == Emit("a", None, to=None, subject=None)
    assert Schedule(1, "a").data is None
    spawn = SpawnAgent(COUNTER, "kid")
    assert (spawn.state, spawn.restart) == (None, "permanent")
    assert Stop().reason == "normal"
    assert Error(ValueError("x")).action is None
    assert Every(2, "a").data is None


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: Schedule(-1, "a"),
            "delay=-1 is not valid; expected a finite number of seconds >= 0",
        ),
        (lambda: Schedule(math.inf, "a"), "delay=inf is not valid"),
        (lambda: Schedule(True, "a"), "delay=True is not valid"),
        (
            lambda: Schedule("1", "a"),  # type: ignore[arg-type]
            "delay='1' is not valid",
        ),
        (lambda: Every(0, "a"), "interval=0 is not valid; expected a finite number of seconds > 0"),
        (lambda: Every(math.nan, "a"), "interval=nan is not valid"),
        (
            lambda: SpawnAgent(COUNTER, "k", restart="forever"),
            "restart='forever' is not valid; expected 'permanent', 'transient' or 'temporary'",
        ),
        (
            lambda: SpawnAgent("counter", "k"),  # type: ignore[arg-type]
            "agent='counter' is not valid; expected an AgentDef",
        ),
        (lambda: SpawnAgent(COUNTER, ""), "id='' is not valid; expected a non-empty str"),
        (
            lambda: StopChild(3),  # type: ignore[arg-type]
            "id=3 is not valid; expected a non-empty str",
        ),
        (lambda: Stop(""), "reason='' is not valid; expected a non-empty str"),
        (lambda: Emit("a", to=""), "to='' is not valid; expected a non-empty str or None"),
        (
            lambda: Error("oops"),  # type: ignore[arg-type]
            "error='oops' is not valid; expected an Exception",
        ),
    ],
)
def test_directive_validation(build: Any, message: str) -> None:
    """Bad directive values raise InvalidDirectiveError naming the field and the fix."""
    with pytest.raises(InvalidDirectiveError) as info:
        build()
    assert str(info.value).startswith(message)


def test_directive_signal_types_validated() -> None:
    """Emit, Schedule and Every check their signal type."""
    for build in (lambda: Emit("a..b"), lambda: Schedule(1, "a b"), lambda: Every(1, "")):
        with pytest.raises(InvalidSignalError, match=r"^type .* is not valid; expected dot"):
            build()


def test_error_directive_equality_by_type_and_message() -> None:
    """Error directives compare (and hash) by the error's type and message."""
    assert Error(ValueError("x"), action="a") == Error(ValueError("x"), action="a")
    assert hash(Error(ValueError("x"))) == hash(Error(ValueError("x")))
    assert Error(ValueError("x")) != Error(TypeError("x"))
    assert Error(ValueError("x")) != Error(ValueError("y"))
    assert Error(ValueError("x"), action="a") != Error(ValueError("x"), action="b")


def test_directives_are_frozen() -> None:
    """Directives are immutable values."""
    emit = Emit("a")
    with pytest.raises(AttributeError):
        emit.type = "b"  # type: ignore[misc]


# -- Errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        ActionError("m", action="a"),
        InvalidStateError("m", action="a", errors=["x"]),
        UnroutableSignalError("a.b", ["c"]),
        UnknownActionError("a", ["b"]),
        UnknownDirectiveError("m", directive=3, action="a"),
        InvalidRouteError("m", pattern="p"),
    ],
)
def test_errors_pickle(error: JidoError) -> None:
    """Agent errors survive pickling with their attributes."""
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert vars(copy) == vars(error)


def test_instruction_params_instance(agent: Agent[Counter]) -> None:
    """An Instruction may carry a params instance instead of a mapping."""
    assert cmd(agent, Instruction(add, AddParams(5)))[0].state.count == 5
