"""Property tests of supervision, with fault schedules as data so they shrink.

Each example runs in its own ``trio.run`` on a fresh ``MockClock(autojump_threshold=0)``:
``@given`` sits on a *sync* test, because pytest-trio would share one function-scoped
``autojump_clock`` across the examples of an async ``@given`` test (virtual time would
not start at 0, and Hypothesis rejects function-scoped fixtures in ``@given`` tests).
pytest-trio registers Trio's scheduler ``Random`` with Hypothesis, so each example's
task scheduling is seeded as well.

(a) A pure model of OTP semantics predicts, from the crash schedule alone, every child's
    restart count, whether and when the supervisor escalates (with its restart history),
    which specs are kept, and the order in which the children are stopped at the end.
(b) Whatever the faults, and however the supervisor ends (shutdown, cancellation, leaving
    the body, escalation), no child body and no task outlives it.
"""

from __future__ import annotations

import contextlib
from typing import Literal, TypeVar

import attrs
import trio
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

import jido_trio
from jido_trio import (
    ChildNotFoundError,
    ChildSpec,
    RestartIntensityError,
    TelemetryEvent,
    attach_telemetry,
    current_child,
    open_supervisor,
    supervisor_spec,
)

Strategy = Literal["one_for_one", "one_for_all", "rest_for_one"]
RestartType = Literal["permanent", "transient", "temporary"]
STRATEGIES: tuple[Strategy, ...] = ("one_for_one", "one_for_all", "rest_for_one")
RESTART_TYPES: tuple[RestartType, ...] = ("permanent", "transient", "temporary")
T = TypeVar("T")
END = 25  # every fault happens before this virtual time; then the supervisor is shut down


class Crash(Exception):
    """A child's scheduled failure."""


def mock_clock() -> trio.testing.MockClock:
    return trio.testing.MockClock(autojump_threshold=0)


# ------------------------------------------------------------------ (a) model

Exit = tuple[int, int, bool]  # (child index, virtual time, abnormal: raise rather than return)


@attrs.frozen
class Scenario:
    restart_types: tuple[RestartType, ...]
    strategy: Strategy
    max_restarts: int
    max_seconds: int
    exits: tuple[Exit, ...]  # sorted by time; times are distinct


@attrs.frozen
class Outcome:
    restarts: tuple[int, ...]  # per child index
    kept: tuple[int, ...]  # child indices whose specs are held at the end
    escalated_at: float | None
    history: tuple[float, ...]  # restart times in the window when it escalated
    final_stops: tuple[int, ...]  # children stopped at the end (escalation or shutdown)


def model(sc: Scenario) -> Outcome:
    """OTP's supervisor, as plainly as possible.

    - A child that exits is restarted if it is permanent, or transient and it raised.
    - Each restart decision is one restart at that time; the window keeps restarts at most
      max_seconds old (a restart exactly max_seconds old still counts); more than
      max_restarts in it escalates: the running children are stopped in reverse order.
    - one_for_one restarts the child; one_for_all every running child; rest_for_one the
      child and the running children after it. Temporary children caught in a group
      restart are stopped and removed, never restarted.
    - Children not running (a transient that returned) are left alone by group restarts
      (unlike OTP's supervisor, which restarts every non-temporary child of the group).
    - At the end every running child is stopped in reverse order; temporary specs go.
    """
    n = len(sc.restart_types)
    running = [True] * n
    restarts = [0] * n
    window: list[float] = []
    for i, t, abnormal in sc.exits:
        if not running[i]:
            continue  # the fault hits a child that is not there any more
        running[i] = False
        kind = sc.restart_types[i]
        if kind == "temporary" or (kind == "transient" and not abnormal):
            continue
        window = [r for r in window if t - r <= sc.max_seconds] + [t]
        if len(window) > sc.max_restarts:
            return Outcome(
                restarts=tuple(restarts),
                kept=tuple(j for j in range(n) if sc.restart_types[j] != "temporary"),
                escalated_at=t,
                history=tuple(window),
                final_stops=tuple(j for j in reversed(range(n)) if running[j]),
            )
        if sc.strategy == "one_for_one":
            group = [i]
        elif sc.strategy == "one_for_all":
            group = [j for j in range(n) if running[j] or j == i]
        else:
            group = [j for j in range(i, n) if running[j] or j == i]
        for j in group:
            if sc.restart_types[j] == "temporary":
                running[j] = False
            else:
                running[j] = True
                restarts[j] += 1
    return Outcome(
        restarts=tuple(restarts),
        kept=tuple(j for j in range(n) if sc.restart_types[j] != "temporary"),
        escalated_at=None,
        history=(),
        final_stops=tuple(j for j in reversed(range(n)) if running[j]),
    )


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    n = draw(st.integers(1, 4))
    exits = draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(1, END - 1), st.booleans()),
            max_size=12,
            unique_by=lambda e: e[1],
        )
    )
    return Scenario(
        restart_types=tuple(draw(st.lists(st.sampled_from(RESTART_TYPES), min_size=n, max_size=n))),
        strategy=draw(st.sampled_from(STRATEGIES)),
        max_restarts=draw(st.integers(0, 3)),
        max_seconds=draw(st.integers(1, 4)),
        exits=tuple(sorted(exits, key=lambda e: e[1])),
    )


