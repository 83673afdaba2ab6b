"""Adversarial property tests of the runtime: random operation sequences against
supervisors, AgentServers, spawned child agents and nested supervisors, with
the documented promises checked after every step.

A plan is a list of :class:`Op` values (data, so Hypothesis shrinks a failing
plan to a minimal one). Each example is one ``trio.run`` on a
``MockClock(autojump_threshold=0)``: virtual time, no real sleeps. Faults go
through public seams only: ``jido_trio.kill``, an interceptor that crashes,
drops, duplicates, delays or hangs marked messages, a checkpoint store whose
loads and saves fail on demand, and the supervisor API.

After every step, at a quiescent point (``wait_all_tasks_blocked``):

- every agent's ``sent == processed + dead_lettered + queued + in_flight``;
- an agent that ever ran is ``alive`` exactly when its node is in ``tree()``
  and not ``stopped``; a stopped one holds no name and no queued message;
- every registered name maps to a live agent, and a live agent holds its name;
- no ``call`` outlives its deadline, and each ends with a documented outcome;
- no ``cast`` waits on an agent that is stopped for good;
- every task named after a tree path runs only while that node is active;
- ``tree()`` agrees with each supervisor's ``which_children()`` and
  ``count_children()``;
- no supervisor restarts more than its intensity allows without escalating;
- a child only ever exits with an error the plan caused (a late reply, a
  duplicate, a drop never crashes a server);
- every dead letter has a documented reason that matches what was done to it.

At the end every supervisor is gone, nothing of theirs runs, and each message
confirmed sent is processed or dead-lettered, never both, never twice.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any, Literal

import attrs
import hypothesis
import trio
import trio.testing
from adversarial_support import BOX, LEAD, FireParams, HireParams
from agents_fixtures import Message, Proceed, check_identity, tag_of
from hypothesis import example, given, settings
from hypothesis import strategies as st

import jido_trio
from jido_trio import (
    ActionError,
    Agent,
    AgentDef,
    AgentDownError,
    AgentRef,
    AgentStopError,
    Backoff,
    CallTimeoutError,
    ChildKilled,
    ChildNotFoundError,
    ChildRunningError,
    ChildSpec,
    DuplicateChildError,
    Interceptor,
    MailboxFullError,
    MemoryStore,
    RestartIntensityError,
    Signal,
    StoreError,
    Supervisor,
    SupervisorClosedError,
    TelemetryEvent,
    agent_spec,
    attach_telemetry,
    current_child,
    current_registry,
    intercept,
    open_supervisor,
    spec_ref,
    supervisor_spec,
)

Mark = Literal["", "crash", "crash_after", "dup", "drop", "hang", "slow", "savefail", "fail"]
MARKS: tuple[Mark, ...] = (
    "",
    "crash",
    "crash_after",
    "dup",
    "drop",
    "hang",
    "slow",
    "savefail",
    "fail",
)
Kind = Literal[
    "start",
    "call",
    "cast",
    "cast_nowait",
    "kill",
    "storm",
    "terminate",
    "delete",
    "restart",
    "hire",
    "fire",
    "loadfail",
    "advance",
    "shutdown",
    "cancel",
    "raise",
    "leave",
]
Body = Literal["note", "later", "send", "stop", "halt"]
BODIES: tuple[Body, ...] = ("note", "later", "send", "stop", "halt")
SLOTS = ("a0", "a1", "t0", "lead", "sub", "p0")
NAMES = ("a0", "a1", "t0", "b0")  # the Box agents a send can address
RESTART_TYPES = ("permanent", "transient", "temporary")
TIMEOUTS = (0.5, 1.0, 3.0, 6.0)  # a call's timeout, or the time an advance takes
LIMIT = 1000.0  # virtual seconds any single step may take before it counts as a hang
ACTIVE = ("starting", "running", "stopping")
REASONS = {
    "unroutable",
    "invalid_params",
    "unknown_action",
    "action_failed",
    "crashed",
    "agent_stopped",
    "dropped",
    "mailbox_full",
    "no_such_agent",
}


class ChaosCrash(RuntimeError):
    """The crash the interceptor injects."""


class BodyBug(KeyError):
    """What the supervisor's body raises for a ``raise`` op."""


