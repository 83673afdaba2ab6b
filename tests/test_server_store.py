"""AgentServer state across restarts: restart_from, commit rules, MemoryStore and
SqliteStore.

The in-memory tests run on virtual time (``autojump_clock``). The SqliteStore
tests are plain functions that call ``trio.run`` with the real clock and no
deadline that matters: SqliteStore does its I/O in ``trio.to_thread``, and
under an autojump clock virtual time can jump while a worker thread runs, so a
timing assertion there would be flaky. Two ``trio.run`` calls on the same file
stand in for a process restart.
"""

from __future__ import annotations

import json
import re
import sqlite3
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
    SqliteStore,
    StoreError,
    action,
    agent_spec,
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
    """State committed to SQLite in one trio.run is loaded by a fresh store in another."""
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


def test_sqlite_store_keys_with_quotes(tmp_path: Path) -> None:
    """Keys and ids with quotes and SQL are stored verbatim (queries are parameterized)."""
    nasty = 'o\'brien "q"; DROP TABLE jido_checkpoints; --'

    async def main() -> None:
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

    trio.run(main)


def corrupt(path: Path, key: str, text: str) -> None:
    """Overwrite the stored JSON of ``key``, as a damaged disk would."""
    with sqlite3.connect(path) as conn:
        cur = conn.execute("UPDATE jido_checkpoints SET state = ? WHERE key = ?", (text, key))
        assert cur.rowcount == 1
    conn.close()


def test_sqlite_store_corrupt_json_is_a_store_error(tmp_path: Path) -> None:
    """A checkpoint that is not JSON raises StoreError from load and from the agent's start."""
    path = tmp_path / "c.db"

    async def main() -> None:
        store = SqliteStore(path)
        await store.save("root/a", BOX.new("a", Box(n=1)))
        await store.aclose()
        corrupt(path, "root/a", "{not json")
        with pytest.raises(
            StoreError,
            match=rf"^SqliteStore {re.escape(repr(str(path)))}: checkpoint 'root/a' is not valid "
            r"JSON: Expecting property name",
        ) as err:
            await store.load("root/a", BOX)
        assert isinstance(err.value.__cause__, json.JSONDecodeError)
        async with open_supervisor() as sup:
            with pytest.raises(StoreError, match=r"checkpoint 'root/a' is not valid JSON"):
                await sup.start_child(agent_spec("a", BOX, store=store))
            assert sup.which_children() == []
            await sup.shutdown()
        await store.aclose()

    trio.run(main)


def test_sqlite_store_state_that_no_longer_fits(tmp_path: Path) -> None:
    """A stored state that no longer fits the state type raises InvalidStateError with paths."""
    path = tmp_path / "s.db"

    async def main() -> None:
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

    trio.run(main)


def test_sqlite_store_wraps_sqlite_errors(tmp_path: Path) -> None:
    """A database that cannot be opened raises StoreError naming the file and key."""

    async def main() -> None:
        store = SqliteStore(tmp_path)  # a directory, not a database file
        with pytest.raises(
            StoreError,
            match=rf"^SqliteStore {re.escape(repr(str(tmp_path)))}: cannot load checkpoint "
            r"'root/a': unable to open database file$",
        ) as err:
            await store.load("root/a", BOX)
        assert isinstance(err.value.__cause__, sqlite3.Error)

    trio.run(main)


def test_sqlite_store_rejects_a_state_that_is_not_json(tmp_path: Path) -> None:
    """Saving a state whose unstructured form is not JSON raises StoreError."""

    @attrs.frozen
    class Odd:
        value: Any = None

    odd: AgentDef[Odd] = AgentDef("odd", Odd, [])

    async def main() -> None:
        store = SqliteStore(tmp_path / "o.db")
        with pytest.raises(
            StoreError, match=r"the state of 'k' is not JSON-serializable after unstructuring"
        ):
            await store.save("k", odd.new("o", Odd(value={1, 2})))
        await store.aclose()

    trio.run(main)