def observe(sc: Scenario) -> Outcome:
    """Run the real supervisor under the schedule and read the outcome from telemetry and
    which_children()."""
    n = len(sc.restart_types)
    events: list[TelemetryEvent] = []

    async def main() -> Outcome:
        triggers = [trio.Event() for _ in range(n)]
        abnormal = [False] * n

        async def child(
            i: int, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
        ) -> None:
            trigger = triggers[i]  # this incarnation's trigger
            task_status.started()
            await trigger.wait()
            if abnormal[i]:
                raise Crash(i)

        specs = [
            ChildSpec(f"c{i}", child, args=(i,), restart=kind, shutdown=0)
            for i, kind in enumerate(sc.restart_types)
        ]
        escalated_at: float | None = None
        history: tuple[float, ...] = ()
        escalated_path: str | None = None
        with attach_telemetry(events.append):
            try:
                async with open_supervisor(
                    specs,
                    strategy=sc.strategy,
                    max_restarts=sc.max_restarts,
                    max_seconds=sc.max_seconds,
                ) as sup:
                    for i, t, ab in sc.exits:
                        await trio.sleep_until(t)
                        abnormal[i] = ab
                        fired, triggers[i] = triggers[i], trio.Event()
                        fired.set()
                    await trio.sleep_until(END)
                    await sup.shutdown()
            except RestartIntensityError as exc:
                escalated_at = trio.current_time()
                history = exc.restarts
                escalated_path = exc.path
        assert escalated_path in (None, "root")
        assert all(c.status == "stopped" for c in sup.which_children())
        kept = tuple(int(c.id[1:]) for c in sup.which_children())
        by_path = {f"root/c{i}": i for i in range(n)}
        starts = [0] * n
        for e in events:
            if e.name == "child.started":
                starts[by_path[e.path]] += 1
        escalations = [k for k, e in enumerate(events) if e.name == "supervisor.escalated"]
        if escalations:
            [k] = escalations
            assert events[k].time == escalated_at
        else:
            k = next(k for k, e in enumerate(events) if e.time >= END)
        final_stops = tuple(
            by_path[e.path]
            for e in events[k:]
            if e.name == "child.exited" and e.data["reason"] == "shutdown"
        )
        return Outcome(
            restarts=tuple(s - 1 for s in starts),
            kept=kept,
            escalated_at=escalated_at,
            history=history,
            final_stops=final_stops,
        )

    return trio.run(main, clock=mock_clock())


@given(scenarios())
def test_supervisor_matches_the_otp_model(sc: Scenario) -> None:
    """For any crash schedule, strategy, restart types and intensity, the supervisor's
    restart counts, escalation time and history, kept specs and final stop order are
    exactly those of the OTP model."""
    assert observe(sc) == model(sc)


def test_model_examples_pin_the_rules() -> None:
    """The model itself on hand-checked schedules: the window edge, a group restart counting
    once, and temporary siblings dropped by a group restart."""
    edge = Scenario(("permanent",), "one_for_one", 1, 2, ((0, 1, True), (0, 3, True)))
    assert model(edge).escalated_at == 3
    assert model(edge).history == (1, 3)
    late = Scenario(("permanent",), "one_for_one", 1, 2, ((0, 1, True), (0, 4, True)))
    assert model(late).escalated_at is None
    assert model(late).restarts == (2,)
    group = Scenario(("permanent", "temporary", "transient"), "one_for_all", 1, 5, ((2, 1, True),))
    assert model(group) == Outcome(
        restarts=(1, 0, 1), kept=(0, 2), escalated_at=None, history=(), final_stops=(2, 0)
    )
    for sc in (edge, late, group):
        assert observe(sc) == model(sc)


