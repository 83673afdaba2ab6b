"""AgentServer state across restarts: restart_from, commit rules, MemoryStore and
SqliteStore.

The tests run on virtual time (``autojump_clock``), SqliteStore's too: on a
MockClock its queries run inline, so they take no virtual time. A few plain
functions call ``trio.run`` themselves: on the real clock (the worker-thread
path), or twice on the same file to stand in for a process restart, or to
compare whole runs by their Recorder digest.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio
import trio.testing
from agents_fixtures import AddParams, NoteParams, check_identity

from jido_trio import (
    ActionResult,
    Agent,
    AgentDef,
    AgentDownError,
    AgentStats,
    CheckpointStore,
    InvalidChildSpecError,
    InvalidStateError,
    MemoryStore,
    Recorder,
    SqliteStore,
    StoreError,
    action,
    agent_spec,
    intercept,
    kill,
    open_supervisor,
)


# This file's Box caps ``n`` at 100, and its note returns the bare state.
@attrs.frozen
class Box:
    n: int = attrs.field(default=0, validator=attrs.validators.le(100))
    log: tuple[str, ...] = ()


@action("add", params=AddParams)
def add(state: Box, params: AddParams) -> ActionResult[Box]:
    new = attrs.evolve(state, n=state.n + params.amount)
    return ActionResult(new, result=new.n)


@action("note", params=NoteParams)
def note(state: Box, params: NoteParams) -> Box:
    return attrs.evolve(state, log=(*state.log, params.tag))


BOX: AgentDef[Box] = AgentDef("box", Box, [add, note])


@attrs.frozen
class Renamed:
    """Box after a schema change: ``n`` became a required ``count``."""

    count: int
    log: tuple[str, ...] = ()


RENAMED: AgentDef[Renamed] = AgentDef("box", Renamed, [])


async def crash(sup_path: str = "root/a") -> None:
    kill(sup_path)
    await trio.testing.wait_all_tasks_blocked()


# ------------------------------------------------------------------ restart_from


async def test_restart_from_checkpoint_keeps_the_last_committed_state(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """By default a restarted agent resumes from its last committed state and version."""
    async with open_supervisor() as sup:
        ref = await sup.start_child(agent_spec("a", BOX))
        assert await ref.call(add(amount=5)) == 5
        await ref.call(note(tag="x"))
        await crash()
        assert sup.which_children()[0].restarts == 1
        assert ref.state == Box(n=5, log=("x",))
        assert ref.agent is not None
        assert ref.agent.version == 2
        assert await ref.call(add(amount=1)) == 6
        await sup.shutdown()


async def test_restart_from_initial_starts_over(autojump_clock: trio.testing.MockClock) -> None:
    """restart_from='initial' restarts from the initial state, even with a store."""
    store = MemoryStore()
    async with open_supervisor() as sup:
        ref = await sup.start_child(
            agent_spec("a", BOX, state={"n": 7}, store=store, restart_from="initial")
        )
        assert ref.state == Box(n=7)
        await ref.call(add(amount=5))
        assert ref.state == Box(n=12)
        await crash()
        assert ref.state == Box(n=7)
        assert ref.agent is not None
        assert ref.agent.version == 0
        await sup.shutdown()


def test_restart_from_is_validated() -> None:
    """An unknown restart_from is an InvalidChildSpecError naming the choices."""
    with pytest.raises(
        InvalidChildSpecError,
        match=re.escape(
            "agent_spec('a'): restart_from='latest' is not valid; "
            "expected 'checkpoint' or 'initial'"
        ),
    ):
        agent_spec("a", BOX, restart_from="latest")  # type: ignore[arg-type]
    with pytest.raises(InvalidChildSpecError, match=r"store=\{\} is not valid"):
        agent_spec("a", BOX, store={})  # type: ignore[arg-type]


async def test_a_failing_cmd_does_not_commit(autojump_clock: trio.testing.MockClock) -> None:
    """A failed action (or an invalid new state) commits nothing, before or after a restart."""
    async with open_supervisor() as sup:
        ref = await sup.start_child(agent_spec("a", BOX))
        await ref.call(add(amount=5))
        with pytest.raises(
            InvalidStateError, match=r"^action 'add' built an invalid Box: 'n' must be <= 100"
        ):
            await ref.call(add(amount=500))
        assert ref.state == Box(n=5)
        await crash()
        assert ref.state == Box(n=5)
        assert ref.agent is not None
        assert ref.agent.version == 1
        assert [d.reason for d in ref.dead_letters] == ["action_failed"]
        assert check_identity(ref) == AgentStats(2, 1, 1, 0, 0)
        await sup.shutdown()


class FlakyStore(MemoryStore):
    """A MemoryStore whose save fails for one state value of ``n``."""

    def __init__(self, bad: int) -> None:
        super().__init__()
        self.bad = bad

    async def save(self, key: str, agent: Agent[Any]) -> None:
        if agent.state.n == self.bad:
            raise StoreError(f"disk full while saving {key!r}")
        await super().save(key, agent)


async def test_a_failing_save_crashes_the_agent_and_commits_nothing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A StoreError on save crashes the agent: the message is dead-lettered, state reverts."""
    store = FlakyStore(bad=13)
    async with open_supervisor() as sup:
        ref = await sup.start_child(agent_spec("a", BOX, store=store))
        await ref.call(add(amount=3))
        with pytest.raises(
            AgentDownError, match=r"^agent 'root/a' crashed before answering"
        ) as err:
            await ref.call(add(amount=10))
        assert isinstance(err.value.__cause__, StoreError)
        await trio.testing.wait_all_tasks_blocked()
        assert sup.which_children()[0].restarts == 1
        assert ref.state == Box(n=3)
        assert [(d.reason, type(d.error)) for d in ref.dead_letters] == [("crashed", StoreError)]
        assert check_identity(ref) == AgentStats(2, 1, 1, 0, 0)
        await sup.shutdown()


