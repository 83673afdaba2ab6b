"""Signals (CloudEvents shape, validation, dict round trip) and the Router."""

from __future__ import annotations

import itertools
import pickle
import re
import uuid
from collections.abc import Callable
from typing import Any

import attrs
import pytest
import trio
import trio.testing

from jido_trio import (
    ActionResult,
    AgentDef,
    AgentRef,
    Emit,
    Every,
    Interceptor,
    InvalidArgumentError,
    InvalidRouteError,
    InvalidSignalError,
    JidoError,
    NoParams,
    Router,
    Signal,
    action,
    agent_spec,
    intercept,
    open_supervisor,
    set_id_factory,
)


def test_signal_defaults() -> None:
    """A signal needs only a type; the other fields take their CloudEvents defaults."""
    signal = Signal("listing.demand.boost")
    assert signal.type == "listing.demand.boost"
    assert signal.data is None
    assert signal.source == ""
    assert signal.subject is None
    assert signal.time is None
    assert signal.specversion == "1.0"
    assert re.fullmatch(r"[0-9a-f]{32}", signal.id)


def test_signal_ids_are_unique_by_default() -> None:
    """Each signal gets its own uuid4 hex id unless one is passed."""
    assert Signal("a").id != Signal("a").id
    assert is_uuid4_hex(Signal("a").id)
    assert Signal("a", id="fixed").id == "fixed"


def is_uuid4_hex(value: str) -> bool:
    return re.fullmatch(r"[0-9a-f]{32}", value) is not None and uuid.UUID(hex=value).version == 4


def counter(prefix: str = "s") -> Callable[[], str]:
    """An id factory: ``"s-1"``, ``"s-2"``, ..."""
    numbers = itertools.count(1)
    return lambda: f"{prefix}-{next(numbers)}"


async def test_id_factory_gives_the_default_ids_of_its_run() -> None:
    """Inside a run that set an id factory, signals built without id= (and from dicts
    without one) take its ids in order; id= bypasses it; None restores uuid4."""
    set_id_factory(counter())
    assert [Signal("a.b").id, Signal("a.b", {"x": 1}).id] == ["s-1", "s-2"]
    assert Signal("a.b", id="mine").id == "mine"
    assert Signal.from_dict({"type": "a.b"}).id == "s-3"
    assert Signal.from_dict({"type": "a.b", "id": "e-9"}).id == "e-9"
    set_id_factory(None)
    assert is_uuid4_hex(Signal("a.b").id)


def test_id_factory_is_run_scoped() -> None:
    """A factory set in one run affects neither another run nor code outside any run."""

    async def with_factory() -> list[str]:
        set_id_factory(counter("r"))
        return [Signal("a").id, Signal("a").id]

    async def without() -> str:
        return Signal("a").id

    assert trio.run(with_factory) == ["r-1", "r-2"]
    assert is_uuid4_hex(trio.run(without))
    assert is_uuid4_hex(Signal("a").id)


def test_set_id_factory_validates_its_argument() -> None:
    """set_id_factory takes a callable or None (else InvalidArgumentError), inside a run
    (else RuntimeError)."""

    async def main() -> None:
        with pytest.raises(
            InvalidArgumentError,
            match=r"^set_id_factory\(\) takes a callable that returns a str id, or None, "
            r"not 's-1'$",
        ):
            set_id_factory("s-1")  # type: ignore[arg-type]

    trio.run(main)
    with pytest.raises(
        RuntimeError,
        match=r"^set_id_factory\(\) must be called inside a Trio run \(trio\.run\(\.\.\.\)\); "
        r"it sets a value for that run only$",
    ):
        set_id_factory(counter())
    assert is_uuid4_hex(Signal("a").id)


@pytest.mark.parametrize("bad", [7, "", None, b"s-1"])
async def test_an_id_factory_must_return_a_non_empty_str(bad: object) -> None:
    """A factory that returns anything but a non-empty str makes Signal(...) raise
    InvalidSignalError naming the factory and the value."""

    def factory() -> Any:
        return bad

    set_id_factory(factory)
    with pytest.raises(InvalidSignalError) as err:
        Signal("a.b")
    assert str(err.value) == (
        f"the id factory {factory!r} (set with set_id_factory) returned {bad!r}; "
        "expected a non-empty str"
    )
    assert Signal("a.b", id="ok").id == "ok"