# ------------------------------------------------------ (b) nothing outlives it

Fault = tuple[int, int, Literal["raise", "return", "kill"]]  # (target index, time, kind)


@attrs.frozen
class Tree:
    nested: tuple[bool, ...]  # per root child: a nested supervisor with two workers?
    restart_types: tuple[RestartType, ...]
    shutdowns: tuple[float | None, ...]  # per root child
    lingers: tuple[float, ...]  # per root child: seconds a worker takes to honour a stop
    strategy: Strategy
    max_restarts: int
    faults: tuple[Fault, ...]  # sorted by time
    ending: Literal["shutdown", "cancel", "leave"]
    cancel_at: int


def per_child(draw: st.DrawFn, n: int, values: st.SearchStrategy[T]) -> tuple[T, ...]:
    return tuple(draw(st.lists(values, min_size=n, max_size=n)))


@st.composite
def trees(draw: st.DrawFn) -> Tree:
    n = draw(st.integers(1, 3))
    nested = per_child(draw, n, st.booleans())
    targets = n + 2 * sum(1 for x in nested if x)
    kinds: tuple[Literal["raise", "return", "kill"], ...] = ("raise", "return", "kill")
    endings: tuple[Literal["shutdown", "cancel", "leave"], ...] = ("shutdown", "cancel", "leave")
    faults = draw(
        st.lists(
            st.tuples(st.integers(0, targets - 1), st.integers(1, END - 1), st.sampled_from(kinds)),
            max_size=10,
        )
    )
    return Tree(
        nested=nested,
        restart_types=per_child(draw, n, st.sampled_from(RESTART_TYPES)),
        shutdowns=per_child(draw, n, st.sampled_from([0, 1, None])),
        lingers=per_child(draw, n, st.sampled_from([0, 2])),
        strategy=draw(st.sampled_from(STRATEGIES)),
        max_restarts=draw(st.integers(0, 3)),
        faults=tuple(sorted(faults, key=lambda f: f[1])),
        ending=draw(st.sampled_from(endings)),
        cancel_at=draw(st.integers(1, 2 * END)),
    )


def all_tasks() -> set[trio.lowlevel.Task]:
    """Every task of the run, walking the nurseries down from the root task."""
    found: set[trio.lowlevel.Task] = set()
    todo = [trio.lowlevel.current_root_task()]
    while todo:
        task = todo.pop()
        assert task is not None
        found.add(task)
        for nursery in task.child_nurseries:
            todo.extend(nursery.child_tasks)
    return found


async def first_of(*events: trio.Event) -> None:
    """Wait until any of ``events`` is set."""
    async with trio.open_nursery() as nursery:

        async def wait(event: trio.Event) -> None:
            await event.wait()
            nursery.cancel_scope.cancel()

        for event in events:
            nursery.start_soon(wait, event)