# ------------------------------------------------------------------ MemoryStore


async def test_memory_store_outlives_the_ref(autojump_clock: trio.testing.MockClock) -> None:
    """A MemoryStore keyed by path hands the committed state to a new ref of the same path."""
    store = MemoryStore()
    async with open_supervisor() as sup:
        a = await sup.start_child(agent_spec("a", BOX, store=store))
        b = await sup.start_child(agent_spec("b", BOX, store=store))
        await a.call(add(amount=5))
        await b.call(note(tag="b"))
        await sup.shutdown()
    assert sorted(store.keys()) == ["root/a", "root/b"]
    assert repr(store) == "<MemoryStore 2 agent(s)>"
    async with open_supervisor() as sup:
        again = await sup.start_child(agent_spec("a", BOX, store=store))
        assert again is not a
        assert again.state == Box(n=5)
        assert again.agent is not None
        assert again.agent.version == 1
        await sup.shutdown()
    loaded = await store.load("root/b", BOX)
    assert loaded is not None
    assert loaded.state == Box(log=("b",))
    assert await store.load("root/nobody", BOX) is None


async def test_memory_store_load_rebinds_the_definition(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """MemoryStore.load returns the agent with the definition it was asked for."""
    store = MemoryStore()
    other: AgentDef[Box] = AgentDef("box2", Box, [add])
    await store.save("k", BOX.new("a", Box(n=2)))
    loaded = await store.load("k", other)
    assert loaded is not None
    assert loaded.definition is other
    assert (loaded.id, loaded.state, loaded.version) == ("a", Box(n=2), 0)


def test_a_custom_store_must_be_a_checkpoint_store() -> None:
    """CheckpointStore is abstract: load and save must be implemented."""
    with pytest.raises(TypeError, match="abstract"):
        CheckpointStore()  # type: ignore[abstract]


# ------------------------------------------------------------------ SqliteStore


def test_sqlite_store_survives_a_process_restart(tmp_path: Path) -> None:
    """On the real clock, state committed to SQLite in one trio.run is loaded by a
    fresh store in another."""
    path = tmp_path / "checkpoints.db"

    async def first() -> None:
        store = SqliteStore(path)
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX, store=store))
            await ref.call(add(amount=5))
            await ref.call(note(tag="x"))
            kill("root/a")  # a restart within the run loads from the file too
            await trio.testing.wait_all_tasks_blocked()
            assert ref.state == Box(n=5, log=("x",))
            await sup.shutdown()
        await store.aclose()

    async def second() -> None:
        store = SqliteStore(str(path))
        assert repr(store) == f"<SqliteStore {str(path)!r}>"
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX, store=store))
            assert ref.state == Box(n=5, log=("x",))
            assert ref.agent is not None
            assert ref.agent.version == 2
            assert await ref.call(add(amount=1)) == 6
            await sup.shutdown()
        await store.aclose()

    trio.run(first)
    trio.run(second)


