"""AgentServer: supervised agents, call/cast, mailboxes, restarts, dead letters,
schedules, directives, cooperative stop and telemetry.

Every test runs on virtual time (``autojump_clock``) and pins exact virtual
times; ``wait_all_tasks_blocked()`` marks quiescent points. Faults are injected
only through public seams: ``jido_trio.kill``, interceptors and checkpoint stores.
"""

from __future__ import annotations

import math
import re
from typing import Any

import attrs
import pytest
import trio
import trio.testing
from agents_fixtures import (
    Box,
    Hold,
    Message,
    Proceed,
    SendParams,
    add,
    check_identity,
    note,
    tag_of,
)

from jido_trio import (
    Action,
    ActionError,
    ActionResult,
    AgentDef,
    AgentDownError,
    AgentRef,
    AgentStats,
    AgentStopError,
    CallTimeoutError,
    ChildKilled,
    ChildNotFoundError,
    ChildSpec,
    DeadLetter,
    Emit,
    Every,
    Interceptor,
    InvalidChildSpecError,
    InvalidParamsError,
    MailboxFullError,
    MemoryStore,
    NoParams,
    Schedule,
    Signal,
    SpawnAgent,
    Stop,
    StopChild,
    TelemetryEvent,
    UnroutableSignalError,
    action,
    agent_spec,
    attach_telemetry,
    dead_letters,
    intercept,
    kill,
    open_supervisor,
    spec_ref,
    subscribe,
    tree,
    whereis,
)
from jido_trio import Agent as AgentValue

# ------------------------------------------------------------------ the agent
# Box, add, note and SendParams come from agents_fixtures; the rest is this file's.


@attrs.frozen
class LaterParams:
    delay: float
    tag: str


@attrs.frozen
class ChildParams:
    id: str


@attrs.frozen
class StopParams:
    reason: str = "normal"


@action("fail")
def fail(state: Box, params: NoParams) -> Box:
    raise ValueError("nope")


@action("later", params=LaterParams)
def later(state: Box, params: LaterParams) -> ActionResult[Box]:
    return ActionResult(state, directives=[Schedule(params.delay, "box.note", {"tag": params.tag})])


@action("send", params=SendParams)
def send(state: Box, params: SendParams) -> ActionResult[Box]:
    return ActionResult(state, directives=[Emit("box.note", {"tag": params.tag}, to=params.to)])


@action("spawn", params=ChildParams)
def spawn(state: Box, params: ChildParams) -> ActionResult[Box]:
    return ActionResult(state, result=params.id, directives=[SpawnAgent(BOX, params.id)])


@action("stop_child", params=ChildParams)
def stop_child(state: Box, params: ChildParams) -> ActionResult[Box]:
    return ActionResult(state, result="stopping", directives=[StopChild(params.id)])


@action("stop", params=StopParams)
def stop(state: Box, params: StopParams) -> ActionResult[Box]:
    return ActionResult(state, result="bye", directives=[Stop(params.reason)])


ACTIONS: list[Action[Box, Any]] = [add, note, fail, later, send, spawn, stop_child, stop]
ROUTES = {"box.note": "note", "box.add": "add", "box.fail": "fail"}
BOX: AgentDef[Box] = AgentDef("box", Box, ACTIONS, routes=ROUTES)
BEAT: AgentDef[Box] = AgentDef(
    "beat", Box, ACTIONS, routes=ROUTES, schedules=[Every(10.0, "box.note", {"tag": "beat"})]
)

# ------------------------------------------------------------------ helpers


class Recorder(Interceptor):
    """Records ``(time, agent path, message)`` as each message reaches ``cmd``,
    and ``(time, path, "end:" + tag)`` when it is done."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, str, Message]] = []
        self.events: list[tuple[float, str]] = []

    async def on_signal(self, agent: AgentRef, message: Message, proceed: Proceed) -> None:
        self.seen.append((trio.current_time(), agent.path, message))
        self.events.append((trio.current_time(), "start:" + tag_of(message)))
        await proceed(message)
        self.events.append((trio.current_time(), "end:" + tag_of(message)))

    def tags(self, path: str = "root/a") -> list[tuple[float, str]]:
        return [(t, tag_of(m)) for t, p, m in self.seen if p == path]


async def kill_at(when: float, path: str) -> None:
    await trio.sleep_until(when)
    kill(path)


def letters(ref: AgentRef) -> list[tuple[str, str, float]]:
    return [(tag_of(d.message), d.reason, d.time) for d in ref.dead_letters]


# ------------------------------------------------------------------ supervision


async def test_agent_spec_is_a_child_whose_start_value_is_the_ref(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """agent_spec is a ChildSpec; spec_ref gives the ref before start; start_child returns it."""
    spec = agent_spec("a", BOX)
    ref = spec_ref(spec)
    assert isinstance(spec, ChildSpec)
    assert isinstance(ref, AgentRef)
    assert (ref.path, ref.state, ref.agent, ref.alive) == ("a", None, None, True)
    ref.cast_nowait(note(tag="early"))  # the ref is usable before the agent starts
    assert ref.queue_length == 1
    async with open_supervisor([spec]) as sup:
        assert ref.path == "root/a"
        assert sup.which_children()[0].value is ref
        assert whereis("a") is ref
        other = await sup.start_child(agent_spec("b", BOX, name="bee"))
        assert isinstance(other, AgentRef)
        assert other.path == "root/b"
        assert whereis("bee") is other
        assert await ref.call(note(tag="x")) == "x"
        assert ref.state == Box(log=("early", "x"))
        assert isinstance(ref.agent, AgentValue)
        assert ref.agent.version == 2
        await sup.shutdown()
    assert trio.current_time() == 0.0
    assert whereis("a") is None


def test_spec_ref_rejects_a_spec_not_made_by_agent_spec() -> None:
    """spec_ref of a plain ChildSpec raises InvalidChildSpecError."""

    async def worker() -> None:
        pass

    spec = ChildSpec("w", worker)
    with pytest.raises(InvalidChildSpecError, match=r"was not made by agent_spec\(\)$"):
        spec_ref(spec)


async def test_one_message_at_a_time_in_arrival_order(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Messages from several senders are handled one at a time, in arrival order."""
    recorder = Recorder()
    with intercept(recorder, Hold(1.0)):
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX))
            results: list[str] = []

            async def caller(tag: str) -> None:
                results.append(await ref.call(note(tag=tag)))

            async with trio.open_nursery() as nursery:
                ref.cast_nowait(note(tag="c1"))
                nursery.start_soon(caller, "k1")
                await trio.testing.wait_all_tasks_blocked()
                await ref.cast(Signal("box.note", {"tag": "c2"}))
                nursery.start_soon(caller, "k2")
                await trio.testing.wait_all_tasks_blocked()
                ref.cast_nowait(note(tag="c3"))
            assert trio.current_time() == 4.0  # k2 answered when it was done
            await trio.testing.wait_all_tasks_blocked()
            assert trio.current_time() == 4.0
            await trio.sleep_until(10.0)
            assert ref.state.log == ("c1", "k1", "c2", "k2", "c3")
            assert results == ["k1", "k2"]
            # never two at once: each start follows the previous end
            assert recorder.events == [
                (0.0, "start:c1"),
                (1.0, "end:c1"),
                (1.0, "start:k1"),
                (2.0, "end:k1"),
                (2.0, "start:c2"),
                (3.0, "end:c2"),
                (3.0, "start:k2"),
                (4.0, "end:k2"),
                (4.0, "start:c3"),
                (5.0, "end:c3"),
            ]
            check_identity(ref)
            await sup.shutdown()


