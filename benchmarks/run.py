"""Side-by-side benchmarks: jido_trio against bare Trio (and triotp).

``python benchmarks/run.py`` runs every benchmark and prints one line each::

    BENCH <name> ratio=<x> target<=<y> PASS|MISS [triotp_ratio=<z>]

followed by indented raw figures. Every ratio is measured in this one process,
against bare Trio doing the same work (the physical limit), with a warm-up and
interleaved repeats (best of k; medians are reported too). Where bare Trio's
plain version does less than any supervised child must (a task with no cancel
scope of its own, torn down by one cancel), a benchmark also reports its ratio
to that *floor*, measured in the same run, as a line of its own::

    BENCH <name>.floor ratio=<x> target<=<y> PASS|MISS

triotp 0.2.1 pins trio < 0.20, so it runs in its own virtual environment
(``benchmarks/.triotp-venv``, created on demand) through ``triotp_bench.py``,
and is compared by its ratio to bare Trio measured in that same environment.

Options: ``--quick`` (a small size of each, a few seconds in all; targets are
shown, never enforced), ``--json PATH`` (write every figure), ``--no-triotp``,
``--only NAME`` (repeatable, or comma-separated), ``--strict`` (exit 1 on a
MISS; by default the exit status is 0 unless a benchmark crashes), ``--clock cpu``
(time with ``process_time`` instead of ``perf_counter``: steadier on a machine
whose cores other processes share).

Adding a benchmark: write ``def my_bench(quick: bool) -> Figures`` returning a
dict with at least ``"ratio"`` (plus any raw figures: a float, int, str, or a
nested dict of them), and decorate it with ``@bench("name", target=..., direction="<=")``.
A further verdict from the same run is a ``Check``: ``checks=(Check("floor", 1.3),)``
reads ``figures["floor"]["ratio"]`` and prints it as ``BENCH name.floor ...``.

A benchmark of counts rather than a ratio (``bugfind``) has ``target=None``: its
figures hold ``"lines"``, a list of ``Line`` dicts (``name``, ``head``: the
figures on its ``BENCH`` line, ``figures``: those indented below), and
``"head"``, its own summary line's figures; it has no verdict.

The chaos engine's benchmarks (``chaos_*``, ``bugfind``) take their systems
from ``chaos_bench.py`` and ``planted_bugs.py``, beside this file;
``scenario_sweep`` times the ``python -m chaos`` command itself, in processes
of its own (``sweep_bench.py``), always on the wall clock.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import hashlib
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import tracemalloc
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal, TypedDict, TypeVar

import attrs
import chaos_bench
import planted_bugs
import sweep_bench
import trio
import trio.testing

import chaos
import jido_trio

HERE = Path(__file__).resolve().parent
TRIOTP_VENV = HERE / ".triotp-venv"
TRIOTP_SCRIPT = HERE / "triotp_bench.py"
TRIOTP_VERSION = "0.2.1"

Figures = dict[str, Any]
Direction = Literal["<=", ">="]
T = TypeVar("T")


class Line(TypedDict):
    """One line of a benchmark of counts: ``BENCH <name> <head...>``, then
    ``figures`` indented below it."""

    name: str
    head: dict[str, Any]
    figures: dict[str, Any]


def verdict(value: float, target: float, direction: Direction) -> str:
    ok = value <= target if direction == "<=" else value >= target
    return "PASS" if ok else "MISS"


@dataclass(frozen=True)
class Check:
    """A further verdict of a benchmark, from the same run: the ratio in
    ``figures[key]["ratio"]`` against its own target, reported as
    ``BENCH <name>.<key>``. The sub-dict holds that line's raw figures."""

    key: str
    target: float
    direction: Direction = "<="


@dataclass(frozen=True)
class Bench:
    """One benchmark: ``fn(quick)`` returns its figures, with ``"ratio"``."""

    name: str
    #: ``None``: a benchmark of counts, with no verdict (see the module docstring)
    target: float | None
    direction: Direction
    fn: Callable[[bool], Figures]
    doc: str = ""
    #: key of this benchmark in triotp_bench.py's JSON output, if triotp has one
    triotp: str | None = None
    checks: tuple[Check, ...] = ()

    def verdict(self, ratio: float) -> str:
        assert self.target is not None
        return verdict(ratio, self.target, self.direction)


BENCHMARKS: list[Bench] = []


def bench(
    name: str,
    *,
    target: float | None,
    direction: Direction = "<=",
    triotp: str | None = None,
    checks: tuple[Check, ...] = (),
) -> Callable[[Callable[[bool], Figures]], Callable[[bool], Figures]]:
    """Register ``fn(quick) -> figures`` as a benchmark."""

    def register(fn: Callable[[bool], Figures]) -> Callable[[bool], Figures]:
        doc = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        BENCHMARKS.append(Bench(name, target, direction, fn, doc, triotp, checks))
        return fn

    return register


# --------------------------------------------------------------- measuring
@dataclass
class Samples:
    """Repeated measurements of one quantity (seconds or bytes)."""

    values: list[float] = field(default_factory=list)

    @property
    def best(self) -> float:
        return min(self.values)

    @property
    def median(self) -> float:
        return statistics.median(self.values)


CLOCKS: dict[str, Callable[[], float]] = {
    "wall": time.perf_counter,
    # CPU time of this process: the same figure on an idle machine (no
    # workload here sleeps or waits on I/O), and far steadier on a busy one
    "cpu": time.process_time,
}
_clock = CLOCKS["wall"]


def now() -> float:
    """The clock every workload reads (``--clock``, default wall time)."""
    return _clock()


def run_trio(fn: Callable[[], Awaitable[T]]) -> T:
    """One fresh ``trio.run`` after a full collection, so runs do not share garbage."""
    gc.collect()
    return trio.run(fn)


def side_by_side(
    sides: Mapping[str, Callable[[], Mapping[str, float]]],
    repeats: int,
    *,
    warm_up: bool = True,
) -> dict[str, dict[str, Samples]]:
    """Run each side once to warm up (unless ``warm_up=False``: memory
    figures, which warm up inside their own run), then ``repeats`` times
    interleaved (a, b, b, a, ...) so background load hits both sides alike.
    Each call returns named phase figures; they are collected per side and phase."""
    if warm_up:
        for fn in sides.values():
            fn()
    out: dict[str, dict[str, Samples]] = {name: {} for name in sides}
    for i in range(repeats):
        order = list(sides.items())
        if i % 2:
            order.reverse()
        for name, fn in order:
            for phase, value in fn().items():
                out[name].setdefault(phase, Samples()).values.append(value)
    return out


def us(seconds: float, n: int) -> float:
    return round(seconds / n * 1e6, 3)


def ms(seconds: float) -> float:
    return round(seconds * 1e3, 3)


def ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b > 0 else math.inf


# ----------------------------------------------------------- the workloads
class Crasher:
    """A child that raises ``crashes`` times, then returns normally."""

    def __init__(self, crashes: int) -> None:
        self.left = crashes
        self.done = trio.Event()

    async def __call__(self) -> None:
        if self.left <= 0:
            self.done.set()
            return
        self.left -= 1
        raise RuntimeError("crash")


async def idle() -> None:
    await trio.sleep_forever()


async def polite() -> None:
    """An idle child that leaves when asked to stop (graceful shutdown)."""
    await jido_trio.current_child().stop_requested.wait()


async def waits_for(event: trio.Event) -> None:
    await event.wait()


