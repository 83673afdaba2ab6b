"""Supervisor shutdown: per-child grace, sup.shutdown(), leaving the body,
cancellation from outside, and which exceptions are (never) crashes.

All on virtual time, with exact times."""

from __future__ import annotations

from typing import Any, Literal

import pytest
import trio
import trio.testing

import jido_trio
from jido_trio import ChildSpec, TelemetryEvent, attach_telemetry, current_child, open_supervisor


class Crash(Exception):
    """A child's planned failure."""


class Abort(BaseException):
    """A BaseException that is not an Exception, like KeyboardInterrupt."""


class Witness:
    """Records, per child, when the stop was requested, whether the child was cancelled
    and when its body ended; counts the live child bodies."""

    def __init__(self) -> None:
        self.stop_seen: dict[str, float] = {}
        self.ended: dict[str, tuple[float, str]] = {}
        self.starts: list[tuple[float, str]] = []
        self.live = 0

    def spec(self, name: str, *, linger: float | None = None, **options: Any) -> ChildSpec:
        """A child that, once its stop is requested, exits after ``linger`` seconds
        (never, if ``None``)."""
        return ChildSpec(name, self.run, args=(name, linger), **options)

    async def run(
        self,
        name: str,
        linger: float | None,
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        self.live += 1
        how = "cancelled"
        try:
            self.starts.append((trio.current_time(), name))
            task_status.started()
            me = current_child()
            assert me.id == name
            await me.stop_requested.wait()
            self.stop_seen[name] = trio.current_time()
            if linger is None:
                await trio.sleep_forever()
            await trio.sleep(linger)
            how = "returned"
        finally:
            self.live -= 1
            self.ended[name] = (trio.current_time(), how)


async def test_child_is_cancelled_exactly_when_its_grace_runs_out(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A stop sets current_child().stop_requested; a child that does not finish is cancelled
    exactly `shutdown` seconds later."""
    w = Witness()
    async with open_supervisor([w.spec("slow", shutdown=2.5)]) as sup:
        await trio.sleep(10)
        await sup.terminate_child("slow")
        assert trio.current_time() == 12.5
        await sup.shutdown()
    assert w.stop_seen == {"slow": 10.0}
    assert w.ended == {"slow": (12.5, "cancelled")}


async def test_child_finishing_within_its_grace_is_not_cancelled(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A child that exits within its grace ends on its own; the stop takes just that long."""
    w = Witness()
    async with open_supervisor([w.spec("polite", linger=1.5, shutdown=2.5)]) as sup:
        await trio.sleep(10)
        await sup.terminate_child("polite")
        assert trio.current_time() == 11.5
        await sup.shutdown()
    assert w.ended == {"polite": (11.5, "returned")}


async def test_shutdown_zero_cancels_at_once(autojump_clock: trio.testing.MockClock) -> None:
    """shutdown=0 sets stop_requested and cancels the child at the same instant."""
    w = Witness()
    async with open_supervisor([w.spec("brutal", linger=1, shutdown=0)]) as sup:
        await trio.sleep(10)
        await sup.terminate_child("brutal")
        assert trio.current_time() == 10.0
    assert w.ended == {"brutal": (10.0, "cancelled")}


async def test_shutdown_none_waits_for_ever_for_the_child(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """shutdown=None never cancels: the stop waits until the child exits on its own."""
    w = Witness()
    async with open_supervisor([w.spec("patient", linger=1000, shutdown=None)]) as sup:
        await trio.sleep(10)
        await sup.terminate_child("patient")
        assert trio.current_time() == 1010.0
    assert w.ended == {"patient": (1010.0, "returned")}


async def test_shutdown_stops_children_in_reverse_order_and_ends_the_block(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """sup.shutdown() stops the children one after another in reverse start order, and the
    async with ends as soon as the body does."""
    w = Witness()
    specs = [w.spec("a", linger=1), w.spec("b", linger=2), w.spec("c", linger=3)]
    async with open_supervisor(specs) as sup:
        await trio.sleep(10)
        await sup.shutdown()
        assert trio.current_time() == 16.0
        assert sup.closed
        await sup.shutdown()  # idempotent
        assert trio.current_time() == 16.0
    assert trio.current_time() == 16.0
    assert w.stop_seen == {"c": 10.0, "b": 13.0, "a": 15.0}
    assert w.ended == {"c": (13.0, "returned"), "b": (15.0, "returned"), "a": (16.0, "returned")}
    assert w.live == 0


async def test_leaving_the_body_waits_while_a_permanent_child_runs(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Leaving the body does not stop the children: a permanent child keeps the async with
    open, as a nursery does."""
    w = Witness()
    body_done_at = None
    with trio.move_on_after(100) as scope:
        async with open_supervisor([w.spec("p", linger=1)]):
            body_done_at = trio.current_time()
    assert scope.cancelled_caught
    assert body_done_at == 0.0
    assert trio.current_time() == 100.0
    assert w.stop_seen == {}
    assert w.live == 0


@pytest.mark.parametrize("restart", ["temporary", "transient"])
async def test_leaving_the_body_ends_when_the_last_child_returns(
    autojump_clock: trio.testing.MockClock, restart: Literal["temporary", "transient"]
) -> None:
    """A temporary or transient child that returns normally lets the async with end then."""
    returned: list[float] = []

    async def job() -> None:
        await trio.sleep(3)
        returned.append(trio.current_time())

    async with open_supervisor([ChildSpec("job", job, restart=restart)]) as sup:
        pass
    assert returned == [3.0]
    assert trio.current_time() == 3.0
    assert sup.closed


async def test_leaving_the_body_waits_for_a_pending_restart(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A child that crashed and waits for its backoff keeps the async with open."""
    starts: list[float] = []

    async def flaky() -> None:
        starts.append(trio.current_time())
        if len(starts) == 1:
            await trio.sleep(1)
            raise Crash("first run")
        await trio.sleep(1)

    backoff = jido_trio.Backoff(initial=4, jitter=0)
    async with open_supervisor(
        [ChildSpec("f", flaky, restart="transient")], backoff=backoff
    ) as sup:
        pass
    assert starts == [0.0, 5.0]
    assert trio.current_time() == 6.0
    assert sup.which_children()[0].restarts == 1


async def test_cancelling_the_enclosing_scope_cancels_every_child_without_restarts(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Cancelling the scope around the supervisor cancels every child at once (no grace,
    even shutdown=None), restarts nothing and leaves nothing running."""
    w = Witness()
    seen: list[TelemetryEvent] = []
    specs = [
        w.spec("a", shutdown=None),
        w.spec("b", restart="transient"),
        w.spec("c", restart="temporary"),
    ]
    with attach_telemetry(seen.append, events=["child.exited", "child.restarting"]):
        with trio.move_on_after(7) as scope:
            async with open_supervisor(specs):
                await trio.sleep_forever()
    assert scope.cancelled_caught
    assert trio.current_time() == 7.0
    assert w.live == 0
    assert w.ended == {"a": (7.0, "cancelled"), "b": (7.0, "cancelled"), "c": (7.0, "cancelled")}
    assert w.stop_seen == {}
    assert w.starts == [(0.0, "a"), (0.0, "b"), (0.0, "c")]
    # each child reports its exit (reason "cancelled"), and none is restarted
    assert sorted((e.time, e.name, e.path, e.data["reason"], e.data["restart"]) for e in seen) == [
        (7.0, "child.exited", "root/a", "cancelled", False),
        (7.0, "child.exited", "root/b", "cancelled", False),
        (7.0, "child.exited", "root/c", "cancelled", False),
    ]
    await trio.testing.wait_all_tasks_blocked()
    assert jido_trio.tree() == []


async def test_children_report_stopped_after_the_enclosing_scope_is_cancelled(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """After a cancelled supervisor has exited, which_children and count_children report no
    child as running."""
    w = Witness()
    with trio.move_on_after(7):
        async with open_supervisor([w.spec("a"), w.spec("b")]) as sup:
            await trio.sleep_forever()
    assert w.live == 0
    assert [(c.id, c.status) for c in sup.which_children()] == [("a", "stopped"), ("b", "stopped")]
    assert sup.count_children().active == 0


@pytest.mark.parametrize("kind", [Abort, SystemExit, KeyboardInterrupt])
async def test_base_exception_from_a_child_propagates_and_is_not_a_crash(
    autojump_clock: trio.testing.MockClock, kind: type[BaseException]
) -> None:
    """A child raising a BaseException that is not an Exception (KeyboardInterrupt,
    SystemExit, ...) is never restarted: it propagates bare from the async with."""
    starts: list[float] = []
    w = Witness()

    async def dies() -> None:
        starts.append(trio.current_time())
        await trio.sleep(2)
        raise kind("stop everything")

    with pytest.raises(kind, match=r"^stop everything$"):
        async with open_supervisor([w.spec("other"), ChildSpec("d", dies)]) as sup:
            await trio.sleep_forever()
    assert trio.current_time() == 2.0
    assert starts == [0.0]
    assert sup.restart_history == ()
    assert w.live == 0


async def test_body_exception_propagates_bare_and_cancels_the_children(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """An exception from the body cancels every child and propagates unchanged (not in an
    ExceptionGroup)."""
    w = Witness()
    error = Crash("body failed")

    async def supervise() -> None:
        async with open_supervisor([w.spec("a", shutdown=None), w.spec("b")]):
            await trio.sleep(4)
            raise error

    with pytest.raises(Crash) as info:
        await supervise()
    assert info.value is error
    assert trio.current_time() == 4.0
    assert w.ended == {"a": (4.0, "cancelled"), "b": (4.0, "cancelled")}
    assert w.live == 0


async def test_shutdown_during_a_backoff_cancels_the_pending_restart(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A child waiting for its backoff when shutdown() is called is not started again."""
    starts: list[float] = []

    async def crashes() -> None:
        starts.append(trio.current_time())
        await trio.sleep(1)
        raise Crash("again")

    backoff = jido_trio.Backoff(initial=10, jitter=0)
    async with open_supervisor([ChildSpec("c", crashes)], backoff=backoff) as sup:
        await trio.sleep(2)
        await sup.shutdown()
    await trio.sleep(20)
    assert starts == [0.0]
    assert [(c.id, c.status) for c in sup.which_children()] == [("c", "stopped")]


async def test_a_child_can_shut_its_own_supervisor_down(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A child that calls its supervisor's shutdown() does not abort it when the caller is
    itself stopped: every child is stopped and the supervisor closes, at the latest when
    the caller's own grace runs out."""
    w = Witness()

    async def coordinator(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        await trio.sleep(1)
        await current_child().supervisor.shutdown()

    specs = [w.spec("a", linger=0), ChildSpec("boss", coordinator), w.spec("c", linger=0)]
    with trio.move_on_after(100) as guard:
        async with open_supervisor(specs) as sup:
            await sup.wait()
    assert not guard.cancelled_caught
    assert trio.current_time() <= 6.0
    assert w.ended == {"c": (1.0, "returned"), "a": (trio.current_time(), "returned")}
    assert [(c.id, c.status) for c in sup.which_children()] == [
        ("a", "stopped"),
        ("boss", "stopped"),
        ("c", "stopped"),
    ]


async def test_a_child_exiting_on_its_own_during_shutdown_still_reports_its_exit(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """While shutdown stops a slow sibling, a child that returns on its own still
    gets its child.exited event (not restarted), and the shutdown completes."""
    seen: list[TelemetryEvent] = []

    async def slow_to_stop() -> None:
        with trio.CancelScope(shield=True):
            await trio.sleep(2)  # ignores the stop request for 2 s

    async def leaves_at_one() -> None:
        await trio.sleep(1)

    specs = [ChildSpec("a", leaves_at_one, restart="transient"), ChildSpec("b", slow_to_stop)]
    with attach_telemetry(seen.append, events=["child.exited"]):
        async with open_supervisor(specs) as sup:
            await trio.sleep(0.5)
            await sup.shutdown()
    assert [(e.time, e.path, e.data["reason"], e.data["restart"]) for e in seen] == [
        (1.0, "root/a", "normal", False),
        (2.0, "root/b", "shutdown", False),
    ]


async def test_a_temporary_child_cancelled_from_outside_is_removed(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A temporary child is removed when it exits, including by a cancellation from
    outside its supervisor."""
    with trio.move_on_after(3):
        async with open_supervisor(
            [ChildSpec("t", _idle, restart="temporary"), ChildSpec("p", _idle)]
        ) as sup:
            await trio.sleep_forever()
    assert [(c.id, c.status) for c in sup.which_children()] == [("p", "stopped")]


async def _idle() -> None:
    await trio.sleep_forever()
