"""Actions, instructions, action results, and how untyped parameters are structured."""

from __future__ import annotations

import pickle
from typing import Any

import attrs
import cattrs
import pytest

from jido_trio import (
    Action,
    ActionResult,
    AgentDef,
    Emit,
    Error,
    Instruction,
    InvalidActionError,
    InvalidAgentDefError,
    InvalidParamsError,
    JidoError,
    NoParams,
    Signal,
    action,
    cmd,
    execute,
    make_converter,
)


@attrs.frozen
class State:
    total: float = 0.0
    log: tuple[str, ...] = ()


@attrs.frozen
class Inner:
    x: int


@attrs.frozen
class AllParams:
    n: int
    f: float = 0.0
    s: str = ""
    b: bool = False
    maybe: int | None = None
    items: list[int] = attrs.field(factory=list)
    inner: Inner | None = None
    positive: int = attrs.field(default=1, validator=attrs.validators.gt(0))


@action("take", params=AllParams, description="Record the params.")
def take(state: State, params: AllParams) -> ActionResult[State]:
    return ActionResult(attrs.evolve(state, total=state.total + params.n), result=params)


@action("noop")
def noop(state: State, params: NoParams) -> State:
    return state


AGENT = AgentDef("params", State, [take, noop])


def run_take(data: Any) -> Any:
    """Run `take` with `data`; return the structured params, or the error."""
    outcome = execute(AGENT.new("a"), ("take", data))
    return outcome.result if outcome.ok else outcome.error


def params_errors(data: Any) -> tuple[str, ...]:
    error = run_take(data)
    assert isinstance(error, InvalidParamsError), error
    assert error.action == "take"
    assert str(error) == "invalid params for action 'take':\n" + "\n".join(error.errors)
    return error.errors


# -- Action, the decorator, Instruction ------------------------------------------


def test_decorator_builds_action() -> None:
    """@action turns a function into a frozen Action with its name, params and description."""
    assert isinstance(take, Action)
    assert take.name == "take"
    assert take.params is AllParams
    assert take.description == "Record the params."
    assert noop.params is NoParams
    assert noop.description == ""
    with pytest.raises(AttributeError):
        take.name = "other"  # type: ignore[misc]


def test_action_run_is_the_function() -> None:
    """The decorated function is kept as `run` and can be called directly."""
    assert noop.run(State(1.0), NoParams()) == State(1.0)


def test_calling_an_action_builds_an_instruction() -> None:
    """boost(amount=5) returns Instruction(action=boost, params={"amount": 5}), unstructured."""
    instruction = take(n="not an int")
    assert instruction == Instruction(take, {"n": "not an int"})
    assert instruction.action is take
    assert instruction.params == {"n": "not an int"}
    assert noop() == Instruction(noop, {})


def test_instruction_is_hashable_despite_dict_params() -> None:
    """Instructions hash by action only, so a dict of params does not break hashing."""
    assert hash(take(n=1)) == hash(take(n=2))
    assert take(n=1) != take(n=2)


def test_instruction_rejects_non_action() -> None:
    """An Instruction needs an Action."""
    with pytest.raises(TypeError, match=r"Instruction\.action must be an Action, not 'take'"):
        Instruction("take")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"name": "", "params": NoParams, "run": noop.run},
            "action name '' is not valid; expected a non-empty str",
        ),
        (
            {"name": "x", "params": dict, "run": noop.run},
            "action 'x': params=<class 'dict'> is not valid; expected an attrs class "
            "(or NoParams for none)",
        ),
        (
            {"name": "x", "params": NoParams, "run": 3},
            "action 'x': run=3 is not callable; expected run(state, params) -> state | "
            "ActionResult",
        ),
    ],
)
def test_action_validation(kwargs: dict[str, Any], message: str) -> None:
    """A bad Action definition raises InvalidActionError saying what is wrong."""
    with pytest.raises(InvalidActionError) as info:
        Action(**kwargs)
    assert str(info.value) == message
    assert isinstance(info.value, ValueError)


def test_action_result_defaults_and_tuple() -> None:
    """ActionResult stores directives as a tuple; result and directives default to None/()."""
    result = ActionResult(State())
    assert result.result is None
    assert result.directives == ()
    emits = [Emit("a"), Emit("b")]
    assert ActionResult(State(), result=1, directives=emits).directives == tuple(emits)
    with pytest.raises(TypeError):
        ActionResult(State(), 1)  # type: ignore[call-arg]


def test_bare_state_result_is_the_state() -> None:
    """If run returns a bare state, the call result is the new state."""
    outcome = execute(AGENT.new("a", State(2.0)), noop)
    assert outcome.result == State(2.0)


def test_action_result_result_is_returned() -> None:
    """If run returns an ActionResult, the call result is its `.result`."""
    assert run_take({"n": 1}) == AllParams(n=1)


# -- Structuring params ------------------------------------------------------------