def restart_ours(n: int) -> dict[str, float]:
    async def main() -> dict[str, float]:
        crasher = Crasher(n)
        t0 = now()
        async with jido_trio.open_supervisor(max_restarts=10 * n + 10, max_seconds=0.001) as sup:
            await sup.start_child(jido_trio.ChildSpec("crasher", crasher, restart="transient"))
        t1 = now()
        assert crasher.left == 0
        return {"total": t1 - t0}

    return run_trio(main)


def restart_ours_with_siblings(n: int, siblings: int) -> dict[str, float]:
    """Restarts of one crashing child beside ``siblings`` idle ones (the time
    counts only the restarts): shows whether a restart costs O(children)."""

    async def main() -> dict[str, float]:
        crasher = Crasher(n)
        with trio.CancelScope() as outer:
            async with jido_trio.open_supervisor(
                max_restarts=10 * n + 10, max_seconds=0.001
            ) as sup:
                for i in range(siblings):
                    await sup.start_child(jido_trio.ChildSpec(f"s{i}", idle, shutdown=0))
                await trio.testing.wait_all_tasks_blocked()
                t0 = now()
                spec = jido_trio.ChildSpec("crasher", crasher, restart="transient")
                await sup.start_child(spec)
                await crasher.done.wait()
                t1 = now()
                outer.cancel()
        return {"total": t1 - t0}

    return run_trio(main)


def restart_bare(n: int) -> dict[str, float]:
    async def main() -> dict[str, float]:
        crasher = Crasher(n)
        t0 = now()
        for _ in range(n + 1):
            try:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(crasher)
            except* RuntimeError:
                pass
        t1 = now()
        assert crasher.left == 0
        return {"total": t1 - t0}

    return run_trio(main)


Teardown = Literal["shutdown", "cancel", "graceful"]


def spawn_ours(n: int, teardown: Teardown) -> dict[str, float]:
    """Spawn ``n`` idle children one ``start_child`` at a time (spec built in the
    loop, as a user does), wait until all are parked, then tear down."""
    start = polite if teardown == "graceful" else idle
    shutdown = 5.0 if teardown == "graceful" else 0.0

    async def main() -> dict[str, float]:
        with trio.CancelScope() as outer:
            t0 = now()
            async with jido_trio.open_supervisor() as sup:
                for i in range(n):
                    spec = jido_trio.ChildSpec(f"c{i}", start, shutdown=shutdown)
                    await sup.start_child(spec)
                await trio.testing.wait_all_tasks_blocked()
                t1 = now()
                if teardown == "cancel":
                    outer.cancel()
                else:
                    await sup.shutdown()
        t2 = now()
        return {"spawn": t1 - t0, "teardown": t2 - t1, "total": t2 - t0}

    return run_trio(main)


def spawn_bare(n: int, teardown: Teardown) -> dict[str, float]:
    """``n`` bare tasks in a nursery; teardown cancels the nursery, or (graceful)
    sets each task's own event and waits for the nursery."""

    async def main() -> dict[str, float]:
        t0 = now()
        async with trio.open_nursery() as nursery:
            events: list[trio.Event] = []
            for _ in range(n):
                if teardown == "graceful":
                    event = trio.Event()
                    events.append(event)
                    nursery.start_soon(waits_for, event)
                else:
                    nursery.start_soon(idle)
            await trio.testing.wait_all_tasks_blocked()
            t1 = now()
            if teardown == "graceful":
                for event in reversed(events):
                    event.set()
            else:
                nursery.cancel_scope.cancel()
        t2 = now()
        return {"spawn": t1 - t0, "teardown": t2 - t1, "total": t2 - t0}

    return run_trio(main)


class StopSignal:
    """The floor's one wake-up slot for ordered stops: the stopper puts a fresh
    ``trio.Event`` here before it cancels a child, and the child sets it when it
    has left its scope. Stops are one at a time, so one slot serves every child,
    and a child pays for no event until it is stopped (as ``ChildContext._done``)."""

    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = trio.Event()


async def idle_until_stopped(scope: trio.CancelScope, stopped: StopSignal) -> None:
    """A floor child: the same ``idle`` body as ours, in a wrapper coroutine
    with its own cancel scope."""
    with scope:
        await idle()
    stopped.done.set()


def spawn_floor(n: int) -> dict[str, float]:
    """The floor for a child that can be stopped on its own, stopped in OTP's
    order: ``n`` bare tasks, each in a wrapper coroutine with its own
    ``CancelScope``, then cancelled one at a time in reverse start order, each
    awaited before the next."""

    async def main() -> dict[str, float]:
        stopped = StopSignal()
        t0 = now()
        async with trio.open_nursery() as nursery:
            scopes: list[trio.CancelScope] = []
            for _ in range(n):
                scope = trio.CancelScope()
                scopes.append(scope)
                nursery.start_soon(idle_until_stopped, scope, stopped)
            await trio.testing.wait_all_tasks_blocked()
            t1 = now()
            for scope in reversed(scopes):
                stopped.done = trio.Event()
                scope.cancel()
                await stopped.done.wait()
        t2 = now()
        return {"spawn": t1 - t0, "teardown": t2 - t1, "total": t2 - t0}

    return run_trio(main)


def memory_ours(n: int) -> dict[str, float]:
    async def main() -> dict[str, float]:
        with trio.CancelScope() as outer:
            async with jido_trio.open_supervisor() as sup:
                # one child first, so lazily built structures are not counted
                await sup.start_child(jido_trio.ChildSpec("warm", idle, shutdown=0))
                await trio.testing.wait_all_tasks_blocked()
                gc.collect()
                tracemalloc.start()
                before = tracemalloc.get_traced_memory()[0]
                specs = [jido_trio.ChildSpec(f"c{i}", idle, shutdown=0) for i in range(n)]
                after_specs = tracemalloc.get_traced_memory()[0]
                for spec in specs:
                    await sup.start_child(spec)
                await trio.testing.wait_all_tasks_blocked()
                gc.collect()
                after = tracemalloc.get_traced_memory()[0]
                tracemalloc.stop()
                outer.cancel()
        return {"total": after - before, "specs": after_specs - before}

    return run_trio(main)


async def idle_in_scope(scope: trio.CancelScope) -> None:
    with scope:
        await idle()


def traced_spawns(n: int, spawn: Callable[[trio.Nursery], None]) -> float:
    """Bytes still allocated after ``spawn`` ran ``n`` times in one nursery and
    every task went idle (one warm-up spawn first, outside the window)."""

    async def main() -> float:
        async with trio.open_nursery() as nursery:
            spawn(nursery)
            await trio.testing.wait_all_tasks_blocked()
            gc.collect()
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            for _ in range(n):
                spawn(nursery)
            await trio.testing.wait_all_tasks_blocked()
            gc.collect()
            after = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
            nursery.cancel_scope.cancel()
        return float(after - before)

    return run_trio(main)


def memory_bare(n: int, scoped: bool = False) -> dict[str, float]:
    """Bytes for ``n`` bare idle tasks; ``scoped``: each in its own wrapper
    coroutine and CancelScope, the least an individually stoppable child needs."""

    def spawn(nursery: trio.Nursery) -> None:
        if scoped:
            nursery.start_soon(idle_in_scope, trio.CancelScope())
        else:
            nursery.start_soon(idle)

    return {"total": traced_spawns(n, spawn)}


# ------------------------------------------------------- agent workloads
@attrs.frozen
class BenchState:
    """The state of the benchmark agent: nothing at all."""


@jido_trio.action("noop")
def noop(state: BenchState, params: jido_trio.NoParams) -> BenchState:
    return state


BENCH_AGENT = jido_trio.AgentDef("bench", BenchState, [noop])
MAILBOX = 1000  # agent_spec's default mailbox_size; the bare channels use the same


async def serve_ping(
    requests: trio.MemoryReceiveChannel[int], replies: trio.MemorySendChannel[int]
) -> None:
    async for item in requests:
        await replies.send(item)