def overwrite(path: Path, key: str, column: str, sql_value: str) -> None:
    """Set one column of ``key``'s row to an SQL expression, as a damaged disk (or a
    hand edit) would."""
    with sqlite3.connect(path) as conn:
        cur = conn.execute(
            f"UPDATE jido_checkpoints SET {column} = {sql_value} WHERE key = ?", (key,)
        )
        assert cur.rowcount == 1
    conn.close()


async def test_sqlite_store_on_virtual_time_takes_no_time(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """On an autojump clock, an agent with a SqliteStore answers calls at exact virtual
    times (store I/O takes none), and a killed agent reloads its state from the file."""
    path = tmp_path / "v.db"
    store = SqliteStore(path)
    async with open_supervisor() as sup:
        ref = await sup.start_child(agent_spec("a", BOX, store=store))
        for amount, total in ((1, 1), (2, 3), (3, 6)):
            assert await ref.call(add(amount=amount)) == total
        assert trio.current_time() == 0.0
        overwrite(path, "root/a", "state", """'{"log": ["disk"], "n": 50}'""")
        await crash()  # the restarted agent loads the row just written
        assert trio.current_time() == 0.0
        assert sup.which_children()[0].restarts == 1
        assert ref.state == Box(n=50, log=("disk",))
        await trio.sleep(2.5)
        assert await ref.call(add(amount=4)) == 54
        assert trio.current_time() == 2.5
        await sup.shutdown()
    loaded = await store.load("root/a", BOX)
    assert loaded is not None
    assert (loaded.state, loaded.version) == (Box(n=54, log=("disk",)), 4)
    await store.aclose()
    assert trio.current_time() == 2.5


async def scenario(store: CheckpointStore) -> Recorder:
    """A run with calls, casts, a timer-paced pause, a kill and a restart, traced."""
    recorder = Recorder()
    with intercept(recorder):
        async with open_supervisor() as sup:
            ref = await sup.start_child(agent_spec("a", BOX, store=store))
            other = await sup.start_child(agent_spec("b", BOX, store=store))
            await ref.call(add(amount=2))
            await other.cast(note(tag="b"))
            await trio.sleep(1.5)
            await crash()
            await ref.cast(add(amount=3))
            assert await ref.call(note(tag="x")) == Box(n=5, log=("x",))
            await trio.sleep(0.25)
            assert await other.call(add(amount=7)) == 7
            await sup.shutdown()
    return recorder


def test_sqlite_store_runs_are_as_deterministic_as_memory_store_runs(tmp_path: Path) -> None:
    """Two autojump runs with a SqliteStore give the same trace, and the very trace
    of the same run with a MemoryStore (store I/O takes no virtual time)."""

    def run(store: CheckpointStore) -> Recorder:
        async def main() -> Recorder:
            recorder = await scenario(store)
            if isinstance(store, SqliteStore):
                await store.aclose()
            return recorder

        return trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))

    first = run(SqliteStore(tmp_path / "1.db"))
    second = run(SqliteStore(tmp_path / "2.db"))
    memory = run(MemoryStore())
    assert first.events == second.events == memory.events
    assert first.digest() == second.digest() == memory.digest()
    assert [event.line() for event in first.events] == [
        "0.0 child.start root/a restarts=0",
        "0.0 load root/a version=none",
        "0.0 child.start root/b restarts=0",
        "0.0 load root/b version=none",
        "0.0 signal root/a action add",
        "0.0 cmd root/a add ok",
        "0.0 save root/a version=1",
        "0.0 signal.done root/a duration=0.0",
        "0.0 signal root/b action note",
        "0.0 cmd root/b note ok",
        "0.0 save root/b version=1",
        "0.0 signal.done root/b duration=0.0",
        "1.5 child.start root/a restarts=1",
        "1.5 load root/a version=1",
        "1.5 signal root/a action add",
        "1.5 cmd root/a add ok",
        "1.5 save root/a version=2",
        "1.5 signal.done root/a duration=0.0",
        "1.5 signal root/a action note",
        "1.5 cmd root/a note ok",
        "1.5 save root/a version=3",
        "1.5 signal.done root/a duration=0.0",
        "1.75 signal root/b action add",
        "1.75 cmd root/b add ok",
        "1.75 save root/b version=2",
        "1.75 signal.done root/b duration=0.0",
    ]