def test_all_fields_structured() -> None:
    """A valid mapping is structured into the params class, nested classes included."""
    data = {
        "n": 1,
        "f": 2,
        "s": "x",
        "b": True,
        "maybe": 3,
        "items": [4, 5],
        "inner": {"x": 6},
        "positive": 7,
    }
    params = run_take(data)
    assert params == AllParams(1, 2.0, "x", True, 3, [4, 5], Inner(6), 7)
    assert isinstance(params.f, float)


def test_params_instance_used_as_is() -> None:
    """An instance of the params class in an Instruction is used without structuring."""
    params = AllParams(n=3)
    outcome = execute(AGENT.new("a"), Instruction(take, params))
    assert outcome.result is params


@pytest.mark.parametrize(
    ("value", "ok"),
    [(1, True), (-5, True), (True, False), (False, False), ("1", False), (1.0, False)],
)
def test_int_is_strict(value: Any, ok: bool) -> None:
    """int accepts only ints: not bool, str or float."""
    if ok:
        assert run_take({"n": value}).n == value
    else:
        assert params_errors({"n": value}) == ("n: expected int @ $.data.n",)


@pytest.mark.parametrize(
    ("value", "ok"), [(1.5, True), (2, True), (True, False), ("1.5", False), (None, False)]
)
def test_float_is_strict(value: Any, ok: bool) -> None:
    """float accepts floats and ints, not bool or str."""
    if ok:
        assert run_take({"n": 0, "f": value}).f == float(value)
    else:
        assert params_errors({"n": 0, "f": value}) == ("f: expected float @ $.data.f",)


@pytest.mark.parametrize(("value", "ok"), [("x", True), ("", True), (1, False), (b"x", False)])
def test_str_is_strict(value: Any, ok: bool) -> None:
    """str accepts only strings."""
    if ok:
        assert run_take({"n": 0, "s": value}).s == value
    else:
        assert params_errors({"n": 0, "s": value}) == ("s: expected str @ $.data.s",)


@pytest.mark.parametrize(
    ("value", "ok"), [(True, True), (False, True), (1, False), ("true", False)]
)
def test_bool_is_strict(value: Any, ok: bool) -> None:
    """bool accepts only True and False."""
    if ok:
        assert run_take({"n": 0, "b": value}).b is value
    else:
        assert params_errors({"n": 0, "b": value}) == ("b: expected bool @ $.data.b",)


def test_optional_int() -> None:
    """An optional int accepts None and ints, and reports other values like an int."""
    assert run_take({"n": 0, "maybe": None}).maybe is None
    assert params_errors({"n": 0, "maybe": "3"}) == ("maybe: expected int @ $.data.maybe",)


def test_missing_required_field() -> None:
    """A missing required field is reported like any other problem."""
    assert params_errors({}) == ("n: required field missing @ $.data.n",)


def test_unknown_fields() -> None:
    """Unknown keys are rejected, one line per key, sorted."""
    assert params_errors({"n": 1, "zz": 0, "aa": 0}) == (
        "aa: unknown field @ $.data.aa",
        "zz: unknown field @ $.data.zz",
    )


@pytest.mark.parametrize(
    ("data", "lines"),
    [
        (
            {"n": 1, 2: "x", "extra": 3},
            ("extra: unknown field @ $.data.extra", "[2]: unknown field @ $.data[2]"),
        ),
        ({"n": 1, (1, "a"): 0}, ("[(1, 'a')]: unknown field @ $.data[(1, 'a')]",)),
        ({"n": 1, None: 0}, ("[None]: unknown field @ $.data[None]",)),
        ({"n": 1, True: 0}, ("[True]: unknown field @ $.data[True]",)),
        ({"n": 1, 1.5: 0}, ("[1.5]: unknown field @ $.data[1.5]",)),
        (
            {"n": 1, "a b": 0, "": 0},
            ("['']: unknown field @ $.data['']", "['a b']: unknown field @ $.data['a b']"),
        ),
        (
            {"n": 1, "inner": {"x": 1, 3: 4, None: 5, "y": 6}},
            (
                "inner.y: unknown field @ $.data.inner.y",
                "inner[3]: unknown field @ $.data.inner[3]",
                "inner[None]: unknown field @ $.data.inner[None]",
            ),
        ),
        (
            {2: 1},
            ("n: required field missing @ $.data.n", "[2]: unknown field @ $.data[2]"),
        ),
    ],
)
def test_keys_that_are_not_identifiers(data: Any, lines: tuple[str, ...]) -> None:
    """A key that is not a str identifier (an int, a tuple, None, a bool, 'a b'), at any
    depth, is an unknown field at `[repr(key)]`: str identifiers first, then by repr."""
    assert params_errors(data) == lines


