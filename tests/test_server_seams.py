"""The seams the chaos engine drives, pinned through the public API: checkpoint
saves and loads (``Interceptor.on_save`` / ``on_load``), delayed deliveries
(``proceed(signal, delay=...)`` in ``on_deliver``), ``ChildSpec.on_stopped``
with the child's context, and one agent_spec running one agent at a time."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
import trio
import trio.testing
from agents_fixtures import AddParams, Box, add, check_identity

import jido_trio
from jido_trio import (
    ActionResult,
    Agent,
    AgentDef,
    AgentRef,
    ChildContext,
    ChildRunningError,
    ChildSpec,
    Emit,
    Interceptor,
    Signal,
    StoreError,
    action,
    agent_spec,
    intercept,
    kill,
    open_supervisor,
    spec_ref,
)


@action("forward", params=AddParams)
def forward(state: Box, params: AddParams) -> ActionResult[Box]:
    return ActionResult(
        attrs.evolve(state, n=state.n + params.amount),
        directives=[Emit("box.add", {"amount": params.amount}, to="sink")],
    )


SOURCE = AgentDef("source", Box, [forward], routes={"box.forward": "forward"})
SINK = AgentDef("sink", Box, [add], routes={"box.add": "add"})


class LoseWrites(Interceptor):
    """Loses every checkpoint write from version ``after`` on."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.saved: list[int] = []

    async def on_save(self, agent: AgentRef, new: Agent[Any], proceed: Any) -> None:
        if new.version < self.after:
            self.saved.append(new.version)
            await proceed(new)