class ProbeKey(str):
    """A checkpoint key that notes, each time sqlite3 binds it (through the adapter
    registered below), whether that happens in the main (Trio) thread."""

    inline: list[bool]

    def adapt(self) -> str:
        self.inline.append(threading.current_thread() is threading.main_thread())
        return str(self)


sqlite3.register_adapter(ProbeKey, ProbeKey.adapt)


def test_sqlite_queries_run_in_a_thread_on_the_real_clock_inline_on_a_mock_clock(
    tmp_path: Path,
) -> None:
    """On the real clock each query runs in a worker thread; on a MockClock, inline in
    the Trio thread."""

    def queries(clock: trio.abc.Clock | None) -> list[bool]:
        key = ProbeKey("root/probe")
        key.inline = []

        async def main() -> None:
            store = SqliteStore(tmp_path / "p.db")
            await store.save(key, BOX.new("a", Box(n=1)))
            loaded = await store.load(key, BOX)
            assert loaded is not None
            assert loaded.state == Box(n=1)
            await store.aclose()

        trio.run(main, clock=clock)
        return key.inline

    assert queries(None) == [False, False]
    assert queries(trio.testing.MockClock()) == [True, True]
    assert queries(trio.testing.MockClock(autojump_threshold=0)) == [True, True]


async def test_sqlite_store_calls_are_checkpoints(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """Inline on a MockClock, load and save are still checkpoints; cancelled before
    the query, a save raises Cancelled and writes nothing."""
    store = SqliteStore(tmp_path / "k.db")
    with trio.testing.assert_checkpoints():
        await store.save("k", BOX.new("a", Box(n=1)))
    with trio.testing.assert_checkpoints():
        assert await store.load("nobody", BOX) is None
    with trio.CancelScope() as scope:
        scope.cancel()
        await store.save("j", BOX.new("a", Box(n=2)))
    assert scope.cancelled_caught
    assert await store.load("j", BOX) is None
    await store.aclose()


async def test_sqlite_store_keys_with_quotes(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """Keys and ids with quotes and SQL are stored verbatim (queries are parameterized)."""
    nasty = 'o\'brien "q"; DROP TABLE jido_checkpoints; --'
    store = SqliteStore(tmp_path / "q.db")
    async with open_supervisor() as sup:
        ref = await sup.start_child(agent_spec(nasty, BOX, store=store))
        await ref.call(note(tag="it's"))
        await sup.shutdown()
    loaded = await store.load(f"root/{nasty}", BOX)
    assert loaded is not None
    assert (loaded.id, loaded.state, loaded.version) == (nasty, Box(log=("it's",)), 1)
    assert await store.load("root/o'brien", BOX) is None
    await store.aclose()


def corrupt_message(path: Path, key: str, problems: str, literal: str) -> str:
    """The exact StoreError message for a corrupt checkpoint."""
    return (
        f"SqliteStore {str(path)!r}: checkpoint {key!r} is corrupt: {problems}. Fix: delete "
        f"its row with DELETE FROM jido_checkpoints WHERE key = {literal} (the agent then "
        "starts from its initial state), or restore the file from a backup"
    )


@pytest.mark.parametrize(
    ("column", "sql_value", "problem"),
    [
        ("version", "'abc'", "version is 'abc', expected an int >= 0"),
        ("version", "1.5", "version is 1.5, expected an int >= 0"),
        ("version", "-1", "version is -1, expected an int >= 0"),
        ("agent_id", "''", "agent_id is '', expected a non-empty str"),
        ("agent_id", "X'6869'", "agent_id is b'hi', expected a non-empty str"),
        ("state", "'[1, 2]'", "state is '[1, 2]', expected a JSON object"),
        ("state", "'null'", "state is 'null', expected a JSON object"),
        ("state", "'\"n\"'", "state is '\"n\"', expected a JSON object"),
        ("state", "X'7B7D'", "state is b'{}', expected JSON text"),
    ],
)
async def test_sqlite_store_corrupt_row_is_a_store_error(
    tmp_path: Path,
    autojump_clock: trio.testing.MockClock,
    column: str,
    sql_value: str,
    problem: str,
) -> None:
    """A row whose agent_id, version or state has the wrong type or value raises
    StoreError naming the file, the key, the value and the fix, from load and from
    the agent's start (it used to load, and crash every later call)."""
    path = tmp_path / "c.db"
    store = SqliteStore(path)
    await store.save("root/a", BOX.new("a", Box(n=1)))
    overwrite(path, "root/a", column, sql_value)
    message = corrupt_message(path, "root/a", problem, "'root/a'")
    with pytest.raises(StoreError) as err:
        await store.load("root/a", BOX)
    assert str(err.value) == message
    async with open_supervisor() as sup:
        with pytest.raises(StoreError) as err:
            await sup.start_child(agent_spec("a", BOX, store=store))
        assert str(err.value) == message
        assert sup.which_children() == []
        await sup.shutdown()
    await store.aclose()


async def test_sqlite_store_corrupt_json_is_a_store_error(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """A checkpoint that is not JSON raises StoreError with the parser's complaint,
    chained to the JSONDecodeError; every problem of a row is named, and the fix
    quotes the key as an SQL literal."""
    path = tmp_path / "c.db"
    key = "root/o'brien"
    store = SqliteStore(path)
    await store.save(key, BOX.new("a", Box(n=1)))
    overwrite(path, key, "state", "'{not json'")
    overwrite(path, key, "version", "'x'")
    with pytest.raises(StoreError) as err:
        await store.load(key, BOX)
    assert str(err.value) == corrupt_message(
        path,
        key,
        "version is 'x', expected an int >= 0; state is not valid JSON (Expecting property "
        "name enclosed in double quotes: line 1 column 2 (char 1))",
        "'root/o''brien'",
    )
    assert isinstance(err.value.__cause__, json.JSONDecodeError)
    await store.aclose()


async def test_sqlite_store_state_that_no_longer_fits(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """A stored state that no longer fits the state type raises InvalidStateError with paths."""
    path = tmp_path / "s.db"
    store = SqliteStore(path)
    await store.save("root/a", BOX.new("a", Box(n=5, log=("x",))))
    lines = ("count: required field missing @ $.count", "n: unknown field @ $.n")
    with pytest.raises(InvalidStateError) as err:
        await store.load("root/a", RENAMED)
    assert str(err.value) == (
        f"SqliteStore {str(path)!r}: checkpoint 'root/a' no longer fits Renamed: "
        "invalid Renamed:\n" + "\n".join(lines)
    )
    assert err.value.errors == lines
    async with open_supervisor() as sup:
        with pytest.raises(InvalidStateError, match=r"\ncount: required field missing @ \$"):
            await sup.start_child(agent_spec("a", RENAMED, store=store))
        await sup.shutdown()
    await store.aclose()


async def test_sqlite_store_wraps_sqlite_errors(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """A database that cannot be opened raises StoreError naming the file and key."""
    store = SqliteStore(tmp_path)  # a directory, not a database file
    with pytest.raises(
        StoreError,
        match=rf"^SqliteStore {re.escape(repr(str(tmp_path)))}: cannot load checkpoint "
        r"'root/a': unable to open database file$",
    ) as err:
        await store.load("root/a", BOX)
    assert isinstance(err.value.__cause__, sqlite3.Error)


async def test_sqlite_store_rejects_a_state_that_is_not_json(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """Saving a state whose unstructured form is not JSON raises StoreError."""

    @attrs.frozen
    class Odd:
        value: Any = None

    odd: AgentDef[Odd] = AgentDef("odd", Odd, [])
    store = SqliteStore(tmp_path / "o.db")
    with pytest.raises(
        StoreError, match=r"the state of 'k' is not JSON-serializable after unstructuring"
    ):
        await store.save("k", odd.new("o", Odd(value={1, 2})))
    await store.aclose()