async def drain(receive: trio.MemoryReceiveChannel[Any]) -> None:
    """The bare agent: one task taking items off its channel."""
    async for _ in receive:
        pass


def call_ours(n: int) -> dict[str, float]:
    """``n`` sequential ``ref.call(noop())`` round trips to one idle agent
    (one prebuilt message; default ``timeout=5.0``)."""

    async def main() -> dict[str, float]:
        with trio.CancelScope() as outer:
            async with jido_trio.open_supervisor() as sup:
                ref: jido_trio.AgentRef = await sup.start_child(
                    jido_trio.agent_spec("agent", BENCH_AGENT)
                )
                message = noop()
                await ref.call(message)
                t0 = now()
                for _ in range(n):
                    await ref.call(message)
                t1 = now()
                assert ref.stats().processed == n + 1
                outer.cancel()
        return {"total": t1 - t0}

    return run_trio(main)


def call_bare(n: int) -> dict[str, float]:
    """``n`` ping-pongs: an unbuffered request channel and an unbuffered reply
    channel, served by one task."""

    async def main() -> dict[str, float]:
        req_send, req_recv = trio.open_memory_channel[int](0)
        rep_send, rep_recv = trio.open_memory_channel[int](0)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(serve_ping, req_recv, rep_send)
            await req_send.send(-1)
            await rep_recv.receive()
            t0 = now()
            for i in range(n):
                await req_send.send(i)
                await rep_recv.receive()
            t1 = now()
            nursery.cancel_scope.cancel()
        return {"total": t1 - t0}

    return run_trio(main)


def cast_ours(n: int) -> dict[str, float]:
    """``n`` ``await ref.cast(noop())`` from one producer, until the agent has
    processed them all (a final ``call`` in the same FIFO mailbox)."""

    async def main() -> dict[str, float]:
        with trio.CancelScope() as outer:
            async with jido_trio.open_supervisor() as sup:
                ref: jido_trio.AgentRef = await sup.start_child(
                    jido_trio.agent_spec("agent", BENCH_AGENT, mailbox_size=MAILBOX)
                )
                message = noop()
                await ref.call(message)
                t0 = now()
                for _ in range(n - 1):
                    await ref.cast(message)
                await ref.call(message)
                t1 = now()
                assert ref.stats().processed == n + 1
                outer.cancel()
        return {"total": t1 - t0}

    return run_trio(main)


def cast_bare(n: int) -> dict[str, float]:
    """``n`` items sent through a channel bounded at ``MAILBOX`` to one consumer
    task, until it has taken the last one."""

    async def consume(receive: trio.MemoryReceiveChannel[int], done: trio.Event) -> None:
        async for item in receive:
            if item == n - 1:
                done.set()

    async def main() -> dict[str, float]:
        send, receive = trio.open_memory_channel[int](MAILBOX)
        done = trio.Event()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(consume, receive, done)
            await trio.testing.wait_all_tasks_blocked()
            t0 = now()
            for i in range(n):
                await send.send(i)
            await done.wait()
            t1 = now()
            nursery.cancel_scope.cancel()
        return {"total": t1 - t0}

    return run_trio(main)


async def start_agents(sup: jido_trio.Supervisor, n: int, prefix: str) -> list[Any]:
    """Start ``n`` default agents, one ``start_child(agent_spec(...))`` at a time."""
    return [
        await sup.start_child(jido_trio.agent_spec(f"{prefix}{i}", BENCH_AGENT)) for i in range(n)
    ]


def memory_agents_ours(n: int, frames: int = 1) -> dict[str, Any]:
    """Bytes for ``n`` idle agents started under one supervisor (``agent_spec``
    built inside the window, as a user does). With ``frames > 1``, also the
    bytes by the innermost line of jido_trio that allocated them."""

    async def main() -> dict[str, Any]:
        with trio.CancelScope() as outer:
            async with jido_trio.open_supervisor() as sup:
                # one agent first, so lazily built structures are not counted
                await start_agents(sup, 1, "warm")
                await trio.testing.wait_all_tasks_blocked()
                gc.collect()
                tracemalloc.start(frames)
                before = tracemalloc.get_traced_memory()[0]
                refs = await start_agents(sup, n, "a")
                await trio.testing.wait_all_tasks_blocked()
                gc.collect()
                after = tracemalloc.get_traced_memory()[0]
                snapshot = tracemalloc.take_snapshot() if frames > 1 else None
                tracemalloc.stop()
                assert len(refs) == n
                outer.cancel()
        out: dict[str, Any] = {"total": after - before}
        if snapshot is not None:
            out["by_line"] = attribute(snapshot, n)
        return out

    return run_trio(main)


def attribute(snapshot: tracemalloc.Snapshot, n: int, floor: float = 64.0) -> dict[str, float]:
    """Bytes per agent by allocation site: the innermost frame in jido_trio
    (``_server.py:325``), plus, when the allocation happened deeper (in trio or
    in generated code), the innermost frame (``-> _channel.py:402``). Sites
    under ``floor`` bytes per agent are summed into ``(smaller sites)``."""
    ours = os.sep + "jido_trio" + os.sep
    by_site: dict[str, int] = {}
    for stat in snapshot.statistics("traceback"):
        frames = list(stat.traceback)  # oldest first
        site = "(outside jido_trio)"
        for frame in reversed(frames):
            if ours in frame.filename:
                site = f"{os.path.basename(frame.filename)}:{frame.lineno}"
                inner = frames[-1]
                if inner is not frame:
                    name = inner.filename
                    if name.startswith("<attrs generated methods "):
                        name = name.removeprefix("<attrs generated methods ").rstrip(">")
                        name = "attrs " + name.rsplit(".", 1)[-1]
                    else:
                        name = os.path.basename(name)
                    site += f" -> {name}:{inner.lineno}"
                break
        by_site[site] = by_site.get(site, 0) + stat.size
    out: dict[str, float] = {}
    rest = 0.0
    for site, size in sorted(by_site.items(), key=lambda kv: -kv[1]):
        if size / n >= floor:
            out[site] = round(size / n)
        else:
            rest += size / n
    out["(smaller sites)"] = round(rest)
    return out


async def drain_in_scope(receive: trio.MemoryReceiveChannel[Any], scope: trio.CancelScope) -> None:
    with scope:
        await drain(receive)


def memory_agents_bare(n: int, scoped: bool = False) -> dict[str, float]:
    """Bytes for ``n`` bare "agents": a memory channel pair bounded at
    ``MAILBOX`` and one task blocked receiving from it; ``scoped``: each task in
    its own ``CancelScope``, the least a child stoppable on its own needs."""
    senders: list[trio.MemorySendChannel[Any]] = []

    def spawn(nursery: trio.Nursery) -> None:
        send, receive = trio.open_memory_channel[Any](MAILBOX)
        senders.append(send)
        if scoped:
            nursery.start_soon(drain_in_scope, receive, trio.CancelScope())
        else:
            nursery.start_soon(drain, receive)

    total = traced_spawns(n, spawn)
    senders.clear()
    return {"total": total}


def gc_off(fn: Callable[[int], dict[str, float]], n: int) -> dict[str, float]:
    """``fn(n)`` with the cyclic garbage collector disabled (collected before)."""
    gc.collect()
    gc.disable()
    try:
        return fn(n)
    finally:
        gc.enable()