# ------------------------------------------------------------------ call


async def test_call_returns_the_action_result(autojump_clock: trio.testing.MockClock) -> None:
    """call returns the ActionResult.result, for an Instruction and a routed Signal."""
    async with open_supervisor() as sup:
        ref = await sup.start_child(agent_spec("a", BOX))
        assert await ref.call(add(amount=3)) == 3
        assert await ref.call(Signal("box.add", {"amount": 2}), timeout=1.0) == 5
        assert ref.state == Box(n=5)
        assert trio.current_time() == 0.0
        assert check_identity(ref) == AgentStats(5 - 3, 2, 0, 0, 0)
        await sup.shutdown()


async def test_call_raises_the_action_errors_in_the_caller(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """call raises ActionError (with its cause), InvalidParamsError, UnroutableSignalError."""
    async with open_supervisor() as sup:
        ref = await sup.start_child(agent_spec("a", BOX))
        with pytest.raises(ActionError, match=r"^action 'fail' raised ValueError: nope$") as err:
            await ref.call(fail())
        assert err.value.action == "fail"
        assert isinstance(err.value.__cause__, ValueError)
        assert str(err.value.__cause__) == "nope"

        with pytest.raises(
            InvalidParamsError,
            match=r"^invalid params for action 'add':\namount: expected int @ \$\.data\.amount$",
        ) as bad:
            await ref.call(Signal("box.add", {"amount": "lots"}))
        assert bad.value.errors == ("amount: expected int @ $.data.amount",)

        with pytest.raises(
            UnroutableSignalError,
            match=re.escape(
                "no route matches signal type 'nope.nope'; known routes: "
                "'box.note', 'box.add', 'box.fail'"
            ),
        ):
            await ref.call(Signal("nope.nope"))
        # the agent is unharmed and its state unchanged
        assert await ref.call(add(amount=1)) == 1
        assert sup.which_children()[0].restarts == 0
        assert trio.current_time() == 0.0
        assert check_identity(ref) == AgentStats(4, 1, 3, 0, 0)
        await sup.shutdown()


async def test_call_rejects_a_non_message(autojump_clock: trio.testing.MockClock) -> None:
    """call/cast/cast_nowait of something that is not a Signal or Instruction is a TypeError."""
    async with open_supervisor() as sup:
        ref = await sup.start_child(agent_spec("a", BOX))
        with pytest.raises(TypeError, match=r"accepts a Signal or an Instruction .*not 'hi'$"):
            await ref.call("hi")
        with pytest.raises(TypeError, match=r"not 42$"):
            ref.cast_nowait(42)
        with pytest.raises(TypeError, match=r"not None$"):
            await ref.cast(None)
        assert check_identity(ref) == AgentStats(0, 0, 0, 0, 0)
        await sup.shutdown()


async def test_one_deadline_covers_enqueueing_and_the_reply(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A call waiting for space then for the reply times out at exactly start + timeout."""
    with intercept(Hold(3.0)):
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX, mailbox_size=1))
            ref.cast_nowait(note(tag="m1"))
            await trio.testing.wait_all_tasks_blocked()  # m1 in hand until t=3
            ref.cast_nowait(note(tag="m2"))  # the mailbox is full
            with pytest.raises(
                CallTimeoutError,
                match=re.escape(
                    "call to agent 'root/a' got no reply within 5s "
                    "(message action 'note'; queue length 1)"
                ),
            ):
                await ref.call(note(tag="late"), timeout=5.0)  # enqueued at t=3
            assert trio.current_time() == 5.0
            check_identity(ref)
            # the message was sent, so it is still processed; its reply is dropped
            await trio.sleep_until(9.0)
            await trio.testing.wait_all_tasks_blocked()
            assert ref.state.log == ("m1", "m2", "late")
            assert await ref.call(note(tag="after")) == "after"
            assert trio.current_time() == 12.0
            assert check_identity(ref) == AgentStats(4, 4, 0, 0, 0)
            await sup.shutdown()


async def test_call_timing_out_while_waiting_for_space_sends_nothing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A call that never got mailbox space times out at its deadline and is not counted."""
    with intercept(Hold(10.0)):
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX, mailbox_size=1))
            ref.cast_nowait(note(tag="m1"))
            await trio.testing.wait_all_tasks_blocked()
            ref.cast_nowait(note(tag="m2"))
            with pytest.raises(CallTimeoutError, match=r"no reply within 2\.5s"):
                await ref.call(note(tag="never"), timeout=2.5)
            assert trio.current_time() == 2.5
            assert check_identity(ref) == AgentStats(2, 0, 0, 1, 1)
            await trio.sleep_until(30.0)
            assert ref.state.log == ("m1", "m2")
            assert check_identity(ref) == AgentStats(2, 2, 0, 0, 0)
            await sup.shutdown()


