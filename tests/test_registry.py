"""The registry: names to live references, scoped to the Trio run."""

from __future__ import annotations

from typing import Any

import pytest
import trio
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

from jido_trio import (
    Backoff,
    ChildSpec,
    InvalidRegistrationError,
    JidoError,
    Registration,
    Registry,
    RegistryError,
    current_child,
    current_registry,
    lookup,
    open_supervisor,
    register,
    whereis,
)

# ---------------------------------------------------------------- basics


async def test_register_whereis_lookup_and_queries() -> None:
    """A registered name answers whereis, lookup_nowait, lookup, names, len and in."""
    registry = Registry()
    with registry.register("a", 1) as reg_a, registry.register("b", 2):
        assert isinstance(reg_a, Registration)
        assert (reg_a.name, reg_a.value, reg_a.active) == ("a", 1, True)
        assert registry.whereis("a") == 1
        assert registry.lookup_nowait("b") == 2
        assert await registry.lookup("a") == 1
        assert registry.names() == ["a", "b"]
        assert len(registry) == 2
        assert "a" in registry
        assert "c" not in registry
        assert registry.whereis("c") is None
    assert registry.names() == []
    assert len(registry) == 0
    assert reg_a.active is False


async def test_lookup_of_registered_name_is_a_checkpoint() -> None:
    """lookup of a registered name returns without waiting but still checkpoints."""
    registry = Registry()
    registry.register_nowait("a", 1)
    with trio.CancelScope() as scope:
        scope.cancel()
        await registry.lookup("a")
    assert scope.cancelled_caught is True


async def test_module_functions_use_the_current_registry() -> None:
    """register/whereis/lookup at module level act on current_registry()."""
    with register("svc", "service") as registration:
        assert current_registry() is current_registry()
        assert current_registry().whereis("svc") == "service"
        assert whereis("svc") == "service"
        assert await lookup("svc") == "service"
        assert registration.active is True
    assert whereis("svc") is None


async def test_repr_shows_counts_and_state() -> None:
    """Registry and Registration reprs show the name, value and counts."""
    registry = Registry()
    registration = registry.register_nowait("a", 1)
    assert repr(registry) == "<Registry names=1 waiting=0>"
    assert repr(registration) == "<Registration 'a' -> 1 (active)>"
    registration.unregister()
    assert repr(registration) == "<Registration 'a' -> 1 (removed)>"


# ---------------------------------------------------------------- errors


async def test_duplicate_name_error_names_the_name_and_holder() -> None:
    """Registering a taken name raises RegistryError with the name and the holder's repr."""
    registry = Registry()
    with registry.register("worker", ["holder", 1]):
        with pytest.raises(
            RegistryError,
            match=r"^name 'worker' is already registered to \['holder', 1\]; its owner must "
            r"exit \(or unregister\) first, or pick another name$",
        ):
            registry.register_nowait("worker", "other")
        with (
            pytest.raises(RegistryError, match=r"^name 'worker' is already registered"),
            registry.register("worker", "other"),
        ):
            pytest.fail("the with block must not run")  # pragma: no cover
        assert registry.whereis("worker") == ["holder", 1]


async def test_duplicate_error_truncates_a_long_holder_repr() -> None:
    """A holder repr longer than 120 characters is cut with '...'."""
    registry = Registry()
    registry.register_nowait("big", "x" * 500)
    with pytest.raises(RegistryError) as info:
        registry.register_nowait("big", 1)
    assert str(info.value) == (
        f"name 'big' is already registered to '{'x' * 116}...; its owner must exit "
        "(or unregister) first, or pick another name"
    )
    assert isinstance(info.value, JidoError)
    assert isinstance(info.value, LookupError)


async def test_lookup_nowait_absent_lists_known_names_truncated() -> None:
    """lookup_nowait of a free name raises RegistryError listing the first 10 names."""
    registry = Registry()
    with pytest.raises(
        RegistryError, match=r"^name 'x' is not registered; no names are registered$"
    ):
        registry.lookup_nowait("x")
    for i in range(12):
        registry.register_nowait(f"n{i}", i)
    expected = (
        "name 'x' is not registered; registered names: "
        + ", ".join(f"'n{i}'" for i in range(10))
        + ", ... (2 more)"
    )
    with pytest.raises(RegistryError) as info:
        registry.lookup_nowait("x")
    assert str(info.value) == expected