def agents_ours(n: int) -> dict[str, float]:
    """Start ``n`` agents under one supervisor (default ``agent_spec``: grace
    5 s, the agent leaves at its next message), wait until all are idle, then
    ``sup.shutdown()``."""

    async def main() -> dict[str, float]:
        t0 = now()
        async with jido_trio.open_supervisor() as sup:
            for i in range(n):
                await sup.start_child(jido_trio.agent_spec(f"a{i}", BENCH_AGENT))
            await trio.testing.wait_all_tasks_blocked()
            t1 = now()
            await sup.shutdown()
        t2 = now()
        return {"start": t1 - t0, "stop": t2 - t1, "total": t2 - t0}

    return run_trio(main)


def agents_bare(n: int) -> dict[str, float]:
    """``n`` bare "agents" (channel pair + receiving task) spawned in a
    nursery, then cancelled."""

    async def main() -> dict[str, float]:
        senders: list[trio.MemorySendChannel[Any]] = []
        t0 = now()
        async with trio.open_nursery() as nursery:
            for _ in range(n):
                send, receive = trio.open_memory_channel[Any](MAILBOX)
                senders.append(send)
                nursery.start_soon(drain, receive)
            await trio.testing.wait_all_tasks_blocked()
            t1 = now()
            nursery.cancel_scope.cancel()
        t2 = now()
        return {"start": t1 - t0, "stop": t2 - t1, "total": t2 - t0}

    return run_trio(main)


# ------------------------------------------------------------ benchmarks
@bench("restart", target=1.5, triotp="restart")
def bench_restart(quick: bool) -> Figures:
    """one_for_one restart of a crashing child, vs a bare nursery-per-attempt loop."""
    n = 200 if quick else 2000
    k = 3 if quick else 15  # cheap (~0.1 s a run), and noisy: many repeats
    res = side_by_side({"ours": lambda: restart_ours(n), "bare": lambda: restart_bare(n)}, k)
    ours, bare = res["ours"]["total"], res["bare"]["total"]
    figures: Figures = {
        "ratio": ratio(ours.best, bare.best),
        "n": n,
        "repeats": k,
        "ours_s": round(ours.best, 6),
        "bare_s": round(bare.best, 6),
        "ours_us_per_restart": us(ours.best, n),
        "bare_us_per_attempt": us(bare.best, n),
        "median_ratio": ratio(ours.median, bare.median),
    }
    # not part of the ratio: the same restarts beside idle siblings
    n_sib = 100 if quick else 500
    sizes = (0, 100) if quick else (0, 1000, 10_000)
    sib = side_by_side(
        {f"{m}": partial(restart_ours_with_siblings, n_sib, m) for m in sizes}, 1 if quick else 3
    )
    figures["with_siblings_us_per_restart"] = {
        f"{m}_siblings": us(sib[f"{m}"]["total"].best, n_sib) for m in sizes
    }
    return figures


def spawn_figures(res: dict[str, dict[str, Samples]], n: int, *, other: str = "bare") -> Figures:
    """Spawn / teardown / total of ``res["ours"]`` against ``res["bare"]``
    (named ``other`` in the figures)."""
    ours, bare = res["ours"], res["bare"]
    return {
        "ratio": ratio(ours["total"].best, bare["total"].best),
        "spawn_ratio": ratio(ours["spawn"].best, bare["spawn"].best),
        "teardown_ratio": ratio(ours["teardown"].best, bare["teardown"].best),
        "ours_spawn_us": us(ours["spawn"].best, n),
        f"{other}_spawn_us": us(bare["spawn"].best, n),
        "ours_teardown_us": us(ours["teardown"].best, n),
        f"{other}_teardown_us": us(bare["teardown"].best, n),
        "ours_total_ms": ms(ours["total"].best),
        f"{other}_total_ms": ms(bare["total"].best),
        "median_ratio": ratio(ours["total"].median, bare["total"].median),
    }


@bench("spawn_teardown", target=2.0, triotp="spawn_teardown", checks=(Check("floor", 1.3),))
def bench_spawn_teardown(quick: bool) -> Figures:
    """spawn N supervised idle children and tear them down, vs N bare tasks then cancel.

    The headline is shutdown=0 children stopped by ``sup.shutdown()``; the
    ``cancel`` (enclosing scope cancelled) and ``graceful`` (default 5 s grace,
    children leave on ``stop_requested``) variants are reported beside it.
    ``floor``: the headline against bare tasks that each have their own cancel
    scope, stopped one at a time in reverse order (``spawn_floor``), measured
    interleaved with the headline's two sides.
    """
    n = 1000 if quick else 10_000
    k = 3 if quick else 5
    figures: Figures = {"n": n, "repeats": k}
    teardowns: tuple[Teardown, ...] = ("shutdown", "cancel", "graceful")
    floor: Figures = {}
    for teardown in teardowns:
        bare_kind: Teardown = "graceful" if teardown == "graceful" else "cancel"
        sides = {
            "ours": partial(spawn_ours, n, teardown),
            "bare": partial(spawn_bare, n, bare_kind),
        }
        if teardown == "shutdown":
            sides["floor"] = partial(spawn_floor, n)
        res = side_by_side(sides, k)
        figures[teardown] = spawn_figures(res, n)
        if teardown == "shutdown":
            floor = spawn_figures({"ours": res["ours"], "bare": res["floor"]}, n, other="floor")
    if not quick:
        # the same two with the cyclic GC off: at a given n, ours can pay one
        # full collection more than the floor (a step, not a trend)
        off = side_by_side(
            {
                "ours": partial(gc_off, partial(spawn_ours, teardown="shutdown"), n),
                "bare": partial(gc_off, spawn_floor, n),
            },
            3,
        )
        floor["gc_off"] = spawn_figures(off, n, other="floor")
    figures["ratio"] = figures["shutdown"]["ratio"]
    figures["floor"] = floor
    return figures


@bench("memory_per_child", target=1.5, checks=(Check("floor", 1.3),))
def bench_memory(quick: bool) -> Figures:
    """bytes per idle supervised child (spec included) vs per bare idle task (tracemalloc).

    ``floor``: against a bare task in its own wrapper coroutine and
    ``CancelScope``, the least a child that can be stopped on its own needs,
    measured interleaved with the other two sides.
    """
    n = 1000 if quick else 10_000
    k = 1 if quick else 3
    res = side_by_side(
        {
            "ours": lambda: memory_ours(n),
            "bare": lambda: memory_bare(n),
            "floor": lambda: memory_bare(n, scoped=True),
        },
        k,
    )
    per_ours = res["ours"]["total"].median / n
    per_bare = res["bare"]["total"].median / n
    per_floor = res["floor"]["total"].median / n
    per_spec = res["ours"]["specs"].median / n
    return {
        "ratio": ratio(per_ours, per_bare),
        "n": n,
        "repeats": k,
        "ours_bytes_per_child": round(per_ours),
        "bare_bytes_per_task": round(per_bare),
        "spec_bytes_per_child": round(per_spec),
        "ours_without_spec_ratio": ratio(per_ours - per_spec, per_bare),
        "floor": {
            "ratio": ratio(per_ours, per_floor),
            "ours_bytes_per_child": round(per_ours),
            "floor_bytes_per_task": round(per_floor),
            "ours_without_spec_ratio": ratio(per_ours - per_spec, per_floor),
            "floor_to_bare_ratio": ratio(per_floor, per_bare),
        },
    }


