"""Interceptors around an AgentServer: on_signal (delay, drop, duplicate, raise,
hang, rewrite), on_cmd, on_deliver and on_child_start, and their scoping.

Every async test runs on virtual time (``autojump_clock``) with exact times.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import pytest
import trio
import trio.testing
from agents_fixtures import (
    Box,
    Message,
    Proceed,
    SendParams,
    add,
    check_identity,
    note,
    tag_of,
)

from jido_trio import (
    ActionResult,
    AgentDef,
    AgentDownError,
    AgentRef,
    AgentStats,
    CallTimeoutError,
    ChildContext,
    CmdOutcome,
    DeadLetter,
    Emit,
    Interceptor,
    Signal,
    TelemetryEvent,
    action,
    agent_spec,
    attach_telemetry,
    dead_letters,
    intercept,
    kill,
    open_supervisor,
    subscribe,
)

Deliver = Callable[[Signal], Awaitable[None]]

# Box, add and note come from agents_fixtures; this file's send answers "sent".


@action("send", params=SendParams)
def send(state: Box, params: SendParams) -> ActionResult[Box]:
    return ActionResult(
        state, result="sent", directives=[Emit("box.note", {"tag": params.tag}, to=params.to)]
    )


BOX: AgentDef[Box] = AgentDef("box", Box, [add, note, send], routes={"box.note": "note"})


class OnTag(Interceptor):
    """Applies ``fault`` to messages whose tag is ``tag``; others pass through."""

    def __init__(self, tag: str, fault: Callable[[Message, Proceed], Awaitable[None]]) -> None:
        self.tag = tag
        self.fault = fault

    async def on_signal(self, agent: AgentRef, message: Message, proceed: Proceed) -> None:
        if tag_of(message) == self.tag:
            await self.fault(message, proceed)
        else:
            await proceed(message)


# ------------------------------------------------------------------ on_signal


async def test_on_signal_delay(autojump_clock: trio.testing.MockClock) -> None:
    """Sleeping before proceed delays the message by exactly that long."""

    async def delay(message: Message, proceed: Proceed) -> None:
        await trio.sleep(2.0)
        await proceed(message)

    with intercept(OnTag("slow", delay)):
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX))
            await trio.sleep(1.0)
            assert await ref.call(note(tag="slow")) == "slow"
            assert trio.current_time() == 3.0
            assert await ref.call(note(tag="fast")) == "fast"
            assert trio.current_time() == 3.0
            assert check_identity(ref) == AgentStats(2, 2, 0, 0, 0)
            await sup.shutdown()


async def test_on_signal_drop(autojump_clock: trio.testing.MockClock) -> None:
    """Not calling proceed drops the message (dead letter 'dropped'); a call gets AgentDownError."""

    async def drop(message: Message, proceed: Proceed) -> None:
        await trio.lowlevel.checkpoint()

    with intercept(OnTag("gone", drop)):
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX))
            with pytest.raises(AgentDownError, match=r"never got \(an interceptor dropped it\) "):
                await ref.call(note(tag="gone"))
            ref.cast_nowait(note(tag="gone"))
            await trio.testing.wait_all_tasks_blocked()
            assert [(tag_of(d.message), d.reason, d.time) for d in ref.dead_letters] == [
                ("gone", "dropped", 0.0),
                ("gone", "dropped", 0.0),
            ]
            assert ref.state == Box()
            assert sup.which_children()[0].restarts == 0
            assert check_identity(ref) == AgentStats(2, 0, 2, 0, 0)
            await sup.shutdown()


async def test_on_signal_duplicate(autojump_clock: trio.testing.MockClock) -> None:
    """Calling proceed twice runs the action twice but counts the message once."""

    async def twice(message: Message, proceed: Proceed) -> None:
        await proceed(message)
        await proceed(message)

    with intercept(OnTag("dup", twice)):
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX))
            assert await ref.call(note(tag="dup")) == "dup"
            assert ref.state.log == ("dup", "dup")
            assert ref.agent is not None
            assert ref.agent.version == 2
            assert check_identity(ref) == AgentStats(1, 1, 0, 0, 0)
            await sup.shutdown()


async def test_on_signal_raise_crashes_the_agent(autojump_clock: trio.testing.MockClock) -> None:
    """Raising before proceed crashes the agent; the message is dead-lettered 'crashed'."""

    async def boom(message: Message, proceed: Proceed) -> None:
        raise RuntimeError("injected crash")

    with intercept(OnTag("bad", boom)):
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX))
            ref.cast_nowait(note(tag="ok1"))
            with pytest.raises(
                AgentDownError, match=r"^agent 'root/a' crashed before answering action 'note'$"
            ) as err:
                await ref.call(note(tag="bad"))
            cause = err.value.__cause__
            assert isinstance(cause, RuntimeError)
            assert str(cause) == "injected crash"
            await trio.testing.wait_all_tasks_blocked()
            assert sup.which_children()[0].restarts == 1
            (letter,) = ref.dead_letters
            assert (tag_of(letter.message), letter.reason, letter.error) == (
                "bad",
                "crashed",
                cause,
            )
            assert await ref.call(note(tag="ok2")) == "ok2"
            assert ref.state.log == ("ok1", "ok2")
            assert check_identity(ref) == AgentStats(3, 2, 1, 0, 0)
            await sup.shutdown()


async def test_on_signal_raise_after_proceed(autojump_clock: trio.testing.MockClock) -> None:
    """Raising after proceed crashes the agent, but the message was already processed."""

    async def late_boom(message: Message, proceed: Proceed) -> None:
        await proceed(message)
        raise RuntimeError("after")

    with intercept(OnTag("done", late_boom)):
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX))
            assert await ref.call(note(tag="done")) == "done"
            await trio.testing.wait_all_tasks_blocked()
            assert sup.which_children()[0].restarts == 1
            assert ref.state.log == ("done",)
            assert ref.dead_letters == ()
            assert check_identity(ref) == AgentStats(1, 1, 0, 0, 0)
            await sup.shutdown()


async def test_on_signal_hang_until_killed(autojump_clock: trio.testing.MockClock) -> None:
    """A hung message blocks the agent (the call times out) until a kill crashes it."""

    async def hang(message: Message, proceed: Proceed) -> None:
        await trio.sleep_forever()

    with intercept(OnTag("stuck", hang)):
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX))
            with pytest.raises(CallTimeoutError, match=r"no reply within 5s"):
                await ref.call(note(tag="stuck"), timeout=5.0)
            assert trio.current_time() == 5.0
            ref.cast_nowait(note(tag="behind"))
            await trio.sleep(2.0)
            assert check_identity(ref) == AgentStats(2, 0, 0, 1, 1)
            kill("root/a")
            await trio.testing.wait_all_tasks_blocked()
            assert [(tag_of(d.message), d.reason, d.time) for d in ref.dead_letters] == [
                ("stuck", "crashed", 7.0)
            ]
            assert ref.state.log == ("behind",)
            assert check_identity(ref) == AgentStats(2, 1, 1, 0, 0)
            await sup.shutdown()


async def test_on_signal_rewrite(autojump_clock: trio.testing.MockClock) -> None:
    """proceed(other) handles the rewritten message in place of the original."""

    async def rewrite(message: Message, proceed: Proceed) -> None:
        await proceed(Signal("box.note", {"tag": "rewritten"}))

    with intercept(OnTag("orig", rewrite)):
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX))
            assert await ref.call(note(tag="orig")) == "rewritten"
            assert ref.state.log == ("rewritten",)
            assert check_identity(ref) == AgentStats(1, 1, 0, 0, 0)
            await sup.shutdown()


# ------------------------------------------------------------------ on_cmd


class Inflate(Interceptor):
    """Adds 100 to every committed ``n``."""

    def on_cmd(self, agent: AgentRef, outcome: CmdOutcome[Any]) -> CmdOutcome[Any]:
        if outcome.error is not None:
            return outcome
        state = outcome.agent.state
        return attrs.evolve(
            outcome, agent=attrs.evolve(outcome.agent, state=attrs.evolve(state, n=state.n + 100))
        )


async def test_on_cmd_rewrites_the_committed_state(autojump_clock: trio.testing.MockClock) -> None:
    """on_cmd's outcome is what gets committed, and what a restart resumes from."""
    with intercept(Inflate()):
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX))
            assert await ref.call(add(amount=1)) == 1  # the action's own result
            assert ref.state == Box(n=101)
            kill("root/a")
            await trio.testing.wait_all_tasks_blocked()
            assert sup.which_children()[0].restarts == 1
            assert ref.state == Box(n=101)
            await sup.shutdown()


