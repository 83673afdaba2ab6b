"""Regressions of the runtime (AgentServer and supervisors): one test per defect
found by adversarial testing, each asserting the documented behaviour.

Every test runs on virtual time (``autojump_clock``, or ``trio.run`` with a
``MockClock(autojump_threshold=0)``) and pins exact virtual times. Faults go
through public seams only: fake checkpoint stores, interceptors, a
``random.Random`` subclass and ``jido_trio.kill``.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing
from adversarial_support import (
    BOX,
    LEAD,
    Crew,
    FaultyRandom,
    GatedLoad,
    LoadFails,
    LoadReturns,
    StartGate,
    Twice,
    assert_stopped_for_good,
    hire,
)
from agents_fixtures import Box, Hold, Message, Proceed, add, note, tag_of

import jido_trio
from jido_trio import (
    Agent,
    AgentDef,
    AgentRef,
    AgentStats,
    Backoff,
    ChildStartError,
    DuplicateChildError,
    Interceptor,
    InvalidChildSpecError,
    InvalidParamsError,
    InvalidStateError,
    MemoryStore,
    Recorder,
    RegistryError,
    RestartIntensityError,
    Signal,
    SqliteStore,
    StoreError,
    TelemetryEvent,
    agent_spec,
    attach_telemetry,
    dead_letters,
    execute,
    intercept,
    kill,
    open_supervisor,
    spec_ref,
    supervisor_spec,
    tree,
    whereis,
)


def letters(ref: AgentRef) -> list[tuple[str, str]]:
    return [(tag_of(d.message), d.reason) for d in ref.dead_letters]


def statuses() -> list[tuple[str, str]]:
    return [(n.path, n.status) for n in tree()]


async def assert_starts_again(sup: jido_trio.Supervisor, name: str) -> None:
    """A fresh spec with ``name`` starts, takes the name and answers."""
    fresh = await sup.start_child(agent_spec(name, BOX, store=MemoryStore()))
    assert whereis(name) is fresh
    assert await fresh.call(add(amount=2)) == 2


# ------------------------------------------------ 1. a failed start releases the name


async def test_a_failed_checkpoint_load_releases_the_name(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A start whose store load fails frees the name and leaves the ref down; a retry starts."""
    async with open_supervisor() as sup:
        spec = agent_spec("tally", BOX, store=LoadFails())
        ref = spec_ref(spec)
        with pytest.raises(StoreError, match=r"^LoadFails: cannot load checkpoint 'root/tally'$"):
            await sup.start_child(spec)
        assert sup.which_children() == []
        assert whereis("tally") is None
        assert not ref.alive
        await assert_starts_again(sup, "tally")
        await sup.shutdown()
    assert trio.current_time() == 0.0


def test_a_bad_state_mapping_is_rejected_where_it_is_written() -> None:
    """agent_spec(state=<mapping that does not structure>) fails at once, naming the path."""
    with pytest.raises(
        InvalidStateError,
        match=r"^agent_spec\('tally'\): state= is not a valid Box: (?s:.*)n: expected int @ \$\.n",
    ):
        agent_spec("tally", BOX, state={"n": "x"})