async def test_a_call_cancelled_by_its_caller_still_delivers_the_message(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Cancelling a waiting call leaves its message to be processed; the reply is dropped."""
    with intercept(Hold(2.0)):
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX))
            with trio.move_on_after(1.0) as scope:
                await ref.call(note(tag="abandoned"), timeout=math.inf)
            assert scope.cancelled_caught
            assert trio.current_time() == 1.0
            assert check_identity(ref) == AgentStats(1, 0, 0, 0, 1)
            assert await ref.call(note(tag="next")) == "next"
            assert trio.current_time() == 4.0
            assert ref.state.log == ("abandoned", "next")
            assert check_identity(ref) == AgentStats(2, 2, 0, 0, 0)
            await sup.shutdown()


@pytest.mark.parametrize("bad", [-1.0, math.nan])
async def test_call_rejects_a_bad_timeout(
    autojump_clock: trio.testing.MockClock, bad: float
) -> None:
    """A negative or NaN timeout is a ValueError, and nothing is sent."""
    async with open_supervisor() as sup:
        ref = await sup.start_child(agent_spec("a", BOX))
        with trio.move_on_after(60.0):  # a NaN deadline must not hang the test
            with pytest.raises(ValueError, match=r"timeout"):
                await ref.call(note(tag="x"), timeout=bad)
        assert trio.current_time() == 0.0
        assert check_identity(ref) == AgentStats(0, 0, 0, 0, 0)
        await sup.shutdown()


async def test_call_raises_agent_down_when_the_agent_is_killed_mid_call(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A kill while the message is held gives the caller AgentDownError at the kill time."""
    with intercept(Hold(10.0, only={"held"})):
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX))
            async with trio.open_nursery() as nursery:
                nursery.start_soon(kill_at, 2.0, "root/a")
                with pytest.raises(
                    AgentDownError,
                    match=r"^agent 'root/a' crashed before answering action 'note'$",
                ) as err:
                    await ref.call(note(tag="held"), timeout=5.0)
            assert trio.current_time() == 2.0
            assert letters(ref) == [("held", "crashed", 2.0)]
            assert await ref.call(note(tag="next")) == "next"
            assert sup.which_children()[0].restarts == 1
            assert check_identity(ref) == AgentStats(2, 1, 1, 0, 0)
            await sup.shutdown()
        # the crash behind it is the kill (as the supervisor reports it), not a
        # trio.Cancelled escaping its cancel scope
        assert isinstance(err.value.__cause__, ChildKilled)
        assert isinstance(ref.dead_letters[0].error, ChildKilled)


async def test_pending_calls_get_agent_down_when_the_agent_stops_for_good(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """terminate_child: the message in hand finishes, queued calls get AgentDownError."""
    with intercept(Hold(3.0)):
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX))
            outcomes: dict[str, object] = {}

            async def caller(tag: str) -> None:
                try:
                    outcomes[tag] = await ref.call(note(tag=tag), timeout=5.0)
                except AgentDownError as exc:
                    outcomes[tag] = (str(exc), trio.current_time())

            async with trio.open_nursery() as nursery:
                nursery.start_soon(caller, "first")
                await trio.testing.wait_all_tasks_blocked()
                nursery.start_soon(caller, "queued")
                await trio.testing.wait_all_tasks_blocked()
                await trio.sleep(1.0)
                await sup.terminate_child("a")
                assert trio.current_time() == 3.0
            assert outcomes == {
                "first": "first",
                "queued": ("agent 'root/a' stopped before answering action 'note'", 3.0),
            }
            assert letters(ref) == [("queued", "agent_stopped", 3.0)]
            assert ref.alive is False
            assert check_identity(ref) == AgentStats(2, 1, 1, 0, 0)
            await sup.shutdown()


# ------------------------------------------------------------------ cast


async def test_cast_waits_for_space_when_the_mailbox_is_full(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """cast blocks on a full mailbox until the agent takes a message; cast_nowait raises."""
    with intercept(Hold(1.0)):
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX, mailbox_size=2))
            assert (ref.mailbox_size, ref.queue_length) == (2, 0)
            await ref.cast(note(tag="m1"))
            await trio.testing.wait_all_tasks_blocked()  # m1 in hand until t=1
            await ref.cast(note(tag="m2"))
            await ref.cast(note(tag="m3"))
            assert ref.queue_length == 2
            assert trio.current_time() == 0.0
            with pytest.raises(
                MailboxFullError,
                match=re.escape(
                    "mailbox of agent 'root/a' is full (2 messages); use `await cast(...)` "
                    "to wait for space, or raise mailbox_size"
                ),
            ):
                ref.cast_nowait(note(tag="refused"))
            await ref.cast(note(tag="m4"))  # space when m2 is taken at t=1
            assert trio.current_time() == 1.0
            assert ref.queue_length == 2
            await ref.cast(note(tag="m5"))  # and again when m3 is taken at t=2
            assert trio.current_time() == 2.0
            await trio.sleep_until(10.0)
            assert ref.state.log == ("m1", "m2", "m3", "m4", "m5")
            assert ref.queue_length == 0
            assert check_identity(ref) == AgentStats(5, 5, 0, 0, 0)
            await sup.shutdown()