@pytest.mark.parametrize("name", ["", 3, None, b"bytes"])
async def test_invalid_names_are_rejected(name: Any) -> None:
    """Names must be non-empty strings, for every method that takes one."""
    registry = Registry()
    message = rf"^registry name {name!r} is not valid; expected a non-empty string$"
    with pytest.raises(InvalidRegistrationError, match=message):
        registry.register_nowait(name, 1)
    with pytest.raises(InvalidRegistrationError, match=message), registry.register(name, 1):
        pytest.fail("the with block must not run")  # pragma: no cover
    with pytest.raises(InvalidRegistrationError, match=message):
        registry.whereis(name)
    with pytest.raises(InvalidRegistrationError, match=message):
        registry.lookup_nowait(name)
    with pytest.raises(InvalidRegistrationError, match=message):
        await registry.lookup(name)
    with pytest.raises(InvalidRegistrationError, match=message):
        registry.waiting(name)
    assert len(registry) == 0


async def test_none_value_is_rejected() -> None:
    """None cannot be registered: whereis uses it to mean a free name."""
    registry = Registry()
    with pytest.raises(
        InvalidRegistrationError,
        match=r"^cannot register None under 'a'; register the object itself",
    ) as info:
        registry.register_nowait("a", None)
    assert isinstance(info.value, ValueError)
    assert "a" not in registry


async def test_registry_outside_a_run_needs_trio() -> None:
    """current_registry() outside trio.run raises RuntimeError (tested from a thread)."""

    def outside() -> None:
        with pytest.raises(RuntimeError):
            current_registry()

    await trio.to_thread.run_sync(outside)


# ---------------------------------------------------------------- waiting