# ------------------------------------------------------------------ on_deliver


class DeliverFault(Interceptor):
    def __init__(self, fault: Callable[[str | None, Signal, Deliver], Awaitable[None]]) -> None:
        self.fault = fault
        self.seen: list[tuple[str, str | None, Signal]] = []

    async def on_deliver(
        self, source: AgentRef, target: str | None, signal: Signal, proceed: Deliver
    ) -> None:
        self.seen.append((source.path, target, signal))
        await self.fault(target, signal, proceed)


async def test_on_deliver_drop(autojump_clock: trio.testing.MockClock) -> None:
    """An Emit not passed on is dead-lettered 'dropped' under its target (or '<bus>')."""

    async def drop(target: str | None, signal: Signal, proceed: Deliver) -> None:
        await trio.lowlevel.checkpoint()

    fault = DeliverFault(drop)
    with intercept(fault):
        async with open_supervisor() as sup:
            a = await sup.start_child(agent_spec("a", BOX))
            b = await sup.start_child(agent_spec("b", BOX))
            with subscribe() as sub:
                await trio.sleep(1.0)
                assert await a.call(send(tag="x", to="b")) == "sent"
                assert await a.call(send(tag="y")) == "sent"
                await trio.testing.wait_all_tasks_blocked()
                with pytest.raises(trio.WouldBlock):
                    sub.receive_nowait()
            x = Signal("box.note", {"tag": "x"}, source="root/a", id="root/a#1", time=1.0)
            y = Signal("box.note", {"tag": "y"}, source="root/a", id="root/a#2", time=1.0)
            assert fault.seen == [("root/a", "b", x), ("root/a", None, y)]
            assert dead_letters() == [
                DeadLetter(x, "dropped", "b", 1.0),
                DeadLetter(y, "dropped", "<bus>", 1.0),
            ]
            assert b.state == Box()
            assert check_identity(b) == AgentStats(0, 0, 0, 0, 0)
            assert check_identity(a) == AgentStats(2, 2, 0, 0, 0)
            await sup.shutdown()


