"""Supervisors: strategies, restart types, intensity, the start protocol,
backoff, auto_shutdown, the runtime API and option validation.

Every test runs on virtual time (``autojump_clock``) and pins exact virtual
times. Children are driven by :class:`Crew`: each logs ``(time, event, id)``,
takes ``start_delay`` seconds to start, stops cooperatively ``stop_delay``
seconds after ``current_child().stop_requested`` is set, and raises
:class:`Crash` at the times planned for it.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import pytest
import trio
import trio.testing

import jido_trio
from jido_trio import (
    Backoff,
    ChildCounts,
    ChildInfo,
    ChildNotFoundError,
    ChildRunningError,
    ChildSpec,
    ChildStartError,
    DuplicateChildError,
    InvalidChildSpecError,
    RestartIntensityError,
    SupervisorClosedError,
    TelemetryEvent,
    TooManyChildrenError,
    attach_telemetry,
    current_child,
    open_supervisor,
    supervisor_spec,
)

Entry = tuple[float, str, str]


class Crash(Exception):
    """A child's planned failure."""


class Crew:
    """Children that log their starts, stops and crashes, with planned crash times."""

    def __init__(
        self,
        *,
        start_delay: float = 0.0,
        stop_delay: float = 0.0,
        crashes: Mapping[str, Sequence[float]] | None = None,
    ) -> None:
        self.log: list[Entry] = []
        self.start_delay = start_delay
        self.stop_delay = stop_delay
        self.crashes = {k: sorted(v) for k, v in (crashes or {}).items()}

    def spec(self, name: str, **options: Any) -> ChildSpec:
        return ChildSpec(name, self.run, args=(name,), **options)

    def starts(self, name: str) -> list[float]:
        return [t for t, what, who in self.log if what == "start" and who == name]

    async def run(
        self, name: str, *, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED
    ) -> None:
        await trio.sleep(self.start_delay)
        self.log.append((trio.current_time(), "start", name))
        task_status.started(name)
        stop = current_child().stop_requested
        now = trio.current_time()
        crash_at = min((t for t in self.crashes.get(name, ()) if t > now), default=math.inf)
        with trio.move_on_at(crash_at):
            await stop.wait()
        if not stop.is_set():
            self.log.append((trio.current_time(), "crash", name))
            raise Crash(name)
        await trio.sleep(self.stop_delay)
        self.log.append((trio.current_time(), "stop", name))


def snapshot(sup: jido_trio.Supervisor) -> list[tuple[str, str, int]]:
    return [(c.id, c.status, c.restarts) for c in sup.which_children()]