@bench("teardown_linear", target=12.0, triotp="teardown_linear")
def bench_teardown_linear(quick: bool) -> Figures:
    """sup.shutdown() time at 10N children over time at N (linear = 10)."""
    n = 100 if quick else 1000
    k = 3 if quick else 7
    figures: Figures = {"n": n, "n10": 10 * n, "repeats": k}
    kinds: tuple[Teardown, ...] = ("shutdown", "graceful")
    for kind in kinds:
        res = side_by_side(
            {"small": partial(spawn_ours, n, kind), "large": partial(spawn_ours, 10 * n, kind)}, k
        )
        small, large = res["small"]["teardown"], res["large"]["teardown"]
        figures[kind] = {
            "ratio": ratio(large.median, small.median),
            "n_ms": ms(small.median),
            "n10_ms": ms(large.median),
            "n_us_per_child": us(small.median, n),
            "n10_us_per_child": us(large.median, 10 * n),
        }
    res = side_by_side(
        {"small": lambda: spawn_bare(n, "cancel"), "large": lambda: spawn_bare(10 * n, "cancel")},
        k,
    )
    figures["bare_cancel"] = {
        "ratio": ratio(res["large"]["teardown"].median, res["small"]["teardown"].median),
        "n_ms": ms(res["small"]["teardown"].median),
        "n10_ms": ms(res["large"]["teardown"].median),
    }
    figures["ratio"] = figures["shutdown"]["ratio"]
    return figures


def instruction_us() -> float:
    """µs to build one ``noop()`` Instruction (not part of the call figures)."""
    k = 20_000
    t0 = now()
    for _ in range(k):
        noop()
    return us(now() - t0, k)


@bench("call", target=1.5, triotp="call")
def bench_call(quick: bool) -> Figures:
    """AgentRef.call round trip of a no-op action vs a bare two-channel ping-pong."""
    n = 2000 if quick else 20_000
    k = 3 if quick else 7
    res = side_by_side({"ours": partial(call_ours, n), "bare": partial(call_bare, n)}, k)
    ours, bare = res["ours"]["total"], res["bare"]["total"]
    return {
        "ratio": ratio(ours.best, bare.best),
        "n": n,
        "repeats": k,
        "ours_us_per_call": us(ours.best, n),
        "bare_us_per_roundtrip": us(bare.best, n),
        "median_ratio": ratio(ours.median, bare.median),
        # the message is built once, outside the loop; building one costs this
        "instruction_us": instruction_us(),
    }


@bench("cast_throughput", target=0.5, direction=">=")
def bench_cast_throughput(quick: bool) -> Figures:
    """N casts of a no-op action consumed by the agent vs N items through a bare
    bounded channel (same size) to one task; ratio = our throughput / bare."""
    n = 5000 if quick else 100_000
    k = 3 if quick else 5
    res = side_by_side({"ours": partial(cast_ours, n), "bare": partial(cast_bare, n)}, k)
    ours, bare = res["ours"]["total"], res["bare"]["total"]
    return {
        "ratio": ratio(bare.best, ours.best),
        "n": n,
        "mailbox_size": MAILBOX,
        "repeats": k,
        "ours_msgs_per_s": round(n / ours.best),
        "bare_msgs_per_s": round(n / bare.best),
        "ours_us_per_msg": us(ours.best, n),
        "bare_us_per_msg": us(bare.best, n),
        "median_ratio": ratio(bare.median, ours.median),
    }


@bench("memory_per_agent", target=1.5, triotp="memory_per_agent")
def bench_memory_per_agent(quick: bool) -> Figures:
    """bytes per idle AgentServer under one supervisor (spec and ref included) vs
    per bare task + memory channel pair of the same size (tracemalloc)."""
    sizes = (1000,) if quick else (2000, 10_000)
    figures: Figures = {"mailbox_size": MAILBOX}
    for n in sizes:
        res = side_by_side(
            {
                "ours": partial(memory_agents_ours, n),
                "bare": partial(memory_agents_bare, n),
                "scoped": partial(memory_agents_bare, n, scoped=True),
            },
            1,
            warm_up=False,
        )
        per = {side: res[side]["total"].median / n for side in res}
        figures[f"n={n}"] = {
            "ours_bytes": round(per["ours"]),
            "bare_bytes": round(per["bare"]),
            "bare_scoped_bytes": round(per["scoped"]),
            "ratio": ratio(per["ours"], per["bare"]),
            "ours_to_scoped": ratio(per["ours"], per["scoped"]),
            "bare_scoped_ratio": ratio(per["scoped"], per["bare"]),
        }
    head = figures[f"n={sizes[-1]}"]
    figures["ratio"] = head["ratio"]
    figures["n"] = sizes[-1]
    figures["ours_bytes_per_agent"] = head["ours_bytes"]
    figures["bare_bytes_per_agent"] = head["bare_bytes"]
    if not quick:
        # where the bytes go: allocation sites, 2,000 agents, deep tracebacks
        n = 2000
        figures["by_line"] = memory_agents_ours(n, frames=40)["by_line"]
    return figures


@bench("agents_linear", target=12.0, checks=(Check("floor", 1.1),))
def bench_agents_linear(quick: bool) -> Figures:
    """10N agents started under one supervisor then shut down, over N (linear = 10).

    ``floor``: our scaling over bare Trio's own (N and 10N bare channel pairs +
    receiving tasks, interleaved with ours in the same run): what bare Trio
    and the collector make superlinear is not ours to fix.
    """
    n = 100 if quick else 1000
    k = 3 if quick else 5
    res = side_by_side(
        {
            "small": partial(agents_ours, n),
            "large": partial(agents_ours, 10 * n),
            "bare_small": partial(agents_bare, n),
            "bare_large": partial(agents_bare, 10 * n),
        },
        k,
    )
    small, large = res["small"], res["large"]
    bsmall, blarge = res["bare_small"], res["bare_large"]
    figures: Figures = {
        "ratio": ratio(large["total"].median, small["total"].median),
        "n": n,
        "n10": 10 * n,
        "repeats": k,
        "n_ms": ms(small["total"].median),
        "n10_ms": ms(large["total"].median),
        "n_us_per_agent": us(small["total"].median, n),
        "n10_us_per_agent": us(large["total"].median, 10 * n),
    }
    for label, side, size in (
        ("ours_n", small, n),
        ("ours_n10", large, 10 * n),
        ("bare_n", bsmall, n),
        ("bare_n10", blarge, 10 * n),
    ):
        figures[label] = {
            "start_us": us(side["start"].median, size),
            "stop_us": us(side["stop"].median, size),
            "total_us": us(side["total"].median, size),
        }
    ours_linear = large["total"].median / small["total"].median
    bare_linear = blarge["total"].median / bsmall["total"].median
    # raw, not a target: 10N agents against 10N bare task + channel pairs
    figures["ratio_to_bare"] = ratio(large["total"].median, blarge["total"].median)
    figures["floor"] = {
        "ratio": ratio(ours_linear, bare_linear),
        "ours_linear_ratio": round(ours_linear, 3),
        "bare_linear_ratio": round(bare_linear, 3),
        "start_ratio": ratio(
            large["start"].median / small["start"].median,
            blarge["start"].median / bsmall["start"].median,
        ),
        "stop_ratio": ratio(
            large["stop"].median / small["stop"].median,
            blarge["stop"].median / bsmall["stop"].median,
        ),
    }
    if not quick:
        # the same with the cyclic GC off: what is left is our own scaling
        off = side_by_side(
            {
                "small": partial(gc_off, agents_ours, n),
                "large": partial(gc_off, agents_ours, 10 * n),
                "bare_small": partial(gc_off, agents_bare, n),
                "bare_large": partial(gc_off, agents_bare, 10 * n),
            },
            3,
        )
        off_ours = off["large"]["total"].median / off["small"]["total"].median
        off_bare = off["bare_large"]["total"].median / off["bare_small"]["total"].median
        figures["gc_off"] = {
            "ratio": round(off_ours, 3),
            "bare_ratio": round(off_bare, 3),
            "ratio_to_bare_scaling": ratio(off_ours, off_bare),
            "n_us_per_agent": us(off["small"]["total"].median, n),
            "n10_us_per_agent": us(off["large"]["total"].median, 10 * n),
            "bare_n10_us_per_task": us(off["bare_large"]["total"].median, 10 * n),
        }
    return figures