def test_a_non_str_key_in_signal_data_is_invalid_params() -> None:
    """A signal whose data has a non-str key fails cmd with InvalidParamsError (it raised
    TypeError from sorting the unknown keys)."""
    routed = AgentDef("routed", State, [take], routes={"t.take": "take"})
    agent = routed.new("a")
    outcome = execute(agent, Signal("t.take", {"n": 1, 2: "x", "extra": 3}))
    assert outcome.agent is agent
    assert isinstance(outcome.error, InvalidParamsError)
    assert str(outcome.error) == (
        "invalid params for action 'take':\n"
        "extra: unknown field @ $.data.extra\n"
        "[2]: unknown field @ $.data[2]"
    )
    assert outcome.directives == (Error(outcome.error, action="take"),)


def test_several_problems_all_reported() -> None:
    """Every problem gets its own line, with nested paths."""
    data = {"f": "x", "items": [1, "two", 3], "inner": {"x": "y"}, "extra": 1}
    assert params_errors(data) == (
        "n: required field missing @ $.data.n",
        "f: expected float @ $.data.f",
        "items[1]: expected int @ $.data.items[1]",
        "inner.x: expected int @ $.data.inner.x",
        "extra: unknown field @ $.data.extra",
    )


def test_nested_class_not_a_mapping() -> None:
    """A nested attrs class given a non-mapping names the class expected."""
    assert params_errors({"n": 1, "inner": 5}) == ("inner: expected Inner | None @ $.data.inner",)


def test_validator_failure_names_the_field() -> None:
    """An attrs validator's error is reported at its field's path."""
    assert params_errors({"n": 1, "positive": 0}) == (
        "positive: 'positive' must be > 0: 0 @ $.data.positive",
    )


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (5, "data: expected a mapping, got int @ $.data"),
        ("n=1", "data: expected a mapping, got str @ $.data"),
        ([1], "data: expected a mapping, got list @ $.data"),
    ],
)
def test_params_not_a_mapping(data: Any, line: str) -> None:
    """Params that are not a mapping are one problem at $.data."""
    assert params_errors(data) == (line,)


def test_no_params_from_none_and_empty() -> None:
    """An action without params accepts None and {}, and rejects any key."""
    agent = AGENT.new("a")
    assert execute(agent, ("noop", None)).ok
    assert execute(agent, ("noop", {})).ok
    error = execute(agent, ("noop", {"x": 1})).error
    assert isinstance(error, InvalidParamsError)
    assert error.errors == ("x: unknown field @ $.data.x",)


def test_bad_params_become_error_directive_not_exception() -> None:
    """A bad value in an Instruction is reported by cmd as an Error directive."""
    agent = AGENT.new("a")
    instruction = take(n="x")  # no exception here
    new_agent, directives = cmd(agent, instruction)
    assert new_agent is agent
    assert directives == [
        Error(InvalidParamsError("take", ["n: expected int @ $.data.n"]), action="take")
    ]


def test_invalid_params_error_shape_and_pickle() -> None:
    """InvalidParamsError is a JidoError and a ValueError, with .errors and .action; it pickles."""
    error = InvalidParamsError("boost", ["amount: expected int @ $.data.amount"])
    assert isinstance(error, JidoError)
    assert isinstance(error, ValueError)
    assert str(error) == "invalid params for action 'boost':\namount: expected int @ $.data.amount"
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy), copy.errors, copy.action) == (
        InvalidParamsError,
        str(error),
        error.errors,
        "boost",
    )


# -- Converters ----------------------------------------------------------------------


def test_make_converter_returns_fresh_strict_converters() -> None:
    """make_converter builds a new, strict converter each time."""
    first, second = make_converter(), make_converter()
    assert first is not second
    assert isinstance(first, cattrs.Converter)
    assert first.forbid_extra_keys
    with pytest.raises(TypeError, match="expected int"):
        first.structure("1", int)


def test_each_agent_definition_has_its_own_converter() -> None:
    """Hooks registered on one definition's converter do not affect another's."""
    one = AgentDef("one", State, [take])
    two = AgentDef("two", State, [take])
    assert one.converter is not two.converter


@attrs.frozen
class Celsius:
    degrees: float


@attrs.frozen
class SetParams:
    temperature: Celsius


def test_custom_converter_hooks_are_used() -> None:
    """A converter passed to AgentDef is used to structure params."""

    @action("set", params=SetParams)
    def set_(state: State, params: SetParams) -> State:
        return attrs.evolve(state, total=params.temperature.degrees)

    converter = make_converter()
    converter.register_structure_hook(Celsius, lambda v, _: Celsius(float(v.rstrip("C"))))
    agent = AgentDef("t", State, [set_], converter=converter).new("a")
    new, _ = cmd(agent, set_(temperature="21.5C"))
    assert new.state.total == 21.5


def test_unresolvable_params_annotations_rejected_at_definition() -> None:
    """A params class cattrs cannot handle is reported when the AgentDef is built."""

    @attrs.frozen
    class Local:
        x: Celsius  # a local class under `from __future__ import annotations`: a string

    @attrs.frozen
    class Outer:
        local: Local

    @action("bad", params=Outer)
    def bad(state: State, params: Outer) -> State:
        return state

    with pytest.raises(InvalidAgentDefError, match=r"agent 't': cannot structure .*Outer"):
        AgentDef("t", State, [bad])
