"""Checkpoint stores: where an AgentServer commits its state after every
successful ``cmd``, and where a restarted agent finds it again."""

from __future__ import annotations

import abc
import json
import os
import reprlib
import sqlite3
import sys
from collections.abc import Callable
from typing import Any, TypeVar, cast

import trio

from ._agent import Agent, AgentDef
from ._errors import InvalidStateError, StoreError

__all__ = ["CheckpointStore", "MemoryStore", "SqliteStore"]

T = TypeVar("T")


class CheckpointStore(abc.ABC):
    """A place to commit agent states, keyed by the agent's tree path.

    Subclass it to add a backend: implement :meth:`load` and :meth:`save`.
    """

    @abc.abstractmethod
    async def load(self, key: str, definition: AgentDef[Any]) -> Agent[Any] | None:
        """The last committed agent under ``key``, or ``None``."""

    @abc.abstractmethod
    async def save(self, key: str, agent: Agent[Any]) -> None:
        """Commit ``agent`` (its state and version) under ``key``."""


class MemoryStore(CheckpointStore):
    """Keeps committed agents in a dict: survives restarts within one process,
    not the process. Agents are immutable, so nothing is copied."""

    def __init__(self) -> None:
        self._agents: dict[str, Agent[Any]] = {}

    def __repr__(self) -> str:
        return f"<MemoryStore {len(self._agents)} agent(s)>"

    async def load(self, key: str, definition: AgentDef[Any]) -> Agent[Any] | None:
        await trio.lowlevel.checkpoint()
        agent = self._agents.get(key)
        if agent is not None and agent.definition is not definition:
            agent = Agent(definition, agent.id, agent.state, agent.version)
        return agent

    async def save(self, key: str, agent: Agent[Any]) -> None:
        self._agents[key] = agent
        await trio.lowlevel.checkpoint()

    def keys(self) -> list[str]:
        """Keys with a committed agent."""
        return list(self._agents)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS jido_checkpoints (
    key TEXT PRIMARY KEY,
    agent_id TEXT NOT NULL,
    definition TEXT NOT NULL,
    version INTEGER NOT NULL,
    state TEXT NOT NULL
)
"""


def _on_virtual_time() -> bool:
    """Whether this Trio run's clock is a ``trio.testing.MockClock``.

    A MockClock exists only once ``trio.testing`` is imported, so look it up in
    ``sys.modules`` rather than import it here (that would add some 45 ms to
    ``import jido_trio``).
    """
    testing = sys.modules.get("trio.testing")
    return testing is not None and isinstance(trio.lowlevel.current_clock(), testing.MockClock)


def _sql_str(text: str) -> str:
    """``text`` as an SQL string literal (for the fix a message suggests)."""
    return "'" + text.replace("'", "''") + "'"


class SqliteStore(CheckpointStore):
    """Commits states to an SQLite file (stdlib :mod:`sqlite3`): survives process
    restarts.

    ``SqliteStore(path)`` — ``path`` is the database file (created if missing).

    States are stored as JSON made by the definition's converter
    (``AgentDef.dump_state``); queries are parameterized and run one at a time.

    Where a query runs depends on the run's clock. On the real clock, every
    database call runs in a worker thread (``trio.to_thread.run_sync``), so the
    Trio loop never blocks on disk. On a virtual clock (a
    ``trio.testing.MockClock``) it runs inline in the Trio thread, after a
    ``trio.lowlevel.checkpoint()``: with a worker thread the run would look
    idle, so an autojump clock would jump virtual time while the query runs
    (and a ``call`` would time out at 5 s). Inline, store I/O takes no virtual
    time, and a run with a SqliteStore is as deterministic as one with a
    :class:`MemoryStore`. Either way ``load`` and ``save`` are checkpoints;
    cancelled before its query starts, a call raises ``trio.Cancelled`` and
    does nothing, and once started a query runs to its end.

    A failure raises :class:`StoreError` naming the file and the key: a
    database that cannot be read or written, or a corrupt checkpoint (an
    ``agent_id`` that is not a non-empty str, a ``version`` that is not an int
    >= 0, a state that is not a JSON object); the message says how to fix it.
    A stored state that no longer fits the state type raises
    :class:`InvalidStateError` with its ``$.path`` lines.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._conn: sqlite3.Connection | None = None
        self._lock: trio.Lock | None = None

    def __repr__(self) -> str:
        return f"<SqliteStore {self.path!r}>"

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(_SCHEMA)
            self._conn = conn
        return self._conn

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run the blocking ``fn(*args)``, one call at a time: inline on a
        virtual clock, in a worker thread on the real one (see the class doc)."""
        if self._lock is None:
            self._lock = trio.Lock()
        async with self._lock:
            if _on_virtual_time():
                await trio.lowlevel.checkpoint()
                return fn(*args)
            return await trio.to_thread.run_sync(fn, *args)

    async def _run(self, what: str, key: str, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await self._call(fn, *args)
        except sqlite3.Error as exc:
            raise StoreError(
                f"SqliteStore {self.path!r}: cannot {what} checkpoint {key!r}: {exc}"
            ) from exc

    def _load_sync(self, key: str) -> tuple[object, object, object] | None:
        row = (
            self._connect()
            .execute("SELECT agent_id, version, state FROM jido_checkpoints WHERE key = ?", (key,))
            .fetchone()
        )
        return None if row is None else (row[0], row[1], row[2])

    def _save_sync(self, key: str, agent_id: str, name: str, version: int, state: str) -> None:
        self._connect().execute(
            "INSERT INTO jido_checkpoints (key, agent_id, definition, version, state) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET "
            "agent_id = excluded.agent_id, definition = excluded.definition, "
            "version = excluded.version, state = excluded.state",
            (key, agent_id, name, version, state),
        )

    def _corrupt(self, key: str, problems: list[str]) -> StoreError:
        return StoreError(
            f"SqliteStore {self.path!r}: checkpoint {key!r} is corrupt: {'; '.join(problems)}. "
            f"Fix: delete its row with DELETE FROM jido_checkpoints WHERE key = {_sql_str(key)} "
            "(the agent then starts from its initial state), or restore the file from a backup"
        )

    async def load(self, key: str, definition: AgentDef[Any]) -> Agent[Any] | None:
        row = await self._run("load", key, self._load_sync, key)
        if row is None:
            return None
        agent_id, version, text = row
        problems: list[str] = []
        if not isinstance(agent_id, str) or not agent_id:
            problems.append(f"agent_id is {reprlib.repr(agent_id)}, expected a non-empty str")
        if not isinstance(version, int) or isinstance(version, bool) or version < 0:
            problems.append(f"version is {reprlib.repr(version)}, expected an int >= 0")
        data: object = None
        cause: ValueError | None = None
        if not isinstance(text, str):
            problems.append(f"state is {reprlib.repr(text)}, expected JSON text")
        else:
            try:
                data = json.loads(text)
            except ValueError as exc:
                cause = exc
                problems.append(f"state is not valid JSON ({exc})")
            else:
                if not isinstance(data, dict):
                    problems.append(f"state is {reprlib.repr(text)}, expected a JSON object")
        if problems:
            raise self._corrupt(key, problems) from cause
        try:
            state = definition.load_state(cast(dict[str, Any], data))
        except InvalidStateError as exc:
            raise InvalidStateError(
                f"SqliteStore {self.path!r}: checkpoint {key!r} no longer fits "
                f"{definition.state_type.__name__}: {exc}",
                errors=exc.errors,
            ) from exc
        return Agent(definition, cast(str, agent_id), state, cast(int, version))

    async def save(self, key: str, agent: Agent[Any]) -> None:
        try:
            text = json.dumps(agent.definition.dump_state(agent.state), sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise StoreError(
                f"SqliteStore {self.path!r}: the state of {key!r} is not JSON-serializable "
                f"after unstructuring: {exc}"
            ) from exc
        await self._run(
            "save", key, self._save_sync, key, agent.id, agent.definition.name, agent.version, text
        )

    async def aclose(self) -> None:
        """Close the database connection (reopened on next use), after any
        query in progress."""
        conn, self._conn = self._conn, None
        if conn is not None:
            await self._call(conn.close)
