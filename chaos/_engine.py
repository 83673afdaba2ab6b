"""The engine of one chaos run.

One :class:`_Engine` per run is three things at once:

- an :class:`jido_trio.Interceptor`: every fault that acts at a seam (a
  message taken, a ``cmd``, a checkpoint save or load, a delivery, a child
  start) is injected in its hooks, and the ``always`` checks watch them;
- a telemetry handler for lifecycle events only (starts, exits, restarts,
  escalations), which feed the trace, the restart-intensity check and the
  recovery times;
- the *timeline*: one task that sleeps until the next timed action (a kill,
  a fault's window opening or closing, the heal) and carries it out. One task
  means that actions due at the same virtual time run in plan order; every
  hook first carries out what is due by its instant (:meth:`_Engine.catch_up`),
  so an event sees the windows as they are at its time, whatever the order
  in which Trio runs the tasks woken at that instant.

Everything it records goes into one trace of ``time kind path detail`` lines
whose sha256 is the run's digest.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import heapq
import importlib
import json
import math
import random
from collections import Counter, deque
from collections.abc import Callable, Iterable
from typing import Any, Final

import attrs
import trio

import jido_trio
from jido_trio import (
    Agent,
    AgentRef,
    ChildContext,
    ChildInfo,
    CmdOutcome,
    DeadLetter,
    Instruction,
    Interceptor,
    JidoError,
    Signal,
    Supervisor,
    TelemetryEvent,
)

from ._checks import (
    BUILTIN_CHECKS,
    Bound,
    CheckKind,
    CheckResult,
    Eventually,
    Invariant,
    Sometimes,
    Verdict,
)
from ._errors import ChaosError, InjectedFault, InjectedStoreError
from ._glob import matches
from ._plan import FaultPlan, PlanItem, fault_to_dict
from ._report import FaultRecord
from ._seeds import stream
from ._view import SystemView

__all__ = ["_Engine"]

#: The faults that act on a message an agent takes (when they have no source).
_SIGNAL_KINDS: Final = frozenset({"crash", "hang", "delay", "drop", "duplicate", "corrupt_message"})
#: The faults that act on a delivery between agents (when they have a source).
_LINK_KINDS: Final = frozenset({"delay", "drop", "duplicate", "corrupt_message", "reorder"})
#: Faults that take their target down; the ``recovered`` check waits for it to come back.
_DOWN_KINDS: Final = frozenset({"kill", "restart_storm", "crash", "fail_start", "store_write_fail"})
#: The lifecycle telemetry the engine follows.
_EVENTS: Final = (
    "child.started",
    "child.exited",
    "child.restarting",
    "child.start_failed",
    "supervisor.escalated",
    "supervisor.stopped",
)
_POINT_ENABLED: Final = 0.25  # FoundationDB enables one BUGGIFY site in four per run


def _describe(message: Signal | Instruction) -> str:
    if isinstance(message, Signal):
        return f"signal {message.type}"
    return f"action {message.action.name}"


def _resolve_callable(spec: str, what: str) -> Callable[..., Any]:
    module_name, _, attr = spec.partition(":")
    try:
        target: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise ChaosError(f"{what}={spec!r} cannot be resolved: {exc}") from None
    if not callable(target):
        raise ChaosError(f"{what}={spec!r} is not callable")
    return target  # type: ignore[no-any-return]


def _break_value(value: Any, rng: random.Random) -> Any:
    """What a bad disk or a stray write leaves in place of ``value`` (the
    generic corruption): mostly a value of another type; for a number, at
    times a wildly out-of-range one of the same type."""
    if isinstance(value, bool):
        return "corrupt"
    if isinstance(value, int | float):
        return rng.choice(["corrupt", None, -(10**9)])
    if isinstance(value, str):
        return rng.choice([None, 0, ""]) if value else 0
    if value is None:
        return "corrupt"
    return None


def corrupt_data(data: Any, rng: random.Random) -> Any:
    """Break one field of a payload (a mapping: one key's value; anything
    else: the whole)."""
    if isinstance(data, dict) and data:
        key = sorted(data, key=repr)[rng.randrange(len(data))]
        return {**data, key: _break_value(data[key], rng)}
    return {"corrupt": True} if data is None else _break_value(data, rng)


def corrupt_state(state: Any, rng: random.Random) -> Any:
    """A copy of an attrs state with one field set to a value of another type,
    past its validators (what a bad disk or a stray pointer would leave)."""
    if not attrs.has(type(state)):
        return None
    fields = [f.name for f in attrs.fields(type(state))]
    if not fields:
        return state
    broken = copy.copy(state)
    name = fields[rng.randrange(len(fields))]
    object.__setattr__(broken, name, _break_value(getattr(state, name), rng))
    return broken


def fault_stream(seed: int, plan: FaultPlan, index: int) -> random.Random:
    """A new copy of the random stream fault ``index`` of ``plan`` draws from
    in a run with ``seed`` (tests use it to predict a fault's choices)."""
    return stream(seed, _fault_keys(plan)[index][1])


def _fault_keys(plan: FaultPlan) -> list[tuple[PlanItem, str]]:
    """Each fault with the name of its random stream: its own content (and
    how many identical faults come before it), not its position, so removing
    a fault from a plan (as shrinking does) leaves every other fault's draws
    as they were."""
    seen: Counter[str] = Counter()
    out = []
    for fault in plan.faults:
        text = json.dumps(fault_to_dict(fault), sort_keys=True)
        out.append((fault, f"fault:{text}#{seen[text]}"))
        seen[text] += 1
    return out


class _Armed:
    """A fault of the plan, as the engine runs it."""

    __slots__ = (
        "active",
        "fault",
        "hits",
        "index",
        "kind",
        "mutator",
        "paths",
        "rng",
        "seen",
        "where",
    )

    def __init__(self, index: int, fault: PlanItem, rng: random.Random) -> None:
        self.index = index
        self.fault: Any = fault
        self.kind: str = type(fault).kind
        self.rng = rng
        self.active = False
        self.paths: frozenset[str] | None = None  # None: the target glob, matched live
        self.seen = 0
        self.hits = 0
        self.mutator: Callable[..., Any] | None = None
        self.where = ""  # how a window fault's records name what it acts on

    def covers(self, path: str) -> bool:
        paths = self.paths
        if paths is None:
            return matches(self.fault.target, path)
        return path in paths

    def roll(self) -> bool:
        """One eligible event: does the fault hit it?"""
        fault = self.fault
        self.seen += 1
        hit: bool
        if fault.nth is not None:
            hit = self.seen == fault.nth
            if self.seen >= fault.nth:
                self.active = False
        elif fault.probability >= 1:
            hit = True
        else:
            hit = self.rng.random() < float(fault.probability)
        if hit:
            self.hits += 1
            if fault.count is not None and self.hits >= fault.count:
                self.active = False
        return hit


class _Call:
    __slots__ = ("end", "outcome", "phase", "start", "timeout", "to")

    def __init__(self, to: str, start: float, timeout: float, phase: str) -> None:
        self.to = to
        self.start = start
        self.timeout = timeout
        self.phase = phase
        self.end: float | None = None
        self.outcome = "pending"


class _Trace:
    """The ordered trace: a running sha256 over every line (each followed by
    a newline), the line count, and the last ``keep`` lines (all of them when
    ``keep`` is ``None``). Lines are hashed in chunks: the digest is the same
    as hashing them one by one, at a fraction of the cost."""

    __slots__ = ("_hash", "_pending", "count", "lines")

    _CHUNK: Final = 512

    def __init__(self, keep: int | None) -> None:
        self._hash = hashlib.sha256()
        self._pending: list[str] = []
        self.count = 0
        self.lines: deque[str] = deque(maxlen=keep)

    def add(self, line: str) -> None:
        self.count += 1
        self.lines.append(line)
        pending = self._pending
        pending.append(line)
        if len(pending) >= self._CHUNK:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._hash.update(("\n".join(self._pending) + "\n").encode())
            self._pending.clear()

    def digest(self) -> str:
        """The sha256 (hex) of every line so far."""
        self._flush()
        return self._hash.hexdigest()


class _StartTap(Interceptor):
    """The child-start hook, installed only when the plan fails starts: an
    around hook stays on every child's stack for its whole life."""

    def __init__(self, engine: _Engine) -> None:
        self.engine = engine

    async def on_child_start(self, child: ChildContext, proceed: Any) -> None:
        await self.engine.start(child, proceed)


class _StoreTap(Interceptor):
    """The checkpoint hooks, installed only when the plan has store faults
    (a hook that nobody installs costs nothing)."""

    def __init__(self, engine: _Engine) -> None:
        self.engine = engine

    async def on_save(self, agent: AgentRef, new: Agent[Any], proceed: Any) -> None:
        await self.engine.save(agent, new, proceed)

    async def on_load(self, agent: AgentRef, proceed: Any) -> Agent[Any] | None:
        return await self.engine.load(agent, proceed)


_STORE_KINDS: Final = frozenset({"store_write_fail", "store_slow", "stale_load", "corrupt_load"})


class _Engine(Interceptor):
    """The engine of one run (see the module docstring)."""

    def __init__(
        self,
        *,
        seed: int,
        plan: FaultPlan,
        duration: float,
        quiet_period: float,
        invariants: Iterable[Invariant],
        eventually: Iterable[Eventually],
        sometimes: Iterable[Sometimes],
        bounds: Iterable[Bound],
        disabled: Iterable[str],
        keep_trace: int | None,
        fault_points: bool,
        trace: bool = True,
    ) -> None:
        self.seed = seed
        self.plan = plan
        self.duration = duration
        self.quiet_period = quiet_period
        self.invariants = tuple(invariants)
        self.user_eventually = tuple(eventually)
        self.user_sometimes = tuple(sometimes)
        self.bounds = tuple(bounds)
        self.disabled = frozenset(disabled)
        self.fault_points = fault_points
        self.trace = _Trace(keep_trace)
        self.tracing = trace
        self.t0 = 0.0
        self._stamp_time = math.nan
        self._stamp = ""
        self._time: Callable[[], float] = trio.current_time  # the run's clock, once in it
        self.phase = "start"
        self.heal = trio.Event()
        self.view = SystemView(self)
        self.client: Any = None
        self.sup: Supervisor | None = None
        self.system_error: BaseException | None = None
        self.letters_before: DeadLetter | None = None  # the run's last dead letter before us
        self.records: list[FaultRecord] = []
        self.first: dict[str, tuple[float, str]] = {}  # first violation of each always check
        self.violations: Counter[str] = Counter()
        self.calls: list[_Call] = []
        self.casts = 0
        self.refs: dict[str, AgentRef] = {}  # the newest agent at each path
        self.retired: list[tuple[str, AgentRef]] = []  # agents replaced at their path
        self.sups: dict[str, Supervisor] = {}  # a supervisor's path -> it (a cache)
        self.restart_windows: dict[str, deque[float]] = {}
        self.restarts: Counter[str] = Counter()
        self.escalations = 0
        self.down: list[tuple[str, float, int]] = []  # (path, time, fault) waiting to recover
        self.recoveries: list[float] = []
        self.recovered_faults: set[int] = set()
        self.down_faults: set[int] = set()
        self.max_depth = 0
        self.link_next: Counter[tuple[str, str]] = Counter()
        self.in_transit: dict[str, tuple[tuple[str, str], int]] = {}
        self.link_last: dict[tuple[str, str], int] = {}
        self.perturbed: set[tuple[str, str]] = set()
        self.history: dict[str, deque[Agent[Any]]] = {}
        self.points: dict[str, tuple[bool, random.Random]] = {}
        self.hung: Counter[int] = Counter()  # a hang fault's index -> the agents it holds now
        self.point_hits: Counter[str] = Counter()
        self.sometimes_met: dict[str, float] = {}
        self.sometimes_broken: dict[str, str] = {}
        self.actions: list[tuple[float, int, Callable[[], None]]] = []  # the timeline, a heap
        self.armed = [
            _Armed(i, fault, stream(seed, key)) for i, (fault, key) in enumerate(_fault_keys(plan))
        ]
        self.on_signal_faults: list[_Armed] = []
        self.on_deliver_faults: list[_Armed] = []
        self.partitions: list[_Armed] = []
        self.pauses: list[_Armed] = []
        self.cmd_faults: list[_Armed] = []
        self.start_faults: list[_Armed] = []
        self.save_faults: list[_Armed] = []
        self.load_faults: list[_Armed] = []
        for armed in self.armed:
            self._index(armed)
        self.keep_history = 1 + max(
            (a.fault.versions for a in self.armed if a.kind == "stale_load"), default=0
        )

    def interceptors(self) -> tuple[Interceptor, ...]:
        """What to install for this run: the engine, and the checkpoint hooks
        if the plan needs them."""
        taps: list[Interceptor] = [self]
        if any(a.kind == "fail_start" for a in self.armed):
            taps.append(_StartTap(self))
        if any(a.kind in _STORE_KINDS for a in self.armed):
            taps.append(_StoreTap(self))
        return tuple(taps)

    def _index(self, armed: _Armed) -> None:
        kind = armed.kind
        fault = armed.fault
        source = getattr(fault, "source", None)
        mutator = getattr(fault, "mutator", None)
        if mutator is not None:
            armed.mutator = _resolve_callable(mutator, f"fault #{armed.index} mutator")
        if kind == "partition":
            self.partitions.append(armed)
        elif kind == "pause":
            self.pauses.append(armed)
        elif kind in _LINK_KINDS and (source is not None or kind == "reorder"):
            self.on_deliver_faults.append(armed)
        elif kind in _SIGNAL_KINDS:
            self.on_signal_faults.append(armed)
        elif kind == "corrupt_state":
            self.cmd_faults.append(armed)
        elif kind == "fail_start":
            self.start_faults.append(armed)
        elif kind == "store_write_fail":
            self.save_faults.append(armed)
        elif kind == "store_slow":
            self.save_faults.append(armed)
            self.load_faults.append(armed)
        elif kind in ("stale_load", "corrupt_load"):
            self.load_faults.append(armed)

    # ------------------------------------------------------------------- time
    def now(self) -> float:
        return trio.current_time() - self.t0

    def event(self, kind: str, path: str, detail: str = "") -> None:
        if not self.tracing:
            return
        now = self._time()
        if now != self._stamp_time:  # most events share their instant with the last one
            self._stamp_time = now
            self._stamp = f"{now - self.t0:.6f}"
        # _Trace.add, inlined: this runs for every message
        trace = self.trace
        line = f"{self._stamp} {kind} {path} {detail}" if detail else f"{self._stamp} {kind} {path}"
        trace.count += 1
        trace.lines.append(line)
        pending = trace._pending
        pending.append(line)
        if len(pending) >= _Trace._CHUNK:
            trace._flush()

    def record(self, armed: _Armed, path: str, effect: str, *, hit: bool = True) -> None:
        record = FaultRecord(self.now(), armed.index, armed.kind, path, effect, hit)
        self.records.append(record)
        self.event("fault", path, f"#{armed.index} {armed.kind} {effect}")

    def violate(self, check: str, path: str, detail: str) -> None:
        if check in self.disabled:
            return
        self.violations[check] += 1
        if check not in self.first:
            self.first[check] = (self.now(), f"t={self.now():g} {path}: {detail}")
        self.event("violation", path, f"{check}: {detail}")

    # ------------------------------------------------------------ the system
    def resolve(self, name: str) -> AgentRef:
        """The agent registered as ``name``, or whose path is ``name``."""
        value = jido_trio.whereis(name)
        if isinstance(value, AgentRef):
            return value
        ref = self.refs.get(name)
        if ref is not None:
            return ref
        for info in jido_trio.tree():
            if info.path == name and isinstance(info.value, AgentRef):
                return info.value
        raise ChaosError(f"no agent named {name!r} (neither a registered name nor a tree path)")

    def nodes(self) -> dict[str, ChildInfo]:
        return {info.path: info for info in jido_trio.tree() if info.supervisor is not None}

    def targets(self, armed: _Armed) -> list[str]:
        """The running nodes a timed action (or a window opening) hits now."""
        fault = armed.fault
        running = sorted(
            path
            for path, info in self.nodes().items()
            if info.status == "running" and matches(fault.target, path)
        )
        pick: str = fault.pick
        if pick == "all" or not running:
            return running
        if pick == "one":
            n = 1
        elif pick.endswith("%"):
            n = max(1, math.ceil(len(running) * float(pick[:-1]) / 100))
        else:
            n = int(pick)
        return sorted(armed.rng.sample(running, min(n, len(running))))

    # ------------------------------------------------------------- timeline
    def timeline(self) -> list[tuple[float, int, Callable[[], None]]]:
        """Every timed action of the plan, in order."""
        actions: list[tuple[float, int, Callable[[], None]]] = []
        seq = 0

        def at(time: float, action: Callable[[], None]) -> None:
            nonlocal seq
            if time < self.duration:
                seq += 1
                actions.append((time, seq, action))

        for armed in self.armed:
            fault = armed.fault
            if armed.kind == "kill":
                at(fault.at, functools.partial(self.kill, armed))
            elif armed.kind == "restart_storm":
                for k in range(fault.count):
                    if fault.at + k * fault.interval >= self.duration:
                        break  # the rest of the storm falls after the window
                    at(fault.at + k * fault.interval, functools.partial(self.kill, armed))
            elif armed.kind == "pause":
                at(fault.at, functools.partial(self.open_window, armed))
                at(fault.at + fault.duration, functools.partial(self.close_window, armed))
            else:
                at(fault.at, functools.partial(self.open_window, armed))
                if fault.until is not None:
                    at(fault.until, functools.partial(self.close_window, armed))
        heapq.heapify(actions)
        return actions

    def start_timeline(self, nursery: trio.Nursery) -> None:
        """Carry out the actions due at t=0 now, before the workload starts (so a
        window opening at 0 sees the first events), and the rest in a task."""
        self.actions = self.timeline()
        self.catch_up()
        nursery.start_soon(self.run_timeline)

    async def run_timeline(self) -> None:
        actions = self.actions
        while actions and self.phase == "faults":
            await trio.sleep_until(self.t0 + actions[0][0])
            self.catch_up()

    def catch_up(self) -> None:
        """Carry out every timed action due by now, and the heal once the fault
        window is over. The timeline task does this when it wakes; every hook
        does it first too, because a task woken at the same instant as the
        timeline (a delay or a backoff ending) may run before it: so an event
        at time ``t`` always sees the windows as they are at ``t``, whatever
        the scheduler's order (``[at, until)`` and ``[0, duration)`` are
        half-open for every seed)."""
        if self.phase != "faults":
            return
        now = self._time()
        actions = self.actions
        while actions and self.t0 + actions[0][0] <= now:
            heapq.heappop(actions)[2]()
        if now >= self.t0 + self.duration:
            self.heal_all()

    def kill(self, armed: _Armed) -> None:
        if armed.kind == "restart_storm" and armed.paths is not None:
            # a storm keeps the victims it picked at its first kill
            nodes = self.nodes()
            targets = [
                p for p in sorted(armed.paths) if nodes.get(p) and nodes[p].status == "running"
            ]
            for path in sorted(armed.paths):
                if path not in targets:
                    status = nodes[path].status if path in nodes else "gone"
                    self.record(armed, path, f"missed: {path} is {status}", hit=False)
        else:
            targets = self.targets(armed)
            if armed.kind == "restart_storm" and armed.fault.pick != "all" and targets:
                armed.paths = frozenset(targets)
        if not targets:
            if armed.paths is not None:
                return  # a storm's chosen victims are all down: recorded above
            glob = armed.fault.target
            down = sorted(
                f"{path} is {info.status}"
                for path, info in self.nodes().items()
                if matches(glob, path)
            )
            why = ", ".join(down) if down else "no node matches"
            self.record(armed, glob, f"missed: {why}", hit=False)
            return
        for path in targets:
            jido_trio.kill(path, reason=f"chaos fault #{armed.index} ({armed.kind})")
            armed.hits += 1
            self.record(armed, path, "killed")
            self.went_down(path, armed)

    def open_window(self, armed: _Armed) -> None:
        fault = armed.fault
        if armed.kind == "partition" or fault.pick == "all":
            armed.paths = None
        else:
            chosen = self.targets(armed)
            if not chosen:
                self.record(armed, fault.target, "missed: no running node matches", hit=False)
                return
            armed.paths = frozenset(chosen)
        armed.active = True
        if armed.kind in ("partition", "pause"):
            armed.where = (
                f"{fault.source} {'->' if fault.one_way else '<->'} {fault.target}"
                if armed.kind == "partition"
                else ", ".join(sorted(armed.paths))
                if armed.paths
                else fault.target
            )
            self.record(armed, armed.where, "started", hit=False)

    def close_window(self, armed: _Armed) -> None:
        if armed.active and armed.kind in ("partition", "pause"):
            self.record(armed, armed.where, "ended", hit=False)
        armed.active = False

    def heal_all(self) -> None:
        """The end of the fault window: every fault stops; hung and paused
        agents are released. Once: the run's driver and :meth:`catch_up` may
        both call it."""
        if self.phase != "faults":
            return
        self.phase = "quiet"
        for armed in self.armed:
            if armed.active and armed.kind in ("partition", "pause"):
                self.record(armed, armed.where, "healed", hit=False)
            elif armed.kind == "hang" and self.hung[armed.index]:
                released = f"healed: released {self.hung[armed.index]} agent(s)"
                self.record(armed, armed.fault.target, released, hit=False)
            armed.active = False
        self.heal.set()
        self.event("phase", "-", "quiet")

    def went_down(self, path: str, armed: _Armed) -> None:
        """``path`` went down because of ``armed``: its recovery is timed from
        the first fault that took it down (a kill followed by failed restarts
        is one outage)."""
        if armed.kind in _DOWN_KINDS:
            self.down_faults.add(armed.index)
            if any(down_path == path for down_path, _, _ in self.down):
                self.down.append((path, math.inf, armed.index))  # recovers with the first
            else:
                self.down.append((path, self.now(), armed.index))

    def see(self, path: str, agent: AgentRef) -> None:
        """``agent`` runs at ``path``; another agent seen there before (one
        fired and hired again with ``SpawnAgent``) is kept for the checks."""
        old = self.refs.get(path)
        if old is not None and old is not agent:
            self.retired.append((path, old))
        self.refs[path] = agent

    def every_agent(self) -> list[tuple[str, AgentRef]]:
        """Every agent the run has seen, by path (an earlier one at a path
        is labelled so), for the checks that judge them all."""
        out = [(f"{path} (an earlier agent)", ref) for path, ref in self.retired]
        out.extend(self.refs.items())
        return sorted(out, key=lambda item: item[0])

    # ------------------------------------------------------------ telemetry
    def on_telemetry(self, event: TelemetryEvent) -> None:
        name = event.name
        path = event.path
        data = event.data
        if name == "child.started":
            self.event(name, path, f"restarts={data['restarts']}")
            value = data.get("value")
            if isinstance(value, AgentRef):
                self.see(path, value)
            self.restart_windows.pop(path, None)  # a (re)started supervisor: a new window
            if data["restarts"]:
                self.restarts[path] += 1
            if self.down:
                now = self.now()
                still = []
                for down_path, since, fault in self.down:
                    if down_path == path:
                        if since != math.inf:
                            self.recoveries.append(now - since)
                        self.recovered_faults.add(fault)
                    else:
                        still.append((down_path, since, fault))
                self.down = still
        elif name == "child.exited":
            error = data.get("error")
            reason = data["reason"]
            self.event(name, path, f"reason={reason} restart={data['restart']}")
            if error is not None and not isinstance(error, JidoError):
                self.violate(
                    "no_unexpected_crash",
                    path,
                    f"crashed with {type(error).__name__}: {error}",
                )
            if data["restart"] and reason != "shutdown":
                self.count_restart(path)
        elif name == "child.restarting":
            self.event(name, path, f"delay={data['delay']:g}")
        elif name == "child.start_failed":
            self.event(name, path, f"reason={data['reason']}")
        elif name == "supervisor.escalated":
            self.escalations += 1
            self.event(name, path, f"child={data['child_id']}")
        elif name == "supervisor.stopped":
            self.event(name, path, f"reason={data['reason']}")
        self.check_sometimes()

    def supervisor_of(self, path: str) -> Supervisor | None:
        """The supervisor the child at ``path`` runs under: a root, a nested
        supervisor (the value of its node), or an agent's own."""
        parent = path.rpartition("/")[0]
        sup = self.sups.get(parent)
        if sup is not None and not sup.closed:
            return sup
        for info in jido_trio.tree():
            if info.path == parent:
                value = info.value
                found = value.supervisor if isinstance(value, AgentRef) else value
                if isinstance(found, Supervisor):
                    self.sups[parent] = found
                    return found
        return None

    def count_restart(self, path: str) -> None:
        sup = self.supervisor_of(path)
        if sup is None:
            return
        parent = sup.path
        window = self.restart_windows.setdefault(parent, deque())
        # the supervisor's own clock, not the run's: (a - t0) - (b - t0) is not
        # always a - b in floats, and a window edge must fall where it does for
        # the supervisor
        now = trio.current_time()
        window.append(now)
        while window and now - window[0] > sup.max_seconds:
            window.popleft()
        if len(window) > sup.max_restarts:
            self.violate(
                "restart_intensity",
                parent,
                f"restarted a child {len(window)} times within {sup.max_seconds:g}s "
                f"(max_restarts={sup.max_restarts}) instead of escalating",
            )

    # --------------------------------------------------------- fault points
    def point(self, name: str, probability: float) -> bool:
        self.catch_up()
        if self.phase != "faults" or not self.fault_points:
            return False
        entry = self.points.get(name)
        if entry is None:
            rng = stream(self.seed, f"point:{name}")
            entry = (rng.random() < _POINT_ENABLED, rng)
            self.points[name] = entry
            self.event("point", name, "enabled" if entry[0] else "disabled")
        enabled, rng = entry
        if not enabled or rng.random() >= probability:
            return False
        self.point_hits[name] += 1
        self.event("point", name, "fired")
        return True

    # --------------------------------------------------------- interceptor
    async def on_signal(self, agent: AgentRef, message: Any, proceed: Any) -> None:
        path = agent.path
        if self.refs.get(path) is not agent:
            self.see(path, agent)
        depth = agent.queue_length + 1
        if depth > self.max_depth:
            self.max_depth = depth
        if isinstance(message, Signal):
            self.received(message, path)
        crash_after: _Armed | None = None
        duplicate: _Armed | None = None
        self.catch_up()
        if self.phase == "faults":
            for armed in self.pauses:
                if armed.active and armed.covers(path):
                    armed.hits += 1
                    self.record(armed, path, f"held {_describe(message)}")
                    with trio.move_on_at(self.t0 + armed.fault.at + armed.fault.duration):
                        await self.heal.wait()
                    self.catch_up()
            for armed in self.on_signal_faults:
                if not (armed.active and armed.covers(path) and armed.roll()):
                    continue
                kind = armed.kind
                if kind == "drop":
                    self.record(armed, path, f"dropped {_describe(message)}")
                    self.forgo(path, (duplicate, crash_after), f"#{armed.index} dropped it")
                    return
                if kind == "delay":
                    fault = armed.fault
                    seconds = fault.seconds + (
                        armed.rng.uniform(0, fault.jitter) if fault.jitter else 0.0
                    )
                    self.record(armed, path, f"delayed {_describe(message)} {seconds:g}s")
                    await trio.sleep(seconds)
                    self.catch_up()
                elif kind == "hang":
                    self.record(armed, path, f"hung on {_describe(message)}")
                    self.hung[armed.index] += 1
                    try:
                        await self.heal.wait()
                    finally:
                        self.hung[armed.index] -= 1
                    self.catch_up()
                elif kind == "corrupt_message":
                    try:
                        corrupted = self.corrupt_message(armed, message)
                    except Exception as exc:  # noqa: BLE001 - the mutator's bug, reported
                        self.mutator_failed(armed, path, exc)
                        continue
                    message = corrupted
                    self.record(armed, path, f"corrupted {_describe(message)}")
                elif kind == "duplicate":
                    duplicate = armed  # recorded when it happens, just before the message
                elif kind == "crash":
                    if armed.fault.point == "receive":
                        self.record(armed, path, "crashed at receive")
                        self.forgo(
                            path, (duplicate, crash_after), f"#{armed.index} crashed the agent"
                        )
                        self.went_down(path, armed)
                        raise InjectedFault(armed.index, armed.kind, path)
                    crash_after = armed  # recorded when it happens, after the message
        if duplicate is not None:
            self.record(duplicate, path, f"duplicated {_describe(message)}")
        await proceed(message)
        if duplicate is not None:
            await proceed(message)
        self.check_sometimes()  # the message's state is committed now (on_cmd comes before)
        if crash_after is not None:
            self.record(crash_after, path, "crashed at after_cmd")
            self.went_down(path, crash_after)
            raise InjectedFault(crash_after.index, crash_after.kind, path)

    def forgo(self, path: str, chosen: Iterable[_Armed | None], why: str) -> None:
        """Faults that chose a message (a duplicate, a crash after it) which a
        later fault then dropped or crashed on: they did nothing, and their
        records say so."""
        for armed in chosen:
            if armed is not None:
                self.record(armed, path, f"missed: {why} first", hit=False)

    def mutator_failed(self, armed: _Armed, path: str, exc: Exception) -> None:
        """A mutator that raised: the value goes on unchanged, the fault records
        a miss, and the run fails ``no_unexpected_crash``, naming the mutator
        (a bug in the test, not in the system under it)."""
        error = f"{type(exc).__name__}: {exc}"
        self.record(armed, path, f"missed: the mutator raised {error}", hit=False)
        self.violate(
            "no_unexpected_crash",
            "chaos/mutator",
            f"fault #{armed.index} ({armed.kind}) mutator={armed.fault.mutator!r} raised {error}",
        )

    def corrupt_message(self, armed: _Armed, message: Any) -> Any:
        if armed.mutator is not None:
            return armed.mutator(message, armed.rng)
        if isinstance(message, Signal):
            return attrs.evolve(message, data=corrupt_data(message.data, armed.rng))
        if isinstance(message, Instruction):
            params = message.params if isinstance(message.params, dict) else {}
            return attrs.evolve(message, params=corrupt_data(params, armed.rng))
        return message

    def on_cmd(self, agent: AgentRef, outcome: CmdOutcome[Any]) -> CmdOutcome[Any]:
        path = agent.path
        self.event(
            "cmd",
            path,
            f"{outcome.action} {'ok' if outcome.error is None else type(outcome.error).__name__}",
        )
        if outcome.error is not None:
            return outcome
        self.catch_up()
        if self.phase == "faults":
            for armed in self.cmd_faults:
                if armed.active and armed.covers(path) and armed.roll():
                    state = outcome.agent.state
                    if armed.mutator is not None:
                        try:
                            broken = armed.mutator(state, armed.rng)
                        except Exception as exc:  # noqa: BLE001 - the mutator's bug, reported
                            self.mutator_failed(armed, path, exc)
                            continue
                    elif attrs.has(type(state)):
                        broken = corrupt_state(state, armed.rng)
                    else:
                        self.record(
                            armed,
                            path,
                            "missed: the state is not an attrs class; give a mutator",
                            hit=False,
                        )
                        continue
                    self.record(armed, path, "corrupted the state")
                    outcome = attrs.evolve(outcome, agent=attrs.evolve(outcome.agent, state=broken))
        for invariant in self.invariants:
            if matches(invariant.target, path):
                self.check_invariant(invariant, path, outcome.agent.state)
        return outcome

    def check_invariant(self, invariant: Invariant, path: str, state: Any) -> None:
        try:
            verdict = invariant.predicate(path, state)
        except Exception as exc:  # noqa: BLE001 - a predicate that raises is a failed check
            verdict = f"the predicate raised {type(exc).__name__}: {exc}"
        if verdict is True:
            return
        detail = verdict if isinstance(verdict, str) else f"state {state!r}"
        self.violate(invariant.name, path, detail)

    def check_sometimes(self) -> None:
        if self.phase == "stop":  # the system is being taken down: nothing to judge
            return
        for check in self.user_sometimes:
            name = check.name
            if name in self.sometimes_met or name in self.sometimes_broken:
                continue
            try:
                met = check.predicate(self.view)
            except Exception as exc:  # noqa: BLE001 - a predicate that raises fails its check
                self.sometimes_broken[name] = (
                    f"t={self.now():g}: the predicate raised {type(exc).__name__}: {exc}"
                )
                continue
            if met is True:
                self.sometimes_met[name] = self.now()

    async def on_deliver(
        self, source: AgentRef, target: str | None, signal: Signal, proceed: Any
    ) -> None:
        src = source.path
        if target is None:
            self.event("deliver", src, f"{signal.type} -> <bus>")
            await proceed(signal)
            return
        dest = jido_trio.whereis(target)
        dst = dest.path if isinstance(dest, AgentRef) else target
        link = (src, dst)
        self.event("deliver", src, f"{signal.type} -> {dst}")
        delay = 0.0
        twice = False
        self.catch_up()
        if self.phase == "faults":
            for armed in self.partitions:
                fault = armed.fault
                if not armed.active:
                    continue
                forward = matches(fault.source, src) and matches(fault.target, dst)
                back = (
                    not fault.one_way and matches(fault.target, src) and matches(fault.source, dst)
                )
                if forward or back:
                    armed.hits += 1
                    self.record(armed, f"{src} -> {dst}", f"dropped {signal.type} (partitioned)")
                    return
            for armed in self.on_deliver_faults:
                fault = armed.fault
                if not (armed.active and armed.covers(dst) and matches(fault.source, src)):
                    continue
                if not armed.roll():
                    continue
                kind = armed.kind
                where = f"{src} -> {dst}"
                if kind == "drop":
                    self.record(armed, where, f"dropped {signal.type}")
                    return
                if kind == "delay":
                    extra = armed.rng.uniform(0, fault.jitter) if fault.jitter else 0.0
                    delay += fault.seconds + extra
                    self.perturbed.add(link)
                    self.record(armed, where, f"delayed {signal.type} {fault.seconds + extra:g}s")
                elif kind == "reorder":
                    extra = armed.rng.uniform(0, fault.window)
                    delay += extra
                    self.perturbed.add(link)
                    self.record(armed, where, f"held {signal.type} back {extra:g}s")
                elif kind == "duplicate":
                    twice = True
                    self.perturbed.add(link)
                    self.record(armed, where, f"duplicated {signal.type}")
                elif kind == "corrupt_message":
                    try:
                        signal = (
                            armed.mutator(signal, armed.rng)
                            if armed.mutator is not None
                            else attrs.evolve(signal, data=corrupt_data(signal.data, armed.rng))
                        )
                    except Exception as exc:  # noqa: BLE001 - the mutator's bug, reported
                        self.mutator_failed(armed, where, exc)
                        continue
                    self.record(armed, where, f"corrupted {signal.type}")
        self.sent(signal, link)
        await proceed(signal, delay=delay)
        if twice:
            await proceed(signal, delay=delay)

    async def save(self, agent: AgentRef, new: Agent[Any], proceed: Any) -> None:
        path = agent.path
        self.catch_up()
        if self.phase == "faults":
            for armed in self.save_faults:
                if armed.active and armed.covers(path) and armed.roll():
                    if armed.kind == "store_slow":
                        self.record(armed, path, f"slowed a save by {armed.fault.seconds:g}s")
                        await trio.sleep(armed.fault.seconds)
                        self.catch_up()
                    else:
                        self.record(armed, path, f"failed the save of version {new.version}")
                        self.went_down(path, armed)
                        raise InjectedStoreError(armed.index, armed.kind, path)
        await proceed(new)
        if self.keep_history > 1:
            history = self.history.get(path)
            if history is None:
                history = self.history[path] = deque(maxlen=self.keep_history)
            history.append(new)

    async def load(self, agent: AgentRef, proceed: Any) -> Agent[Any] | None:
        path = agent.path
        self.catch_up()
        if self.phase == "faults":
            for armed in self.load_faults:
                if (
                    armed.kind == "store_slow"
                    and armed.active
                    and armed.covers(path)
                    and armed.roll()
                ):
                    self.record(armed, path, f"slowed a load by {armed.fault.seconds:g}s")
                    await trio.sleep(armed.fault.seconds)
        loaded: Agent[Any] | None = await proceed()
        self.catch_up()
        if self.phase == "faults":
            for armed in self.load_faults:
                if armed.kind == "store_slow" or not (armed.active and armed.covers(path)):
                    continue
                if loaded is None:  # nothing committed yet: not an event this fault can hit
                    self.record(armed, path, "missed: no checkpoint to load", hit=False)
                    continue
                if not armed.roll():
                    continue
                if armed.kind == "stale_load":
                    history = list(self.history.get(path, ()))
                    back = armed.fault.versions
                    older = history[-1 - back] if len(history) > back else None
                    self.record(
                        armed,
                        path,
                        f"loaded version {older.version if older else 'initial'} "
                        f"instead of {loaded.version}",
                    )
                    loaded = older
                else:  # corrupt_load
                    if armed.fault.what == "version":
                        loaded = attrs.evolve(loaded, version="corrupt")  # type: ignore[arg-type]
                    elif armed.mutator is not None:
                        try:
                            state = armed.mutator(loaded.state, armed.rng)
                        except Exception as exc:  # noqa: BLE001 - the mutator's bug, reported
                            self.mutator_failed(armed, path, exc)
                            continue
                        loaded = attrs.evolve(loaded, state=state)
                    else:
                        loaded = attrs.evolve(loaded, state=corrupt_state(loaded.state, armed.rng))
                    self.record(armed, path, f"corrupted the loaded {armed.fault.what}")
        return loaded

    async def start(self, child: ChildContext, proceed: Any) -> None:
        path = child.path
        self.catch_up()
        if self.phase == "faults" and child.restarts:
            for armed in self.start_faults:
                if armed.active and armed.covers(path) and armed.roll():
                    self.record(armed, path, "failed the start")
                    self.went_down(path, armed)
                    raise InjectedFault(armed.index, armed.kind, path)
        await proceed()

    # ------------------------------------------------------------ FIFO check
    def sent(self, signal: Signal, link: tuple[str, str]) -> None:
        if "fifo_per_link" in self.disabled:
            return
        seq = self.link_next[link]
        self.link_next[link] = seq + 1
        self.in_transit[signal.id] = (link, seq)

    def received(self, signal: Signal, path: str) -> None:
        entry = self.in_transit.pop(signal.id, None)
        if entry is None:
            return
        link, seq = entry
        last = self.link_last.get(link)
        if last is not None and seq < last and link not in self.perturbed:
            self.violate(
                "fifo_per_link",
                path,
                f"{signal.type} #{seq} from {link[0]} arrived after #{last} (no reordering "
                "was injected on that link)",
            )
        if last is None or seq > last:
            self.link_last[link] = seq

    # ---------------------------------------------------------------- calls
    def begin_call(self, to: str, message: Any, timeout: float) -> _Call:
        self.catch_up()  # a call at the heal's instant is a call of the quiet period
        record = _Call(to, self.now(), timeout, self.phase)
        self.calls.append(record)
        self.event("call", to, _describe(message))
        return record

    def end_call(self, record: _Call, outcome: str) -> None:
        record.end = self.now()
        record.outcome = outcome
        self.event("reply", record.to, outcome)
        if outcome != "cancelled" and record.end - record.start > record.timeout + 1e-9:
            self.violate(
                "call_deadlines",
                record.to,
                f"a call with timeout {record.timeout:g}s returned after "
                f"{record.end - record.start:g}s ({outcome})",
            )

    # -------------------------------------------------------------- metrics
    def metrics(self) -> dict[str, float]:
        out: dict[str, float] = {
            "time": self.now(),
            "events": float(self.trace.count),
            "restarts": float(sum(self.restarts.values())),
            "escalations": float(self.escalations),
            "faults.hits": float(sum(1 for r in self.records if r.hit)),
            "faults.missed": float(sum(1 for r in self.records if r.effect.startswith("missed"))),
            "mailbox.max_depth": float(self.max_depth),
            "calls": float(len(self.calls)),
            "casts": float(self.casts),
            "agents": float(len(self.refs) + len(self.retired)),
        }
        for path, n in sorted(self.restarts.items()):
            out[f"restarts:{path}"] = float(n)
        outcomes = Counter(c.outcome for c in self.calls)
        for outcome, n in sorted(outcomes.items()):
            out[f"calls.{outcome}"] = float(n)
        latencies = sorted(
            c.end - c.start
            for c in self.calls
            if c.end is not None and c.outcome in ("ok", "error")
        )
        if latencies:
            for q, label in ((0.5, "p50"), (0.9, "p90"), (0.99, "p99")):
                out[f"latency.{label}"] = latencies[
                    min(len(latencies) - 1, int(q * len(latencies)))
                ]
            out["latency.max"] = latencies[-1]
        if self.recoveries:
            out["recovery_time.max"] = max(self.recoveries)
            out["recovery_time.mean"] = sum(self.recoveries) / len(self.recoveries)
        out["recoveries"] = float(len(self.recoveries))
        out["unrecovered"] = float(len(self.down))
        letters = self.new_dead_letters()
        out["dead_letters"] = float(len(letters))
        for reason, n in sorted(Counter(d.reason for d in letters).items()):
            out[f"dead_letters:{reason}"] = float(n)
        for name, n in sorted(self.point_hits.items()):
            out[f"points:{name}"] = float(n)
        return out

    def new_dead_letters(self) -> list[DeadLetter]:
        """The run's dead letters since this engine started (a Trio run may
        hold several chaos runs: ``run_async`` twice in one test)."""
        letters = jido_trio.dead_letters()
        last = self.letters_before
        if last is None:
            return letters
        for i in range(len(letters) - 1, -1, -1):
            if letters[i] is last:
                return letters[i + 1 :]
        return letters  # the run's record wrapped past it: all it still holds are new

    # --------------------------------------------------------- final checks
    def always_results(self) -> list[CheckResult]:
        out = []
        names = [n for n, kind in BUILTIN_CHECKS.items() if kind == "always"]
        names += [i.name for i in self.invariants]
        for name in names:
            if name in self.disabled:
                continue
            if name in self.first:
                time, detail = self.first[name]
                more = self.violations[name] - 1
                if more:
                    detail += f" (and {more} more violation(s))"
                out.append(CheckResult(name, "always", "fail", detail, time))
            else:
                out.append(CheckResult(name, "always", "pass"))
        return out

    def judge_running(self) -> list[CheckResult]:
        """The ``eventually`` checks on the live system, at the end of the quiet period."""
        out: list[CheckResult] = []
        if "all_running" not in self.disabled:
            problems = []
            if self.sup is None or self.sup.closed:
                problems.append(
                    "the root supervisor is down"
                    + (
                        f" ({type(self.system_error).__name__}: {self.system_error})"
                        if self.system_error
                        else ""
                    )
                )
            for path, info in sorted(self.nodes().items()):
                ok = info.status == "running" or (
                    info.status == "stopped" and info.restart != "permanent"
                )
                if not ok:
                    problems.append(f"{path} is {info.status}")
            out.append(self._result("all_running", "eventually", problems))
        if "mailboxes_drained" not in self.disabled:
            problems = []
            for path, ref in self.every_agent():
                stats = ref.stats()
                if stats.queued or stats.in_flight:
                    problems.append(
                        f"{path} has {stats.queued} queued, {stats.in_flight} in flight"
                    )
            out.append(self._result("mailboxes_drained", "eventually", problems))
        if "requests_answered" not in self.disabled:
            quiet = [c for c in self.calls if c.phase == "quiet" and c.outcome != "cancelled"]
            bad = [c for c in quiet if c.outcome not in ("ok", "error")]
            problems = [f"t={c.start:g} call to {c.to}: {c.outcome}" for c in bad]
            result = self._result("requests_answered", "eventually", problems)
            if not quiet and not problems:
                result = CheckResult(
                    "requests_answered", "eventually", "unknown", "no call was made after the heal"
                )
            out.append(result)
        return out

    def judge_stopped(self) -> list[CheckResult]:
        """The ``eventually`` checks that need the system stopped."""
        out = []
        if "messages_accounted" not in self.disabled:
            problems = []
            for path, ref in self.every_agent():
                s = ref.stats()
                if s.sent != s.processed + s.dead_lettered or s.queued or s.in_flight:
                    problems.append(
                        f"{path}: sent={s.sent} processed={s.processed} "
                        f"dead_lettered={s.dead_lettered} queued={s.queued} in_flight={s.in_flight}"
                    )
            out.append(self._result("messages_accounted", "eventually", problems))
        if "names_released" not in self.disabled:
            names = {ref.name for _, ref in self.every_agent() if ref.name is not None}
            held = sorted(n for n in jido_trio.current_registry().names() if n in names)
            out.append(
                self._result(
                    "names_released",
                    "eventually",
                    [f"{n!r} is still registered after the system stopped" for n in held],
                )
            )
        return out

    def judge_sometimes(self) -> list[CheckResult]:
        out = []
        if "faults_hit" not in self.disabled:
            if not self.armed:
                out.append(
                    CheckResult("faults_hit", "sometimes", "unknown", "the plan has no fault")
                )
            else:
                hit = {r.fault for r in self.records if r.hit}
                missed = [
                    f"#{a.index} {a.kind} {a.fault.target}"
                    for a in self.armed
                    if a.index not in hit
                ]
                out.append(
                    self._result(
                        "faults_hit",
                        "sometimes",
                        [f"never hit a live target: {', '.join(missed)}"] if missed else [],
                    )
                )
        if "recovered" not in self.disabled:
            if not self.down_faults:
                out.append(
                    CheckResult("recovered", "sometimes", "unknown", "no fault took a target down")
                )
            else:
                never = sorted(self.down_faults - self.recovered_faults)
                out.append(
                    self._result(
                        "recovered",
                        "sometimes",
                        [f"after fault #{i} the target never started again" for i in never],
                    )
                )
        for check in self.user_sometimes:
            if check.name in self.sometimes_met:
                out.append(
                    CheckResult(
                        check.name,
                        "sometimes",
                        "pass",
                        f"first at t={self.sometimes_met[check.name]:g}",
                        self.sometimes_met[check.name],
                    )
                )
            else:
                detail = self.sometimes_broken.get(check.name, "never held during the run")
                out.append(CheckResult(check.name, "sometimes", "fail", detail))
        return out

    def judge_bounds(self, metrics: dict[str, float]) -> list[CheckResult]:
        out = []
        for bound in self.bounds:
            value = metrics.get(bound.metric, 0.0)
            low = bound.min is not None and value < bound.min
            high = bound.max is not None and value > bound.max
            verdict: Verdict = "fail" if low or high else "pass"
            out.append(CheckResult(bound.label, "bound", verdict, f"{bound.metric} = {value:g}"))
        return out

    @staticmethod
    def _result(name: str, kind: CheckKind, problems: list[str]) -> CheckResult:
        if not problems:
            return CheckResult(name, kind, "pass")
        detail = "; ".join(problems[:5])
        if len(problems) > 5:
            detail += f"; ... {len(problems) - 5} more"
        return CheckResult(name, kind, "fail", detail)