@attrs.frozen
class Ticks:
    n: int = 0


@action("tick")
def tick(state: Ticks, params: NoParams) -> ActionResult[Ticks]:
    return ActionResult(Ticks(state.n + 1), directives=[Emit("ticked", to="t")])


@action("ticked")
def ticked(state: Ticks, params: NoParams) -> Ticks:
    return state


TICKS = AgentDef(
    "ticks",
    Ticks,
    [tick, ticked],
    routes={"tick": "tick", "ticked": "ticked"},
    schedules=[Every(1.0, "tick")],
)


class SignalIds(Interceptor):
    """Notes the id of every signal an agent takes from its mailbox."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    async def on_signal(self, agent: AgentRef, message: Any, proceed: Any) -> None:
        if isinstance(message, Signal):
            self.ids.append(message.id)
        await proceed(message)


async def test_runtime_signals_keep_their_own_ids(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Timer and Emit signals have their deterministic "<path>#<n>" ids, and do not draw
    from the run's id factory; a signal sent by hand does."""
    set_id_factory(counter())
    seen = SignalIds()
    with intercept(seen):
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("t", TICKS))
            await trio.sleep(2.5)
            await ref.call(Signal("ticked"))
            await sup.shutdown()
    assert seen.ids == ["root/t#1", "root/t#2", "root/t#3", "root/t#4", "s-1"]
    assert Signal("x").id == "s-2"


def test_signal_is_frozen() -> None:
    """Signals are immutable values."""
    signal = Signal("a.b", {"x": 1}, id="1")
    with pytest.raises(AttributeError):
        signal.type = "c"  # type: ignore[misc]
    assert signal == Signal("a.b", {"x": 1}, id="1")


def test_signal_options_are_keyword_only() -> None:
    """Only type and data are positional."""
    with pytest.raises(TypeError):
        Signal("a", None, "source")  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "signal_type", ["a", "a.b", "listing.demand.boost", "A-b_9.c", "x-1.y_2.Z"]
)
def test_signal_type_valid(signal_type: str) -> None:
    """Dotted names of letters, digits, '_' and '-' are valid signal types."""
    assert Signal(signal_type).type == signal_type


@pytest.mark.parametrize("signal_type", ["", ".", "a.", ".a", "a..b", "a b", "a.*", "a/b", "é"])
def test_signal_type_invalid(signal_type: str) -> None:
    """A malformed type raises InvalidSignalError naming the value and the fix."""
    with pytest.raises(InvalidSignalError) as info:
        Signal(signal_type)
    assert str(info.value) == (
        f"signal type {signal_type!r} is not valid; expected dot-separated segments of "
        "letters, digits, '_' or '-', e.g. 'listing.demand.boost'"
    )
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, JidoError)


def test_signal_type_not_a_string() -> None:
    """A non-str type is rejected the same way."""
    with pytest.raises(InvalidSignalError, match=r"signal type 3 is not valid"):
        Signal(3)  # type: ignore[arg-type]


def test_to_dict_full() -> None:
    """to_dict gives the CloudEvents attributes."""
    signal = Signal("a.b", {"x": 1}, source="src", subject="sub", id="i1", time=2.5)
    assert signal.to_dict() == {
        "specversion": "1.0",
        "id": "i1",
        "source": "src",
        "type": "a.b",
        "subject": "sub",
        "time": 2.5,
        "data": {"x": 1},
    }


def test_to_dict_leaves_out_none() -> None:
    """subject, time and data are left out when None."""
    assert Signal("a", id="i").to_dict() == {
        "specversion": "1.0",
        "id": "i",
        "source": "",
        "type": "a",
    }


@pytest.mark.parametrize(
    "signal",
    [
        Signal("a", id="1"),
        Signal("a.b", {"n": [1, 2]}, source="s", subject="x", id="2", time=0.0),
        Signal("c", "text", id="3", time=10.0),
    ],
)
def test_dict_round_trip(signal: Signal) -> None:
    """from_dict(to_dict()) gives an equal signal."""
    assert Signal.from_dict(signal.to_dict()) == signal