async def test_a_cancelled_cast_sends_nothing(autojump_clock: trio.testing.MockClock) -> None:
    """A cast cancelled while waiting for space is not counted and never processed."""
    with intercept(Hold(5.0)):
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX, mailbox_size=1))
            ref.cast_nowait(note(tag="m1"))
            await trio.testing.wait_all_tasks_blocked()
            ref.cast_nowait(note(tag="m2"))
            with trio.move_on_after(1.0) as scope:
                await ref.cast(note(tag="gave-up"))
            assert scope.cancelled_caught
            assert check_identity(ref) == AgentStats(2, 0, 0, 1, 1)
            await trio.sleep_until(20.0)
            assert ref.state.log == ("m1", "m2")
            await sup.shutdown()


async def test_identity_holds_while_a_sender_waits_for_space(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """At a quiescent point with a cast blocked on a full mailbox, the identity still holds."""
    with intercept(Hold(10.0)):
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX, mailbox_size=1))
            ref.cast_nowait(note(tag="m1"))
            await trio.testing.wait_all_tasks_blocked()
            ref.cast_nowait(note(tag="m2"))
            async with trio.open_nursery() as nursery:
                nursery.start_soon(ref.cast, note(tag="m3"))
                await trio.testing.wait_all_tasks_blocked()  # m3's sender waits for space
                check_identity(ref)
            await trio.sleep_until(40.0)
            assert check_identity(ref) == AgentStats(3, 3, 0, 0, 0)
            await sup.shutdown()


async def test_senders_waiting_for_space_when_the_agent_stops_for_good(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A blocked cast is dead-lettered and a blocked call raises AgentDownError at the stop."""
    with intercept(Hold(3.0)):
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX, mailbox_size=1))
            ref.cast_nowait(note(tag="m1"))
            await trio.testing.wait_all_tasks_blocked()
            ref.cast_nowait(note(tag="m2"))
            done: dict[str, float] = {}

            async def blocked_cast() -> None:
                await ref.cast(note(tag="c"))
                done["cast"] = trio.current_time()

            async def blocked_call() -> None:
                with pytest.raises(AgentDownError, match=r"stopped before answering"):
                    await ref.call(note(tag="k"), timeout=10.0)
                done["call"] = trio.current_time()

            async with trio.open_nursery() as nursery:
                nursery.start_soon(blocked_cast)
                nursery.start_soon(blocked_call)
                await trio.sleep(1.0)
                await sup.terminate_child("a")
            assert done == {"cast": 3.0, "call": 3.0}
            assert ref.state.log == ("m1",)
            assert sorted(letters(ref)) == [
                ("c", "agent_stopped", 3.0),
                ("k", "agent_stopped", 3.0),
                ("m2", "agent_stopped", 3.0),
            ]
            assert check_identity(ref) == AgentStats(4, 1, 3, 0, 0)
            await sup.shutdown()


# ------------------------------------------------------------------ restarts


async def test_the_ref_survives_a_crash_and_queued_messages_are_not_lost(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """After a kill the same ref works: the queued messages reach the new instance."""
    recorder = Recorder()
    with intercept(Hold(1.0), recorder):
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX))
            for tag in ("m1", "m2", "m3"):
                ref.cast_nowait(note(tag=tag))
            await trio.sleep(0.5)
            assert check_identity(ref) == AgentStats(3, 0, 0, 2, 1)
            kill("root/a")
            await trio.testing.wait_all_tasks_blocked()
            assert trio.current_time() == 0.5
            assert ref.alive
            assert sup.which_children()[0].restarts == 1
            assert letters(ref) == [("m1", "crashed", 0.5)]
            assert check_identity(ref) == AgentStats(3, 0, 1, 1, 1)
            assert await ref.call(note(tag="m4")) == "m4"
            assert trio.current_time() == 3.5
            assert ref.state.log == ("m2", "m3", "m4")
            assert recorder.tags() == [(1.5, "m2"), (2.5, "m3"), (3.5, "m4")]  # after Hold
            assert check_identity(ref) == AgentStats(4, 3, 1, 0, 0)
            await sup.shutdown()


async def test_a_group_restart_finishes_the_message_in_hand_and_keeps_the_queue(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """one_for_all stops a busy sibling cooperatively: it finishes, restarts, then drains."""
    recorder = Recorder()
    with intercept(Hold(3.0, only={"slow"}), recorder):
        async with open_supervisor(strategy="one_for_all") as sup:
            a = await sup.start_child(agent_spec("a", BOX))
            await sup.start_child(agent_spec("b", BOX))
            a.cast_nowait(note(tag="slow"))
            a.cast_nowait(note(tag="queued"))
            await trio.testing.wait_all_tasks_blocked()
            kill("root/b")
            await trio.testing.wait_all_tasks_blocked()
            assert [(c.id, c.status) for c in sup.which_children()] == [
                ("a", "stopping"),
                ("b", "restarting"),
            ]
            assert check_identity(a) == AgentStats(2, 0, 0, 1, 1)
            await trio.sleep_until(10.0)
            assert [(c.id, c.status, c.restarts) for c in sup.which_children()] == [
                ("a", "running", 1),
                ("b", "running", 1),
            ]
            assert recorder.tags() == [(3.0, "slow"), (3.0, "queued")]
            assert a.state.log == ("slow", "queued")
            assert a.dead_letters == ()
            assert check_identity(a) == AgentStats(2, 2, 0, 0, 0)
            await sup.shutdown()


# ------------------------------------------------------------------ dead letters


async def test_dead_letters_for_unroutable_invalid_and_failed_messages(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Each failure reason is dead-lettered on the ref, in dead_letters() and in telemetry."""
    events: list[TelemetryEvent] = []
    with attach_telemetry(events.append, events=["agent.dead_letter"]):
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX))
            await trio.sleep(1.0)
            unroutable = Signal("box.unknown", id="s1")
            invalid = Signal("box.add", {"amount": []}, id="s2")
            failing = fail()
            for message in (unroutable, invalid, failing):
                ref.cast_nowait(message)
            await ref.call(note(tag="ok"))
            expected = [
                DeadLetter(unroutable, "unroutable", "root/a", 1.0),
                DeadLetter(invalid, "invalid_params", "root/a", 1.0),
                DeadLetter(failing, "action_failed", "root/a", 1.0),
            ]
            assert list(ref.dead_letters) == expected
            assert dead_letters() == expected
            assert [type(d.error) for d in ref.dead_letters] == [
                UnroutableSignalError,
                InvalidParamsError,
                ActionError,
            ]
            assert [(e.name, e.path, e.time) for e in events] == [
                ("agent.dead_letter", "root/a", 1.0)
            ] * 3
            assert [(e.data["reason"], e.data["signal_id"]) for e in events] == [
                ("unroutable", "s1"),
                ("invalid_params", "s2"),
                ("action_failed", None),
            ]
            assert check_identity(ref) == AgentStats(4, 1, 3, 0, 0)
            await sup.shutdown()