async def test_an_initial_state_that_fails_at_start_releases_the_name(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A start whose initial state cannot be built frees the name; a retry starts."""
    broken = AgentDef("box", Box, [note], initial=lambda agent_id: "not a Box")  # type: ignore[arg-type, return-value]
    async with open_supervisor() as sup:
        spec = agent_spec("tally", broken)
        ref = spec_ref(spec)
        with pytest.raises(InvalidStateError, match=r"initial\('tally'\) returned 'not a Box'"):
            await sup.start_child(spec)
        assert sup.which_children() == []
        assert whereis("tally") is None
        assert not ref.alive
        await assert_starts_again(sup, "tally")
        await sup.shutdown()


async def test_a_sqlite_store_on_a_file_that_is_not_a_database_releases_the_name(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A SqliteStore whose file is not a database fails the start; the name is freed."""
    garbage = tmp_path / "x.db"
    garbage.write_bytes(b"this is not an SQLite database, just bytes" * 100)
    async with open_supervisor() as sup:
        spec = agent_spec("tally", BOX, store=SqliteStore(garbage))
        ref = spec_ref(spec)
        with pytest.raises(StoreError, match=r"cannot load checkpoint 'root/tally'"):
            await sup.start_child(spec)
        assert sup.which_children() == []
        assert whereis("tally") is None
        assert not ref.alive
        await assert_starts_again(sup, "tally")
        await sup.shutdown()


async def test_a_kill_during_the_checkpoint_load_releases_the_name(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A kill while the agent loads its checkpoint fails the start and frees the name."""
    store = GatedLoad()
    async with open_supervisor() as sup:
        spec = agent_spec("tally", BOX, store=store)
        ref = spec_ref(spec)
        async with trio.open_nursery() as nursery:

            async def start() -> None:
                with pytest.raises(ChildStartError, match=r"'root/tally'"):
                    await sup.start_child(spec)

            nursery.start_soon(start)
            await trio.testing.wait_all_tasks_blocked()
            assert (store.loading, statuses()) == (
                1,
                [("root", "running"), ("root/tally", "starting")],
            )
            kill("root/tally")
        assert sup.which_children() == []
        assert whereis("tally") is None
        assert not ref.alive
        await assert_starts_again(sup, "tally")
        await sup.shutdown()
    assert trio.current_time() == 0.0


async def test_a_kill_before_the_body_runs_leaves_the_ref_down(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A kill while an interceptor holds the start fails it: the ref is down, a retry starts."""
    gate = StartGate()
    with intercept(gate):
        async with open_supervisor() as sup:
            spec = agent_spec("tally", BOX)
            ref = spec_ref(spec)
            async with trio.open_nursery() as nursery:

                async def start() -> None:
                    with pytest.raises(ChildStartError, match=r"'root/tally'"):
                        await sup.start_child(spec)

                nursery.start_soon(start)
                await trio.testing.wait_all_tasks_blocked()
                assert statuses() == [("root", "running"), ("root/tally", "starting")]
                kill("root/tally")
            assert sup.which_children() == []
            assert whereis("tally") is None
            assert not ref.alive
            gate.gate.set()
            await assert_starts_again(sup, "tally")
            await sup.shutdown()


async def test_messages_queued_before_a_failed_start_are_dead_lettered(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A ref whose start failed is stopped for good: what waited in its mailbox is dead-lettered."""
    async with open_supervisor() as sup:
        spec = agent_spec("tally", BOX, store=LoadFails())
        ref = spec_ref(spec)
        ref.cast_nowait(note(tag="early"))
        with pytest.raises(StoreError, match="cannot load"):
            await sup.start_child(spec)
        assert letters(ref) == [("early", "agent_stopped")]
        assert_stopped_for_good(ref, "tally")
        await sup.shutdown()


# ------------------------------- 2. a child waiting for its restart is stopped for good


async def test_a_restarting_agent_is_stopped_for_good_when_the_scope_is_cancelled(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Cancelling the scope during a backoff stops the waiting agent for good."""
    spec = agent_spec("a", BOX, mailbox_size=1)
    ref = spec_ref(spec)
    with trio.CancelScope() as scope:
        async with open_supervisor([spec], backoff=Backoff(initial=1, jitter=0)):
            kill("root/a")
            await trio.testing.wait_all_tasks_blocked()
            assert statuses() == [("root", "running"), ("root/a", "restarting")]
            ref.cast_nowait(note(tag="queued"))  # fills the mailbox
            scope.cancel()
    assert scope.cancelled_caught
    assert trio.current_time() == 0.0
    assert letters(ref) == [("queued", "agent_stopped")]
    assert_stopped_for_good(ref, "a")
    with trio.move_on_after(1) as waited:
        await ref.cast(note(tag="awaited"))  # never blocks on a mailbox nobody reads
    assert not waited.cancelled_caught
    assert trio.current_time() == 0.0
    assert letters(ref)[-1] == ("awaited", "agent_stopped")


async def test_a_restarting_agent_is_stopped_for_good_when_the_body_raises(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A body that raises during a backoff stops the waiting agent for good."""
    spec = agent_spec("a", BOX)
    ref = spec_ref(spec)

    async def run() -> None:
        async with open_supervisor([spec], backoff=Backoff(initial=1, jitter=0)):
            kill("root/a")
            await trio.testing.wait_all_tasks_blocked()
            assert statuses() == [("root", "running"), ("root/a", "restarting")]
            ref.cast_nowait(note(tag="queued"))
            raise KeyError("a bug in the body")

    with pytest.raises(KeyError, match="a bug in the body"):
        await run()
    assert letters(ref) == [("queued", "agent_stopped")]
    assert_stopped_for_good(ref, "a")


async def test_a_restarting_agent_is_stopped_for_good_when_the_control_task_fails(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A supervisor that dies deciding a restart (its rng fails) stops the agent for good."""
    spec = agent_spec("a", BOX)
    ref = spec_ref(spec)

    async def run() -> None:
        async with open_supervisor(
            [spec], backoff=Backoff(initial=1, jitter=0.5), rng=FaultyRandom()
        ):
            kill("root/a")
            ref.cast_nowait(note(tag="queued"))  # lands after the kill, before the exit
            await trio.sleep(10)

    with pytest.raises(RuntimeError, match="entropy ran out"):
        await run()
    assert trio.current_time() == 0.0
    assert letters(ref) == [("queued", "agent_stopped")]
    assert_stopped_for_good(ref, "a")


async def test_a_restarting_child_agent_is_stopped_for_good_when_its_parent_crashes(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A SpawnAgent child waiting for its restart goes down for good with its crashing parent."""
    caplog.set_level(logging.WARNING, logger="jido_trio.agent")
    spec = agent_spec("lead", LEAD, children={"backoff": Backoff(initial=1, jitter=0)})
    lead = spec_ref(spec)
    sender = agent_spec("s", BOX)
    async with open_supervisor([spec, sender]) as sup:
        assert await lead.call(hire()) == 1
        worker = whereis("w")
        assert isinstance(worker, AgentRef)
        kill("root/lead/w")
        await trio.testing.wait_all_tasks_blocked()
        assert ("root/lead/w", "restarting") in statuses()
        worker.cast_nowait(note(tag="queued"))
        kill("root/lead")
        await trio.testing.wait_all_tasks_blocked()
        assert statuses() == [("root", "running"), ("root/lead", "running"), ("root/s", "running")]
        assert letters(worker) == [("queued", "agent_stopped")]
        assert_stopped_for_good(worker, "w")
        # an Emit to it finds no agent: it does not land in a mailbox nobody reads
        emit = Signal("box.send", {"tag": "s-1", "to": "w", "sent": "e-1"}, id="s-1")
        assert await spec_ref(sender).call(emit) == "s-1"
        assert [(tag_of(d.message), d.reason, d.agent) for d in dead_letters()][-1] == (
            "e-1",
            "no_such_agent",
            "w",
        )
        assert worker.stats().queued == 0
        # the restarted lead can hire "w" again: the name is free
        assert await lead.call(hire()) == 2
        fresh = lead.children()["w"]
        assert fresh is not worker
        assert whereis("w") is fresh
        await sup.shutdown()
    assert trio.current_time() == 0.0
    assert [r.getMessage() for r in caplog.records if r.name == "jido_trio.agent"] == []


# ------------------------------------------- 3. a non-string key in signal data


BAD_KEYS = [{"amount": 1, 2: "x"}, {"amount": 1, 2: "x", "z": 3}, {3: 1, "y": 2}]


@pytest.mark.parametrize("data", BAD_KEYS, ids=["int-key", "int-and-str-keys", "no-amount"])
def test_cmd_reports_a_non_string_key_as_invalid_params(data: dict[Any, Any]) -> None:
    """cmd returns InvalidParamsError for signal data with a non-string key; it never raises."""
    outcome = execute(BOX.new("b"), Signal("box.add", data, id="k"))
    assert isinstance(outcome.error, InvalidParamsError)
    assert str(outcome.error).startswith("invalid params for action 'add':\n")


@pytest.mark.parametrize("data", BAD_KEYS, ids=["int-key", "int-and-str-keys", "no-amount"])
async def test_a_non_string_key_in_signal_data_is_dead_lettered_not_a_crash(
    autojump_clock: trio.testing.MockClock, data: dict[Any, Any]
) -> None:
    """A running agent dead-letters such a signal 'invalid_params' and keeps running."""
    async with open_supervisor([agent_spec("a", BOX)]) as sup:
        ref = whereis("a")
        with pytest.raises(InvalidParamsError, match=r"^invalid params for action 'add':\n"):
            await ref.call(Signal("box.add", data, id="k"))
        assert [(d.message.id, d.reason) for d in ref.dead_letters] == [("k", "invalid_params")]
        assert sup.which_children()[0].restarts == 0
        assert ref.stats() == AgentStats(
            sent=1, processed=0, dead_lettered=1, queued=0, in_flight=0
        )
        assert await ref.call(add(amount=1)) == 1
        await sup.shutdown()
    assert trio.current_time() == 0.0


# --------------------------------- 4. a duplicated message doing the first SpawnAgent


async def test_a_duplicated_first_spawn_is_processed_twice_and_counted_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Duplicating the message that opens the agent's supervisor: the call gets the first
    result, the identity holds, and the duplicate's spawn fails as a reported directive."""
    directives: list[TelemetryEvent] = []
    spec = agent_spec("lead", LEAD)
    lead = spec_ref(spec)
    with attach_telemetry(directives.append, events=["agent.directive"]), intercept(Twice()):
        async with open_supervisor([spec]) as sup:
            assert await lead.call(hire(), timeout=2) == 1
            assert trio.current_time() == 0.0
            await trio.testing.wait_all_tasks_blocked()
            assert lead.state == Crew(hires=2)
            assert lead.agent is not None
            assert lead.agent.version == 2
            assert lead.stats() == AgentStats(
                sent=1, processed=1, dead_lettered=0, queued=0, in_flight=0
            )
            assert sorted(lead.children()) == ["w"]
            assert sup.which_children()[0].restarts == 0
            await sup.shutdown()
    spawns = [
        (e.path, type(e.data["error"]).__name__)
        for e in directives
        if type(e.data["directive"]).__name__ == "SpawnAgent"
    ]
    assert spawns == [
        ("root/lead", "NoneType"),
        ("root/lead", "NoneType"),
        ("root/lead", DuplicateChildError.__name__),
    ]


# ---------------------------------------- 5. one spec under two supervisors at once


@pytest.mark.parametrize("name", [None, False])
async def test_a_spec_cannot_run_under_two_supervisors_at_once(
    autojump_clock: trio.testing.MockClock, name: str | bool | None
) -> None:
    """Starting a running agent's spec in a second supervisor fails; the first keeps working."""
    spec = agent_spec("tally", BOX, name=name)  # type: ignore[arg-type]
    ref = spec_ref(spec)
    async with open_supervisor(name="one") as one, open_supervisor(name="two") as two:
        assert await one.start_child(spec) is ref
        with pytest.raises(jido_trio.JidoError, match="already running") as caught:
            await two.start_child(spec)
        assert "tally" in str(caught.value)
        assert two.which_children() == []
        assert (ref.path, ref.alive) == ("one/tally", True)
        assert await ref.call(add(amount=3)) == 3
        await two.shutdown()
        assert (ref.path, ref.alive) == ("one/tally", True)
        assert await ref.call(add(amount=4)) == 7
        assert ref.stats() == AgentStats(
            sent=2, processed=2, dead_lettered=0, queued=0, in_flight=0
        )
        await one.shutdown()
    assert not ref.alive


# ------------------------------------------------ 6. rng and children are checked


async def test_open_supervisor_rejects_an_rng_that_is_not_a_random(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """open_supervisor(rng='seed') raises InvalidChildSpecError before anything starts."""
    started: list[str] = []

    async def worker() -> None:
        started.append("worker")

    with pytest.raises(InvalidChildSpecError, match=r"rng='seed'"):
        async with open_supervisor([jido_trio.ChildSpec("w", worker)], rng="seed"):  # type: ignore[arg-type]
            pytest.fail("the body ran")
    assert (started, tree()) == ([], [])


def test_supervisor_spec_rejects_an_rng_that_is_not_a_random() -> None:
    """supervisor_spec(rng='seed') raises InvalidChildSpecError where it is written."""
    with pytest.raises(InvalidChildSpecError, match=r"rng='seed'"):
        supervisor_spec("sub", rng="seed")


def test_agent_spec_rejects_an_rng_in_children_that_is_not_a_random() -> None:
    """agent_spec(children={'rng': 'seed'}) raises InvalidChildSpecError where it is written."""
    with pytest.raises(InvalidChildSpecError, match=r"rng='seed'"):
        agent_spec("lead", LEAD, children={"rng": "seed"})


@pytest.mark.parametrize(("children", "shown"), [("abc", "'abc'"), (5, "5")])
def test_agent_spec_rejects_children_that_is_not_a_mapping(children: Any, shown: str) -> None:
    """agent_spec(children='abc' or 5) raises InvalidChildSpecError naming option and value."""
    with pytest.raises(InvalidChildSpecError, match=rf"children={shown}"):
        agent_spec("lead", LEAD, children=children)


# ------------------------------------- 7. StopChild of a temporary child; bad loads


async def test_stop_child_of_a_temporary_child_is_not_a_failed_directive(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    """StopChild stops and forgets a temporary child with no warning and no error event."""
    caplog.set_level(logging.WARNING, logger="jido_trio.agent")
    events: list[TelemetryEvent] = []
    spec = agent_spec("lead", LEAD)
    lead = spec_ref(spec)
    with attach_telemetry(events.append, events=["agent.directive"]):
        async with open_supervisor([spec]) as sup:
            assert await lead.call(hire(restart="temporary")) == 1
            worker = lead.children()["w"]
            assert await lead.call(Signal("crew.fire", {"worker": "w"}, id="f")) == "fired"
            assert lead.children() == {}
            assert whereis("w") is None
            assert not worker.alive
            await sup.shutdown()
    assert [r.getMessage() for r in caplog.records if r.name == "jido_trio.agent"] == []
    assert [(type(e.data["directive"]).__name__, e.data["error"]) for e in events] == [
        ("SpawnAgent", None),
        ("StopChild", None),
    ]


def wrong_version(definition: AgentDef[Any]) -> Agent[Any]:
    return Agent(definition, "tally", Box(3), "7")  # type: ignore[arg-type]


def bool_version(definition: AgentDef[Any]) -> Agent[Any]:
    return Agent(definition, "tally", Box(3), True)


def negative_version(definition: AgentDef[Any]) -> Agent[Any]:
    return Agent(definition, "tally", Box(3), -1)


def wrong_state(definition: AgentDef[Any]) -> Agent[Any]:
    return Agent(definition, "tally", "not a Box", 0)


def not_an_agent(definition: AgentDef[Any]) -> Any:
    return {"state": {"n": 3}, "version": 1}


@pytest.mark.parametrize(
    ("make", "shown"),
    [
        (wrong_version, "'7'"),
        (bool_version, "True"),
        (negative_version, "-1"),
        (wrong_state, "'not a Box'"),
        (not_an_agent, "'state'"),
    ],
    ids=["version-str", "version-bool", "version-negative", "state-type", "not-an-agent"],
)
async def test_a_store_load_of_the_wrong_shape_fails_the_start(
    autojump_clock: trio.testing.MockClock, make: Any, shown: str
) -> None:
    """A store whose load returns a malformed Agent fails the start with a StoreError
    naming the value; nothing runs, so no later call can crash."""
    async with open_supervisor() as sup:
        spec = agent_spec("tally", BOX, store=LoadReturns(make))
        ref = spec_ref(spec)
        with pytest.raises(StoreError, match="root/tally") as caught:
            await sup.start_child(spec)
        assert shown in str(caught.value)
        assert sup.which_children() == []
        assert not ref.alive
        await sup.shutdown()


# ---------------------------------------------------- 8. SqliteStore on virtual time


def test_sqlite_store_answers_at_virtual_time_zero(tmp_path: Path) -> None:
    """Under MockClock(autojump_threshold=0) a SqliteStore agent answers at t=0, shuts down at
    t=0, and two runs give the same trace digest."""

    async def run(path: Path, recorder: Recorder) -> tuple[int, float, float]:
        store = SqliteStore(path)
        spec = agent_spec("tally", BOX, store=store)
        ref = spec_ref(spec)
        with intercept(recorder):
            async with open_supervisor([spec]) as sup:
                result = await ref.call(add(amount=1))
                answered = trio.current_time()
                await sup.shutdown()
        await store.aclose()
        return result, answered, trio.current_time()

    recorders = [Recorder(), Recorder()]
    for i, recorder in enumerate(recorders):
        clock = trio.testing.MockClock(autojump_threshold=0)
        outcome = trio.run(run, tmp_path / f"run{i}.db", recorder, clock=clock)
        assert outcome == (1, 0.0, 0.0)
    assert recorders[0].digest() == recorders[1].digest()
    assert [e.line() for e in recorders[0].events][-1] == "0.0 signal.done root/tally duration=0.0"


# ------------------------------------------ found by tests/test_runtime_adversarial.py


async def test_the_child_that_escalates_is_stopped_for_good_at_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The agent whose crash exceeds the intensity is stopped for good at once, not only
    after its siblings' shutdown grace ran out."""
    specs = [agent_spec("a", BOX), agent_spec("slow", BOX)]
    a, slow = spec_ref(specs[0]), spec_ref(specs[1])

    async def run() -> None:
        async with open_supervisor(specs, max_restarts=0):
            slow.cast_nowait(note(tag="hang"))  # busy for 100 s; its grace is 5 s
            await trio.testing.wait_all_tasks_blocked()
            kill("root/a")
            await trio.testing.wait_all_tasks_blocked()
            assert statuses() == [
                ("root", "running"),
                ("root/a", "stopped"),
                ("root/slow", "stopping"),
            ]
            assert trio.current_time() == 0.0
            assert_stopped_for_good(a, "a")
            await trio.sleep_forever()

    with intercept(Hold(100, only={"hang"})), pytest.raises(RestartIntensityError):
        await run()
    assert trio.current_time() == 5.0


async def test_the_child_that_escalates_is_stopped_for_good_if_the_scope_is_cancelled(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Cancelling the scope while an escalation stops the siblings still stops the agent
    that crashed for good."""
    specs = [agent_spec("a", BOX), agent_spec("slow", BOX)]
    a, slow = spec_ref(specs[0]), spec_ref(specs[1])
    # whether the escalation or the cancellation is reported is not what this pins
    with (
        intercept(Hold(100, only={"hang"})),
        trio.move_on_after(1),
        contextlib.suppress(RestartIntensityError),
    ):
        async with open_supervisor(specs, max_restarts=0):
            slow.cast_nowait(note(tag="hang"))
            await trio.testing.wait_all_tasks_blocked()
            kill("root/a")
            a.cast_nowait(note(tag="queued"))
            await trio.sleep_forever()
    assert trio.current_time() == 1.0
    assert letters(a) == [("queued", "agent_stopped")]
    assert_stopped_for_good(a, "a")
    assert_stopped_for_good(slow, "slow")


class AfterProceed(Interceptor):
    """Records the lead's running children once ``proceed`` returned; raises then for
    a signal whose subject is ``"boom"``."""

    def __init__(self) -> None:
        self.children: list[list[str]] = []

    async def on_signal(self, agent: AgentRef, message: Message, proceed: Proceed) -> None:
        await proceed(message)
        if agent.definition is LEAD:
            self.children.append(sorted(agent.children()))
            if isinstance(message, Signal) and message.subject == "boom":
                raise RuntimeError("boom after proceed")


async def test_proceed_returns_after_the_first_spawn_ran(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """on_signal's proceed runs cmd and every directive, the agent's first SpawnAgent too,
    before it returns (Interceptor's contract)."""
    after, recorder = AfterProceed(), Recorder()
    spec = agent_spec("lead", LEAD)
    lead = spec_ref(spec)
    with intercept(after, recorder):
        async with open_supervisor([spec]) as sup:
            assert await lead.call(hire()) == 1
            assert await lead.call(hire(worker="v")) == 2
            await sup.shutdown()
    assert after.children == [["w"], ["v", "w"]]
    lines = [e.line() for e in recorder.events]
    assert lines.index("0.0 child.start root/lead/w restarts=0") < lines.index(
        "0.0 signal.done root/lead duration=0.0"
    )


async def test_a_crash_after_proceed_on_the_first_spawn_keeps_the_message_processed(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """An interceptor raising after proceed crashes the agent once the message (its first
    SpawnAgent included) was processed: the call has its result, nothing is dead-lettered."""
    started: list[TelemetryEvent] = []
    spec = agent_spec("lead", LEAD)
    lead = spec_ref(spec)
    boom = Signal("crew.hire", {"worker": "w"}, id="h-1", subject="boom")
    with attach_telemetry(started.append, events=["child.started"]), intercept(AfterProceed()):
        async with open_supervisor([spec]) as sup:
            assert await lead.call(boom) == 1
            await trio.testing.wait_all_tasks_blocked()
            assert lead.dead_letters == ()
            assert lead.stats() == AgentStats(
                sent=1, processed=1, dead_lettered=0, queued=0, in_flight=0
            )
            assert (lead.state, sup.which_children()[0].restarts) == (Crew(hires=1), 1)
            await sup.shutdown()
    assert [e.path for e in started] == ["root/lead", "root/lead/w", "root/lead"]


async def test_terminate_child_returns_when_the_supervisor_escalates_meanwhile(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A terminate_child queued while the supervisor escalates returns once it has stopped
    everything; it never hangs."""
    specs = [agent_spec("a", BOX), agent_spec("slow", BOX)]
    slow = spec_ref(specs[1])
    outcome: list[tuple[str, float]] = []

    async def supervise(*, task_status: trio.TaskStatus[jido_trio.Supervisor]) -> None:
        async def run() -> None:
            async with open_supervisor(specs, max_restarts=0) as sup:
                task_status.started(sup)
                await trio.sleep_forever()

        with pytest.raises(RestartIntensityError):
            await run()

    with intercept(Hold(100, only={"hang"})):
        async with trio.open_nursery() as nursery:
            sup = await nursery.start(supervise)
            slow.cast_nowait(note(tag="hang"))
            await trio.testing.wait_all_tasks_blocked()
            kill("root/a")
            await trio.testing.wait_all_tasks_blocked()
            with trio.move_on_after(100):
                await sup.terminate_child("a")
                outcome.append(("returned", trio.current_time()))
    assert outcome == [("returned", 5.0)]


async def test_a_restart_refused_for_a_taken_name_leaves_the_ref_down(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """restart_child of an agent whose name was taken meanwhile fails with RegistryError and
    leaves the ref stopped for good: casts are dead-lettered, never queued unread."""
    spec = agent_spec("a", BOX)
    ref = spec_ref(spec)
    async with open_supervisor([spec]) as sup:
        await sup.terminate_child("a")
        with jido_trio.register("a", "squatter"):
            with pytest.raises(RegistryError, match="name 'a' is already registered"):
                await sup.restart_child("a")
            assert sup.which_children()[0].status == "stopped"
            assert not ref.alive
            ref.cast_nowait(note(tag="unread"))
            assert letters(ref) == [("unread", "agent_stopped")]
            assert ref.stats() == AgentStats(
                sent=1, processed=0, dead_lettered=1, queued=0, in_flight=0
            )
        await sup.shutdown()


# -- found by tests/reliability and review (on_stopped, shutdown, status) ------------


async def test_on_stopped_runs_once_each_time_a_child_is_stopped_for_good(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """on_stopped runs once per stop for good: a transient child that returned is
    not reported again by the control task, nor by the shutdown; it was called
    two or three times."""
    calls: list[tuple[float, str]] = []

    def stopped(child: jido_trio.ChildContext) -> None:
        calls.append((trio.current_time(), child.id))

    async def quick(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()

    async def idle(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        await trio.sleep_forever()

    specs = [
        jido_trio.ChildSpec("a", quick, restart="transient", on_stopped=stopped),
        jido_trio.ChildSpec("b", idle, shutdown=0, on_stopped=stopped),
    ]
    async with jido_trio.open_supervisor(specs) as sup:
        await trio.sleep(1)
        assert calls == [(0.0, "a")]
        await sup.terminate_child("a")  # already stopped: nothing new
        await sup.restart_child("a")  # a new start: its stop is reported again
        await trio.sleep(1)
        await sup.shutdown()
    assert calls == [(0.0, "a"), (1.0, "a"), (2.0, "b")]


async def test_a_shutdown_during_a_group_restart_restarts_nothing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """shutdown() while a one_for_all group is being stopped for its restart
    wins: the group is not started again (it was restarted, then stopped,
    6 s later)."""
    starts: list[tuple[float, str]] = []

    async def slow_to_stop(
        *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        starts.append((trio.current_time(), "a"))
        task_status.started()
        await jido_trio.current_child().stop_requested.wait()
        await trio.sleep(1)  # its cleanup takes 1 s, within its grace

    async def deaf(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        starts.append((trio.current_time(), "b"))
        task_status.started()
        await trio.sleep_forever()

    specs = [jido_trio.ChildSpec("a", slow_to_stop), jido_trio.ChildSpec("b", deaf)]
    async with jido_trio.open_supervisor(specs, strategy="one_for_all") as sup:
        await trio.sleep(1)
        jido_trio.kill("root/b")  # the group stops a (1 s), then would start both
        await trio.sleep(0.5)
        await sup.shutdown()
        assert trio.current_time() == 2.0
        assert [info.status for info in sup.which_children()] == ["stopped", "stopped"]
    assert starts == [(0.0, "a"), (0.0, "b")]


async def test_a_failed_restart_about_to_be_retried_shows_as_restarting(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """When a restart fails, the child is "restarting" until the supervisor
    retries it, never "stopped" (it was, until the control task ran)."""
    attempts = 0

    async def flaky(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        nonlocal attempts
        attempts += 1
        if attempts == 2:  # its first restart fails before it is started
            raise RuntimeError("restart failed")
        task_status.started()
        await trio.sleep_forever()

    seen: list[tuple[str, str]] = []

    def watch(event: TelemetryEvent) -> None:
        if event.name.startswith("child."):
            [node] = [n for n in jido_trio.tree() if n.path == "root/flaky"]
            seen.append((event.name, node.status))

    with attach_telemetry(watch):
        async with jido_trio.open_supervisor(
            [jido_trio.ChildSpec("flaky", flaky)], max_restarts=10
        ) as sup:
            jido_trio.kill("root/flaky")
            await trio.testing.wait_all_tasks_blocked()
            assert attempts == 3
            await sup.shutdown()
    assert seen[:6] == [
        ("child.started", "running"),
        ("child.exited", "restarting"),  # the kill
        ("child.restarting", "restarting"),
        ("child.start_failed", "restarting"),  # was "stopped"
        ("child.exited", "restarting"),
        ("child.restarting", "restarting"),
    ]
