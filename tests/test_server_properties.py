"""Property: under random casts, calls and kills, AgentServer loses nothing.

Hypothesis draws a schedule of steps as data (what to send, to which agent,
kills, and the virtual time between steps), so a failing schedule shrinks to a
minimal one. Each example is one ``trio.run`` on a ``MockClock`` with
``autojump_threshold=0``: virtual time, no real sleeps.

After every step, at a quiescent point, every agent's accounting holds
(``sent == processed + dead_lettered + queued + in_flight``); at the end every
message is accounted for exactly once (processed, or dead-lettered with a
reason), and every call returned or raised within its timeout.

The mailboxes are large enough that no sender ever waits for space here: a
sender blocked on a full mailbox is pinned separately in
``tests/test_server.py::test_identity_holds_while_a_sender_waits_for_space``.
"""

from __future__ import annotations

from typing import Literal

import attrs
import trio
import trio.testing
from agents_fixtures import Box, Hold, Message, NoteParams, check_identity, note
from hypothesis import event, given
from hypothesis import strategies as st

from jido_trio import (
    AgentDef,
    AgentDownError,
    AgentRef,
    CallTimeoutError,
    Signal,
    action,
    agent_spec,
    intercept,
    kill,
    open_supervisor,
)

# Box, note and Hold come from agents_fixtures; here every message is held alike.


@action("fail", params=NoteParams)
def fail(state: Box, params: NoteParams) -> Box:
    raise ValueError(params.tag)


BOX: AgentDef[Box] = AgentDef(
    "box", Box, [note, fail], routes={"box.note": "note", "box.fail": "fail"}
)
AGENTS = 2


def tag_of(message: Message) -> str:
    """The message's tag; every message sent here has one."""
    data = message.data if isinstance(message, Signal) else message.params
    assert isinstance(data, dict)
    return str(data["tag"])


@attrs.frozen
class Step:
    kind: Literal["cast", "call", "fail", "unroutable", "kill", "wait"]
    target: int
    value: float  # the call's timeout, or the wait's duration


target = st.integers(0, AGENTS - 1)
steps = st.lists(
    st.one_of(
        st.builds(Step, st.just("cast"), target, st.just(0.0)),
        st.builds(Step, st.just("call"), target, st.sampled_from([0.5, 1.0, 5.0])),
        st.builds(Step, st.just("fail"), target, st.just(0.0)),
        st.builds(Step, st.just("unroutable"), target, st.just(0.0)),
        st.builds(Step, st.just("kill"), target, st.just(0.0)),
        st.builds(Step, st.just("wait"), st.just(0), st.sampled_from([0.25, 0.5, 1.0, 2.0])),
    ),
    min_size=3,
    max_size=30,
)


@attrs.define
class CallRecord:
    tag: str
    timeout: float
    start: float
    end: float = -1.0
    outcome: str = "pending"


async def scenario(plan: list[Step], hold: float, settle: bool) -> None:
    sent: list[list[str]] = [[] for _ in range(AGENTS)]
    calls: list[CallRecord] = []

    async def caller(ref: AgentRef, record: CallRecord) -> None:
        try:
            result = await ref.call(note(tag=record.tag), timeout=record.timeout)
        except CallTimeoutError:
            record.outcome = "timeout"
        except AgentDownError:
            record.outcome = "down"
        else:
            assert result == record.tag
            record.outcome = "ok"
        record.end = trio.current_time()

    with intercept(Hold(hold)):  # every message, so kills land mid-message
        async with open_supervisor(max_restarts=10_000, max_seconds=1) as sup:
            refs: list[AgentRef] = [
                await sup.start_child(agent_spec(f"a{i}", BOX)) for i in range(AGENTS)
            ]
            async with trio.open_nursery() as nursery:
                for n, step in enumerate(plan):
                    ref = refs[step.target]
                    tag = f"m{n}"
                    if step.kind == "cast":
                        await ref.cast(note(tag=tag))
                        sent[step.target].append(tag)
                    elif step.kind == "fail":
                        ref.cast_nowait(Signal("box.fail", {"tag": tag}))
                        sent[step.target].append(tag)
                    elif step.kind == "unroutable":
                        await ref.cast(Signal("box.nowhere", {"tag": tag}))
                        sent[step.target].append(tag)
                    elif step.kind == "call":
                        record = CallRecord(tag, step.value, trio.current_time())
                        calls.append(record)
                        sent[step.target].append(tag)
                        nursery.start_soon(caller, ref, record)
                    elif step.kind == "kill":
                        kill(ref.path)
                    else:
                        await trio.sleep(step.value)
                    await trio.testing.wait_all_tasks_blocked()
                    for r in refs:
                        check_identity(r, f"after step {n} {step}")
                if settle:
                    await trio.sleep(1000.0)
                    for r in refs:
                        check_identity(r, "settled")
                        assert r.stats().queued == r.stats().in_flight == 0
                await sup.shutdown()

    for i, ref in enumerate(refs):
        processed = list(ref.state.log)
        dead = [tag_of(d.message) for d in ref.dead_letters]
        assert len(set(processed)) == len(processed), processed
        assert len(set(dead)) == len(dead), dead
        assert not set(processed) & set(dead), (processed, dead)
        assert sorted(processed + dead) == sorted(sent[i]), (processed, dead, sent[i])
        stats = ref.stats()
        assert (stats.sent, stats.processed, stats.dead_lettered) == (
            len(sent[i]),
            len(processed),
            len(dead),
        )
        assert (stats.queued, stats.in_flight) == (0, 0)
        reasons = {tag_of(d.message): d.reason for d in ref.dead_letters}
        for reason in sorted(set(reasons.values())):
            event(f"dead letter reason: {reason}")
        for record in calls:
            if record.tag in processed + dead and record.outcome == "ok":
                assert record.tag in processed
            if record.tag in reasons and record.outcome == "down":
                assert reasons[record.tag] in ("crashed", "agent_stopped")
    for record in calls:
        event(f"call outcome: {record.outcome}")
        assert record.outcome != "pending", record
        assert record.start <= record.end <= record.start + record.timeout, record
        if record.outcome == "timeout":
            assert record.end == record.start + record.timeout, record


@given(plan=steps, hold=st.sampled_from([0.5, 1.0, 2.0, 0.0]), settle=st.booleans())
def test_every_message_is_accounted_for_under_kills(
    plan: list[Step], hold: float, settle: bool
) -> None:
    """Random casts, calls and kills: the identity holds at each step, nothing is lost."""
    trio.run(scenario, plan, hold, settle, clock=trio.testing.MockClock(autojump_threshold=0))