@attrs.frozen
class Op:
    """One step. ``target`` picks an agent, slot or tree path (modulo their number);
    ``mark`` tells the interceptor what to do with the message; ``body`` is what the
    message asks (a note, a timer, a send to another agent, a normal or abnormal
    ``Stop``); ``value`` is a call's timeout or the time to advance."""

    kind: Kind
    target: int = 0
    mark: Mark = ""
    value: float = 0.0
    body: Body = "note"


@attrs.frozen
class Setup:
    initial: tuple[str, ...]  # slots started on entry, in order
    strategy: Literal["one_for_one", "one_for_all", "rest_for_one"]
    max_restarts: int
    max_seconds: float
    backoff: float  # 0: none; else Backoff(initial=backoff, jitter=0)
    child_backoff: float  # the lead's own supervisor's backoff, as above


# ------------------------------------------------------------------ seams


class FlakyStore(MemoryStore):
    """A MemoryStore whose next ``fail_loads`` loads raise, and whose save of a
    state that ends with a ``savefail``-marked note raises."""

    def __init__(self) -> None:
        super().__init__()
        self.fail_loads = 0

    async def load(self, key: str, definition: AgentDef[Any]) -> Agent[Any] | None:
        if self.fail_loads:
            self.fail_loads -= 1
            await trio.lowlevel.checkpoint()
            raise StoreError(f"FlakyStore: load of {key!r} failed")
        return await super().load(key, definition)

    async def save(self, key: str, agent: Agent[Any]) -> None:
        log = getattr(agent.state, "log", ())
        if log and log[-1].endswith(":savefail"):
            await trio.lowlevel.checkpoint()
            raise StoreError(f"FlakyStore: save of {key!r} failed")
        await super().save(key, agent)


def tag(message: Message) -> str:
    """The tag a Box message carries (``m7`` of ``{"tag": "m7:crash"}``)."""
    return tag_of(message).split(":")[0]


def mark_of(message: Message) -> str:
    return message.subject or "" if isinstance(message, Signal) else ""


class Chaos(Interceptor):
    """Acts on each message's mark (its ``subject``)."""

    async def on_signal(self, agent: AgentRef, message: Message, proceed: Proceed) -> None:
        mark = mark_of(message)
        if mark == "crash":
            raise ChaosCrash(f"crash on {tag_of(message)}")
        if mark == "drop":
            return
        if mark == "hang":
            await trio.sleep_forever()
        if mark == "slow":
            await trio.sleep(1)
        await proceed(message)
        if mark == "dup":
            await proceed(message)
        if mark == "crash_after":
            raise ChaosCrash(f"crash after {tag_of(message)}")


class Workers:
    """Plain children: count the bodies alive; each runs until stopped."""

    def __init__(self) -> None:
        self.live = 0

    async def worker(self, *, task_status: trio.TaskStatus[None]) -> None:
        self.live += 1
        try:
            task_status.started()
            await current_child().stop_requested.wait()
        finally:
            self.live -= 1


# ------------------------------------------------------------------ records


@attrs.define
class CallRecord:
    ref: AgentRef
    tag: str
    mark: str
    start: float
    timeout: float
    down: bool  # sent to an agent already stopped for good
    done: bool = False
    end: float = math.nan
    outcome: str = "pending"


@attrs.define
class CastRecord:
    ref: AgentRef
    tag: str
    start: float
    done: bool = False
    end: float = math.nan


def say(*what: object) -> str:
    """The message of a broken promise: its parts, space-separated."""
    return " ".join(str(w) for w in what)


def note(text: str) -> None:
    """``hypothesis.note``, also usable when a plan is replayed outside a test."""
    if hypothesis.currently_in_test_context():
        hypothesis.note(text)


def event(text: str) -> None:
    """``hypothesis.event``, also usable when a plan is replayed outside a test."""
    if hypothesis.currently_in_test_context():
        hypothesis.event(text)


def stopped(ref: AgentRef) -> bool:
    """Whether ``ref`` ran and is now stopped for good."""
    return "/" in ref.path and not ref.alive


