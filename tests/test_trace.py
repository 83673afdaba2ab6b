"""The built-in Recorder interceptor: ordered traces and run digests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import attrs
import pytest
import trio
import trio.testing

import jido_trio
from jido_trio import (
    ActionResult,
    AgentDef,
    AgentRef,
    Emit,
    NoParams,
    Recorder,
    Signal,
    Supervisor,
    action,
)


@attrs.frozen
class Count:
    n: int = 0


@action("inc")
def inc(state: Count, params: NoParams) -> ActionResult[Count]:
    return ActionResult(
        Count(state.n + 1),
        result=state.n + 1,
        directives=[Emit("count.changed", {"n": state.n + 1}, to="sink")],
    )


@attrs.frozen
class Changed:
    n: int


@action("noop", params=Changed)
def noop(state: Count, params: Changed) -> Count:
    return state


COUNTER = AgentDef("counter", Count, [inc], routes={"count.inc": "inc"})
SINK = AgentDef("sink", Count, [noop], routes={"count.changed": "noop"})


@asynccontextmanager
async def recorded_counter(recorder: Recorder) -> AsyncIterator[tuple[Supervisor, AgentRef]]:
    """With ``recorder`` installed, a supervisor that starts the sink, then the
    counter; yields the supervisor and the counter's ref."""
    with jido_trio.intercept(recorder):
        async with jido_trio.open_supervisor(
            [jido_trio.agent_spec("sink", SINK), jido_trio.agent_spec("counter", COUNTER)]
        ) as sup:
            yield sup, {i.id: i.value for i in sup.which_children()}["counter"]


async def test_recorder_traces_every_seam_crossing_in_order(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Child starts, checkpoint loads, mailbox messages, cmd outcomes, saves and
    deliveries are recorded in order with their virtual times."""
    recorder = Recorder()
    async with recorded_counter(recorder) as (sup, counter):
        await trio.sleep(1)
        assert await counter.call(Signal("count.inc", id="s1")) == 1
        await trio.testing.wait_all_tasks_blocked()
        await sup.shutdown()
    assert [e.line() for e in recorder.events] == [
        "0.0 child.start root/sink restarts=0",
        "0.0 load root/sink version=none",
        "0.0 child.start root/counter restarts=0",
        "0.0 load root/counter version=none",
        "1.0 signal root/counter signal count.inc",
        "1.0 cmd root/counter inc ok",
        "1.0 save root/counter version=1",
        "1.0 deliver root/counter count.changed -> sink",
        "1.0 signal.done root/counter duration=0.0",
        "1.0 signal root/sink signal count.changed",
        "1.0 cmd root/sink noop ok",
        "1.0 save root/sink version=1",
        "1.0 signal.done root/sink duration=0.0",
    ]
    assert len(recorder) == 13


def test_same_behaviour_gives_the_same_digest_and_different_behaviour_another() -> None:
    """Two identical runs share a digest; a run that does one more thing differs."""

    async def run(extra: bool) -> str:
        recorder = Recorder()
        async with recorded_counter(recorder) as (sup, counter):
            await counter.call(Signal("count.inc"))
            if extra:
                await counter.call(Signal("count.inc"))
            await trio.testing.wait_all_tasks_blocked()
            await sup.shutdown()
        return recorder.digest()

    clock = trio.testing.MockClock
    first = trio.run(run, False, clock=clock(autojump_threshold=0))
    again = trio.run(run, False, clock=clock(autojump_threshold=0))
    other = trio.run(run, True, clock=clock(autojump_threshold=0))
    assert first == again
    assert first != other


async def test_recorder_limit_keeps_the_latest_events_but_digests_all(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """With limit=2 only the last two events are kept; the digest still covers all."""
    full, short = Recorder(), Recorder(limit=2)
    for rec in (full, short):
        for i in range(5):
            rec.record("mark", "root", str(i))
    assert [e.detail for e in short.events] == ["3", "4"]
    assert short.digest() == full.digest()
    assert len(short) == 5


def test_recorder_rejects_a_bad_limit() -> None:
    """limit must be a positive int."""
    with pytest.raises(ValueError, match=r"limit=0 is not valid; expected an int >= 1 or None"):
        Recorder(limit=0)