# ---------------------------------------------------------- the chaos engine
#: the virtual hour's sides, measured once per process and size, then shared
#: by chaos_virtual_time and chaos_overhead (five sides of ~6 s each)
_HOUR: dict[bool, dict[str, dict[str, Samples]]] = {}
HOUR_AGENTS = 100


def hour_size(quick: bool) -> tuple[int, int]:
    """(virtual seconds, interleaved repeats) of the virtual-hour benchmarks."""
    return (120, 2) if quick else (3600, 3)


def virtual_hour(quick: bool) -> dict[str, dict[str, Samples]]:
    """The five sides of a virtual hour of 100 tickers (``chaos_bench.py``),
    interleaved, after a warm-up of each at 10 virtual seconds."""
    if quick not in _HOUR:
        seconds, k = hour_size(quick)
        sides: dict[str, Callable[[int, int, Callable[[], float]], dict[str, float]]] = {
            "chaos": chaos_bench.hour_chaos,
            "trace_off": partial(chaos_bench.hour_chaos, trace=False),
            "engine": chaos_bench.hour_engine,
            "plain": chaos_bench.hour_plain,
            "bare": chaos_bench.hour_bare,
        }
        for fn in sides.values():
            fn(HOUR_AGENTS, 10, now)
        _HOUR[quick] = side_by_side(
            {name: partial(fn, HOUR_AGENTS, seconds, now) for name, fn in sides.items()},
            k,
            warm_up=False,
        )
    return _HOUR[quick]


@bench("chaos_virtual_time", target=0.5, direction=">=")
def bench_chaos_virtual_time(quick: bool) -> Figures:
    """a virtual hour of 100 agents handling a signal a second under chaos.run
    (trace on, no fault) vs bare Trio tasks sleeping 1 s 3,600 times on the same
    MockClock; ratio = bare time / chaos time."""
    seconds, k = hour_size(quick)
    res = virtual_hour(quick)
    ours, bare = res["chaos"]["total"], res["bare"]["total"]
    signals = HOUR_AGENTS * seconds
    return {
        "ratio": ratio(bare.best, ours.best),
        "agents": HOUR_AGENTS,
        "virtual_s": seconds,
        "signals": signals,
        "repeats": k,
        "chaos_s": round(ours.best, 3),
        "bare_s": round(bare.best, 3),
        "chaos_us_per_signal": us(ours.best, signals),
        "bare_us_per_wakeup": us(bare.best, signals),
        "virtual_s_per_s": round(seconds / ours.best, 1),
        "median_ratio": ratio(bare.median, ours.median),
    }


@bench("chaos_overhead", target=1.1)
def bench_chaos_overhead(quick: bool) -> Figures:
    """the same virtual hour: chaos.run as is (scheduler seeded, trace on) vs the
    same engine with the trace off and Trio's scheduler not seeded.

    ``trace`` and ``seeding`` split the ratio in two (trace on / off, both
    seeded; seeded / not, both without a trace); ``whole_engine`` (no target)
    is chaos.run against the same agents under a plain jido_trio supervisor.
    """
    seconds, k = hour_size(quick)
    res = virtual_hour(quick)
    ours, trace_off = res["chaos"]["total"], res["trace_off"]["total"]
    engine, plain = res["engine"]["total"], res["plain"]["total"]
    signals = HOUR_AGENTS * seconds
    return {
        "ratio": ratio(ours.best, engine.best),
        "agents": HOUR_AGENTS,
        "virtual_s": seconds,
        "repeats": k,
        "chaos_us_per_signal": us(ours.best, signals),
        "trace_off_us_per_signal": us(trace_off.best, signals),
        "unseeded_us_per_signal": us(engine.best, signals),
        "median_ratio": ratio(ours.median, engine.median),
        "trace": {
            "ratio": ratio(ours.best, trace_off.best),
            "median_ratio": ratio(ours.median, trace_off.median),
        },
        "seeding": {
            "ratio": ratio(trace_off.best, engine.best),
            "median_ratio": ratio(trace_off.median, engine.median),
        },
        "whole_engine": {
            "ratio": ratio(ours.best, plain.best),
            "median_ratio": ratio(ours.median, plain.median),
            "unseeded_to_plain": ratio(engine.best, plain.best),
            "plain_us_per_signal": us(plain.best, signals),
        },
    }


@bench("chaos_runs_per_s", target=1.5)
def bench_chaos_runs_per_s(quick: bool) -> Figures:
    """chaos.run of a 4-agent system with a call workload, 30 virtual seconds,
    under a five-fault plan (kill, crash, delay, drop, partition) vs the same
    runs with no fault; ratio = time with faults / time without."""
    n = 5 if quick else 20
    k = 2 if quick else 5
    none = chaos.FaultPlan()
    res = side_by_side(
        {
            "faults": partial(chaos_bench.small_runs, n, chaos_bench.FIVE_FAULTS, now),
            "none": partial(chaos_bench.small_runs, n, none, now),
            "trace_off": partial(
                chaos_bench.small_runs, n, chaos_bench.FIVE_FAULTS, now, trace=False
            ),
        },
        k,
    )
    faults, clean, off = res["faults"]["total"], res["none"]["total"], res["trace_off"]["total"]
    one = chaos_bench.small_run(chaos_bench.FIVE_FAULTS, 0)
    return {
        "ratio": ratio(faults.best, clean.best),
        "runs": n,
        "repeats": k,
        "runs_per_s": round(n / faults.best, 1),
        "mean_run_ms": ms(faults.best / n),
        "no_fault_runs_per_s": round(n / clean.best, 1),
        "trace_off_runs_per_s": round(n / off.best, 1),
        "median_ratio": ratio(faults.median, clean.median),
        "virtual_s": chaos_bench.SMALL_DURATION + chaos_bench.SMALL_QUIET,
        "events_per_run": one.events,
        "fault_hits_per_run": int(one.metrics["faults.hits"]),
        "calls_per_run": int(one.metrics["calls"]),
    }


def bugfind_lines(bug: planted_bugs.Bug, *, swarm: bool, quick: bool) -> tuple[Line, int]:
    """Search ``bug`` in one mode, shrink what it finds; the line and the
    number of runs it all took."""
    cap = 50 if quick else 500
    window = 0 if quick else 200
    found = chaos_bench.search(bug, swarm=swarm, cap=cap, window=window)
    mode = "yes" if swarm else "no"
    head: dict[str, Any]
    figures: dict[str, Any] = {"check": bug.check}
    runs = found.tried
    if found.first is None:
        head = {"runs": "not_found", "cap": cap, "swarm": mode}
    else:
        shrunk = chaos_bench.shrink_found(bug, found, max_runs=300)
        runs += shrunk.runs + 1  # chaos.shrink runs the seed once to expand its plan
        head = {
            "runs": found.runs,
            "plan": len(found.first.plan),
            "shrunk": len(shrunk.plan),
            "shrink_runs": shrunk.runs,
            "swarm": mode,
        }
        figures["seed"] = found.first.seed
        if found.first.swarm is not None:
            figures["swarm_kinds"] = ",".join(found.first.swarm["kinds"])
        figures["plan_kinds"] = ",".join(type(f).kind for f in found.first.plan.faults)
        figures["shrunk_plan"] = chaos_bench.describe_plan(shrunk.plan)
        figures["shrunk_hits"] = sum(1 for r in shrunk.report.faults if r.hit)
        figures["exhausted"] = shrunk.exhausted
    if window:
        figures["found_in"] = f"{len(found.failing)}/{window}"
        fixed = chaos_bench.search(bug, swarm=swarm, cap=0, window=window, fixed=True)
        figures["fixed_failed"] = f"{len(fixed.failing)}/{window}"
        runs += fixed.tried
    line: Line = {"name": f"bugfind.{bug.name}", "head": head, "figures": figures}
    return line, runs