async def test_a_lost_write_keeps_the_running_state_and_a_restart_loads_the_older_one(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """on_save that does not proceed loses the checkpoint, not the running state."""
    lose = LoseWrites(after=2)
    spec = agent_spec("box", SINK)
    ref = spec_ref(spec)
    with intercept(lose):
        async with open_supervisor([spec]) as sup:
            assert await ref.call(add(amount=1)) == 1
            assert await ref.call(add(amount=2)) == 3
            assert ref.state == Box(n=3)
            kill(ref.path)
            await trio.testing.wait_all_tasks_blocked()
            assert ref.state == Box(n=1)
            assert ref.agent is not None
            assert ref.agent.version == 1
            await sup.shutdown()
    assert lose.saved == [1]


class FailingSave(Interceptor):
    async def on_save(self, agent: AgentRef, new: Agent[Any], proceed: Any) -> None:
        raise StoreError("disk full")


async def test_a_failing_save_crashes_the_agent_and_commits_nothing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """on_save raising is a crash: the message is dead-lettered 'crashed', the state stays."""
    spec = agent_spec("box", SINK, restart="temporary")
    ref = spec_ref(spec)
    with intercept(FailingSave()):
        async with open_supervisor([spec]):
            with pytest.raises(jido_trio.AgentDownError, match="crashed before answering"):
                await ref.call(add(amount=5))
    assert ref.state == Box()
    assert [(d.reason, type(d.error)) for d in ref.dead_letters] == [("crashed", StoreError)]
    assert check_identity(ref).processed == 0


class Stale(Interceptor):
    """Loads the checkpoint, then starts from ``older`` instead."""

    def __init__(self, older: Agent[Any] | None) -> None:
        self.older = older
        self.loaded: list[int | None] = []

    async def on_load(self, agent: AgentRef, proceed: Any) -> Agent[Any] | None:
        loaded = await proceed()
        self.loaded.append(None if loaded is None else loaded.version)
        return self.older if loaded is not None else None


async def test_on_load_chooses_what_a_restart_starts_from(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A stale load makes the restarted agent start from the older agent it returns."""
    older = SINK.new("box", Box(n=100))
    stale = Stale(older)
    spec = agent_spec("box", SINK)
    ref = spec_ref(spec)
    with intercept(stale):
        async with open_supervisor([spec]) as sup:
            await ref.call(add(amount=1))
            kill(ref.path)
            assert await ref.call(add(amount=1)) == 101
            await sup.shutdown()
    assert stale.loaded == [None, 1]


class Garbage(Interceptor):
    def __init__(self, value: object) -> None:
        self.value = value

    async def on_load(self, agent: AgentRef, proceed: Any) -> Any:
        return self.value


@pytest.mark.parametrize(
    "value",
    [
        "not an agent",
        attrs.evolve(SINK.new("box"), version="7"),  # type: ignore[arg-type]
        attrs.evolve(SINK.new("box"), version=-1),
        attrs.evolve(SINK.new("box"), state={"n": 1}),  # type: ignore[arg-type]
    ],
    ids=["str", "version-str", "version-negative", "state-dict"],
)
async def test_a_corrupt_checkpoint_fails_the_start_with_store_error(
    value: object, autojump_clock: trio.testing.MockClock
) -> None:
    """A loaded checkpoint that is not an Agent with an int version and a state fails the start."""
    spec = agent_spec("box", SINK)
    ref = spec_ref(spec)
    with intercept(Garbage(value)):
        async with open_supervisor() as sup:
            with pytest.raises(StoreError, match=r"^agent 'root/box': the checkpoint loaded from"):
                await sup.start_child(spec)
            assert sup.which_children() == []
    assert not ref.alive
    assert jido_trio.dead_letters() == []


class Delay(Interceptor):
    def __init__(self, *delays: float) -> None:
        self.delays = list(delays)

    async def on_deliver(
        self, source: AgentRef, target: str | None, signal: Signal, proceed: Any
    ) -> None:
        await proceed(signal, delay=self.delays.pop(0))


async def test_a_delayed_delivery_does_not_hold_the_sender_and_arrives_when_due(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """proceed(delay=d) returns at once; the signal joins the target's mailbox at t+d."""
    source, sink = agent_spec("source", SOURCE), agent_spec("sink", SINK)
    src, dst = spec_ref(source), spec_ref(sink)
    arrivals: list[tuple[float, int]] = []

    class Watch(Interceptor):
        async def on_signal(self, agent: AgentRef, message: Any, proceed: Any) -> None:
            if agent is dst:
                arrivals.append((trio.current_time(), message.data["amount"]))
            await proceed(message)

    with intercept(Delay(3.0, 1.0), Watch()):
        async with open_supervisor([sink, source]) as sup:
            await src.call(Signal("box.forward", {"amount": 1}))
            await src.call(Signal("box.forward", {"amount": 2}))
            assert trio.current_time() == 0.0
            assert dst.stats().sent == 0
            await trio.sleep(5)
            assert dst.state == Box(n=3)
            await sup.shutdown()
    assert arrivals == [(1.0, 2), (3.0, 1)]  # reordered by the delays
    check_identity(dst)


async def test_delays_along_the_chain_add_up(autojump_clock: trio.testing.MockClock) -> None:
    """Two interceptors delaying the same delivery delay it by the sum."""
    source, sink = agent_spec("source", SOURCE), agent_spec("sink", SINK)
    src, dst = spec_ref(source), spec_ref(sink)
    with intercept(Delay(2.0), Delay(0.5)):
        async with open_supervisor([sink, source]) as sup:
            await src.call(Signal("box.forward", {"amount": 1}))
            await trio.sleep(2.4)
            assert dst.state == Box()
            await trio.sleep(0.1)
            await trio.testing.wait_all_tasks_blocked()
            assert dst.state == Box(n=1)
            await sup.shutdown()


async def test_a_delayed_delivery_to_an_agent_stopped_meanwhile_is_dead_lettered(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A delivery still on its way when the target stops for good is dead-lettered
    'agent_stopped', and counted as sent."""
    source, sink = agent_spec("source", SOURCE), agent_spec("sink", SINK, restart="temporary")
    src, dst = spec_ref(source), spec_ref(sink)
    with intercept(Delay(3.0)):
        async with open_supervisor([sink, source]) as sup:
            await src.call(Signal("box.forward", {"amount": 1}))
            await sup.terminate_child("sink")
            await sup.shutdown()
    letters = [(d.reason, d.message) for d in dst.dead_letters]
    assert [(reason, getattr(m, "type", None)) for reason, m in letters] == [
        ("agent_stopped", "box.add")
    ]
    assert check_identity(dst).sent == 1


@pytest.mark.parametrize("delay", [-1.0, float("nan"), float("inf"), True, "1"])
async def test_a_bad_delay_fails_the_directive_not_the_agent(
    delay: object, autojump_clock: trio.testing.MockClock
) -> None:
    """proceed(delay=<bad>) raises InvalidArgumentError: the Emit is reported as failed."""
    source, sink = agent_spec("source", SOURCE), agent_spec("sink", SINK)
    src = spec_ref(source)
    events: list[Any] = []
    with (
        jido_trio.attach_telemetry(events.append, events=["agent.directive"]),
        intercept(Delay(delay)),  # type: ignore[arg-type]
    ):
        async with open_supervisor([sink, source]) as sup:
            await src.call(Signal("box.forward", {"amount": 1}))
            await sup.shutdown()
    failed = [e.data["error"] for e in events if e.data["error"] is not None]
    assert len(failed) == 1
    assert isinstance(failed[0], jido_trio.InvalidArgumentError)
    assert "proceed(delay=" in str(failed[0])


async def test_on_stopped_receives_the_child_context(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """ChildSpec.on_stopped is called with the stopped child's context."""
    seen: list[tuple[str, str]] = []

    def stopped(child: ChildContext) -> None:
        seen.append((child.path, child.status))

    async def worker() -> None:
        await trio.sleep_forever()

    async with open_supervisor([ChildSpec("w", worker, on_stopped=stopped)]) as sup:
        await sup.terminate_child("w")
        await sup.shutdown()
    assert seen[0] == ("root/w", "stopped")


def test_on_stopped_must_be_callable() -> None:
    """A non-callable on_stopped is rejected when the spec is built."""

    async def worker() -> None:
        await trio.sleep_forever()

    with pytest.raises(jido_trio.InvalidChildSpecError, match=r"^on_stopped=5 is not valid"):
        ChildSpec("w", worker, on_stopped=5)  # type: ignore[arg-type]


async def test_one_spec_runs_one_agent(autojump_clock: trio.testing.MockClock) -> None:
    """Starting a running agent_spec under a second supervisor raises ChildRunningError,
    and the first agent is untouched."""
    spec = agent_spec("box", SINK)
    ref = spec_ref(spec)
    async with open_supervisor([spec], name="first") as first:
        async with open_supervisor(name="second") as second:
            with pytest.raises(
                ChildRunningError,
                match=r"^agent 'box' is already running at 'first/box', so it cannot also "
                r"start at 'second/box'",
            ):
                await second.start_child(spec)
            assert second.which_children() == []
        assert ref.alive
        assert jido_trio.whereis("box") is ref
        assert await ref.call(add(amount=2)) == 2
        await first.terminate_child("box")
        async with open_supervisor(name="third") as third:
            assert await third.start_child(spec) is ref  # free again once stopped for good
            assert ref.path == "third/box"
            assert await ref.call(add(amount=1)) == 3
            await third.shutdown()
        await first.shutdown()


class Rewrite(Interceptor):
    async def on_signal(self, agent: AgentRef, message: Any, proceed: Any) -> None:
        await proceed(attrs.evolve(message, data={"amount": "lots"}))


async def test_a_dead_letter_holds_the_message_as_processed(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A message an interceptor rewrote and cmd refused is dead-lettered as it was processed."""
    spec = agent_spec("box", SINK)
    ref = spec_ref(spec)
    with intercept(Rewrite()):
        async with open_supervisor([spec]) as sup:
            with pytest.raises(jido_trio.InvalidParamsError, match="amount: expected int"):
                await ref.call(Signal("box.add", {"amount": 1}, id="m-1"))
            await sup.shutdown()
    (letter,) = ref.dead_letters
    assert letter.reason == "invalid_params"
    assert isinstance(letter.message, Signal)
    assert letter.message.data == {"amount": "lots"}
    assert letter.message.id == "m-1"


@action("hire", params=AddParams)
def hire(state: Box, params: AddParams) -> ActionResult[Box]:
    return ActionResult(state, directives=[jido_trio.SpawnAgent(SINK, f"w{params.amount}")])


LEAD = AgentDef("lead", Box, [hire], routes={"lead.hire": "hire"})


async def test_agent_ref_supervisor_is_its_own_while_it_has_one(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """ref.supervisor is None until the first SpawnAgent, then the agent's own
    supervisor (at the agent's path), and None again once the agent stopped."""
    spec = agent_spec("lead", LEAD)
    ref = spec_ref(spec)
    async with open_supervisor([spec]) as sup:
        assert ref.supervisor is None
        await ref.call(hire(amount=1))
        own = ref.supervisor
        assert own is not None
        assert own.path == "root/lead"
        assert [c.id for c in own.which_children()] == ["w1"]
        await sup.shutdown()
    assert ref.supervisor is None
    assert own.closed