def test_from_dict_minimal() -> None:
    """Only type is required; an int time becomes a float."""
    signal = Signal.from_dict({"type": "a.b", "time": 3})
    assert signal.type == "a.b"
    assert signal.time == 3.0
    assert isinstance(signal.time, float)
    assert signal.source == ""


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({}, ["type: required field missing @ $.type"]),
        ({"type": 1}, ["type: expected str @ $.type"]),
        (
            {"type": "a..b"},
            [
                "type: 'a..b' is not a valid signal type; expected dot-separated segments "
                "of letters, digits, '_' or '-', e.g. 'listing.demand.boost' @ $.type"
            ],
        ),
        ({"type": "a", "time": "now"}, ["time: expected float or None @ $.time"]),
        ({"type": "a", "time": True}, ["time: expected float or None @ $.time"]),
        (
            {"type": "a", "source": 1, "id": 2},
            [
                "source: expected str @ $.source",
                "id: expected str @ $.id",
            ],
        ),
        ({"type": "a", "id": ""}, ["id: expected a non-empty str @ $.id"]),
        ({"type": "a", "subject": 5}, ["subject: expected str or None @ $.subject"]),
        (
            {"type": "a", "specversion": "0.3"},
            ["specversion: expected '1.0', got '0.3' @ $.specversion"],
        ),
        (
            {"type": "a", "zeta": 1, "alpha": 2},
            ["alpha: unknown field @ $.alpha", "zeta: unknown field @ $.zeta"],
        ),
        ([("type", "a")], ["signal: expected a mapping, got list @ $"]),
        (
            {"type": "a", 1: 0, None: 0, (1,): 0, "a b": 0, "zeta": 0},
            [
                "zeta: unknown field @ $.zeta",
                "['a b']: unknown field @ $['a b']",
                "[(1,)]: unknown field @ $[(1,)]",
                "[1]: unknown field @ $[1]",
                "[None]: unknown field @ $[None]",
            ],
        ),
    ],
)
def test_from_dict_errors(data: Any, errors: list[str]) -> None:
    """Bad input raises InvalidSignalError with one `field: problem @ $.path` line each."""
    with pytest.raises(InvalidSignalError) as info:
        Signal.from_dict(data)
    assert list(info.value.errors) == errors
    assert str(info.value) == "invalid signal:\n" + "\n".join(errors)


def test_invalid_signal_error_pickles() -> None:
    """InvalidSignalError survives pickling with its errors."""
    error = InvalidSignalError("bad", errors=["a: b @ $.a"])
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is InvalidSignalError
    assert str(copy) == "bad"
    assert copy.errors == ("a: b @ $.a",)


# -- Router -----------------------------------------------------------------------


def test_router_exact() -> None:
    """An exact pattern matches only its own type."""
    router = Router({"a.b": "x"})
    assert router.match("a.b") == "x"
    assert router.match("a") is None
    assert router.match("a.b.c") is None
    assert router.match("a.c") is None


@pytest.mark.parametrize(
    ("pattern", "matches", "misses"),
    [
        ("a.*", ["a.b", "a.zz"], ["a", "a.b.c", "b.a"]),
        ("*.b", ["a.b", "x.b"], ["b", "a.b.c"]),
        ("*", ["a", "b-c"], ["a.b"]),
        ("a.*.c", ["a.b.c"], ["a.c", "a.b.b.c", "a.b.d"]),
        ("a.**", ["a", "a.b", "a.b.c.d"], ["b", "ab", "b.a"]),
        ("**.c", ["c", "a.c", "a.b.c"], ["c.a", "ac"]),
        ("a.**.c", ["a.c", "a.b.c", "a.b.b.c"], ["a", "a.b", "a.c.d"]),
        ("**", ["a", "a.b.c"], []),
        ("*.**", ["a", "a.b"], []),
        ("a.*.**", ["a.b", "a.b.c"], ["a"]),
    ],
)
def test_router_wildcards(pattern: str, matches: list[str], misses: list[str]) -> None:
    """`*` matches exactly one segment; `**` matches zero or more segments."""
    router = Router({pattern: "x"})
    for signal_type in matches:
        assert router.match(signal_type) == "x", signal_type
    for signal_type in misses:
        assert router.match(signal_type) is None, signal_type