@bench("bugfind", target=None)
def bench_bugfind(quick: bool) -> Figures:
    """planted bugs found by one generic random plan, seeds 0, 1, ...: runs until
    found, with and without swarm mode, and the size of the shrunk plan."""
    lines: list[Line] = []
    total = 0
    for bug in planted_bugs.BUGS:
        for swarm in (False, True):
            line, runs = bugfind_lines(bug, swarm=swarm, quick=quick)
            lines.append(line)
            total += runs
    found = {
        mode: [
            ln for ln in lines if ln["head"]["swarm"] == mode and ln["head"]["runs"] != "not_found"
        ]
        for mode in ("no", "yes")
    }
    bugs = len(planted_bugs.BUGS)
    head: dict[str, Any] = {"bugs": bugs}
    for mode, key in (("no", ""), ("yes", "swarm_")):
        head[f"{key}found"] = f"{len(found[mode])}/{bugs}"
        head[f"{key}median_runs"] = (
            statistics.median(ln["head"]["runs"] for ln in found[mode]) if found[mode] else "-"
        )
    head["max_shrunk"] = max(
        (ln["head"]["shrunk"] for ln in lines if "shrunk" in ln["head"]), default="-"
    )
    return {
        "lines": lines,
        "head": head,
        "cap": 50 if quick else 500,
        "window": 0 if quick else 200,
        "runs_in_all": total,
        "generic_plan": planted_bugs.GENERIC_PLAN.to_json(),
    }


#: the two-worker speedup's verdict, on a machine where two workers can run at once
SWEEP_SPEEDUP = Check("speedup", 1.6, ">=")


@bench(
    "scenario_sweep",
    target=1.25,
    checks=(SWEEP_SPEEDUP,) if sweep_bench.usable_cpus() >= 2 else (),
)
def bench_scenario_sweep(quick: bool) -> Figures:
    """python -m chaos run docs/examples/chaos_demand_tracker.yaml --seeds 0:200 in
    a process of its own, --workers 1 and 2, vs the same seeds in a loop in this
    process; ratio = the command's time per seed (1 worker) / the loop's (wall
    clock). Then a sweep of 1,000 seeds with --workers 2.

    ``speedup`` is the command's wall time with 1 worker / with 2; on a machine
    with one usable CPU it is printed, marked not applicable. With ``--quick``:
    20 seeds, one repeat, and the 2-worker run is the sweep.
    """
    n, k, sweep_n = (20, 1, 20) if quick else (200, 3, 1000)
    seeds = range(n)
    cpus = sweep_bench.usable_cpus()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="scenario_sweep-") as tmp:
        sides = sweep_bench.Sweeps(Path(tmp))
        if not quick:  # the file cache, this process, and a pool of workers, once each
            sides.in_process(range(2))
            sides.cli(range(2), 2, label="warm_up")
        res = side_by_side(
            {
                "in_process": partial(sides.in_process, seeds),
                "workers_1": partial(sides.cli, seeds, 1),
                "workers_2": partial(sides.cli, seeds, 2),
                "startup": sides.startup,
            },
            k,
            warm_up=False,
        )
        sweep = None if quick else sides.cli(range(sweep_n), 2, label="sweep")
        compared = sides.check_digests()
    loop, startup = res["in_process"]["total"], res["startup"]["total"]
    one, two = res["workers_1"]["total"], res["workers_2"]["total"]
    # CPU seconds of each side's fastest sample (the one its wall time is from)
    cpu = {
        side: phases["cpu"].values[phases["total"].values.index(phases["total"].best)]
        for side, phases in res.items()
    }
    if sweep is None:  # --quick: the 2-worker side's run
        sweep = {"total": two.best, "cpu": cpu["workers_2"]}
    speedup: dict[str, Any] = {
        "ratio": ratio(one.best, two.best),
        "median_ratio": ratio(one.median, two.median),
        "usable_cpus": cpus,
        "workers_1_s": round(one.best, 3),
        "workers_2_s": round(two.best, 3),
        "workers_1_median_s": round(one.median, 3),
        "workers_2_median_s": round(two.median, 3),
        "workers_1_cpu_s": round(cpu["workers_1"], 3),
        "workers_2_cpu_s": round(cpu["workers_2"], 3),
        # CPU seconds per wall second: how many cores the command (and its workers) had
        "workers_1_cores_busy": ratio(cpu["workers_1"], one.best),
        "workers_2_cores_busy": ratio(cpu["workers_2"], two.best),
    }
    if cpus < 2:
        speedup["verdict"] = f"not applicable: {cpus} usable CPU (target>={SWEEP_SPEEDUP.target:g})"
    return {
        "ratio": ratio(one.best, loop.best),
        "seeds": n,
        "repeats": k,
        "clock": "wall",
        "seeds_per_s_1_worker": round(n / one.best, 1),
        "seeds_per_s_2_workers": round(n / two.best, 1),
        "in_process_seeds_per_s": round(n / loop.best, 1),
        "in_process_ms_per_seed": ms(loop.best / n),
        "cli_ms_per_seed": ms(one.best / n),
        "startup_s": round(startup.best, 3),
        "median_ratio": ratio(one.median, loop.median),
        # the command's per-seed cost once its start-up (``validate``) is taken off
        "marginal_ratio": ratio(one.best - startup.best, loop.best),
        "cpu_ratio": ratio(cpu["workers_1"], cpu["in_process"]),
        "in_process_cores_busy": ratio(cpu["in_process"], loop.best),
        "dont_write_bytecode": bool(sys.flags.dont_write_bytecode),
        "digests_compared": compared,
        "load_at_start": round(load, 2),
        "sweep": {
            "seeds": sweep_n,
            "workers": 2,
            "wall_s": round(sweep["total"], 2),
            "seeds_per_s": round(sweep_n / sweep["total"], 1),
            "cpu_s": round(sweep["cpu"], 2),
            "cores_busy": ratio(sweep["cpu"], sweep["total"]),
        },
        "speedup": speedup,
    }


# ---------------------------------------------------------------- triotp
def triotp_python() -> Path:
    return TRIOTP_VENV / "bin" / "python"


def ensure_triotp_venv() -> str | None:
    """Create the triotp venv if needed; return why it is unusable, or None."""
    py = triotp_python()
    probe = [
        str(py),
        "-c",
        f"import triotp, importlib.metadata as m; assert m.version('triotp') == '{TRIOTP_VERSION}'",
    ]
    if py.exists() and subprocess.run(probe, capture_output=True, check=False).returncode == 0:
        return None
    print(f"triotp: creating {TRIOTP_VENV} (pip install triotp) ...", file=sys.stderr)
    steps = [
        ["python3", "-m", "venv", str(TRIOTP_VENV)],
        [str(py), "-m", "pip", "install", "-q", f"triotp=={TRIOTP_VERSION}"],
    ]
    for cmd in steps:
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{' '.join(cmd[:3])}: {exc}"
        if done.returncode != 0:
            tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            return f"{' '.join(cmd[:3])} failed: {tail}"
    if subprocess.run(probe, capture_output=True, check=False).returncode != 0:
        return "triotp does not import in the new venv"
    return None