class Harness:
    """Worker bodies counted while alive, each triggered by its path's current event."""

    def __init__(self) -> None:
        self.live = 0
        self.triggers: dict[str, trio.Event] = {}
        self.modes: dict[str, str] = {}

    def fire(self, path: str, mode: str) -> None:
        trigger = self.triggers.pop(path, None)
        if trigger is not None:
            self.modes[path] = mode
            trigger.set()

    async def worker(
        self, linger: float, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        self.live += 1
        try:
            me = current_child()
            trigger = self.triggers.setdefault(me.path, trio.Event())
            task_status.started()
            await first_of(trigger, me.stop_requested)
            if me.stop_requested.is_set():
                await trio.sleep(linger)
            elif self.modes[me.path] == "raise":
                raise Crash(me.path)
        finally:
            self.live -= 1


async def run_tree(tree: Tree) -> None:
    h = Harness()
    specs: list[ChildSpec] = []
    targets: list[tuple[str, bool]] = []  # (path, is a worker)
    for i, nested in enumerate(tree.nested):
        restart, shutdown = tree.restart_types[i], tree.shutdowns[i]
        if nested:
            grandchildren = [
                ChildSpec(f"g{j}", h.worker, args=(tree.lingers[i],), shutdown=shutdown)
                for j in range(2)
            ]
            specs.append(
                supervisor_spec(
                    f"c{i}", grandchildren, max_restarts=1, restart=restart, shutdown=shutdown
                )
            )
            targets.append((f"root/c{i}", False))
            targets += [(f"root/c{i}/g{j}", True) for j in range(2)]
        else:
            worker = ChildSpec(
                f"c{i}", h.worker, args=(tree.lingers[i],), restart=restart, shutdown=shutdown
            )
            specs.append(worker)
            targets.append((f"root/c{i}", True))
    before = all_tasks()
    with trio.move_on_at(tree.cancel_at if tree.ending == "cancel" else 10 * END):
        with contextlib.suppress(RestartIntensityError):
            async with open_supervisor(
                specs, strategy=tree.strategy, max_restarts=tree.max_restarts
            ) as sup:
                for target, t, kind in tree.faults:
                    await trio.sleep_until(t)
                    path, is_worker = targets[target]
                    if kind == "kill" or not is_worker:
                        with contextlib.suppress(ChildNotFoundError):
                            jido_trio.kill(path)
                    else:
                        h.fire(path, kind)
                if tree.ending == "shutdown":
                    await sup.shutdown()
                elif tree.ending == "cancel":
                    await trio.sleep_forever()
    assert h.live == 0
    assert all_tasks() == before
    assert jido_trio.tree() == []


@given(trees())
def test_no_task_outlives_its_supervisor(tree: Tree) -> None:
    """However the supervisor ends (shutdown, cancellation, leaving the body, escalation)
    and whatever the faults, every child body has exited and no stray task is left."""
    trio.run(run_tree, tree, clock=mock_clock())


# ------------------------------------------- (c) a shutdown wins over restarts


@attrs.frozen
class Race:
    """Children that take ``cleanup[i]`` seconds to stop (``None``: deaf to a
    stop request, cancelled when the grace of 2 s runs out), kills at the
    given times, and a shutdown at ``shutdown_at``."""

    strategy: Strategy
    cleanup: tuple[float | None, ...]
    kills: tuple[tuple[int, float], ...]
    shutdown_at: float
    backoff: bool


@st.composite
def races(draw: st.DrawFn) -> Race:
    n = draw(st.integers(1, 4))
    cleanup = tuple(draw(st.lists(st.sampled_from([0.0, 0.5, 1.0, None]), min_size=n, max_size=n)))
    times = st.integers(0, 8).map(lambda k: k / 2)
    kills = tuple(draw(st.lists(st.tuples(st.integers(0, n - 1), times), max_size=4)))
    return Race(
        strategy=draw(st.sampled_from(STRATEGIES)),
        cleanup=cleanup,
        kills=tuple(sorted(kills, key=lambda k: k[1])),
        shutdown_at=draw(times),
        backoff=draw(st.booleans()),
    )


async def run_race(race: Race) -> None:
    called = False
    late: list[str] = []

    def watch(event: TelemetryEvent) -> None:
        if called and event.name in ("child.started", "child.restarting"):
            late.append(f"t={event.time:g} {event.name} {event.path}")

    def child(i: int) -> ChildSpec:
        async def body(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
            task_status.started()
            await current_child().stop_requested.wait()
            pause = race.cleanup[i]
            if pause is None:
                await trio.sleep_forever()
            await trio.sleep(pause)

        return ChildSpec(f"c{i}", body, shutdown=2.0)

    backoff = jido_trio.Backoff(initial=0.5, jitter=0.0) if race.backoff else None
    with attach_telemetry(watch):
        async with open_supervisor(
            [child(i) for i in range(len(race.cleanup))],
            strategy=race.strategy,
            max_restarts=100,
            backoff=backoff,
        ) as sup:

            async def killer() -> None:
                for index, at in race.kills:
                    await trio.sleep_until(at)
                    with contextlib.suppress(ChildNotFoundError):
                        if sup.which_children()[index].status == "running":
                            jido_trio.kill(f"root/c{index}")

            async with trio.open_nursery() as nursery:
                nursery.start_soon(killer)
                await trio.sleep_until(race.shutdown_at)
                called = True
                await sup.shutdown()
                nursery.cancel_scope.cancel()
            assert [info.status for info in sup.which_children()] == ["stopped"] * len(race.cleanup)
    assert late == []


@given(races())
def test_nothing_starts_or_is_scheduled_to_restart_after_shutdown_is_called(
    race: Race,
) -> None:
    """Once shutdown() is called, no child starts and none is announced as
    restarting, whatever restarts were under way (a group being stopped for
    its restart, a backoff, a retry)."""
    trio.run(run_race, race, clock=mock_clock())