async def test_on_deliver_rewrite(autojump_clock: trio.testing.MockClock) -> None:
    """proceed(other) delivers the rewritten signal instead."""

    async def rewrite(target: str | None, signal: Signal, proceed: Deliver) -> None:
        await proceed(attrs.evolve(signal, data={"tag": "changed"}))

    with intercept(DeliverFault(rewrite)):
        async with open_supervisor() as sup:
            a = await sup.start_child(agent_spec("a", BOX))
            b = await sup.start_child(agent_spec("b", BOX))
            await a.call(send(tag="orig", to="b"))
            await trio.testing.wait_all_tasks_blocked()
            assert b.state.log == ("changed",)
            assert dead_letters() == []
            await sup.shutdown()


async def test_on_deliver_delay(autojump_clock: trio.testing.MockClock) -> None:
    """A delayed Emit arrives exactly that much later; the sender's handling takes as long."""
    handled: list[TelemetryEvent] = []

    async def delay(target: str | None, signal: Signal, proceed: Deliver) -> None:
        await trio.sleep(3.0)
        await proceed(signal)

    with (
        attach_telemetry(handled.append, events=["agent.signal.handled"]),
        intercept(DeliverFault(delay)),
    ):
        async with open_supervisor() as sup:
            a = await sup.start_child(agent_spec("a", BOX))
            b = await sup.start_child(agent_spec("b", BOX))
            await trio.sleep(1.0)
            await a.call(send(tag="slow", to="b"))
            assert trio.current_time() == 4.0
            await trio.testing.wait_all_tasks_blocked()
            assert b.state.log == ("slow",)
            assert [(e.path, e.time, e.data["duration"]) for e in handled] == [
                ("root/a", 4.0, 3.0),
                ("root/b", 4.0, 0.0),
            ]
            await sup.shutdown()


# ------------------------------------------------------------------ on_child_start