async def test_messages_to_an_agent_stopped_for_good_are_dead_letters(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """After terminate_child, cast/cast_nowait dead-letter and call raises AgentDownError."""
    async with open_supervisor() as sup:
        ref = await sup.start_child(agent_spec("a", BOX))
        await sup.terminate_child("a")
        assert ref.alive is False
        await trio.sleep(2.0)
        await ref.cast(note(tag="c"))
        ref.cast_nowait(note(tag="n"))
        with pytest.raises(
            AgentDownError, match=r"^agent 'root/a' stopped before answering action 'note'$"
        ):
            await ref.call(note(tag="k"))
        assert trio.current_time() == 2.0
        assert letters(ref) == [
            ("c", "agent_stopped", 2.0),
            ("n", "agent_stopped", 2.0),
            ("k", "agent_stopped", 2.0),
        ]
        assert [d.reason for d in dead_letters()] == ["agent_stopped"] * 3
        assert check_identity(ref) == AgentStats(3, 0, 3, 0, 0)
        # restart_child revives the same ref
        assert await sup.restart_child("a") is ref
        assert ref.alive
        assert await ref.call(note(tag="again")) == "again"
        assert check_identity(ref) == AgentStats(4, 1, 3, 0, 0)
        await sup.shutdown()


async def test_queued_messages_are_dead_letters_when_the_supervisor_shuts_down(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """On the final stop, messages still queued are dead-lettered 'agent_stopped'."""
    with intercept(Hold(1.0)):
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX, shutdown=5.0))
            for tag in ("m1", "m2", "m3"):
                ref.cast_nowait(note(tag=tag))
            await trio.testing.wait_all_tasks_blocked()
            await sup.shutdown()
            assert trio.current_time() == 1.0  # m1 finished within its grace
        assert ref.state.log == ("m1",)
        assert letters(ref) == [("m2", "agent_stopped", 1.0), ("m3", "agent_stopped", 1.0)]
        assert check_identity(ref) == AgentStats(3, 1, 2, 0, 0)


async def test_dead_letter_limit_keeps_the_latest(autojump_clock: trio.testing.MockClock) -> None:
    """ref.dead_letters keeps the latest dead_letter_limit letters; the counters keep all."""
    async with open_supervisor() as sup:
        ref = await sup.start_child(agent_spec("a", BOX, dead_letter_limit=2))
        for i in range(4):
            ref.cast_nowait(Signal("box.add", {"amount": f"x{i}"}))
        await trio.testing.wait_all_tasks_blocked()
        assert [d.message.data for d in ref.dead_letters] == [{"amount": "x2"}, {"amount": "x3"}]
        assert len(dead_letters()) == 4
        assert check_identity(ref) == AgentStats(4, 0, 4, 0, 0)
        await sup.shutdown()


# ------------------------------------------------------------------ schedules


async def test_schedule_fires_at_exactly_now_plus_delay(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Schedule(2.5, ...) returned at t=1 is handled at exactly t=3.5."""
    recorder = Recorder()
    with intercept(recorder):
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX))
            await trio.sleep(1.0)
            await ref.call(later(delay=2.5, tag="ping"))
            await trio.sleep_until(10.0)
            assert recorder.tags() == [(1.0, "ping"), (3.5, "ping")]
            fired = recorder.seen[1][2]
            assert isinstance(fired, Signal)
            assert (fired.type, fired.data, fired.source, fired.time) == (
                "box.note",
                {"tag": "ping"},
                "root/a",
                3.5,
            )
            assert ref.state.log == ("ping",)
            assert check_identity(ref) == AgentStats(2, 2, 0, 0, 0)
            await sup.shutdown()


async def test_periodic_schedules_fire_at_exact_multiples_and_rearm_after_a_restart(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Every(10) fires at 10, 20; after a kill at 25 it fires at 35, 45."""
    recorder = Recorder()
    with intercept(recorder):
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BEAT))
            async with trio.open_nursery() as nursery:
                nursery.start_soon(kill_at, 25.0, "root/a")
            await trio.sleep_until(50.0)
            assert recorder.tags() == [
                (10.0, "beat"),
                (20.0, "beat"),
                (35.0, "beat"),
                (45.0, "beat"),
            ]
            assert ref.state.log == ("beat",) * 4  # checkpointed state kept
            assert check_identity(ref) == AgentStats(4, 4, 0, 0, 0)
            await sup.shutdown()


