"""The chaos engine's workloads for ``benchmarks/run.py`` (not run on its own).

- **A virtual hour** (``chaos_virtual_time``, ``chaos_overhead``): ``agents``
  trivial agents, each handling one signal per virtual second (an
  ``Every(1.0, ...)`` schedule whose action builds a new one-field frozen
  state), for ``seconds`` virtual seconds, run five ways: through
  ``chaos.run`` (trace on, scheduler seeded: :func:`hour_chaos`), the same
  with the trace off, the same engine with the trace off *and* Trio's
  scheduler left unseeded (:func:`hour_engine`), the same agents under a plain
  ``jido_trio`` supervisor with no chaos at all (:func:`hour_plain`), and bare
  Trio (:func:`hour_bare`).
- **Runs per second** (``chaos_runs_per_s``): a four-agent system with a
  workload of calls, under a five-fault plan (:data:`FIVE_FAULTS`) and under
  no fault.
- **Bug finding** (``bugfind``): the generic random search of
  ``planted_bugs.py``'s bugs, and the shrinking of what it finds
  (:func:`search` and :func:`shrink_found`). No clock is read there: every
  figure is a count, the same on every machine.

Every timed side takes the benchmark's ``clock`` (``run.now``) and returns
``{"total": seconds}``, as ``run.side_by_side`` expects; each checks that it did
the work it claims (the number of signals handled or wake-ups made).
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import Any

import attrs
import trio
import trio._core._run as trio_run
import trio.testing
from planted_bugs import GENERIC_PLAN, Bug, run_options

import chaos
import chaos._run as chaos_run
import jido_trio
from jido_trio import (
    ActionResult,
    AgentDef,
    AgentRef,
    ChildSpec,
    Emit,
    Every,
    NoParams,
    action,
    agent_spec,
    spec_ref,
)

Clock = Callable[[], float]


# ------------------------------------------------------------- a virtual hour
@attrs.frozen
class Tick:
    """The ticker's state: how many signals it has handled."""

    n: int = 0


@action("tick")
def tick(state: Tick, params: NoParams) -> Tick:
    return Tick(state.n + 1)


TICKER = AgentDef(
    "ticker", Tick, [tick], routes={"ticker.tick": "tick"}, schedules=[Every(1.0, "ticker.tick")]
)


class Tickers:
    """``agents`` fresh tickers per call (as ``chaos.System.children``); the
    last call's refs are kept to count what they handled."""

    def __init__(self, agents: int) -> None:
        self.agents = agents
        self.refs: list[AgentRef] = []

    def __call__(self) -> list[ChildSpec]:
        specs = [agent_spec(f"t{i}", TICKER) for i in range(self.agents)]
        self.refs = [spec_ref(spec) for spec in specs]
        return specs

    def check(self, seconds: int) -> None:
        """Every ticker handled exactly one signal per virtual second."""
        handled = [ref.stats().processed for ref in self.refs]
        assert handled == [seconds] * self.agents, (min(handled), max(handled), seconds)


def hour_chaos(agents: int, seconds: int, clock: Clock, *, trace: bool = True) -> dict[str, float]:
    """``chaos.run`` of the tickers for ``seconds`` (no fault, no workload, a
    quiet period of 0): Trio's scheduler seeded, the trace on unless ``trace``
    is false."""
    tickers = Tickers(agents)
    gc.collect()
    t0 = clock()
    chaos.run(tickers, seed=0, duration=float(seconds), quiet_period=0.0, trace=trace)
    t1 = clock()
    tickers.check(seconds)
    return {"total": t1 - t0}


def hour_engine(agents: int, seconds: int, clock: Clock) -> dict[str, float]:
    """The same engine and run as :func:`hour_chaos` with ``trace=False``, but
    without determinism: ``chaos._run._run`` (the body of ``chaos.run``) in a
    plain ``trio.run`` on the same ``MockClock``, with Trio's scheduler left as
    it is outside chaos (not seeded, its deterministic-batch flag off)."""
    tickers = Tickers(agents)
    options = chaos_run._options(
        tickers,
        None,
        seed=0,
        duration=float(seconds),
        quiet_period=0.0,
        workload=None,
        checks=(),
        disable=(),
        swarm=False,
        fault_points=True,
        keep_trace=200,
        trace=False,
        stop_timeout=60.0,
    )
    assert not trio_run._ALLOW_DETERMINISTIC_SCHEDULING, "something seeded Trio's scheduler"
    gc.collect()
    t0 = clock()
    trio.run(
        functools.partial(chaos_run._run, options),
        clock=trio.testing.MockClock(autojump_threshold=0),
    )
    t1 = clock()
    tickers.check(seconds)
    return {"total": t1 - t0}


def hour_plain(agents: int, seconds: int, clock: Clock) -> dict[str, float]:
    """The same tickers under ``jido_trio.open_supervisor`` in a plain
    ``trio.run`` on a ``MockClock``: no chaos at all. Sleeps ``seconds``, lets
    the tickers due then run, then ``sup.shutdown()``."""
    tickers = Tickers(agents)

    async def main() -> None:
        async with jido_trio.open_supervisor(tickers()) as sup:
            await trio.sleep(seconds)
            await trio.testing.wait_all_tasks_blocked()
            await sup.shutdown()

    gc.collect()
    t0 = clock()
    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    t1 = clock()
    tickers.check(seconds)
    return {"total": t1 - t0}


async def bare_ticker(seconds: int, done: list[int]) -> None:
    """One bare task: ``seconds`` times ``await trio.sleep(1)``, then the
    ticker's work (a new ``Tick`` built from the last)."""
    state = Tick()
    for _ in range(seconds):
        await trio.sleep(1)
        state = Tick(state.n + 1)
    done.append(state.n)