def run_triotp(quick: bool, only: list[str]) -> tuple[dict[str, Any] | None, str | None]:
    why = ensure_triotp_venv()
    if why is not None:
        return None, why
    cmd = [str(triotp_python()), str(TRIOTP_SCRIPT)]
    if quick:
        cmd.append("--quick")
    for name in only:
        cmd += ["--only", name]
    print("triotp: measuring in its own venv ...", file=sys.stderr)
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
    except subprocess.TimeoutExpired:
        return None, "triotp_bench.py timed out after 900 s"
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"triotp_bench.py failed: {tail}"
    try:
        data: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        return None, f"triotp_bench.py printed no JSON: {exc}"
    return data, None


# ---------------------------------------------------------------- report
def format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def print_figures(figures: Figures, indent: str = "    ") -> None:
    flat = [(k, v) for k, v in figures.items() if not isinstance(v, dict) and k != "ratio"]
    if flat:
        print(indent + "  ".join(f"{k}={format_value(v)}" for k, v in flat))
    for key, value in figures.items():
        if isinstance(value, dict):
            inner = "  ".join(f"{k}={format_value(v)}" for k, v in value.items())
            print(f"{indent}{key}: {inner}")


def head_line(name: str, head: Mapping[str, Any]) -> str:
    return f"BENCH {name} " + " ".join(f"{k}={format_value(v)}" for k, v in head.items())


def print_lines(name: str, figures: Figures) -> dict[str, Any]:
    """Print a benchmark of counts: one ``BENCH`` line per entry of
    ``figures["lines"]`` (its ``head`` on the line, its ``figures`` below), then
    its own line (``figures["head"]``) and the rest of its figures. Returns
    its JSON entry."""
    lines: list[Line] = figures.pop("lines")
    head: dict[str, Any] = figures.pop("head")
    for line in lines:
        print(head_line(line["name"], line["head"]))
        print_figures(line["figures"])
    print(head_line(name, head))
    print_figures(figures)
    return {"head": head, "figures": figures, "lines": lines}


def source() -> dict[str, Any]:
    """Which code was measured: the commit, whether the tree was dirty, and
    digests of the supervisor and server modules (the tree may change between
    runs)."""

    def git(*args: str) -> str:
        try:
            done = subprocess.run(
                ["git", *args], cwd=HERE.parent, capture_output=True, text=True, check=False
            )
        except OSError:
            return ""
        return done.stdout.strip()

    def digest(name: str) -> str:
        path = HERE.parent / "jido_trio" / name
        return hashlib.sha256(path.read_bytes()).hexdigest()[:12] if path.exists() else ""

    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--", "jido_trio")),
        "supervisor_sha256": digest("_supervisor.py"),
        "server_sha256": digest("_server.py"),
    }


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "trio": trio.__version__,
        "jido_trio": jido_trio.__version__,
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    names = [b.name for b in BENCHMARKS]
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--quick", action="store_true", help="small sizes, a few seconds in all")
    p.add_argument("--json", metavar="PATH", help="write every figure to PATH")
    p.add_argument("--no-triotp", action="store_true", help="skip the triotp comparison")
    p.add_argument(
        "--only", action="append", default=[], metavar="NAME", help=f"one of {', '.join(names)}"
    )
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    p.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="wall",
        help="wall (perf_counter, the default) or cpu (process_time: steadier when "
        "other processes share the cores)",
    )
    args = p.parse_args(argv)
    # a check's line (``memory_per_child.floor``) selects the benchmark it comes from
    owner = {name: name for name in names}
    owner.update({f"{b.name}.{c.key}": b.name for b in BENCHMARKS for c in b.checks})
    only = [n for item in args.only for n in item.split(",") if n]
    unknown = [n for n in only if n not in owner]
    if unknown:
        p.error(f"unknown benchmark(s) {', '.join(unknown)}; expected some of {', '.join(owner)}")
    args.only = list(dict.fromkeys(owner[n] for n in only))
    return args


def main(argv: list[str] | None = None) -> int:
    global _clock
    args = parse_args(argv)
    _clock = CLOCKS[args.clock]
    selected = [b for b in BENCHMARKS if not args.only or b.name in args.only]
    started = time.perf_counter()
    report: dict[str, Any] = {
        "date": datetime.date.today().isoformat(),
        "quick": args.quick,
        "clock": args.clock,
        "machine": machine(),
        # other processes on the same cores skew wall-clock figures
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "source": source(),
        "benchmarks": {},
    }

    triotp: dict[str, Any] | None = None
    if not args.no_triotp and any(b.triotp for b in selected):
        wanted = [b.triotp for b in selected if b.triotp]
        try:
            triotp, why = run_triotp(args.quick, wanted if args.only else [])
        except Exception as exc:  # noqa: BLE001 - the comparison is optional
            triotp, why = None, f"{type(exc).__name__}: {exc}"
        if why is not None:
            print(f"triotp: skipped ({why})")
        report["triotp"] = triotp if triotp is not None else {"skipped": why}

    crashed = missed = 0
    for b in selected:
        t0 = time.perf_counter()
        try:
            figures = b.fn(args.quick)
            if b.target is None:
                report["benchmarks"][b.name] = print_lines(b.name, figures)
                print(f"    ({time.perf_counter() - t0:.1f} s)", flush=True)
                continue
            value = float(figures["ratio"])
            checked = {c.key: (c, figures.pop(c.key)) for c in b.checks}
            check_values = {key: float(sub["ratio"]) for key, (_, sub) in checked.items()}
        except Exception as exc:  # noqa: BLE001 - reported as a CRASH line
            crashed += 1
            print(f"BENCH {b.name} CRASH {type(exc).__name__}: {exc}")
            traceback.print_exc()
            report["benchmarks"][b.name] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        result = b.verdict(value)
        missed += result == "MISS"
        line = f"BENCH {b.name} ratio={value:.2f} target{b.direction}{b.target:g} {result}"
        tp = (triotp or {}).get("benchmarks", {}).get(b.triotp or "", None)
        if tp is not None:
            line += f" triotp_ratio={float(tp['ratio']):.2f}"
        print(line)
        print_figures(figures)
        if tp is not None:
            print_figures({"triotp": {k: v for k, v in tp.items() if not isinstance(v, dict)}})
        report["benchmarks"][b.name] = {
            "ratio": value,
            "target": b.target,
            "direction": b.direction,
            "verdict": result,
            "figures": figures,
            "triotp": tp,
        }
        for key, (check, sub) in checked.items():
            name = f"{b.name}.{key}"
            result = verdict(check_values[key], check.target, check.direction)
            missed += result == "MISS"
            print(
                f"BENCH {name} ratio={check_values[key]:.2f} "
                f"target{check.direction}{check.target:g} {result}"
            )
            print_figures(sub)
            report["benchmarks"][name] = {
                "ratio": check_values[key],
                "target": check.target,
                "direction": check.direction,
                "verdict": result,
                "figures": sub,
                "of": b.name,
            }
        print(f"    ({time.perf_counter() - t0:.1f} s)", flush=True)

    report["seconds"] = round(time.perf_counter() - started, 2)
    report["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    src = report["source"]
    print(
        f"# {len(selected)} benchmark(s) in {report['seconds']:.1f} s"
        + (" (quick: targets not enforced)" if args.quick else "")
        + f"; source {src['commit']}{'+dirty' if src['dirty'] else ''}"
        + f" supervisor {src['supervisor_sha256']} server {src['server_sha256']}"
        + f"; clock {args.clock}; load {report['load_average_at_start'][0]:g}"
        + f" -> {report['load_average_at_end'][0]:g}"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=str) + "\n")
    if crashed:
        return 1
    return 1 if args.strict and missed and not args.quick else 0


if __name__ == "__main__":
    sys.exit(main())