async def test_pending_one_shot_timers_survive_a_crash(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A Schedule armed before a kill fires on time in the restarted instance."""
    recorder = Recorder()
    with intercept(recorder):
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX))
            await ref.call(later(delay=5.0, tag="later"))
            async with trio.open_nursery() as nursery:
                nursery.start_soon(kill_at, 2.0, "root/a")
            await trio.sleep_until(10.0)
            assert sup.which_children()[0].restarts == 1
            assert recorder.tags() == [(0.0, "later"), (5.0, "later")]
            assert ref.state.log == ("later",)
            assert check_identity(ref) == AgentStats(2, 2, 0, 0, 0)
            await sup.shutdown()


async def test_pending_timers_are_dead_letters_when_the_agent_stops_for_good(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A one-shot timer pending at terminate_child is dead-lettered 'agent_stopped'."""
    async with open_supervisor() as sup:
        ref = await sup.start_child(agent_spec("a", BOX))
        await ref.call(later(delay=5.0, tag="later"))
        await trio.sleep(1.0)
        await sup.terminate_child("a")
        await trio.sleep_until(10.0)
        assert letters(ref) == [("later", "agent_stopped", 1.0)]
        letter = ref.dead_letters[0].message
        assert isinstance(letter, Signal)
        assert (letter.type, letter.source) == ("box.note", "root/a")
        assert ref.state.log == ()
        assert check_identity(ref) == AgentStats(2, 1, 1, 0, 0)
        await sup.shutdown()


# ------------------------------------------------------------------ Emit


async def test_emit_to_a_registered_agent(autojump_clock: trio.testing.MockClock) -> None:
    """Emit(to=name) reaches the agent registered under it (the id by default)."""
    recorder = Recorder()
    with intercept(recorder):
        async with open_supervisor() as sup:
            a = await sup.start_child(agent_spec("a", BOX))
            b = await sup.start_child(agent_spec("b", BOX))
            await trio.sleep(2.0)
            await a.call(send(tag="hi", to="b"))
            await trio.testing.wait_all_tasks_blocked()
            assert b.state.log == ("hi",)
            (when, path, got) = recorder.seen[-1]
            assert (when, path) == (2.0, "root/b")
            assert got == Signal(
                "box.note", {"tag": "hi"}, source="root/a", id="root/a#1", time=2.0
            )
            assert check_identity(a) == AgentStats(1, 1, 0, 0, 0)
            assert check_identity(b) == AgentStats(1, 1, 0, 0, 0)
            await sup.shutdown()


async def test_emit_without_a_target_publishes_on_the_bus(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Emit(to=None) is published to bus subscribers whose pattern matches."""
    async with open_supervisor() as sup:
        a = await sup.start_child(agent_spec("a", BOX))
        with subscribe("box.*") as sub, subscribe("other.*") as other:
            await trio.sleep(1.0)
            await a.call(send(tag="pub"))
            got = sub.receive_nowait()
            assert got == Signal(
                "box.note", {"tag": "pub"}, source="root/a", id="root/a#1", time=1.0
            )
            with pytest.raises(trio.WouldBlock):
                other.receive_nowait()
        assert dead_letters() == []
        await sup.shutdown()


async def test_emit_to_an_unknown_name_is_a_dead_letter(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Emit to a name nobody holds is dead-lettered 'no_such_agent' in dead_letters()."""
    events: list[TelemetryEvent] = []
    with attach_telemetry(events.append, events=["agent.dead_letter"]):
        async with open_supervisor() as sup:
            a = await sup.start_child(agent_spec("a", BOX))
            await trio.sleep(1.0)
            assert await a.call(send(tag="lost", to="ghost")) is None
            signal = Signal("box.note", {"tag": "lost"}, source="root/a", id="root/a#1", time=1.0)
            assert dead_letters() == [DeadLetter(signal, "no_such_agent", "ghost", 1.0)]
            assert a.dead_letters == ()  # the sender's own message was processed
            assert [(e.path, e.data["reason"], e.data["to"]) for e in events] == [
                ("root/a", "no_such_agent", "ghost")
            ]
            assert check_identity(a) == AgentStats(1, 1, 0, 0, 0)
            await sup.shutdown()


async def test_emit_to_a_full_mailbox_is_a_dead_letter_of_the_target(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """An Emit that finds the target's mailbox full is dead-lettered 'mailbox_full' there."""
    with intercept(Hold(5.0, only={"slow"})):
        async with open_supervisor() as sup:
            a = await sup.start_child(agent_spec("a", BOX))
            b = await sup.start_child(agent_spec("b", BOX, mailbox_size=1))
            b.cast_nowait(note(tag="slow"))
            await trio.testing.wait_all_tasks_blocked()
            b.cast_nowait(note(tag="fill"))
            await trio.sleep(1.0)
            await a.call(send(tag="over", to="b"))  # the sender never waits
            assert trio.current_time() == 1.0
            assert letters(b) == [("over", "mailbox_full", 1.0)]
            assert isinstance(b.dead_letters[0].error, MailboxFullError)
            assert check_identity(b) == AgentStats(3, 0, 1, 1, 1)
            await trio.sleep_until(10.0)
            assert b.state.log == ("slow", "fill")
            assert check_identity(b) == AgentStats(3, 2, 1, 0, 0)
            await sup.shutdown()


async def test_emit_to_an_agent_stopped_for_good_is_no_such_agent(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A stopped agent gives up its name: an Emit to it is dead-lettered 'no_such_agent'."""
    async with open_supervisor() as sup:
        a = await sup.start_child(agent_spec("a", BOX))
        await sup.start_child(agent_spec("b", BOX))
        await sup.terminate_child("b")
        assert whereis("b") is None
        await a.call(send(tag="late", to="b"))
        assert [(d.reason, d.agent) for d in dead_letters()] == [("no_such_agent", "b")]
        await sup.shutdown()


# ------------------------------------------------------------------ children


def nodes() -> list[tuple[str, str | None, str]]:
    return [(n.path, n.supervisor, n.status) for n in tree()]


async def test_spawned_children_run_under_the_agents_own_supervisor(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """SpawnAgent starts a child under the agent's path; StopChild stops and removes it."""
    async with open_supervisor() as sup:
        ref = await sup.start_child(agent_spec("a", BOX))
        assert ref.children() == {}
        assert await ref.call(spawn(id="kid")) == "kid"
        kid = ref.children()["kid"]
        assert isinstance(kid, AgentRef)
        assert kid.path == "root/a/kid"
        assert nodes() == [
            ("root", None, "running"),
            ("root/a", "root", "running"),
            ("root/a/kid", "root/a", "running"),
        ]
        assert await kid.call(note(tag="k")) == "k"
        assert whereis("kid") is kid
        assert await ref.call(stop_child(id="kid")) == "stopping"
        assert ref.children() == {}
        assert nodes() == [("root", None, "running"), ("root/a", "root", "running")]
        assert kid.alive is False
        assert whereis("kid") is None
        assert check_identity(ref) == AgentStats(2, 2, 0, 0, 0)
        assert trio.current_time() == 0.0
        await sup.shutdown()


async def test_children_die_with_their_parent(autojump_clock: trio.testing.MockClock) -> None:
    """When the parent agent crashes its children are gone and their refs are down."""
    async with open_supervisor() as sup:
        ref = await sup.start_child(agent_spec("a", BOX))
        await ref.call(spawn(id="kid"))
        kid = ref.children()["kid"]
        kill("root/a")
        await trio.testing.wait_all_tasks_blocked()
        assert sup.which_children()[0].restarts == 1
        assert nodes() == [("root", None, "running"), ("root/a", "root", "running")]
        assert ref.children() == {}
        # the dead child no longer holds its name, and is not reported alive
        assert whereis("kid") is None
        assert kid.alive is False
        await sup.shutdown()


async def test_a_restarted_parent_spawns_its_children_fresh(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """After a parent crash, SpawnAgent of the same id starts a fresh child."""
    async with open_supervisor() as sup:
        ref = await sup.start_child(agent_spec("a", BOX))
        await ref.call(spawn(id="kid"))
        old = ref.children()["kid"]
        await old.call(note(tag="before"))
        kill("root/a")
        await trio.testing.wait_all_tasks_blocked()
        assert await ref.call(spawn(id="kid")) == "kid"
        new = ref.children()["kid"]
        assert new is not old
        assert new.state == Box()
        assert whereis("kid") is new
        assert check_identity(ref) == AgentStats(2, 2, 0, 0, 0)
        await sup.shutdown()


async def test_stop_child_of_an_unknown_id_is_reported_and_the_agent_carries_on(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    """StopChild('nope') cannot be carried out: the state stays committed, the call
    gets its result, the failure is reported (telemetry and a WARNING log) and the
    agent is not restarted."""
    seen: list[TelemetryEvent] = []
    with attach_telemetry(seen.append, events=["agent.directive"]):
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX))
            assert await ref.call(stop_child(id="nope")) == "stopping"
            await trio.testing.wait_all_tasks_blocked()
            assert sup.which_children()[0].restarts == 0
            assert check_identity(ref) == AgentStats(1, 1, 0, 0, 0)
            assert await ref.call(note(tag="fine")) == "fine"
            await sup.shutdown()
    failed = [e for e in seen if e.data["error"] is not None]
    assert len(failed) == 1
    assert failed[0].data["directive"] == StopChild("nope")
    assert isinstance(failed[0].data["error"], ChildNotFoundError)
    assert str(failed[0].data["error"]) == "agent 'root/a' has no child agent 'nope' to stop"
    assert [r.levelname for r in caplog.records if r.name == "jido_trio.agent"] == ["WARNING"]


# ------------------------------------------------------------------ Stop


async def test_stop_normal_ends_a_transient_agent_for_good(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Stop('normal') answers the call, then the transient agent exits without restart."""
    async with open_supervisor() as sup:
        ref = await sup.start_child(agent_spec("a", BOX, restart="transient"))
        assert await ref.call(stop()) == "bye"
        await trio.testing.wait_all_tasks_blocked()
        info = sup.which_children()[0]
        assert (info.status, info.restarts) == ("stopped", 0)
        assert ref.alive is False
        assert whereis("a") is None
        ref.cast_nowait(note(tag="late"))
        assert letters(ref) == [("late", "agent_stopped", 0.0)]
        assert check_identity(ref) == AgentStats(2, 1, 1, 0, 0)
        await sup.shutdown()


async def test_stop_with_another_reason_is_an_abnormal_exit(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Stop('boom') exits with AgentStopError, so even a transient agent is restarted."""
    exits: list[TelemetryEvent] = []
    with attach_telemetry(exits.append, events=["child.exited"]):
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX, restart="transient"))
            await ref.call(note(tag="kept"))
            assert await ref.call(stop(reason="boom")) == "bye"
            await trio.testing.wait_all_tasks_blocked()
            assert sup.which_children()[0].restarts == 1
            assert ref.alive
            (event,) = exits
            assert (event.path, event.data["reason"], event.data["restart"]) == (
                "root/a",
                "AgentStopError",
                True,
            )
            error = event.data["error"]
            assert isinstance(error, AgentStopError)
            assert (error.path, error.reason) == ("root/a", "boom")
            assert str(error) == "agent 'root/a' stopped with reason 'boom'"
            assert ref.state.log == ("kept",)
            assert check_identity(ref) == AgentStats(2, 2, 0, 0, 0)
            await sup.shutdown()


# ------------------------------------------------------------------ cooperative stop


async def test_shutdown_of_an_idle_agent_is_immediate(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """sup.shutdown() with an idle agent completes at once, without the grace period."""
    async with open_supervisor() as sup:
        ref = await sup.start_child(agent_spec("a", BOX, shutdown=30.0))
        await ref.call(note(tag="x"))
        await trio.sleep(1.0)
        await sup.shutdown()
        assert trio.current_time() == 1.0
    assert trio.current_time() == 1.0
    assert ref.alive is False


async def test_a_busy_agent_finishes_its_message_within_the_grace(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """shutdown waits for the message in hand when it ends inside the grace."""
    with intercept(Hold(3.0)):
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX, shutdown=5.0))
            async with trio.open_nursery() as nursery:

                async def caller() -> None:
                    assert await ref.call(note(tag="x")) == "x"

                nursery.start_soon(caller)
                await trio.testing.wait_all_tasks_blocked()
                await sup.shutdown()
                assert trio.current_time() == 3.0
        assert ref.state.log == ("x",)
        assert check_identity(ref) == AgentStats(1, 1, 0, 0, 0)


async def test_a_busy_agent_is_cancelled_when_its_grace_runs_out(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """shutdown cancels a message still in hand at the end of the grace; its call fails."""
    with intercept(Hold(3.0)):
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX, shutdown=1.0))
            async with trio.open_nursery() as nursery:

                async def caller() -> None:
                    with pytest.raises(AgentDownError, match=r"^agent 'root/a' "):
                        await ref.call(note(tag="x"))
                    assert trio.current_time() == 1.0

                nursery.start_soon(caller)
                await trio.testing.wait_all_tasks_blocked()
                await sup.shutdown()
                assert trio.current_time() == 1.0
        assert ref.state.log == ()
        assert [(d.reason, d.time) for d in ref.dead_letters] == [("agent_stopped", 1.0)]
        assert check_identity(ref) == AgentStats(1, 0, 1, 0, 0)


# ------------------------------------------------------------------ telemetry


class SlowStore(MemoryStore):
    """A MemoryStore whose save takes ``delay`` seconds of Trio's clock."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    async def save(self, key: str, agent: AgentValue[Any]) -> None:
        await trio.sleep(self.delay)
        await super().save(key, agent)


async def test_telemetry_for_a_handled_signal(autojump_clock: trio.testing.MockClock) -> None:
    """A handled message emits agent.cmd/checkpoint/directive/signal.handled on Trio's clock."""
    events: list[TelemetryEvent] = []
    with attach_telemetry(events.append, events=["agent.*"]):
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX, store=SlowStore(2.0)))
            await trio.sleep(1.0)
            await ref.call(later(delay=1.0, tag="t"))
            assert trio.current_time() == 3.0
            got = [(e.name, e.time, e.path) for e in events]
            assert got == [
                ("agent.cmd", 1.0, "root/a"),
                ("agent.checkpoint", 3.0, "root/a"),
                ("agent.directive", 3.0, "root/a"),
                ("agent.signal.handled", 3.0, "root/a"),
            ]
            cmd_event, checkpoint, directive, handled = events
            assert dict(cmd_event.data) == {
                "agent": "box",
                "action": "later",
                "ok": True,
                "duration": 0.0,
            }
            assert dict(checkpoint.data) == {"agent": "box", "version": 1}
            assert directive.data["directive"] == Schedule(1.0, "box.note", {"tag": "t"})
            assert dict(handled.data) == {
                "agent": "box",
                "message": "action 'later'",
                "action": "later",
                "duration": 2.0,
            }
            await sup.shutdown()