async def idle(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
    task_status.started()
    await trio.sleep_forever()


# ---------------------------------------------------------------- strategies


async def test_one_for_one_is_the_default_and_restarts_only_the_crashed_child(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """one_for_one (the default) restarts the crashed child alone; shutdown stops in reverse."""
    crew = Crew(start_delay=1, stop_delay=0.5, crashes={"b": [10]})
    async with open_supervisor([crew.spec(n) for n in "abc"]) as sup:
        assert sup.strategy == "one_for_one"
        assert trio.current_time() == 3.0
        await trio.sleep_until(20)
        assert snapshot(sup) == [("a", "running", 0), ("b", "running", 1), ("c", "running", 0)]
        await sup.shutdown()
    assert trio.current_time() == 21.5
    assert crew.log == [
        (1.0, "start", "a"),
        (2.0, "start", "b"),
        (3.0, "start", "c"),
        (10.0, "crash", "b"),
        (11.0, "start", "b"),
        (20.5, "stop", "c"),
        (21.0, "stop", "b"),
        (21.5, "stop", "a"),
    ]


async def test_one_for_all_stops_the_others_in_reverse_and_restarts_all_in_order(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """one_for_all stops the siblings in reverse start order, then starts every child in
    start order, each started before the next."""
    crew = Crew(start_delay=1, stop_delay=0.5, crashes={"b": [10]})
    async with open_supervisor([crew.spec(n) for n in "abc"], strategy="one_for_all") as sup:
        await trio.sleep_until(20)
        assert snapshot(sup) == [("a", "running", 1), ("b", "running", 1), ("c", "running", 1)]
        assert [c.value for c in sup.which_children()] == ["a", "b", "c"]
        await sup.shutdown()
    assert crew.log[3:9] == [
        (10.0, "crash", "b"),
        (10.5, "stop", "c"),
        (11.0, "stop", "a"),
        (12.0, "start", "a"),
        (13.0, "start", "b"),
        (14.0, "start", "c"),
    ]


async def test_rest_for_one_restarts_the_crashed_child_and_those_started_after_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """rest_for_one stops the later children in reverse order and restarts the crashed child
    and the later ones in order; earlier children are untouched."""
    crew = Crew(start_delay=1, stop_delay=0.5, crashes={"b": [10]})
    async with open_supervisor([crew.spec(n) for n in "abcd"], strategy="rest_for_one") as sup:
        await trio.sleep_until(20)
        assert snapshot(sup) == [
            ("a", "running", 0),
            ("b", "running", 1),
            ("c", "running", 1),
            ("d", "running", 1),
        ]
        await sup.shutdown()
    assert crew.log[4:10] == [
        (10.0, "crash", "b"),
        (10.5, "stop", "d"),
        (11.0, "stop", "c"),
        (12.0, "start", "b"),
        (13.0, "start", "c"),
        (14.0, "start", "d"),
    ]
    assert crew.starts("a") == [1.0]


# ------------------------------------------------------------- restart types


async def test_permanent_child_is_restarted_after_a_normal_return(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A permanent child that returns normally is restarted at once."""
    starts: list[float] = []

    async def returns_once(
        *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        starts.append(trio.current_time())
        task_status.started()
        if len(starts) == 1:
            await trio.sleep(1)
            return
        await trio.sleep_forever()

    async with open_supervisor([ChildSpec("p", returns_once, shutdown=0)]) as sup:
        await trio.sleep(5)
        assert snapshot(sup) == [("p", "running", 1)]
        await sup.shutdown()
    assert starts == [0.0, 1.0]


async def test_transient_child_is_not_restarted_after_a_normal_return(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A transient child that returns normally stays stopped; its spec is kept."""
    starts: list[float] = []

    async def returns(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        starts.append(trio.current_time())
        task_status.started()
        await trio.sleep(1)

    async with open_supervisor([ChildSpec("t", returns, restart="transient")]) as sup:
        await trio.sleep(5)
        assert snapshot(sup) == [("t", "stopped", 0)]
    assert starts == [0.0]
    assert trio.current_time() == 5.0


async def test_transient_child_is_restarted_after_an_exception(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A transient child that raises is restarted."""
    crew = Crew(crashes={"t": [1]})
    async with open_supervisor([crew.spec("t", restart="transient")]) as sup:
        await trio.sleep(5)
        assert snapshot(sup) == [("t", "running", 1)]
        await sup.shutdown()
    assert crew.starts("t") == [0.0, 1.0]


@pytest.mark.parametrize("fails", [False, True], ids=["returns", "raises"])
async def test_temporary_child_is_never_restarted_and_removed_when_it_exits(
    autojump_clock: trio.testing.MockClock, fails: bool
) -> None:
    """A temporary child is never restarted and its spec is removed when it exits, however
    it exits."""
    starts: list[float] = []

    async def once(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        starts.append(trio.current_time())
        task_status.started()
        await trio.sleep(1)
        if fails:
            raise Crash("temporary")

    async with open_supervisor([ChildSpec("t", once, restart="temporary")]) as sup:
        await sup.start_child(ChildSpec("keep", idle, shutdown=0))
        await trio.sleep(5)
        assert snapshot(sup) == [("keep", "running", 0)]
        await sup.shutdown()
    assert starts == [0.0]


async def test_temporary_sibling_is_stopped_and_removed_by_a_one_for_all_restart(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Under one_for_all a temporary sibling is stopped and removed, not restarted."""
    crew = Crew(stop_delay=0.5, crashes={"b": [10]})
    specs = [
        crew.spec("a", restart="temporary"),
        crew.spec("b"),
        crew.spec("c", restart="temporary"),
    ]
    async with open_supervisor(specs, strategy="one_for_all") as sup:
        await trio.sleep_until(20)
        assert snapshot(sup) == [("b", "running", 1)]
        await sup.shutdown()
    assert crew.log[3:7] == [
        (10.0, "crash", "b"),
        (10.5, "stop", "c"),
        (11.0, "stop", "a"),
        (11.0, "start", "b"),
    ]
    assert crew.starts("a") == crew.starts("c") == [0.0]


async def test_temporary_child_after_the_crash_is_removed_by_a_rest_for_one_restart(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Under rest_for_one a later temporary child is stopped and removed; an earlier one is
    left running."""
    crew = Crew(stop_delay=0.5, crashes={"b": [10]})
    specs = [
        crew.spec("a", restart="temporary"),
        crew.spec("b"),
        crew.spec("c", restart="temporary"),
    ]
    async with open_supervisor(specs, strategy="rest_for_one") as sup:
        await trio.sleep_until(20)
        assert snapshot(sup) == [("a", "running", 0), ("b", "running", 1)]
        await sup.shutdown()
    assert crew.log[3:6] == [(10.0, "crash", "b"), (10.5, "stop", "c"), (10.5, "start", "b")]
    assert crew.starts("c") == [0.0]


# ------------------------------------------------------------------ intensity


async def test_fourth_restart_within_five_seconds_escalates_by_default(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Defaults are max_restarts=3 within max_seconds=5: the 4th crash in the window
    escalates at its exact virtual time, with the restart history and the crash as cause."""
    crew = Crew(crashes={"a": [1, 2, 3, 4]})

    async def supervise() -> None:
        async with open_supervisor([crew.spec("a")]) as sup:
            assert (sup.max_restarts, sup.max_seconds) == (3, 5)
            await trio.sleep_forever()

    with pytest.raises(RestartIntensityError) as info:
        await supervise()
    assert trio.current_time() == 4.0
    assert info.value.restarts == (1.0, 2.0, 3.0, 4.0)
    assert (info.value.path, info.value.max_restarts, info.value.max_seconds) == ("root", 3, 5)
    assert isinstance(info.value.__cause__, Crash)
    assert str(info.value.__cause__) == "a"
    assert str(info.value) == (
        "supervisor 'root' exceeded its restart intensity: more than 3 restart(s) within 5s "
        "(last failure in child 'a'); restart times: 1, 2, 3, 4"
    )
    assert crew.starts("a") == [0.0, 1.0, 2.0, 3.0]


async def test_restarts_older_than_the_window_are_forgotten(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A restart more than max_seconds old leaves the window, so the 4th crash is allowed."""
    crew = Crew(crashes={"a": [1, 2, 3, 6.5]})
    async with open_supervisor([crew.spec("a")]) as sup:
        await trio.sleep_until(10)
        assert sup.restart_history == (2.0, 3.0, 6.5)
        assert snapshot(sup) == [("a", "running", 4)]
        await sup.shutdown()


async def test_a_restart_exactly_max_seconds_old_still_counts(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """As in OTP, a restart exactly max_seconds old is still inside the window."""
    crew = Crew(crashes={"a": [1, 3]})
    with pytest.raises(RestartIntensityError) as info:
        async with open_supervisor([crew.spec("a")], max_restarts=1, max_seconds=2):
            await trio.sleep_forever()
    assert trio.current_time() == 3.0
    assert info.value.restarts == (1.0, 3.0)


@pytest.mark.parametrize(
    ("second_crash", "escalates"), [(1.5, True), (1.75, False)], ids=["inside", "outside"]
)
async def test_max_seconds_may_be_a_float(
    autojump_clock: trio.testing.MockClock, second_crash: float, escalates: bool
) -> None:
    """max_seconds=0.5 is a half-second window: crashes 0.5 s apart escalate, 0.75 s apart
    do not."""
    crew = Crew(crashes={"a": [1, second_crash]})
    if escalates:
        with pytest.raises(RestartIntensityError, match=r"within 0\.5s"):
            async with open_supervisor([crew.spec("a")], max_restarts=1, max_seconds=0.5):
                await trio.sleep_forever()
        assert trio.current_time() == second_crash
    else:
        async with open_supervisor([crew.spec("a")], max_restarts=1, max_seconds=0.5) as sup:
            await trio.sleep_until(3)
            assert sup.restart_history == (second_crash,)
            await sup.shutdown()
        assert crew.starts("a") == [0.0, 1.0, second_crash]


async def test_max_restarts_zero_escalates_on_the_first_crash(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """With max_restarts=0 the first crash escalates and nothing is restarted."""
    crew = Crew(crashes={"a": [1]})
    with pytest.raises(RestartIntensityError) as info:
        async with open_supervisor([crew.spec("a")], max_restarts=0):
            await trio.sleep_forever()
    assert trio.current_time() == 1.0
    assert info.value.restarts == (1.0,)
    assert crew.starts("a") == [0.0]


@pytest.mark.parametrize("strategy", ["one_for_all", "rest_for_one"])
async def test_a_group_restart_counts_once(
    autojump_clock: trio.testing.MockClock, strategy: Literal["one_for_all", "rest_for_one"]
) -> None:
    """A restart of several children under one_for_all / rest_for_one is one restart for the
    intensity; the next crash is the second."""
    crew = Crew(crashes={"a": [10, 12]})

    async def supervise() -> None:
        async with open_supervisor(
            [crew.spec(n) for n in "abc"], strategy=strategy, max_restarts=1
        ) as sup:
            await trio.sleep_until(11)
            assert snapshot(sup) == [("a", "running", 1), ("b", "running", 1), ("c", "running", 1)]
            assert sup.restart_history == (10.0,)
            await trio.sleep_forever()

    with pytest.raises(RestartIntensityError) as info:
        await supervise()
    assert trio.current_time() == 12.0
    assert info.value.restarts == (10.0, 12.0)


async def test_escalation_stops_every_child_in_reverse_order_then_raises_bare(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Escalation stops the other children in reverse start order, each within its grace,
    cancels the body and raises RestartIntensityError itself (not an ExceptionGroup)."""
    crew = Crew(stop_delay=0.5, crashes={"c": [10]})
    body_cancelled_at: list[float] = []
    sups: list[jido_trio.Supervisor] = []

    async def supervise() -> None:
        async with open_supervisor([crew.spec(n) for n in "abc"], max_restarts=0) as sup:
            sups.append(sup)
            try:
                await trio.sleep_forever()
            finally:
                body_cancelled_at.append(trio.current_time())

    with pytest.raises(RestartIntensityError) as info:
        await supervise()
    [sup] = sups
    assert type(info.value) is RestartIntensityError
    assert str(info.value) == (
        "supervisor 'root' exceeded its restart intensity: more than 0 restart(s) within 5s "
        "(last failure in child 'c'); restart times: 10"
    )
    assert crew.log[3:] == [(10.0, "crash", "c"), (10.5, "stop", "b"), (11.0, "stop", "a")]
    assert body_cancelled_at == [11.0]
    assert trio.current_time() == 11.0
    assert snapshot(sup) == [("a", "stopped", 0), ("b", "stopped", 0), ("c", "stopped", 0)]
    assert sup.closed


def test_an_intensity_error_shows_at_most_ten_restart_times() -> None:
    """Past ten restarts the message shows the first and last five (a limit of
    1000 made a 3 kB line); the attribute keeps them all."""
    error = RestartIntensityError(
        "root", [float(t) for t in range(12)], max_restarts=11, max_seconds=60
    )
    assert str(error) == (
        "supervisor 'root' exceeded its restart intensity: more than 11 restart(s) within 60s; "
        "restart times: 0, 1, 2, 3, 4, ... 2 more ..., 7, 8, 9, 10, 11"
    )
    assert error.restarts == tuple(float(t) for t in range(12))


async def test_escalation_after_the_body_has_finished_still_raises_bare(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A supervisor whose body is done but whose children still run raises
    RestartIntensityError from the async with when it escalates later."""
    crew = Crew(crashes={"a": [7]})
    with pytest.raises(RestartIntensityError, match=r"restart times: 7$"):
        async with open_supervisor([crew.spec("a"), crew.spec("b")], max_restarts=0):
            pass
    assert trio.current_time() == 7.0
    assert crew.log == [
        (0.0, "start", "a"),
        (0.0, "start", "b"),
        (7.0, "crash", "a"),
        (7.0, "stop", "b"),
    ]


async def test_nested_supervisor_escalation_is_its_crash_in_the_parent(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A nested supervisor that gives up counts as its crash: the parent restarts it per its
    strategy, and escalates in turn when its own intensity is exceeded."""
    crew = Crew(crashes={"w": [10, 12]})
    children = [supervisor_spec("pipeline", [crew.spec("w")], max_restarts=0), crew.spec("x")]

    async def supervise() -> None:
        async with open_supervisor(children, strategy="rest_for_one", max_restarts=1) as sup:
            await trio.sleep_until(11)
            assert snapshot(sup) == [("pipeline", "running", 1), ("x", "running", 1)]
            await trio.sleep_forever()

    with pytest.raises(RestartIntensityError) as info:
        await supervise()
    assert trio.current_time() == 12.0
    assert (info.value.path, info.value.restarts, info.value.child_id) == (
        "root",
        (10.0, 12.0),
        "pipeline",
    )
    inner = info.value.__cause__
    assert isinstance(inner, RestartIntensityError)
    assert (inner.path, inner.restarts, inner.child_id) == ("root/pipeline", (12.0,), "w")
    assert isinstance(inner.__cause__, Crash)
    assert crew.log == [
        (0.0, "start", "w"),
        (0.0, "start", "x"),
        (10.0, "crash", "w"),
        (10.0, "stop", "x"),
        (10.0, "start", "w"),
        (10.0, "start", "x"),
        (12.0, "crash", "w"),
        (12.0, "stop", "x"),
    ]


# ------------------------------------------------------------- start protocol


async def test_start_child_returns_the_value_passed_to_task_status_started(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """start_child returns once the child calls task_status.started(v), and returns v."""

    async def slow(*, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED) -> None:
        await trio.sleep(2)
        task_status.started("ready")
        await trio.sleep_forever()

    async with open_supervisor() as sup:
        assert await sup.start_child(ChildSpec("s", slow, shutdown=0)) == "ready"
        assert trio.current_time() == 2.0
        [info] = sup.which_children()
        assert (info.status, info.value) == ("running", "ready")
        await sup.shutdown()


async def test_child_without_task_status_is_started_at_once_with_value_none(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A child that takes no task_status counts as started at once; its value is None."""
    ran: list[float] = []

    async def plain() -> None:
        ran.append(trio.current_time())
        await trio.sleep_forever()

    async with open_supervisor() as sup:
        await trio.sleep(1)
        assert await sup.start_child(ChildSpec("p", plain, shutdown=0)) is None
        assert snapshot(sup) == [("p", "running", 0)]
        await trio.testing.wait_all_tasks_blocked()
        assert ran == [1.0]
        await sup.shutdown()


async def test_child_failing_before_started_makes_start_child_raise_its_error(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A child that raises before task_status.started() makes start_child raise that very
    error, bare; the spec is not kept and nothing is restarted."""
    error = Crash("bad config")
    calls: list[float] = []

    async def broken(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        calls.append(trio.current_time())
        await trio.sleep(1)
        raise error

    async with open_supervisor() as sup:
        with pytest.raises(Crash) as info:
            await sup.start_child(ChildSpec("b", broken))
        assert info.value is error
        assert trio.current_time() == 1.0
        assert sup.which_children() == []
        await trio.sleep(10)
        await trio.testing.wait_all_tasks_blocked()
        assert calls == [0.0]
        assert sup.restart_history == ()


async def test_child_returning_before_started_raises_child_start_error(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A child that returns before task_status.started() makes start_child raise
    ChildStartError; the spec is not kept."""

    async def quits(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        await trio.sleep(1)

    async with open_supervisor() as sup:
        with pytest.raises(
            ChildStartError,
            match=r"^child 'root/q' returned before it called task_status\.started\(\)$",
        ):
            await sup.start_child(ChildSpec("q", quits))
        assert trio.current_time() == 1.0
        assert sup.which_children() == []


async def test_children_start_in_order_and_a_failure_stops_the_started_ones_in_reverse(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """children= start in order, each before the next; if one fails, those started are
    stopped in reverse order and its error leaves open_supervisor, bare."""
    crew = Crew(start_delay=1, stop_delay=0.5)
    error = Crash("c cannot start")

    async def broken(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        await trio.sleep(1)
        raise error

    body_ran = False
    with pytest.raises(Crash) as info:
        async with open_supervisor(
            [crew.spec("a"), crew.spec("b"), ChildSpec("c", broken), crew.spec("d")]
        ):
            body_ran = True
    assert info.value is error
    assert not body_ran
    assert trio.current_time() == 4.0
    assert crew.log == [
        (1.0, "start", "a"),
        (2.0, "start", "b"),
        (3.5, "stop", "b"),
        (4.0, "stop", "a"),
    ]


async def test_a_restart_that_fails_to_start_is_another_crash(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A restarted child that fails before it is started counts as another crash: it is
    retried per policy until the intensity is exceeded, with the start error as cause."""
    attempts: list[float] = []

    async def flaky(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        attempts.append(trio.current_time())
        if len(attempts) > 1:
            raise Crash(f"start #{len(attempts)}")
        task_status.started()
        await trio.sleep(1)
        raise Crash("first run")

    with pytest.raises(RestartIntensityError, match=r"restart times: 1, 1, 1, 1$") as info:
        async with open_supervisor([ChildSpec("f", flaky)]):
            await trio.sleep_forever()
    assert trio.current_time() == 1.0
    assert attempts == [0.0, 1.0, 1.0, 1.0]
    assert str(info.value.__cause__) == "start #4"


async def test_started_called_twice_is_the_child_s_crash(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A child calling task_status.started() twice crashes with a RuntimeError naming it."""

    async def twice(*, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started(1)
        await trio.sleep(1)
        task_status.started(2)

    with pytest.raises(RestartIntensityError) as info:
        async with open_supervisor([ChildSpec("t", twice)], max_restarts=0):
            await trio.sleep_forever()
    cause = info.value.__cause__
    assert isinstance(cause, RuntimeError)
    assert str(cause) == "child 'root/t' called task_status.started() twice"
    assert trio.current_time() == 1.0


# -------------------------------------------------------------------- backoff


async def test_backoff_without_jitter_delays_restarts_exponentially_up_to_the_cap(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Backoff(jitter=0) waits initial * factor ** (n - 1), capped at maximum, before the
    n-th restart in the window."""
    starts: list[float] = []

    async def crashes_at_once(
        *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        starts.append(trio.current_time())
        task_status.started()
        await trio.sleep(0.0625)
        raise Crash("again")

    backoff = Backoff(initial=0.125, factor=2.0, maximum=0.5, jitter=0)
    with pytest.raises(RestartIntensityError):
        async with open_supervisor(
            [ChildSpec("a", crashes_at_once)], max_restarts=4, max_seconds=100, backoff=backoff
        ):
            await trio.sleep_forever()
    assert starts == [0.0, 0.1875, 0.5, 1.0625, 1.625]
    assert trio.current_time() == 1.6875


async def test_backoff_jitter_is_drawn_from_the_injected_rng(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Jittered delays are base * (1 + jitter * (2 * rng.random() - 1)), drawn from the
    supervisor's rng, so the same seed replays the same restart times."""
    backoff = Backoff(initial=0.25, factor=2.0, maximum=1.0, jitter=0.5)

    async def run(seed: int) -> tuple[list[float], list[float]]:
        starts: list[float] = []
        delays: list[float] = []

        async def crashes(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
            starts.append(trio.current_time())
            task_status.started()
            await trio.sleep(1)
            raise Crash("again")

        def on_event(event: TelemetryEvent) -> None:
            delays.append(event.data["delay"])

        with (
            attach_telemetry(on_event, events=["child.restarting"]),
            pytest.raises(RestartIntensityError),
        ):
            async with open_supervisor(
                [ChildSpec("a", crashes)],
                max_restarts=4,
                max_seconds=100,
                backoff=backoff,
                rng=random.Random(seed),
            ):
                await trio.sleep_forever()
        return starts, delays

    starts_1, delays_1 = await run(42)
    starts_2, delays_2 = await run(42)
    _, delays_3 = await run(43)
    rng = random.Random(42)
    expected = [
        min(1.0, 0.25 * 2.0 ** (n - 1)) * (1.0 + 0.5 * (2.0 * rng.random() - 1.0))
        for n in range(1, 5)
    ]
    assert delays_1 == delays_2 == expected
    assert delays_3 != delays_1
    # each restart happens exactly its delay after the crash, one second after the start
    for starts, delays in ((starts_1, delays_1), (starts_2, delays_2)):
        assert len(starts) == 5
        assert starts[1:] == [s + 1.0 + d for s, d in zip(starts, delays, strict=False)]


async def test_child_waiting_for_its_backoff_is_restarting(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """During a backoff the child's status is 'restarting' and the body stays open."""
    crew = Crew(crashes={"a": [1]})
    backoff = Backoff(initial=2.0, jitter=0)
    async with open_supervisor([crew.spec("a")], backoff=backoff) as sup:
        await trio.sleep_until(2)
        assert snapshot(sup) == [("a", "restarting", 0)]
        assert sup.count_children() == ChildCounts(specs=1, active=0, supervisors=0, workers=1)
        await trio.sleep_until(3)
        await trio.testing.wait_all_tasks_blocked()
        assert snapshot(sup) == [("a", "running", 1)]
        await sup.shutdown()
    assert crew.starts("a") == [0.0, 3.0]


async def test_terminate_child_during_its_backoff_cancels_the_restart(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """terminate_child of a child waiting for its backoff leaves it stopped for good;
    restart_child refuses it while it is restarting."""
    crew = Crew(crashes={"a": [1]})
    backoff = Backoff(initial=2.0, jitter=0)
    async with open_supervisor([crew.spec("a"), crew.spec("b")], backoff=backoff) as sup:
        await trio.sleep_until(2)
        with pytest.raises(
            ChildRunningError, match=r"^child 'root/a' is restarting; terminate_child\(\) it first$"
        ):
            await sup.restart_child("a")
        await sup.terminate_child("a")
        await trio.sleep_until(10)
        assert snapshot(sup) == [("a", "stopped", 0), ("b", "running", 0)]
        await sup.shutdown()
    assert crew.starts("a") == [0.0]


async def test_one_for_one_backoff_of_one_child_does_not_delay_another(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Under one_for_one each child waits out its own backoff: a crash during another
    child's backoff is restarted on its own schedule."""
    crew = Crew(crashes={"a": [1], "b": [1.5]})
    backoff = Backoff(initial=2.0, factor=1.0, jitter=0)
    async with open_supervisor([crew.spec("a"), crew.spec("b")], backoff=backoff) as sup:
        await trio.sleep_until(10)
        await sup.shutdown()
    assert crew.starts("a") == [0.0, 3.0]
    assert crew.starts("b") == [0.0, 3.5]


# -------------------------------------------------------------- auto_shutdown


async def test_any_significant_shuts_down_when_a_significant_child_ends(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """auto_shutdown='any_significant': a significant transient child returning normally
    stops the others in reverse order and closes the supervisor."""
    crew = Crew(stop_delay=0.5)

    async def finishes(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        await trio.sleep(2)

    specs = [
        crew.spec("a"),
        ChildSpec("job", finishes, restart="transient", significant=True),
        crew.spec("c"),
    ]
    async with open_supervisor(specs, auto_shutdown="any_significant") as sup:
        await sup.wait()
        assert trio.current_time() == 3.0
    assert crew.log[2:] == [(2.5, "stop", "c"), (3.0, "stop", "a")]
    assert snapshot(sup) == [("a", "stopped", 0), ("job", "stopped", 0), ("c", "stopped", 0)]
    assert sup.closed


async def test_significant_transient_child_that_crashes_is_restarted_not_shut_down(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A significant transient child that raises is restarted; auto_shutdown does not fire."""
    crew = Crew(crashes={"job": [1]})
    async with open_supervisor(
        [crew.spec("job", restart="transient", significant=True)], auto_shutdown="any_significant"
    ) as sup:
        await trio.sleep_until(5)
        assert not sup.closed
        assert snapshot(sup) == [("job", "running", 1)]
        await sup.shutdown()


async def test_significant_temporary_child_that_crashes_triggers_auto_shutdown(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A significant temporary child ends the supervisor however it exits."""
    crew = Crew(crashes={"job": [1]})
    async with open_supervisor(
        [crew.spec("keep"), crew.spec("job", restart="temporary", significant=True)],
        auto_shutdown="any_significant",
    ) as sup:
        await sup.wait()
    assert trio.current_time() == 1.0
    assert snapshot(sup) == [("keep", "stopped", 0)]


async def test_all_significant_waits_for_the_last_significant_child(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """auto_shutdown='all_significant' shuts down only when the last significant child
    has ended."""
    crew = Crew()

    async def ends_at(t: float) -> None:
        await trio.sleep_until(t)

    specs = [
        crew.spec("a"),
        ChildSpec("s1", ends_at, args=(2,), restart="transient", significant=True),
        ChildSpec("s2", ends_at, args=(3,), restart="temporary", significant=True),
    ]
    async with open_supervisor(specs, auto_shutdown="all_significant") as sup:
        await trio.sleep_until(2.5)
        assert not sup.closed
        await sup.wait()
        assert trio.current_time() == 3.0
    assert crew.log == [(0.0, "start", "a"), (3.0, "stop", "a")]


async def test_auto_shutdown_never_keeps_running_when_a_transient_child_ends(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """With auto_shutdown='never' (the default) a child's end never closes the supervisor."""
    crew = Crew()

    async def ends() -> None:
        await trio.sleep(1)

    async with open_supervisor([crew.spec("a"), ChildSpec("t", ends, restart="transient")]) as sup:
        assert sup.auto_shutdown == "never"
        await trio.sleep(5)
        assert not sup.closed
        assert snapshot(sup) == [("a", "running", 0), ("t", "stopped", 0)]
        await sup.shutdown()


async def test_significant_child_needs_an_auto_shutdown_supervisor(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A significant child is rejected by a supervisor with auto_shutdown='never', at entry
    and in start_child."""
    spec = ChildSpec("s", idle, restart="transient", significant=True)
    message = (
        "child 's': significant=True needs the supervisor's auto_shutdown to be "
        "'any_significant' or 'all_significant', not 'never'"
    )
    with pytest.raises(InvalidChildSpecError, match=f"^{re.escape(message)}$"):
        async with open_supervisor([spec]):
            pytest.fail("the body must not run")  # pragma: no cover
    async with open_supervisor() as sup:
        with pytest.raises(InvalidChildSpecError, match=f"^{re.escape(message)}$"):
            await sup.start_child(spec)
        assert sup.which_children() == []


async def test_significant_permanent_child_is_invalid(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """significant=True with restart='permanent' is rejected where the spec is written."""
    message = (
        "child 's': significant=True is not valid with restart='permanent'; "
        "use restart='transient' or 'temporary'"
    )
    with pytest.raises(InvalidChildSpecError, match=f"^{re.escape(message)}$"):
        ChildSpec("s", idle, significant=True)


# ---------------------------------------------------------------- runtime API


async def test_terminate_child_keeps_the_spec_stopped_and_restart_child_starts_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """terminate_child stops a child within its grace and keeps its spec as 'stopped'
    (no restart); restart_child starts it again and returns its start value."""
    crew = Crew(stop_delay=1)
    async with open_supervisor([crew.spec("a"), crew.spec("b")]) as sup:
        await sup.terminate_child("a")
        assert trio.current_time() == 1.0
        await trio.sleep(5)
        assert snapshot(sup) == [("a", "stopped", 0), ("b", "running", 0)]
        assert await sup.restart_child("a") == "a"
        assert snapshot(sup) == [("a", "running", 0), ("b", "running", 0)]
        await sup.shutdown()
    assert crew.starts("a") == [0.0, 6.0]


async def test_terminate_child_removes_a_temporary_spec(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """terminate_child deletes a temporary child's spec."""
    crew = Crew()
    async with open_supervisor([crew.spec("t", restart="temporary"), crew.spec("k")]) as sup:
        await sup.terminate_child("t")
        assert [c.id for c in sup.which_children()] == ["k"]
        with pytest.raises(ChildNotFoundError):
            await sup.restart_child("t")
        await sup.shutdown()


async def test_restart_and_delete_child_refuse_a_running_child(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """restart_child and delete_child raise ChildRunningError for a running child."""
    async with open_supervisor([ChildSpec("a", idle, shutdown=0)]) as sup:
        message = "^child 'root/a' is running; terminate_child\\(\\) it first$"
        with pytest.raises(ChildRunningError, match=message):
            await sup.restart_child("a")
        with pytest.raises(ChildRunningError, match=message):
            await sup.delete_child("a")
        assert snapshot(sup) == [("a", "running", 0)]
        await sup.shutdown()


async def test_delete_child_forgets_a_stopped_spec(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """delete_child removes a stopped child's spec for good."""
    async with open_supervisor([ChildSpec("a", idle, shutdown=0)]) as sup:
        await sup.terminate_child("a")
        await sup.delete_child("a")
        assert sup.which_children() == []
        with pytest.raises(ChildNotFoundError):
            await sup.restart_child("a")


async def test_which_children_reports_every_field(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """which_children lists ChildInfo snapshots in start order, with kind, status, restart
    type, restart count, supervisor path and start value."""
    crew = Crew(crashes={"w": [1]})
    async with open_supervisor(
        [crew.spec("w", restart="transient"), supervisor_spec("sub", [crew.spec("x")])]
    ) as sup:
        await trio.sleep(2)
        w, sub = sup.which_children()
        assert w == ChildInfo(
            id="w",
            path="root/w",
            kind="worker",
            status="running",
            restart="transient",
            restarts=1,
            supervisor="root",
        )
        assert w.value == "w"
        assert sub == ChildInfo(
            id="sub",
            path="root/sub",
            kind="supervisor",
            status="running",
            restart="permanent",
            restarts=0,
            supervisor="root",
        )
        assert isinstance(sub.value, jido_trio.Supervisor)
        assert sub.value.path == "root/sub"
        await sup.shutdown()


async def test_count_children_counts_specs_active_supervisors_and_workers(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """count_children counts every spec, the active ones, and supervisors vs workers."""
    crew = Crew()
    async with open_supervisor(
        [crew.spec("a"), crew.spec("b"), supervisor_spec("sub", [crew.spec("x")])]
    ) as sup:
        await sup.terminate_child("b")
        assert sup.count_children() == ChildCounts(specs=3, active=2, supervisors=1, workers=2)
        await sup.shutdown()
        assert sup.count_children() == ChildCounts(specs=3, active=0, supervisors=1, workers=2)


async def test_max_children_limits_the_specs_held(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Past max_children, start_child raises TooManyChildrenError and starts nothing."""
    async with open_supervisor([ChildSpec("a", idle, shutdown=0)], max_children=1) as sup:
        message = (
            "supervisor 'root' already holds max_children=1 child specs; cannot start 'b' "
            "(delete stopped children or raise max_children)"
        )
        with pytest.raises(TooManyChildrenError, match=f"^{re.escape(message)}$"):
            await sup.start_child(ChildSpec("b", idle))
        assert [c.id for c in sup.which_children()] == ["a"]
        await sup.shutdown()


async def test_duplicate_child_ids_are_rejected(autojump_clock: trio.testing.MockClock) -> None:
    """A duplicate id raises DuplicateChildError, in children= and in start_child."""
    with pytest.raises(DuplicateChildError, match=r"^children\[1\]: duplicate child id 'a'$"):
        async with open_supervisor([ChildSpec("a", idle), ChildSpec("a", idle)]):
            pytest.fail("the body must not run")  # pragma: no cover
    async with open_supervisor([ChildSpec("a", idle, shutdown=0)]) as sup:
        message = (
            "supervisor 'root' already has a child with id='a'; ids must be unique among siblings"
        )
        with pytest.raises(DuplicateChildError, match=f"^{re.escape(message)}$"):
            await sup.start_child(ChildSpec("a", idle))
        assert snapshot(sup) == [("a", "running", 0)]
        await sup.shutdown()


async def test_starting_operations_after_shutdown_raise_supervisor_closed(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """After shutdown, start_child and restart_child raise SupervisorClosedError."""
    async with open_supervisor([ChildSpec("a", idle, shutdown=0)]) as sup:
        await sup.shutdown()
        with pytest.raises(
            SupervisorClosedError,
            match=r"^supervisor 'root' is shut down or shutting down; cannot start child 'b'$",
        ):
            await sup.start_child(ChildSpec("b", idle))
        with pytest.raises(
            SupervisorClosedError,
            match=r"^supervisor 'root' is shut down or shutting down; cannot restart child 'a'$",
        ):
            await sup.restart_child("a")
    with pytest.raises(SupervisorClosedError):
        await sup.start_child(ChildSpec("c", idle))
    assert snapshot(sup) == [("a", "stopped", 0)]


async def test_unknown_child_id_lists_the_known_ones(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Every runtime operation on an unknown id raises ChildNotFoundError naming the id and
    listing the supervisor's children."""
    async with open_supervisor([ChildSpec("a", idle, shutdown=0), ChildSpec("b", idle)]) as sup:
        message = "^supervisor 'root' has no child 'zz'; its children: 'a', 'b'$"
        with pytest.raises(ChildNotFoundError, match=message):
            await sup.terminate_child("zz")
        with pytest.raises(ChildNotFoundError, match=message):
            await sup.restart_child("zz")
        with pytest.raises(ChildNotFoundError, match=message):
            await sup.delete_child("zz")
        with pytest.raises(ChildNotFoundError, match=message):
            sup.kill_child("zz")
        await sup.terminate_child("b")
        await sup.shutdown()


# -------------------------------------------------------------- invalid input


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: ChildSpec("a", idle, restart="forever"),  # type: ignore[arg-type]
            "restart='forever' is not valid; expected 'permanent', 'transient' or 'temporary'",
        ),
        (
            lambda: ChildSpec("a", idle, shutdown=-1),
            "shutdown=-1 is not valid; expected a number >= 0 or None",
        ),
        (
            lambda: ChildSpec("a", idle, shutdown=True),
            "shutdown=True is not valid; expected a number >= 0 or None",
        ),
        (
            lambda: ChildSpec("a", 42),  # type: ignore[arg-type]
            "start=42 is not valid; expected an async function "
            "(called as start(*args) or start(*args, task_status=...))",
        ),
        (
            lambda: ChildSpec("a", print),  # type: ignore[arg-type]
            "start=<built-in function print> is not valid; expected an async function "
            "(called as start(*args) or start(*args, task_status=...))",
        ),
        (
            lambda: ChildSpec("", idle),
            "id='' is not valid; expected a non-empty string without '/'",
        ),
        (
            lambda: ChildSpec("a/b", idle),
            "id='a/b' is not valid; expected a non-empty string without '/'",
        ),
        (
            lambda: ChildSpec("a", idle, significant=1),  # type: ignore[arg-type]
            "significant=1 is not valid; expected True or False",
        ),
        (
            lambda: ChildSpec("a", idle, args="xy"),
            "args='xy' is not valid; expected a tuple of arguments",
        ),
        (
            lambda: Backoff(initial=-0.5),
            "backoff.initial=-0.5 is not valid; expected a number >= 0",
        ),
        (
            lambda: Backoff(maximum=True),
            "backoff.maximum=True is not valid; expected a number >= 0",
        ),
        (lambda: Backoff(factor=0.5), "backoff.factor=0.5 is not valid; expected a number >= 1"),
        (
            lambda: Backoff(jitter=1.5),
            "backoff.jitter=1.5 is not valid; expected a number in [0, 1]",
        ),
        (
            lambda: supervisor_spec("s", strategy="one_for_none"),
            "supervisor_spec('s'): strategy='one_for_none' is not valid; "
            "expected 'one_for_one', 'one_for_all' or 'rest_for_one'",
        ),
        (
            lambda: supervisor_spec("s", max_restarts=-1),
            "supervisor_spec('s'): max_restarts=-1 is not valid; expected an int >= 0",
        ),
        (
            lambda: supervisor_spec("s", colour="red"),
            "supervisor_spec('s'): unknown option(s) ['colour']; expected some of "
            "['auto_shutdown', 'backoff', 'max_children', 'max_restarts', 'max_seconds', "
            "'rng', 'strategy']",
        ),
    ],
    ids=[
        "restart",
        "shutdown-negative",
        "shutdown-bool",
        "start",
        "start-sync",
        "id-empty",
        "id-slash",
        "significant",
        "args",
        "backoff-initial",
        "backoff-maximum-bool",
        "backoff-factor",
        "backoff-jitter",
        "spec-strategy",
        "spec-max-restarts",
        "spec-unknown-option",
    ],
)
async def test_invalid_spec_names_field_value_and_accepted_values(
    autojump_clock: trio.testing.MockClock, make: Any, message: str
) -> None:
    """A bad child spec or backoff raises InvalidChildSpecError naming the field, the value
    and what is accepted."""
    with pytest.raises(InvalidChildSpecError, match=f"^{re.escape(message)}$"):
        make()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"strategy": "one_for_none"},
            "strategy='one_for_none' is not valid; "
            "expected 'one_for_one', 'one_for_all' or 'rest_for_one'",
        ),
        (
            {"auto_shutdown": "sometimes"},
            "auto_shutdown='sometimes' is not valid; "
            "expected 'never', 'any_significant' or 'all_significant'",
        ),
        ({"max_restarts": -1}, "max_restarts=-1 is not valid; expected an int >= 0"),
        ({"max_restarts": True}, "max_restarts=True is not valid; expected an int >= 0"),
        ({"max_restarts": 1.5}, "max_restarts=1.5 is not valid; expected an int >= 0"),
        ({"max_seconds": 0}, "max_seconds=0 is not valid; expected a number > 0"),
        ({"max_seconds": False}, "max_seconds=False is not valid; expected a number > 0"),
        (
            {"max_seconds": 10**400},
            "max_seconds=100000000000000000...0000000000000000000 is not valid: "
            "too large for a float; expected a number > 0",
        ),
        (
            {"max_children": -1},
            "max_children=-1 is not valid; expected an int >= 0 or None",
        ),
        (
            {"backoff": "fast"},
            "backoff='fast' is not valid; expected a Backoff (e.g. Backoff(initial=0.1)) or None",
        ),
        ({"name": ""}, "name='' is not valid; expected a non-empty string"),
    ],
    ids=[
        "strategy",
        "auto_shutdown",
        "max_restarts-negative",
        "max_restarts-bool",
        "max_restarts-float",
        "max_seconds-zero",
        "max_seconds-bool",
        "max_seconds-huge-int",
        "max_children",
        "backoff",
        "name",
    ],
)
async def test_invalid_supervisor_option_names_field_value_and_accepted_values(
    autojump_clock: trio.testing.MockClock, options: dict[str, Any], message: str
) -> None:
    """A bad open_supervisor option raises InvalidChildSpecError before any child starts."""
    crew = Crew()
    with pytest.raises(InvalidChildSpecError, match=f"^{re.escape(message)}$"):
        async with open_supervisor([crew.spec("a")], **options):
            pytest.fail("the body must not run")  # pragma: no cover
    assert crew.log == []


async def test_children_must_be_child_specs(autojump_clock: trio.testing.MockClock) -> None:
    """A non-ChildSpec in children= or start_child is rejected with its position."""
    with pytest.raises(
        InvalidChildSpecError, match=r"^children\[1\]='worker' is not valid; expected a ChildSpec$"
    ):
        async with open_supervisor([ChildSpec("a", idle), "worker"]):  # type: ignore[list-item]
            pytest.fail("the body must not run")  # pragma: no cover
    async with open_supervisor() as sup:
        with pytest.raises(
            InvalidChildSpecError, match=r"^start_child\(\) takes a ChildSpec, got 'worker'$"
        ):
            await sup.start_child("worker")  # type: ignore[arg-type]


async def test_supervisor_spec_takes_its_name_from_its_id(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """supervisor_spec rejects name=: a nested supervisor's path is its parent's plus id."""
    with pytest.raises(
        InvalidChildSpecError, match=r"^supervisor_spec\(\) takes its name from id; drop name=$"
    ):
        supervisor_spec("s", name="other")


async def test_invalid_spec_errors_are_value_errors(autojump_clock: trio.testing.MockClock) -> None:
    """InvalidChildSpecError is a JidoError and a ValueError, so either except clause works."""
    with pytest.raises(ValueError, match=r"^restart='x'") as info:
        ChildSpec("a", idle, restart="x")  # type: ignore[arg-type]
    assert isinstance(info.value, jido_trio.JidoError)


class AsyncCallable:
    async def __call__(self) -> None:
        await trio.sleep_forever()


async def test_async_callables_of_every_shape_are_accepted(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """An async function, a partial of one and an object with an async __call__ are
    all valid starts; a sync function is not (checked above)."""
    import functools

    async def takes(x: int) -> None:
        await trio.sleep_forever()

    specs = [
        ChildSpec("f", idle),
        ChildSpec("p", functools.partial(takes, 1)),
        ChildSpec("o", AsyncCallable()),
    ]
    async with open_supervisor(specs) as sup:
        await trio.testing.wait_all_tasks_blocked()
        assert [c.status for c in sup.which_children()] == ["running"] * 3
        await sup.shutdown()


async def test_backoff_jitter_comes_from_the_run_random_source(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Without rng=, jitter is drawn from jido_trio.run_random(), which
    set_run_random seeds for the whole run."""
    jido_trio.set_run_random(random.Random(7))
    expected = Backoff(initial=1.0, jitter=0.5).delay(1, random.Random(7))
    crew = Crew(crashes={"a": [1]})
    async with open_supervisor([crew.spec("a")], backoff=Backoff(initial=1.0, jitter=0.5)) as sup:
        await trio.sleep(10)
        await sup.shutdown()
    assert crew.starts("a") == [0.0, 1.0 + expected]
    assert expected != 1.0


def test_set_run_random_rejects_a_non_random() -> None:
    """set_run_random takes a random.Random."""

    async def main() -> None:
        with pytest.raises(TypeError, match=r"set_run_random\(\) takes a random.Random, not 7"):
            jido_trio.set_run_random(7)  # type: ignore[arg-type]

    trio.run(main)


class InheritsAsyncCall(AsyncCallable):
    """Its async __call__ comes from the base class."""


async def test_an_inherited_async_call_is_an_async_start(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """An object whose class inherits an async __call__ is a valid start."""
    async with open_supervisor([ChildSpec("o", InheritsAsyncCall())]) as sup:
        await trio.testing.wait_all_tasks_blocked()
        assert [c.status for c in sup.which_children()] == ["running"]
        await sup.shutdown()


async def test_a_cancelled_start_child_cancels_the_starting_child_and_keeps_no_spec(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """If start_child is cancelled while the child is starting, the child is cancelled
    too (it never runs past its start) and its spec is not kept."""
    reached: list[str] = []

    async def slow_start(*, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED) -> None:
        try:
            await trio.sleep(10)
        finally:
            reached.append(f"left at {trio.current_time()}")
        task_status.started("never")  # pragma: no cover

    async with open_supervisor() as sup:
        with trio.move_on_after(2) as scope:
            await sup.start_child(ChildSpec("slow", slow_start))
        assert scope.cancelled_caught
        await trio.testing.wait_all_tasks_blocked()
        assert reached == ["left at 2.0"]
        assert sup.which_children() == []
        assert sup.count_children().active == 0
    assert trio.current_time() == 2.0


async def test_a_start_error_reaches_the_caller_with_the_child_traceback(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """An exception raised before task_status.started() is raised by start_child
    itself, bare, with the child's frames in its traceback; the supervisor lives on."""

    async def refuses(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        await trio.sleep(1)
        raise LookupError("no such upstream")

    async with open_supervisor() as sup:
        with pytest.raises(LookupError, match=r"^no such upstream$") as info:
            await sup.start_child(ChildSpec("r", refuses))
        assert "refuses" in [entry.name for entry in info.traceback]
        assert sup.which_children() == []
        assert await sup.start_child(ChildSpec("ok", idle, shutdown=0)) is None
        await sup.shutdown()
    assert trio.current_time() == 1.0