def hour_bare(agents: int, seconds: int, clock: Clock) -> dict[str, float]:
    """Bare Trio on the same ``MockClock(autojump_threshold=0)``: ``agents``
    tasks in one nursery, each :func:`bare_ticker`."""
    done: list[int] = []

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            for _ in range(agents):
                nursery.start_soon(bare_ticker, seconds, done)

    gc.collect()
    t0 = clock()
    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    t1 = clock()
    assert done == [seconds] * agents
    return {"total": t1 - t0}


# ------------------------------------------------------------ runs per second
@attrs.frozen
class Count:
    n: int = 0


@attrs.frozen
class Work:
    to: str


@action("work", params=Work)
def work(state: Count, params: Work) -> ActionResult[Count]:
    """Count, and pass a note to the next node."""
    return ActionResult(
        Count(state.n + 1), result=state.n + 1, directives=[Emit("node.note", to=params.to)]
    )


@action("note")
def note(state: Count, params: NoParams) -> Count:
    return Count(state.n + 1)


NODE = AgentDef("node", Count, [work, note], routes={"node.work": "work", "node.note": "note"})
NODES = ("n1", "n2", "n3", "n4")
#: the five-fault plan (one fault of each kind asked for), inside a 25 s window
FIVE_FAULTS = chaos.FaultPlan(
    [
        chaos.Kill(target="root/n2", at=5.0),
        chaos.Crash(target="root/n3", at=8.0, count=1),
        chaos.Delay(target="root/n4", at=10.0, seconds=0.5, count=5),
        chaos.Drop(target="root/n2", source="root/n1", at=12.0, count=3),
        chaos.Partition(source="root/n1", target="root/n2", at=15.0, until=20.0),
    ]
)
SMALL_DURATION = 25.0
SMALL_QUIET = 5.0
#: a call to each node every 0.5 s (each passes a note to the next, in a ring)
SMALL_WORKLOAD = [
    chaos.Send(
        to=name,
        signal="node.work",
        data={"to": NODES[(i + 1) % len(NODES)]},
        call=True,
        every=0.5,
    )
    for i, name in enumerate(NODES)
]


def small_system() -> list[ChildSpec]:
    return [agent_spec(name, NODE) for name in NODES]


def small_run(plan: chaos.FaultPlan, seed: int, *, trace: bool = True) -> chaos.RunReport:
    """One run of the small system (30 virtual seconds in all)."""
    return chaos.run(
        small_system,
        plan,
        seed=seed,
        duration=SMALL_DURATION,
        quiet_period=SMALL_QUIET,
        workload=SMALL_WORKLOAD,
        trace=trace,
    )


def small_runs(
    runs: int, plan: chaos.FaultPlan, clock: Clock, *, trace: bool = True
) -> dict[str, float]:
    """``runs`` runs of the small system with seeds 0, 1, ...; checks that
    every fault of ``plan`` hit in each."""
    gc.collect()
    t0 = clock()
    reports = [small_run(plan, seed, trace=trace) for seed in range(runs)]
    t1 = clock()
    for report in reports:
        assert len({r.fault for r in report.faults if r.hit}) == len(plan), report.explain()
    return {"total": t1 - t0}


# ----------------------------------------------------------------- bug finding
@attrs.frozen
class Search:
    """Where the search of one bug in one mode found it."""

    bug: str
    swarm: bool
    #: the seeds (of those tried, in order) whose run failed the bug's check
    failing: tuple[int, ...]
    tried: int
    #: the first failing run's concrete plan, and its report
    first: chaos.RunReport | None

    @property
    def runs(self) -> int | None:
        """Runs until the bug was found (the first failing seed + 1)."""
        return self.failing[0] + 1 if self.failing else None


def failed(bug: Bug, report: chaos.RunReport) -> bool:
    """Whether ``report`` shows ``bug``: its own check failed."""
    return any(c.name == bug.check for c in report.failures)


def search(bug: Bug, *, swarm: bool, cap: int, window: int = 0, fixed: bool = False) -> Search:
    """Run ``bug``'s system under :data:`GENERIC_PLAN` with seeds 0, 1, ...
    until its check fails (at most ``cap`` runs), and on to ``window`` seeds
    in all, to count how many of them fail. ``fixed``: the fixed twin (with
    ``cap=0``: exactly ``window`` runs)."""
    options = run_options(bug, fixed=fixed)
    failing: list[int] = []
    first: chaos.RunReport | None = None
    seed = 0
    while seed < window or (not failing and seed < cap):
        report = chaos.run(plan=GENERIC_PLAN, seed=seed, swarm=swarm, trace=False, **options)
        seed += 1
        if failed(bug, report):
            failing.append(report.seed)
            if first is None:
                first = report
    return Search(bug.name, swarm, tuple(failing), seed, first)


def shrink_found(bug: Bug, found: Search, *, max_runs: int) -> chaos.Shrunk:
    """Shrink the first failing run of ``found`` (the same check must fail)."""
    assert found.first is not None
    return chaos.shrink(
        plan=GENERIC_PLAN,
        seed=found.first.seed,
        fails=functools.partial(failed, bug),
        max_runs=max_runs,
        swarm=found.swarm,
        trace=False,
        **run_options(bug),
    )


def describe_plan(plan: chaos.FaultPlan) -> str:
    """A plan on one line: ``kind(target, at=..., other fields)`` per fault."""
    parts = []
    for fault in plan.faults:
        data: dict[str, Any] = chaos.FaultPlan([fault]).to_dict()["faults"][0]
        kind = data.pop("kind")
        target = data.pop("target")
        fields = ", ".join(
            f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in data.items()
        )
        parts.append(f"{kind}({target}{', ' + fields if fields else ''})")
    return "; ".join(parts) or "(no fault)"