class StartFault(Interceptor):
    def __init__(self, path: str, *, before: bool) -> None:
        self.path = path
        self.before = before

    async def on_child_start(
        self, child: ChildContext, proceed: Callable[[], Awaitable[None]]
    ) -> None:
        if child.path != self.path or child.restarts > 0:
            await proceed()
        elif self.before:
            raise RuntimeError(f"refused to start {child.path}")
        else:
            with trio.move_on_after(1.0):
                await proceed()
            raise RuntimeError(f"crashed after start {child.path}")


async def test_on_child_start_can_fail_the_start(autojump_clock: trio.testing.MockClock) -> None:
    """Raising before proceed makes start_child raise that error; nothing is kept."""
    with intercept(StartFault("root/a", before=True)):
        async with open_supervisor() as sup:
            with pytest.raises(RuntimeError, match=r"^refused to start root/a$"):
                await sup.start_child(agent_spec("a", BOX))
            assert sup.which_children() == []
            b = await sup.start_child(agent_spec("b", BOX))
            assert await b.call(note(tag="fine")) == "fine"
            await sup.shutdown()


async def test_on_child_start_can_crash_after_start(autojump_clock: trio.testing.MockClock) -> None:
    """Raising after the agent started is a crash at that time: it is restarted, state kept."""
    with intercept(StartFault("root/a", before=False)):
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX))
            await ref.call(note(tag="first"))
            await trio.sleep_until(1.5)
            assert sup.restart_history == (1.0,)
            ref.cast_nowait(note(tag="second"))
            await trio.testing.wait_all_tasks_blocked()
            assert sup.which_children()[0].restarts == 1
            assert ref.state.log == ("first", "second")
            assert check_identity(ref) == AgentStats(2, 2, 0, 0, 0)
            await sup.shutdown()


# ------------------------------------------------------------------ scoping


class Counting(Interceptor):
    def __init__(self) -> None:
        self.count = 0

    async def on_signal(self, agent: AgentRef, message: Message, proceed: Proceed) -> None:
        self.count += 1
        await proceed(message)


async def run_one(counting: Counting | None) -> Box:
    async def body() -> Box:
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX))
            await ref.call(note(tag="x"))
            await sup.shutdown()
        state: Box = ref.state
        return state

    if counting is None:
        return await body()
    with intercept(counting):
        return await body()


def test_interceptors_are_scoped_to_the_trio_run() -> None:
    """An interceptor installed in one trio.run is not active in another."""
    counting = Counting()
    clock = trio.testing.MockClock(autojump_threshold=0)
    assert trio.run(run_one, counting, clock=clock) == Box(log=("x",))
    assert counting.count == 1
    assert trio.run(run_one, None, clock=trio.testing.MockClock(autojump_threshold=0)) == Box(
        log=("x",)
    )
    assert counting.count == 1


async def test_interceptors_apply_to_tasks_started_inside_the_block(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A supervisor opened before intercept() does not see it; one opened inside does."""
    counting = Counting()
    async with open_supervisor() as outside:
        a = await outside.start_child(agent_spec("a", BOX))
        with intercept(counting):
            async with open_supervisor() as inside:
                b = await inside.start_child(agent_spec("b", BOX))
                await a.call(note(tag="a"))
                await b.call(note(tag="b"))
                assert counting.count == 1
                await inside.shutdown()
        await outside.shutdown()


async def test_interceptors_run_outermost_first(autojump_clock: trio.testing.MockClock) -> None:
    """The first installed interceptor is outermost; nested intercept() appends inside."""
    order: list[str] = []

    class Tagged(Interceptor):
        def __init__(self, name: str) -> None:
            self.name = name

        async def on_signal(self, agent: AgentRef, message: Message, proceed: Proceed) -> None:
            order.append(f"{self.name}>")
            await proceed(message)
            order.append(f"<{self.name}")

    with intercept(Tagged("one"), Tagged("two")), intercept(Tagged("three")):
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX))
            await ref.call(note(tag="x"))
            await sup.shutdown()
    assert order == ["one>", "two>", "three>", "<three", "<two", "<one"]


def test_intercept_rejects_non_interceptors() -> None:
    """intercept() takes Interceptor instances only."""
    with (
        pytest.raises(
            TypeError,
            match=r"^intercept\(\) takes Interceptor instances, not 1; subclass jido_trio",
        ),
        intercept(1),  # type: ignore[arg-type]
    ):
        pass