async def test_waiting_lookup_wakes_at_the_registration_time(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A lookup of a free name returns the value at the virtual time it is registered."""
    registry = Registry()
    got: list[tuple[float, Any]] = []

    async def waiter() -> None:
        value = await registry.lookup("late")
        got.append((trio.current_time(), value))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(waiter)
        nursery.start_soon(waiter)
        await trio.testing.wait_all_tasks_blocked()
        assert registry.waiting("late") == 2
        await trio.sleep(3.25)
        with registry.register("late", "here"):
            await trio.testing.wait_all_tasks_blocked()
            assert got == [(3.25, "here"), (3.25, "here")]
            assert registry.waiting("late") == 0


async def test_reregistration_after_removal_wakes_new_waiters(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """After a name is removed, a new lookup waits and wakes at the next registration."""
    registry = Registry()
    with registry.register("n", "first"):
        assert await registry.lookup("n") == "first"
    async with trio.open_nursery() as nursery:

        async def later() -> None:
            await trio.sleep(2)
            registry.register_nowait("n", "second")

        nursery.start_soon(later)
        assert await registry.lookup("n") == "second"
        assert trio.current_time() == 2


async def test_registered_and_removed_before_the_waiter_runs_keeps_waiting(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A waiter never returns a value that was removed before it ran."""
    registry = Registry()
    got: list[tuple[float, Any]] = []

    async def waiter() -> None:
        value = await registry.lookup("n")
        got.append((trio.current_time(), value))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(waiter)
        await trio.testing.wait_all_tasks_blocked()
        registry.register_nowait("n", "gone").unregister()  # no checkpoint in between
        await trio.testing.wait_all_tasks_blocked()
        assert got == []
        assert registry.waiting("n") == 1
        await trio.sleep(1)
        registry.register_nowait("n", "kept")
    assert got == [(1, "kept")]


async def test_cancelled_lookups_leave_no_waiters(autojump_clock: trio.testing.MockClock) -> None:
    """Cancelling waiting lookups removes their entries; many leave nothing to grow."""
    registry = Registry()
    for _ in range(1000):
        with trio.move_on_after(1) as scope:
            await registry.lookup("never")
        assert scope.cancelled_caught is True
    assert registry.waiting("never") == 0
    assert registry._waiters == {}  # internal check backing the public diagnostic
    assert repr(registry) == "<Registry names=0 waiting=0>"
    assert trio.current_time() == 1000


async def test_cancelling_one_waiter_keeps_the_others(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A cancelled lookup drops only its own wait; the others still wake with the value."""
    registry = Registry()
    got: list[Any] = []

    async def waiter() -> None:
        got.append(await registry.lookup("n"))

    doomed = trio.CancelScope()

    async def cancelled_waiter() -> None:
        with doomed:
            await registry.lookup("n")

    async with trio.open_nursery() as nursery:
        nursery.start_soon(waiter)
        nursery.start_soon(cancelled_waiter)
        nursery.start_soon(waiter)
        await trio.testing.wait_all_tasks_blocked()
        assert registry.waiting("n") == 3
        doomed.cancel()
        await trio.testing.wait_all_tasks_blocked()
        assert registry.waiting("n") == 2
        registry.register_nowait("n", 7)
    assert got == [7, 7]
    assert registry.waiting("n") == 0


# ---------------------------------------------------------------- owner exit


async def test_registration_removed_when_owner_task_crashes() -> None:
    """An owner that raises inside its with block loses its name."""
    registry = Registry()

    async def owner() -> None:
        with registry.register("crashy", "v"):
            await trio.lowlevel.checkpoint()
            raise ValueError("boom")

    with pytest.RaisesGroup(pytest.RaisesExc(ValueError, match=r"^boom$")):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(owner)
    assert registry.whereis("crashy") is None
    assert registry.names() == []


async def test_registration_removed_when_owner_task_is_cancelled(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """An owner cancelled while it holds a name loses it."""
    registry = Registry()

    async def owner(task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        with registry.register("held", "v"):
            task_status.started()
            await trio.sleep_forever()

    async with trio.open_nursery() as nursery:
        await nursery.start(owner)
        assert registry.whereis("held") == "v"
        await trio.sleep(5)
        nursery.cancel_scope.cancel()
    assert registry.whereis("held") is None
    assert trio.current_time() == 5


async def test_owner_that_unregistered_early_leaves_the_new_owner_alone() -> None:
    """Leaving a with block after an early unregister never removes a newer holder."""
    registry = Registry()
    with registry.register("n", "old") as old:
        old.unregister()
        old.unregister()  # idempotent
        newer = registry.register_nowait("n", "new")
    assert registry.whereis("n") == "new"
    assert newer.active is True


async def test_stale_unregister_does_not_remove_newer_registration() -> None:
    """An old Registration token cannot remove a newer registration of its name."""
    registry = Registry()
    first = registry.register_nowait("n", 1)
    first.unregister()
    second = registry.register_nowait("n", 2)
    first.unregister()
    assert registry.whereis("n") == 2
    assert (first.active, second.active) == (False, True)
    second.unregister()
    assert registry.whereis("n") is None


async def test_supervised_child_reregisters_after_restart(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A crashed supervised child's name is gone until its restart registers the new value."""
    incarnations: list[str] = []

    async def worker(task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED) -> None:
        me = f"worker#{len(incarnations)}"
        incarnations.append(me)
        with register("worker", me):
            task_status.started(me)
            if me == "worker#0":
                await trio.sleep(1)
                raise RuntimeError("crash")
            await current_child().stop_requested.wait()

    spec = ChildSpec("w", worker, restart="transient")
    async with open_supervisor([spec], backoff=Backoff(initial=2, factor=1, jitter=0)) as sup:
        assert whereis("worker") == "worker#0"
        await trio.sleep(1.5)  # crashed at t=1, restart due at t=3
        assert whereis("worker") is None
        assert "worker" not in current_registry()
        assert await lookup("worker") == "worker#1"
        assert trio.current_time() == 3
        assert incarnations == ["worker#0", "worker#1"]
        await sup.shutdown()
    assert whereis("worker") is None
    assert current_registry().names() == []


# ---------------------------------------------------------------- per run


def test_each_trio_run_has_its_own_registry() -> None:
    """Two trio.run calls do not share names or the registry object."""
    seen: list[Registry] = []

    async def first() -> None:
        seen.append(current_registry())
        current_registry().register_nowait("leftover", 1)  # never unregistered
        assert whereis("leftover") == 1

    async def second() -> None:
        seen.append(current_registry())
        assert whereis("leftover") is None
        assert current_registry().names() == []

    trio.run(first)
    trio.run(second)
    assert seen[0] is not seen[1]
    assert seen[0].names() == ["leftover"]


# ---------------------------------------------------------------- property

NAMES = ["a", "b", "c"]

_op = st.one_of(
    st.tuples(st.just("register"), st.sampled_from(NAMES)),
    st.tuples(st.just("unregister"), st.integers(0, 20)),  # index into every token made
    st.tuples(st.just("lookup"), st.sampled_from(NAMES)),  # start a waiting lookup task
    st.tuples(st.just("cancel"), st.integers(0, 20)),  # cancel a pending lookup
    st.tuples(st.just("sleep"), st.integers(1, 3)),
)


@given(ops=st.lists(_op, max_size=40))
def test_registry_matches_a_dict_model(ops: list[tuple[str, Any]]) -> None:
    """Random register/unregister/lookup/cancel sequences agree with a dict model."""

    async def main() -> None:
        registry = Registry()
        model: dict[str, int] = {}
        tokens: list[Registration] = []
        # pending lookups: name, cancel scope, result box, expected value (None = waiting)
        pending: list[tuple[str, trio.CancelScope, list[Any]]] = []
        expected: dict[int, Any] = {}  # keyed by id(box): every box is kept alive below
        popped: list[list[Any]] = []  # cancelled lookups' boxes, so no id is reused
        counter = 0

        async def waiter(name: str, scope: trio.CancelScope, box: list[Any]) -> None:
            with scope:
                box.append((await registry.lookup(name), trio.current_time()))

        async with trio.open_nursery() as nursery:
            for kind, arg in ops:
                if kind == "register":
                    counter += 1
                    if arg in model:
                        with pytest.raises(RegistryError, match=rf"^name '{arg}' is already"):
                            registry.register_nowait(arg, counter)
                    else:
                        tokens.append(registry.register_nowait(arg, counter))
                        model[arg] = counter
                        for name, _, box in pending:
                            if name == arg and id(box) not in expected:
                                expected[id(box)] = (counter, trio.current_time())
                elif kind == "unregister" and tokens:
                    token = tokens[arg % len(tokens)]
                    if model.get(token.name) == token.value:
                        del model[token.name]
                    token.unregister()
                elif kind == "lookup":
                    scope, box = trio.CancelScope(), []
                    pending.append((arg, scope, box))
                    if arg in model:
                        expected[id(box)] = (model[arg], trio.current_time())
                    nursery.start_soon(waiter, arg, scope, box)
                elif kind == "cancel" and pending:
                    name, scope, box = pending.pop(arg % len(pending))
                    popped.append(box)
                    if id(box) not in expected:
                        scope.cancel()
                elif kind == "sleep":
                    await trio.sleep(arg)
                await trio.testing.wait_all_tasks_blocked()

                for _, _, box in pending:
                    want = expected.get(id(box))
                    assert box == ([] if want is None else [want])
                for name in NAMES:
                    assert registry.whereis(name) == model.get(name)
                    assert (name in registry) is (name in model)
                    if name in model:
                        assert registry.lookup_nowait(name) == model[name]
                    else:
                        with pytest.raises(RegistryError, match=rf"^name '{name}' is not"):
                            registry.lookup_nowait(name)
                    still_waiting = [
                        box for n, _, box in pending if n == name and id(box) not in expected
                    ]
                    assert registry.waiting(name) == len(still_waiting)
                assert registry.names() == list(model)
                assert len(registry) == len(model)
            nursery.cancel_scope.cancel()
        assert registry._waiters == {}

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
