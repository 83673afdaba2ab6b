"""Untyped data with keys of any hashable type: params, states and signal dicts.

Data from the outside (a signal's ``data``, a stored state, a CloudEvents dict)
may have keys that are not strings: ints, tuples, ``None``, bools. Each is a
problem to report, ``[repr(key)]: unknown field @ $.data[repr(key)]``, never
an exception out of ``execute`` (in a server, that would crash the agent on
every such message).
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest
import trio
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

from jido_trio import (
    ActionResult,
    AgentDef,
    AgentStats,
    InvalidParamsError,
    InvalidSignalError,
    InvalidStateError,
    Signal,
    action,
    agent_spec,
    execute,
    open_supervisor,
)


@attrs.frozen
class Part:
    sku: str
    qty: int = attrs.field(default=1, validator=attrs.validators.ge(1))


@attrs.frozen
class Order:
    """Params with every shape the converter handles: scalars, a nested class,
    lists, a dict, an optional, tuples and a validator."""

    customer: str
    parts: list[Part] = attrs.field(factory=list)
    main: Part | None = None
    tags: dict[str, int] = attrs.field(factory=dict)
    price: float = 0.0
    rush: bool = False
    pairs: list[tuple[int, str]] = attrs.field(factory=list)
    sizes: tuple[int, ...] = ()


@attrs.frozen
class Book:
    orders: int = 0
    last: Order | None = None
    totals: dict[str, float] = attrs.field(factory=dict)


@action("place", params=Order)
def place(state: Book, params: Order) -> ActionResult[Book]:
    return ActionResult(attrs.evolve(state, orders=state.orders + 1, last=params), result=params)


BOOK = AgentDef("book", Book, [place], routes={"order.place": "place"})

FIELDS = [
    *(a.name for a in attrs.fields(Order)),
    *(a.name for a in attrs.fields(Part)),
    *(a.name for a in attrs.fields(Book)),
]

keys: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(FIELDS),  # so that data often gets as far as structuring
    st.text(max_size=4),
    st.integers(),
    st.none(),
    st.booleans(),
    st.floats(),
    st.tuples(st.integers(-3, 3), st.text(max_size=2)),
    st.frozensets(st.integers(-3, 3), max_size=2),
)
scalars: st.SearchStrategy[Any] = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=4)
)
values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(keys, inner, max_size=4),
    ),
    max_leaves=12,
)
mappings: st.SearchStrategy[Any] = st.dictionaries(keys, values, max_size=6)


def valid_or_not(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(valid, valid, values)


parts: st.SearchStrategy[Any] = st.fixed_dictionaries(
    {"sku": valid_or_not(st.text(max_size=3))}, optional={"qty": st.integers(0, 3)}
)
# Orders that are valid, or nearly: each field is often right, sometimes anything,
# and a few extra keys of any type may be mixed in.
orders: st.SearchStrategy[Any] = st.builds(
    lambda base, extra: {**base, **extra},
    st.fixed_dictionaries(
        {"customer": valid_or_not(st.text(max_size=3))},
        optional={
            "parts": valid_or_not(st.lists(parts, max_size=2)),
            "main": valid_or_not(st.none() | parts),
            "tags": valid_or_not(st.dictionaries(st.text(max_size=2), st.integers(), max_size=2)),
            "price": valid_or_not(st.floats() | st.integers()),
            "rush": valid_or_not(st.booleans()),
            "sizes": valid_or_not(st.lists(st.integers(), max_size=2)),
            "pairs": valid_or_not(st.lists(st.tuples(st.integers(), st.text(max_size=2)))),
        },
    ),
    st.just({}) | st.dictionaries(keys, values, max_size=2),
)


def well_formed(line: str, root: str, label: str) -> bool:
    """Whether ``line`` is ``field: problem @ path``, with ``path`` under ``root`` and
    ``field`` the path below it (``label`` for the root itself). A key may itself hold
    `` @ $``, so try each place the path could start."""
    at = line.find(f" @ {root}")
    while at != -1:
        head, path = line[:at], line[at + 3 :]
        field = path[len(root) :].removeprefix(".") or label
        if head.startswith(f"{field}: ") and len(head) > len(field) + 2:
            return True
        at = line.find(f" @ {root}", at + 1)
    return False


def check_lines(errors: tuple[str, ...], root: str, label: str) -> None:
    """There is at least one line, and each is one well-formed line."""
    assert errors
    for line in errors:
        assert "\n" not in line, line
        assert well_formed(line, root, label), line


def test_well_formed_lines() -> None:
    """The line check of the properties below accepts the lines it should, even with
    `` @ `` in a key, and rejects malformed ones."""
    assert well_formed("[' @ ']: unknown field @ $[' @ ']", "$", "state")
    assert well_formed("state: expected a mapping, got list @ $", "$", "state")
    assert well_formed("a.b: expected int @ $.data.a.b", "$.data", "data")
    assert not well_formed("a.b: expected int @ $.data.a.c", "$.data", "data")
    assert not well_formed("a.b: @ $.data.a.b", "$.data", "data")
    assert not well_formed("a.b: expected int", "$.data", "data")


@given(data=st.one_of(orders, mappings, values))
def test_execute_never_raises_on_untyped_data(data: Any) -> None:
    """For any JSON-ish data with any hashable keys, execute returns ok or an
    InvalidParamsError outcome with well-formed `$.data` lines; it never raises."""
    agent = BOOK.new("b")
    outcome = execute(agent, Signal("order.place", data))
    if outcome.ok:
        assert isinstance(outcome.result, Order)
        assert outcome.agent.version == 1
    else:
        assert isinstance(outcome.error, InvalidParamsError)
        assert outcome.agent is agent
        check_lines(outcome.error.errors, "$.data", "data")


@given(data=st.one_of(mappings, values))
def test_load_state_raises_only_invalid_state_error(data: Any) -> None:
    """For any JSON-ish data with any hashable keys, load_state returns a state or
    raises InvalidStateError with well-formed `$` lines (new() does the same)."""
    try:
        state = BOOK.load_state(data)
    except InvalidStateError as error:
        check_lines(error.errors, "$", "state")
    else:
        assert isinstance(state, Book)
    if isinstance(data, dict):
        try:
            BOOK.new("b", data)
        except InvalidStateError as error:
            check_lines(error.errors, "$", "state")


@given(
    data=st.one_of(
        values,
        st.dictionaries(
            st.one_of(keys, st.sampled_from(["type", "id", "time", "source", "data"])),
            values,
            max_size=6,
        ),
    )
)
def test_signal_from_dict_raises_only_invalid_signal_error(data: Any) -> None:
    """For any JSON-ish dict with any hashable keys, Signal.from_dict returns a signal
    or raises InvalidSignalError with well-formed `$` lines."""
    try:
        signal = Signal.from_dict(data)
    except InvalidSignalError as error:
        check_lines(error.errors, "$", "signal")
    else:
        assert signal.type == data["type"]


async def test_a_server_survives_signals_with_non_str_keys(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A running agent dead-letters a signal whose data has a non-str key as
    invalid_params and carries on, without a restart; a call raises the error."""
    async with open_supervisor() as sup:
        ref = await sup.start_child(agent_spec("book", BOOK))
        await ref.cast(Signal("order.place", {"customer": "ada", 2: "x", "extra": 3}))
        with pytest.raises(
            InvalidParamsError,
            match=r"^invalid params for action 'place':\n"
            r"\[None\]: unknown field @ \$\.data\[None\]$",
        ):
            await ref.call(Signal("order.place", {"customer": "bo", None: 1}))
        assert await ref.call(Signal("order.place", {"customer": "cy"})) == Order("cy")
        assert [(d.reason, d.error.errors) for d in ref.dead_letters] == [
            (
                "invalid_params",
                ("extra: unknown field @ $.data.extra", "[2]: unknown field @ $.data[2]"),
            ),
            ("invalid_params", ("[None]: unknown field @ $.data[None]",)),
        ]
        assert sup.which_children()[0].restarts == 0
        assert ref.stats() == AgentStats(3, 1, 2, 0, 0)
        assert ref.state.orders == 1
        assert trio.current_time() == 0.0
        await sup.shutdown()