async def test_telemetry_for_a_failed_cmd(autojump_clock: trio.testing.MockClock) -> None:
    """A failing action emits agent.cmd with ok=False and agent.dead_letter, nothing committed."""
    events: list[TelemetryEvent] = []
    with attach_telemetry(events.append, events=["agent.*"]):
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX))
            ref.cast_nowait(fail())
            await trio.testing.wait_all_tasks_blocked()
            assert [e.name for e in events] == ["agent.cmd", "agent.dead_letter"]
            assert events[0].data["ok"] is False
            assert events[0].data["action"] == "fail"
            assert events[1].data["reason"] == "action_failed"
            assert isinstance(events[1].data["error"], ActionError)
            assert ref.agent is not None
            assert ref.agent.version == 0
            await sup.shutdown()


async def test_every_processed_message_emits_signal_handled(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """agent.signal.handled is emitted once per processed message, SpawnAgent included."""
    handled: list[TelemetryEvent] = []
    with attach_telemetry(handled.append, events=["agent.signal.handled"]):
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX))
            await ref.call(note(tag="one"))
            await ref.call(spawn(id="kid"))
            await ref.call(spawn(id="kid2"))
            assert [e.data["action"] for e in handled if e.path == "root/a"] == [
                "note",
                "spawn",
                "spawn",
            ]
            assert check_identity(ref).processed == 3
            await sup.shutdown()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"children": {"strategy": "bogus"}},
            "strategy='bogus' is not valid; expected 'one_for_one', 'one_for_all' or "
            "'rest_for_one'",
        ),
        (
            {"children": {"max_restart": 3}},
            "agent_spec('a', children=...): unknown option(s) ['max_restart']; expected some of",
        ),
        (
            {"dead_letter_limit": -1},
            "agent_spec('a'): dead_letter_limit=-1 is not valid; expected an int >= 1",
        ),
        (
            {"mailbox_size": 0},
            "agent_spec('a'): mailbox_size=0 is not valid; expected an int >= 1",
        ),
        (
            {"name": ""},
            "agent_spec('a'): name='' is not valid; expected a non-empty string, None "
            "(register under the id) or False (register nothing)",
        ),
        (
            {"restart_from": "latest"},
            "agent_spec('a'): restart_from='latest' is not valid; expected 'checkpoint' or "
            "'initial'",
        ),
    ],
    ids=[
        "children-strategy",
        "children-unknown",
        "dead-letter-limit",
        "mailbox",
        "name-empty",
        "restart-from",
    ],
)
def test_agent_spec_rejects_bad_options_where_they_are_written(
    options: dict[str, Any], message: str
) -> None:
    """A bad agent_spec option fails at once, naming the option, value and fix."""
    with pytest.raises(InvalidChildSpecError, match=re.escape(message)):
        agent_spec("a", BOX, **options)