@pytest.mark.parametrize(
    ("routes", "signal_type", "winner"),
    [
        # Exact beats any wildcard, whatever the declaration order.
        ({"**": "glob", "a.*": "star", "a.b": "exact"}, "a.b", "exact"),
        # A literal beats `*` at the first difference from the left.
        ({"a.*.c": "second-star", "a.b.*": "third-star"}, "a.b.c", "third-star"),
        ({"*.b.c": "first-star", "a.*.c": "second-star"}, "a.b.c", "second-star"),
        # `*` beats `**`.
        ({"a.**": "glob", "a.*": "star"}, "a.b", "star"),
        ({"**.b": "glob", "*.b": "star"}, "a.b", "star"),
        # The end of a pattern beats a trailing `**`.
        ({"a.*.**": "longer", "a.*": "shorter"}, "a.b", "shorter"),
        ({"a.**": "glob", "a.**.**": "globglob"}, "a", "glob"),
        # ...but a literal or `*` beats the end of a pattern.
        ({"**": "glob", "**.c": "glob-c"}, "a.b.c", "glob-c"),
        ({"**": "glob", "**.*": "glob-star"}, "a", "glob-star"),
        # Leftmost difference decides, even if later segments are less specific.
        ({"a.**": "lit-glob", "*.b.c": "star-lit-lit"}, "a.b.c", "lit-glob"),
        # Exact ties go to the first declared.
        ({"**.a.**": "first", "**.b.**": "second"}, "a.b", "first"),
        ({"**.b.**": "second", "**.a.**": "first"}, "a.b", "second"),
        # Non-matching routes never win.
        ({"a.b.*": "x", "**": "y"}, "a.c.d", "y"),
        ({"a.b.*": "x"}, "q", None),
    ],
)
def test_router_specificity(routes: dict[str, str], signal_type: str, winner: str | None) -> None:
    """The most specific matching route wins, compared segment by segment from the left."""
    assert Router(routes).match(signal_type) == winner


@pytest.mark.parametrize(
    ("pattern", "segment"),
    [("", ""), ("a..b", ""), ("a.", ""), ("a.b*", "b*"), ("a.***", "***"), ("a b", "a b")],
)
def test_router_rejects_bad_pattern(pattern: str, segment: str) -> None:
    """A malformed pattern raises InvalidRouteError naming the pattern and the segment."""
    with pytest.raises(InvalidRouteError) as info:
        Router({pattern: "x"})
    assert str(info.value).startswith(
        f"route pattern {pattern!r} is not valid: segment {segment!r}; expected"
    )
    assert info.value.pattern == pattern


@pytest.mark.parametrize("target", ["", 3, None])
def test_router_rejects_bad_target(target: Any) -> None:
    """A route target must be a non-empty action name."""
    with pytest.raises(InvalidRouteError, match=r"route 'a' -> .* is not valid; the target"):
        Router({"a": target})


def test_router_rejects_non_mapping() -> None:
    """Routes must be a mapping."""
    with pytest.raises(TypeError, match="routes must be a mapping"):
        Router([("a", "b")])  # type: ignore[arg-type]


def test_router_routes_read_only_and_equality() -> None:
    """Routes are exposed read-only, in order; routers compare by their routes."""
    router = Router({"a": "x", "b.*": "y"})
    assert list(router.routes.items()) == [("a", "x"), ("b.*", "y")]
    with pytest.raises(TypeError):
        router.routes["c"] = "z"  # type: ignore[index]
    assert router == Router({"a": "x", "b.*": "y"})
    assert router != Router({"b.*": "y", "a": "x"})
    assert hash(router) == hash(Router({"a": "x", "b.*": "y"}))
    assert repr(router) == "Router({'a': 'x', 'b.*': 'y'})"


def test_router_does_not_alias_input() -> None:
    """Mutating the mapping after construction does not change the router."""
    routes = {"a": "x"}
    router = Router(routes)
    routes["b"] = "y"
    assert router.match("b") is None