def all_tasks() -> list[trio.lowlevel.Task]:
    found: list[trio.lowlevel.Task] = []
    todo = [trio.lowlevel.current_root_task()]
    while todo:
        task = todo.pop()
        assert task is not None
        found.append(task)
        for nursery in task.child_nurseries:
            todo.extend(nursery.child_tasks)
    return found


# ------------------------------------------------------------------ the world


class World:
    def __init__(self, setup: Setup) -> None:
        self.setup = setup
        self.workers = Workers()
        self.store = FlakyStore()
        self.events: list[TelemetryEvent] = []
        self.calls: list[CallRecord] = []
        self.casts: list[CastRecord] = []
        self.attempted: dict[int, dict[str, str]] = defaultdict(dict)  # id(ref) -> tag -> mark
        self.confirmed: dict[int, set[str]] = defaultdict(set)  # id(ref) -> tags surely sent
        self.seq = 0
        self.sup: Supervisor | None = None
        self.sup_done = trio.Event()
        self.sup_end = "running"
        self.scope = trio.CancelScope()
        self.body = trio.Event()
        self.body_action = "leave"
        child_options: dict[str, Any] = {"max_restarts": 1, "max_seconds": 5}
        if setup.child_backoff:
            child_options["backoff"] = Backoff(initial=setup.child_backoff, jitter=0)
        sub_children = [
            agent_spec("b0", BOX, mailbox_size=2),
            ChildSpec("p1", self.workers.worker),
        ]
        self.specs: dict[str, ChildSpec] = {
            "a0": agent_spec("a0", BOX, mailbox_size=2),
            "a1": agent_spec("a1", BOX, restart="transient", mailbox_size=3, store=self.store),
            "t0": agent_spec("t0", BOX, restart="temporary", mailbox_size=2, shutdown=0),
            "lead": agent_spec("lead", LEAD, children=child_options, mailbox_size=4),
            "sub": supervisor_spec(
                "sub", sub_children, max_restarts=1, max_seconds=5, strategy="one_for_all"
            ),
            "p0": ChildSpec("p0", self.workers.worker, restart="transient"),
        }
        self.lead = spec_ref(self.specs["lead"])
        self.boxes: list[AgentRef] = [spec_ref(self.specs[s]) for s in ("a0", "a1", "t0")] + [
            spec_ref(sub_children[0])
        ]
        self.refs: list[AgentRef] = [*self.boxes, self.lead]
        self.named = dict(zip(NAMES, self.boxes, strict=True))
        self.limits: dict[str, tuple[int, float]] = {
            "root": (setup.max_restarts, setup.max_seconds),
            "root/sub": (1, 5),
            "root/lead": (1, 5),
        }

    # ----------------------------------------------------------- running
    async def run(self, plan: list[Op]) -> None:
        with attach_telemetry(self.events.append), intercept(Chaos()):
            async with trio.open_nursery() as clients:
                self.clients = clients
                await clients.start(self.supervise)
                for n, op in enumerate(plan):
                    note(f"step {n}: {op}")
                    with trio.fail_after(LIMIT):
                        await self.apply(op)
                    await trio.testing.wait_all_tasks_blocked()
                    self.discover()
                    self.check_all(f"after step {n} {op}")
                with trio.fail_after(LIMIT):
                    await self.end()
                clients.cancel_scope.cancel()
        self.check_end()

    async def supervise(self, *, task_status: trio.TaskStatus[None]) -> None:
        s = self.setup
        backoff = Backoff(initial=s.backoff, jitter=0) if s.backoff else None
        try:
            with self.scope:
                async with open_supervisor(
                    [self.specs[slot] for slot in s.initial],
                    strategy=s.strategy,
                    max_restarts=s.max_restarts,
                    max_seconds=s.max_seconds,
                    backoff=backoff,
                ) as sup:
                    self.sup = sup
                    task_status.started()
                    await self.body.wait()
                    if self.body_action == "raise":
                        raise BodyBug("a bug in the body")
            self.sup_end = "cancelled" if self.scope.cancelled_caught else "closed"
        except RestartIntensityError:
            self.sup_end = "escalated"
        except BodyBug:
            self.sup_end = "raised"
        finally:
            self.sup_done.set()
        event(f"supervisor ended: {self.sup_end}")

    def new_tag(self) -> str:
        self.seq += 1
        return f"m{self.seq}"

    def box(self, target: int) -> AgentRef:
        """A Box agent: a0, a1, t0, b0, or a worker the lead spawned."""
        boxes = [r for r in self.refs if r.definition is BOX]
        return boxes[target % len(boxes)]

    def message(self, ref: AgentRef, op: Op) -> tuple[str, Signal]:
        """The signal ``op`` sends to ``ref``, and its tag; the notes it makes
        other messages send (a timer's, an Emit's) are recorded as attempted too."""
        tag = self.new_tag()
        mark = op.mark
        self.attempted[id(ref)][tag] = mark
        data: dict[str, Any] = {"tag": f"{tag}:{mark}"}
        derived = "dup" if mark == "dup" else ""  # a duplicate's effects happen twice
        kind: str = op.body
        if mark == "fail":
            kind = "fail"
        elif kind == "later":
            data.update(later=f"{self.new_tag()}:", delay=1.5)
            self.attempted[id(ref)][f"m{self.seq}"] = derived
        elif kind == "send":
            to = NAMES[(op.target + 1) % len(NAMES)]
            data.update(to=to, sent=f"{self.new_tag()}:")
            self.attempted[id(self.named[to])][f"m{self.seq}"] = derived
        elif kind in ("stop", "halt"):
            data["reason"] = "normal" if kind == "stop" else "halt"
            kind = "stop"
        return tag, Signal(f"box.{kind}", data, id=tag, subject=mark or None)

    async def apply(self, op: Op) -> None:
        sup = self.sup
        assert sup is not None
        kind = op.kind
        if kind == "start":
            slot = SLOTS[op.target % len(SLOTS)]
            try:
                await sup.start_child(self.specs[slot])
            except (DuplicateChildError, SupervisorClosedError, StoreError) as exc:
                event(f"start: {type(exc).__name__}")
        elif kind == "call":
            ref = self.box(op.target)
            tag, signal = self.message(ref, op)
            record = CallRecord(ref, tag, op.mark, trio.current_time(), op.value, stopped(ref))
            self.calls.append(record)
            self.clients.start_soon(self.caller, record, signal)
        elif kind == "cast":
            ref = self.box(op.target)
            tag, signal = self.message(ref, op)
            record2 = CastRecord(ref, tag, trio.current_time())
            self.casts.append(record2)
            self.clients.start_soon(self.caster, record2, signal)
        elif kind == "cast_nowait":
            ref = self.box(op.target)
            tag, signal = self.message(ref, op)
            try:
                ref.cast_nowait(signal)
            except MailboxFullError:
                event("cast_nowait: mailbox full")
                del self.attempted[id(ref)][tag]
            else:
                self.confirmed[id(ref)].add(tag)
        elif kind in ("kill", "storm"):
            paths = [n.path for n in jido_trio.tree() if n.supervisor is not None]
            if paths:
                path = paths[op.target % len(paths)]
                times = self.setup.max_restarts + 1 if kind == "storm" else 1
                for _ in range(times):
                    if any(n.path == path for n in jido_trio.tree()):
                        jido_trio.kill(path)  # a path tree() lists is always killable
                    await trio.testing.wait_all_tasks_blocked()
        elif kind in ("terminate", "delete", "restart"):
            child_id = SLOTS[op.target % len(SLOTS)]
            try:
                if kind == "terminate":
                    await sup.terminate_child(child_id)
                elif kind == "delete":
                    await sup.delete_child(child_id)
                else:
                    await sup.restart_child(child_id)
            except (
                ChildNotFoundError,
                ChildRunningError,
                SupervisorClosedError,
                StoreError,
            ) as exc:
                event(f"{kind}: {type(exc).__name__}")
        elif kind in ("hire", "fire"):
            worker = f"w{op.target % 3}"
            if kind == "hire":
                restart = RESTART_TYPES[op.target // 3 % 3]
                data = attrs.asdict(HireParams(worker, restart))  # type: ignore[arg-type]
            else:
                data = attrs.asdict(FireParams(worker))
            tag = self.new_tag()
            signal = Signal(f"crew.{kind}", data, id=tag, subject=op.mark or None)
            record = CallRecord(
                self.lead, tag, op.mark, trio.current_time(), 3.0, stopped(self.lead)
            )
            self.calls.append(record)
            self.clients.start_soon(self.caller, record, signal)
        elif kind == "loadfail":
            self.store.fail_loads += 1
        elif kind == "advance":
            await trio.sleep(op.value)
        elif kind == "shutdown":
            await sup.shutdown()
            self.release_body("leave")
        elif kind == "cancel":
            self.scope.cancel()
        elif kind == "raise":
            self.release_body("raise")
        elif kind == "leave":
            self.release_body("leave")

    def release_body(self, action: str) -> None:
        if not self.body.is_set():
            self.body_action = action
            self.body.set()

    async def caller(self, record: CallRecord, signal: Signal) -> None:
        try:
            await record.ref.call(signal, timeout=record.timeout)
        except CallTimeoutError:
            record.outcome = "timeout"
        except AgentDownError:
            record.outcome = "down"
        except ActionError:
            record.outcome = "action_error"
        else:
            record.outcome = "ok"
        finally:
            record.done = True
            record.end = trio.current_time()
        if record.outcome != "timeout":
            self.confirmed[id(record.ref)].add(record.tag)
        event(f"call: {record.outcome}")

    async def caster(self, record: CastRecord, signal: Signal) -> None:
        await record.ref.cast(signal)
        record.done = True
        record.end = trio.current_time()
        self.confirmed[id(record.ref)].add(record.tag)

    async def end(self) -> None:
        if self.sup is not None and not self.sup_done.is_set():
            await self.sup.shutdown()
            self.release_body("leave")
        await self.sup_done.wait()
        await trio.testing.wait_all_tasks_blocked()
        self.discover()
        self.check_all("after the supervisor ended")
        await trio.sleep(max(TIMEOUTS) + 1)  # every call's deadline is past
        await trio.testing.wait_all_tasks_blocked()
        self.check_all("at the end")
        for record in self.calls:
            assert record.done, say("a call is still pending at the end:", record)
        for cast in self.casts:
            ran = "/" in cast.ref.path
            assert cast.done or not ran, say("a cast still blocks after every agent stopped:", cast)

    # ----------------------------------------------------------- checks
    def discover(self) -> None:
        """Add child agents spawned since the last step to the refs checked."""
        for node in jido_trio.tree():
            value = node.value
            if isinstance(value, AgentRef) and all(value is not r for r in self.refs):
                self.refs.append(value)

    def check_all(self, where: str) -> None:
        nodes = jido_trio.tree()
        by_path = {n.path: n for n in nodes}
        live_nodes = [n for n in nodes if n.status in (*ACTIVE, "restarting")]
        # a node waiting for a restart whose last start failed has no value: match its path
        active_refs = {id(n.value) for n in live_nodes if isinstance(n.value, AgentRef)} | {
            id(r) for r in self.refs for n in live_nodes if n.value is None and n.path == r.path
        }
        registry = current_registry()
        for ref in self.refs:
            stats = check_identity(ref, where)
            ran = "/" in ref.path
            if ran:
                assert ref.alive == (id(ref) in active_refs), say(
                    where,
                    f"{ref!r}: alive={ref.alive} but its node is",
                    [(n.path, n.status) for n in nodes if n.value is ref] or "not in the tree",
                )
            if not ref.alive:
                assert (stats.queued, stats.in_flight) == (0, 0), say(
                    where, f"{ref!r} stopped for good holds messages: {stats}"
                )
                if ref.name is not None:
                    assert registry.whereis(ref.name) is not ref, say(
                        where, f"{ref!r} stopped for good still holds {ref.name!r}"
                    )
            elif ran and ref.name is not None:
                assert registry.whereis(ref.name) is ref, say(
                    where, f"{ref!r} is alive but {ref.name!r} is {registry.whereis(ref.name)!r}"
                )
        for name in registry.names():
            value = registry.whereis(name)
            if isinstance(value, AgentRef):
                assert id(value) in active_refs, say(
                    where, f"{name!r} is registered to {value!r}, which is not in the tree"
                )
        now = trio.current_time()
        for record in self.calls:
            deadline = record.start + record.timeout
            if deadline <= now:
                assert record.done, say(where, f"call outlived its deadline {deadline}:", record)
            if record.down:
                assert (record.done, record.end, record.outcome) == (True, record.start, "down"), (
                    say(where, "a call to an agent stopped for good did not fail at once:", record)
                )
            if record.done:
                assert record.end <= deadline, say(
                    where, "call answered after its deadline:", record
                )
                if record.outcome == "timeout":
                    assert record.end == deadline, say(
                        where, "timeout not at the deadline:", record
                    )
        for cast in self.casts:
            if not cast.done:
                assert cast.ref.alive, say(
                    where, "a cast waits on an agent stopped for good:", cast
                )
        for task in all_tasks():
            if task.name.startswith("root/") or task.name == "root":
                node = by_path.get(task.name)
                status = node.status if node is not None else "not in the tree"
                assert status in ACTIVE, say(where, f"task {task.name!r} runs; its node: {status}")
        self.check_tree(nodes, where)
        self.check_intensity(where)
        self.check_exits(where)
        self.check_letters(where)

    def check_tree(self, nodes: list[jido_trio.ChildInfo], where: str) -> None:
        sups = [n.value for n in nodes if isinstance(n.value, Supervisor)]
        listed = {n.path: n for n in nodes}
        for n in nodes:
            if n.supervisor is not None and isinstance(n.value, Supervisor):
                closed = n.value.closed
                assert not (closed and n.status == "running"), say(
                    where, f"{n.path} is shown running but its supervisor is closed"
                )
        for sup in sups:
            if sup.closed:
                continue
            children = sup.which_children()
            for child in children:
                node = listed.get(child.path)
                shown = None if node is None else (node.status, node.restarts)
                assert shown == (child.status, child.restarts), say(
                    where, f"tree() shows {node!r} for {child!r}"
                )
            counts = sup.count_children()
            active = sum(1 for c in children if c.status in ACTIVE)
            assert (counts.specs, counts.active) == (len(children), active), say(
                where, f"{sup!r}: count_children() {counts} vs which_children() {children}"
            )
            under = [n for n in nodes if n.supervisor == sup.path]
            assert [n.path for n in under] == [c.path for c in children], say(
                where, f"tree() children of {sup.path!r} differ from which_children()"
            )

    def check_intensity(self, where: str) -> None:
        """No supervisor incarnation restarts more than max_restarts times in any window of
        max_seconds; an escalation happens at exactly the first restart too many."""
        incarnation: Counter[str] = Counter()
        restarts: dict[tuple[str, int], list[float]] = defaultdict(list)
        for e in self.events:
            if e.name == "supervisor.stopped":
                incarnation[e.path] += 1
            elif e.name == "child.exited" and e.data["restart"] and e.data["reason"] != "shutdown":
                sup_path = e.path.rsplit("/", 1)[0]
                restarts[sup_path, incarnation[sup_path]].append(e.time)
            elif e.name == "supervisor.escalated":
                limit, window = self.limits.get(e.path, (None, None))
                history = e.data["restarts"]
                expected = None if limit is None else limit + 1
                assert len(history) == expected, say(
                    where, f"{e.path} escalated with history {history}, max_restarts={limit}"
                )
        for (path, _), times in restarts.items():
            limit, window = self.limits.get(path, (None, None))
            if limit is None or window is None:
                continue
            for t in times:
                inside = [r for r in times if 0 <= t - r <= window]
                assert len(inside) <= limit, say(
                    where,
                    f"{path} restarted {len(inside)} times within {window}s of t={t} "
                    f"(max_restarts={limit}) without escalating",
                )

    def check_exits(self, where: str) -> None:
        """Every crash a child reports is one the plan caused."""
        allowed = (ChildKilled, ChaosCrash, StoreError, RestartIntensityError, AgentStopError)
        for e in self.events:
            if e.name in ("child.exited", "child.start_failed"):
                error = e.data["error"]
                assert error is None or isinstance(error, allowed), say(
                    where, f"{e.path} exited with an error the plan did not cause: {error!r}"
                )

    def check_letters(self, where: str) -> None:
        for ref in self.refs:
            marks = self.attempted.get(id(ref), {})
            for letter in ref.dead_letters:
                assert letter.reason in REASONS, say(where, f"undocumented reason {letter!r}")
                assert letter.reason not in ("unroutable", "invalid_params", "unknown_action"), say(
                    where, f"{letter!r}: every message sent here is routable and valid"
                )
                message = letter.message
                mark = mark_of(message)
                if letter.reason == "dropped":
                    assert mark == "drop", say(where, f"{letter!r} dropped but marked {mark!r}")
                if letter.reason == "crashed":
                    # killed in hand (or by its own children's escalation), or a marked crash
                    caused = isinstance(letter.error, ChildKilled | RestartIntensityError)
                    caused = caused or mark in ("crash", "savefail")
                    assert caused, say(where, f"{letter!r} crashed with no cause")
                if letter.reason == "action_failed":
                    assert mark == "fail", say(where, f"{letter!r} failed but marked {mark!r}")
                if isinstance(message, Signal) and ref.definition is BOX:
                    assert tag(message) in marks, say(
                        where, f"a dead letter nobody sent: {letter!r}"
                    )

    def check_end(self) -> None:
        assert self.workers.live == 0, say("plain child bodies outlive the supervisor")
        assert jido_trio.tree() == [], say("tree() is not empty at the end:", jido_trio.tree())
        leftover = [t.name for t in all_tasks() if t.name.startswith("root")]
        assert not leftover, say("child tasks outlive the supervisor:", leftover)
        for ref in self.refs:
            assert not ref.alive or "/" not in ref.path, say(f"{ref!r} is alive at the end")
        for ref in self.refs:
            if ref.definition is not BOX or "/" not in ref.path:
                continue  # never started: its messages wait in its mailbox, as documented
            processed = [entry.split(":")[0] for entry in ref.state.log] if ref.state else []
            dead_all = [tag(d.message) for d in ref.dead_letters]
            marks = self.attempted[id(ref)]
            # a duplicated message (and what it sends) may be handled twice
            once = [t for t in processed if marks.get(t) != "dup"]
            dead = [t for t in dead_all if marks.get(t) != "dup"]
            assert len(set(once)) == len(once), say(
                f"{ref!r} processed a message twice: {processed}"
            )
            assert len(set(dead)) == len(dead), say(
                f"{ref!r} dead-lettered a message twice: {dead}"
            )
            assert not set(once) & set(dead), say(f"{ref!r} processed and dead-lettered a message")
            missing = self.confirmed[id(ref)] - set(processed) - set(dead_all)
            assert not missing, say(f"{ref!r} lost messages {sorted(missing)}")
            assert set(processed) | set(dead_all) <= set(marks), say(f"{ref!r} invented messages")
            for reason in {d.reason for d in ref.dead_letters}:
                event(f"dead letter: {reason}")


# ------------------------------------------------------------------ strategies

# Kinds are listed once per unit of weight. A flat Op strategy (rather than one per kind)
# lets Hypothesis shrink any step toward ``Op("call")`` and keeps each step's fields free.
MESSAGES: tuple[Kind, ...] = ("call", "call", "cast", "cast", "cast_nowait")
FAULTS: tuple[Kind, ...] = ("kill", "kill", "storm", "advance", "advance", "loadfail")
CONTROLS: tuple[Kind, ...] = ("start", "terminate", "delete", "restart", "hire", "hire", "fire")
ENDINGS: tuple[Kind, ...] = ("shutdown", "cancel", "raise", "leave")


def ops(*kinds: tuple[Kind, ...]) -> st.SearchStrategy[Op]:
    return st.builds(
        Op,
        kind=st.sampled_from([k for group in kinds for k in group]),
        target=st.integers(0, 11),
        mark=st.sampled_from(MARKS),
        value=st.sampled_from(TIMEOUTS),
        body=st.one_of(st.just("note"), st.sampled_from(BODIES)),
    )


@st.composite
def setups(draw: st.DrawFn, *, start_all: bool = False) -> Setup:
    if start_all:
        initial = list(SLOTS)
    else:
        initial = draw(st.lists(st.sampled_from(SLOTS), unique=True, max_size=len(SLOTS)))
    return Setup(
        initial=tuple(initial),
        strategy=draw(st.sampled_from(["one_for_one", "one_for_all", "rest_for_one"])),
        max_restarts=draw(st.sampled_from([0, 1, 2, 3, 3])),
        max_seconds=draw(st.sampled_from([1.0, 5.0])),
        backoff=draw(st.sampled_from([0.0, 0.0, 1.0])),
        child_backoff=draw(st.sampled_from([0.0, 1.0])),
    )


def plans(*kinds: tuple[Kind, ...]) -> st.SearchStrategy[list[Op]]:
    return st.lists(ops(*kinds), min_size=1, max_size=16)


def run_plan(setup: Setup, plan: list[Op]) -> None:
    world = World(setup)
    trio.run(world.run, plan, clock=trio.testing.MockClock(autojump_threshold=0))


RUNTIME_SETTINGS: Callable[[Any], Any] = settings(max_examples=150)


def known(*initial: str, **options: Any) -> Setup:
    """A setup for a pinned example: no backoff, max_restarts=3 in 5 s unless given."""
    fields: dict[str, Any] = {
        "strategy": "one_for_one",
        "max_restarts": 3,
        "max_seconds": 5.0,
        "backoff": 0.0,
        "child_backoff": 0.0,
    }
    return Setup(initial=initial or SLOTS, **{**fields, **options})


# The minimal plans these properties found, pinned so they are always run (each is a
# regression test in tests/test_regressions_runtime.py too).


@RUNTIME_SETTINGS
@given(setup=setups(start_all=True), plan=plans(MESSAGES, FAULTS))
# the agent that escalates stays alive while a hanging sibling's grace runs
@example(known(max_restarts=0), [Op("call", 1, "hang"), Op("kill", 0)])
def test_agents_keep_their_promises_under_message_faults(setup: Setup, plan: list[Op]) -> None:
    """Calls, casts and marked messages (crash, duplicate, drop, hang, slow, failing save)
    with kills and time passing: accounting, liveness, names and deadlines hold each step."""
    run_plan(setup, plan)


@RUNTIME_SETTINGS
@given(setup=setups(), plan=plans(MESSAGES, FAULTS, CONTROLS))
# a failed start (its checkpoint load fails) keeps the name and leaves the ref alive
@example(known("a0"), [Op("loadfail"), Op("start", 1)])
# a duplicated first SpawnAgent loses the message (sent=1, processed=0, dead_lettered=0)
@example(known("lead"), [Op("hire", 0, "dup")])
# proceed returns before the first SpawnAgent ran: a raise after it dead-letters a
# committed message as "crashed"
@example(known("lead"), [Op("hire", 0, "crash_after")])
# a spawned child waiting for its restart outlives its crashing parent
@example(known("lead", child_backoff=1.0), [Op("hire", 0), Op("kill", 1), Op("kill", 0)])
def test_supervision_keeps_its_promises_under_control_operations(
    setup: Setup, plan: list[Op]
) -> None:
    """Start, terminate, delete, restart, spawn and stop child agents, kill and storm any
    node: the tree, the registry and the restart intensity stay truthful each step."""
    run_plan(setup, plan)


@RUNTIME_SETTINGS
@given(setup=setups(), plan=plans(MESSAGES, FAULTS, CONTROLS, ENDINGS))
# a child waiting for its restart is never stopped when the scope is cancelled...
@example(known("a0", backoff=1.0), [Op("kill", 0), Op("cancel")])
# ...or when the body raises
@example(known("a0", backoff=1.0), [Op("kill", 0), Op("raise")])
# terminate_child queued while the supervisor escalates never returns
@example(
    known("a0", "lead", max_restarts=0), [Op("hire", 0, "hang"), Op("kill", 0), Op("terminate")]
)
def test_every_ending_stops_everything_for_good(setup: Setup, plan: list[Op]) -> None:
    """However the supervisor ends (shutdown, cancellation, a raising body, escalation),
    every agent is stopped for good, nothing runs on, and nothing sent is lost."""
    run_plan(setup, plan)
